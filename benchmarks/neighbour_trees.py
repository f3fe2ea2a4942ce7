"""The boosted trees with and without their nearest training items' prices as features, and
the stack (the ensemble: non-negative dollar weights on out-of-fold prices) with and without them.

    python benchmarks/neighbour_trees.py SHARED_DATA_FOLDER [--held-out 520] [--seed 42]

On real curated items: the two curated files of the project's shared data (2,000 items of six
categories and 1,480 Appliances items), of which `--held-out` Appliances items, drawn with the
seed, are the test set and every other item trains. Embedding uses all-MiniLM-L6-v2 (the offline
package's copy), kept on disk after the first run. Prints a Markdown table for docs/benchmarks.md:
each model's average error with its 95% interval, and the fit time (a stack's: beyond its
members' fits on every item, which it reuses).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from dataclasses import replace
from pathlib import Path

from helpers.classical.baselines import BaselineConfig
from helpers.classical.registry import fit_baselines
from helpers.classical.stack import fit_stack
from helpers.core.items import Item
from helpers.core.tester import Tester
from helpers.week8.neighbour_trees import EVERY_BASELINE
from helpers.week8.retrieval import offline_embedding_model


def read(path: Path) -> list[Item]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Item(title=r["title"], price=float(r["price"]), category=r["category"], text=r["text"]) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shared", type=Path, help="the shared data folder with the two curated files")
    parser.add_argument("--held-out", type=int, default=520)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    appliances = read(args.shared / "amazon2023_curated_appliances.jsonl")
    others = read(args.shared / "amazon2023_curated_6categories.jsonl")
    random.Random(args.seed).shuffle(appliances)
    test, train = appliances[: args.held_out], appliances[args.held_out :] + others
    config = BaselineConfig(embedding_model=offline_embedding_model() or BaselineConfig().embedding_model)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    print(f"{len(train):,} training items, {len(test):,} held-out Appliances items; {machine}")
    print("| model | average error | 95% interval | fit (s) |\n|---|---|---|---|")
    fitted = {}

    def report(name, predictor, seconds):
        result = Tester(predictor, test, size=len(test), verbose=False, progress=False).run()
        low, high = result.error_interval()
        print(f"| {name} | ${result.average_error:,.2f} | ${low:,.2f}–${high:,.2f} | {seconds:,.0f} |", flush=True)

    for name in ("tfidf_ridge", "neural_net", "boosted_trees", "boosted_neighbours"):
        start = time.perf_counter()
        fitted.update(fit_baselines(train, replace(config, models=[name]), name, EVERY_BASELINE))
        report(name, fitted[name], time.perf_counter() - start)

    def members(items, names):
        return fit_baselines(items, replace(config, models=names), "members", EVERY_BASELINE)

    for label, names in (
        ("ensemble (stack of tfidf_ridge, boosted_trees, neural_net)", ["tfidf_ridge", "boosted_trees", "neural_net"]),
        ("ensemble, boosted_neighbours in it", ["tfidf_ridge", "boosted_trees", "boosted_neighbours", "neural_net"]),
    ):
        start = time.perf_counter()
        stack = fit_stack(train, names, members, config.stack_folds, config.seed, fitted)
        print(stack, flush=True)
        report(label, stack, time.perf_counter() - start)


if __name__ == "__main__":
    main()
