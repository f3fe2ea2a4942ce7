"""QLoRA training of the tiny model through the 4-bit layers, on the CPU, with trl."""

import os

import pytest
from transformers import TrainerCallback

from helpers.language.loading import Hardware
from helpers.language.training import (
    TrainConfig,
    build_trainer,
    check_lengths,
    last_checkpoint,
    lora_config,
    sft_config,
    train,
    training_rows,
)
from helpers.language.training import rows_from_items as rows
from helpers.plumbing import paths
from helpers.plumbing.errors import ConfigError

CPU = Hardware("cpu", "CPU", bf16=False, fp16=False)


def tiny_config(model_dir, output, **overrides) -> TrainConfig:
    """The pipeline check, smaller still: LoRA r=8, every step logged, no warm-up."""
    values = dict(lora_r=8, lora_alpha=16, logging_steps=1, warmup_ratio=0.0, batch_size=4)
    return TrainConfig.pipeline_check(base_model=str(model_dir), output=str(output), **{**values, **overrides})


def test_the_course_defaults():
    config = TrainConfig()
    lora = lora_config(config)
    assert (lora.r, lora.lora_alpha, lora.lora_dropout) == (32, 64, 0.1)
    assert set(lora.target_modules) == {"q_proj", "k_proj", "v_proj", "o_proj"}
    args = sft_config(config, CPU)
    assert (args.num_train_epochs, args.per_device_train_batch_size, args.gradient_accumulation_steps) == (1, 4, 1)
    assert args.learning_rate == 1e-4 and args.lr_scheduler_type == "cosine" and args.warmup_steps == 0.03
    assert (args.max_length, args.weight_decay, args.max_grad_norm) == (182, 0.001, 0.3)
    assert (args.save_steps, args.save_total_limit) == (2000, 10)
    assert args.completion_only_loss is True


def test_the_cpu_gets_no_mixed_precision_and_no_paged_optimizer():
    args = sft_config(TrainConfig(), CPU)
    assert not args.bf16 and not args.fp16 and args.use_cpu
    assert args.optim == "adamw_torch"


def test_the_pipeline_check_is_the_course_recipe_cut_short():
    check, course = TrainConfig.pipeline_check(), TrainConfig()
    assert (check.max_steps, check.max_length, check.learning_rate, check.wandb) == (30, 320, 1e-2, False)
    assert (check.lora_r, check.target_modules, check.batch_size) == (course.lora_r, course.target_modules, 4)


def test_rows_are_prompt_and_price(bundled_train):
    data = training_rows(str(paths.TRAIN_SAMPLE))
    assert data.column_names == ["prompt", "completion"]
    assert data[0]["prompt"] == bundled_train[0].test_prompt() and data[0]["prompt"].endswith("Price is $")
    assert data[0]["completion"] == f"{round(bundled_train[0].price)}.00"


def test_hub_style_text_rows_split_at_the_last_prefix(bundled_train, tmp_path):
    from helpers.data.curation import to_dataset_dict

    to_dataset_dict(bundled_train[:3], bundled_train[3:4])["train"].to_parquet(str(tmp_path / "hub" / "train.parquet"))
    data = training_rows(str(tmp_path / "hub"))  # a folder in the hub's layout, read by `datasets`
    assert data["prompt"] == [item.test_prompt() for item in bundled_train[:3]]
    assert data["completion"] == [item.completion for item in bundled_train[:3]]


def test_labels_mask_every_prompt_token_and_keep_the_price(tiny_model_dir, tmp_path, bundled_train):
    trainer = build_trainer(tiny_config(tiny_model_dir, tmp_path), rows(bundled_train[:4]))
    example = trainer.train_dataset[0]
    batch = trainer.data_collator([example])
    labels, ids = batch["labels"][0].tolist(), batch["input_ids"][0].tolist()
    kept = [(i, token) for i, (token, label) in enumerate(zip(ids, labels)) if label != -100]
    tokenizer = trainer.processing_class
    assert tokenizer.decode([token for _, token in kept]) == bundled_train[0].completion + tokenizer.eos_token
    prompt_length = len(tokenizer(bundled_train[0].test_prompt())["input_ids"])
    assert kept[0][0] == prompt_length and all(label == -100 for label in labels[:prompt_length])


def test_a_few_steps_on_a_memorisable_set_lower_the_loss(tiny_model_dir, tmp_path, bundled_train):
    trainer = train(tiny_config(tiny_model_dir, tmp_path, max_steps=24), rows(bundled_train[:4]))
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert len(losses) == 24
    assert sum(losses[-4:]) / 4 < sum(losses[:4]) / 4 - 0.2
    assert (tmp_path / "adapter_model.safetensors").exists()


class StopAt(TrainerCallback):
    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt  # the session died here


class RecordSteps(TrainerCallback):
    def __init__(self):
        self.steps = []

    def on_step_end(self, args, state, control, **kwargs):
        self.steps.append(state.global_step)


def test_an_interrupted_run_resumes_from_its_checkpoint(tiny_model_dir, tmp_path, bundled_train):
    config = tiny_config(tiny_model_dir, tmp_path, max_steps=6, save_steps=3)
    with pytest.raises(KeyboardInterrupt):
        train(config, rows(bundled_train[:8]), callbacks=[StopAt(4)])
    assert last_checkpoint(str(tmp_path)).endswith("checkpoint-3")
    recorder = RecordSteps()
    config.resume = True
    trainer = train(config, rows(bundled_train[:8]), callbacks=[recorder])
    assert recorder.steps == [4, 5, 6]
    assert trainer.state.global_step == 6


def test_resuming_a_run_that_reached_max_steps_trains_no_further(tiny_model_dir, tmp_path, bundled_train, capsys):
    config = tiny_config(tiny_model_dir, tmp_path, max_steps=4, save_steps=2)
    finished = train(config, rows(bundled_train[:8]))
    adapter = (tmp_path / "adapter_model.safetensors").read_bytes()
    recorder = RecordSteps()
    config.resume = True
    again = train(config, rows(bundled_train[:8]), callbacks=[recorder])
    assert recorder.steps == [] and again.state.global_step == 4
    assert "already reached --max-steps 4: nothing more to train" in capsys.readouterr().out
    losses = [[entry["loss"] for entry in run.state.log_history if "loss" in entry] for run in (finished, again)]
    assert losses[0] == losses[1] and len(losses[0]) == 4
    assert (tmp_path / "adapter_model.safetensors").read_bytes() == adapter


def test_weights_and_biases_logs_offline(tiny_model_dir, tmp_path, bundled_train, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.delenv("WANDB_PROJECT", raising=False)
    train(tiny_config(tiny_model_dir, tmp_path / "run", max_steps=2, wandb=True), rows(bundled_train[:4]))
    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    assert os.environ["WANDB_PROJECT"] == "pricer"


def test_rows_too_long_for_max_length_are_reported_and_all_too_long_refused(tiny_model_dir, bundled_train, capsys):
    from helpers.language.loading import load_tokenizer

    tokenizer = load_tokenizer(str(tiny_model_dir))
    data = rows(bundled_train[:10])
    assert check_lengths(data, tokenizer, 400) == 0
    with pytest.raises(ConfigError, match="every one of 10 rows is longer than max_length=50 tokens"):
        check_lengths(data, tokenizer, 50)
    some = check_lengths(data, tokenizer, 240)
    assert 0 < some < 10 and f"{some} of 10 rows are longer than max_length=240" in capsys.readouterr().out


def test_wandb_without_a_key_or_mode_logs_offline_and_says_so(tiny_model_dir, tmp_path, first_training_items):
    import subprocess
    import sys

    from helpers.cli.config import as_flags

    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(HOME=str(tmp_path), WANDB_DIR=str(tmp_path), HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    rows = first_training_items(40)  # two steps need a few rows, not the whole sample
    flags = as_flags(tiny_config(tiny_model_dir, tmp_path / "run", max_steps=2, wandb=True, train=str(rows)))
    run = subprocess.run(
        [sys.executable, "-m", "helpers", "train", *flags],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"W&B: no WANDB_API_KEY and no WANDB_MODE, so logging offline to {tmp_path}/wandb" in run.stdout
    assert len(list((tmp_path / "wandb").glob("offline-run-*"))) == 1


def test_wandb_online_without_a_key_stops_before_any_work(tiny_model_dir, tmp_path, monkeypatch):
    from helpers.plumbing.errors import SecretError

    for name in ("WANDB_API_KEY", "WANDB_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    monkeypatch.setattr("helpers.plumbing.secrets._colab_secret", lambda name: None)
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setattr("helpers.plumbing.paths.ROOT", tmp_path)
    with pytest.raises(SecretError, match="^WANDB_MODE=online but WANDB_API_KEY is not set"):
        train(tiny_config(tiny_model_dir, tmp_path / "run", wandb=True, train="/nonexistent/never/read.jsonl"))


@pytest.mark.parametrize(
    "key, why",
    [
        ("d41d8cd98f", "API key must have 40+ characters, has 10"),  # cut short when pasted
        ("d41d8cd98f00b204e9800998ecf8427ed41d8cd98f\n", "it starts or ends with a space or a newline"),
    ],
)
def test_a_malformed_wandb_key_stops_before_any_work_without_showing_it(
    tiny_model_dir, tmp_path, monkeypatch, key, why
):
    from helpers.plumbing.errors import SecretError

    monkeypatch.setenv("WANDB_API_KEY", key)
    with pytest.raises(SecretError) as error:
        train(tiny_config(tiny_model_dir, tmp_path / "run", wandb=True, train="/nonexistent/never/read.jsonl"))
    assert str(error.value) == f"WANDB_API_KEY is malformed: {why}; copy it again, or train with --no-wandb"
    assert key.strip() not in str(error.value)


def pretend_gpu(monkeypatch, name: str, capability: tuple[int, int]) -> Hardware:
    """The CUDA queries answer as on that card (bf16 'support' says True, as on a real T4)."""
    import torch

    from helpers.language.loading import detect_hardware

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: name)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index=0: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: None)  # what TrainingArguments does next
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    return detect_hardware()


def lora_model(tiny_model_dir):
    """The tiny 4-bit model with LoRA weights in bf16, as trl leaves them on a quantised model."""
    import torch
    from peft import get_peft_model

    from helpers.language.loading import load_base

    model = get_peft_model(load_base(str(tiny_model_dir), "4bit")[0], lora_config(TrainConfig()))
    for parameter in model.parameters():
        if parameter.requires_grad:
            parameter.data = parameter.data.to(torch.bfloat16)
    return model


def test_a_t4_trains_in_fp16_with_fp32_lora_weights(monkeypatch, tiny_model_dir):
    from helpers.language.training import keep_adapter_precision

    model = lora_model(tiny_model_dir)  # loaded on the CPU, before the GPU is pretended
    t4 = pretend_gpu(monkeypatch, "Tesla T4", (7, 5))
    args = sft_config(TrainConfig(), t4)
    assert (args.fp16, args.bf16, args.use_cpu) == (True, False, False)
    assert args.optim == "paged_adamw_32bit"  # works on a T4
    assert keep_adapter_precision(model, t4) == "float32"
    assert "compute capability 7.5 is below 8.0" in t4.why


def test_an_a100_trains_in_bf16_and_keeps_trls_bf16_lora_weights(monkeypatch, tiny_model_dir):
    from helpers.language.training import keep_adapter_precision

    model = lora_model(tiny_model_dir)
    a100 = pretend_gpu(monkeypatch, "NVIDIA A100-SXM4-40GB", (8, 0))
    args = sft_config(TrainConfig(), a100)
    assert (args.fp16, args.bf16) == (False, True)
    assert keep_adapter_precision(model, a100) == "bfloat16"


def test_on_the_cpu_the_lora_weights_train_in_fp32(tiny_model_dir, tmp_path, bundled_train, capsys):
    trainer = build_trainer(tiny_config(tiny_model_dir, tmp_path), rows(bundled_train[:4]))
    import torch

    assert {p.dtype for p in trainer.model.parameters() if p.requires_grad} == {torch.float32}
    assert (
        "Precision on CPU: no GPU: fp32, the CPU's own precision (LoRA weights in float32)" in capsys.readouterr().out
    )


def test_a_run_says_its_steps_and_how_long_they_will_take(tiny_model_dir, tmp_path, bundled_train, capsys):
    import re

    trainer = train(tiny_config(tiny_model_dir, tmp_path, max_steps=9, train_size=8), rows(bundled_train[:10]))
    out = capsys.readouterr().out
    assert "Training on a sample of 8 of the 10 rows (seed 42)" in out
    assert "9 steps in all, 4 rows a step" in out
    assert re.search(r"about \d+\.\d\d s a step: the remaining 2 steps take about \d+ s", out)
    assert trainer.state.global_step == 9


def test_the_step_bar_says_it_counts_training_steps(tiny_model_dir, tmp_path, bundled_train, capsys):
    train(tiny_config(tiny_model_dir, tmp_path, max_steps=2), rows(bundled_train[:4]))
    assert "QLoRA training steps: 100%" in capsys.readouterr().err


HOLDS_THE_FOLDER = """
import sys, time
from helpers.language.training import one_run
with one_run(sys.argv[1]):
    print("training", flush=True)
    time.sleep(60)
"""


def test_a_second_run_into_the_same_folder_at_once_is_refused_in_one_line(tiny_model_dir, tmp_path):
    import subprocess
    import sys

    output = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-c", HOLDS_THE_FOLDER, str(output)], stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline() == "training\n"
        second = subprocess.run(
            [sys.executable, "-m", "helpers", "train", "--base-model", str(tiny_model_dir), "--output", str(output)],
            capture_output=True,
            text=True,
        )
    finally:
        first.kill()
        first.wait()
    assert second.returncode == 2
    assert (
        second.stderr
        == f"error: another run is training into {output} now: let it finish, or choose another --output\n"
    )
    assert not output.exists()  # nothing of the second run was written


def test_an_output_that_is_a_file_is_one_line_before_the_model_loads(tmp_path):
    import subprocess
    import sys

    output = tmp_path / "notes.txt"
    output.write_text("mine")
    nowhere = tmp_path / "no-model"  # were the model loaded first, this would be the error
    run = subprocess.run(
        [sys.executable, "-m", "helpers", "train", "--base-model", str(nowhere), "--output", str(output)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    refused = f"error: --output {output} is a file: training writes a folder there, so choose another path"
    assert run.stderr.splitlines()[-1] == refused
    assert output.read_text() == "mine"


def test_a_training_file_with_no_usable_item_is_one_line_with_its_skip_report(tmp_path):
    from helpers.language.training import training_rows
    from helpers.plumbing.errors import DataError

    path = tmp_path / "train.jsonl"
    path.write_text('{"title": "no price, no text"}\n')
    with pytest.raises(DataError, match=r"train.jsonl holds no usable item to train on \(.*read 1, kept 0, skipped 1"):
        training_rows(str(path))
