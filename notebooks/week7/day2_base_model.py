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
from helpers.models import load_tokenizer

tokenizer = load_tokenizer(BASE_MODEL)
for number in (0, 7, 42, 123, 999, 1000, 12345):
    tokens = tokenizer.encode(str(number), add_special_tokens=False)
    print(f"{number:>6} -> {len(tokens)} token(s): {[tokenizer.decode([t]) for t in tokens]}")

# %%
from helpers.hub_datasets import load_hub_items
from helpers.loaders import load_items
from helpers.testing import TEST_SIZE

test = load_items(paths.TEST_SAMPLE)[0] if SMOKE else load_hub_items(DATASET, split="test")
SIZE = 50 if SMOKE else TEST_SIZE  # the Tester's 250 items; fewer on the CPU
print(f"{len(test):,} test items; scoring the first {SIZE}")

# %%
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
