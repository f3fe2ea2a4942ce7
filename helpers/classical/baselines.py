"""Classical baselines from the course (2024 and 2025 editions), plus TF-IDF ridge.

Each `fit_*` function learns from training items and returns a predictor `item -> price` that
the Tester can call. Week 6 day 3 shows these functions in its cells, copied verbatim (see
`notebooks/sync.py`), so that what the notebook teaches is what `python -m helpers baselines`
runs. The word2vec vectors are learnt once and shared by the three models that use them, as in
the course. The 2025 edition's gradient-boosted trees (LightGBM, and XGBoost as the course ran
it), its neural network and the stack live in modules of their own beside this one (`boosted`,
`neural_net`, `stack`), and `registry` trains any of them by name.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from helpers.core.items import Item
from helpers.core.tester import Predictor
from helpers.presets import EMBEDDING_MODEL

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

    models: list[str] | None = None  # the baselines to train (default: every one but neighbours)
    seed: int = 42  # seeds every model and sample
    bow_max_features: int = 1000  # bag of words: the most frequent words kept
    w2v_dims: int = 400  # word2vec: numbers a word vector
    w2v_window: int = 5  # word2vec: words either side that make a context
    w2v_workers: int = 1  # more is faster but no longer reproducible
    forest_trees: int = 100  # random forest: trees
    forest_jobs: int = -1  # random forest: processes (-1: one per CPU)
    forest_sample: int | None = 20_000  # random forest: training items sampled (a forest on 400,000 items takes hours)
    boosted_trees: int = 400  # gradient-boosted trees: rounds
    boosted_leaves: int = 31  # gradient-boosted trees: leaves a tree
    boosted_learning_rate: float = 0.05  # gradient-boosted trees: shrinkage a round
    xgb_trees: int = 1000  # XGBoost as the 2025 course trains it: rounds (n_estimators=1000)
    xgb_learning_rate: float = 0.1  # XGBoost: shrinkage a round (the course's 0.1)
    xgb_words: int = 2000  # XGBoost: the commonest words counted (the course's CountVectorizer, 2,000)
    xgb_jobs: int = 1  # XGBoost: threads (the course: 4); its trees are the same for any count
    nn_hidden: int = 256  # neural net: units a hidden layer (the 2025 course: 4096)
    nn_layers: int = 4  # neural net: hidden layers (the 2025 course: 10)
    nn_features: int = 2**14  # neural net: hashed words and word pairs
    nn_dropout: float = 0.2  # neural net: dropout between layers
    nn_learning_rate: float = 1e-3  # neural net: Adam's learning rate
    nn_batch: int = 64  # neural net: items a step
    nn_epochs: int = 40  # neural net: the most passes over the training items
    nn_patience: int = 4  # epochs without a better validation error before training stops
    validation_share: float = 0.1  # of the training items, held out by the neural net's early stopping
    ensemble_members: list[str] = field(
        default_factory=lambda: ["tfidf_ridge", "boosted_trees", "neural_net"]
    )  # the baselines the ensemble weighs
    stack_folds: int = 3  # the ensemble: folds its members price the training items in, out of fold
    embedding_model: str = (
        EMBEDDING_MODEL  # neighbours: the sentence-transformers model (the hub's, else the offline copy)
    )
    neighbours_k: int = 5  # neighbours: similar items averaged (and boosted_neighbours: items shown to the trees)
    neighbour_folds: int = 5  # boosted_neighbours: folds, so that no training item sees its own price


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


def fit_features(train: list[Item]) -> Callable[[Item], list[float]]:
    """The feature function: weight, rank, prompt length and the brand flag. An item without a
    weight or a rank gets the training items' average, so the training set is needed first."""
    weights = [w for w in map(get_weight, train) if w is not None]
    ranks = [r for r in map(get_rank, train) if r is not None]
    average_weight = float(np.mean(weights)) if weights else 1.0
    average_rank = float(np.mean(ranks)) if ranks else 1_000_000.0

    def features(item: Item) -> list[float]:
        weight, rank = get_weight(item), get_rank(item)
        return [
            average_weight if weight is None else weight,
            average_rank if rank is None else rank,
            float(len(item.test_prompt())),
            1.0 if is_top_electronics_brand(item) else 0.0,
        ]

    return features


# --- the baselines -------------------------------------------------------------------------


def fit_random(train: list[Item], config: BaselineConfig) -> Predictor:
    rng = random.Random(config.seed)

    def random_pricer(item: Item) -> float:
        return float(rng.randrange(1, 1000))

    return random_pricer


def fit_constant(train: list[Item], config: BaselineConfig) -> Predictor:
    average = float(np.mean([item.price for item in train]))

    def constant_pricer(item: Item) -> float:
        return average

    return constant_pricer


def fit_features_lr(train: list[Item], config: BaselineConfig) -> Predictor:
    from sklearn.linear_model import LinearRegression

    features = fit_features(train)
    model = LinearRegression().fit([features(item) for item in train], [item.price for item in train])

    def features_lr_pricer(item: Item) -> float:
        return max(float(model.predict([features(item)])[0]), 0.0)

    return features_lr_pricer


def fit_bow_lr(train: list[Item], config: BaselineConfig) -> Predictor:
    """Bag of words: how often each of the commonest words appears (English stop words left
    out), then a linear regression that gives each word a price."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LinearRegression

    vectorizer = CountVectorizer(max_features=config.bow_max_features, stop_words="english")
    counts = vectorizer.fit_transform([item.test_prompt() for item in train])
    model = LinearRegression().fit(counts, [item.price for item in train])

    def bow_lr_pricer(item: Item) -> float:
        return max(float(model.predict(vectorizer.transform([item.test_prompt()]))[0]), 0.0)

    bow_lr_pricer.vectorizer, bow_lr_pricer.model = vectorizer, model  # to look inside: what each word is worth
    return bow_lr_pricer


def stable_hash(text: str) -> int:
    """gensim seeds word vectors with hash(word); Python's str hash changes every run."""
    return zlib.crc32(text.encode("utf-8"))


class DocumentVectors:
    """word2vec learnt on the training prompts; an item's vector is the average of its words'
    vectors. Learnt once, it serves the three word2vec baselines."""

    def __init__(self, train: list[Item], config: BaselineConfig):
        from gensim.models import Word2Vec
        from gensim.utils import simple_preprocess

        self.model = Word2Vec(
            sentences=[simple_preprocess(item.test_prompt()) for item in train],
            vector_size=config.w2v_dims,
            window=config.w2v_window,
            min_count=1,
            workers=config.w2v_workers,
            seed=config.seed,
            hashfxn=stable_hash,
        )
        self.train = np.array([self(item) for item in train])

    def __call__(self, item: Item) -> np.ndarray:
        from gensim.utils import simple_preprocess

        words = [word for word in simple_preprocess(item.test_prompt()) if word in self.model.wv]
        if not words:
            return np.zeros(self.model.vector_size)
        return np.mean([self.model.wv[word] for word in words], axis=0)


def batched_pricer(model, matrix: Callable[[list[Item]], object], log_price: bool, name: str) -> Predictor:
    """A fitted scikit-learn-style model as a predictor `item -> price`, and batched
    (`predict_batch`) for the Tester: a model is quick on 256 rows at once and slow one row at a
    time. `matrix` turns items into the model's inputs; `log_price`: the model learnt the log."""

    def predict_batch(items: list[Item]) -> list[float]:
        guesses = model.predict(matrix(items))
        return [max(float(p), 0.0) for p in (np.expm1(guesses) if log_price else guesses)]

    def pricer(item: Item) -> float:
        return predict_batch([item])[0]

    pricer.__name__ = name
    pricer.predict_batch, pricer.batch_size = predict_batch, 256
    return pricer


def fit_on_vectors(
    regressor, train: list[Item], vectors: DocumentVectors, name: str, sample: int | None = None, seed: int = 42
) -> Predictor:
    """Any scikit-learn regressor on the word2vec vectors; on a seeded sample of `sample`
    training items when there are more."""
    rows = np.arange(len(train))
    if sample and sample < len(rows):
        rows = np.random.default_rng(seed).choice(rows, size=sample, replace=False)
        print(f"{name}: trained on a sample of {sample:,} of the {len(train):,} items", flush=True)
    regressor.fit(vectors.train[rows], np.array([item.price for item in train])[rows])
    return batched_pricer(regressor, lambda items: np.array([vectors(item) for item in items]), False, name)


def fit_word2vec_lr(train: list[Item], config: BaselineConfig, vectors: DocumentVectors) -> Predictor:
    from sklearn.linear_model import LinearRegression

    return fit_on_vectors(LinearRegression(), train, vectors, "word2vec_lr_pricer")


def fit_word2vec_svr(train: list[Item], config: BaselineConfig, vectors: DocumentVectors) -> Predictor:
    from sklearn.svm import LinearSVR

    return fit_on_vectors(LinearSVR(random_state=config.seed, max_iter=5000), train, vectors, "svr_pricer")


def fit_word2vec_forest(train: list[Item], config: BaselineConfig, vectors: DocumentVectors) -> Predictor:
    from sklearn.ensemble import RandomForestRegressor

    forest = RandomForestRegressor(
        n_estimators=config.forest_trees, random_state=config.seed, n_jobs=config.forest_jobs
    )
    return fit_on_vectors(forest, train, vectors, "random_forest_pricer", config.forest_sample, config.seed)


def fit_tfidf_ridge(train: list[Item], config: BaselineConfig) -> Predictor:
    """Beyond the course: word and character n-grams, ridge regression on the log price."""
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
    model.fit([item.text for item in train], np.log1p([item.price for item in train]))
    return batched_pricer(model, lambda items: [item.text for item in items], True, "tfidf_ridge_pricer")
