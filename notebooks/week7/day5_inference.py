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
# Load the 4-bit base model with the adapter trained on days 3–4 (from the store), or the
# instructor's adapter at its fixed revision (`ADAPTER = PRESET`), and price the test set two
# ways: `model_predict` (greedy, read the number) and `improved_model_predict` (one forward pass,
# the probability-weighted average of the three likeliest number tokens). Then: the leaderboard
# across weeks 6 and 7.

# %%
# Setup. In Colab: fetch the repository and install it (a minute). Locally: nothing to do,
# `pip install -e .` from the README already did it.
import os
import subprocess
import sys

REPO = "pricer-course/pricer"  # GitHub owner/name (`python -m helpers fork OWNER/NAME` points it at a fork)
STORE = "drive"  # in Colab, where results outlive this machine: "drive" (Google Drive) or "hf" (your hub)
COLAB = "google.colab" in sys.modules
if COLAB:
    if not os.path.exists("/content/pricer"):
        subprocess.run(["git", "clone", "-q", f"https://github.com/{REPO}", "/content/pricer"], check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", "/content/pricer"], check=True)
    sys.path.insert(0, "/content/pricer")

from helpers.notebook import setup

SMOKE = setup(STORE if COLAB else None)  # smoke mode (PRICER_SMOKE=1): offline, on the bundled sample

# %%
from helpers.notebook import base_model
from helpers.presets import preset

PRESET = "course-2024"  # the course's edition: "course-2024" (Llama 3.1 8B) or "course-2025" (Llama 3.2 3B)
DATA = None  # None: week 6 day 2's items from the store; PRESET: the edition's own curated data set
# The base model is gated: accept its licence on the hub first. In smoke mode a tiny random
# Llama-shaped model with a locally trained tokenizer stands in, with the bundled sample: every
# number it produces tests the code, not a model.
BASE_MODEL = base_model(preset(PRESET).base_model)
print(f"base model: {BASE_MODEL}")

# %%
from helpers.notebook import adapter, stored_run

ADAPTER = None  # None: the newest run days 3-4 put in the store; PRESET: the instructor's adapter
if SMOKE and ADAPTER is None and stored_run() is None:
    # No run in the store: train a tiny adapter on the spot (seconds), into the store.
    from helpers import paths
    from helpers.notebook import store_spec, training_data
    from helpers.training import TrainConfig, train

    train(
        TrainConfig.pipeline_check(
            base_model=BASE_MODEL,
            train=training_data(),
            max_steps=8,
            overwrite=True,
            output=str(paths.results("pricer-smoke")),
            store=store_spec(),
        )
    )
ADAPTER_PATH, REVISION = adapter(ADAPTER)

# %%
from helpers.inference import InferenceConfig, Predictors, load_for_inference

config = InferenceConfig(base_model=BASE_MODEL, adapter=ADAPTER_PATH, revision=REVISION)
model, tokenizer = load_for_inference(config)
predictors = Predictors(model, tokenizer, config)
print(f"{model.get_memory_footprint() / 1e6:,.1f} MB")

# %%
from helpers.notebook import curated
from helpers.testing import TEST_SIZE

test, validation = curated("test", DATA), curated("validation", DATA)
SIZE = 50 if SMOKE else TEST_SIZE  # the Tester's 250 items; fewer on the CPU

# %% [markdown]
# ## One prompt, and what the model makes of it
#
# `model_predict` reads the number the model writes; `improved_model_predict` looks at the three
# likeliest next tokens and averages those that are numbers, weighted by their probabilities.

# %%
from helpers.inference import generate_replies, top_next_tokens

item = test[0]
print(item.test_prompt())
print(f"\nthe model writes: {generate_replies(model, tokenizer, [item.test_prompt()])[0]!r}")
for token, probability in top_next_tokens(model, tokenizer, item.test_prompt(), k=3):
    print(f"  next token {token!r:>8} with probability {probability:.3f}")
print(
    f"model_predict: {predictors.model_predict(item)}, improved_model_predict: "
    f"{predictors.improved_model_predict(item)}, truth: {item.price}"
)

# %% [markdown]
# ## Both predictors through the Tester

# %%
from helpers.testing import Tester, record

plain = Tester.test(predictors.model_predict, test, title="fine-tuned model_predict", size=SIZE)
record(plain)

# %%
improved = Tester.test(predictors.improved_model_predict, test, title="fine-tuned improved_model_predict", size=SIZE)
record(improved)
print(improved.summary())

# %% [markdown]
# The validation items too, for week 8's ensemble (the model never trained on them).

# %%
from helpers.predictions import remember

remember("fine-tuned improved_model_predict", predictors.improved_model_predict, validation[:SIZE])

# %% [markdown]
# ## Every model, weeks 6 and 7

# %%
from helpers.testing import leaderboard

leaderboard(dataset=improved.dataset)
