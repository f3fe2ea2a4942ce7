"""What the notebooks share, so that each one stays a narration: smoke mode and their inputs.

Smoke mode (`PRICER_SMOKE=1`) runs a notebook offline on the bundled sample in seconds: the
tests run every notebook that way. Each function here says what it stands in with.
"""

from __future__ import annotations

import os

from helpers import paths
from helpers.items import Item
from helpers.presets import BASE_MODEL


def smoke() -> bool:
    return os.environ.get("PRICER_SMOKE") == "1"


def train_and_test() -> tuple[list[Item], list[Item]]:
    """Week 6 day 2's curated files when they exist (and not in smoke mode), else the bundled sample."""
    from helpers.loaders import load_items

    train_file, test_file = paths.results("train.jsonl"), paths.results("test.jsonl")
    if smoke() or not train_file.exists():
        train_file, test_file = paths.TRAIN_SAMPLE, paths.TEST_SAMPLE
    train, test = load_items(train_file)[0], load_items(test_file)[0]
    print(f"train: {len(train):,} items from {train_file}\ntest: {len(test):,} items from {test_file}")
    return train, test


def openai_endpoint() -> tuple[str | None, str | None]:
    """(base URL, key) for the frontier notebooks. None, None: OPENAI_BASE_URL and OPENAI_API_KEY
    from the environment, .env or Colab. In smoke mode: a loopback server whose replies are a
    number derived from the prompt, not a model's guess, so the scores test the code only."""
    if not smoke():
        return None, None
    from helpers.fake_openai import FakeOpenAI

    server = FakeOpenAI().start()  # a daemon thread: it lives as long as the kernel
    return server.url, server.api_key


def base_model(with_model: bool = True) -> str:
    """Llama 3.1 8B; in smoke mode the tiny offline stand-in (a locally trained tokenizer and,
    `with_model`, a random Llama-shaped model), built once in the results folder."""
    if not smoke():
        return BASE_MODEL
    from helpers.tiny import TinyConfig, build

    return str(build(TinyConfig(output=str(paths.results("tiny")), with_model=with_model)))


def setup() -> bool:
    """What every notebook does first, once the package is importable: charts inline, the mode
    said out loud, and (in full mode) a hub login when HF_TOKEN is set. Returns smoke mode.
    Secrets come from the environment, a .env file or Colab's secrets panel, never from the notebook."""
    from helpers.secrets import describe, get_secret

    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = None
    shell = get_ipython() if get_ipython else None
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")
    print("Smoke mode: bundled sample, offline" if smoke() else "Full mode: the real data and models from the hub")
    print(describe("HF_TOKEN"))
    token = get_secret("HF_TOKEN")
    if token and not smoke():
        from huggingface_hub import login

        login(token, add_to_git_credential=False)
    return smoke()
