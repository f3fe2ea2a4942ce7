"""The boosted trees shown their nearest training items' prices: no training item sees its own."""

import numpy as np
import pytest

from helpers.classical.baselines import BaselineConfig
from helpers.classical.registry import fit_baselines
from helpers.core.tester import Tester
from helpers.week8.neighbour_trees import EVERY_BASELINE, neighbour_features, out_of_fold
from helpers.week8.retrieval import offline_embedding_model


def unit_vectors(count: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, 16)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_a_training_item_never_finds_itself_among_its_neighbours():
    import faiss

    vectors, log_prices = unit_vectors(200), np.log1p(np.arange(200, dtype=float) + 1)
    rows = out_of_fold(vectors, log_prices, k=5, folds=5, seed=42)
    similarities, own_logs = rows[:, 5:10], rows[:, :5]
    assert (similarities < 0.999).all()  # itself would be 1.0
    assert not (own_logs == log_prices[:, None]).any()  # each price is unique: its own is never shown
    index = faiss.IndexFlatIP(16)
    index.add(vectors)
    assert np.allclose(index.search(vectors, 1)[0][:, 0], 1.0)  # where a full search finds itself first


def test_the_features_are_the_neighbours_prices_similarities_and_their_weighted_mean():
    row = neighbour_features(np.array([[0.9, 0.1]]), np.array([[2.0, 4.0]]))[0]
    assert row[:4].tolist() == [2.0, 4.0, 0.9, 0.1]
    assert row[4] == pytest.approx((0.9 * 2 + 0.1 * 4) / 1.0) and row[5] == 3.0 and row[6] == 1.0


@pytest.mark.skipif(offline_embedding_model() is None, reason="the offline embedding model is not installed")
def test_the_trees_with_neighbours_learn_prices(bundled_train, bundled_test):
    config = BaselineConfig(models=["constant", "boosted_neighbours"], embedding_model=offline_embedding_model())
    fitted = fit_baselines(bundled_train[:300], config, registry=EVERY_BASELINE)
    errors = {name: Tester(p, bundled_test[:60], verbose=False).run().average_error for name, p in fitted.items()}
    assert errors["boosted_neighbours"] < 0.9 * errors["constant"]
