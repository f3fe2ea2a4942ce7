"""Training and evaluation across processes, as `accelerate launch` runs them on several GPUs,
here on the CPU with two processes (gloo). accelerate 1.x runs `--cpu` as one process whatever
`--num_processes` says; `--multi_gpu` on a machine without one starts the processes on the CPU."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.plumbing import paths

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
LAUNCH = [
    sys.executable,
    "-m",
    "accelerate.commands.launch",
    "--multi_gpu",
    "--num_processes",
    "2",
    "--num_machines",
    "1",
    "--mixed_precision",
    "no",
    "--dynamo_backend",
    "no",
]


def launch(*args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([*LAUNCH, *args], capture_output=True, text=True, env=ENV, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.fixture(scope="module")
def ranks(tiny_model_dir, tmp_path_factory):
    """The command line's `train` under `accelerate launch`, 3 steps of 2 rows on each of two
    processes: (what each process reports, what the launch printed)."""
    work = tmp_path_factory.mktemp("ddp")
    script = Path(__file__).parent / "distributed_train.py"
    train = ["--base-model", str(tiny_model_dir), "--output", str(work / "adapter"), "--max-steps", "3"]
    train += ["--batch-size", "2", "--max-length", "320", "--logging-steps", "1", "--no-wandb"]
    run = launch(str(script), str(work), *train)
    return [json.loads((work / f"rank{rank}.json").read_text()) for rank in (0, 1)], run.stdout


def test_each_process_trains_on_rows_of_its_own(ranks):
    first, second = (set(rank["rows"]) for rank in ranks[0])
    assert len(first) >= 3 * 2 and len(second) >= 3 * 2  # 3 steps of 2 rows (and a batch read ahead)
    assert not first & second


def test_the_global_batch_is_the_per_device_batch_times_the_processes(ranks):
    for rank in ranks[0]:
        assert rank["steps"] == 3
        steps_an_epoch = math.ceil(rank["dataset_rows"] / (2 * 2))  # each step takes 2 rows on each of 2 processes
        assert rank["epoch"] == pytest.approx(3 / steps_an_epoch)


def test_the_processes_end_with_the_same_adapter(ranks):
    first, second = ranks[0]
    assert first["adapter"] == second["adapter"]


def test_the_command_line_trains_across_processes_with_one_summary(ranks):
    lines = [line for line in ranks[1].splitlines() if line.startswith('{"')]
    assert len(lines) == 1 and json.loads(lines[0])["steps"] == 3  # from the main process only


def test_the_command_line_predicts_across_processes_as_one_process_does(trained_adapter, tmp_path):
    work, _ = trained_adapter  # priced with the pipeline check's adapter: its replies hold numbers
    predict = [
        "predict",
        "--test",
        str(paths.TEST_SAMPLE),
        "--base-model",
        str(work / "tiny"),
        "--adapter",
        str(work / "adapter"),
        "--size",
        "9",
        "--batch-size",
        "2",
        "--json",
        "--leaderboard",
        str(tmp_path / "board.csv"),
    ]
    shared = [
        json.loads(line) for line in launch("-m", "helpers", *predict).stdout.splitlines() if line.startswith('{"')
    ]
    alone = subprocess.run([sys.executable, "-m", "helpers", *predict], capture_output=True, text=True, env=ENV)
    assert alone.returncode == 0, alone.stderr[-2000:]
    assert len(shared) == 1 and shared[0] == json.loads(alone.stdout.strip().splitlines()[-1])
