"""Outputs named by a symbolic link (a leaderboard linked into a shared folder) are written
through the link to its target, as `open` writes: never a copy in the link's place."""

import csv
import os
import subprocess
import sys

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def evaluate(tmp_path, board, model: str) -> subprocess.CompletedProcess:
    predictions = tmp_path / "predictions.csv"
    predictions.write_text("price\n" + "10\n" * 10)
    line = [sys.executable, "-m", "helpers", "evaluate", "--predictions", str(predictions), "--size", "10"]
    line += ["--model", model, "--leaderboard", str(board)]
    return subprocess.run(line, capture_output=True, text=True, env=ENV)


def test_a_leaderboard_that_is_a_link_gets_the_row_in_its_target(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "board.csv"
    assert evaluate(tmp_path, target, "first").returncode == 0
    link = tmp_path / "board.csv"
    link.symlink_to(target)
    run = evaluate(tmp_path, link, "second")
    assert run.returncode == 0, run.stderr[-2000:]
    assert link.is_symlink() and link.resolve() == target
    with open(target, newline="") as handle:
        assert sorted(row["model"] for row in csv.DictReader(handle)) == ["first", "second"]
    assert not [name for name in os.listdir(shared) if name.endswith(".part")]
