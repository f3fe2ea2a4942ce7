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
# # Week 6, day 5: fine-tune a frontier model
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week6/day5_finetune_frontier.ipynb)
#
# The course fine-tunes gpt-4o-mini on 200 examples (50 more to validate) for one epoch, through
# OpenAI's fine-tuning API, then prices the test set with the new model. You write the examples
# and make each API call. The job takes a while on OpenAI's side: its id is saved in the store as
# soon as it exists, so if you close the notebook, running it again picks the same job up instead
# of starting (and paying for) another.
#
# **OpenAI no longer opens fine-tuning to every account.** In May 2026 it closed self-serve
# fine-tuning to new users (accounts that used it before may still create jobs for a while, and
# fine-tuned models keep answering). If your account is refused, the cell that creates the job
# says so in one line: skip to week 7, which fine-tunes an open model on your own GPU instead.

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

# %%
from helpers.language.concurrently import cached_client
from helpers.language.finetune_openai import FineTuneConfig, FineTuner
from helpers.notebook import openai_endpoint

# None, None: OPENAI_BASE_URL / OPENAI_API_KEY from the environment, .env or Colab. In smoke mode
# a local OpenAI-compatible server on 127.0.0.1 stands in: its replies are a number derived from
# the prompt, not a model's guess, so the numbers below test the code, not the models.
BASE_URL, API_KEY = openai_endpoint()
openai = cached_client(BASE_URL, API_KEY)  # an openai.OpenAI client, its answers kept on disk; the key never printed
config = FineTuneConfig(base_url=BASE_URL, api_key=API_KEY)  # the course's choices
# config.wandb = True  # report to Weights & Biases (project "gpt-pricer"), once linked in OpenAI
if SMOKE:
    config.poll_seconds = 0.05
tuner = FineTuner(config, store=store)  # keeps the job's id in the store, and follows the job
config

# %% [markdown]
# ## The training examples
#
# A fine-tuning example is a whole conversation: day 4's system message and question, and the
# answer we want, "Price is $130.00". OpenAI takes them as JSON Lines, one conversation a line.
# Two hundred examples are very few for a model this size: the point is to teach it the format
# and the range of our prices, not products it does not know already.

# %%
import json

from helpers.core.items import Item


def example_for(item: Item) -> dict:
    system, question, _ = item.messages()  # day 4's messages_for: the system message, the question, "Price is $"
    answer = {"role": "assistant", "content": f"{item.prompt_format.prefix}{item.completion}"}
    return {"messages": [system, question, answer]}


print(json.dumps(example_for(train[0]), indent=2)[:900])

# %%
from helpers.language.finetune_openai import chat_example, check_jsonl
from helpers.notebook import agree
from helpers.plumbing.files import atomic_open

fine_tune_train = train[: config.train_size]
fine_tune_validation = train[config.train_size : config.train_size + config.validation_size]
jsonl = {"train": tuner.workdir / "train.jsonl", "validation": tuner.workdir / "validation.jsonl"}
for name, items in (("train", fine_tune_train), ("validation", fine_tune_validation)):
    with atomic_open(jsonl[name], "w") as file:  # like open(), but a crash leaves no half-written file
        for item in items:
            file.write(json.dumps(example_for(item)) + "\n")
    print(check_jsonl(jsonl[name]))  # every line a system, user and assistant message
agree("the examples, line by line", map(example_for, fine_tune_train), map(chat_example, fine_tune_train))

# %% [markdown]
# ## Upload the files and create the job
#
# The files go up first (`purpose="fine-tune"`), then the job names them, the base model, one
# epoch and a seed. A job saved earlier in the store is carried on instead: no second job, no
# second bill.

# %%
from helpers.language.finetune_openai import JobState, refusal_explained

state = tuner.saved()
if state is not None:
    print(f"Carrying on with job {state.job_id}, saved earlier in the store")
else:
    with refusal_explained(tuner.base_url, "fine-tuning"):  # a refused account: one line, and week 7
        files = {}
        for name, path in jsonl.items():
            with open(path, "rb") as file:
                files[name] = openai.files.create(file=file, purpose="fine-tune").id
        job = openai.fine_tuning.jobs.create(
            training_file=files["train"],
            validation_file=files["validation"],
            model=config.base_model,
            seed=config.seed,
            hyperparameters={"n_epochs": config.n_epochs},
            suffix=config.suffix,
            integrations=[{"type": "wandb", "wandb": {"project": config.wandb_project}}] if config.wandb else None,
        )
    state = JobState(job.id, files["train"], files["validation"], status=job.status)
    tuner.save(state)
    print(f"Created job {job.id} ({job.status}); its id is in the store")

# %% [markdown]
# ## Follow the job
#
# `jobs.retrieve` says where the job is; `jobs.list_events` lists what it has done, newest first.
# Training 200 examples takes OpenAI some minutes, queueing often longer.

# %%
job = openai.fine_tuning.jobs.retrieve(state.job_id)
print(f"{job.id}: {job.status}")
for event in openai.fine_tuning.jobs.list_events(fine_tuning_job_id=state.job_id, limit=10):
    print(f"  {event.message}")

# %% [markdown]
# Then wait for it to finish: `tuner.follow` asks again every few seconds, prints each new event
# once, and keeps the job's state in the store. Stop it whenever you like; running the cell again
# carries on following the same job.

# %%
state = tuner.follow(state)
state

# %% [markdown]
# ## Price the test set with the fine-tuned model
#
# The conversation the model was fine-tuned on, up to "Price is $", and the price read from
# what follows: your `tuned_price`, run four items at a time as on day 4, is what is scored.
# Beside it, helpers' `FrontierPricer` must give the same prices on the first items.

# %%
from helpers.core.answers import score_and_keep
from helpers.core.leaderboard import leaderboard
from helpers.language.concurrently import Concurrently
from helpers.language.frontier import FrontierConfig, FrontierPricer
from helpers.notebook import OFFLINE_CHAT, labelled

if state.status != "succeeded":
    raise RuntimeError(f"job {state.job_id} ended {state.status}")


def tuned_price(item: Item) -> float | None:
    system, question, prefix = item.messages()  # as in the training examples, the answer left to the model
    response = openai.chat.completions.create(
        model=state.fine_tuned_model, messages=[system, question, prefix], seed=42, max_tokens=5
    )
    return item.prompt_format.price_in(response.choices[0].message.content)  # the number after "Price is $"


TUNED = labelled("fine-tuned gpt-4o-mini", OFFLINE_CHAT)  # smoke: says the offline server stood in
tuned = Concurrently(tuned_price, name=TUNED)
helpers_pricer = FrontierPricer(FrontierConfig(model=state.fine_tuned_model, base_url=BASE_URL, api_key=API_KEY))
agree(
    "tuned_price and FrontierPricer on the first 5 items",
    tuned.predict_batch(test[:5]),
    helpers_pricer.predict_batch(test[:5]),
)
result = score_and_keep(tuned, test, store, title=TUNED, trained_on=fine_tune_train)
print(f"tuned_price's calls: {openai.stats}")

# %% [markdown]
# The validation items too, for week 8's ensemble.

# %%
from helpers.core.answers import remember

remember(TUNED, tuned, validation, store)

# %%
leaderboard(store, dataset=result.dataset)
