"""The CPU models on real data larger than the bundled sample: average error with 95% intervals.

    python benchmarks/accuracy.py --shared ../shared/data [--held-out 520] [--neighbours]

The two curated files of the shared data (3,480 real items, the course's week-6 curation) are
split by a seeded shuffle: `--held-out` Appliances items are the test set, everything else is
training data. Every CPU model (the 2024 course's, TF-IDF ridge, the 2025 edition's boosted
trees and neural network, week 8's ensemble, with `--neighbours` the retrieval baseline) trains
on the rest and is scored on the held-out items; the table goes to stdout as Markdown. Also
reported: the neural network's training time and epochs, and the embedding model's items/s.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from dataclasses import replace
from pathlib import Path

from helpers.classical.baselines import BaselineConfig
from helpers.classical.registry import DEFAULT_BASELINES, fit_baselines
from helpers.core.tester import Tester
from helpers.data.item_files import load_items
from helpers.week8.neighbour_trees import EVERY_BASELINE

FILES = ("amazon2023_curated_6categories.jsonl", "amazon2023_curated_appliances.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", required=True, help="the shared data folder")
    parser.add_argument("--held-out", type=int, default=520, help="Appliances items to test on")
    parser.add_argument("--neighbours", action="store_true", help="also the retrieval baseline (embeds every item)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    items = [item for name in FILES for item in load_items(Path(args.shared) / name)[0]]
    seen, unique = set(), []
    for item in items:  # a handful of titles repeat across the files: one of each, so none is in both splits
        if item.title not in seen:
            seen.add(item.title)
            unique.append(item)
    random.Random(args.seed).shuffle(unique)
    appliances = [i for i, item in enumerate(unique) if item.category == "Appliances"]
    held = set(appliances[: args.held_out])
    test = [item for i, item in enumerate(unique) if i in held]
    train = [item for i, item in enumerate(unique) if i not in held]
    models = [*DEFAULT_BASELINES, *(["neighbours"] if args.neighbours else [])]
    config = BaselineConfig(models=models)
    machine = platform.processor() or platform.machine()
    print(f"{len(train):,} training items, {len(test)} held-out Appliances items; {machine}")
    rows = []
    for name in models:
        start = time.perf_counter()
        predictor = fit_baselines(train, replace(config, models=[name]), registry=EVERY_BASELINE)[name]
        seconds = time.perf_counter() - start
        result = Tester(predictor, test, title=name, size=len(test), verbose=False, progress=False).run()
        low, high = result.error_interval()
        extra = f"{predictor.epochs} epochs, kept {predictor.best_epoch}" if name == "neural_net" else ""
        rows.append((result.average_error, name, low, high, result.rmsle, result.hit_rate, seconds, extra))
    print("\n| model | average error | 95% interval | RMSLE | hits | fit seconds | |")
    print("|---|---|---|---|---|---|---|")
    for error, name, low, high, rmsle, hits, seconds, extra in sorted(rows):
        interval = f"${low:,.2f}–${high:,.2f}"
        print(f"| {name} | ${error:,.2f} | {interval} | {rmsle:.2f} | {hits:.1f}% | {seconds:.1f} | {extra} |")
    if args.neighbours:
        from helpers.week8.retrieval import Embedder

        embedder = Embedder(progress=False)
        embedder.embed([item.text for item in train[:64]])  # the model loaded and warmed up
        embedder.embed([item.text for item in train])
        speed = embedder.items_per_second
        print(f"\nembedding: {speed:,.0f} items/s ({len(train):,} items, batch {embedder.batch_size})")


if __name__ == "__main__":
    main()
