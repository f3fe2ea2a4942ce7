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

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.core.leaderboard import rows_key
from helpers.core.prompts import PROMPT_2024, PromptFormat
from helpers.data.hub_datasets import hub_training_rows
from helpers.data.item_files import load_items
from helpers.language.checkpoints import (
    STEP,
    TRAINED_ON,
    check_compatible,
    checkpoints,
    clear_run,
    fetch_from_store,
    holds_a_run,
    newest_intact,
    store_callback,
    store_key,
)
from helpers.language.loading import Hardware, detect_hardware, distributed, load_base
from helpers.plumbing import paths
from helpers.plumbing.errors import ConfigError, DataError, SecretError
from helpers.plumbing.files import atomic_folder, quoted_disk_errors
from helpers.plumbing.secrets import get_secret
from helpers.plumbing.store import Store, open_store
from helpers.presets import BASE_MODEL, COURSE_2024, preset

if TYPE_CHECKING:
    from datasets import Dataset

LATEST_RUN = "runs/latest"  # the store's note of the newest run's name, for week 7 day 5


def _run_name() -> str:
    return f"{datetime.now():%Y-%m-%d_%H.%M.%S}"


@dataclass
class TrainConfig:
    """Everything about one QLoRA run. Defaults are the course's."""

    train: str = str(paths.TRAIN_SAMPLE)  # items JSONL, or a hub data set (any of the course's layouts)
    base_model: str = BASE_MODEL  # hub id or local folder of the open model to fine-tune
    preset: str | None = None  # course-2024 or course-2025: its prompt reads the hub data set's rows
    output: str | None = None  # the adapter's folder (default: results/pricer-<run name>)
    run_name: str = field(
        default_factory=_run_name
    )  # names the run in W&B and the default output folder (default: the time now)
    project: str = "pricer"  # the Weights & Biases project
    # the QLoRA values default to the 2024 edition's (helpers.presets owns each edition's)
    lora_r: int = COURSE_2024.training["lora_r"]  # LoRA rank: the size of the low-rank update matrices
    lora_alpha: int = COURSE_2024.training["lora_alpha"]  # LoRA scaling: the update is multiplied by alpha / r
    lora_dropout: float = COURSE_2024.training["lora_dropout"]  # dropout on the LoRA layers' input
    target_modules: list[str] = field(
        default_factory=lambda: list(COURSE_2024.training["target_modules"])
    )  # the projections that get LoRA matrices (2024: the attention's)
    quantization: str = "4bit"  # how the base model's weights are loaded (4bit: NF4, as QLoRA)
    epochs: int = COURSE_2024.training["epochs"]  # passes over the training rows
    batch_size: int = COURSE_2024.training["batch_size"]  # rows a step on each device
    gradient_accumulation_steps: int = 1  # steps whose gradients add up before the optimizer moves
    learning_rate: float = COURSE_2024.training["learning_rate"]  # the peak learning rate, after warm-up
    lr_scheduler_type: str = "cosine"  # how the learning rate falls after warm-up (a transformers scheduler name)
    warmup_ratio: float = COURSE_2024.training["warmup_ratio"]  # share of the steps over which the rate rises from 0
    optimizer: str = "paged_adamw_32bit"  # a transformers optimizer name; on a CPU a paged one becomes adamw_torch
    max_length: int = COURSE_2024.training["max_length"]  # tokens a row is cut to (2024's prompts fit in 182)
    weight_decay: float = 0.001  # the optimizer's weight decay
    max_grad_norm: float = 0.3  # gradients are clipped to this norm
    max_steps: int = -1  # -1: the whole epoch(s)
    train_size: int | None = None  # train on a seeded sample of this many rows (None: all of them)
    logging_steps: int = 50  # steps between two loss lines (and W&B points)
    save_steps: int = 2000  # steps between two checkpoints
    save_total_limit: int = 10  # checkpoints kept; older ones are deleted
    gradient_checkpointing: bool = True  # recompute activations in the backward pass: less memory, about 30% slower
    seed: int = 42  # seeds the LoRA initialisation, the data order and the training sample
    wandb: bool = True  # WANDB_MODE=offline logs locally; WANDB_API_KEY from env, .env or Colab
    push: bool = False  # push every checkpoint to a private hub repo
    hub_model: str | None = None  # the hub repo --push writes to (default: <your hub user>/pricer-<run name>)
    resume: bool = False  # carry on from the newest intact checkpoint in `output`, else in the store
    store: str | None = None  # a folder or hf://NAMESPACE: checkpoints and the adapter go there too
    overwrite: bool = False  # start afresh in an `output` that holds an earlier run (its checkpoints go)

    @property
    def output_dir(self) -> str:
        return self.output or str(paths.results(f"{self.project}-{self.run_name}"))

    @property
    def prompt_format(self) -> PromptFormat:

        return preset(self.preset).prompt if self.preset else PROMPT_2024

    @classmethod
    def for_preset(cls, name: str, lite: bool = False, **fields) -> TrainConfig:
        """The course edition's base model, training data and QLoRA values (its lite run's, with
        `lite`, where it has one), with these fields changed."""

        chosen = preset(name)
        data = (chosen.lite_prompts_dataset or chosen.lite_dataset) if lite else None
        data = data or chosen.prompts_dataset or chosen.dataset
        values = chosen.lite_training if lite and chosen.lite_training else chosen.training
        return cls(**{**values, "base_model": chosen.base_model, "train": data, "preset": name, **fields})

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


def training_rows(source: str, prompt_format: PromptFormat = PROMPT_2024):
    """A `datasets.Dataset` of {"prompt", "completion"} rows from an items file or the hub
    (a data set whose `text` column holds training prompts written in `prompt_format`)."""

    if Path(source).is_file():
        items, report = load_items(source)
        if report.read != report.kept:
            print(report, flush=True)  # no row is dropped silently
        if not items:
            raise DataError(f"{source} holds no usable item to train on ({report})")
        return rows_from_items(items)
    return hub_training_rows(source, prompt_format)


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


def checkpointing(enabled: bool) -> dict:
    """SFTConfig's gradient checkpointing flag, by the name this transformers gives it: 5.23
    renamed it activation checkpointing (the old name still works, with a warning, until v6)."""
    import dataclasses

    from trl import SFTConfig

    names = {f.name for f in dataclasses.fields(SFTConfig)}
    return {"activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing": enabled}


def hub_model(config: TrainConfig) -> str:
    """The hub repo checkpoints are pushed to: `config.hub_model`, else <your hub user>/pricer-<run name>."""
    if config.hub_model:
        return config.hub_model
    from huggingface_hub import whoami

    return f"{whoami()['name']}/{config.project}-{config.run_name}"


def build_trainer(config: TrainConfig, dataset=None, callbacks=None, hardware: Hardware | None = None):
    """The SFTTrainer that the command line's `train` runs: the base model in
    `config.quantization`, LoRA on top, `lora_config(config)` and `sft_config(config, hardware)`.
    Week 7 days 3-4 build the same trainer in their cells."""

    hardware = hardware or detect_hardware()
    if config.wandb:
        wandb_mode(config.project)
    dataset = sample_rows(dataset if dataset is not None else training_rows(config.train, config.prompt_format), config)
    from trl import SFTTrainer  # after the data is read: a missing file should not wait for trl

    model, tokenizer = load_base(config.base_model, config.quantization)
    check_lengths(dataset, tokenizer, config.max_length)
    trainer = SFTTrainer(
        model=model,
        args=sft_config(config, hardware),
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora_config(config),
        callbacks=[*(callbacks or []), *run_callbacks(config)],
    )
    keep_adapter_precision(trainer.model, hardware)
    name_progress(trainer)
    trainer.trained_on = rows_key(dataset["prompt"], dataset["completion"])  # before trl drops any row
    return trainer


def name_progress(trainer, name: str = "QLoRA training steps") -> None:
    """The trainer's step bar says what it counts: in the main job it follows other bars, and a
    bare "3/30" could be any of them."""
    from transformers.trainer_callback import ProgressCallback

    class Named(ProgressCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            super().on_train_begin(args, state, control, **kwargs)
            if self.training_bar is not None:
                self.training_bar.set_description(name)

    if trainer.pop_callback(ProgressCallback) is not None:  # none where tqdm is turned off
        trainer.add_callback(Named())


def sample_rows(dataset, config: TrainConfig):
    """A seeded sample of `config.train_size` rows, when there are more: a run that fits a session."""
    if config.train_size and config.train_size < len(dataset):
        print(f"Training on a sample of {config.train_size:,} of the {len(dataset):,} rows (seed {config.seed})")
        return dataset.shuffle(seed=config.seed).select(range(config.train_size))
    return dataset


def run_callbacks(config: TrainConfig) -> list:
    """What a run needs beside the trainer: a clock that estimates the time left, and, with a
    store, a copy of every checkpoint there as soon as it is saved."""
    callbacks = [step_clock()]
    if config.store:
        callbacks.append(store_callback(open_store(config.store), config.output_dir))
    return callbacks


def step_clock():
    """A trainer callback that says how many steps the run has, and, once a few steps are timed,
    how long the rest will take: so a learner knows early whether it fits a Colab session."""
    import time

    from transformers import TrainerCallback

    class Clock(TrainerCallback):
        warm_up, measured = 2, 5  # the first steps pay for set-up; the next ones are timed

        def __init__(self):
            self.seen, self.started = 0, 0.0

        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                print(f"{state.max_steps:,} steps in all, {args.per_device_train_batch_size} rows a step", flush=True)

        def on_step_end(self, args, state, control, **kwargs):
            self.seen += 1
            if self.seen == self.warm_up:
                self.started = time.perf_counter()
            elif self.seen == self.warm_up + self.measured and state.is_world_process_zero:
                seconds = (time.perf_counter() - self.started) / self.measured
                left = (state.max_steps - state.global_step) * seconds
                print(
                    f"about {seconds:.2f} s a step: the remaining {state.max_steps - state.global_step:,} steps "
                    f"take about {_duration(left)} of computing, plus each checkpoint's save (and copy to the store)",
                    flush=True,
                )

    return Clock()


def _duration(seconds: float) -> str:
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min" if minutes else f"{seconds:.0f} s"


def keep_adapter_precision(model, hardware: Hardware) -> str:
    """Put the LoRA weights in the precision the hardware trains in, and say so. trl stores a
    quantised model's LoRA weights in bf16, the QLoRA paper's choice. That only suits bf16
    hardware: fp16 mixed precision (a T4) needs fp32 weights for its gradient scaler, and a CPU
    computes in fp32. There they go back to fp32. Returns the dtype they are in."""
    import torch

    if not hardware.bf16:
        for parameter in model.parameters():
            if parameter.requires_grad and parameter.dtype != torch.float32:
                parameter.data = parameter.data.float()
    dtypes = "/".join(sorted({str(p.dtype).removeprefix("torch.") for p in model.parameters() if p.requires_grad}))
    print(f"Precision on {hardware.name}: {hardware.why} (LoRA weights in {dtypes})", flush=True)
    return dtypes


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


def wandb_mode(project: str) -> None:
    """Settle how Weights & Biases logs before any model is loaded, so that it never prompts for
    a key or fails after minutes of work: a key (environment, .env, Colab) logs online; a chosen
    WANDB_MODE is kept; with neither, it logs offline and says so."""

    os.environ.setdefault("WANDB_PROJECT", project)
    key = get_secret("WANDB_API_KEY")
    if key:
        check_wandb_key(key)
        os.environ.setdefault("WANDB_API_KEY", key)
        return
    mode = os.environ.get("WANDB_MODE", "").lower()
    if mode == "online" and not _wandb_login_saved():
        raise SecretError("WANDB_MODE=online but WANDB_API_KEY is not set: add it, or use WANDB_MODE=offline")
    if not mode and not _wandb_login_saved():
        os.environ["WANDB_MODE"] = "offline"
        where = os.environ.get("WANDB_DIR", ".")
        print(
            f"W&B: no WANDB_API_KEY and no WANDB_MODE, so logging offline to {where}/wandb "
            "(upload later with `wandb sync`; --no-wandb turns it off)",
            flush=True,
        )


def check_wandb_key(key: str) -> None:
    """A key pasted with a space or a newline, or cut short, is one line before the model loads,
    saying what is wrong with it by wandb's own rules, never the key itself."""
    problem = "it starts or ends with a space or a newline" if key != key.strip() else None
    if problem is None:
        try:
            from wandb.sdk.lib.wbauth.validation import check_api_key
        except ImportError:  # another wandb release: its own check applies when the run starts
            return
        problem = check_api_key(key)
    if problem:
        raise SecretError(f"WANDB_API_KEY is malformed: {problem.rstrip('.')}; copy it again, or train with --no-wandb")


def _wandb_login_saved() -> bool:
    """`wandb login` keeps the key in ~/.netrc."""
    import netrc

    try:
        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        return False


def last_checkpoint(output_dir: str) -> str | None:
    """The newest intact checkpoint in `output_dir`, passing over partial ones with a line."""

    checkpoint = newest_intact(output_dir)
    return str(checkpoint) if checkpoint else None


def latest_run(project: str = "pricer") -> str | None:
    """The newest results/<project>-* folder that holds a checkpoint: what `--resume` picks up."""

    runs = [p for p in paths.results().glob(f"{project}-*") if checkpoints(p)]
    return str(max(runs, key=lambda p: p.stat().st_mtime)) if runs else None


def resolve_output(config: TrainConfig) -> None:
    """`--resume` without `--output` carries on the newest run of the project (if any)."""
    if config.resume and config.output is None:
        config.output = latest_run(config.project)  # None: nothing to resume, a fresh run


@contextlib.contextmanager
def one_run(output: str | Path) -> Iterator[None]:
    """One training run per output folder at a time: a second run into the same folder is
    refused in one line rather than mixing its checkpoints with the first's. Under `accelerate
    launch` the main process of each machine holds it for the others."""
    from filelock import FileLock, Timeout

    if not distributed().is_local_main_process:
        yield
        return
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(output.parent / f".{output.name}.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ConfigError(
            f"another run is training into {output} now: let it finish, or choose another --output"
        ) from None
    try:
        yield
    finally:
        lock.release()


def starting_point(config: TrainConfig) -> str | None:
    """The checkpoint to resume from (None: a fresh run), after checking that the output
    folder may be used: a fresh run never mixes its checkpoints with an earlier run's."""

    resolve_output(config)
    output = config.output_dir
    if Path(output).is_file():
        raise ConfigError(f"--output {output} is a file: training writes a folder there, so choose another path")
    if not config.resume:
        if holds_a_run(output) and not config.overwrite:
            raise ConfigError(
                f"{output} holds an earlier run: pass --resume to carry it on, --overwrite to start afresh there, "
                "or another --output"
            )
        if config.store:
            claim_store_run(open_store(config.store), output, config.overwrite)
        if config.overwrite:
            clear_run(output)
        return None
    checkpoint = last_checkpoint(output)
    if checkpoint is None and config.store:
        fetched = fetch_from_store(open_store(config.store), output)
        checkpoint = str(fetched) if fetched else None
    if checkpoint is None:
        where = f"{output} or the store" if config.store else output
        print(f"No checkpoint to resume from in {where}: starting afresh", flush=True)
        return None
    lora = {"r": config.lora_r, "lora_alpha": config.lora_alpha, "target_modules": list(config.target_modules)}
    check_compatible(Path(checkpoint), config.base_model, lora)
    print(f"Resuming from {checkpoint}", flush=True)
    return checkpoint


def claim_store_run(store: Store, output: str, overwrite: bool) -> None:
    """A fresh run whose name the store already holds would replace, checkpoint by checkpoint, the
    run another machine stored there (after a lost runtime, a notebook's fresh start): refused,
    unless `--overwrite` asks for it by name, when the stored run goes first."""
    key = store_key(output)
    if not store.names(key):
        return
    if not overwrite:
        raise ConfigError(
            f"the store {store} already holds a run named {Path(output).name} ({key}): pass --resume to carry it "
            "on, --overwrite to replace it, or another --run-name (or --output)"
        )
    store.delete(key)


def train(config: TrainConfig, dataset=None, callbacks=None, trainer=None):
    """The command line's `train`: where to start (a fresh run, or resumed), the trainer (the
    `trainer` given, else `build_trainer`), training, then the adapter saved (`save_adapter`).
    Returns the trainer, with `resumed_from_step` set (None for a fresh run)."""

    resolve_output(config)
    with one_run(config.output_dir):
        with distributed().main_process_first():  # under `accelerate launch`, one process clears or fetches
            checkpoint = starting_point(config)
        trainer = trainer or build_trainer(config, dataset, callbacks)
        trainer.resumed_from_step = int(STEP.match(Path(checkpoint).name)[1]) if checkpoint else None
        if checkpoint and 0 < config.max_steps <= trainer.resumed_from_step:
            from transformers import TrainerState

            print(f"{checkpoint} already reached --max-steps {config.max_steps}: nothing more to train", flush=True)
            trainer._load_from_checkpoint(checkpoint)  # its weights become the adapter, as when it finished
            trainer.state = TrainerState.load_from_json(str(Path(checkpoint) / "trainer_state.json"))
        else:
            with quoted_disk_errors(config.output_dir):  # a checkpoint's safetensors on a full disk
                trainer.train(resume_from_checkpoint=checkpoint)
        with quoted_disk_errors(config.output_dir):
            save_adapter(trainer, config)
    return trainer


def save_adapter(trainer, config: TrainConfig) -> Path:
    """The trained adapter in `config.output_dir` (whole or not at all), in the store with this run
    noted as the newest for week 7 day 5, and pushed to the hub when asked."""

    with atomic_folder(config.output_dir, last=("adapter_config.json",)) as folder:
        trainer.save_model(str(folder))
        learnt = getattr(trainer, "trained_on", None)  # the rows handed to the trainer, when built here
        learnt = learnt or trained_on(trainer.train_dataset, getattr(trainer.processing_class, "eos_token", None))
        (folder / TRAINED_ON).write_text(learnt, encoding="utf-8")
        if config.store and trainer.state.is_world_process_zero:
            store, key = open_store(config.store), store_key(config.output_dir)
            store.put(folder, f"{key}/adapter")
            store.write_text(Path(config.output_dir).name, LATEST_RUN)
            print(f"the adapter is in the store {store} as {key}/adapter", flush=True)
    if config.push:
        trainer.push_to_hub(commit_message=f"{config.run_name}: end of training")
    return Path(config.output_dir)


def trained_on(dataset, eos_token: str | None = None) -> str:
    """The leaderboard key of the rows a trainer kept (after any sample), for the adapter: the
    same as the items' (`training_key`), once the end-of-text token trl adds is taken off, unless
    trl dropped a row whose price the length limit cut off."""
    if dataset is None or not {"prompt", "completion"} <= set(dataset.column_names):
        return ""
    completions = [text.removesuffix(eos_token) if eos_token else text for text in dataset["completion"]]
    return rows_key(dataset["prompt"], completions)


def run_summary(trainer, config: TrainConfig) -> dict:
    """What a finished run reports: its adapter, its steps, where it resumed, its first and last loss."""
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return {
        "adapter": config.output_dir,
        "steps": trainer.state.global_step,
        "resumed_from_step": trainer.resumed_from_step,
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
    }
