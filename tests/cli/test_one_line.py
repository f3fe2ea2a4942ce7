"""Mistakes a careless user makes on the command line, each one line (`error: ...`, exit status 2)
and never a traceback: a blank name, an output that is a folder or lies under a file, a store or
results folder that cannot be one, a reader that stops reading. Each runs `python -m helpers` as
the user does, in a folder of its own."""

import os
import subprocess
import sys

import pytest

from helpers.plumbing import paths

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONPATH": str(paths.ROOT)}


def helpers_cli(folder, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`python -m helpers ARGS` run in `folder`, with its results there too."""
    env = {**ENV, "PRICER_RESULTS": str(folder / "results"), **env}
    return subprocess.run([sys.executable, "-m", "helpers", *args], capture_output=True, text=True, cwd=folder, env=env)


def one_line(run: subprocess.CompletedProcess, line: str) -> None:
    assert (run.returncode, run.stderr) == (2, f"error: {line}\n"), run.stderr[-2000:]


@pytest.fixture
def board(tmp_path):
    """A leaderboard CSV in `tmp_path` with `rows(n)` rows, one a model."""
    from helpers.core.items import Item
    from helpers.core.leaderboard import record
    from helpers.core.tester import Tester

    path = tmp_path / "board.csv"
    items = [Item(title="t", price=10.0, category="c", text="t")]
    record(Tester(lambda item: 12.0, items, title="model 0", verbose=False).run(), path)

    def rows(n: int):
        header, row = path.read_text().splitlines()[:2]
        path.write_text("\n".join([header] + [row.replace("model 0", f"model {i}") for i in range(n)]) + "\n")
        return path

    return rows


@pytest.fixture
def guesses(tmp_path):
    """A predictions CSV of five guesses, as `evaluate --size 5` takes."""
    path = tmp_path / "guesses.csv"
    path.write_text("price\n" + "100\n" * 5)
    return path


@pytest.mark.parametrize(
    "flag, value",
    [("--model", ""), ("--model", "   "), ("--dataset", " ")],
)
def test_a_blank_name_is_one_line_before_any_work(tmp_path, guesses, flag, value):
    run = helpers_cli(tmp_path, "evaluate", "--predictions", str(guesses), "--size", "5", flag, value)
    one_line(run, f"{flag} {value!r}: give a name, not a blank")
    assert not (tmp_path / "results").exists()


def test_a_leaderboard_row_without_a_name_is_one_line_in_a_notebook_too(tmp_path):
    from helpers.core.items import Item
    from helpers.core.leaderboard import record
    from helpers.core.tester import Tester
    from helpers.plumbing.errors import ConfigError

    items = [Item(title="t", price=10.0, category="c", text="t")]
    with pytest.raises(ConfigError, match="^a leaderboard row needs a model's name and a test set's: got ' ', "):
        record(Tester(lambda item: 12.0, items, title=" ", verbose=False).run(), tmp_path / "leaderboard.csv")


@pytest.mark.parametrize(
    "stage",
    [
        ["leaderboard", "--path", "board.csv", "--chart", "out"],
        ["curate", "--input", str(paths.RAW_SAMPLE), "--out", "out", "--overwrite"],
        ["split", "--train-out", "out", "--overwrite"],
        ["split", "--train-out", "out"],
    ],
)
def test_an_output_that_is_a_folder_is_one_line(tmp_path, board, stage):
    (tmp_path / "out").mkdir()
    board(1)
    one_line(helpers_cli(tmp_path, *stage), "out is a folder: name a file to write there")
    assert os.listdir(tmp_path / "out") == []


@pytest.mark.parametrize(
    "stage",
    [
        ["evaluate", "--predictions", "guesses.csv", "--size", "5", "--leaderboard", "notes.txt/x"],
        ["curate", "--input", str(paths.RAW_SAMPLE), "--out", "notes.txt/x"],
        ["split", "--train-out", "notes.txt/x"],
        ["leaderboard", "--path", "board.csv", "--chart", "notes.txt/x"],
    ],
)
def test_an_output_under_a_file_is_one_line(tmp_path, guesses, board, stage):
    (tmp_path / "notes.txt").write_text("my notes")
    board(1)
    run = helpers_cli(tmp_path, *stage)
    assert run.stderr.endswith("error: cannot write notes.txt/x: notes.txt is a file, not a folder\n"), run.stderr
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert (tmp_path / "notes.txt").read_text() == "my notes"


def test_a_store_that_is_a_symlink_loop_is_one_line(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    run = helpers_cli(tmp_path, "leaderboard", PRICER_STORE=str(tmp_path / "a"))
    one_line(run, f"the store {tmp_path / 'a'} is a link that leads to no folder: set PRICER_STORE to a folder")


def test_a_results_folder_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "results").write_text("not a folder")
    run = helpers_cli(tmp_path, "frontier", "--size", "1")
    one_line(
        run, f"the results folder {tmp_path / 'results'} is a file: set PRICER_RESULTS to a folder (or move the file)"
    )


def test_a_reader_that_stops_reading_ends_the_leaderboard_quietly(tmp_path, board):
    board(3000)  # more lines than a pipe holds
    command = f"{sys.executable} -m helpers leaderboard --path board.csv --chart c.png | head -1"
    run = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=tmp_path, env=ENV)
    assert run.stdout.startswith("model") and len(run.stdout.splitlines()) == 1
    assert run.stderr == ""  # no BrokenPipeError traceback


def test_curate_with_a_tokenizer_json_cut_short_is_one_line(tmp_path, tiny_dir):
    import shutil

    cut = tmp_path / "tokenizer"
    shutil.copytree(tiny_dir, cut)
    text = (cut / "tokenizer.json").read_text()
    (cut / "tokenizer.json").write_text(text[: len(text) // 2])  # a copy stopped half way
    run = helpers_cli(
        tmp_path, "curate", "--input", str(paths.RAW_SAMPLE), "--tokenizer", str(cut), "--limit", "20", "--no-progress"
    )
    assert run.returncode == 2 and len(run.stderr.splitlines()) == 1, run.stderr[-2000:]
    assert run.stderr.startswith(
        f"error: cannot load tokenizer '{cut}': tokenizer.json is cut short or is no tokenizer"
    )


@pytest.mark.slow
def test_an_adapter_of_another_base_model_is_one_line_naming_both(tmp_path, trained_adapter, real_model_dir):
    work, _ = trained_adapter
    adapter = work / "adapter"
    run = helpers_cli(
        tmp_path, "predict", "--adapter", str(adapter), "--base-model", str(real_model_dir), "--size", "1"
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert run.stderr.strip().splitlines()[-1] == (
        f"error: the adapter {adapter} was trained on the base model '{work / 'tiny'}', not on '{real_model_dir}': "
        f"pass --base-model {work / 'tiny'}, or an adapter of {real_model_dir}"
    )
