"""python -m helpers <stage> [--flags]: every stage of the project from the command line.

Each stage turns its flags into its config and calls one library function; `main` runs the
offline end-to-end job on the bundled sample (the README's first command). `--help` after a
stage lists its flags, what each does, and its default.

A mistake in the input (a missing file, a gated model, a bad flag) is a `PricerError`: one line
on stderr and exit status 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from helpers.classical.baselines import BaselineConfig
from helpers.classical.human import read_prices
from helpers.classical.registry import DEFAULT_BASELINES, fit_baselines
from helpers.cli.config import add_arguments, from_arguments
from helpers.cli.fork import fork, github_repo
from helpers.cli.main_job import MainJob, run_main_job
from helpers.cli.scoring import Scoring, score, shared
from helpers.core.answers import Answers
from helpers.core.leaderboard import leaderboard, leaderboard_chart, leaderboard_table
from helpers.data.charts import save_all
from helpers.data.curation import CurationConfig
from helpers.data.hub_datasets import read_items
from helpers.data.pipeline import curate_file, refuse_charts, split_file
from helpers.data.raw import LoadConfig
from helpers.data.rules import ItemConfig
from helpers.language.finetune_openai import FineTuneConfig, FineTuner
from helpers.language.frontier import FrontierConfig, FrontierPricer
from helpers.language.inference import InferenceConfig, Predictors, load_for_inference
from helpers.language.loading import QUANTIZATIONS, distributed
from helpers.language.summaries import Summariser, SummaryConfig
from helpers.language.training import TrainConfig, run_summary, train
from helpers.offline import smollm2, tiny
from helpers.offline.tiny import TinyConfig
from helpers.plumbing import paths
from helpers.plumbing.errors import ConfigError, PricerError
from helpers.plumbing.files import cannot_write, readable, refuse_overwrite
from helpers.plumbing.processes import Terminated, unwind_on_sigterm
from helpers.plumbing.secrets import redact
from helpers.plumbing.store import open_store
from helpers.presets import BASE_MODEL, COURSE_2024, PRESETS, preset
from helpers.week8.app import AppConfig, run_app
from helpers.week8.framework import DealsConfig, hunt_once
from helpers.week8.neighbour_trees import EVERY_BASELINE
from helpers.week8.retrieval import EMBEDDING_MODEL, rag_pricer
from helpers.week8.service import ENGINES, ServeConfig, serve

# The valid values of fields that several configs share, each from its one owner.
CHOICES = {
    "quantization": QUANTIZATIONS,
    "preset": PRESETS,
    "models": EVERY_BASELINE,
    "ensemble_members": EVERY_BASELINE,
    "classical": EVERY_BASELINE,
    "engine": ENGINES,
}


def _results(*parts: str):
    """A default path under the results folder, read when the parser is built."""
    return field(default_factory=lambda: str(paths.results(*parts)))


@dataclass
class CurateStage:
    input: list[str] | None = None  # raw JSONL / JSONL.gz / parquet files, or hub category names
    tokenizer: str = BASE_MODEL  # the tokenizer whose count cuts an item's text
    out: str = _results("items.jsonl")  # the items file written
    workers: int = 0  # processes that parse (0: one per CPU)
    limit: int | None = None  # read at most this many lines of each source
    category: str | None = None  # the items' category (default: from the file's name)
    charts: str | None = None  # a folder for the distribution charts
    overwrite: bool = False  # replace an existing --out
    progress: bool = True  # a progress bar a source


@dataclass
class SplitStage:
    items: str = str(paths.TRAIN_SAMPLE)  # the items file to split
    train_out: str = _results("train.jsonl")  # the training items written
    test_out: str = _results("test.jsonl")  # the test items written
    validation_out: str = _results("validation.jsonl")  # written when --validation-size is above 0
    categories: list[str] | None = None  # keep only items of these categories (default: every category in --items)
    lite: bool = False  # the 2025 edition's lite sizes
    overwrite: bool = False  # replace existing --train-out, --test-out and --validation-out


@dataclass
class ChartsStage:
    items: str = str(paths.TRAIN_SAMPLE)  # the items file charted
    out: str = _results("charts")  # the folder for the charts
    overwrite: bool = False  # replace existing charts in --out


@dataclass
class BaselinesStage(Scoring):
    train: str = str(paths.TRAIN_SAMPLE)  # training items: a local items file or a hub data set
    charts: str | None = None  # a folder for one scatter chart a model
    overwrite: bool = False  # replace existing charts


@dataclass
class EvaluateStage(Scoring):
    predictions: str | None = None  # needed: a CSV with a `price` column, one row a test item, in order
    model: str = "predictions"  # the leaderboard's name for these predictions


@dataclass
class FrontierStage(Scoring):
    rag: str | None = None  # priced items (the training items) to show the k most similar of: week 8's RAG
    rag_k: int = 5  # similar items shown
    embedding_model: str = EMBEDDING_MODEL  # the sentence-transformers model that finds them


@dataclass
class SummariseStage:
    items: str = str(paths.TRAIN_SAMPLE)  # the items rewritten
    out: str = _results("summarised.jsonl")  # the items file written
    limit: int | None = None  # the first N items only
    overwrite: bool = False  # replace an existing --out
    progress: bool = True  # a progress bar


@dataclass
class FineTuneStage:
    train: str = str(paths.TRAIN_SAMPLE)  # training items
    keep_in_store: bool = False  # the job file goes to the store too, so a new machine follows the same job


@dataclass
class PredictStage(Scoring):
    improved: bool = False  # improved_model_predict (weighted top-k tokens) instead of model_predict
    name: str | None = None  # the leaderboard's name (default: the adapter, or base model, and predictor)
    preset: str | None = None  # a course edition: its base model, adapter, revision and test data


@dataclass
class LeaderboardStage:
    path: str | None = None  # a leaderboard CSV (default: leaderboard.csv in the store)
    dataset: str | None = None  # only this test set's rows
    chart: str = _results("charts", "leaderboard-stage.png")  # a bar chart of it (the main job's is leaderboard.png)


def run_tiny(args: argparse.Namespace) -> None:
    print(f"tiny tokenizer{' and model' if args.with_model else ''} in {tiny.build(from_arguments(TinyConfig, args))}")


def run_offline_model(args: argparse.Namespace) -> None:
    print(f"SmolLM2-135M-Instruct in {smollm2.build(args.output)}")


def run_curate(args: argparse.Namespace) -> None:
    stage = from_arguments(CurateStage, args)
    config = LoadConfig(item=ItemConfig(tokenizer=stage.tokenizer), limit=stage.limit, progress=stage.progress)
    config.workers = stage.workers or config.workers
    report = curate_file(stage.input or [], stage.out, config, stage.category, stage.charts, stage.overwrite)
    print(json.dumps({**report.to_dict(), "out": stage.out}))


def run_split(args: argparse.Namespace) -> None:
    stage = from_arguments(SplitStage, args)
    loads = CurationConfig().categories  # what week 6 loads, not --categories (which picks from --items)
    config = CurationConfig.lite() if stage.lite else from_arguments(CurationConfig, args, categories=loads)
    outs = {"train": stage.train_out, "validation": stage.validation_out, "test": stage.test_out}
    print(json.dumps(split_file(stage.items, outs, config, stage.overwrite, stage.categories)))


def run_charts(args: argparse.Namespace) -> None:
    stage = from_arguments(ChartsStage, args)
    refuse_charts(stage.out, stage.overwrite)
    for path in save_all(read_items(stage.items), stage.out):
        print(path)


def run_baselines(args: argparse.Namespace) -> None:
    stage, config = from_arguments(BaselinesStage, args), from_arguments(BaselineConfig, args)
    if stage.charts:
        refuse_overwrite(Path(stage.charts) / f"{(config.models or DEFAULT_BASELINES)[0]}.png", stage.overwrite)
    test, train, store = read_items(stage.test), read_items(stage.train), open_store()
    for name, predictor in fit_baselines(train, config, registry=EVERY_BASELINE).items():
        result = score(predictor, test, stage, name, store, progress=True, trained_on=train)
        if stage.charts:
            result.chart(Path(stage.charts) / f"{name}.png")


def run_evaluate(args: argparse.Namespace) -> None:
    stage = from_arguments(EvaluateStage, args)
    if not stage.predictions:
        raise ConfigError("--predictions is missing: the CSV of predicted prices to score, with a `price` column")
    test = read_items(stage.test)
    prices = read_prices(stage.predictions, min(stage.size, len(test)))
    score(Answers.of(stage.model, test, prices), test, stage, stage.model, open_store())


def run_frontier(args: argparse.Namespace) -> None:
    stage, config = from_arguments(FrontierStage, args), from_arguments(FrontierConfig, args)
    test = read_items(stage.test)
    pricer = rag_pricer(config, read_items(stage.rag), stage.rag_k, stage.embedding_model) if stage.rag else None
    pricer = pricer or FrontierPricer(config)
    score(pricer, test, stage, pricer.__name__, open_store(), extra=pricer.report)


def run_summarise(args: argparse.Namespace) -> None:
    stage = from_arguments(SummariseStage, args)
    refuse_overwrite(stage.out, stage.overwrite)
    summariser = Summariser(from_arguments(FrontierConfig, args), from_arguments(SummaryConfig, args))
    print(json.dumps(summariser.summarise_file(stage.items, stage.out, stage.limit, stage.progress)))


def run_finetune_openai(args: argparse.Namespace) -> None:
    stage = from_arguments(FineTuneStage, args)
    store = open_store() if stage.keep_in_store else None
    state = FineTuner(from_arguments(FineTuneConfig, args), store=store).run(read_items(stage.train))
    print(json.dumps({"job": state.job_id, "status": state.status, "model": state.fine_tuned_model}))


def run_train(args: argparse.Namespace) -> None:
    config = from_arguments(TrainConfig, args)
    trainer = train(config)
    if trainer.is_world_process_zero():  # under `accelerate launch`: one line, from the main process
        print(json.dumps(run_summary(trainer, config)))


def run_predict(args: argparse.Namespace) -> None:
    stage, config = from_arguments(PredictStage, args), from_arguments(InferenceConfig, args)
    test = read_items(stage.test, (preset(stage.preset) if stage.preset else COURSE_2024).prompt)
    predictors = Predictors(*load_for_inference(config), config)
    predictor = predictors.improved_model_predict if stage.improved else predictors.model_predict
    name = stage.name or f"{Path(config.adapter or config.base_model).name} {predictor.__name__}"
    processes = distributed()
    if processes.num_processes > 1:  # under `accelerate launch`: each process prices its share
        predictor = shared(predictor, test[: stage.size], processes)
        if not processes.is_main_process:
            return
    score(predictor, test, stage, name, open_store())


def run_leaderboard(args: argparse.Namespace) -> None:
    stage = from_arguments(LeaderboardStage, args)
    frame = leaderboard(readable(stage.path, "leaderboard CSV") if stage.path else open_store(), stage.dataset)
    if frame.empty:
        print(f"no results yet in {stage.path or 'the leaderboard'}")
        return
    print(leaderboard_table(frame))
    leaderboard_chart(frame, stage.chart)
    print(f"chart: {stage.chart}")


def run_fork(args: argparse.Namespace) -> None:
    args.repo = github_repo(args.repo)  # as GitHub names it: `me/pricer.git` is me/pricer
    changed = fork(args.repo, Path(args.root))
    for path in changed:
        print(path)
    if not changed:  # a second run: nothing new to commit
        print(f"0 files changed: every notebook already points at {args.repo}")
        return
    print(f"{len(changed)} files now point at {args.repo}: commit and push them to your fork")


def run_serve(args: argparse.Namespace) -> None:
    config = from_arguments(ServeConfig, args)
    if config.preset:
        chosen = preset(config.preset)
        config.base_model, config.adapter, config.revision = chosen.base_model, chosen.adapter, chosen.revision
    serve(config)


def run_deals(args: argparse.Namespace) -> None:
    with contextlib.redirect_stdout(sys.stderr):  # what the stages say goes beside the agents' log: stdout is JSON
        rows = hunt_once(from_arguments(DealsConfig, args), open_store())
    for row in rows:
        print(json.dumps(row), flush=True)


def run_app_stage(args: argparse.Namespace) -> None:
    run_app(from_arguments(DealsConfig, args), from_arguments(AppConfig, args), open_store())


def run_main(args: argparse.Namespace) -> None:
    run_main_job(from_arguments(MainJob, args))


STAGES = {  # name: (what it does, its function, the configs its flags fill)
    "tiny": ("build the tiny offline tokenizer and model", run_tiny, (TinyConfig,)),
    "offline-model": ("write the real offline model (SmolLM2-135M) as a folder", run_offline_model, ()),
    "curate": ("raw metadata records to items, with a skip report", run_curate, (CurateStage,)),
    "split": ("balance and split items into train and test", run_split, (SplitStage, CurationConfig)),
    "charts": ("write distribution charts for an items file", run_charts, (ChartsStage,)),
    "baselines": ("train and test every classical baseline", run_baselines, (BaselinesStage, BaselineConfig)),
    "evaluate": ("score a CSV of predicted prices with the Tester", run_evaluate, (EvaluateStage,)),
    "frontier": ("score a chat model behind an OpenAI-compatible API", run_frontier, (FrontierStage, FrontierConfig)),
    "summarise": ("summarise items with a chat model", run_summarise, (SummariseStage, FrontierConfig, SummaryConfig)),
    "finetune-openai": ("fine-tune through the OpenAI API", run_finetune_openai, (FineTuneStage, FineTuneConfig)),
    "train": ("QLoRA fine-tuning of the base model on price prompts", run_train, (TrainConfig,)),
    "predict": ("price test items with a model or adapter", run_predict, (PredictStage, InferenceConfig)),
    "serve": ("serve the fine-tuned pricer behind an OpenAI-compatible endpoint", run_serve, (ServeConfig,)),
    "deals": ("hunt for deals once: scan, price, plan, notify", run_deals, (DealsConfig,)),
    "app": ("The Price is Right: the deal-hunting agents in a web app", run_app_stage, (DealsConfig, AppConfig)),
    "leaderboard": ("print the results leaderboard, and chart it", run_leaderboard, (LeaderboardStage,)),
    "fork": ("point every notebook's Colab badge and set-up cell at your fork", run_fork, ()),
    "main": ("the offline end-to-end job on the bundled sample", run_main, (MainJob,)),
}


class OneLineParser(argparse.ArgumentParser):
    """A mistake on the command line is one line that says where the usage is, not pages of usage."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{message}: see {self.prog} --help")


def unknown_stage(argv: list[str]) -> None:
    """A mistyped stage names the stages nearest to it, not all eighteen."""
    if not argv or argv[0].startswith("-") or argv[0] in STAGES:
        return
    near = difflib.get_close_matches(argv[0], STAGES, n=2)
    hint = f"did you mean {' or '.join(near)}?" if near else f"the stages are {', '.join(STAGES)}"
    raise ConfigError(f"unknown stage '{argv[0]}': {hint}")


def unrecognized(stage: argparse.ArgumentParser, unknown: list[str]) -> ConfigError:
    """What `stage` did not take, with the flag nearest to a mistyped one."""
    flags = [word for word in unknown if word.startswith("-")] or unknown
    known = [option for action in stage._actions for option in action.option_strings]
    near = difflib.get_close_matches(flags[0].split("=")[0], known, n=1)
    hint = f" (did you mean {near[0]}?)" if near and len(flags) == 1 else ""
    words = "argument" if len(flags) == 1 else "arguments"
    return ConfigError(f"unrecognized {words} {' '.join(flags)}{hint}: see {stage.prog} --help")


def parser(preset_name: str | None = None) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The command line, and each stage's own parser (to name it on a mistyped flag)."""
    defaults = preset(preset_name).flag_defaults() if preset_name else {}
    top = OneLineParser(prog="python -m helpers", description=__doc__.splitlines()[0])
    subparsers = top.add_subparsers(dest="stage", required=True)
    stages = {}
    for name, (about, run, configs) in STAGES.items():
        sub = stages[name] = subparsers.add_parser(name, help=about, description=about)
        for config in configs:
            add_arguments(sub, config, CHOICES)
        sub.set_defaults(run=run, **defaults.get(name, {}))
    stages["offline-model"].add_argument("--output", help="the folder written (default: smollm2-135m in results)")
    stages["fork"].add_argument("repo", help="your fork on GitHub, as OWNER/NAME")
    stages["fork"].add_argument("--root", default=str(paths.ROOT), help="the repository to change (default: this one)")
    return top, stages


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    with terminated_unwinds():
        _main(argv)


@contextlib.contextmanager
def terminated_unwinds():
    """While a stage runs, a SIGTERM (`kill`, a job scheduler, a container stopping) unwinds like
    Ctrl-C: each `finally` runs, so no temporary file or lock holder stays behind."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set a handler (a stage run from a thread of a test)
        return
    before = signal.getsignal(signal.SIGTERM)
    unwind_on_sigterm()
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _main(argv: list[str]) -> None:
    try:
        chosen = argv[argv.index("--preset") + 1] if "--preset" in argv[:-1] else None
        unknown_stage(argv)
        top, stages = parser(chosen)
        args, unknown = top.parse_known_args(argv)
        if unknown:
            raise unrecognized(stages[args.stage], unknown)
        args.run(args)
    except PricerError as error:
        print(f"error: {redact(str(error))}", file=sys.stderr)  # a key inside a URL stays hidden
        raise SystemExit(2) from None
    except Terminated:
        print("terminated", file=sys.stderr)
        raise SystemExit(128 + signal.SIGTERM) from None
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except BrokenPipeError:  # `leaderboard | head -1`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's flush at exit finds no pipe
        raise SystemExit(141) from None
    except OSError as error:  # a full or read-only disk is the machine's state, not a bug
        line = cannot_write(error)
        if line is None:
            raise
        print(f"error: {redact(line)}", file=sys.stderr)
        raise SystemExit(2) from None
