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
# # Week 7, day 1: quantisation and LoRA
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week7/day1_quantization.ipynb)
#
# Llama 3.1 8B holds 8 billion parameters: 32 GB in 32-bit floats, 16 GB in bf16. Quantised to
# 8 bits it needs about 9 GB, to 4 bits (NF4, with the quantisation constants themselves
# quantised) about 5.6 GB, which fits a free Colab T4. LoRA then trains a small number of extra
# parameters beside the frozen 4-bit weights: that is QLoRA (Dettmers et al., 2023). Run this on a
# GPU runtime.

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
# ## Three ways to load the same model
#
# bitsandbytes quantises the weights as they are loaded, layer by layer:
#
# - **8 bits**: each weight becomes an 8-bit integer with a scale per row (LLM.int8); the few
#   large "outlier" values stay in 16 bits, which keeps the model's quality.
# - **4 bits, NF4**: 16 levels per weight, not evenly spaced but placed where weights that follow
#   a normal distribution fall most often, with one 32-bit scale for each block of 64 weights:
#   4 + 32/64 = 4.5 bits a weight.
# - **Double quantisation**: the scales themselves quantised to 8 bits, in blocks of 256, which
#   saves another 0.37 bits a weight: about 4.13 in all. For Llama 3.1 8B that is about 3.6 GB for
#   the 7 billion weights of its layers, plus 2.1 GB for the embeddings and the output layer,
#   which stay in 16 bits: the 5.6 GB the course reports.
#
# The computation still runs in 16 bits: each 4-bit block is turned back into bf16 (fp16 on a T4,
# which has no bf16 in hardware; fp32 on a CPU) just before it is multiplied.

# %%
from helpers.language.loading import detect_hardware, load_tokenizer

hardware = detect_hardware()
print(f"{hardware}: {hardware.why}")
tokenizer = load_tokenizer(BASE_MODEL)  # a gated model you have no access to yet: one line saying so

# %%
from helpers.language.loading import QUANTIZATIONS, Hardware
from helpers.plumbing.errors import ConfigError


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
quant_configs = {kind: quantization_config(kind, hardware) for kind in QUANTIZATIONS}
quant_configs["4bit"]

# %% [markdown]
# ## Memory footprint at each precision
#
# Full precision needs a big GPU (an A100 with 40 GB or more); 8 and 4 bits fit anywhere.

# %%
import gc

import torch
from transformers import AutoModelForCausalLM

gpu_gb = torch.cuda.get_device_properties(0).total_memory / 1e9 if hardware.device == "cuda" else 0
CHOICES = ["none", "8bit", "4bit"] if SMOKE or gpu_gb > 40 else ["8bit", "4bit"]
footprints = {}
for choice in CHOICES:
    model = AutoModelForCausalLM.from_pretrained(
        BASE_MODEL, quantization_config=quant_configs[choice], dtype=hardware.compute_dtype, device_map="auto"
    )
    footprints[choice] = model.get_memory_footprint() / 1e6
    print(f"{choice:>5}: {footprints[choice]:,.1f} MB")
    if choice != CHOICES[-1]:
        del model
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

# %%
import matplotlib.pyplot as plt

plt.figure(figsize=(8, 4))
bars = plt.bar(list(footprints), list(footprints.values()), color="teal")
plt.bar_label(bars, labels=[f"{mb:,.0f} MB" for mb in footprints.values()])
plt.title("Memory footprint by quantisation")
plt.ylabel("MB")
plt.show()

# %% [markdown]
# ## The model, read from its config
#
# Parameters counted layer by layer from the config (embeddings, attention with fewer key/value
# heads than query heads, the MLP, the norms), beside the figures of Llama 3.1 8B's model card.
# In smoke mode the tiny stand-in's column shows how small it is.

# %%
import pandas as pd

from helpers.language.model_facts import model_facts
from helpers.presets import LLAMA_31_8B_CARD

facts = model_facts(model.config)
pd.DataFrame({"this model": facts, "Llama 3.1 8B model card": LLAMA_31_8B_CARD}).style.format("{:,}")

# %% [markdown]
# ## The architecture, and what LoRA adds
#
# Each layer's attention has four projections, `q_proj`, `k_proj`, `v_proj` and `o_proj`: in
# 4-bit, they print as `Linear4bit`. LoRA freezes them and adds beside each a low-rank update:
# an r x inputs matrix A and an outputs x r matrix B, whose product has the projection's shape
# and is added to its output, scaled by alpha / r. With r = 32 a 4,096 x 4,096 projection (16.8
# million weights) gets 2 x 32 x 4,096 = 262,144 trainable ones. B starts at zero, so training
# starts from the model exactly as it was.

# %%
model

# %%
from helpers.language.training import TrainConfig

config = TrainConfig.for_preset(PRESET)  # the edition's LoRA values (2024: r=32 on the four attention projections)
count = 0
for name, module in model.named_modules():
    if name.split(".")[-1] in config.target_modules:
        count += config.lora_r * module.in_features + module.out_features * config.lora_r  # A, then B
print(
    f"LoRA with r={config.lora_r} on {', '.join(config.target_modules)} adds {count:,} parameters "
    f"({count * 4 / 1e6:,.1f} MB in 32-bit floats), {count / facts['parameters']:.2%} of the model"
)

# %% [markdown]
# peft builds those matrices and counts what it trains: the same number.

# %%
from peft import LoraConfig, get_peft_model

from helpers.notebook import agree

lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, target_modules=config.target_modules)
trainable, _ = get_peft_model(model, lora).get_nb_trainable_parameters()
agree("LoRA parameters, worked out here and counted by peft", [count], [trainable])

# %% [markdown]
# ## Enough data? A Chinchilla check
#
# Hoffmann et al. (2022) found that a model trains compute-optimally on about 20 tokens per
# parameter. Our training set is far from that for the whole model, one reason not to train all
# of it; for LoRA's few parameters it is another story.

# %%
from helpers.language.model_facts import chinchilla, training_tokens
from helpers.notebook import curated

train = curated("train", store, DATA)
tokens = training_tokens(tokenizer, train)
print("the whole model:", chinchilla(tokens, facts["parameters"]))
print("the LoRA adapter:", chinchilla(tokens, count))
