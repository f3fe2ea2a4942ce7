# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Week 6, day 3: classical baselines
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week6/day3_baselines.ipynb)
#
# Before any LLM: how well do simple models do? Every model here is a function `item -> price`,
# written in this notebook, and the `Tester` scores it on the first 250 test items: average error
# in dollars, RMSLE (the error in log prices, so that $10 off a $20 item counts as much as $100 off
# $200), and the hit rate (within $40 or 20%). Every result lands in one leaderboard, in the
# store, that later weeks add to. For context, the course's figures on its 250 test items (2024
# edition, 400,000 training items): random $341, the average $146, the hand-made features $139,
# the bag of words $114, word2vec with linear regression $115, with a random forest $97.
#
# Each `fit_*` function takes the training items and returns a predictor. The command line's
# `python -m helpers baselines` runs the very same functions from `helpers/classical/`: a cell
# that starts `# as in helpers.classical.baselines: ...` is a copy of them, kept in step by a test. Edit a
# cell here to try an idea; the score below it changes, and helpers stays as it was.

# %%
# Setup. In Colab: fetch the repository and install it (a minute or two), showing what each step
# prints. Locally: nothing to do, the README's `bash .ci/setup` (or `pip install -e .`) did it.
import subprocess
import sys
from pathlib import Path

REPO = "pricer-course/pricer"  # GitHub owner/name (`python -m helpers fork OWNER/NAME` points it at a fork)
STORE = "drive"  # in Colab, where results outlive this machine: "drive" (Google Drive) or "hf" (your hub)
COLAB = "google.colab" in sys.modules
CLONE = Path("/content/pricer")  # where Colab keeps the repository


class SetupFailed(Exception):
    def _render_traceback_(self):  # shown as this one line, not as a traceback
        return [f"error: {self}"]


def run_setup_step(name: str, command: list[str]) -> None:
    print("$", " ".join(command), flush=True)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        print(line, end="", flush=True)
    if process.wait():
        raise SetupFailed(f"the {name} failed (exit status {process.returncode}): its output is above")


if COLAB:
    if not (CLONE / ".git").exists():
        run_setup_step("clone", ["git", "clone", "--depth", "1", f"https://github.com/{REPO}", str(CLONE)])
    if not (CLONE / ".installed").exists():
        run_setup_step("install", [sys.executable, "-m", "pip", "install", "-e", str(CLONE)])
        (CLONE / ".installed").touch()
    sys.path.insert(0, str(CLONE))

from helpers.notebook import setup

# smoke mode (PRICER_SMOKE=1): offline, on the bundled sample; `store` keeps what outlives this machine
SMOKE, store = setup(STORE if COLAB else None)

# %%
from helpers.classical.baselines import BaselineConfig
from helpers.notebook import curated

DATA = None  # None: day 2's items from the store; "course-2024" or "course-2025": the course's own
train, validation, test = (curated(split, store, DATA) for split in ("train", "validation", "test"))
config = BaselineConfig()  # the course's settings; the forest trains on a sample of 20,000 items (2025: 15,000)
if SMOKE:
    train = train[:1000]
    config.forest_trees = 10
    config.nn_epochs = 6  # a pipeline check: the full 40 only matter on the real data

# %%
import random
import zlib
from collections.abc import Callable

import numpy as np

from helpers.core.answers import remember, score_and_keep
from helpers.core.items import Item
from helpers.core.tester import Predictor

predictors, results = {}, {}


def score(name: str, predictor: Predictor) -> None:
    """Through the Tester, onto the leaderboard, its answers kept; then the validation items, for week 8."""
    predictors[name] = predictor
    results[name] = score_and_keep(predictor, test, store, title=name, trained_on=train)  # one row per training set
    remember(name, predictor, validation, store)


# %% [markdown]
# ## The simplest baselines
#
# A random guess between $1 and $999 (seeded, so every run guesses the same), and the training
# items' average price. Anything that learns must beat both.


# %%
# as in helpers.classical.baselines: fit_random, fit_constant
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


# %%
score("random", fit_random(train, config))
score("constant", fit_constant(train, config))

# %% [markdown]
# ## The course's hand-made features
#
# What a person might look at: the weight, the best-sellers rank, how long the description is,
# and whether the brand is a big electronics name. Then a linear regression weighs them. Most
# items lack a weight or a rank; they get the training items' average instead.

# %%
from helpers.classical.baselines import POUNDS_PER, TOP_ELECTRONICS_BRANDS

print(f"weights read in: {', '.join(POUNDS_PER)}\ntop brands: {', '.join(TOP_ELECTRONICS_BRANDS)}")


# %%
# as in helpers.classical.baselines: get_weight, get_rank, is_top_electronics_brand, fit_features
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


# %%
features = fit_features(train)
for item in train[:5]:
    weight, rank, length, brand = features(item)
    print(f"${item.price:>7.2f}  weight {weight:7.2f} lb  rank {rank:>11,.0f}  {length:5.0f} chars  brand {brand:.0f}")


# %%
# as in helpers.classical.baselines: fit_features_lr
def fit_features_lr(train: list[Item], config: BaselineConfig) -> Predictor:
    from sklearn.linear_model import LinearRegression

    features = fit_features(train)
    model = LinearRegression().fit([features(item) for item in train], [item.price for item in train])

    def features_lr_pricer(item: Item) -> float:
        return max(float(model.predict([features(item)])[0]), 0.0)

    return features_lr_pricer


# %%
score("features_lr", fit_features_lr(train, config))


# %% [markdown]
# ## Words as numbers: the bag of words
#
# A bag of words forgets word order and counts, for every item, how often each of the 1,000
# commonest words appears (English stop words such as "the" left out). A linear regression then
# learns a price for each word, and an item's guess is the sum of its words' prices. It captures
# *which* words an item uses ("stainless", "cordless", "kit"), not what they mean: "drill" and
# "driver" are as unrelated to it as "drill" and "banana".


# %%
# as in helpers.classical.baselines: fit_bow_lr
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


# %%
bow_lr = fit_bow_lr(train, config)
words, worth = bow_lr.vectorizer.get_feature_names_out(), bow_lr.model.coef_
ranked = sorted(zip(worth, words))
print("words that add the most:", ", ".join(f"{w} (+${c:,.0f})" for c, w in reversed(ranked[-8:])))
print("words that take the most off:", ", ".join(f"{w} (-${-c:,.0f})" for c, w in ranked[:8]))
if len(train) < 5 * len(words):  # smoke mode: about as many items as words
    print(f"(with {len(train):,} items for {len(words):,} words' prices, a rare word can take a price of")
    print("thousands that only fits the few items it appears in: the full data set tames them)")
score("bow_lr", bow_lr)


# %% [markdown]
# ## Words as vectors: word2vec
#
# word2vec learns 400 numbers for every word from the words around it, so that words used in the
# same places ("drill", "driver", "cordless") end up close together. An item becomes the average
# of its words' vectors: unlike the bag of words, two descriptions that say the same thing in
# different words come out alike. Three regressors then learn prices from those vectors: linear
# regression, a linear support vector machine, and a random forest (100 trees, each grown on a
# random part of the data, their guesses averaged; it can learn that a feature matters only in
# combination with another).


# %%
# as in helpers.classical.baselines: stable_hash, DocumentVectors
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


# %%
vectors = DocumentVectors(train, config)
known = vectors.model.wv
print(f"{len(known):,} words, {known.vector_size} numbers each")
if SMOKE:
    rng = random.Random(0)
    pairs = [rng.sample(known.index_to_key, 2) for _ in range(1000)]
    similarity = np.mean([known.similarity(a, b) for a, b in pairs])
    print(
        f"On {len(train):,} items word2vec has barely begun: unrelated words still look alike (1,000 random "
        f"pairs of words: average similarity {similarity:.2f}, where 1.00 is the same direction and unrelated "
        "words in a trained model sit near 0). It needs millions of words; in full mode this cell shows the "
        "neighbours it learns from the whole training set."
    )
else:
    for word in [w for w in ("drill", "guitar", "battery", "printer", "stainless") if w in known]:
        print(f"{word:>10}: {', '.join(f'{n} {s:.2f}' for n, s in known.most_similar(word, topn=5))}")


# %%
# as in helpers.classical.baselines: batched_pricer
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


# %%
# as in helpers.classical.baselines: fit_on_vectors, fit_word2vec_lr, fit_word2vec_svr, fit_word2vec_forest
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


# %%
score("word2vec_lr", fit_word2vec_lr(train, config, vectors))
score("word2vec_svr", fit_word2vec_svr(train, config, vectors))
score("word2vec_forest", fit_word2vec_forest(train, config, vectors))


# %% [markdown]
# ## TF-IDF and ridge regression (in neither edition)
#
# TF-IDF weighs a word by how rare it is across all items, so common words count for less, and
# adds pairs of words and runs of 3 to 5 characters (which catch "18V", "1/2-inch", brand names
# and misspellings). Ridge regression is linear regression that keeps its weights small, which
# hundreds of thousands of features need. It learns the log of the price: a $10 mistake on a $20
# item matters as much as $100 on $200.


# %%
# as in helpers.classical.baselines: fit_tfidf_ridge
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


# %%
tfidf_ridge = fit_tfidf_ridge(train, config)
score("tfidf_ridge", tfidf_ridge)

# %% [markdown]
# ## The 2025 edition's boosted trees: XGBoost as the course ran it, and LightGBM
#
# Gradient-boosted trees: hundreds of small trees, each one fitted to what the trees before it
# still get wrong. The 2025 edition trains XGBoost on counts of the 2,000 commonest words (stop
# words left out), 1,000 trees at learning rate 0.1, on the price itself: `fit_xgboost` below.
# This project's default, `fit_boosted_trees`, is the same kind of model with LightGBM, on TF-IDF
# words and pairs plus the hand-made features, 400 trees at 0.05, on the log price. Both run here,
# timed, and the cell after them says which won on this run.
#
# Why LightGBM is the default, measured with each library on each recipe (`benchmarks/boosted.py`:
# the bundled sample's 2,973 training items, its first 250 test items, one thread of a 2-core CPU;
# docs/benchmarks.md): the course's recipe gives $86.28 with XGBoost and $90.67 with LightGBM, this
# project's $61.16 with XGBoost and $65.06 with LightGBM. The recipe (the log price, TF-IDF, the
# hand-made features) is worth about $25; the library about $4, which the 95% intervals (about
# ±$11) cannot tell from noise. On the recipe's 20,000 columns LightGBM fits in 9 s where XGBoost
# takes 66 s, so the default pays seven times the wait for no difference these items can show.
# The settings are `config`'s fields, printed here: change one and run again.

# %%
import time

from scipy.sparse import csr_matrix

from helpers.plumbing.errors import ConfigError

print({name: value for name, value in vars(config).items() if name.startswith(("boosted", "xgb_"))})


# %%
# as in helpers.classical.boosted: tfidf_and_features, word_counts
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


# %%
# as in helpers.classical.boosted: lightgbm_regressor, fit_boosted_trees, fit_xgboost
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


# %%
fit_seconds, fitted = {}, {}
for name, fit in (("xgboost", fit_xgboost), ("boosted_trees", fit_boosted_trees)):
    start = time.perf_counter()
    fitted[name] = fit(train, config)
    fit_seconds[name] = time.perf_counter() - start
    score(name, fitted[name])

# %%
course, default = results["xgboost"], results["boosted_trees"]
for label, name, result in (
    ("XGBoost, the course's recipe", "xgboost", course),
    ("LightGBM, the default", "boosted_trees", default),
):
    print(f"{label:>29}: ${result.average_error:,.2f} average error, fitted in {fit_seconds[name]:.1f} s")
better = "LightGBM" if default.average_error < course.average_error else "XGBoost"
quicker = "LightGBM" if fit_seconds["boosted_trees"] < fit_seconds["xgboost"] else "XGBoost"
print(f"On these {len(train):,} training items: {better} has the lower error, {quicker} the quicker fit.")
low, high = course.error_interval()
if low <= default.average_error <= high:
    print(
        f"(LightGBM's error lies inside XGBoost's 95% interval, ${low:,.2f} to ${high:,.2f}: "
        "on this few test items, no clear winner)"
    )

# %% [markdown]
# ## The 2025 edition's deep neural network
#
# Hashed word and word-pair counts in, the log price out. In between a stack of residual blocks
# (layer norm, linear, ReLU, dropout, linear, plus the block's own input, so that depth does not
# hurt). The course trains 10 blocks of 4,096 units for hours on a GPU; the CPU default here is 4
# of 256. Three functions, as the command line runs them: the network, the training loop (it
# stops when the error on held-out training items stops improving, and keeps its best epoch), and
# the fit that ties them to the items. Change one and run the cells again: the score changes.

# %%
from dataclasses import dataclass

import torch

from helpers.classical.baselines import held_out

print({name: value for name, value in vars(config).items() if name.startswith("nn_")})


# %%
# as in helpers.classical.neural_net: TrainingRun, deep_neural_network, train_with_early_stopping, fit_neural_net
@dataclass
class TrainingRun:
    """What early stopping did: the epochs trained, and the one whose weights were kept."""

    epochs: int
    best_epoch: int
    best_error: float  # the validation items' mean absolute error in log price, at best_epoch


def deep_neural_network(inputs: int, config: BaselineConfig) -> torch.nn.Module:
    """The network: hashed words in, one log price out. In between, `config.nn_layers` residual
    blocks of `config.nn_hidden` units: each adds what it learns to its own input, so a block that
    has nothing to add can pass its input on, and depth does not hurt. (The course's block puts
    its layer norms after its linear layers; this one normalises first, which trains as well.)"""
    from torch import nn

    hidden, dropout = config.nn_hidden, config.nn_dropout

    class ResidualBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(
                nn.LayerNorm(hidden),
                nn.Linear(hidden, hidden),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(hidden, hidden),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.body(x)

    return nn.Sequential(
        nn.Linear(inputs, hidden),
        nn.ReLU(),
        *(ResidualBlock() for _ in range(config.nn_layers)),
        nn.LayerNorm(hidden),
        nn.Linear(hidden, 1),
    )


def train_with_early_stopping(
    network: torch.nn.Module, features: csr_matrix, target: np.ndarray, config: BaselineConfig
) -> TrainingRun:
    """Mini-batches of `config.nn_batch` rows, AdamW, the mean absolute error of the log price
    (the course's L1 loss). After every epoch, the error on `config.validation_share` of the rows,
    held out: training stops after `config.nn_patience` epochs without a better one, and the
    network keeps the weights of its best epoch, not of its last (which has begun to overfit)."""
    import torch

    kept, valid = held_out(len(target), config.validation_share, config.seed)
    optimiser = torch.optim.AdamW(network.parameters(), lr=config.nn_learning_rate, weight_decay=0.01)

    def dense(rows: np.ndarray) -> torch.Tensor:  # sparse rows to a tensor, a batch at a time
        return torch.from_numpy(features[rows].toarray().astype(np.float32))

    valid_x, valid_y = dense(valid), torch.from_numpy(target[valid])
    best, best_state, waited, best_epoch, epochs = float("inf"), None, 0, 0, 0
    generator = np.random.default_rng(config.seed)
    for epoch in range(1, config.nn_epochs + 1):
        epochs = epoch
        network.train()  # dropout on
        shuffled = generator.permutation(kept)
        for start in range(0, len(shuffled), config.nn_batch):
            rows = shuffled[start : start + config.nn_batch]
            loss = torch.nn.functional.l1_loss(network(dense(rows)).squeeze(1), torch.from_numpy(target[rows]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        network.eval()  # dropout off
        with torch.no_grad():
            error = torch.nn.functional.l1_loss(network(valid_x).squeeze(1), valid_y).item()
        if error < best - 1e-4:
            best, waited, best_epoch = error, 0, epoch
            best_state = {name: value.clone() for name, value in network.state_dict().items()}
        else:
            waited += 1
            if waited >= config.nn_patience:
                break
    network.load_state_dict(best_state)
    network.eval()
    return TrainingRun(epochs, best_epoch, best)


def fit_neural_net(train: list[Item], config: BaselineConfig) -> Predictor:
    """A predictor `item -> price` from the residual MLP trained on `train`: each text hashed
    into `config.nn_features` counts of words and word pairs (no vocabulary to learn or store),
    the target the log of the price, as the course does."""
    import torch
    from sklearn.feature_extraction.text import HashingVectorizer

    torch.manual_seed(config.seed)  # the network's first weights and its dropout
    hasher = HashingVectorizer(n_features=config.nn_features, ngram_range=(1, 2), alternate_sign=False, norm="l2")
    features = hasher.transform([item.text for item in train])
    target = np.log1p(np.array([item.price for item in train])).astype(np.float32)
    network = deep_neural_network(config.nn_features, config)
    run = train_with_early_stopping(network, features, target, config)

    def predict_batch(items: list[Item]) -> list[float]:
        x = torch.from_numpy(hasher.transform([item.text for item in items]).toarray().astype(np.float32))
        with torch.no_grad():
            return [max(float(p), 0.0) for p in np.expm1(network(x).squeeze(1).numpy())]

    def neural_net_pricer(item: Item) -> float:
        return predict_batch([item])[0]

    neural_net_pricer.predict_batch = predict_batch
    neural_net_pricer.batch_size = 256
    neural_net_pricer.epochs, neural_net_pricer.best_epoch = run.epochs, run.best_epoch  # what early stopping did
    neural_net_pricer.network = network  # to show its layers
    return neural_net_pricer


# %%
network = fit_neural_net(train, config)
print(network.network)
print(
    f"{sum(p.numel() for p in network.network.parameters()):,} parameters; "
    f"trained {network.epochs} epochs, kept epoch {network.best_epoch}"
)
score("neural_net", network)

# %% [markdown]
# ## An ensemble of the three best
#
# Week 8's idea, early: a weighted sum of the prices of TF-IDF ridge, the boosted trees and the
# network. Its weights must not be fitted on items its members trained on, where they all look
# better than they are. So it is a *stack*: the training items are cut in three folds, each
# fold priced by members trained on the other two, and the weights are the non-negative ones
# with the least average dollar error over those out-of-fold prices (a linear programme solves
# it exactly). Every training item helps choose the weights, not a tenth of them; the best
# member alone is one of the weightings tried, so the stack is never worse than it on those
# prices. The members that price the test items are the ones trained above, on every item.

# %%
from helpers.classical.stack import fit_stack

fits = {"tfidf_ridge": fit_tfidf_ridge, "boosted_trees": fit_boosted_trees, "neural_net": fit_neural_net}
trained = {"tfidf_ridge": tfidf_ridge, "boosted_trees": fitted["boosted_trees"], "neural_net": network}
print(f"members: {', '.join(config.ensemble_members)}")
ensemble = fit_stack(
    train, config.ensemble_members, lambda items, names: {name: fits[name](items, config) for name in names},
    config.stack_folds, config.seed, trained,
)  # fmt: skip
print(ensemble)  # the weights, and the best member alone, on the out-of-fold prices
score("ensemble", ensemble)

# %% [markdown]
# Week 8 combines every model of the course, the frontier and fine-tuned ones too, in one
# ensemble. Its weights are fitted on the first 250 validation items, which is why `score` had
# each model price those as well: the answers wait in the store.
#
# ## Where the best model goes wrong
#
# Per-category errors and a bootstrap interval tell whether a difference between two models is
# real or noise (250 items is not many).

# %%
best = min(results.values(), key=lambda r: r.average_error)
print(best.summary())
best.by_category()

# %% [markdown]
# The running average error, item by item, with its 95% band: how many items it takes before
# the figure settles.

# %%
best.running_chart()

# %%
from helpers.core.leaderboard import leaderboard, leaderboard_chart

board = leaderboard(store, dataset=best.dataset)  # every model scored on these test items, from any notebook
leaderboard_chart(board)

# %%
board
