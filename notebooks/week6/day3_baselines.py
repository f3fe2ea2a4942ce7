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
# # Week 6, day 3: classical baselines
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week6/day3_baselines.ipynb)
#
# Before any LLM: how well do simple models do? Every model here is a function `item -> price`,
# and the `Tester` scores it on the first 250 test items: average error in dollars, RMSLE, and the
# hit rate (within $40 or 20%). Every result lands in one leaderboard, `results/leaderboard.csv`,
# that later weeks add to.

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
from helpers.baselines import BaselineConfig
from helpers.notebook import curated

DATA = None  # None: day 2's items from the store; "course-2024" or "course-2025": the course's own
train, validation, test = curated("train", DATA), curated("validation", DATA), curated("test", DATA)
config = BaselineConfig()  # the forest trains on a sample of 20,000 items, as the 2025 course's does
if SMOKE:
    train = train[:1000]
    config.forest_trees = 10

# %% [markdown]
# ## The course's hand-made features
#
# Weight, best-sellers rank, text length and a known-brand flag, read from each item's details.

# %%
from helpers.baselines import get_rank, get_weight, is_top_electronics_brand

for item in train[:5]:
    print(
        f"${item.price:>7.2f}  weight={get_weight(item)}  rank={get_rank(item)}  "
        f"top brand={is_top_electronics_brand(item)}  {item.title[:40]}"
    )

# %% [markdown]
# ## Words as numbers
#
# A bag of words counts, for every item, how often each of the 1,000 commonest words appears
# (English stop words left out); linear regression then weighs each word. Which words raise a
# price the most?

# %%
from helpers.baselines import Features

features = Features(train, config)
vectorizer, counts = features.bag_of_words
words = vectorizer.get_feature_names_out()
print(f"{counts.shape[0]:,} items x {counts.shape[1]:,} words; the first: {', '.join(words[:15])}")

# %% [markdown]
# word2vec learns a 400-number vector for every word from the words around it, so that words
# used alike sit close together; an item is the average of its words' vectors.

# %%
vectors = features.word2vec.wv
word = next(w for w in ("guitar", "drill", "battery", "cable", "steel") if w in vectors)
print(f"{len(vectors):,} words, {vectors.vector_size} numbers each; nearest to {word!r}:")
for neighbour, similarity in vectors.most_similar(word, topn=5):
    print(f"  {neighbour:<15} {similarity:.2f}")

# %% [markdown]
# ## Train every baseline
#
# Random, constant (the training mean), linear regression on the features, bag of words,
# word2vec with linear regression / SVR / random forest; TF-IDF over words and characters with
# ridge regression on the log price (in neither edition); and the 2025 edition's models:
# gradient-boosted trees (LightGBM over TF-IDF and the hand-made features), a deep neural
# network, and week 8's ensemble of the best three.

# %%
from helpers.baselines import fit_baselines

predictors = fit_baselines(train, config, features)

# %% [markdown]
# The neural network is the 2025 edition's residual MLP: hashed word and word-pair counts in, a
# stack of blocks (linear, layer norm, ReLU, dropout, plus the block's input), the log price
# out. The course trains 10 blocks of 4,096 for hours on a GPU; `config.nn_hidden` and
# `config.nn_layers` choose, and the CPU default trains in well under a minute. It stops early when
# an error on held-out training items no longer improves, and keeps its best epoch.

# %%
network = predictors["neural_net"]
print(network.network)
print(
    f"{sum(p.numel() for p in network.network.parameters()):,} parameters; "
    f"trained {network.epochs} epochs, kept epoch {network.best_epoch}"
)

# %% [markdown]
# The ensemble is a linear regression over its members' log prices (and their lowest and
# highest), fitted on training items its members did not train on, never on test items.

# %%
predictors["ensemble"].weights

# %% [markdown]
# ## Through the Tester
#
# Each line is one item: green is a hit, orange is close, red is far off. The chart plots the
# estimate against the truth; a perfect model sits on the blue line.

# %%
from helpers.testing import Tester, record

results = {}
for name, predictor in predictors.items():
    results[name] = Tester.test(predictor, test, title=name)
    record(results[name])

# %% [markdown]
# Week 8 combines every model of the course, the frontier and fine-tuned ones too, in one
# ensemble. Its weights are fitted on the first 250 validation items, so each model prices those
# as well now, and the answers wait in the store (the test answers went there with `record`).

# %%
from helpers.predictions import remember
from helpers.testing import TEST_SIZE

for name, predictor in predictors.items():
    remember(name, predictor, validation[:TEST_SIZE])

# %% [markdown]
# ## Where the best model goes wrong
#
# Per-category errors and a bootstrap interval tell whether a difference between two models is
# real or noise (250 items is not many).

# %%
best = min(results.values(), key=lambda r: r.average_error)
print(best.summary())
best.by_category()

# %% [markdown]
# The running average error, item by item, with its 95% band: how many items it takes before
# the figure settles.

# %%
best.running_chart()

# %%
from helpers.testing import leaderboard, leaderboard_chart

board = leaderboard(dataset=best.dataset)  # every model scored on these test items, from any notebook
leaderboard_chart(board)

# %%
board
