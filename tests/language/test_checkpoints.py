"""Resuming training: the newest intact checkpoint, never a partial one, never another run's."""

import json
import os
import subprocess
import sys

import pytest

from helpers.cli.config import as_flags
from helpers.language.checkpoints import check_compatible, checkpoints, newest_intact, why_broken
from helpers.language.training import TrainConfig
from helpers.plumbing import paths
from helpers.plumbing.errors import ConfigError

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}

# A training run that is killed (SIGKILL, as by a lost runtime) while it saves its second checkpoint:
# the adapter is written, the optimizer, scheduler and trainer state are not.
KILLED_WHILE_SAVING = """
import os, signal, sys
from transformers import Trainer
from helpers.cli.commands import main

save = Trainer._save_optimizer_and_scheduler

def dies_at_step_4(self, output_dir):
    if self.state.global_step == 4:
        os.kill(os.getpid(), signal.SIGKILL)
    save(self, output_dir)

Trainer._save_optimizer_and_scheduler = dies_at_step_4
main(["train", *sys.argv[1:]])
"""


def config(tiny_model_dir, output, **overrides) -> TrainConfig:
    values = dict(max_steps=6, save_steps=2, batch_size=2, lora_r=8, lora_alpha=16, warmup_ratio=0.0)
    return TrainConfig.pipeline_check(base_model=str(tiny_model_dir), output=str(output), **{**values, **overrides})


def train_cli(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpers", "train", *flags], capture_output=True, text=True, env=ENV)


@pytest.fixture(scope="module")
def killed_run(tiny_model_dir, tmp_path_factory):
    output = tmp_path_factory.mktemp("killed") / "run"
    flags = as_flags(config(tiny_model_dir, output))
    run = subprocess.run([sys.executable, "-c", KILLED_WHILE_SAVING, *flags], capture_output=True, text=True, env=ENV)
    assert run.returncode == -9, run.stderr[-2000:]
    return output, flags


def test_a_checkpoint_cut_off_by_a_kill_is_seen_as_broken(killed_run):
    output, _ = killed_run
    assert [path.name for path in checkpoints(output)] == ["checkpoint-4", "checkpoint-2"]
    assert why_broken(output / "checkpoint-4") == "no trainer_state.json, optimizer.pt, scheduler.pt"
    assert why_broken(output / "checkpoint-2") is None


def test_resume_passes_over_the_broken_checkpoint_and_finishes_the_run(killed_run, tmp_path):
    output, flags = killed_run
    run = train_cli(*flags, "--resume")
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"skipping {output / 'checkpoint-4'}: no trainer_state.json, optimizer.pt, scheduler.pt" in run.stdout
    assert f"Resuming from {output / 'checkpoint-2'}" in run.stdout
    assert json.loads(run.stdout.strip().splitlines()[-1])["steps"] == 6
    assert (output / "adapter_model.safetensors").exists()


def test_a_corrupt_file_makes_a_checkpoint_broken(tmp_path, killed_run):
    import shutil

    output, _ = killed_run
    copy = tmp_path / "checkpoint-2"
    shutil.copytree(output / "checkpoint-2", copy)
    weights = copy / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    assert why_broken(copy) == "adapter_model.safetensors is cut short or corrupt"
    shutil.copy(output / "checkpoint-2" / "adapter_model.safetensors", weights)
    optimizer = copy / "optimizer.pt"
    optimizer.write_bytes(optimizer.read_bytes()[:-500])
    assert why_broken(copy) == "optimizer.pt is cut short"
    assert newest_intact(tmp_path, say=lambda line: None) is None


def test_resuming_with_another_lora_shape_or_base_model_refuses_in_one_line(killed_run, tmp_path):
    output, _ = killed_run
    checkpoint = output / "checkpoint-2"
    lora = {"r": 8, "lora_alpha": 16, "target_modules": ["v_proj", "q_proj", "o_proj", "k_proj"]}
    saved_base = json.loads((checkpoint / "adapter_config.json").read_text())["base_model_name_or_path"]
    check_compatible(checkpoint, saved_base, lora)  # the same run: no complaint
    with pytest.raises(ConfigError) as error:
        check_compatible(checkpoint, saved_base, {**lora, "r": 16})
    assert str(error.value) == f"cannot resume from {checkpoint}: it was trained with r 8, not 16"
    with pytest.raises(ConfigError, match=f"it was trained with base model '{saved_base}', not 'other/model'"):
        check_compatible(checkpoint, "other/model", lora)


def test_the_command_line_refuses_another_lora_shape_before_loading_anything(killed_run):
    output, flags = killed_run
    run = train_cli(*flags, "--resume", "--lora-r", "4")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].endswith("it was trained with r 8, not 4")


def test_a_fresh_run_into_a_folder_holding_another_run_refuses(killed_run):
    output, flags = killed_run
    run = train_cli(*flags)
    assert run.returncode == 2
    assert run.stderr == (
        f"error: {output} holds an earlier run: pass --resume to carry it on, --overwrite to start afresh there, "
        "or another --output\n"
    )


def test_a_missing_training_file_is_one_line(tmp_path, tiny_model_dir):
    run = train_cli("--train", str(tmp_path / "none.jsonl"), "--base-model", str(tiny_model_dir))
    assert run.returncode == 2 and run.stderr == f"error: no such file: {tmp_path / 'none.jsonl'}\n"


def test_training_reports_the_rows_its_items_file_skipped(tmp_path, tiny_model_dir):
    items = paths.TRAIN_SAMPLE.read_text().splitlines()[:6]
    train = tmp_path / "train.jsonl"
    train.write_text("\n".join(items[:3] + ["{broken", '{"title": "no price", "text": "x"}'] + items[3:]) + "\n")
    flags = as_flags(config(tiny_model_dir, tmp_path / "run", max_steps=1, train=str(train)))
    run = train_cli(*flags)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "train.jsonl: read 8, kept 6, skipped 2 (bad_json 1, missing_field 1)" in run.stdout
