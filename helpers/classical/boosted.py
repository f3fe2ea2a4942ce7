"""Gradient-boosted trees, the 2025 edition's strong classical model, two ways: `fit_xgboost`, the
course's own (XGBoost on counts of the 2,000 commonest words, predicting the price), and
`fit_boosted_trees`, this project's default (LightGBM on TF-IDF words and the course's hand-made
features, predicting the log price). Week 6 day 3 shows both in its cells and scores them side by
side; `benchmarks/boosted.py` measures why the default is LightGBM (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from helpers.classical.baselines import BaselineConfig, batched_pricer, fit_features
from helpers.core.items import Item
from helpers.core.tester import Predictor
from helpers.plumbing.errors import ConfigError

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix


def tfidf_and_features(train: list[Item]) -> Callable[[list[Item]], csr_matrix]:
    """The default's inputs: TF-IDF of the 20,000 commonest words and word pairs, then the course's
    four hand-made features (weight, rank, length, brand), learnt from `train`."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    features = fit_features(train)
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=20_000, sublinear_tf=True)
    words.fit([item.text for item in train])

    def matrix(items: list[Item]) -> csr_matrix:
        tfidf = words.transform([item.text for item in items])
        return hstack([tfidf, csr_matrix(np.array([features(item) for item in items]))]).tocsr()

    return matrix


def word_counts(train: list[Item], config: BaselineConfig) -> Callable[[list[Item]], csr_matrix]:
    """The course's XGBoost inputs: how often each of the `config.xgb_words` commonest words
    appears (English stop words left out), learnt from `train`."""
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(max_features=config.xgb_words, stop_words="english")
    vectorizer.fit([item.text for item in train])
    return lambda items: vectorizer.transform([item.text for item in items]).astype(np.float64)  # as any library takes


def lightgbm_regressor(config: BaselineConfig):
    """The default's trees, untrained: `config`'s rounds, leaves and rate, one thread (the same
    trees on every run)."""
    import lightgbm as lgb

    return lgb.LGBMRegressor(
        n_estimators=config.boosted_trees, learning_rate=config.boosted_learning_rate,
        num_leaves=config.boosted_leaves, subsample=0.8, subsample_freq=1, colsample_bytree=0.5,
        random_state=config.seed, n_jobs=1, verbose=-1,
    )  # fmt: skip


def fit_boosted_trees(train: list[Item], config: BaselineConfig) -> Predictor:
    """LightGBM: hundreds of small trees, each fitted to what the trees before it still get
    wrong, on the log price (a $10 miss on a $20 item weighs as much as $100 on $200)."""
    matrix = tfidf_and_features(train)
    model = lightgbm_regressor(config)
    model.fit(matrix(train), np.log1p([item.price for item in train]))
    return batched_pricer(model, matrix, log_price=True, name="boosted_trees_pricer")


def fit_xgboost(train: list[Item], config: BaselineConfig) -> Predictor:
    """XGBoost as the 2025 edition's week 6 day 3 trains it: word counts in, 1,000 trees of depth
    6 at learning rate 0.1, the price itself out (squared error, so dear items weigh most)."""
    try:
        import xgboost as xgb
    except ImportError:  # not a requirement (see requirements.txt): one line on how to get it
        raise ConfigError("xgboost is not installed: pip install xgboost-cpu (xgboost with a CUDA GPU)") from None

    matrix = word_counts(train, config)
    model = xgb.XGBRegressor(
        n_estimators=config.xgb_trees,
        learning_rate=config.xgb_learning_rate,
        random_state=config.seed,
        n_jobs=config.xgb_jobs,
    )
    model.fit(matrix(train), np.array([item.price for item in train]))
    return batched_pricer(model, matrix, log_price=False, name="xgboost_pricer")
