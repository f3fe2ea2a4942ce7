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

REPO = "pricer-course/pricer"  # GitHub owner/name: change it here if you work from a fork
if "google.colab" in sys.modules:
    if not os.path.exists("/content/pricer"):
        subprocess.run(["git", "clone", "-q", f"https://github.com/{REPO}", "/content/pricer"], check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", "/content/pricer"], check=True)
    sys.path.insert(0, "/content/pricer")

from helpers.notebook import setup

SMOKE = setup()  # charts inline; smoke mode (PRICER_SMOKE=1) runs offline on the bundled sample

# %%
from helpers.notebook import base_model

# Llama 3.1 8B (gated: accept the licence on the hub first). In smoke mode a tiny random
# Llama-shaped model with a locally trained tokenizer stands in, with the bundled sample:
# every number it produces tests the code, not a model.
BASE_MODEL = base_model()
DATASET = "your-hf-name/pricer-data"  # the data set week 6 day 2 pushed (text, price, category)
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
    f"({count * 4 / 1e6:,.1f} MB in 32-bit floats)"
)
