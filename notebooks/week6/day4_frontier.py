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
# # Week 6, day 4: a human, and the frontier models
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week6/day4_frontier.ipynb)
#
# How well does a person guess prices? And GPT-4o? Both go through the same `Tester` as the
# day 3 baselines, and land in the same leaderboard. The frontier calls use the official
# `openai` client: set `OPENAI_API_KEY` in Colab's secrets (or `OPENAI_BASE_URL` for any
# OpenAI-compatible server, such as a local Ollama). Every reply is cached on disk, so running
# the notebook again, or after an interruption, never pays for the same call twice.

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
from helpers.notebook import curated

DATA = None  # None: day 2's items from the store; "course-2024" or "course-2025": the course's own
train, validation, test = curated("train", DATA), curated("validation", DATA), curated("test", DATA)

# %% [markdown]
# ## The human baseline
#
# Export the first 250 test prompts to a CSV in the store (your Drive folder in Colab), fill in
# the `price` column yourself (any spreadsheet will do), save it beside it as `human_output.csv`,
# and score it. An empty cell counts as a failure; a cell that is not a price stops with the line
# it is on.

# %%
from helpers.human import export_prompts, fill_prices
from helpers.store import open_store
from helpers.testing import TEST_SIZE

store = open_store()
store.put(export_prompts(test, paths.results("human_input.csv"), size=TEST_SIZE), "human_input.csv")
print(f"Prompts to price: human_input.csv in the store {store}")
if SMOKE and store.get("human_output.csv") is None:
    # No person in a smoke run: the training mean stands in, so the cells below run.
    mean = sum(item.price for item in train) / len(train)
    store.put(
        fill_prices(paths.results("human_input.csv"), paths.results("human_output.csv"), mean), "human_output.csv"
    )

# %%
from helpers.human import PricesFor, read_prices
from helpers.testing import Tester, record

human_out = store.get("human_output.csv")
if human_out:
    human_pricer = PricesFor(test, read_prices(human_out, expected=TEST_SIZE))
    record(Tester.test(human_pricer, test, title="human"))
else:
    print("Fill in human_input.csv and save it in the store as human_output.csv to score yourself.")

# %% [markdown]
# ## Frontier models
#
# The course's prompt, exactly: a system message, the item's description, and an assistant turn
# that starts "Price is $" for the model to finish in at most 5 tokens, with seed 42.

# %%
from helpers.notebook import openai_endpoint

# None, None: OPENAI_BASE_URL / OPENAI_API_KEY from the environment, .env or Colab. In smoke mode
# a local OpenAI-compatible server on 127.0.0.1 stands in: its replies are a number derived from
# the prompt, not a model's guess, so the numbers below test the code, not the models.
BASE_URL, API_KEY = openai_endpoint()

# %%
for message in test[0].messages():
    print(f"[{message['role']}] {message['content'][:300]}")
    print()

# %%
from helpers.frontier import DEFAULT_MODELS, FrontierConfig, FrontierPricer

results = {}
for model in DEFAULT_MODELS:  # gpt-4o-mini, gpt-4o
    pricer = FrontierPricer(FrontierConfig(model=model, base_url=BASE_URL, api_key=API_KEY))
    results[model] = Tester.test(pricer, test, title=model)  # a few requests in flight at once
    print(f"{model}: {pricer.stats}")
    record(results[model])

# %% [markdown]
# Week 8 combines every model in an ensemble whose weights are fitted on the validation items:
# each frontier model prices the first 250 of them too (as many requests again; cached like the
# rest), and its answers wait in the store.

# %%
from helpers.predictions import remember
from helpers.testing import TEST_SIZE

for model in DEFAULT_MODELS:
    pricer = FrontierPricer(FrontierConfig(model=model, base_url=BASE_URL, api_key=API_KEY))
    remember(model, pricer, validation[:TEST_SIZE])

# %% [markdown]
# ## Against everything so far
#
# The leaderboard holds every model scored on this data: day 3's baselines, you, and the frontier
# models. On the course's data the frontier models beat every classical baseline.

# %%
from helpers.testing import leaderboard

leaderboard(dataset=results["gpt-4o"].dataset)
