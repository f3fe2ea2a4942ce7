"""python -m helpers <stage> [--flags]: every stage of the project from the command line.

Stages: tiny, curate, split, charts, baselines, evaluate, frontier, finetune-openai, train,
predict, leaderboard, and main (the offline end-to-end job on the bundled sample that the README's
first command runs).
`python -m helpers <stage> --help` lists a stage's flags and their defaults.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from helpers import paths
from helpers.config import add_arguments, from_arguments


@dataclass
class CurateStage:
    input: list[str] | None = None  # raw JSONL / JSONL.gz / parquet files, or hub category names
    tokenizer: str = "meta-llama/Meta-Llama-3.1-8B"
    out: str = "results/items.jsonl"
    workers: int = 0  # 0: one per CPU
    limit: int | None = None
    category: str | None = None
    charts: str | None = None  # folder for the distribution charts


@dataclass
class SplitStage:
    items: str = str(paths.TRAIN_SAMPLE)
    train_out: str = "results/train.jsonl"
    test_out: str = "results/test.jsonl"
    lite: bool = False


@dataclass
class ScoringStage:
    """What every stage that runs the Tester shares."""

    test: str = str(paths.TEST_SAMPLE)
    size: int = 250
    json: bool = False
    dataset: str | None = None  # leaderboard key; default: the test file's name
    leaderboard: str = str(paths.RESULTS / "leaderboard.csv")


@dataclass
class BaselinesStage(ScoringStage):
    train: str = str(paths.TRAIN_SAMPLE)
    charts: str | None = None  # folder for one scatter chart per model


@dataclass
class EvaluateStage(ScoringStage):
    predictions: str = ""  # CSV with a `price` column, one row per test item, in order
    model: str = "predictions"


@dataclass
class FrontierStage(ScoringStage):
    pass


@dataclass
class FineTuneStage:
    train: str = str(paths.TRAIN_SAMPLE)


@dataclass
class PredictStage(ScoringStage):
    improved: bool = False
    name: str | None = None  # leaderboard name; default: the adapter (or base model) and predictor


@dataclass
class MainStage:
    workdir: str = str(paths.RESULTS)
    workers: int = 0
    forest_trees: int = 100
    qlora_steps: int = 30  # the tiny model's pipeline-check training steps
    real_model: bool = False  # on CUDA: QLoRA on Llama 3.1 8B (needs the hub login) instead of the tiny model


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _load_items(path: str):
    from helpers.loaders import DataError, load_items

    try:
        items, report = load_items(path)
    except DataError as error:
        _fail(str(error))
    if report.read != report.kept:
        print(report, file=sys.stderr)
    if not items:
        _fail(f"no usable items in {path}")
    return items


def run_tiny(args: argparse.Namespace) -> None:
    from helpers.tiny import TinyConfig, build

    output = build(from_arguments(TinyConfig, args))
    print(f"tiny tokenizer{' and model' if args.with_model else ''} in {output}")


def run_curate(args: argparse.Namespace) -> dict:
    from helpers.charts import save_all
    from helpers.curation import save_items
    from helpers.items import ItemConfig, TokenizerError
    from helpers.loaders import DataError, LoadConfig, SkipReport, load_raw

    stage = from_arguments(CurateStage, args)
    if not stage.input:
        _fail("--input needs at least one raw file or hub category")
    config = LoadConfig(item=ItemConfig(tokenizer=stage.tokenizer), limit=stage.limit)
    if stage.workers:
        config.workers = stage.workers
    items, total = [], SkipReport()
    try:
        for source in stage.input:
            found, report = load_raw(source, config, category=stage.category)
            print(report, file=sys.stderr, flush=True)
            items.extend(found)
            total.add(report)
    except (DataError, TokenizerError) as error:
        _fail(str(error))
    save_items(items, stage.out)
    if stage.charts and items:
        save_all(items, stage.charts)
    summary = {**total.to_dict(), "out": stage.out}
    print(json.dumps(summary))
    return summary


def run_split(args: argparse.Namespace) -> None:
    from helpers.curation import CurationConfig, curate, save_items

    stage = from_arguments(SplitStage, args)
    config = CurationConfig.lite() if stage.lite else from_arguments(CurationConfig, args)
    items = _load_items(stage.items)
    train, test = curate(items, config)
    save_items(train, stage.train_out)
    save_items(test, stage.test_out)
    print(json.dumps({"items": len(items), "train": len(train), "test": len(test)}))


def _dataset(stage) -> str:
    """The leaderboard key: given, or named after the test file."""
    if stage.dataset:
        return stage.dataset
    return "bundled-sample" if Path(stage.test).resolve() == paths.TEST_SAMPLE else Path(stage.test).stem


def _report(result, stage: ScoringStage, extra: dict | None = None) -> None:
    """Record the result in the leaderboard, then print it: a JSON line with --json."""
    from helpers.testing import record

    record(result, _dataset(stage), stage.leaderboard)
    if stage.json:
        print(json.dumps({**result.to_dict(), **(extra or {})}), flush=True)
    else:
        print(result.summary(), flush=True)


def run_baselines(args: argparse.Namespace) -> list:
    from helpers.baselines import BaselineConfig, fit_baselines
    from helpers.testing import Tester

    stage = from_arguments(BaselinesStage, args)
    config = from_arguments(BaselineConfig, args)
    train, test = _load_items(stage.train), _load_items(stage.test)
    try:
        predictors = fit_baselines(train, config)
    except ValueError as error:
        _fail(str(error))
    results = []
    for name, predictor in predictors.items():
        result = Tester(predictor, test, title=name, size=stage.size, verbose=False, progress=True).run()
        _report(result, stage)
        if stage.charts:
            result.chart(Path(stage.charts) / f"{name}.png")
        results.append(result)
    return results


def run_evaluate(args: argparse.Namespace) -> None:
    from helpers.testing import Tester

    from helpers.human import PredictionsError, predictor_from, read_prices

    stage = from_arguments(EvaluateStage, args)
    test = _load_items(stage.test)
    size = min(stage.size, len(test))
    try:
        prices = read_prices(stage.predictions, size)
    except PredictionsError as error:
        _fail(str(error))
    result = Tester(predictor_from(test, prices), test, title=stage.model, size=size, verbose=False).run()
    _report(result, stage)


def run_frontier(args: argparse.Namespace) -> dict:
    from helpers.frontier import FrontierAuthError, FrontierConfig, evaluate

    stage = from_arguments(FrontierStage, args)
    config = from_arguments(FrontierConfig, args)
    test = _load_items(stage.test)
    try:
        result, stats = evaluate(test, config, size=stage.size)
    except FrontierAuthError as error:
        _fail(str(error))
    print(f"{config.model}: {stats}", file=sys.stderr, flush=True)
    extra = {"calls": stats.calls, "cached": stats.cached, "errors": stats.errors, "cost": round(stats.cost, 6)}
    _report(result, stage, extra)
    return {**result.to_dict(), **extra}


def run_finetune_openai(args: argparse.Namespace) -> None:
    from helpers.finetune_openai import FineTuneConfig, FineTuner
    from helpers.frontier import FrontierAuthError

    stage = from_arguments(FineTuneStage, args)
    try:
        state = FineTuner(from_arguments(FineTuneConfig, args)).run(_load_items(stage.train))
    except (FrontierAuthError, ValueError) as error:
        _fail(str(error))
    print(json.dumps({"job": state.job_id, "status": state.status, "model": state.fine_tuned_model}))


def run_train(args: argparse.Namespace) -> None:
    from helpers.models import ModelAccessError
    from helpers.training import TrainConfig, train

    config = from_arguments(TrainConfig, args)
    try:
        trainer = train(config)
    except (ModelAccessError, ValueError) as error:
        _fail(str(error))
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    print(json.dumps({"adapter": config.output_dir, "steps": trainer.state.global_step,
                      "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None}))  # fmt: skip


def run_predict(args: argparse.Namespace) -> dict:
    from helpers.inference import InferenceConfig, Predictors, load_for_inference
    from helpers.models import ModelAccessError
    from helpers.testing import Tester

    stage = from_arguments(PredictStage, args)
    config = from_arguments(InferenceConfig, args)
    test = _load_items(stage.test)[: stage.size]
    try:
        model, tokenizer = load_for_inference(config)
    except ModelAccessError as error:
        _fail(str(error))
    predictor = Predictors(model, tokenizer, config).batched(test, improved=stage.improved)
    which = "improved_model_predict" if stage.improved else "model_predict"
    name = stage.name or f"{Path(config.adapter or config.base_model).name} {which}"
    result = Tester(predictor, test, title=name, size=stage.size, verbose=False).run()
    _report(result, stage)
    return result.to_dict()


def run_leaderboard(args: argparse.Namespace) -> None:
    from helpers.testing import leaderboard

    frame = leaderboard(args.path, args.dataset)
    if frame.empty:
        print(f"no results yet in {args.path}")
        return
    print(frame.drop(columns=["when"]).round(2).to_string(index=False))


def run_charts(args: argparse.Namespace) -> None:
    from helpers.charts import save_all

    for path in save_all(_load_items(args.items), args.out):
        print(path)


def run_main(args: argparse.Namespace) -> None:
    """The whole offline pipeline on the bundled sample; every output lands in --workdir."""
    stage = from_arguments(MainStage, args)
    work = Path(stage.workdir)
    start = time.time()
    tokenizer, leaderboard_file = work / "tiny", work / "leaderboard.csv"
    steps = [
        ("Tiny tokenizer and random Llama-shaped model (offline stand-ins for Llama 3.1)",
         ["tiny", "--output", str(tokenizer)]),
        ("Curate raw records: the bundled CDs & Vinyl sample",
         ["curate", "--input", str(paths.RAW_SAMPLE), "--tokenizer", str(tokenizer),
          "--category", "CDs_and_Vinyl", "--out", str(work / "items_cds_vinyl.jsonl"),
          "--workers", str(stage.workers), "--charts", str(work / "charts" / "cds_vinyl")]),
        ("Charts of the bundled training set",
         ["charts", "--items", str(paths.TRAIN_SAMPLE), "--out", str(work / "charts" / "train")]),
        ("Classical baselines through the Tester",
         ["baselines", "--forest-trees", str(stage.forest_trees), "--leaderboard", str(leaderboard_file),
          "--charts", str(work / "baselines"), "--dataset", "bundled-sample"]),
    ]  # fmt: skip
    from helpers.models import detect_hardware

    if stage.real_model and detect_hardware().device != "cuda":
        _fail("--real-model needs a CUDA GPU; without one the tiny model runs the same pipeline")
    model = "meta-llama/Meta-Llama-3.1-8B" if stage.real_model else str(tokenizer)
    adapter = work / ("pricer-llama" if stage.real_model else "tiny-qlora-pipeline-check")
    if stage.real_model:
        train_flags = ["--max-steps", "-1"]  # the course's settings, one epoch
        label, predict_size = "QLoRA on Llama 3.1 8B (one epoch of the bundled sample)", "250"
    else:  # a pipeline check: the tiny tokenizer needs longer sequences, and a random model a push
        train_flags = ["--max-steps", str(stage.qlora_steps), "--max-length", "320", "--learning-rate", "1e-2",
                       "--no-wandb", "--save-steps", "1000", "--logging-steps", "5"]  # fmt: skip
        label, predict_size = "QLoRA pipeline check: tiny random model, NOT a real pricer", "50"
    steps += [
        (label, ["train", "--train", str(paths.TRAIN_SAMPLE), "--base-model", model, "--output", str(adapter),
                 *train_flags]),
        ("The fine-tuned model through the Tester (model_predict, improved_model_predict)",
         ["predict", "--base-model", model, "--adapter", str(adapter), "--size", predict_size, "--name",
          f"{adapter.name} model_predict", "--leaderboard", str(leaderboard_file), "--dataset", "bundled-sample"]),
        ("", ["predict", "--base-model", model, "--adapter", str(adapter), "--size", predict_size, "--improved",
              "--name", f"{adapter.name} improved_model_predict", "--leaderboard", str(leaderboard_file),
              "--dataset", "bundled-sample"]),
    ]  # fmt: skip
    from helpers.secrets import get_secret

    frontier = bool(get_secret("OPENAI_API_KEY") or get_secret("OPENAI_BASE_URL"))
    if frontier:
        steps.append(("Frontier model gpt-4o-mini through the Tester (cached in results/cache)",
                      ["frontier", "--model", "gpt-4o-mini", "--leaderboard", str(leaderboard_file),
                       "--dataset", "bundled-sample", "--cache", str(work / "cache" / "frontier.sqlite")]))  # fmt: skip
    titled = [title for title, _ in steps if title]
    for title, argv in steps:
        if title:
            print(f"== {titled.index(title) + 1}/{len(titled)} {title} ==", flush=True)
        main(argv)
    if not frontier:
        print("== Frontier stage skipped: neither OPENAI_API_KEY nor OPENAI_BASE_URL is configured ==", flush=True)
    print("\nLeaderboard (bundled sample; n: test items scored):", flush=True)
    main(["leaderboard", "--path", str(leaderboard_file), "--dataset", "bundled-sample"])
    print(f"\nDone in {time.time() - start:.0f}s. Outputs in {work}/", flush=True)


def parser() -> argparse.ArgumentParser:
    from helpers.baselines import BaselineConfig
    from helpers.curation import CurationConfig
    from helpers.finetune_openai import FineTuneConfig
    from helpers.frontier import FrontierConfig
    from helpers.inference import InferenceConfig
    from helpers.tiny import TinyConfig
    from helpers.training import TrainConfig

    top = argparse.ArgumentParser(prog="python -m helpers", description=__doc__.splitlines()[0])
    stages = top.add_subparsers(dest="stage", required=True)

    def stage(name: str, run, help: str, *configs: type) -> argparse.ArgumentParser:
        sub = stages.add_parser(name, help=help, description=help)
        for config in configs:
            add_arguments(sub, config)
        sub.set_defaults(run=run)
        return sub

    stage("tiny", run_tiny, "build the tiny offline tokenizer and model", TinyConfig)
    stage("curate", run_curate, "raw metadata records to items, with a skip report", CurateStage)
    stage("split", run_split, "balance and split items into train and test", SplitStage, CurationConfig)
    stage("baselines", run_baselines, "train and test every classical baseline", BaselinesStage, BaselineConfig)
    stage("evaluate", run_evaluate, "score a CSV of predicted prices with the Tester", EvaluateStage)
    stage("frontier", run_frontier, "score a chat model behind an OpenAI-compatible API", FrontierStage, FrontierConfig)
    stage("finetune-openai", run_finetune_openai, "fine-tune a model through the OpenAI API and follow the job",
          FineTuneStage, FineTuneConfig)  # fmt: skip
    stage("train", run_train, "QLoRA fine-tuning of the base model on price prompts", TrainConfig)
    stage("predict", run_predict, "price test items with a base model or adapter through the Tester",
          PredictStage, InferenceConfig)  # fmt: skip
    board = stage("leaderboard", run_leaderboard, "print the results leaderboard")
    board.add_argument("--path", default=str(paths.RESULTS / "leaderboard.csv"))
    board.add_argument("--dataset", default=None)
    charts = stage("charts", run_charts, "write distribution charts for an items file")
    charts.add_argument("--items", default=str(paths.TRAIN_SAMPLE))
    charts.add_argument("--out", default="results/charts")
    stage("main", run_main, "the offline end-to-end job on the bundled sample", MainStage)
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
