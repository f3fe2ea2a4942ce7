"""Gradient-boosted trees, the 2025 edition's strong classical model: LightGBM on the text's
TF-IDF words and the course's hand-made features, predicting the log price.

LightGBM rather than XGBoost: the same kind of model, as accurate here, and a 3.5 MB wheel with
no dependency beyond numpy and scipy, where XGBoost's Linux wheel is 130 MB and pulls NVIDIA's
NCCL library besides: minutes of installing on every Colab machine and CI run, for a CPU model.
"""

from __future__ import annotations

import numpy as np

from helpers.core.items import Item
from helpers.core.tester import Predictor
from helpers.models.baselines import BaselineConfig, fit_features


def fit_boosted_trees(train: list[Item], config: BaselineConfig) -> Predictor:
    """A predictor `item -> price` from LightGBM trained on `train`."""
    import lightgbm as lgb
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    features = fit_features(train)
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=20_000, sublinear_tf=True)

    def matrix(items: list[Item], fit: bool = False):
        texts = [item.text for item in items]
        tfidf = words.fit_transform(texts) if fit else words.transform(texts)
        return hstack([tfidf, csr_matrix(np.array([features(item) for item in items]))]).tocsr()

    model = lgb.LGBMRegressor(
        n_estimators=config.boosted_trees,
        learning_rate=config.boosted_learning_rate,
        num_leaves=config.boosted_leaves,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.5,
        random_state=config.seed,
        n_jobs=1,  # one thread: the same trees on every run
        verbose=-1,
    )
    model.fit(matrix(train, fit=True), np.log1p([item.price for item in train]))

    def boosted_trees_pricer(item: Item) -> float:
        return max(float(np.expm1(model.predict(matrix([item]))[0])), 0.0)

    def predict_batch(items: list[Item]) -> list[float]:
        return [max(float(p), 0.0) for p in np.expm1(model.predict(matrix(items)))]

    boosted_trees_pricer.predict_batch = predict_batch
    boosted_trees_pricer.batch_size = 256
    return boosted_trees_pricer
