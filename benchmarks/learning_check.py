"""Does QLoRA fine-tuning teach a real model prices? SmolLM2-135M, before and after, offline.

    python benchmarks/learning_check.py [--steps 20] [--batch-size 8] [--items 50] [--device-items 500]

Fine-tunes the real offline model (`python -m helpers offline-model`) in 4 bits on the bundled
training set for `--steps` steps, and scores the base and the fine-tuned model with both
predictors on the first `--items` test items. Prints a table, and writes the training loss
curve (loss.png) and the figures (figures.json) to `--out`. On a CUDA machine it runs the same
code on the GPU; pass more steps and `--items 500` (the whole test set) there.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from helpers.plumbing import paths


def score(base_model: str, adapter: str | None, items, batch_size: int) -> dict:
    from helpers.core.tester import Tester
    from helpers.language.inference import InferenceConfig, Predictors, load_for_inference

    config = InferenceConfig(base_model=base_model, adapter=adapter, batch_size=batch_size)
    predictors = Predictors(*load_for_inference(config), config)
    figures = {}
    for predictor in (predictors.model_predict, predictors.improved_model_predict):
        start = time.perf_counter()
        result = Tester(predictor, items, size=len(items), verbose=False).run()
        figures[predictor.__name__] = {
            "average_error": round(result.average_error, 2),
            "rmsle": round(result.rmsle, 3),
            "hit_rate": round(result.hit_rate, 1),
            "failures": result.failure_count,
            "seconds": round(time.perf_counter() - start, 1),
        }
    return figures


def loss_chart(losses: list[tuple[int, float]], path: Path) -> None:
    from matplotlib.figure import Figure

    from helpers.plumbing.files import save_figure

    figure = Figure(figsize=(8, 4))
    axes = figure.subplots()
    axes.plot([step for step, _ in losses], [loss for _, loss in losses], color="purple", marker=".")
    axes.set_xlabel("step")
    axes.set_ylabel("training loss (price tokens only)")
    axes.set_title("QLoRA on SmolLM2-135M, 4-bit: the learning check")
    save_figure(figure, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="the offline model's folder (default: built in --out)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--max-length", type=int, default=320)
    parser.add_argument("--items", type=int, default=50, help="test items scored (500: all of them)")
    parser.add_argument("--predict-batch", type=int, default=8)
    parser.add_argument("--out", default=str(paths.results("learning_check")))
    args = parser.parse_args()

    from helpers.data.item_files import load_items
    from helpers.language.loading import detect_hardware
    from helpers.language.training import TrainConfig, train
    from helpers.offline.smollm2 import build

    out = Path(args.out)
    model = str(build(args.model or out / "smollm2-135m"))
    items = load_items(paths.TEST_SAMPLE)[0][: args.items]
    figures: dict = {
        "hardware": str(detect_hardware()),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
    }
    figures["base"] = score(model, None, items, args.predict_batch)

    config = TrainConfig(
        base_model=model,
        train=str(paths.TRAIN_SAMPLE),
        output=str(out / "adapter"),
        max_steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        max_length=args.max_length,
        wandb=False,
        logging_steps=1,
        save_steps=10**9,
        overwrite=True,
    )
    start = time.perf_counter()
    trainer = train(config)
    losses = [(entry["step"], entry["loss"]) for entry in trainer.state.log_history if "loss" in entry]
    figures["training"] = {
        "steps": args.steps,
        "batch": args.batch_size,
        "learning_rate": args.learning_rate,
        "seconds_per_step": round((time.perf_counter() - start) / args.steps, 1),
        "first_loss": losses[0][1],
        "last_loss": losses[-1][1],
    }
    del trainer
    figures["fine-tuned"] = score(model, config.output_dir, items, args.predict_batch)
    loss_chart(losses, out / "loss.png")
    (out / "figures.json").write_text(json.dumps(figures, indent=2))

    print(f"\n{figures['hardware']}; {figures['machine']}; {len(items)} test items")
    print(
        f"training: {args.steps} steps of {args.batch_size}, lr {args.learning_rate}, "
        f"{figures['training']['seconds_per_step']} s a step, loss {losses[0][1]:.3f} -> {losses[-1][1]:.3f}"
    )
    print(f"{'model':<12} {'predictor':<24} {'error':>9} {'RMSLE':>6} {'hits':>6} {'failures':>8}")
    for which in ("base", "fine-tuned"):
        for name, row in figures[which].items():
            print(
                f"{which:<12} {name:<24} ${row['average_error']:>8,.2f} {row['rmsle']:>6.2f} "
                f"{row['hit_rate']:>5.1f}% {row['failures']:>8}"
            )
    print(f"loss curve: {out / 'loss.png'}")


if __name__ == "__main__":
    main()
