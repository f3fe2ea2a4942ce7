"""Write the course notebooks from the cell sources below, without outputs.

    python notebooks/make_notebooks.py

The .ipynb files are generated so that they stay small, reviewable and in step with the
helpers; edit the cells here, re-run, and commit both. tests/test_notebooks.py checks that
the committed notebooks match this file and runs each one in smoke mode.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
REPO = "pricer-course/pricer"  # GitHub owner/name the Colab badges and the install cell use


def badge(path: str) -> str:
    url = f"https://colab.research.google.com/github/{REPO}/blob/main/notebooks/{path}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def setup_cell(week: str) -> str:
    return f"""\
# Setup. In Colab: fetch the repository and install it (a minute). Locally: nothing to do,
# `pip install -e .` from the README already did it.
import os
import sys

if "google.colab" in sys.modules:
    if not os.path.exists("/content/pricer"):
        !git clone -q https://github.com/{REPO} /content/pricer
        %pip install -q -e /content/pricer
    sys.path.insert(0, "/content/pricer")
    os.chdir("/content/pricer/notebooks/{week}")

%matplotlib inline

# Smoke mode runs on the bundled sample, offline, in well under a minute (the tests use it).
SMOKE = os.environ.get("PRICER_SMOKE") == "1"
print("Smoke mode: bundled sample, offline" if SMOKE else "Full mode: the real data from the hub")"""


HUB_LOGIN = """\
# Secrets come from the environment, a .env file or Colab's secrets panel, never from the notebook.
from helpers.secrets import describe, get_secret

print(describe("HF_TOKEN"))
if not SMOKE and get_secret("HF_TOKEN"):
    from huggingface_hub import login

    login(get_secret("HF_TOKEN"), add_to_git_credential=False)"""


def notebook(path: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "accelerator": "GPU" if "week7" in path else None,
        "colab": {"provenance": []},
    }
    if nb.metadata["accelerator"] is None:
        del nb.metadata["accelerator"]
    for kind, source in cells:
        cell = new_markdown_cell(source) if kind == "md" else new_code_cell(source)
        cell.pop("id", None)
        nb.cells.append(cell)
    nb.nbformat_minor = 4  # no cell ids: stable files
    return nb


def md(text: str) -> tuple[str, str]:
    return ("md", text.strip("\n"))


def code(text: str) -> tuple[str, str]:
    return ("code", text.strip("\n"))


DAY1 = [
    md(f"""
# Week 6, day 1: one category of Amazon products

{badge("week6/day1_explore.ipynb")}

The project: predict what a product costs from its description. Today we read one category of the
Amazon Reviews 2023 metadata (McAuley Lab), turn each record into an `Item` with the course's
rules, and look at what we have: how many records carry a price, how prices and text lengths
are distributed.

In Colab this reads **Appliances** from the Hugging Face hub and counts tokens with the Llama
3.1 tokenizer (gated: accept its licence on the hub and add `HF_TOKEN` to Colab's secrets).
"""),
    code(setup_cell("week6")),
    code(HUB_LOGIN),
    md("""
## Configuration

Everything a learner may want to change sits in one config object. The defaults are the course's.
"""),
    code("""
from helpers import paths
from helpers.items import ItemConfig
from helpers.loaders import LoadConfig

CATEGORY = "Appliances"
config = LoadConfig(item=ItemConfig())  # tokenizer: meta-llama/Meta-Llama-3.1-8B

if SMOKE:
    # Offline stand-ins: the bundled raw CDs & Vinyl records, and a tiny local tokenizer
    # (byte-level BPE, numbers 0-999 as single tokens like Llama 3).
    from helpers.tiny import TinyConfig, build

    CATEGORY = "CDs_and_Vinyl"
    config.item.tokenizer = str(build(TinyConfig(output=str(paths.RESULTS / "tiny"), with_model=False)))
config"""),
    md("""
## Records to items

`load_raw` reads the raw JSONL (from the hub, or a local file) in parallel chunks. Each record
becomes an `Item` or a named skip: no price, too little text, a broken line... Nothing is dropped
silently; the report counts every reason.
"""),
    code("""
from helpers.loaders import load_raw

source = paths.RAW_SAMPLE if SMOKE else CATEGORY
items, report = load_raw(source, config, category=CATEGORY)
print(report)"""),
    code("""
priced = report.read - report.skipped["price_missing"] - report.skipped["price_range"] - report.skipped["price_not_a_number"]
print(f"{priced:,} of {report.read:,} records have a price ({priced / report.read:.0%}); {len(items):,} pass every rule")"""),
    md("""
## One item, as the model will see it

The training prompt ends with the price rounded to whole dollars; the test prompt stops right
before it. The title line comes first, then description, features and the scrubbed details,
capped at 160 tokens.
"""),
    code("""
item = items[0]
print(item.prompt)
print("---")
print(f"{item.token_count} tokens; test prompt ends with: {item.test_prompt()[-30:]!r}")"""),
    md("""
## Distributions

Prices are heavily skewed towards the cheap end, which the day 2 curation corrects. Token counts
cluster just under the cap, by construction.
"""),
    code("""
from helpers import charts

charts.price_histogram(items, title=CATEGORY)"""),
    code("""
charts.token_histogram(items, title=CATEGORY)"""),
    code("""
# The most expensive items: do the prices look right?
for item in sorted(items, key=lambda i: i.price, reverse=True)[:5]:
    print(f"${item.price:>8,.2f}  {item.title[:80]}")"""),
    md("""
Next: day 2 curates several categories into a balanced training set.
"""),
]

DAY2 = [
    md(f"""
# Week 6, day 2: curate a balanced data set

{badge("week6/day2_curate.ipynb")}

We load the course's eight categories, balance them (cheap items flood the data; Automotive
dominates them), and split into 400,000 training and 2,000 test items. `LITE = True` gives the
course's small variant: Appliances only, 25,000 / 2,000. The result is saved as JSONL and as a
`datasets.DatasetDict`, and optionally pushed to your private data set on the hub.
"""),
    code(setup_cell("week6")),
    code(HUB_LOGIN),
    code("""
from helpers import paths
from helpers.curation import CurationConfig
from helpers.items import ItemConfig
from helpers.loaders import LoadConfig

LITE = False  # True: Appliances only, 25,000 / 2,000
PUSH = False  # True: push the DatasetDict to the hub (needs HF_TOKEN with write access)
HUB_DATASET = "your-hf-name/pricer-data"  # where PUSH sends it

curation = CurationConfig.lite() if LITE else CurationConfig()
load_config = LoadConfig(item=ItemConfig())
if SMOKE:
    # The bundled sample is already curated: small caps show the balancing on it.
    curation = CurationConfig(train_size=1_500, test_size=300, per_price_cap=15)
curation"""),
    md("""
## Load

In full mode this reads every category from the hub (the eight categories take a while: each
has a progress bar and a skip report). In smoke mode the bundled curated items stand in.
"""),
    code("""
from helpers.loaders import load_categories, load_items

if SMOKE:
    items = load_items(paths.TRAIN_SAMPLE)[0] + load_items(paths.TEST_SAMPLE)[0]
else:
    items, report = load_categories(curation.categories, load_config)
    print(report)
print(f"{len(items):,} items")"""),
    code("""
from helpers import charts

charts.category_counts(items)"""),
    code("""
charts.price_histogram(items, title="Before balancing")"""),
    md("""
## Balance and split

For each whole-dollar price from $1 to $999: keep everything from $240 up; below that keep at
most 1,200 items per price, drawn with non-Automotive items weighted 5:1. Then a seeded shuffle
and the split. The seed (42) makes the split the same on every run.
"""),
    code("""
from helpers.curation import balance, split

balanced = balance(items, curation) if curation.balance else items
train, test = split(balanced, curation)
print(f"{len(balanced):,} balanced items: {len(train):,} train, {len(test):,} test")"""),
    code("""
charts.price_histogram(balanced, title="After balancing")"""),
    code("""
charts.price_by_category(balanced)"""),
    md("""
## Save

JSONL files for the next notebooks (and parquet if you prefer), and the hub layout: a
`DatasetDict` whose `text` is the training prompt (train) or the test prompt (test).
"""),
    code("""
from helpers.curation import push_to_hub, save_items, to_dataset_dict

save_items(train, paths.RESULTS / "train.jsonl")
save_items(test, paths.RESULTS / "test.jsonl")
dataset = to_dataset_dict(train, test)
dataset"""),
    code("""
if PUSH and not SMOKE:
    print(push_to_hub(dataset, HUB_DATASET))
else:
    print("Not pushed (set PUSH = True and HF_TOKEN to push)")"""),
]

DAY3 = [
    md(f"""
# Week 6, day 3: classical baselines

{badge("week6/day3_baselines.ipynb")}

Before any LLM: how well do simple models do? Every model here is a function `item -> price`,
and the `Tester` scores it on the first 250 test items: average error in dollars, RMSLE, and the
hit rate (within $40 or 20%). Every result lands in one leaderboard, `results/leaderboard.csv`,
that later weeks add to.
"""),
    code(setup_cell("week6")),
    code("""
from helpers import paths
from helpers.baselines import BaselineConfig
from helpers.loaders import load_items

# Day 2's files if you made them, else the bundled sample.
train_file, test_file = paths.RESULTS / "train.jsonl", paths.RESULTS / "test.jsonl"
if SMOKE or not train_file.exists():
    train_file, test_file = paths.TRAIN_SAMPLE, paths.TEST_SAMPLE
train, test = load_items(train_file)[0], load_items(test_file)[0]
DATASET = "bundled-sample" if train_file == paths.TRAIN_SAMPLE else "curated"

config = BaselineConfig()
if SMOKE:
    train = train[:1000]
    config.forest_trees = 10
print(f"train {len(train):,} items from {train_file.name}, test {len(test):,} items")"""),
    md("""
## The course's hand-made features

Weight, best-sellers rank, text length and a known-brand flag, read from each item's details.
"""),
    code("""
from helpers.baselines import get_rank, get_weight, is_top_electronics_brand

for item in train[:5]:
    print(f"${item.price:>7.2f}  weight={get_weight(item)}  rank={get_rank(item)}  "
          f"top brand={is_top_electronics_brand(item)}  {item.title[:40]}")"""),
    md("""
## Train every baseline

Random, constant (the training mean), linear regression on the features, bag of words,
word2vec with linear regression / SVR / random forest, and one model the 2024 course did not
have: TF-IDF over words and characters with ridge regression on the log price.
"""),
    code("""
from helpers.baselines import fit_baselines

predictors = fit_baselines(train, config)"""),
    md("""
## Through the Tester

Each line is one item: green is a hit, orange is close, red is far off. The chart plots the
estimate against the truth; a perfect model sits on the blue line.
"""),
    code("""
from helpers.testing import Tester, record

results = {}
for name, predictor in predictors.items():
    results[name] = Tester.test(predictor, test, title=name)
    record(results[name], DATASET)"""),
    md("""
## Where the best model goes wrong

Per-category errors and a bootstrap interval tell whether a difference between two models is
real or noise (250 items is not many).
"""),
    code("""
best = min(results.values(), key=lambda r: r.average_error)
print(best.summary())
best.by_category()"""),
    code("""
from helpers.testing import leaderboard

leaderboard(dataset=DATASET)"""),
]

LOAD_TEST = """
from helpers import paths
from helpers.loaders import load_items

# Day 2's files if you made them, else the bundled sample.
train_file, test_file = paths.RESULTS / "train.jsonl", paths.RESULTS / "test.jsonl"
if SMOKE or not train_file.exists():
    train_file, test_file = paths.TRAIN_SAMPLE, paths.TEST_SAMPLE
train, test = load_items(train_file)[0], load_items(test_file)[0]
DATASET = "bundled-sample" if train_file == paths.TRAIN_SAMPLE else "curated"
print(f"train {len(train):,} items, test {len(test):,} items ({DATASET})")"""

FAKE_SERVER = """
# Smoke mode: a local OpenAI-compatible server on 127.0.0.1 stands in for the API. Its replies
# are a number derived from the prompt, not a model's guess: the numbers below test the code,
# not the models.
BASE_URL, API_KEY = None, None  # None: OPENAI_BASE_URL / OPENAI_API_KEY from env, .env or Colab
if SMOKE:
    from helpers.fake_openai import FakeOpenAI

    server = FakeOpenAI().start()
    BASE_URL, API_KEY = server.url, server.api_key"""

DAY4 = [
    md(f"""
# Week 6, day 4: a human, and the frontier models

{badge("week6/day4_frontier.ipynb")}

How well does a person guess prices? And GPT-4o? Both go through the same `Tester` as the
day 3 baselines, and land in the same leaderboard. The frontier calls use the official
`openai` client: set `OPENAI_API_KEY` in Colab's secrets (or `OPENAI_BASE_URL` for any
OpenAI-compatible server, such as a local Ollama). Every reply is cached on disk, so running
the notebook again, or after an interruption, never pays for the same call twice.
"""),
    code(setup_cell("week6")),
    code(LOAD_TEST),
    md("""
## The human baseline

Export the first 250 test prompts to a CSV, fill in the `price` column yourself (any spreadsheet
will do), save it as `human_output.csv` next to it, and score it. An empty cell counts as a
failure; a cell that is not a price stops with the line it is on.
"""),
    code("""
import csv

from helpers.human import export_prompts, predictor_from, read_prices

human_in = export_prompts(test, paths.RESULTS / "human_input.csv", size=250)
human_out = paths.RESULTS / "human_output.csv"
print(f"Prompts to price: {human_in}")
if SMOKE and not human_out.exists():
    # No person in a smoke run: the training mean stands in, so the cells below run.
    mean = sum(item.price for item in train) / len(train)
    with open(human_in, newline="") as source, open(human_out, "w", newline="") as target:
        rows = list(csv.DictReader(source))
        writer = csv.DictWriter(target, fieldnames=["index", "prompt", "price"])
        writer.writeheader()
        writer.writerows({**row, "price": f"{mean:.0f}"} for row in rows)"""),
    code("""
from helpers.testing import Tester, record

if human_out.exists():
    human_pricer = predictor_from(test, read_prices(human_out, expected=250))
    record(Tester.test(human_pricer, test, title="human"), DATASET)
else:
    print(f"Fill in {human_in.name} and save it as {human_out.name} to score yourself.")"""),
    md("""
## Frontier models

The course's prompt, exactly: a system message, the item's description, and an assistant turn
that starts "Price is $" for the model to finish in at most 5 tokens, with seed 42.
"""),
    code(FAKE_SERVER),
    code("""
from helpers.frontier import messages_for

for message in messages_for(test[0]):
    print(f"[{message['role']}] {message['content'][:300]}")
    print()"""),
    code("""
from helpers.frontier import DEFAULT_MODELS, FrontierConfig, evaluate

results = {}
for model in DEFAULT_MODELS:  # gpt-4o-mini, gpt-4o
    config = FrontierConfig(model=model, base_url=BASE_URL, api_key=API_KEY)
    results[model], stats = evaluate(test, config, size=250, verbose=True)
    print(f"{model}: {stats}")
    record(results[model], DATASET)"""),
    md("""
## Against everything so far

The leaderboard holds every model scored on this data: day 3's baselines, you, and the frontier
models. On the course's data the frontier models beat every classical baseline.
"""),
    code("""
from helpers.testing import leaderboard

leaderboard(dataset=DATASET)"""),
]

DAY5 = [
    md(f"""
# Week 6, day 5: fine-tune a frontier model

{badge("week6/day5_finetune_frontier.ipynb")}

The course fine-tunes gpt-4o-mini on 200 examples (50 more to validate) for one epoch, through
OpenAI's fine-tuning API, then prices the test set with the new model. The job takes a while on
OpenAI's side: the job id is saved as soon as it exists, so if you close the notebook, running
it again picks the same job up instead of starting (and paying for) another.
"""),
    code(setup_cell("week6")),
    code(LOAD_TEST),
    code(FAKE_SERVER),
    code("""
from helpers.finetune_openai import FineTuneConfig, FineTuner

config = FineTuneConfig(base_url=BASE_URL, api_key=API_KEY)
# config.wandb = True  # report to Weights & Biases (project "gpt-pricer"), once linked in OpenAI
if SMOKE:
    config.poll_seconds = 0.05
tuner = FineTuner(config)
config"""),
    md("""
## The training files

One chat per item: the same system and user messages as day 4, and the answer
"Price is $N.00". Each file is checked line by line before it is uploaded.
"""),
    code("""
train_path, validation_path = tuner.write_files(train)
print(train_path.read_text().splitlines()[0][:600])"""),
    md("""
## Upload, create, follow

`tuner.run(train)` does it all, or resumes following a saved job. The steps are also callable
one at a time: `upload`, `create_job`, `follow`.
"""),
    code("""
state = tuner.run(train)
state"""),
    md("""
## Price the test set with the fine-tuned model
"""),
    code("""
from helpers.frontier import FrontierConfig, evaluate
from helpers.testing import leaderboard, record

if state.status != "succeeded":
    raise RuntimeError(f"job {state.job_id} ended {state.status}")
tuned = FrontierConfig(model=state.fine_tuned_model, base_url=BASE_URL, api_key=API_KEY)
result, stats = evaluate(test, tuned, size=250, verbose=True)
print(stats)
record(result, DATASET)"""),
    code("""
leaderboard(dataset=DATASET)"""),
]

WEEK7_CONFIG = """
from helpers import paths

BASE_MODEL = "meta-llama/Meta-Llama-3.1-8B"  # gated: accept the licence on the hub first
DATASET = "your-hf-name/pricer-data"  # the data set week 6 day 2 pushed (text, price, category)
RESULTS_KEY = "curated"  # the leaderboard key week 6 used for the same test items

if SMOKE:
    # Offline stand-ins: a tiny random Llama-shaped model with a locally trained tokenizer,
    # and the bundled sample. Every number it produces tests the code, not a model.
    from helpers.tiny import TinyConfig, build

    BASE_MODEL = str(build(TinyConfig(output=str(paths.RESULTS / "tiny"))))
    RESULTS_KEY = "bundled-sample"
print(f"base model: {BASE_MODEL}")"""

LOAD_HUB_TEST = """
from helpers.loaders import load_hub_items, load_items

test = load_items(paths.TEST_SAMPLE)[0] if SMOKE else load_hub_items(DATASET, split="test")
SIZE = 50 if SMOKE else 250  # the Tester's 250 items; fewer on the CPU
print(f"{len(test):,} test items; scoring the first {SIZE}")"""

W7D1 = [
    md(f"""
# Week 7, day 1: quantisation and LoRA

{badge("week7/day1_quantization.ipynb")}

Llama 3.1 8B holds 8 billion parameters: 32 GB in 32-bit floats, 16 GB in bf16. Quantised to
8 bits it needs about 9 GB, to 4 bits (NF4, with the quantisation constants themselves
quantised) about 5.6 GB, which fits a free Colab T4. LoRA then trains a small number of extra
parameters beside the frozen 4-bit weights: that is QLoRA. Run this on a GPU runtime.
"""),
    code(setup_cell("week7")),
    code(HUB_LOGIN),
    code(WEEK7_CONFIG),
    code("""
import gc

import torch

from helpers.models import detect_hardware

hardware = detect_hardware()
gpu_gb = torch.cuda.get_device_properties(0).total_memory / 1e9 if hardware.device == "cuda" else 0
# Full precision needs a big GPU (an A100 40GB or better); 8 and 4 bits fit anywhere.
CHOICES = ["none", "8bit", "4bit"] if SMOKE or gpu_gb > 40 else ["8bit", "4bit"]
print(f"{hardware}; trying {', '.join(CHOICES)}")"""),
    md("""
## Memory footprint at each precision
"""),
    code("""
from helpers.models import four_bit_layers, load_base, memory_mb

footprints = {}
for choice in CHOICES:
    model, tokenizer = load_base(BASE_MODEL, choice)
    footprints[choice] = memory_mb(model)
    print(f"{choice:>5}: {footprints[choice]:,.1f} MB, {four_bit_layers(model)} layers in 4 bits")
    if choice != CHOICES[-1]:
        del model
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()"""),
    code("""
from matplotlib.figure import Figure

figure = Figure(figsize=(8, 4))
axes = figure.subplots()
bars = axes.bar(list(footprints), list(footprints.values()), color="teal")
axes.bar_label(bars, labels=[f"{v:,.0f} MB" for v in footprints.values()])
axes.set_title("Memory footprint by quantisation")
figure"""),
    md("""
## The architecture, and what LoRA adds

The attention projections `q_proj`, `k_proj`, `v_proj` and `o_proj` of every layer get two
small matrices, r x inputs and outputs x r, with r = 32. Only those train.
"""),
    code("""
model"""),
    code("""
from helpers.training import TrainConfig, lora_parameter_count

config = TrainConfig()
count = lora_parameter_count(model, config)
print(f"LoRA with r={config.lora_r} on {', '.join(config.target_modules)} adds {count:,} parameters "
      f"({count * 4 / 1e6:,.1f} MB in 32-bit floats)")"""),
]

W7D2 = [
    md(f"""
# Week 7, day 2: tokenizers, and the base model as a pricer

{badge("week7/day2_base_model.ipynb")}

Llama 3's tokenizer writes every number from 0 to 999 as one token, so a price such as $123
is one prediction, not three. Then: how does the untrained base model do at pricing? The
course measured an average error of $395.72 for Llama 3.1 8B: worse than guessing the mean.
"""),
    code(setup_cell("week7")),
    code(HUB_LOGIN),
    code(WEEK7_CONFIG),
    code("""
from helpers.models import load_tokenizer

tokenizer = load_tokenizer(BASE_MODEL)
for number in (0, 7, 42, 123, 999, 1000, 12345):
    tokens = tokenizer.encode(str(number), add_special_tokens=False)
    print(f"{number:>6} -> {len(tokens)} token(s): {[tokenizer.decode([t]) for t in tokens]}")"""),
    code(LOAD_HUB_TEST),
    code("""
print(test[0].test_prompt())"""),
    md("""
## The base model through the Tester

`model_predict` lets the model write a few tokens after "Price is $" and reads the number;
the predictions run in batches (left padding), which gives the same answers as one at a time.
"""),
    code("""
from helpers.inference import InferenceConfig, Predictors
from helpers.models import load_base

model, tokenizer = load_base(BASE_MODEL, "4bit")
predictors = Predictors(model, tokenizer, InferenceConfig(base_model=BASE_MODEL, max_new_tokens=4))"""),
    code("""
from helpers.testing import Tester, record

result = Tester.test(predictors.batched(test[:SIZE]), test, title="base model_predict", size=SIZE)
record(result, RESULTS_KEY)"""),
]

W7D34 = [
    md(f"""
# Week 7, days 3–4: QLoRA training

{badge("week7/day3_4_train.ipynb")}

The course's recipe on today's libraries: the 4-bit base, LoRA r=32 on the attention
projections, one epoch at learning rate 1e-4 with a cosine schedule, the loss on the price
tokens only. Progress goes to Weights & Biases (project `pricer`; `WANDB_API_KEY` in Colab's
secrets), and with `PUSH = True` every checkpoint is pushed to a private hub repo, each one a
revision you can load on day 5. If the runtime dies, set `config.resume = True` and run again:
training carries on from the last checkpoint.

An epoch of 400,000 items takes many hours on a T4; start with `config.max_steps` set low.
"""),
    code(setup_cell("week7")),
    code(HUB_LOGIN),
    code(WEEK7_CONFIG),
    code("""
from helpers.training import TrainConfig

PUSH = False  # True: every checkpoint to a private hub repo <you>/pricer-<run name>
config = TrainConfig(base_model=BASE_MODEL, train=DATASET, push=PUSH)
if SMOKE:
    # A pipeline check: a handful of steps, longer sequences for the tiny tokenizer.
    config = TrainConfig(base_model=BASE_MODEL, train=str(paths.TRAIN_SAMPLE), max_steps=8, max_length=320,
                         learning_rate=1e-2, logging_steps=1, save_steps=4, output=str(paths.RESULTS / "pricer-smoke"))
    os.environ.setdefault("WANDB_DIR", str(paths.RESULTS))
config"""),
    md("""
## What the trainer will do on this hardware

bf16 on Ampere and newer GPUs, fp16 on a T4, full precision on a CPU; the paged 32-bit AdamW
optimizer only where there is CUDA.
"""),
    code("""
from helpers.models import detect_hardware
from helpers.training import sft_config, training_rows

hardware = detect_hardware()
args = sft_config(config, hardware)
print(f"{hardware}: bf16={args.bf16} fp16={args.fp16} optimizer={args.optim} "
      f"warm-up={args.warmup_steps} schedule={args.lr_scheduler_type}")
rows = training_rows(config.train)
print(rows)
print(rows[0]["prompt"][-80:], "->", repr(rows[0]["completion"]))"""),
    md("""
## Train

The labels hide every prompt token: the model is only ever graded on the price it writes.
"""),
    code("""
from helpers.training import train

trainer = train(config, rows)
print(f"adapter saved in {config.output_dir}")"""),
    code("""
from matplotlib.figure import Figure

history = [(e["step"], e["loss"]) for e in trainer.state.log_history if "loss" in e]
figure = Figure(figsize=(10, 4))
axes = figure.subplots()
axes.plot([s for s, _ in history], [l for _, l in history], color="purple")
axes.set_xlabel("step")
axes.set_ylabel("training loss (price tokens only)")
axes.set_title(f"QLoRA run {config.run_name}")
figure"""),
]

W7D5 = [
    md(f"""
# Week 7, day 5: the fine-tuned model

{badge("week7/day5_inference.ipynb")}

Load the 4-bit base model with the adapter trained on days 3–4, at any pushed revision
(every checkpoint is one), and price the test set two ways: `model_predict` (greedy, read the
number) and `improved_model_predict` (one forward pass, the probability-weighted average of
the three likeliest number tokens). Then: the leaderboard across weeks 6 and 7.
"""),
    code(setup_cell("week7")),
    code(HUB_LOGIN),
    code(WEEK7_CONFIG),
    code("""
ADAPTER = "your-hf-name/pricer-2026-01-01_00.00.00"  # the hub repo (or local folder) of your run
REVISION = None  # a commit id of that repo: an earlier checkpoint; None: the latest

if SMOKE:
    # No hub: train a tiny adapter on the spot (a few seconds) and load it from its folder.
    from helpers.training import TrainConfig, train

    ADAPTER = str(paths.RESULTS / "pricer-smoke")
    train(TrainConfig(base_model=BASE_MODEL, train=str(paths.TRAIN_SAMPLE), output=ADAPTER, max_steps=8,
                      max_length=320, learning_rate=1e-2, wandb=False, save_steps=1000))"""),
    code("""
from helpers.inference import InferenceConfig, Predictors, load_for_inference

config = InferenceConfig(base_model=BASE_MODEL, adapter=ADAPTER, revision=REVISION)
model, tokenizer = load_for_inference(config)
predictors = Predictors(model, tokenizer, config)
print(f"{model.get_memory_footprint() / 1e6:,.1f} MB")"""),
    code(LOAD_HUB_TEST),
    code("""
from helpers.testing import Tester, record

plain = Tester.test(predictors.batched(test[:SIZE]), test, title="fine-tuned model_predict", size=SIZE)
record(plain, RESULTS_KEY)"""),
    code("""
improved = Tester.test(predictors.batched(test[:SIZE], improved=True), test,
                       title="fine-tuned improved_model_predict", size=SIZE)
record(improved, RESULTS_KEY)
print(improved.summary())"""),
    md("""
## Every model, weeks 6 and 7
"""),
    code("""
from helpers.testing import leaderboard

leaderboard(dataset=RESULTS_KEY)"""),
]

NOTEBOOKS = {
    "week6/day1_explore.ipynb": DAY1,
    "week6/day2_curate.ipynb": DAY2,
    "week6/day3_baselines.ipynb": DAY3,
    "week6/day4_frontier.ipynb": DAY4,
    "week6/day5_finetune_frontier.ipynb": DAY5,
    "week7/day1_quantization.ipynb": W7D1,
    "week7/day2_base_model.ipynb": W7D2,
    "week7/day3_4_train.ipynb": W7D34,
    "week7/day5_inference.ipynb": W7D5,
}


def main() -> None:
    check = "--check" in sys.argv
    stale = []
    for path, cells in NOTEBOOKS.items():
        target = HERE / path
        text = nbformat.writes(notebook(path, cells)) + "\n"
        if check:
            if not target.exists() or target.read_text() != text:
                stale.append(path)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        print(f"wrote {target.relative_to(HERE.parent)}")
    if stale:
        sys.exit(f"out of date, run python notebooks/make_notebooks.py: {', '.join(stale)}")


if __name__ == "__main__":
    main()
