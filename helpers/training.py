"""QLoRA fine-tuning of the base model on the price prompts, with trl's SFTTrainer.

The course's recipe as one config: LoRA r=32, alpha=64, dropout 0.1 on the attention
projections of a 4-bit base; one epoch, batch 4, learning rate 1e-4 with a cosine schedule
and 3% warm-up, paged AdamW on CUDA, sequences of at most 182 tokens.

What changed since 2024: the loss must fall on the price alone, and the old
DataCollatorForCompletionOnlyLM is gone from trl. Rows are now {"prompt", "completion"}
(the test prompt, and "130.00"), which trl masks by itself. Precision and optimizer follow the
hardware found, so the same code runs on an A100, a T4 and a CPU. Checkpoints are saved every
`save_steps` (and pushed to a private hub repo when asked, each one a revision), and a stopped
run picks up from its last checkpoint with `resume=True`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from helpers import paths
from helpers.errors import ConfigError
from helpers.models import Hardware, detect_hardware
from helpers.presets import BASE_MODEL
from helpers.prompts import COURSE, PromptFormat

if TYPE_CHECKING:
    from datasets import Dataset


def _run_name() -> str:
    return f"{datetime.now():%Y-%m-%d_%H.%M.%S}"


@dataclass
class TrainConfig:
    """Everything about one QLoRA run. Defaults are the course's."""

    train: str = str(paths.TRAIN_SAMPLE)  # items JSONL, or a hub data set id with a "text" column
    base_model: str = BASE_MODEL
    output: str | None = None  # default: results/pricer-<run name>
    run_name: str = field(default_factory=_run_name)
    project: str = "pricer"  # Weights & Biases project
    lora_r: int = 32
    lora_alpha: int = 64
    lora_dropout: float = 0.1
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    quantization: str = "4bit"
    epochs: int = 1
    batch_size: int = 4
    gradient_accumulation_steps: int = 1
    learning_rate: float = 1e-4
    lr_scheduler_type: str = "cosine"
    warmup_ratio: float = 0.03
    optimizer: str = "paged_adamw_32bit"  # on CUDA; the CPU gets adamw_torch
    max_length: int = 182
    weight_decay: float = 0.001
    max_grad_norm: float = 0.3
    max_steps: int = -1  # -1: the whole epoch(s)
    logging_steps: int = 50
    save_steps: int = 2000
    save_total_limit: int = 10
    gradient_checkpointing: bool = True
    seed: int = 42
    wandb: bool = True  # WANDB_MODE=offline logs locally; WANDB_API_KEY from env, .env or Colab
    push: bool = False  # push every checkpoint to a private hub repo
    hub_model: str | None = None  # default: <your hub user>/pricer-<run name>
    resume: bool = False  # carry on from the last checkpoint in `output`

    @property
    def output_dir(self) -> str:
        return self.output or str(paths.results(f"{self.project}-{self.run_name}"))

    @classmethod
    def pipeline_check(cls, **fields) -> TrainConfig:
        """A few quick steps on a tiny random model: proves the plumbing, teaches nothing.
        The tiny tokenizer makes longer prompts than Llama's, and a random model needs a push."""
        settings = dict(max_steps=30, max_length=320, learning_rate=1e-2, wandb=False, logging_steps=5, save_steps=1000)
        return cls(**{**settings, **fields})


def rows_from_items(items) -> Dataset:
    """{"prompt", "completion"} rows: the test prompt, and the price the loss falls on."""
    from datasets import Dataset

    return Dataset.from_dict({"prompt": [i.test_prompt() for i in items], "completion": [i.completion for i in items]})


def training_rows(source: str, prompt_format: PromptFormat = COURSE):
    """A `datasets.Dataset` of {"prompt", "completion"} rows from an items file or the hub
    (a data set whose `text` column holds training prompts written in `prompt_format`)."""
    from helpers.loaders import hub_rows, load_items

    if Path(source).is_file():
        return rows_from_items(load_items(source)[0])
    data = hub_rows(source, "train")
    return data.map(
        lambda row: dict(zip(("prompt", "completion"), prompt_format.split(row["text"]))),
        remove_columns=data.column_names,
    )


def lora_config(config: TrainConfig):
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )


def lora_parameter_count(model, config: TrainConfig) -> int:
    """Parameters LoRA adds: r x (inputs + outputs) for every targeted linear layer."""
    return sum(
        config.lora_r * (module.in_features + module.out_features)
        for name, module in model.named_modules()
        if name.rsplit(".", 1)[-1] in config.target_modules and hasattr(module, "in_features")
    )


def sft_config(config: TrainConfig, hardware: Hardware):
    """trl's SFTConfig for this run on this hardware."""
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
        warmup_steps=config.warmup_ratio,  # a value below 1 is a ratio of the total steps
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        max_length=config.max_length,
        completion_only_loss=True,
        bf16=hardware.bf16,
        fp16=hardware.fp16,
        use_cpu=hardware.device == "cpu",
        **_checkpointing(SFTConfig, config.gradient_checkpointing),
        logging_steps=config.logging_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        report_to=["wandb"] if config.wandb else "none",
        push_to_hub=config.push,
        hub_model_id=config.hub_model if config.push else None,
        hub_strategy="every_save",
        hub_private_repo=True,
        seed=config.seed,
        data_seed=config.seed,
    )


def _checkpointing(config_class, enabled: bool) -> dict:
    """transformers 5.23 renamed gradient checkpointing to activation checkpointing."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(config_class)}
    return {"activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing": enabled}


def _hub_model(config: TrainConfig) -> str:
    if config.hub_model:
        return config.hub_model
    from huggingface_hub import whoami

    return f"{whoami()['name']}/{config.project}-{config.run_name}"


def build_trainer(config: TrainConfig, dataset=None, callbacks=None, hardware: Hardware | None = None):
    """The SFTTrainer, ready to `train()`: base model in `config.quantization`, LoRA on top."""
    from trl import SFTTrainer

    from helpers.models import load_base
    from helpers.secrets import get_secret

    hardware = hardware or detect_hardware()
    if config.wandb:
        os.environ.setdefault("WANDB_PROJECT", config.project)
        key = get_secret("WANDB_API_KEY")
        if key:
            os.environ.setdefault("WANDB_API_KEY", key)
    if config.push:
        config.hub_model = _hub_model(config)
    dataset = dataset if dataset is not None else training_rows(config.train)
    model, tokenizer = load_base(config.base_model, config.quantization)
    check_lengths(dataset, tokenizer, config.max_length)
    return SFTTrainer(
        model=model,
        args=sft_config(config, hardware),
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora_config(config),
        callbacks=callbacks,
    )


def check_lengths(dataset, tokenizer, max_length: int) -> int:
    """How many rows are longer than `max_length` tokens. trl cuts those short and silently drops
    the ones whose price is cut off entirely, so we say so, and refuse when none would be left."""
    lengths = [
        len(tokenizer(prompt + completion + tokenizer.eos_token, add_special_tokens=True)["input_ids"])
        for prompt, completion in zip(dataset["prompt"], dataset["completion"])
    ]
    too_long = sum(length > max_length for length in lengths)
    if too_long == len(lengths):
        raise ConfigError(
            f"every one of {len(lengths)} rows is longer than max_length={max_length} tokens "
            f"(shortest {min(lengths)}): raise max_length"
        )
    if too_long:
        print(
            f"{too_long} of {len(lengths)} rows are longer than max_length={max_length} tokens: "
            f"trl truncates them, and drops those whose price is cut off",
            flush=True,
        )
    return too_long


def last_checkpoint(output_dir: str) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(output_dir) if Path(output_dir).is_dir() else None


def latest_run(project: str = "pricer") -> str | None:
    """The newest results/<project>-* folder that holds a checkpoint: what `--resume` picks up."""
    runs = [p for p in paths.RESULTS.glob(f"{project}-*") if last_checkpoint(str(p))]
    return str(max(runs, key=lambda p: p.stat().st_mtime)) if runs else None


def train(config: TrainConfig, dataset=None, callbacks=None):
    """Train, save the adapter in `config.output_dir` (and push it when asked); returns the trainer."""
    if config.resume and config.output is None:
        config.output = latest_run(config.project)  # None: nothing to resume, a fresh run
    trainer = build_trainer(config, dataset, callbacks)
    checkpoint = last_checkpoint(config.output_dir) if config.resume else None
    if config.resume:
        print(
            f"Resuming from {checkpoint}" if checkpoint else "No checkpoint to resume from: starting afresh", flush=True
        )
    trainer.train(resume_from_checkpoint=checkpoint)
    trainer.save_model(config.output_dir)
    if config.push:
        trainer.push_to_hub(commit_message=f"{config.run_name}: end of training")
    return trainer
