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
# # Week 6, day 2: curate a balanced data set
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week6/day2_curate.ipynb)
#
# We load the course's eight categories, balance them (cheap items flood the data; Automotive
# dominates them), and split into 400,000 training and 2,000 test items, plus 2,000 validation
# items (the 2025 edition's third split: week 8 fits its ensemble on them, never on the test
# items). `LITE = True` gives the course's small variant: Appliances only, 25,000 / 2,000. The
# 2025 edition's de-duplication (one item per title and per text) is one switch, and its
# LLM-written summaries are at the end. The result goes to the store, where the
# next notebooks (each on a machine of its own in Colab) find it, and optionally to your private
# data set on the hub as a `datasets.DatasetDict`, the course's way.

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
from helpers import paths
from helpers.curation import CurationConfig
from helpers.items import ItemConfig
from helpers.loaders import LoadConfig

LITE = False  # True: Appliances only, 25,000 / 2,000
DEDUPE = True  # the 2025 edition's step: a product listed twice could sit in train and test both
PUSH = False  # True: push the DatasetDict to the hub (needs HF_TOKEN with write access)
HUB_DATASET = "your-hf-name/pricer-data"  # where PUSH sends it

curation = CurationConfig.lite() if LITE else CurationConfig()
curation.validation_size, curation.dedupe = 2_000, DEDUPE
load_config = LoadConfig(item=ItemConfig())
if SMOKE:
    # The bundled sample is already curated: small caps show the balancing on it.
    curation = CurationConfig(train_size=1_500, test_size=300, validation_size=200, per_price_cap=15, dedupe=DEDUPE)
curation

# %% [markdown]
# ## Load
#
# In full mode this reads every category from the hub (the eight categories take a while: each
# has a progress bar and a skip report). In smoke mode the bundled curated items stand in.

# %%
from helpers.loaders import load_categories, load_items

if SMOKE:
    items = load_items(paths.TRAIN_SAMPLE)[0] + load_items(paths.TEST_SAMPLE)[0]
else:
    items, report = load_categories(curation.categories, load_config)
    print(report)
print(f"{len(items):,} items")

# %%
from helpers import charts

charts.category_counts(items)

# %%
charts.price_histogram(items, title="Before balancing")

# %% [markdown]
# ## De-duplicate, balance and split
#
# First (with `DEDUPE`) one item per title and per text. Then for each whole-dollar price from $1
# to $999: keep everything from $240 up; below that keep at most 1,200 items per price, drawn
# with non-Automotive items weighted 5:1. Then a seeded shuffle and the split. The seed (42)
# makes the split the same on every run.

# %%
from helpers.curation import balance, dedupe, split_with_validation

if curation.dedupe:
    unique = dedupe(items)
    print(f"{len(items) - len(unique):,} duplicates left out, {len(unique):,} items kept")
    items = unique
balanced = balance(items, curation) if curation.balance else items
train, validation, test = split_with_validation(balanced, curation)
print(f"{len(balanced):,} balanced items: {len(train):,} train, {len(validation):,} validation, {len(test):,} test")

# %%
charts.price_histogram(balanced, title="After balancing")

# %%
charts.price_by_category(balanced)

# %% [markdown]
# ## Save
#
# JSONL files in the store for the next notebooks, and the hub layout: a `DatasetDict` whose
# `text` is the training prompt (train) or the test prompt (test).

# %%
from helpers.curation import push_to_hub, to_dataset_dict
from helpers.notebook import save_curated

save_curated(train, test, validation)
dataset = to_dataset_dict(train, test)
dataset

# %%
if PUSH and not SMOKE:
    print(push_to_hub(dataset, HUB_DATASET))
else:
    print("Not pushed (set PUSH = True and HF_TOKEN to push)")

# %% [markdown]
# ## The 2025 edition: summaries written by a model
#
# The 2025 edition has a chat model rewrite each product's text as five short lines (title,
# category, brand, a sentence of description, a sentence of details; no part numbers), and asks
# its question ("What does this cost to the nearest dollar?") of that summary, cut to 110 tokens
# of Llama 3.2. Summarising 400,000 items costs real money and hours (the course used gpt-oss-20b
# on Groq); here `SUMMARIES` test items give a taste, and `python -m helpers summarise --items
# FILE --out FILE` does a whole file: replies cached, so a run stopped with Ctrl-C carries on
# where it was, with the calls, tokens and cost reported at the end.

# %%
from helpers import presets
from helpers.frontier import FrontierConfig
from helpers.notebook import base_model, openai_endpoint
from helpers.prompts import SUMMARY_SYSTEM
from helpers.summaries import Summariser, SummaryConfig

SUMMARIES = 20
# None, None: OPENAI_BASE_URL / OPENAI_API_KEY from the environment, .env or Colab. In smoke mode
# a local server on 127.0.0.1 stands in, and a small tokenizer stands in for Llama 3.2's.
BASE_URL, API_KEY = openai_endpoint()
summariser = Summariser(
    FrontierConfig(model="gpt-4o-mini", base_url=BASE_URL, api_key=API_KEY),
    SummaryConfig(tokenizer=base_model(presets.COURSE_2025.base_model, with_model=False)),
)
print(SUMMARY_SYSTEM)

# %%
summarised, failed = summariser.summarise(test[:SUMMARIES])
print(summariser.stats)
print(f"{len(summarised)} summarised; not summarised: {dict(failed) or 'none'}\n")
print(test[0].text[:400], "\n\nbecomes\n")
print(summarised[0].test_prompt())
