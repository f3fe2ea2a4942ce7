"""Secrets come from the environment, .env or Colab, and never appear in what the project
prints or writes, nor in the logs of the libraries it drives."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.cli.config import as_flags
from helpers.language.training import TrainConfig
from helpers.offline.fake_openai import FakeOpenAI
from helpers.plumbing.secrets import describe, get_secret

SECRET = "sk-never-print-me-0123456789abcdefABCDEF0123456789"


def everything_written(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())


def test_a_secret_is_read_from_a_dot_env_file_and_never_described(tmp_path, monkeypatch):
    monkeypatch.delenv("PRICER_TEST_KEY", raising=False)
    monkeypatch.setattr("helpers.plumbing.paths.ROOT", tmp_path)
    (tmp_path / ".env").write_text(f"PRICER_TEST_KEY={SECRET}\n")
    assert get_secret("PRICER_TEST_KEY") == SECRET
    assert describe("PRICER_TEST_KEY") == "PRICER_TEST_KEY: set"


def test_the_openai_key_is_in_no_output_and_no_file_even_with_debug_logging(tmp_path):
    env = {**os.environ, "OPENAI_API_KEY": SECRET, "OPENAI_LOG": "debug", "PRICER_RESULTS": str(tmp_path)}
    with FakeOpenAI(api_key=SECRET) as server:
        run = subprocess.run(
            [sys.executable, "-m", "helpers", "frontier", "--base-url", server.url, "--size", "5", "--json"],
            capture_output=True,
            text=True,
            env=env,
        )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Request options" in run.stderr or "HTTP Request" in run.stderr  # the client did log at debug level
    assert SECRET not in run.stdout + run.stderr
    assert SECRET.encode() not in everything_written(tmp_path)


@pytest.mark.slow
def test_the_wandb_key_is_in_no_output_and_no_file_of_an_offline_run(tmp_path, tiny_model_dir, first_training_items):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(WANDB_API_KEY=SECRET, WANDB_MODE="offline", WANDB_DIR=str(tmp_path), HOME=str(tmp_path))
    rows = first_training_items(40)  # two steps need a few rows, not the whole sample
    config = TrainConfig.pipeline_check(
        base_model=str(tiny_model_dir),
        train=str(rows),
        output=str(tmp_path / "run"),
        max_steps=2,
        wandb=True,
        logging_steps=1,
    )
    run = subprocess.run(
        [sys.executable, "-m", "helpers", "train", *as_flags(config)], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert list((tmp_path / "wandb").glob("offline-run-*"))
    assert SECRET not in run.stdout + run.stderr
    assert SECRET.encode() not in everything_written(tmp_path)


def test_credentials_inside_a_url_are_redacted():
    from helpers.plumbing.secrets import redact

    text = f"at https://learner:{SECRET}@host.example/v1 and http://host/v1?x=1&api-key={SECRET}#part"
    assert redact(text) == "at https://learner:***@host.example/v1 and http://host/v1?x=1&api-key=***#part"
    assert redact("https://api.openai.com/v1?model=gpt-4o") == "https://api.openai.com/v1?model=gpt-4o"


def test_a_key_inside_the_base_url_is_in_no_error_line_and_no_file(tmp_path):
    url = f"http://learner:{SECRET}@127.0.0.1:9/v1?api-key={SECRET}"  # nothing listens on port 9
    env = {**os.environ, "OPENAI_API_KEY": "sk-other", "PRICER_RESULTS": str(tmp_path)}
    flags = ["--size", "3", "--max-retries", "0", "--max-failures", "1", "--timeout", "5"]
    run = subprocess.run(
        [sys.executable, "-m", "helpers", "frontier", "--base-url", url, *flags],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 2
    assert "failed at http://learner:***@127.0.0.1:9/v1?api-key=***" in run.stderr
    assert SECRET not in run.stdout + run.stderr
    assert SECRET.encode() not in everything_written(tmp_path)
