# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
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
# Setup. In Colab: fetch the repository and install it (a minute or two), showing what each step
# prints. Locally: nothing to do, the README's `bash .ci/setup` (or `pip install -e .`) did it.
import subprocess
import sys
from pathlib import Path

REPO = "pricer-course/pricer"  # GitHub owner/name (`python -m helpers fork OWNER/NAME` points it at a fork)
STORE = "drive"  # in Colab, where results outlive this machine: "drive" (Google Drive) or "hf" (your hub)
COLAB = "google.colab" in sys.modules
CLONE = Path("/content/pricer")  # where Colab keeps the repository


class SetupFailed(Exception):
    def _render_traceback_(self):  # shown as this one line, not as a traceback
        return [f"error: {self}"]


def run_setup_step(name: str, command: list[str]) -> None:
    print("$", " ".join(command), flush=True)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        print(line, end="", flush=True)
    if process.wait():
        raise SetupFailed(f"the {name} failed (exit status {process.returncode}): its output is above")


if COLAB:
    if not (CLONE / ".git").exists():
        run_setup_step("clone", ["git", "clone", "--depth", "1", f"https://github.com/{REPO}", str(CLONE)])
    if not (CLONE / ".installed").exists():
        run_setup_step("install", [sys.executable, "-m", "pip", "install", "-e", str(CLONE)])
        (CLONE / ".installed").touch()
    sys.path.insert(0, str(CLONE))

from helpers.notebook import setup

# smoke mode (PRICER_SMOKE=1): offline, on the bundled sample; `store` keeps what outlives this machine
SMOKE, store = setup(STORE if COLAB else None)

# %% [markdown]
# ## One raw record
#
# The data set ships each category as one JSON Lines file: a line per product, with the fields
# Amazon's shop shows. In full mode the category's file is fetched once into the hub cache; in
# smoke mode 242 records of the CDs & Vinyl file, bundled with this repository, stand in.
# Reading a few lines needs nothing but `json`.

# %%
import json

from helpers.data.raw import resolve
from helpers.plumbing import paths

CATEGORY = "Appliances"  # any category of the data set: "Electronics", "Toys_and_Games", ...
SOURCE = CATEGORY
if SMOKE:
    CATEGORY, SOURCE = "CDs_and_Vinyl", paths.RAW_SAMPLE
path, _ = resolve(SOURCE)  # a hub category is downloaded to the hub cache the first time
with open(path, encoding="utf-8") as file:
    records = [json.loads(line) for _, line in zip(range(1000), file)]
record = records[0]
for name, value in record.items():
    print(f"{name:>16}: {str(value)[:100]}")

# %% [markdown]
# Not every product has a price. The price is what we will predict, so a record without one is
# no use to us.

# %%
priced = [r for r in records if r["price"] is not None]
print(f"{len(priced):,} of the first {len(records):,} records have a price ({len(priced) / len(records):.0%})")

# %% [markdown]
# ## From a record to an `Item`
#
# The course's `Item` keeps what a model should read: the title, then description, features and
# details, scrubbed of junk characters and of long part numbers (codes that would let a model look
# up a product rather than reason about it). Items priced from $0.50 to $999.49 with more than 300
# characters of text are kept, and the text is cut to 160 tokens of the base model's tokenizer,
# which is why the tokenizer is needed here. A record that fails a rule becomes the name of that
# rule, never silently nothing.
#
# The tokenizer is Llama 3.1's (gated: accept its licence on the hub and add `HF_TOKEN` to Colab's
# secrets); in smoke mode a tiny local one stands in, built the Llama 3 way.

# %%
from helpers.data.rules import ItemConfig, build_item
from helpers.notebook import base_model

item_config = ItemConfig(tokenizer=base_model(with_model=False))
for record in records[:8]:
    made = build_item(record, CATEGORY, item_config)
    print(f"{record['title'][:50]:<50}  ->  {made if isinstance(made, str) else f'an Item at ${made.price:,.2f}'}")

# %% [markdown]
# One item as the model will see it. The training prompt ends with the price rounded to whole
# dollars; the test prompt stops right after "Price is $", so that the model's next tokens *are*
# its answer. Ending on "Price is $" rather than asking for a reply keeps the answer to a few
# tokens that are easy to read back, and a base model that has never been taught to chat still
# knows that a number follows a dollar sign.

# %%
item = next(made for made in (build_item(r, CATEGORY, item_config) for r in records) if not isinstance(made, str))
print(item.prompt)
print("---")
print(f"{item.token_count} tokens; the test prompt ends with: {item.test_prompt()[-30:]!r}")

# %% [markdown]
# ## Every record of the category
#
# The same rules over the whole file, in parallel chunks and with a progress bar (the Appliances
# file has about 94,000 records, Automotive two million). The report counts every record that did
# not become an item, by rule.

# %%
from helpers.data.raw import LoadConfig, load_raw

items, report = load_raw(SOURCE, LoadConfig(item=item_config), category=CATEGORY)
print(report)

# %% [markdown]
# ## Distributions
#
# Prices are heavily skewed towards the cheap end, which day 2's curation corrects. Each
# description is cut to 160 tokens (`MAX_TOKENS`); the token chart counts the whole training
# prompt, the question and the price line included, so a long description lands above the cut
# by that much. The line under the chart says where they are.

# %%
import matplotlib.pyplot as plt

prices = [item.price for item in items]
plt.figure(figsize=(15, 6))
plt.title(f"{CATEGORY} prices: average ${sum(prices) / len(prices):,.2f}, highest ${max(prices):,.2f}")
plt.xlabel("Price ($)")
plt.ylabel("Count")
plt.hist(prices, rwidth=0.7, color="darkorange", bins=range(0, 1000, 10))
plt.show()

# %%
import statistics

from helpers.core.items import MAX_TOKENS

tokens = [item.token_count for item in items]
plt.figure(figsize=(15, 6))
plt.title(f"Tokens per training prompt: average {sum(tokens) / len(tokens):,.1f}, highest {max(tokens):,}")
plt.xlabel("Length (tokens)")
plt.ylabel("Count")
low = min(min(tokens), MAX_TOKENS) // 10 * 10  # the axis starts near the data, not at 0
plt.hist(tokens, rwidth=0.7, color="skyblue", bins=range(low, max(tokens) + 5, 2))
plt.axvline(MAX_TOKENS, color="grey", linestyle="--", label=f"the description's cut: {MAX_TOKENS} tokens")
plt.legend()
plt.show()
print(f"median {statistics.median(tokens):.0f} tokens a prompt, {min(tokens)} to {max(tokens)}: the description")
print(f"is cut at {MAX_TOKENS} tokens, and the question and the price line add the rest")

# %%
# The most expensive items: do the prices look right?
for item in sorted(items, key=lambda i: i.price, reverse=True)[:5]:
    print(f"${item.price:>8,.2f}  {item.title[:80]}")

# %% [markdown]
# Next: day 2 curates several categories into a balanced training set.
