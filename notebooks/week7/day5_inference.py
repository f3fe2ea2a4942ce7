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
# # Week 7, day 5: the fine-tuned model
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week7/day5_inference.ipynb)
#
# Load the 4-bit base model with the adapter trained on days 3–4 (from the store), or the
# instructor's adapter at its fixed revision (`ADAPTER = PRESET`), and price the test set two
# ways, both written here: `model_predict` (greedy, read the number) and `improved_model_predict`
# (one forward pass, the probability-weighted average of the three likeliest number tokens). Then
# the same two, batched, over every test item; and the leaderboard across weeks 6 and 7.
#
# For context: the course's fine-tuned Llama 3.1 8B (2024) reached $46.67 average error on its
# 250 test items, against gpt-4o-mini's $80 and the base model's $395.72.

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
from helpers.notebook import base_model
from helpers.presets import preset

PRESET = "course-2024"  # the course's edition: "course-2024" (Llama 3.1 8B) or "course-2025" (Llama 3.2 3B)
DATA = None  # None: week 6 day 2's items from the store; PRESET: the edition's own curated data set
# The base model is gated: accept its licence on the hub first. In smoke mode a tiny random
# Llama-shaped model with a locally trained tokenizer stands in, with the bundled sample: every
# number it produces tests the code, not a model.
BASE_MODEL = base_model(preset(PRESET).base_model)
print(f"base model: {BASE_MODEL}")

# %%
from helpers.notebook import adapter, smoke_adapter

ADAPTER = None  # None: the newest run days 3-4 put in the store; PRESET: the instructor's adapter
if ADAPTER is None:
    smoke_adapter(store, BASE_MODEL)  # smoke mode with no run in the store: a tiny adapter trained here (seconds)
ADAPTER_PATH, REVISION = adapter(store, ADAPTER)

# %% [markdown]
# ## The base model and the adapter
#
# The base model in 4 bits, as on day 1, then the LoRA adapter on top with peft: its small
# matrices are added beside the frozen projections they were trained for. A hub adapter is read
# at a fixed `revision` (a commit, or a checkpoint's branch), so the results can be reproduced.

# %%
from helpers.language.loading import QUANTIZATIONS, Hardware, detect_hardware
from helpers.plumbing.errors import ConfigError

hardware = detect_hardware()


# %%
# as in helpers.language.loading: quantization_config
def quantization_config(kind: str, hardware: Hardware):
    """A BitsAndBytesConfig for "4bit" (NF4, double quantisation) or "8bit"; None for "none"."""
    from transformers import BitsAndBytesConfig

    if kind not in QUANTIZATIONS:
        raise ConfigError(f"quantization must be one of {', '.join(QUANTIZATIONS)}, not {kind!r}")
    if kind == "4bit":
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_use_double_quant=True,  # the blocks' scales quantised too
            bnb_4bit_compute_dtype=hardware.compute_dtype,  # bf16 on Ampere and newer, fp16 on a T4, fp32 on a CPU
            bnb_4bit_quant_type="nf4",  # 4-bit NormalFloat, not evenly spaced integers
        )
    if kind == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return None  # the weights as they are stored: 16 bits on a GPU, 32 on a CPU


# %%
from peft import PeftModel
from transformers import AutoModelForCausalLM

from helpers.language.inference import check_adapter
from helpers.language.loading import load_tokenizer

quant_config = quantization_config("4bit", hardware)
tokenizer = load_tokenizer(BASE_MODEL)  # with a pad token, which Llama lacks; one line if the model is gated
base = AutoModelForCausalLM.from_pretrained(
    BASE_MODEL, quantization_config=quant_config, dtype=hardware.compute_dtype, device_map="auto"
)
check_adapter(ADAPTER_PATH, REVISION)  # one line if there is no adapter there, rather than peft's traceback
model = PeftModel.from_pretrained(base, ADAPTER_PATH, revision=REVISION).eval()  # eval: dropout off
print(f"Memory footprint: {model.get_memory_footprint() / 1e6:,.1f} MB")

# %%
from helpers.notebook import curated, scored_size

test, validation = curated("test", store, DATA), curated("validation", store, DATA)
SIZE = scored_size()  # the Tester's 250 items; 50 in smoke mode, on the CPU

# %% [markdown]
# ## `model_predict`
#
# The model writes a few tokens after "Price is $", greedily (always the likeliest token, so the
# same item always gets the same answer), and the first number in them is the price.

# %%
import torch

from helpers.core.items import Item


def model_predict(item: Item) -> float | None:
    inputs = tokenizer(item.test_prompt(), return_tensors="pt").to(model.device)
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=3, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    reply = tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    return item.prompt_format.price_in(reply)  # the first number after "Price is $", else the first number


# %% [markdown]
# ## `improved_model_predict`
#
# `model_predict` keeps only the likeliest token. But the model's last layer scores *every*
# possible next token; softmax turns the scores into probabilities, and often the runner-up is
# nearly as likely: "99" at 40%, "89" at 35%, "129" at 10%. Averaging the top K tokens that are
# numbers, each weighted by its probability, hedges between them (here (99 × 0.40 + 89 × 0.35 +
# 129 × 0.10) / 0.85, about $98.41) rather than
# betting everything on one. It helps most where the model is unsure, and it needs each price to
# be a single token, which Llama 3's tokenizer gives up to $999 (day 2). One forward pass, no
# generation: faster too.

# %%
item = test[0]
inputs = tokenizer(item.test_prompt(), return_tensors="pt").to(model.device)
with torch.no_grad():
    logits = model(**inputs).logits[0, -1]  # the scores of every token the model could write next
top = torch.softmax(logits.float(), dim=-1).topk(3)
for probability, token in zip(top.values.tolist(), top.indices.tolist()):
    print(f"next token {tokenizer.decode([token])!r:>8} with probability {probability:.3f}")
print(f"truth ${item.price:,.2f}")


# %%
def improved_model_predict(item: Item, top_k: int = 3) -> float | None:
    inputs = tokenizer(item.test_prompt(), return_tensors="pt").to(model.device)
    with torch.no_grad():
        logits = model(**inputs).logits[0, -1]
    top = torch.softmax(logits.float(), dim=-1).topk(top_k)
    prices, weights = [], []
    for probability, token in zip(top.values.tolist(), top.indices.tolist()):
        try:
            price = float(tokenizer.decode([token]))
        except ValueError:
            continue  # not a number: a space, "$", a word
        if price > 0:
            prices.append(price)
            weights.append(probability)
    if not prices:
        return None  # no number among the top K: a failure, which the Tester counts
    return sum(price * weight for price, weight in zip(prices, weights)) / sum(weights)


# %%
print(
    f"model_predict: {model_predict(item)}, improved_model_predict: {improved_model_predict(item)}, truth: {item.price}"
)

# %% [markdown]
# ## Both through the Tester

# %%
from helpers.core.answers import score_and_keep
from helpers.language.checkpoints import adapter_trained_on
from helpers.notebook import labelled

LEARNT = adapter_trained_on(ADAPTER_PATH)  # the key of the rows it trained on, kept beside the adapter
PLAIN, IMPROVED = labelled("fine-tuned model_predict"), labelled("fine-tuned improved_model_predict")
plain = score_and_keep(model_predict, test, store, title=PLAIN, size=SIZE, trained_on=LEARNT)

# %%
improved = score_and_keep(improved_model_predict, test, store, title=IMPROVED, size=SIZE, trained_on=LEARNT)

# %% [markdown]
# The validation items too, for week 8's ensemble (the model never trained on them).

# %%
from helpers.core.answers import remember

remember(IMPROVED, improved_model_predict, validation, store)

# %% [markdown]
# ## Faster: the same two, batched
#
# One item at a time leaves most of a GPU idle. The command line's `predict` asks for a batch of
# prompts at once (left padding, so that every prompt ends where its answer starts, and position
# ids that skip the padding): the same answers, many times faster. First it must agree with the
# functions above on the first items. (`max_number_tokens=1` is the course's method exactly; above
# 1, helpers also follows a number written over several tokens, for digit-by-digit tokenizers.)

# %%
from helpers.language.inference import InferenceConfig, Predictors
from helpers.notebook import agree

batched = Predictors(model, tokenizer, InferenceConfig(base_model=BASE_MODEL, max_number_tokens=1))
first = test[:10]
agree("model_predict, here and batched", map(model_predict, first), batched.model_predict.predict_batch(first))
agree(
    "improved_model_predict, here and batched",
    map(improved_model_predict, first),
    batched.improved_model_predict.predict_batch(first),
)

# %% [markdown]
# Then every test item: 2,000 in full mode. The interval narrows as the items grow: with 250
# items, models a few dollars apart cannot be told apart; with 2,000 they often can.

# %%
every = score_and_keep(
    batched.improved_model_predict,
    test,
    store,
    title=f"{IMPROVED}, every test item",
    size=len(test),
    trained_on=LEARNT,
    keep=False,  # the same model's answers are kept under its own name above
)
print(improved.summary())
print(every.summary())

# %% [markdown]
# ## Every model, weeks 6 and 7

# %%
from helpers.core.leaderboard import leaderboard

leaderboard(store, dataset=improved.dataset)
