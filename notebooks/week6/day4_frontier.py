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
# # Week 6, day 4: a human, and the frontier models
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week6/day4_frontier.ipynb)
#
# How well does a person guess prices? And GPT-4o? Both go through the same `Tester` as the
# day 3 baselines, and land in the same leaderboard. The frontier calls use the official
# `openai` client: set `OPENAI_API_KEY` in Colab's secrets (or `OPENAI_BASE_URL` for any
# OpenAI-compatible server, such as a local Ollama). You write the prompt and the call; then a
# helper makes the same calls a few at a time, caching every reply on disk, so that running the
# notebook again, or after an interruption, never pays for the same call twice.
#
# For context, the course's figures on its 250 test items (2024 edition): gpt-4o-mini just under
# $80 average error (52% hits), where the instructor, pricing the same items by hand, was $127 off
# and day 3's best classical model (the random forest on word2vec) $97. A frontier model knows a
# great deal about products before it sees any of ours.

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

# %%
from helpers.notebook import curated

DATA = None  # None: day 2's items from the store; "course-2024" or "course-2025": the course's own
train, validation, test = (curated(split, store, DATA) for split in ("train", "validation", "test"))

# %% [markdown]
# ## The human baseline
#
# Export the first 250 test prompts to a CSV in the store (your Drive folder in Colab), fill in
# the `price` column yourself (any spreadsheet will do), save it beside it as `human_output.csv`,
# and score it. An empty cell counts as a failure; a cell that is not a price stops with the line
# it is on.

# %%
from helpers.classical.human import export_prompts, fill_prices
from helpers.core.tester import TEST_SIZE
from helpers.plumbing import paths

store.put(export_prompts(test, paths.results("human_input.csv"), size=TEST_SIZE), "human_input.csv")
print(f"Prompts to price: human_input.csv in the store {store}")
if SMOKE and store.get("human_output.csv") is None:
    # No person in a smoke run: the training mean stands in, so the cells below run.
    mean = sum(item.price for item in train) / len(train)
    store.put(
        fill_prices(paths.results("human_input.csv"), paths.results("human_output.csv"), mean), "human_output.csv"
    )

# %%
from helpers.classical.human import read_prices
from helpers.core.answers import Answers, score_and_keep
from helpers.notebook import HUMAN_STAND_IN, labelled

human_out = store.get("human_output.csv")
if human_out:
    human_pricer = Answers.of("human", test, read_prices(human_out, expected=TEST_SIZE))
    human = score_and_keep(human_pricer, test, store, title=labelled("human", HUMAN_STAND_IN))  # smoke: says what it is
else:
    print("Fill in human_input.csv and save it in the store as human_output.csv to score yourself.")

# %% [markdown]
# ## The prompt
#
# A chat model is shown three messages: a system message that sets the task, the item's
# description after the question, and the start of its own answer, "Price is $". Writing the
# first words of the answer for it is the trick: the model's next tokens can only be a number,
# so there is no "I'd estimate..." to parse, and five tokens are enough. The question drops
# "to the nearest dollar": a frontier model may answer in cents.

# %%
from helpers.core.items import Item
from helpers.core.prompts import ROUNDING


def messages_for(item: Item) -> list[dict[str, str]]:
    prompt = item.prompt_format  # the course's question, system message and "Price is $"
    question = prompt.question.replace(ROUNDING, "")
    return [
        {"role": "system", "content": prompt.system},
        {"role": "user", "content": f"{question}\n\n{item.text}"},
        {"role": "assistant", "content": prompt.prefix},
    ]


for message in messages_for(test[0]):
    print(f"[{message['role']}] {message['content'][:300]}\n")

# %% [markdown]
# ## The call
#
# One request per item, with seed 42 so that a repeated request tends to get the same answer.
# The price is the first number in the reply (`extract_price` refuses a negative number, an
# exponent or an absurd magnitude rather than reading it as some other price).

# %%
from helpers.core.prices import extract_price
from helpers.language.concurrently import cached_client
from helpers.language.frontier import DEFAULT_MODELS
from helpers.notebook import openai_endpoint

# None, None: OPENAI_BASE_URL / OPENAI_API_KEY from the environment, .env or Colab. In smoke mode
# a local OpenAI-compatible server on 127.0.0.1 stands in: its replies are a number derived from
# the prompt, not a model's guess, so the numbers below test the code, not the models.
BASE_URL, API_KEY = openai_endpoint()
# an openai.OpenAI client that keeps every reply on disk (a request sent again is answered from
# there: a second run, or one after an interruption, pays for nothing twice); the key is never printed
openai = cached_client(BASE_URL, API_KEY)


def frontier_price(model: str, item: Item) -> float | None:
    response = openai.chat.completions.create(model=model, messages=messages_for(item), seed=42, max_tokens=5)
    return extract_price(response.choices[0].message.content)


def gpt_4o_mini(item: Item) -> float | None:
    return frontier_price("gpt-4o-mini", item)


for item in test[:3]:
    print(f"guess ${gpt_4o_mini(item) or 0:,.2f}, truth ${item.price:,.2f}: {item.title[:60]}")

# %% [markdown]
# ## All 250 items, a few at a time
#
# 250 calls one after another take minutes. `Concurrently` runs your `frontier_price` itself on
# four items at once (threads: the calls wait on the network, not the CPU), with the client's
# retries and its cache, and stops in one line on a refused key or after five failures in a
# row. What is scored is your function: edit it, or `messages_for`, and the score changes (an
# edited prompt is a new request, and is asked). Beside it, helpers' `FrontierPricer` (what
# `python -m helpers frontier` runs) must give the same prices on the first items.

# %%
from helpers.language.concurrently import Concurrently
from helpers.language.frontier import FrontierConfig, FrontierPricer
from helpers.notebook import OFFLINE_CHAT, agree, labelled

FIRST = 5
results, pricers = {}, {}
for model in DEFAULT_MODELS:  # gpt-4o-mini, gpt-4o
    name = labelled(model, OFFLINE_CHAT)  # smoke: the row says the offline server stood in
    pricers[model] = Concurrently(lambda item, model=model: frontier_price(model, item), name=name)
    helpers_pricer = FrontierPricer(FrontierConfig(model=model, base_url=BASE_URL, api_key=API_KEY), messages_for)
    agree(
        f"{model}: frontier_price and FrontierPricer on the first {FIRST} items",
        pricers[model].predict_batch(test[:FIRST]),
        helpers_pricer.predict_batch(test[:FIRST]),
    )
    results[model] = score_and_keep(pricers[model], test, store, title=name)
print(f"frontier_price's calls so far: {openai.stats}")

# %% [markdown]
# Week 8 combines every model in an ensemble whose weights are fitted on the validation items:
# each frontier model prices the first 250 of them too (as many requests again; cached like the
# rest), and its answers wait in the store.

# %%
from helpers.core.answers import remember

for pricer in pricers.values():
    remember(pricer.__name__, pricer, validation, store)
print(f"frontier_price's calls so far: {openai.stats}")

# %% [markdown]
# ## Against everything so far
#
# The leaderboard holds every model scored on this data: day 3's baselines, you, and the frontier
# models. In the course's 2024 edition, on its 250 test items, the frontier models beat every
# classical baseline; the line under the table says whether they did here.

# %%
from helpers.core.leaderboard import leaderboard

board = leaderboard(store, dataset=results["gpt-4o"].dataset)
frontier = min(results.values(), key=lambda result: result.average_error)
others = board[~board["model"].isin([r.title for r in results.values()]) & ~board["model"].str.startswith("human")]
if len(others):
    best = others.sort_values("average_error").iloc[0]
    verdict = "beats" if frontier.average_error < best["average_error"] else "does not beat"
    print(f"Here the best frontier row, {frontier.title} at ${frontier.average_error:,.2f}, {verdict} the best")
    print(f"other row, {best['model']} at ${best['average_error']:,.2f}.")
board
