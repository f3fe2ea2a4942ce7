# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Week 7, day 5: the fine-tuned model
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week7/day5_inference.ipynb)
#
# Load the 4-bit base model with the adapter trained on days 3–4, at any pushed revision
# (every checkpoint is one), and price the test set two ways: `model_predict` (greedy, read the
# number) and `improved_model_predict` (one forward pass, the probability-weighted average of
# the three likeliest number tokens). Then: the leaderboard across weeks 6 and 7.

# %%
# Setup. In Colab: fetch the repository and install it (a minute). Locally: nothing to do,
# `pip install -e .` from the README already did it.
import os
import subprocess
import sys

REPO = "pricer-course/pricer"  # GitHub owner/name: change it here if you work from a fork
if "google.colab" in sys.modules:
    if not os.path.exists("/content/pricer"):
        subprocess.run(["git", "clone", "-q", f"https://github.com/{REPO}", "/content/pricer"], check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", "/content/pricer"], check=True)
    sys.path.insert(0, "/content/pricer")

from helpers.notebook import setup

SMOKE = setup()  # charts inline; smoke mode (PRICER_SMOKE=1) runs offline on the bundled sample

# %%
from helpers import paths
from helpers.notebook import base_model

# Llama 3.1 8B (gated: accept the licence on the hub first). In smoke mode a tiny random
# Llama-shaped model with a locally trained tokenizer stands in, with the bundled sample:
# every number it produces tests the code, not a model.
BASE_MODEL = base_model()
DATASET = "your-hf-name/pricer-data"  # the data set week 6 day 2 pushed (text, price, category)
print(f"base model: {BASE_MODEL}")

# %%
ADAPTER = "your-hf-name/pricer-2026-01-01_00.00.00"  # the hub repo (or local folder) of your run
REVISION = None  # a commit id of that repo: an earlier checkpoint; None: the latest

if SMOKE:
    # No hub: train a tiny adapter on the spot (a few seconds) and load it from its folder.
    from helpers.training import TrainConfig, train

    ADAPTER = str(paths.results("pricer-smoke-day5"))
    train(
        TrainConfig.pipeline_check(
            base_model=BASE_MODEL, train=str(paths.TRAIN_SAMPLE), output=ADAPTER, max_steps=8, overwrite=True
        )
    )

# %%
from helpers.inference import InferenceConfig, Predictors, load_for_inference

config = InferenceConfig(base_model=BASE_MODEL, adapter=ADAPTER, revision=REVISION)
model, tokenizer = load_for_inference(config)
predictors = Predictors(model, tokenizer, config)
print(f"{model.get_memory_footprint() / 1e6:,.1f} MB")

# %%
from helpers.hub_datasets import load_hub_items
from helpers.loaders import load_items
from helpers.testing import TEST_SIZE

test = load_items(paths.TEST_SAMPLE)[0] if SMOKE else load_hub_items(DATASET, split="test")
SIZE = 50 if SMOKE else TEST_SIZE  # the Tester's 250 items; fewer on the CPU
print(f"{len(test):,} test items; scoring the first {SIZE}")

# %%
from helpers.testing import Tester, record

plain = Tester.test(predictors.model_predict, test, title="fine-tuned model_predict", size=SIZE)
record(plain)

# %%
improved = Tester.test(predictors.improved_model_predict, test, title="fine-tuned improved_model_predict", size=SIZE)
record(improved)
print(improved.summary())

# %% [markdown]
# ## Every model, weeks 6 and 7

# %%
from helpers.testing import leaderboard

leaderboard(dataset=improved.dataset)
