"""The boosted trees with and without their nearest training items' prices as features.

    python benchmarks/neighbour_trees.py SHARED_DATA_FOLDER [--held-out 520] [--seed 42]

On real curated items: the two curated files of the project's shared data (2,000 items of six
categories and 1,480 Appliances items), of which `--held-out` Appliances items, drawn with the
seed, are the test set and every other item trains. Embedding uses all-MiniLM-L6-v2 (the offline
package's copy), kept on disk after the first run. Prints a Markdown table for docs/benchmarks.md:
each model's average error with its 95% interval, and the fit time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from pathlib import Path

from helpers.core.items import Item
from helpers.core.tester import Tester
from helpers.models.baselines import BaselineConfig
from helpers.models.boosted import fit_boosted_trees
from helpers.models.neighbour_trees import fit_boosted_neighbours
from helpers.models.retrieval import offline_embedding_model


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
    for name, fit in (("boosted_trees", fit_boosted_trees), ("boosted_neighbours", fit_boosted_neighbours)):
        start = time.perf_counter()
        predictor = fit(train, config)
        seconds = time.perf_counter() - start
        result = Tester(predictor, test, size=len(test), verbose=False, progress=False).run()
        low, high = result.error_interval()
        print(f"| {name} | ${result.average_error:,.2f} | ${low:,.2f}–${high:,.2f} | {seconds:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
