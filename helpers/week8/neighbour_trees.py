"""Week 8's idea inside week 6's best model: the boosted trees see, beside an item's words, the
prices of its nearest training items by embedding (their log prices and similarities, and the
similarity-weighted mean), as the RAG pricer shows a frontier model five similar items.

A training item must not find itself among its neighbours, or the trees learn to copy a price
they will never have for a new item: so a training item's neighbours come from the other folds
of the training items (out of fold), and a new item's from every training item.
"""

from __future__ import annotations

import numpy as np

from helpers.classical.baselines import BaselineConfig, batched_pricer
from helpers.classical.boosted import lightgbm_regressor, tfidf_and_features
from helpers.classical.registry import BASELINES, Registry
from helpers.core.items import Item
from helpers.core.tester import Predictor
from helpers.week8.retrieval import VectorStore, fit_neighbours, shared_embedder


def neighbour_features(similarities: np.ndarray, log_prices: np.ndarray) -> np.ndarray:
    """One row an item: its k neighbours' log prices and similarities (most similar first), the
    similarity-weighted mean log price, the plain mean and the spread."""
    weights = np.maximum(similarities, 1e-6)
    weighted = (weights * log_prices).sum(axis=1) / weights.sum(axis=1)
    return np.column_stack([log_prices, similarities, weighted, log_prices.mean(axis=1), log_prices.std(axis=1)])


def out_of_fold(vectors: np.ndarray, log_prices: np.ndarray, k: int, folds: int, seed: int) -> np.ndarray:
    """`neighbour_features` of each training item, its neighbours found among the other folds only."""
    import faiss
    from sklearn.model_selection import KFold

    rows = np.zeros((len(vectors), 2 * k + 3))
    for kept, held in KFold(folds, shuffle=True, random_state=seed).split(vectors):
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors[kept])
        similarities, positions = index.search(vectors[held], k)
        rows[held] = neighbour_features(similarities, log_prices[kept][positions])
    return rows


def fit_boosted_neighbours(train: list[Item], config: BaselineConfig) -> Predictor:
    """The default boosted trees over TF-IDF, the hand-made features and the neighbours' prices."""
    from scipy.sparse import csr_matrix, hstack

    embedder = shared_embedder(config.embedding_model)
    store = VectorStore.for_items(train, embedder=embedder)  # embedded once, kept on disk
    log_prices = np.log1p([item.price for item in train])
    k = config.neighbours_k
    words = tfidf_and_features(train)
    seen = out_of_fold(store.vectors(), log_prices, k, config.neighbour_folds, config.seed)
    model = lightgbm_regressor(config)
    model.fit(hstack([words(train), csr_matrix(seen)]).tocsr(), log_prices)

    def matrix(items: list[Item]):
        similarities, positions = store.index.search(embedder.embed([item.text for item in items]), k)
        return hstack([words(items), csr_matrix(neighbour_features(similarities, log_prices[positions]))]).tocsr()

    return batched_pricer(model, matrix, log_price=True, name="boosted_neighbours_pricer")


# Every classical model by name, and week 8's two that embed the training items: what the command
# line's `baselines --models` and the classical agent choose from.
EVERY_BASELINE: Registry = {
    **BASELINES,
    "boosted_neighbours": fit_boosted_neighbours,  # the boosted trees shown their nearest training items' prices
    "neighbours": fit_neighbours,  # week 8's retrieval alone
}
