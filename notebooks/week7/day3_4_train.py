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
# # Week 7, days 3–4: QLoRA training
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week7/day3_4_train.ipynb)
#
# The course's recipe on today's libraries, each edition's own values (`helpers.presets` holds
# them): the 4-bit base; in 2024 LoRA r=32 on the attention projections, one epoch of batch 4,
# rows cut at 182 tokens; in 2025 the lite run's r=32, one epoch of batch 32, and the full run's
# r=256 on the attention and MLP projections, three epochs of batch 256, rows cut at 128 tokens
# (warm-up over 1% of the steps); always learning rate 1e-4 with a cosine schedule, the loss on
# the price tokens only. Every checkpoint (with the optimizer, scheduler and trainer state) goes to the
# store as soon as it is saved, so if Colab takes the runtime away, a new one carries on: set
# `RESUME = True` and run the notebook again. Progress goes to Weights & Biases (`WANDB`; the
# key from Colab's secrets, else it logs offline and says so), and with `PUSH = True` every
# checkpoint is also pushed to a private hub repo, each one a revision you can load on day 5.
#
# An epoch of 400,000 items takes many hours on a T4: by default this trains on 20,000 of them,
# as the course's learners do, and prints its time estimate after the first steps.
#
# You build the three objects trl needs, with the course's values: a `LoraConfig` (what to
# train), an `SFTConfig` (how), and the `SFTTrainer` that puts them to work. The first two are
# built by functions the command line's `train` runs too: the cells that start `# as in
# helpers.language.training: ...` are copies of them, kept in step by a test; edit them here to try other
# settings. helpers does what no lesson is about: reading the data, the store, resuming, the
# time estimate.

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
# ## The run
#
# A run's name is its folder in the store: keep it to carry a run on, change it to start another.
# `config` holds the course's values (one owner: the command line's `train` reads the same); the
# cells below build the trainer from it.

# %%
import os

from helpers.language.training import TrainConfig
from helpers.notebook import training_data
from helpers.plumbing import paths

RUN = "pricer-run-1"  # a new name for a new run; the same name, with RESUME, to carry one on
RESUME = False  # True after a lost runtime: carry on from the newest checkpoint in the store
LITE = True  # course-2025 only: its lite run (r 32, 1 epoch, batch 32); False: its full run (an A100's work)
TRAIN_SIZE = 20_000  # rows to train on: fits a Colab session; None for the full epoch
WANDB = True  # log to Weights & Biases (offline, and said so, without WANDB_API_KEY)
PUSH = False  # True: every checkpoint to a private hub repo as well, each one a revision

run = dict(
    train=training_data(store, DATA), output=str(paths.results(RUN)), run_name=RUN, store=store.spec, resume=RESUME
)
config = TrainConfig.for_preset(
    PRESET, lite=LITE, base_model=BASE_MODEL, train_size=TRAIN_SIZE, wandb=WANDB, push=PUSH, **run
)  # the edition's values: lora_r, target_modules, epochs, batch_size, max_length, ...
if SMOKE:  # a pipeline check: a handful of steps, longer sequences for the tiny tokenizer; W&B offline
    config = TrainConfig.pipeline_check(
        base_model=BASE_MODEL, logging_steps=2, save_steps=15, wandb=True, overwrite=not RESUME, **run
    )
    os.environ.setdefault("WANDB_DIR", str(paths.results()))
config

# %% [markdown]
# ## The data: a prompt and its completion
#
# Each row is the test prompt, ending "Price is $", and the completion the model should write:
# the price in whole dollars. Kept apart, the trainer can tell which tokens are the answer.

# %%
from helpers.language.training import sample_rows, training_rows

rows = sample_rows(training_rows(config.train, config.prompt_format), config)  # TRAIN_SIZE of them, seeded
print(f"{len(rows):,} rows; the first:")
print(f"{rows[0]['prompt'][-120:]!r} -> {rows[0]['completion']!r}")

# %% [markdown]
# ## LoRA: what to train
#
# - `r`, the rank: each adapted projection gets two thin matrices, r x inputs and outputs x r. A
#   larger r can learn more, at more memory and time; 32 is the 2024 edition's choice and the
#   2025 lite run's, 256 the 2025 full run's (day 1 counted what it adds).
# - `lora_alpha`: their product is scaled by alpha / r (64 / 32 = 2) before it is added, so
#   that r can change without retuning the learning rate.
# - `target_modules`: which layers get adapters. The four attention projections of every layer;
#   adding the MLP's (`gate_proj`, `up_proj`, `down_proj`) trains more at more cost.
# - `lora_dropout`: 10% of the adapters' inputs dropped at random while training, against
#   overfitting.

# %%
from helpers.language.loading import Hardware
from helpers.language.training import TrainConfig, checkpointing, hub_model


# %%
# as in helpers.language.training: lora_config
def lora_config(config: TrainConfig):
    """What to train: small matrices of rank r beside the target projections."""
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )


# %%
lora = lora_config(config)
lora.r, lora.lora_alpha, sorted(lora.target_modules)


# %% [markdown]
# ## SFTConfig: how to train
#
# One epoch in batches of 4 at a learning rate of 1e-4. The rate warms up over the first 3% of
# the steps (large updates to a model not yet used to the data do harm), then follows a cosine
# curve down to zero by the end of the epoch. Precision follows the hardware: bf16 on Ampere and
# newer GPUs, fp16 on a T4 (its compute capability 7.5 has no bf16 in hardware, though
# `torch.cuda.is_bf16_supported()` says True), full precision on a CPU. The paged 32-bit AdamW
# optimizer moves its state to the CPU when the GPU runs short, which only CUDA can do.
# Gradient checkpointing recomputes activations in the backward pass rather than keeping them:
# slower, but it fits a T4.


# %%
# as in helpers.language.training: sft_config
def sft_config(config: TrainConfig, hardware: Hardware):
    """How to train: trl's SFTConfig for this run on this hardware."""
    from trl import SFTConfig

    optimizer = config.optimizer
    if hardware.device != "cuda" and optimizer.startswith("paged_"):
        optimizer = "adamw_torch"  # paged optimizers need CUDA
    return SFTConfig(
        output_dir=config.output_dir,
        run_name=config.run_name,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        optim=optimizer,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler_type,
        warmup_steps=config.warmup_ratio,  # a value below 1 is a share of the total steps
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        max_length=config.max_length,
        completion_only_loss=True,  # the loss falls on the completion, the price, alone
        bf16=hardware.bf16,
        fp16=hardware.fp16,
        use_cpu=hardware.device == "cpu",
        **checkpointing(config.gradient_checkpointing),  # activation_checkpointing since transformers 5.23
        logging_steps=config.logging_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        report_to=["wandb"] if config.wandb else "none",
        push_to_hub=config.push,
        hub_model_id=hub_model(config) if config.push else None,
        hub_strategy="every_save",  # each checkpoint a revision on the hub
        hub_private_repo=True,
        seed=config.seed,
        data_seed=config.seed,
        ddp_find_unused_parameters=False,  # data parallel: every LoRA weight is used in every step
    )


# %%
from helpers.language.loading import detect_hardware

hardware = detect_hardware()
print(hardware.why)
args = sft_config(config, hardware)

# %% [markdown]
# ## The trainer
#
# A run that was started before (`RESUME`) carries on from its newest intact checkpoint, here or
# in the store; a fresh run refuses a folder that holds another run's checkpoints. Then the base
# model, in 4 bits as on day 1, and trl's `SFTTrainer`, which puts LoRA on top and reads the rows
# as prompt and completion.

# %%
from trl import SFTTrainer

from helpers.language.loading import load_base
from helpers.language.training import check_lengths, keep_adapter_precision, run_callbacks, starting_point, wandb_mode

checkpoint = starting_point(config)  # None for a fresh run
if config.wandb:
    wandb_mode(config.project)  # a key from Colab's secrets logs online; without one, offline (and says so)
model, tokenizer = load_base(config.base_model, config.quantization)
check_lengths(rows, tokenizer, config.max_length)  # trl silently drops rows whose price is cut off: counted here
trainer = SFTTrainer(
    model=model,
    args=args,
    train_dataset=rows,
    processing_class=tokenizer,
    peft_config=lora,
    callbacks=run_callbacks(config),  # the time estimate, and each checkpoint copied to the store
)
keep_adapter_precision(trainer.model, hardware)  # fp32 LoRA weights where the hardware has no bf16
trainer.model.print_trainable_parameters()

# %% [markdown]
# ## Only the price is graded
#
# The loss is the model's surprise at each token it should have written. Graded on the whole
# prompt, most of the training would go into predicting product descriptions, which we do not
# care about; graded on the price alone, every step teaches pricing. The trainer does this by
# labelling every prompt token -100, the value the loss skips: here is one row as it sees it.

# %%
batch = trainer.data_collator([trainer.train_dataset[0]])
ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
graded = [token for token, label in zip(ids, labels) if label != -100]
print(f"the row ends {tokenizer.decode(ids[-12:])!r}")
print(f"of its {len(ids)} tokens the loss grades {len(graded)}: {tokenizer.decode(graded)!r}")

# %% [markdown]
# ## Train
#
# (On a cloud box with several GPUs, train data parallel from a terminal instead:
# `accelerate launch --multi_gpu --num_processes N -m helpers train ...`, one process a GPU.)
#
# Checkpoints go to the store as they are saved; at the end so does the adapter, and the store
# notes this run as the newest for day 5.

# %%
from helpers.language.training import save_adapter

trainer.train(resume_from_checkpoint=checkpoint)
print(f"the adapter is in {save_adapter(trainer, config)}")

# %% [markdown]
# The training loss, and the learning rate's warm-up and cosine decay. For context, the course's
# 2024 run (one epoch of 400,000 items on an A100) brought the fine-tuned Llama 3.1 8B to $46.67
# average error on its 250 test items, from the base model's $395.72.

# %%
import matplotlib.pyplot as plt

logged = [entry for entry in trainer.state.log_history if "loss" in entry]
steps = [entry["step"] for entry in logged]
figure, (left, right) = plt.subplots(1, 2, figsize=(14, 4))
left.plot(steps, [entry["loss"] for entry in logged], color="purple")
left.set(xlabel="step", ylabel="training loss (price tokens only)", title=f"QLoRA run {config.run_name}")
right.plot(steps, [entry["learning_rate"] for entry in logged], color="teal")
right.set(xlabel="step", ylabel="learning rate", title="warm-up, then cosine decay")
plt.show()
