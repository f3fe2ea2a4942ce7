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
# tokens only. Every checkpoint (with the optimizer, scheduler and trainer state) goes to the
# store as soon as it is saved, so if Colab takes the runtime away, a new one carries on: set
# `RESUME = True` and run the notebook again. Progress goes to Weights & Biases (`WANDB`; the
# key from Colab's secrets, else it logs offline and says so), and with `PUSH = True` every
# checkpoint is also pushed to a private hub repo, each one a revision you can load on day 5.
#
# An epoch of 400,000 items takes many hours on a T4: by default this trains on 20,000 of them,
# as the course's learners do, and prints its time estimate after the first steps.

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

# %% [markdown]
# ## The run
#
# A run's name is its folder in the store: keep it to carry a run on, change it to start another.

# %%
from helpers import paths
from helpers.notebook import store_spec, training_data
from helpers.training import TrainConfig

RUN = "pricer-run-1"  # a new name for a new run; the same name, with RESUME, to carry one on
RESUME = False  # True after a lost runtime: carry on from the newest checkpoint in the store
TRAIN_SIZE = 20_000  # rows to train on: fits a Colab session; None for the full epoch
WANDB = True  # log to Weights & Biases (offline, and said so, without WANDB_API_KEY)
PUSH = False  # True: every checkpoint to a private hub repo as well, each one a revision

run = dict(train=training_data(DATA), output=str(paths.results(RUN)), run_name=RUN, store=store_spec(), resume=RESUME)
config = TrainConfig.for_preset(PRESET, base_model=BASE_MODEL, train_size=TRAIN_SIZE, wandb=WANDB, push=PUSH, **run)
if SMOKE:  # a pipeline check: a handful of steps, longer sequences for the tiny tokenizer; W&B offline
    config = TrainConfig.pipeline_check(
        base_model=BASE_MODEL, max_steps=8, logging_steps=1, save_steps=4, wandb=True, overwrite=not RESUME, **run
    )
    os.environ.setdefault("WANDB_DIR", str(paths.results()))
config

# %% [markdown]
# ## LoRA, and what the trainer will do on this hardware
#
# The `LoraConfig` says which layers get adapters and how big; the `SFTConfig` holds the training
# settings: bf16 on Ampere and newer GPUs, fp16 on a T4 (its compute capability 7.5 has no bf16),
# full precision on a CPU; the paged 32-bit AdamW optimizer only where there is CUDA. Both are
# built from `config`; change a field of either here and the trainer below uses it.

# %%
from helpers.training import lora_config

lora = lora_config(config)
lora

# %%
from helpers.models import detect_hardware
from helpers.training import sft_config

hardware = detect_hardware()
print(hardware.why)
args = sft_config(config, hardware)
print(
    f"bf16={args.bf16} fp16={args.fp16} optimizer={args.optim} learning rate={args.learning_rate} "
    f"schedule={args.lr_scheduler_type} warm-up={args.warmup_steps} batch={args.per_device_train_batch_size}"
)

# %% [markdown]
# ## The trainer
#
# trl's `SFTTrainer` loads the base model in 4 bits, puts LoRA on top and reads the rows as
# {"prompt", "completion"}: the labels hide every prompt token, so the model is only ever graded
# on the price it writes.

# %%
from helpers.training import build_trainer

trainer = build_trainer(config, lora=lora, args=args)
batch = trainer.data_collator([trainer.train_dataset[0]])  # one row as the trainer will see it
ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
graded = [token for token, label in zip(ids, labels) if label != -100]
print(f"{len(trainer.train_dataset):,} rows; the first ends {trainer.processing_class.decode(ids[-12:])!r}")
print(f"of its {len(ids)} tokens the loss grades {len(graded)}: {trainer.processing_class.decode(graded)!r}")
trainer.model.print_trainable_parameters()

# %% [markdown]
# ## Train
#
# (On a cloud box with several GPUs, train data parallel from a terminal instead:
# `accelerate launch --multi_gpu --num_processes N -m helpers train ...`, one process a GPU.)
#
# Checkpoints go to the store as they are saved; at the end so does the adapter, and the store
# notes this run as the newest for day 5.

# %%
from helpers.training import train

trainer = train(config, trainer=trainer)
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
