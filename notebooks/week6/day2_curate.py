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
# # Week 6, day 2: curate a balanced data set
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week6/day2_curate.ipynb)
#
# We load the course's eight categories, balance them (cheap items flood the data; Automotive
# dominates them), and split into 400,000 training and 2,000 test items, plus 2,000 validation
# items (the 2025 edition's third split: week 8 fits its ensemble on them, never on the test
# items). `LITE = True` gives the course's small variant: Appliances only, 25,000 / 2,000. The
# 2025 edition's de-duplication (one item per title and per text) is one switch, and its
# LLM-written summaries are at the end. The result goes to the store, where the
# next notebooks (each on a machine of its own in Colab) find it, and optionally to your private
# data set on the hub as a `datasets.DatasetDict`, the course's way.

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
from helpers.data.curation import CurationConfig
from helpers.data.raw import LoadConfig
from helpers.data.rules import ItemConfig

LITE = False  # True: Appliances only, 25,000 / 2,000
DEDUPE = True  # the 2025 edition's step: a product listed twice could sit in train and test both
PUSH = False  # True: push the DatasetDict to the hub (needs HF_TOKEN with write access)
HUB_DATASET = "your-hf-name/pricer-data"  # where PUSH sends it

curation = CurationConfig.lite() if LITE else CurationConfig()
curation.validation_size, curation.dedupe = 2_000, DEDUPE
load_config = LoadConfig(item=ItemConfig())
if SMOKE:
    # The bundled sample is already curated: small caps show the balancing on it.
    curation = CurationConfig(train_size=1_500, test_size=300, validation_size=200, per_price_cap=15, dedupe=DEDUPE)
curation

# %% [markdown]
# ## Load
#
# In full mode this reads every category from the hub (the eight categories take a while: each
# has a progress bar and a skip report). In smoke mode the bundled curated items stand in.

# %%
from helpers.data.item_files import load_items
from helpers.data.raw import load_categories
from helpers.plumbing import paths

if SMOKE:
    items = load_items(paths.TRAIN_SAMPLE)[0] + load_items(paths.TEST_SAMPLE)[0]
else:
    items, report = load_categories(curation.categories, load_config)
    print(report)
print(f"{len(items):,} items")

# %%
from helpers.data import charts

charts.category_counts(items)

# %%
charts.price_histogram(items, title="Before balancing")

# %% [markdown]
# ## De-duplicate
#
# The same product is often listed more than once (colours, sizes, resellers). If one copy lands
# in the training set and another in the test set, the model can look the price up instead of
# working it out, and the test flatters it. The 2025 edition keeps one item per title and one per
# text. A hash of each is remembered rather than the text itself: millions of texts kept twice
# over would not fit in a Colab machine's memory.

# %%
from helpers.data.curation import dedupe
from helpers.notebook import agree

if curation.dedupe:
    seen_titles, seen_texts, unique = set(), set(), []
    for item in items:
        title, text = hash(item.title.strip().lower()), hash(item.text.strip().lower())
        if title in seen_titles or text in seen_texts:
            continue
        seen_titles.add(title)
        seen_texts.add(text)
        unique.append(item)
    print(f"{len(items) - len(unique):,} duplicates left out, {len(unique):,} items kept")
    agree("de-duplication, item by item", unique, dedupe(items))  # the command line's split --dedupe
    items = unique

# %% [markdown]
# ## Balance
#
# Left alone, cheap items flood the data: a model trained on it learns to guess low, and learns
# little about the expensive end. So the course gives every whole-dollar price from $1 to $999 a
# slot and caps each slot: from $240 up every item is kept (they are rare), below that a slot
# keeps at most 1,200 items. Where a slot has more, a weighted random draw picks them, with every
# category weighted 5 to 1 against Automotive, which would otherwise dominate the cheap slots.
# The draw is seeded, so the same items come out on every run.

# %%
import random
from collections import Counter, defaultdict

import numpy as np

slots = defaultdict(list)
for item in items:
    slots[round(item.price)].append(item)

rng = np.random.RandomState(curation.seed)  # the stream the course's np.random.seed(42) draws from
balanced = []
for dollars in range(1, 1000):
    slot = slots[dollars]
    if dollars >= curation.keep_all_from or len(slot) <= curation.per_price_cap:
        balanced.extend(slot)
    else:
        weights = np.array([1.0 if i.category == curation.downweighted_category else curation.weight for i in slot])
        chosen = rng.choice(len(slot), size=curation.per_price_cap, replace=False, p=weights / weights.sum())
        balanced.extend(slot[i] for i in chosen)

before, after = Counter(item.category for item in items), Counter(item.category for item in balanced)
for category, count in before.most_common():
    print(f"{category:<30} {count:>9,} -> {after[category]:>9,}")
print(f"{len(items):,} items -> {len(balanced):,} balanced")

# %%
from helpers.data.curation import balance

agree("balancing, item by item", balanced, balance(items, curation))  # what `python -m helpers split` draws

# %%
charts.price_histogram(balanced, title="After balancing")

# %%
charts.price_by_category(balanced)

# %% [markdown]
# ## Split
#
# A seeded shuffle, then the course's slices: the first 400,000 items train, the next 2,000 test,
# and (the 2025 edition's third split) 2,000 more validate. Week 8 fits its ensemble's weights on
# the validation items, so the test items stay unseen by every choice made on the way. When there
# are fewer items than asked for, the training set shrinks, never the test set.

# %%
from helpers.data.curation import split_with_validation

sample = list(balanced)
random.Random(curation.seed).shuffle(sample)
train_size = min(curation.train_size, len(sample) - curation.test_size - curation.validation_size)
train = sample[:train_size]
test = sample[train_size : train_size + curation.test_size]
validation = sample[train_size + curation.test_size : train_size + curation.test_size + curation.validation_size]
print(f"{len(train):,} train, {len(validation):,} validation, {len(test):,} test")
agree("the split, item by item", [*train, *validation, *test], sum(split_with_validation(balanced, curation), []))

# %% [markdown]
# ## Save
#
# JSONL files in the store for the next notebooks, and the hub layout: a `DatasetDict` whose
# `text` is the training prompt (train) or the test prompt (test).

# %%
from helpers.data.curation import push_to_hub, to_dataset_dict
from helpers.notebook import save_curated

save_curated(store, train, test, validation)
dataset = to_dataset_dict(train, test)
dataset

# %%
if PUSH and not SMOKE:
    print(push_to_hub(dataset, HUB_DATASET))
else:
    print("Not pushed (set PUSH = True and HF_TOKEN to push)")

# %% [markdown]
# ## The 2025 edition: summaries written by a model
#
# The 2025 edition has a chat model rewrite each product's text as five short lines (title,
# category, brand, a sentence of description, a sentence of details; no part numbers), and asks
# its question ("What does this cost to the nearest dollar?") of that summary, cut to 110 tokens
# of Llama 3.2. A summary drops the boilerplate that eats a 160-token budget and keeps what a
# price depends on. This is the prompt, word for word:

# %%
from helpers.core.prompts import summary_messages

for message in summary_messages(test[0].text):
    print(f"[{message['role']}]\n{message['content'][:600]}\n")

# %% [markdown]
# Summarising 400,000 items costs real money and hours (the course used gpt-oss-20b on Groq);
# here `SUMMARIES` test items give a taste, and `python -m helpers summarise --items FILE --out
# FILE` does a whole file: replies cached, so a run stopped with Ctrl-C carries on where it was,
# with the calls, tokens and cost reported at the end.

# %%
from helpers import presets
from helpers.language.frontier import FrontierConfig
from helpers.language.summaries import Summariser, SummaryConfig
from helpers.notebook import base_model, openai_endpoint

SUMMARIES = 20
# None, None: OPENAI_BASE_URL / OPENAI_API_KEY from the environment, .env or Colab. In smoke mode
# a local server on 127.0.0.1 stands in, and a small tokenizer stands in for Llama 3.2's.
BASE_URL, API_KEY = openai_endpoint()
summariser = Summariser(
    FrontierConfig(model="gpt-4o-mini", base_url=BASE_URL, api_key=API_KEY),
    SummaryConfig(tokenizer=base_model(presets.COURSE_2025.base_model, with_model=False)),
)
summarised, failed = summariser.summarise(test[:SUMMARIES])
print(summariser.stats)
print(f"{len(summarised)} summarised; not summarised: {dict(failed) or 'none'}\n")
print(test[0].text[:400], "\n\nbecomes\n")
print(summarised[0].test_prompt())

# %% [markdown]
# ## The 2025 edition's way: the Batch API
#
# The calls above are made while you wait, a few at a time. The 2025 edition sends its summaries
# through OpenAI's **Batch API** instead: every request goes into one JSONL file, OpenAI works
# through it in its own time, and the results come back as another file. A batch costs **half
# the price** of the same calls, has its own (much higher) rate limits, and promises its answers
# within a **24-hour window** (often minutes, sometimes hours). So a batch wins for a big job that
# can wait: 400,000 summaries overnight for half the money. Concurrent calls win when you need
# the answers now, or for a handful of items. Neither is wrong; the summaries are the same kind.
#
# In smoke mode the offline server stands in for OpenAI: it takes the file, moves the batch from
# `validating` to `in_progress` to `completed` over a few looks, and answers each line exactly as
# its chat endpoint answers the same request (its five "summary" lines are made from the item's
# own words, not by a model). A line it cannot answer goes to an error file, as OpenAI's would.
#
# Step one: a row per item, each a chat request with a `custom_id` to find its answer by.

# %%
import json

from helpers.language.batches import summary_rows

BATCH_ITEMS = 5 if SMOKE else 20  # a taste, within the SUMMARIES above (the course batches the whole set)
batch_items = test[:BATCH_ITEMS]
rows = []
for n, item in enumerate(batch_items):
    body = {"model": "gpt-4o-mini", "messages": summary_messages(item.text), "max_tokens": 300, "seed": 42}
    rows.append({"custom_id": f"item-{n}", "method": "POST", "url": "/v1/chat/completions", "body": body})
print(json.dumps(rows[0], indent=2)[:700])
agree("the batch's requests, row by row", rows, summary_rows(batch_items, summariser))  # what the summariser sends

# %% [markdown]
# Step two: the rows written to a file, the file uploaded with `purpose="batch"`, and the batch
# created for the chat endpoint with the 24-hour window. The batch's id goes to the store at
# once (as day 5 keeps its fine-tuning job): if this runtime is lost while OpenAI works, running
# the notebook again picks up the same batch instead of paying for a second one. A batch saved
# for other requests, or one the server no longer knows, is not picked up: a new one is created.
# (In smoke mode every kernel starts its own offline server at a new address, so a batch saved by
# an earlier run is said to be elsewhere and a new one is made; running this cell again in the
# same kernel carries on with the batch it made.)

# %%
from helpers.language.batches import BatchState, fingerprint, pick_up, save_batch
from helpers.language.frontier import make_client
from helpers.plumbing import paths
from helpers.plumbing.files import atomic_open
from helpers.plumbing.secrets import redact

client = make_client(BASE_URL, API_KEY)  # an openai.OpenAI client; the key is never printed
batch_file = paths.results("summaries", "batch_input.jsonl")
with atomic_open(batch_file, "w") as file:  # like open(), but a crash leaves no half-written file
    for row in rows:
        file.write(json.dumps(row) + "\n")

batch = pick_up(client, store, rows)
if batch is None:
    with open(batch_file, "rb") as file:
        uploaded = client.files.create(file=file, purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    where = redact(str(client.base_url).rstrip("/"))
    save_batch(store, BatchState(batch.id, uploaded.id, len(rows), fingerprint(rows), where, "gpt-4o-mini"))
    print(f"Created batch {batch.id} ({batch.status}) from {uploaded.id}; its id is in the store")

# %% [markdown]
# Step three: wait. `batches.retrieve` says where the batch is and how many requests are done;
# the loop asks again every minute (a fraction of a second in smoke mode) until the batch has
# ended. Stop the cell whenever you like: running it again, or the whole notebook on a new
# machine, carries on with the same batch.

# %%
import time

POLL_SECONDS = 0.2 if SMOKE else 60
while True:
    batch = client.batches.retrieve(batch.id)
    counts = batch.request_counts
    done = f"{counts.completed} done, {counts.failed} failed, of {counts.total}" if counts else "no counts yet"
    print(f"{time.strftime('%H:%M:%S')} {batch.id}: {batch.status}, {done}", flush=True)
    if batch.status in ("completed", "failed", "expired", "cancelled"):
        break
    time.sleep(POLL_SECONDS)

# %% [markdown]
# Step four: the results. The output file has a line per answered request, found by its
# `custom_id` (the order is not promised); the error file, if there is one, a line per request
# that failed, so that none is silently lost.

# %%
from helpers.language.batches import check_completed, read_results

check_completed(batch)  # a failed, expired or cancelled batch: one line saying why
output = client.files.content(batch.output_file_id).text if batch.output_file_id else ""
errors = client.files.content(batch.error_file_id).text if batch.error_file_id else ""
replies, failures = {}, {}
for line in output.splitlines():
    result = json.loads(line)
    replies[result["custom_id"]] = result["response"]["body"]["choices"][0]["message"]["content"]
for line in errors.splitlines():
    result = json.loads(line)
    failures[result["custom_id"]] = result["error"] or result["response"]["body"]["error"]
lost = [row["custom_id"] for row in rows if row["custom_id"] not in replies and row["custom_id"] not in failures]
print(f"{len(replies)} answered, {len(failures)} failed, {len(lost)} lost")
for custom_id, error in list(failures.items())[:3]:
    print(f"  {custom_id}: {error}")

batch_results = read_results(output, errors)  # helpers' reading, for the command line and the tests
agree(
    "the batch's replies, by custom_id",
    [replies.get(r["custom_id"]) for r in rows],
    [batch_results.replies.get(r["custom_id"]) for r in rows],
)

# %% [markdown]
# The summaries from the batch become the 2025 prompts exactly as the concurrent ones did, and
# are set beside what the concurrent calls got for the same items (this run's answers, asked
# again of no one). Offline they are the same text; a real model may word a summary differently
# from one ask to the next, so there `agree` may show differences in wording, not in kind.

# %%
from helpers.language.batches import batch_cost

batch_summarised = [
    summariser.summarised(item, replies[f"item-{n}"].strip())
    for n, item in enumerate(batch_items)
    if (replies.get(f"item-{n}") or "").strip()
]
concurrent, _ = summariser.summarise(batch_items, progress=False)
agree(
    "the batch's summaries against the concurrent calls'",
    [s.summary for s in batch_summarised],
    [s.summary for s in concurrent],
)
print(batch_summarised[0].test_prompt())
if summariser.stats.billed:
    print(f"The batch: about ${batch_cost('gpt-4o-mini', batch_results):.4f}, half the price of the same calls")
else:
    print("The batch: nothing billed (not OpenAI's API); at OpenAI it would cost half the price of the same calls")
