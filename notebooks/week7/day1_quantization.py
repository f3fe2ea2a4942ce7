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
# # Week 7, day 1: quantisation and LoRA
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week7/day1_quantization.ipynb)
#
# Llama 3.1 8B holds 8 billion parameters: 32 GB in 32-bit floats, 16 GB in bf16. Quantised to
# 8 bits it needs about 9 GB, to 4 bits (NF4, with the quantisation constants themselves
# quantised) about 5.6 GB, which fits a free Colab T4. LoRA then trains a small number of extra
# parameters beside the frozen 4-bit weights: that is QLoRA. Run this on a GPU runtime.

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
import gc

import torch

from helpers.models import detect_hardware

hardware = detect_hardware()
gpu_gb = torch.cuda.get_device_properties(0).total_memory / 1e9 if hardware.device == "cuda" else 0
# Full precision needs a big GPU (an A100 40GB or better); 8 and 4 bits fit anywhere.
CHOICES = ["none", "8bit", "4bit"] if SMOKE or gpu_gb > 40 else ["8bit", "4bit"]
print(f"{hardware}; trying {', '.join(CHOICES)}")

# %% [markdown]
# ## Memory footprint at each precision

# %%
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
            torch.cuda.empty_cache()

# %%
from matplotlib.figure import Figure

figure = Figure(figsize=(8, 4))
axes = figure.subplots()
bars = axes.bar(list(footprints), list(footprints.values()), color="teal")
axes.bar_label(bars, labels=[f"{v:,.0f} MB" for v in footprints.values()])
axes.set_title("Memory footprint by quantisation")
figure

# %% [markdown]
# ## The model, read from its config
#
# Parameters counted layer by layer from the config (embeddings, attention with fewer key/value
# heads than query heads, the MLP, the norms), beside the figures of Llama 3.1 8B's model card.
# In smoke mode the tiny stand-in's column shows how small it is.

# %%
import pandas as pd

from helpers.presets import LLAMA_31_8B_CARD
from helpers.tokenization import model_facts

facts = model_facts(model.config)
pd.DataFrame({"this model": facts, "Llama 3.1 8B model card": LLAMA_31_8B_CARD}).style.format("{:,}")

# %% [markdown]
# ## The architecture, and what LoRA adds
#
# The attention projections `q_proj`, `k_proj`, `v_proj` and `o_proj` of every layer get two
# small matrices, r x inputs and outputs x r, with r = 32. Only those train.

# %%
model

# %%
from helpers.training import TrainConfig, lora_parameter_count

config = TrainConfig()
count = lora_parameter_count(model, config)
print(
    f"LoRA with r={config.lora_r} on {', '.join(config.target_modules)} adds {count:,} parameters "
    f"({count * 4 / 1e6:,.1f} MB in 32-bit floats), {count / facts['parameters']:.2%} of the model"
)

# %% [markdown]
# ## Enough data? A Chinchilla check
#
# Hoffmann et al. (2022) found that a model trains compute-optimally on about 20 tokens per
# parameter. Our training set is far from that for the whole model, one reason not to train all
# of it; for LoRA's few parameters it is another story.

# %%
from helpers.notebook import curated
from helpers.tokenization import chinchilla, training_tokens

train = curated("train", DATA)
tokens = training_tokens(tokenizer, train)
print("the whole model:", chinchilla(tokens, facts["parameters"]))
print("the LoRA adapter:", chinchilla(tokens, count))
