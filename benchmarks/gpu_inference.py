"""GPU benchmark: prices per second, one item against batched, and QLoRA training throughput,
on a randomly initialised model of Llama 3.1 8B's shape loaded in 4 bits (no weights needed).

    python benchmarks/gpu_inference.py [--items 64] [--batch-sizes 8 32] [--train-steps 20]

Runs only where CUDA is present (`--shape tiny` runs the same code on a CPU, as a check).
The tokenizer is the tiny offline one, so prompts are about 240 tokens rather than Llama's
170, and a random model's replies are not prices: the figures are throughput, not accuracy.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from helpers.plumbing import paths

SHAPES = {
    "llama-3.1-8b": dict(
        hidden_size=4096,
        intermediate_size=14336,
        num_hidden_layers=32,
        num_attention_heads=32,
        num_key_value_heads=8,
        vocab_size=128256,
        rope_theta=500000.0,
        rms_norm_eps=1e-5,
    ),
    "tiny": dict(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=4096,
    ),
}


def build_random_model(folder: Path, shape: str) -> None:
    """Tokenizer plus random bf16 weights of the given shape, saved so `load_base` can quantise them."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from helpers.offline.tiny import build_tokenizer

    tokenizer = build_tokenizer(folder)
    if (folder / "config.json").exists():
        return
    config = LlamaConfig(
        **SHAPES[shape],
        max_position_embeddings=8192,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config.vocab_size = max(config.vocab_size, len(tokenizer))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM._from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(str(folder), max_shard_size="5GB")
    del model
    if device == "cuda":
        torch.cuda.empty_cache()


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _peak_gb() -> float:
    return torch.cuda.max_memory_allocated() / 1e9 if torch.cuda.is_available() else float("nan")


def _reset_peak() -> None:
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def timed(fn, *args) -> tuple[float, object]:
    _sync()
    start = time.perf_counter()
    out = fn(*args)
    _sync()
    return time.perf_counter() - start, out


def one_at_a_time(predictor, items) -> list:
    return [predictor(item) for item in items]


def agreement(singles: list, batched: list) -> str:
    same = sum(
        (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-3 * max(1, abs(a)))
        for a, b in zip(singles, batched)
    )
    return f"{same}/{len(singles)}"


class StepClock:
    """Tokens per second after the first steps (which pay for warm-up), from the trainer's logs."""

    def __new__(cls):
        from transformers import TrainerCallback

        class _Clock(TrainerCallback):
            def __init__(self):
                self.marks: list[tuple[float, float]] = []

            def on_log(self, args, state, control, logs=None, **kwargs):
                if logs and "num_tokens" in logs:
                    _sync()
                    self.marks.append((time.perf_counter(), float(logs["num_tokens"])))

            def steady_rate(self) -> float:
                marks = self.marks[len(self.marks) // 4 :]
                (t0, n0), (t1, n1) = marks[0], marks[-1]
                return (n1 - n0) / (t1 - t0)

        return _Clock()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=list(SHAPES), default="llama-3.1-8b")
    parser.add_argument("--workdir", default=None, help="where the random model is saved (default: a temp folder)")
    parser.add_argument("--items", type=int, default=64)
    parser.add_argument("--single-items", type=int, default=16)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 32, 64])
    parser.add_argument("--train-steps", type=int, default=40)
    parser.add_argument("--train-batch-size", type=int, default=4)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    if args.shape != "tiny" and not torch.cuda.is_available():
        print("benchmarks/gpu_inference.py needs a CUDA GPU for the 8B shape; nothing to do here.")
        return

    from helpers.data.item_files import load_items
    from helpers.language.inference import InferenceConfig, Predictors
    from helpers.language.loading import detect_hardware, load_base, memory_mb
    from helpers.language.training import TrainConfig, build_trainer

    hardware = detect_hardware()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="pricer-bench-"))
    seconds, _ = timed(build_random_model, work, args.shape)
    print(f"random {args.shape} model ready in {seconds:.0f}s at {work}", flush=True)
    _reset_peak()
    seconds, (model, tokenizer) = timed(load_base, str(work), "4bit")
    figures: dict = {
        "gpu": hardware.name,
        "shape": args.shape,
        "load_seconds": round(seconds, 1),
        "footprint_mb": round(memory_mb(model), 1),
        "peak_gb_after_load": round(_peak_gb(), 2),
    }
    items = load_items(paths.TEST_SAMPLE)[0][: args.items]
    predictors = Predictors(model, tokenizer, InferenceConfig(max_new_tokens=3))
    singles = items[: args.single_items]
    rows = []
    for predictor in (predictors.model_predict, predictors.improved_model_predict):
        name = predictor.__name__
        predictor(singles[0])  # warm-up
        _reset_peak()
        seconds, single_answers = timed(one_at_a_time, predictor, singles)
        rows.append((name, 1, len(singles) / seconds, _peak_gb()))
        for size in args.batch_sizes:
            predictor.batch_size = size
            _reset_peak()
            seconds, answers = timed(predictor.predict_batch, items)
            rows.append((name, size, len(items) / seconds, _peak_gb()))
            figures[f"{name}_batch{size}_agreement"] = agreement(single_answers, answers[: len(singles)])
    figures["inference"] = [
        dict(predictor=n, batch=b, items_per_s=round(r, 2), peak_gb=round(p, 2)) for n, b, r, p in rows
    ]

    del predictors, model
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    with tempfile.TemporaryDirectory() as output:
        config = TrainConfig.pipeline_check(
            base_model=str(work),
            train=str(paths.TRAIN_SAMPLE),
            output=output,
            max_steps=args.train_steps,
            batch_size=args.train_batch_size,
            save_steps=10**9,
            logging_steps=1,
        )
        clock = StepClock()
        trainer = build_trainer(config, callbacks=[clock])
        _reset_peak()
        seconds, _ = timed(trainer.train)
    figures["training"] = dict(
        steps=args.train_steps,
        batch=args.train_batch_size,
        seconds=round(seconds, 1),
        tokens_per_s=round(clock.steady_rate(), 1),
        peak_gb=round(_peak_gb(), 2),
    )

    print(f"\n{hardware} | {args.shape} in 4-bit NF4 | footprint {figures['footprint_mb']:,.0f} MB")
    print(f"{'predictor':<24} {'batch':>5} {'items/s':>9} {'peak GB':>8}")
    for name, size, rate, peak in rows:
        print(f"{name:<24} {size:>5} {rate:>9.2f} {peak:>8.2f}")
    t = figures["training"]
    print(
        f"QLoRA training: {t['tokens_per_s']:,.0f} tokens/s after warm-up (batch {t['batch']}, {t['steps']} steps, "
        f"{t['seconds']:.0f}s in all), peak {t['peak_gb']:.2f} GB"
    )
    print("batched agrees with one-at-a-time:", {k: v for k, v in figures.items() if k.endswith("agreement")})
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
