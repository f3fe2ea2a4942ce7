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
# dominates them), and split into 400,000 training and 2,000 test items. `LITE = True` gives the
# course's small variant: Appliances only, 25,000 / 2,000. The result goes to the store, where the
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
PUSH = False  # True: push the DatasetDict to the hub (needs HF_TOKEN with write access)
HUB_DATASET = "your-hf-name/pricer-data"  # where PUSH sends it

curation = CurationConfig.lite() if LITE else CurationConfig()
load_config = LoadConfig(item=ItemConfig())
if SMOKE:
    # The bundled sample is already curated: small caps show the balancing on it.
    curation = CurationConfig(train_size=1_500, test_size=300, per_price_cap=15)
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
# ## Balance and split
#
# For each whole-dollar price from $1 to $999: keep everything from $240 up; below that keep at
# most 1,200 items per price, drawn with non-Automotive items weighted 5:1. Then a seeded shuffle
# and the split. The seed (42) makes the split the same on every run.

# %%
from helpers.curation import balance, split

balanced = balance(items, curation) if curation.balance else items
train, test = split(balanced, curation)
print(f"{len(balanced):,} balanced items: {len(train):,} train, {len(test):,} test")

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

save_curated(train, test)
dataset = to_dataset_dict(train, test)
dataset

# %%
if PUSH and not SMOKE:
    print(push_to_hub(dataset, HUB_DATASET))
else:
    print("Not pushed (set PUSH = True and HF_TOKEN to push)")
