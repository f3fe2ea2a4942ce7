"""LightGBM against XGBoost for the 2025 edition's boosted trees: error, fit time and install size.

    python benchmarks/boosted.py [--test 250] [--threads 1]

Both libraries on both recipes, trained on the bundled sample's 2,973 items and scored on the
first `--test` of its test items (the main job's 250): the course's recipe (`fit_xgboost`: counts
of the 2,000 commonest words, the price itself, 1,000 trees at learning rate 0.1) and this
project's default (`fit_boosted_trees`: TF-IDF words and pairs with the hand-made features, the
log price, 400 trees at 0.05, sampled rows and columns). Each library keeps its own tree shape
(XGBoost depth 6, LightGBM 31 leaves), so the rows compare what `pip install` gives. Prints a
Markdown table (fit seconds: the quickest of `--repeats` fits) and each library's installed size,
for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import time
from collections.abc import Callable

import numpy as np

from helpers.classical.baselines import BaselineConfig, batched_pricer
from helpers.classical.boosted import tfidf_and_features, word_counts
from helpers.core.items import Item
from helpers.core.tester import Tester
from helpers.data.item_files import load_items
from helpers.plumbing import paths


def regressor(library: str, trees: int, rate: float, config: BaselineConfig, threads: int, sampled: bool):
    """One library's regressor, the recipe's rounds and learning rate, its own tree shape."""
    sampling = dict(subsample=0.8, colsample_bytree=0.5) if sampled else {}
    if library == "lightgbm":
        import lightgbm as lgb

        extra = dict(subsample_freq=1, num_leaves=config.boosted_leaves) if sampled else {}
        return lgb.LGBMRegressor(
            n_estimators=trees, learning_rate=rate, random_state=config.seed, n_jobs=threads, verbose=-1,
            **sampling, **extra,
        )  # fmt: skip
    import xgboost as xgb

    return xgb.XGBRegressor(
        n_estimators=trees, learning_rate=rate, random_state=config.seed, n_jobs=threads, **sampling
    )


def fit(library: str, recipe: str, train: list[Item], config: BaselineConfig, threads: int) -> Callable:
    """A predictor from `library` on `recipe` ("course" or "default"), as boosted.py builds it."""
    if recipe == "course":
        matrix, log_price = word_counts(train, config), False
        model = regressor(library, config.xgb_trees, config.xgb_learning_rate, config, threads, sampled=False)
    else:
        matrix, log_price = tfidf_and_features(train), True
        model = regressor(library, config.boosted_trees, config.boosted_learning_rate, config, threads, sampled=True)
    prices = np.array([item.price for item in train])
    model.fit(matrix(train), np.log1p(prices) if log_price else prices)
    return batched_pricer(model, matrix, log_price, f"{library}_{recipe}")


def installed_mb(distribution: str) -> float:
    """Megabytes a distribution's files take once installed (0 where it is not installed)."""
    try:
        files = importlib.metadata.distribution(distribution).files or []
    except importlib.metadata.PackageNotFoundError:
        return 0.0
    return sum(path.locate().stat().st_size for path in files if path.locate().exists()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", type=int, default=250, help="test items scored")
    parser.add_argument("--threads", type=int, default=1, help="threads a library uses")
    parser.add_argument("--repeats", type=int, default=2, help="fits timed; the quickest is reported")
    args = parser.parse_args()
    train, test = load_items(paths.TRAIN_SAMPLE)[0], load_items(paths.TEST_SAMPLE)[0][: args.test]
    config = BaselineConfig()
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in ("lightgbm", "xgboost"))
    machine = platform.processor() or platform.machine()
    print(f"{len(train):,} training items, {len(test)} test items; {machine}, {args.threads} thread(s); {versions}")
    print("\n| recipe | library | average error | 95% interval | RMSLE | hits | fit seconds |")
    print("|---|---|---|---|---|---|---|")
    for recipe in ("course", "default"):
        for library in ("xgboost", "lightgbm"):
            seconds = []  # the quickest of a few fits: other work on a shared machine only slows one down
            for _ in range(args.repeats):
                start = time.perf_counter()
                predictor = fit(library, recipe, train, config, args.threads)
                seconds.append(time.perf_counter() - start)
            result = Tester(predictor, test, title=library, size=len(test), verbose=False, progress=False).run()
            low, high = result.error_interval()
            print(
                f"| {recipe} | {library} | ${result.average_error:,.2f} | ${low:,.2f}–${high:,.2f} | "
                f"{result.rmsle:.2f} | {result.hit_rate:.1f}% | {min(seconds):.1f} |",
                flush=True,
            )
    sizes = {name: installed_mb(name) for name in ("lightgbm", "xgboost", "nvidia-nccl-cu12")}
    print("\ninstalled: " + ", ".join(f"{name} {mb:,.0f} MB" for name, mb in sizes.items()))


if __name__ == "__main__":
    main()
