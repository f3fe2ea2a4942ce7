"""Classical baselines from the course (2024 and 2025 editions, and week 8's), plus TF-IDF ridge.

Each `fit_*` function learns from training items and returns a predictor `item -> price`
that the Tester can call. Word2vec vectors are learnt once and shared by the three models
that use them, as in the course. The 2025 edition's gradient-boosted trees and neural network,
week 8's retrieval and ensemble live in modules of their own (`boosted`, `neural_net`,
`retrieval`, `ensemble`).
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from helpers.errors import ConfigError, DataError
from helpers.items import Item
from helpers.retrieval import EMBEDDING_MODEL

Predictor = Callable[[Item], float]
TOP_ELECTRONICS_BRANDS = ["hp", "dell", "lenovo", "samsung", "asus", "sony", "canon", "apple", "intel"]
POUNDS_PER = {
    "pounds": 1.0,
    "pound": 1.0,
    "lbs": 1.0,
    "ounces": 1 / 16,
    "ounce": 1 / 16,
    "oz": 1 / 16,
    "grams": 1 / 453.592,
    "gram": 1 / 453.592,
    "g": 1 / 453.592,
    "milligrams": 1 / 453592,
    "kilograms": 1 / 0.453592,
    "kilogram": 1 / 0.453592,
    "kg": 1 / 0.453592,
}


@dataclass
class BaselineConfig:
    """Which baselines to train, with the course's settings."""

    models: list[str] = field(default_factory=lambda: list(DEFAULT_BASELINES))
    seed: int = 42
    bow_max_features: int = 1000
    w2v_dims: int = 400
    w2v_window: int = 5
    w2v_workers: int = 1  # more is faster but no longer reproducible
    forest_trees: int = 100
    forest_jobs: int = -1
    forest_sample: int | None = 20_000  # a forest on 400,000 items takes hours: the 2025 course samples too
    boosted_trees: int = 400
    boosted_leaves: int = 31
    boosted_learning_rate: float = 0.05
    nn_hidden: int = 256  # the 2025 course: 4096
    nn_layers: int = 4  # the 2025 course: 10
    nn_features: int = 2**14  # hashed words and word pairs
    nn_dropout: float = 0.2
    nn_learning_rate: float = 1e-3
    nn_batch: int = 64
    nn_epochs: int = 40
    nn_patience: int = 4  # epochs without a better validation error before training stops
    validation_share: float = 0.1  # of the training items, held out by the neural net and the ensemble
    ensemble_members: list[str] = field(default_factory=lambda: ["tfidf_ridge", "boosted_trees", "neural_net"])
    embedding_model: str = EMBEDDING_MODEL  # for `neighbours`: the hub's, else the offline package's copy
    neighbours_k: int = 5


def held_out(count: int, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions kept for training, positions held out): the one rule by which the neural net
    and the ensemble set `share` of the training items aside, in a seeded random order."""
    order = np.random.default_rng(seed).permutation(count)
    held = max(1, int(count * share))
    return order[held:], order[:held]


# --- the course's hand-made features -------------------------------------------------------


def get_weight(item: Item) -> float | None:
    """Item weight in pounds from details["Item Weight"], e.g. "2.5 Pounds", "12 ounces"."""
    text = item.details.get("Item Weight")
    if not isinstance(text, str):
        return None
    parts = text.lower().replace(",", "").split()
    if len(parts) < 2:
        return None
    try:
        amount = float(parts[0])
    except ValueError:
        return None
    if parts[1] == "hundredths" and len(parts) > 2 and parts[2] == "pounds":
        return amount / 100
    factor = POUNDS_PER.get(parts[1])
    return amount * factor if factor is not None else None


def get_rank(item: Item) -> float | None:
    """Mean of the Best Sellers Rank values."""
    ranks = item.details.get("Best Sellers Rank")
    if not isinstance(ranks, dict):
        return None
    values = [v for v in ranks.values() if isinstance(v, (int, float))]
    return sum(values) / len(values) if values else None


def is_top_electronics_brand(item: Item) -> bool:
    brand = item.details.get("Brand")
    return isinstance(brand, str) and brand.lower() in TOP_ELECTRONICS_BRANDS


def _mean_or(values: list[float | None], default: float) -> float:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else default


class Features:
    """What several baselines share, each computed once on first use: the hand-made features,
    the bag of words and the word2vec vectors. Week 6 day 3 looks inside before training."""

    def __init__(self, train: list[Item], config: BaselineConfig):
        self.train = train
        self.config = config
        self.prices = np.array([item.price for item in train])
        self.documents = [item.test_prompt() for item in train]

    @cached_property
    def average_weight(self) -> float:
        return _mean_or([get_weight(item) for item in self.train], 1.0)

    @cached_property
    def average_rank(self) -> float:
        return _mean_or([get_rank(item) for item in self.train], 1_000_000.0)

    def features(self, item: Item) -> list[float]:
        weight = get_weight(item)
        rank = get_rank(item)
        return [
            weight if weight is not None else self.average_weight,
            rank if rank is not None else self.average_rank,
            float(len(item.test_prompt())),
            1.0 if is_top_electronics_brand(item) else 0.0,
        ]

    @cached_property
    def bag_of_words(self):
        """(vectorizer, counts): the commonest words but English stop words, counted per item."""
        from sklearn.feature_extraction.text import CountVectorizer

        vectorizer = CountVectorizer(max_features=self.config.bow_max_features, stop_words="english")
        return vectorizer, vectorizer.fit_transform(self.documents)

    @cached_property
    def word2vec(self):
        from gensim.models import Word2Vec
        from gensim.utils import simple_preprocess

        sentences = [simple_preprocess(doc) for doc in self.documents]
        return Word2Vec(
            sentences=sentences,
            vector_size=self.config.w2v_dims,
            window=self.config.w2v_window,
            min_count=1,
            workers=self.config.w2v_workers,
            seed=self.config.seed,
            hashfxn=_stable_hash,
        )

    def vector(self, document: str) -> np.ndarray:
        from gensim.utils import simple_preprocess

        vectors = self.word2vec.wv
        words = [w for w in simple_preprocess(document) if w in vectors]
        if not words:
            return np.zeros(self.config.w2v_dims)
        return np.mean([vectors[w] for w in words], axis=0)

    @cached_property
    def w2v_matrix(self) -> np.ndarray:
        return np.array([self.vector(doc) for doc in self.documents])


def _stable_hash(text: str) -> int:
    """gensim seeds word vectors with hash(word); Python's str hash changes every run."""
    return zlib.crc32(text.encode("utf-8"))


def _clamp(value: float) -> float:
    return max(float(value), 0.0)


# --- the baselines -------------------------------------------------------------------------


def fit_random(fitted: Features) -> Predictor:
    rng = random.Random(fitted.config.seed)

    def random_pricer(item: Item) -> float:
        return float(rng.randrange(1, 1000))

    return random_pricer


def fit_constant(fitted: Features) -> Predictor:
    average = float(fitted.prices.mean())

    def constant_pricer(item: Item) -> float:
        return average

    return constant_pricer


def fit_features_lr(fitted: Features) -> Predictor:
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit([fitted.features(i) for i in fitted.train], fitted.prices)

    def features_lr_pricer(item: Item) -> float:
        return _clamp(model.predict([fitted.features(item)])[0])

    return features_lr_pricer


def fit_bow_lr(fitted: Features) -> Predictor:
    from sklearn.linear_model import LinearRegression

    vectorizer, counts = fitted.bag_of_words
    model = LinearRegression().fit(counts, fitted.prices)

    def bow_lr_pricer(item: Item) -> float:
        return _clamp(model.predict(vectorizer.transform([item.test_prompt()]))[0])

    return bow_lr_pricer


def _fit_on_vectors(fitted: Features, model, name: str, sample: int | None = None) -> Predictor:
    rows = np.arange(len(fitted.prices))
    if sample and sample < len(rows):
        rows = np.random.default_rng(fitted.config.seed).choice(rows, size=sample, replace=False)
        print(f"{name}: trained on a sample of {sample:,} of the {len(fitted.prices):,} items", flush=True)
    model.fit(fitted.w2v_matrix[rows], fitted.prices[rows])
    if hasattr(model, "n_jobs"):
        model.n_jobs = 1  # one row at a time: threads cost more than they save

    def predictor(item: Item) -> float:
        return _clamp(model.predict([fitted.vector(item.test_prompt())])[0])

    predictor.__name__ = name
    return predictor


def fit_word2vec_lr(fitted: Features) -> Predictor:
    from sklearn.linear_model import LinearRegression

    return _fit_on_vectors(fitted, LinearRegression(), "word2vec_lr_pricer")


def fit_word2vec_svr(fitted: Features) -> Predictor:
    from sklearn.svm import LinearSVR

    return _fit_on_vectors(fitted, LinearSVR(random_state=fitted.config.seed, max_iter=5000), "svr_pricer")


def fit_word2vec_forest(fitted: Features) -> Predictor:
    from sklearn.ensemble import RandomForestRegressor

    forest = RandomForestRegressor(
        n_estimators=fitted.config.forest_trees, random_state=fitted.config.seed, n_jobs=fitted.config.forest_jobs
    )
    return _fit_on_vectors(fitted, forest, "random_forest_pricer", fitted.config.forest_sample)


def fit_tfidf_ridge(fitted: Features) -> Predictor:
    """Beyond the course: word and character n-grams, ridge regression on log price."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline, make_union

    model = make_pipeline(
        make_union(
            TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=200_000),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True, max_features=300_000),
        ),
        Ridge(alpha=1.0),
    )
    texts = [item.text for item in fitted.train]
    model.fit(texts, np.log1p(fitted.prices))

    def tfidf_ridge_pricer(item: Item) -> float:
        return _clamp(np.expm1(model.predict([item.text])[0]))

    return tfidf_ridge_pricer


def fit_boosted_trees(fitted: Features) -> Predictor:
    """The 2025 edition's gradient-boosted trees (LightGBM), in a module of its own."""
    from helpers.boosted import fit_boosted_trees as fit

    return fit(fitted)


def fit_neural_net(fitted: Features) -> Predictor:
    """The 2025 edition's residual MLP (PyTorch), in a module of its own."""
    from helpers.neural_net import fit_neural_net as fit

    return fit(fitted)


def fit_neighbours(fitted: Features) -> Predictor:
    """Week 8's retrieval alone: the k most similar training items' prices, averaged."""
    from helpers.retrieval import fit_neighbours as fit

    return fit(fitted)


def fit_ensemble(fitted: Features) -> Predictor:
    """Week 8's ensemble over other baselines, weights fitted on validation items only."""
    from helpers.ensemble import fit_ensemble as fit

    return fit(fitted)


BASELINES: dict[str, Callable[[Features], Predictor]] = {
    "random": fit_random,
    "constant": fit_constant,
    "features_lr": fit_features_lr,
    "bow_lr": fit_bow_lr,
    "word2vec_lr": fit_word2vec_lr,
    "word2vec_svr": fit_word2vec_svr,
    "word2vec_forest": fit_word2vec_forest,
    "tfidf_ridge": fit_tfidf_ridge,
    "boosted_trees": fit_boosted_trees,
    "neural_net": fit_neural_net,
    "neighbours": fit_neighbours,
    "ensemble": fit_ensemble,
}
# Not `neighbours` unless asked: embedding every training item takes a minute a few thousand on a CPU.
DEFAULT_BASELINES = [name for name in BASELINES if name != "neighbours"]


def fit_baselines(
    train: list[Item], config: BaselineConfig | None = None, features: Features | None = None
) -> dict[str, Predictor]:
    """Train the configured baselines; returns {name: predictor}, in the course's order."""
    from tqdm.auto import tqdm

    config = config or BaselineConfig()
    unknown = [name for name in config.models if name not in BASELINES]
    if unknown:
        raise ConfigError(f"unknown baseline {unknown[0]!r}; known: {', '.join(BASELINES)}")
    if not train:
        raise DataError("no training items")
    fitted = features or Features(train, config)
    predictors = {}
    for name in tqdm(config.models, desc="Training baselines"):
        predictors[name] = BASELINES[name](fitted)
    return predictors
