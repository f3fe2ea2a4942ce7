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

REPO = "pricer-course/pricer"  # GitHub owner/name: change it here if you work from a fork
if "google.colab" in sys.modules:
    if not os.path.exists("/content/pricer"):
        subprocess.run(["git", "clone", "-q", f"https://github.com/{REPO}", "/content/pricer"], check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", "/content/pricer"], check=True)
    sys.path.insert(0, "/content/pricer")

from helpers.notebook import setup

SMOKE = setup()  # charts inline; smoke mode (PRICER_SMOKE=1) runs offline on the bundled sample

# %%
from helpers.baselines import BaselineConfig
from helpers.notebook import train_and_test

train, test = train_and_test()  # day 2's files if you made them, else the bundled sample
config = BaselineConfig()
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
# ## Train every baseline
#
# Random, constant (the training mean), linear regression on the features, bag of words,
# word2vec with linear regression / SVR / random forest, and one model the 2024 course did not
# have: TF-IDF over words and characters with ridge regression on the log price.

# %%
from helpers.baselines import fit_baselines

predictors = fit_baselines(train, config)

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
# ## Where the best model goes wrong
#
# Per-category errors and a bootstrap interval tell whether a difference between two models is
# real or noise (250 items is not many).

# %%
best = min(results.values(), key=lambda r: r.average_error)
print(best.summary())
best.by_category()

# %%
from helpers.testing import leaderboard

leaderboard(dataset=best.dataset)  # every model scored on these test items, from any notebook
