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
# # Week 6, day 5: fine-tune a frontier model
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week6/day5_finetune_frontier.ipynb)
#
# The course fine-tunes gpt-4o-mini on 200 examples (50 more to validate) for one epoch, through
# OpenAI's fine-tuning API, then prices the test set with the new model. The job takes a while on
# OpenAI's side: the job id is saved as soon as it exists, so if you close the notebook, running
# it again picks the same job up instead of starting (and paying for) another.

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

DATA = None  # None: day 2's items from the store; "course-2024" or "course-2025": the course's own
train, validation, test = curated("train", DATA), curated("validation", DATA), curated("test", DATA)

# %%
from helpers.notebook import openai_endpoint

# None, None: OPENAI_BASE_URL / OPENAI_API_KEY from the environment, .env or Colab. In smoke mode
# a local OpenAI-compatible server on 127.0.0.1 stands in: its replies are a number derived from
# the prompt, not a model's guess, so the numbers below test the code, not the models.
BASE_URL, API_KEY = openai_endpoint()

# %%
from helpers.finetune_openai import FineTuneConfig, FineTuner

config = FineTuneConfig(base_url=BASE_URL, api_key=API_KEY, keep_in_store=True)  # the job id outlives this machine
# config.wandb = True  # report to Weights & Biases (project "gpt-pricer"), once linked in OpenAI
if SMOKE:
    config.poll_seconds = 0.05
tuner = FineTuner(config)
config

# %% [markdown]
# ## The training files
#
# One chat per item: the same system and user messages as day 4, and the answer
# "Price is $N.00". Each file is checked line by line before it is uploaded.

# %%
train_path, validation_path = tuner.write_files(train)
print(train_path.read_text().splitlines()[0][:600])

# %% [markdown]
# ## Upload, create, follow
#
# `tuner.run(train)` does it all, or resumes following a saved job. The steps are also callable
# one at a time: `upload`, `create_job`, `follow`.

# %%
state = tuner.run(train)
state

# %% [markdown]
# ## Price the test set with the fine-tuned model

# %%
from helpers.frontier import FrontierConfig, FrontierPricer
from helpers.testing import Tester, leaderboard, record

if state.status != "succeeded":
    raise RuntimeError(f"job {state.job_id} ended {state.status}")
tuned = FrontierPricer(FrontierConfig(model=state.fine_tuned_model, base_url=BASE_URL, api_key=API_KEY))
result = Tester.test(tuned, test, title="fine-tuned gpt-4o-mini")
print(tuned.stats)
record(result)

# %% [markdown]
# The validation items too, for week 8's ensemble.

# %%
from helpers.predictions import remember
from helpers.testing import TEST_SIZE

remember("fine-tuned gpt-4o-mini", tuned, validation[:TEST_SIZE])

# %%
leaderboard(dataset=result.dataset)
