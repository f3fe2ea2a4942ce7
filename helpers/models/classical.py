"""Every CPU model by name, and `fit_baselines`, which trains those asked for: what the command
line's `baselines` stage and week 6 day 3's ensemble run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from helpers.core.items import Item
from helpers.core.tester import Predictor
from helpers.errors import ConfigError, DataError
from helpers.models.baselines import (
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
from helpers.models.boosted import fit_boosted_trees, fit_xgboost
from helpers.models.neighbour_trees import fit_boosted_neighbours
from helpers.models.neural_net import fit_neural_net
from helpers.models.retrieval import fit_neighbours
from helpers.models.stack import fit_stack


def _ensemble(train: list[Item], config: BaselineConfig, trained: dict[str, Predictor] | None = None) -> Predictor:
    """Week 8's ensemble over `config.ensemble_members`, each trained by `fit_baselines`, as a
    stack (`helpers.models.stack`); members in `trained` are not trained again on every item."""

    def members(items: list[Item], names: list[str]) -> dict[str, Predictor]:
        return fit_baselines(items, replace(config, models=names), "Training the ensemble's members")

    names = list(config.ensemble_members)
    return fit_stack(train, names, members, config.stack_folds, config.seed, trained)


BASELINES: dict[str, Callable[..., Predictor]] = {
    "random": fit_random,
    "constant": fit_constant,
    "features_lr": fit_features_lr,
    "bow_lr": fit_bow_lr,
    "word2vec_lr": fit_word2vec_lr,
    "word2vec_svr": fit_word2vec_svr,
    "word2vec_forest": fit_word2vec_forest,
    "tfidf_ridge": fit_tfidf_ridge,
    "boosted_trees": fit_boosted_trees,  # the 2025 edition's model, with LightGBM
    "boosted_neighbours": fit_boosted_neighbours,  # the same, shown its nearest training items' prices
    "xgboost": fit_xgboost,  # the 2025 edition's model as the course ran it
    "neural_net": fit_neural_net,  # the 2025 edition's
    "neighbours": fit_neighbours,  # week 8's retrieval alone
    "ensemble": _ensemble,  # week 8's, over other baselines
}
WORD2VEC = ("word2vec_lr", "word2vec_svr", "word2vec_forest")  # these also take the shared DocumentVectors
# Not `neighbours` unless asked: embedding every training item takes a minute a few thousand on a CPU.
# Not `xgboost`: less accurate than boosted_trees and slower to fit (docs/benchmarks.md, benchmarks/boosted.py).
# Not `boosted_neighbours` unless asked: it embeds every training item too.
ASKED_ONLY = ("neighbours", "xgboost", "boosted_neighbours")
DEFAULT_BASELINES = [name for name in BASELINES if name not in ASKED_ONLY]


def fit_baselines(
    train: list[Item], config: BaselineConfig | None = None, what: str = "Training baselines"
) -> dict[str, Predictor]:
    """Train the configured baselines (`config.models`, else every one but neighbours); returns
    {name: predictor}, in the course's order. The progress bar, described as `what`, names the
    model in training: some take minutes, and a bar at "6/11" alone looks hung."""
    from tqdm.auto import tqdm

    config = config or BaselineConfig()
    models = DEFAULT_BASELINES if config.models is None else config.models
    unknown = [name for name in models if name not in BASELINES]
    if unknown:
        raise ConfigError(f"unknown baseline {unknown[0]!r}; known: {', '.join(BASELINES)}")
    if not train:
        raise DataError("no training items")
    predictors, vectors = {}, None
    bar = tqdm(models, desc=what, unit="model")
    for name in bar:
        bar.set_postfix_str(name)
        if name in WORD2VEC:
            vectors = vectors or DocumentVectors(train, config)
            predictors[name] = BASELINES[name](train, config, vectors)
        elif name == "ensemble":  # its members already trained here are not trained again
            predictors[name] = _ensemble(train, config, predictors)
        else:
            predictors[name] = BASELINES[name](train, config)
    return predictors
