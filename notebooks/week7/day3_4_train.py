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
# # Week 7, days 3–4: QLoRA training
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week7/day3_4_train.ipynb)
#
# The course's recipe on today's libraries: the 4-bit base, LoRA r=32 on the attention
# projections, one epoch at learning rate 1e-4 with a cosine schedule, the loss on the price
# tokens only. Progress goes to Weights & Biases (project `pricer`; `WANDB_API_KEY` in Colab's
# secrets), and with `PUSH = True` every checkpoint is pushed to a private hub repo, each one a
# revision you can load on day 5. If the runtime dies, set `config.resume = True` and run again:
# training carries on from the last checkpoint.
#
# An epoch of 400,000 items takes many hours on a T4; start with `config.max_steps` set low.

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
from helpers import paths
from helpers.notebook import base_model

# Llama 3.1 8B (gated: accept the licence on the hub first). In smoke mode a tiny random
# Llama-shaped model with a locally trained tokenizer stands in, with the bundled sample:
# every number it produces tests the code, not a model.
BASE_MODEL = base_model()
DATASET = "your-hf-name/pricer-data"  # the data set week 6 day 2 pushed (text, price, category)
print(f"base model: {BASE_MODEL}")

# %%
from helpers.training import TrainConfig

PUSH = False  # True: every checkpoint to a private hub repo <you>/pricer-<run name>
config = TrainConfig(base_model=BASE_MODEL, train=DATASET, push=PUSH)
if SMOKE:
    # A pipeline check: a handful of steps, longer sequences for the tiny tokenizer; W&B offline.
    config = TrainConfig.pipeline_check(
        base_model=BASE_MODEL,
        train=str(paths.TRAIN_SAMPLE),
        max_steps=8,
        logging_steps=1,
        save_steps=4,
        wandb=True,
        output=str(paths.results("pricer-smoke")),
        overwrite=True,  # a smoke run may run again
    )
    os.environ.setdefault("WANDB_DIR", str(paths.results()))
config

# %% [markdown]
# ## What the trainer will do on this hardware
#
# bf16 on Ampere and newer GPUs, fp16 on a T4, full precision on a CPU; the paged 32-bit AdamW
# optimizer only where there is CUDA.

# %%
from helpers.models import detect_hardware
from helpers.training import sft_config, training_rows

hardware = detect_hardware()
args = sft_config(config, hardware)
print(
    f"{hardware}: bf16={args.bf16} fp16={args.fp16} optimizer={args.optim} "
    f"warm-up={args.warmup_steps} schedule={args.lr_scheduler_type}"
)
rows = training_rows(config.train)
print(rows)
print(rows[0]["prompt"][-80:], "->", repr(rows[0]["completion"]))

# %% [markdown]
# ## Train
#
# The labels hide every prompt token: the model is only ever graded on the price it writes.

# %%
from helpers.training import train

trainer = train(config, rows)
print(f"adapter saved in {config.output_dir}")

# %%
from matplotlib.figure import Figure

history = [(e["step"], e["loss"]) for e in trainer.state.log_history if "loss" in e]
figure = Figure(figsize=(10, 4))
axes = figure.subplots()
axes.plot([s for s, _ in history], [loss for _, loss in history], color="purple")
axes.set_xlabel("step")
axes.set_ylabel("training loss (price tokens only)")
axes.set_title(f"QLoRA run {config.run_name}")
figure
