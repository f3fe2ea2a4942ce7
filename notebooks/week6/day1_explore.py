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
# # Week 6, day 1: one category of Amazon products
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week6/day1_explore.ipynb)
#
# The project: predict what a product costs from its description. Today we read one category of the
# Amazon Reviews 2023 metadata (McAuley Lab), turn each record into an `Item` with the course's
# rules, and look at what we have: how many records carry a price, how prices and text lengths
# are distributed.
#
# In Colab this reads **Appliances** from the Hugging Face hub and counts tokens with the Llama
# 3.1 tokenizer (gated: accept its licence on the hub and add `HF_TOKEN` to Colab's secrets).

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

# %% [markdown]
# ## Configuration
#
# Everything a learner may want to change sits in one config object. The defaults are the course's.

# %%
from helpers import paths
from helpers.items import ItemConfig
from helpers.loaders import LoadConfig
from helpers.notebook import base_model

CATEGORY = "Appliances"
# The tokenizer is Llama 3.1's; in smoke mode a tiny local one (byte-level BPE, numbers 0-999
# as single tokens like Llama 3), and the bundled raw CDs & Vinyl records stand in.
config = LoadConfig(item=ItemConfig(tokenizer=base_model(with_model=False)))
if SMOKE:
    CATEGORY = "CDs_and_Vinyl"
config

# %% [markdown]
# ## Records to items
#
# `load_raw` reads the raw JSONL (from the hub, or a local file) in parallel chunks. Each record
# becomes an `Item` or a named skip: no price, too little text, a broken line... Nothing is dropped
# silently; the report counts every reason.

# %%
from helpers.loaders import load_raw

source = paths.RAW_SAMPLE if SMOKE else CATEGORY
items, report = load_raw(source, config, category=CATEGORY)
print(report)

# %%
priced = (
    report.read - report.skipped["price_missing"] - report.skipped["price_range"] - report.skipped["price_not_a_number"]
)
print(
    f"{priced:,} of {report.read:,} records have a price ({priced / report.read:.0%}); {len(items):,} pass every rule"
)

# %% [markdown]
# ## One item, as the model will see it
#
# The training prompt ends with the price rounded to whole dollars; the test prompt stops right
# before it. The title line comes first, then description, features and the scrubbed details,
# capped at 160 tokens.

# %%
item = items[0]
print(item.prompt)
print("---")
print(f"{item.token_count} tokens; test prompt ends with: {item.test_prompt()[-30:]!r}")

# %% [markdown]
# ## Distributions
#
# Prices are heavily skewed towards the cheap end, which the day 2 curation corrects. Token counts
# cluster just under the cap, by construction.

# %%
from helpers import charts

charts.price_histogram(items, title=CATEGORY)

# %%
charts.token_histogram(items, title=CATEGORY)

# %%
# The most expensive items: do the prices look right?
for item in sorted(items, key=lambda i: i.price, reverse=True)[:5]:
    print(f"${item.price:>8,.2f}  {item.title[:80]}")

# %% [markdown]
# Next: day 2 curates several categories into a balanced training set.
