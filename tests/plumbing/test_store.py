"""The store: what outlives one machine. Folder stores are tested for real; a hub store is the
same interface over a private data set repo, tested against a stand-in for the hub's HTTP API
on loopback (tests/hub_standin.py), since this project has no network."""

import json
import os
import subprocess
import sys

import pytest

from helpers.cli.config import as_flags
from helpers.data.item_files import load_items
from helpers.language.training import TrainConfig
from helpers.plumbing import paths
from helpers.plumbing.errors import ConfigError
from helpers.plumbing.store import FolderStore, HubStore, missing, open_store

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def test_a_folder_store_keeps_files_and_whole_folders(tmp_path):
    store = FolderStore(tmp_path / "store")
    (tmp_path / "a.txt").write_text("one")
    store.put(tmp_path / "a.txt", "data/a.txt")
    assert store.read_text("data/a.txt") == "one" and store.get("data/b.txt") is None
    first = tmp_path / "first"
    first.mkdir()
    (first / "old.bin").write_bytes(b"1")
    store.put(first, "runs/r/adapter")
    second = tmp_path / "second"
    second.mkdir()
    (second / "new.bin").write_bytes(b"2")
    store.put(second, "runs/r/adapter")  # replaces the folder whole: no file of the first is left
    assert store.names("runs/r/adapter") == ["new.bin"] and store.names("runs/r") == ["adapter"]
    store.delete("runs/r/adapter")
    assert store.names("runs/r") == [] and store.names("nowhere") == []


def test_the_store_is_named_by_pricer_store_else_it_is_the_results_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("PRICER_STORE", raising=False)
    monkeypatch.setenv("PRICER_RESULTS", str(tmp_path / "results"))
    assert isinstance(open_store(), FolderStore) and open_store().root == tmp_path / "results"
    monkeypatch.setenv("PRICER_STORE", str(tmp_path / "drive"))
    assert open_store().root == tmp_path / "drive"
    hub = open_store("hf://learner")
    assert isinstance(hub, HubStore) and hub.repo == "learner/pricer-store"
    with pytest.raises(ConfigError, match="write hf://NAMESPACE, or hf for your own namespace"):
        open_store("hf:learner")


def test_a_store_path_that_is_a_file_is_one_line(tmp_path):
    taken = tmp_path / "pricer"
    taken.write_text("a file where the store should be")
    with pytest.raises(ConfigError, match=f"^the store {taken} is a file, not a folder: set PRICER_STORE to a folder"):
        open_store(str(taken))
    assert taken.read_text() == "a file where the store should be"


@pytest.mark.parametrize("address", ["gs://bucket/pricer", "s3://bucket", "HF://me", "https://huggingface.co/me"])
def test_a_cloud_address_that_is_no_store_is_one_line_and_makes_no_folder(tmp_path, address):
    run = subprocess.run(
        [sys.executable, "-m", "helpers", "leaderboard"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**ENV, "PRICER_STORE": address, "PYTHONPATH": str(paths.ROOT)},
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr == (
        f"error: PRICER_STORE={address!r} is no store pricer can reach: it takes a folder (in Colab a mounted "
        "Drive folder, /content/drive/MyDrive/pricer), hf://NAMESPACE, or hf for your own namespace\n"
    )
    assert list(tmp_path.iterdir()) == []  # no `gs:` folder that vanishes with the machine


def test_the_leaderboard_lives_in_the_store(tmp_path):
    from helpers.core.items import Item
    from helpers.core.leaderboard import leaderboard, record
    from helpers.core.tester import Tester

    store = FolderStore(tmp_path / "store")
    items = [Item(title="t", price=10.0, category="c", text="t")]
    record(Tester(lambda item: 12.0, items, title="twelve", verbose=False).run(), store)
    assert (tmp_path / "store" / "leaderboard.csv").exists()
    assert list(leaderboard(store)["model"]) == ["twelve"]


def test_a_missing_input_names_the_notebook_that_makes_it(tmp_path):
    error = missing(FolderStore(tmp_path), "train.jsonl", "week6/day2_curate.ipynb", "set DATA = 'course-2024'")
    assert str(error) == (
        f"train.jsonl is not in the store {tmp_path}: run week6/day2_curate.ipynb first, or set DATA = 'course-2024'"
    )


def test_in_full_mode_a_notebook_input_the_store_lacks_stops_with_that_line(tmp_path, monkeypatch):
    from helpers.notebook import curated
    from helpers.plumbing.errors import DataError

    monkeypatch.delenv("PRICER_SMOKE", raising=False)
    with pytest.raises(DataError, match="validation.jsonl is not in the store .*week6/day2_curate.ipynb"):
        curated("validation", FolderStore(tmp_path))


def test_in_smoke_mode_the_bundled_sample_holds_validation_items_apart_from_training_items(tmp_path, monkeypatch):
    from helpers.notebook import SMOKE_SIZE, VALIDATION_SAMPLE, curated, training_data

    empty = FolderStore(tmp_path / "empty")
    monkeypatch.setenv("PRICER_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("PRICER_SMOKE", "1")
    train, validation = curated("train", empty), curated("validation", empty)
    bundled = [i.test_prompt() for i in load_items(paths.TRAIN_SAMPLE)[0]]
    held = bundled[-VALIDATION_SAMPLE:]  # the file's last items, and no longer training items
    assert [i.test_prompt() for i in train] == bundled[:-VALIDATION_SAMPLE]
    assert [i.test_prompt() for i in validation] == held[:SMOKE_SIZE]  # those every model prices for week 8
    trained_on = load_items(training_data(empty))[0]  # week 7 trains on the same training items, no others
    assert [i.test_prompt() for i in trained_on] == [i.test_prompt() for i in train]


def test_the_validation_items_are_the_ones_every_model_prices_for_the_ensemble(tmp_path, monkeypatch, bundled_train):
    from helpers.data.item_files import save_items
    from helpers.notebook import curated

    store = FolderStore(tmp_path / "store")
    store.put(save_items(bundled_train[:400], tmp_path / "validation.jsonl"), "validation.jsonl")
    monkeypatch.delenv("PRICER_SMOKE", raising=False)
    assert curated("validation", store) == bundled_train[:250]
    monkeypatch.setenv("PRICER_SMOKE", "1")
    assert curated("validation", store) == bundled_train[:50]


# A training run that dies (SIGKILL, as when Colab takes the runtime away) right after its
# checkpoint at step 4 has reached the store.
DIES_AFTER_STORING = """
import os, signal, sys
import helpers.language.training as training
from helpers.cli.commands import main

store_callback = training.store_callback

def dying(store, output, say=print):
    callback = store_callback(store, output, say)
    on_save = callback.on_save

    def on_save_then_die(args, state, control, **kwargs):
        on_save(args, state, control, **kwargs)
        if state.global_step == 4:
            os.kill(os.getpid(), signal.SIGKILL)

    callback.on_save = on_save_then_die
    return callback

training.store_callback = dying  # where training looks it up
main(["train", *sys.argv[1:]])
"""


def train_flags(tiny_model_dir, output, store, rows) -> list[str]:
    config = TrainConfig.pipeline_check(
        base_model=str(tiny_model_dir),
        train=str(rows),
        output=str(output),
        max_steps=6,
        save_steps=2,
        batch_size=2,
        logging_steps=1,
        lora_r=8,
        lora_alpha=16,
        warmup_ratio=0.0,
        store=str(store),
    )
    return as_flags(config)


def last_line(run: subprocess.CompletedProcess) -> dict:
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_run_killed_on_one_machine_finishes_on_another_from_the_store(
    tiny_model_dir, tmp_path, capsys, first_training_items
):
    import shutil

    from helpers.cli.commands import main

    rows = first_training_items(40)  # 6 steps of 2 need 12 rows
    train = [sys.executable, "-m", "helpers", "train"]
    main(["train", *train_flags(tiny_model_dir, tmp_path / "a" / "run", tmp_path / "s1", rows)])  # uncut, for reference
    whole = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (whole["steps"], whole["resumed_from_step"]) == (6, None)

    store = tmp_path / "store"
    first_machine = tmp_path / "machine1" / "run"
    killed = subprocess.run(
        [sys.executable, "-c", DIES_AFTER_STORING, *train_flags(tiny_model_dir, first_machine, store, rows)],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert os.listdir(store / "runs" / "run") == ["checkpoint-4"]  # the older one left the store
    shutil.rmtree(tmp_path / "machine1")  # the runtime, and its disk, are gone

    second_machine = tmp_path / "machine2" / "run"
    run = subprocess.run(
        [*train, *train_flags(tiny_model_dir, second_machine, store, rows), "--resume"],
        capture_output=True,
        text=True,
        env=ENV,
    )
    resumed = last_line(run)
    assert "fetched checkpoint-4 from the store" in run.stdout
    assert (resumed["steps"], resumed["resumed_from_step"]) == (6, 4)
    assert resumed["last_loss"] == pytest.approx(whole["last_loss"], abs=1e-5)
    assert (store / "runs" / "run" / "adapter" / "adapter_model.safetensors").exists()
    assert (store / "runs" / "latest").read_text() == "run"


def stored_run(store) -> dict[str, bytes]:
    """A run another machine left in the store: its checkpoint and adapter, file by file."""
    for name in ("checkpoint-2", "adapter"):
        (store / "runs" / "run" / name).mkdir(parents=True)
        (store / "runs" / "run" / name / "adapter_model.safetensors").write_bytes(f"{name} weights".encode())
    return {str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file()}


def test_a_fresh_run_never_replaces_a_run_of_that_name_in_the_store(tiny_model_dir, tmp_path, first_training_items):
    store = tmp_path / "store"
    before = stored_run(store)
    flags = train_flags(tiny_model_dir, tmp_path / "new_machine" / "run", store, first_training_items(12))
    run = subprocess.run([sys.executable, "-m", "helpers", "train", *flags], capture_output=True, text=True, env=ENV)
    assert run.returncode == 2
    assert run.stderr == (
        f"error: the store {store} already holds a run named run (runs/run): pass --resume to carry it on, "
        "--overwrite to replace it, or another --run-name (or --output)\n"
    )
    assert {str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file()} == before


def test_overwrite_replaces_the_stored_run_of_that_name(tiny_model_dir, tmp_path, first_training_items, capsys):
    from helpers.cli.commands import main

    store = tmp_path / "store"
    stored_run(store)
    flags = train_flags(tiny_model_dir, tmp_path / "new_machine" / "run", store, first_training_items(12))
    main(["train", *flags, "--max-steps", "2", "--overwrite"])
    assert last_line(subprocess.CompletedProcess([], 0, capsys.readouterr().out))["steps"] == 2
    run = store / "runs" / "run"
    assert sorted(os.listdir(run)) == ["adapter", "checkpoint-2"]
    assert (run / "adapter" / "adapter_model.safetensors").read_bytes() != b"adapter weights"
    assert (run / "checkpoint-2" / "adapter_model.safetensors").read_bytes() != b"checkpoint-2 weights"


def test_a_hub_store_out_of_reach_is_one_line_naming_it():
    from helpers.plumbing.errors import DataError
    from helpers.plumbing.store import open_store

    store = open_store("hf://someone")  # the tests run with HF_HUB_OFFLINE=1
    with pytest.raises(DataError, match="^cannot reach the store hf://someone: .*unreachable; a folder in PRICER"):
        store.get("leaderboard.csv")
    with pytest.raises(DataError, match="^cannot reach the store hf://someone"):
        store.write_text("x", "probe.txt")


RECORD_ROW = """
import sys
from helpers.core.items import Item
from helpers.core.leaderboard import record
from helpers.core.tester import Tester
from helpers.plumbing.store import open_store

items = [Item(title="t", price=10.0, category="c", text="t")]
record(Tester(lambda item: float(sys.argv[1]), items, title=sys.argv[2], verbose=False).run(), open_store())
"""


def hub_machine(hub, folder) -> dict[str, str]:
    """The environment of a machine of its own (hub cache, results) whose store is on `hub`."""
    return {
        **ENV,
        **{"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": hub.url, "HF_TOKEN": "hf_standin", "HF_HUB_DISABLE_XET": "1"},
        **{"PRICER_STORE": "hf://learner", "HF_HOME": str(folder / "hf"), "PRICER_RESULTS": str(folder / "results")},
    }


def test_two_machines_recording_to_one_hub_store_at_once_keep_both_rows(tmp_path):
    """Two writers (separate processes, as two Colab machines) read the leaderboard at the same
    commit; the stand-in hub refuses the second commit, as the hub does, and that writer reads
    the first one's file and commits again: both rows are kept."""
    import csv
    import io

    from hub_standin import HubStandIn

    with HubStandIn(writers=2) as hub:
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", RECORD_ROW, guess, f"machine {i}"],
                env=hub_machine(hub, tmp_path / f"machine{i}"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i, guess in ((1, "11"), (2, "12"))
        ]
        for writer in writers:
            _, errors = writer.communicate(timeout=120)
            assert writer.returncode == 0, errors[-2000:]
        rows = list(csv.DictReader(io.StringIO(hub.files()["leaderboard.csv"].decode())))
        assert sorted(row["model"] for row in rows) == ["machine 1", "machine 2"]
        assert hub.conflicts >= 1  # the second commit was refused and made again on the first one's file


def test_a_hub_store_that_refuses_the_token_is_one_line_saying_so(tmp_path):
    from hub_standin import HubStandIn

    with HubStandIn(read_only=True) as hub:
        run = subprocess.run(
            [sys.executable, "-c", RECORD_ROW, "11", "machine 1"],
            capture_output=True,
            text=True,
            env=hub_machine(hub, tmp_path),
        )
    assert run.returncode == 1 and "DataError: the store hf://learner refused this token (403)" in run.stderr
    assert hub.files() == {}
