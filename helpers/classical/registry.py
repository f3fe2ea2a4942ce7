"""Every classical model by name, and `fit_baselines`, which trains those asked for: what the
command line's `baselines` stage runs (with week 8's two retrieval models added to the names:
`helpers.week8.neighbour_trees.EVERY_BASELINE`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from helpers.classical.baselines import (
    BaselineConfig,
    DocumentVectors,
    fit_bow_lr,
    fit_constant,
    fit_features_lr,
    fit_random,
    fit_tfidf_ridge,
    fit_word2vec_forest,
    fit_word2vec_lr,
    fit_word2vec_svr,
)
from helpers.classical.boosted import fit_boosted_trees, fit_xgboost
from helpers.classical.neural_net import fit_neural_net
from helpers.classical.stack import fit_stack
from helpers.core.items import Item
from helpers.core.tester import Predictor
from helpers.plumbing.errors import ConfigError, DataError

Registry = dict[str, Callable[..., Predictor]]


def _ensemble(
    train: list[Item],
    config: BaselineConfig,
    trained: dict[str, Predictor] | None = None,
    registry: Registry | None = None,
) -> Predictor:
    """Week 8's ensemble over `config.ensemble_members`, each trained by `fit_baselines`, as a
    stack (`helpers.classical.stack`); members in `trained` are not trained again on every item."""

    def members(items: list[Item], names: list[str]) -> dict[str, Predictor]:
        return fit_baselines(items, replace(config, models=names), "Training the ensemble's members", registry)

    names = list(config.ensemble_members)
    return fit_stack(train, names, members, config.stack_folds, config.seed, trained)


BASELINES: Registry = {
    "random": fit_random,
    "constant": fit_constant,
    "features_lr": fit_features_lr,
    "bow_lr": fit_bow_lr,
    "word2vec_lr": fit_word2vec_lr,
    "word2vec_svr": fit_word2vec_svr,
    "word2vec_forest": fit_word2vec_forest,
    "tfidf_ridge": fit_tfidf_ridge,
    "boosted_trees": fit_boosted_trees,  # the 2025 edition's model, with LightGBM
    "xgboost": fit_xgboost,  # the 2025 edition's model as the course ran it
    "neural_net": fit_neural_net,  # the 2025 edition's
    "ensemble": _ensemble,  # week 8's, over other baselines
}
WORD2VEC = ("word2vec_lr", "word2vec_svr", "word2vec_forest")  # these also take the shared DocumentVectors
# Not `xgboost` unless asked: less accurate than boosted_trees and slower to fit (docs/benchmarks.md,
# benchmarks/boosted.py); nor week 8's retrieval models, which embed every training item (minutes on a CPU).
DEFAULT_BASELINES = [name for name in BASELINES if name != "xgboost"]


def fit_baselines(
    train: list[Item],
    config: BaselineConfig | None = None,
    what: str = "Training baselines",
    registry: Registry | None = None,
) -> dict[str, Predictor]:
    """Train the configured baselines (`config.models`, else DEFAULT_BASELINES) from `registry`
    (BASELINES unless given); returns
    {name: predictor}, in the course's order. The progress bar, described as `what`, names the
    model in training: some take minutes, and a bar at "6/11" alone looks hung."""
    from tqdm.auto import tqdm

    config = config or BaselineConfig()
    models = DEFAULT_BASELINES if config.models is None else config.models
    registry = registry or BASELINES
    unknown = [name for name in models if name not in registry]
    if unknown:
        raise ConfigError(f"unknown baseline {unknown[0]!r}; known: {', '.join(registry)}")
    if not train:
        raise DataError("no training items")
    predictors, vectors = {}, None
    bar = tqdm(models, desc=what, unit="model")
    for name in bar:
        bar.set_postfix_str(name)
        if name in WORD2VEC:
            vectors = vectors or DocumentVectors(train, config)
            predictors[name] = registry[name](train, config, vectors)
        elif name == "ensemble":  # its members already trained here are not trained again
            predictors[name] = _ensemble(train, config, predictors, registry)
        else:
            predictors[name] = registry[name](train, config)
    return predictors
