"""The course's balancing and split, and saving the result (files, `datasets`, the hub).

Balancing evens out the flood of cheap items: for each whole-dollar price 1..999, every item
from $240 up is kept; below that a price keeps at most 1,200 items, drawn with Automotive
weighted down 5:1. The random draws reproduce the course's numpy and random seeds exactly.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from helpers.core.items import Item
from helpers.plumbing.secrets import get_secret

T = TypeVar("T")

# The course's eight categories, and its "lite" choice.
COURSE_CATEGORIES = [
    "Automotive",
    "Electronics",
    "Office_Products",
    "Tools_and_Home_Improvement",
    "Cell_Phones_and_Accessories",
    "Toys_and_Games",
    "Appliances",
    "Musical_Instruments",
]
LITE_CATEGORIES = ["Appliances"]


@dataclass
class CurationConfig:
    """Balancing and split. `lite()` gives the course's small Appliances-only variant."""

    # the categories week 6 loads (the course's eight); not a flag: `split --categories` picks from an items file
    categories: list[str] = field(default_factory=lambda: list(COURSE_CATEGORIES), metadata={"cli": False})
    seed: int = 42  # seeds the balancing sample and the split
    train_size: int = 400_000  # training items
    test_size: int = 2_000  # test items
    validation_size: int = 0  # the 2025 edition's third split, for choosing between models
    dedupe: bool = False  # the 2025 edition's step: one item per title and per text
    balance: bool = True  # even out prices and categories as the course does
    per_price_cap: int = 1200  # balancing: items kept at each whole-dollar price, at most
    keep_all_from: int = 240  # balancing: every item at or above this price is kept
    downweighted_category: str = "Automotive"  # balancing: the category sampled less
    weight: float = 5.0  # weight of every other category against the downweighted one

    @classmethod
    def lite(cls) -> CurationConfig:
        return cls(categories=list(LITE_CATEGORIES), train_size=25_000, test_size=2_000)


def balance(items: list[Item], config: CurationConfig) -> list[Item]:
    """Cap each whole-dollar price at `per_price_cap` items, below `keep_all_from` dollars."""
    chosen = balance_index([item.price for item in items], [item.category for item in items], config)
    return [items[i] for i in chosen]


def balance_index(prices: Sequence[float], categories: Sequence[str], config: CurationConfig) -> list[int]:
    """The positions `balance` keeps, from the items' prices and categories alone: millions of
    items need not be in memory to be balanced."""
    slots: dict[int, list[int]] = defaultdict(list)
    for position, price in enumerate(prices):
        slots[round(price)].append(position)
    unplaced = len(prices) - sum(len(slots[dollars]) for dollars in range(1, 1000))
    if unplaced:  # the course's loop runs over $1..$999: $0.50 rounds to 0 and has no slot
        print(
            f"balance: left out {unplaced:,} items whose price rounds to no whole dollar from $1 to $999 "
            "(such as $0.50)",
            flush=True,
        )
    rng = np.random.RandomState(config.seed)  # the stream of the course's np.random.seed(42)
    sample: list[int] = []
    for dollars in range(1, 1000):
        slot = slots[dollars]
        if dollars >= config.keep_all_from or len(slot) <= config.per_price_cap:
            sample.extend(slot)
            continue
        weights = np.array([1.0 if categories[i] == config.downweighted_category else config.weight for i in slot])
        chosen = rng.choice(len(slot), size=config.per_price_cap, replace=False, p=weights / weights.sum())
        sample.extend(slot[i] for i in chosen)
    return sample


def split(items: list[T], config: CurationConfig) -> tuple[list[T], list[T]]:
    """Seeded shuffle, then train and test slices. Short data shrinks train, never test.
    Items or their positions alike: the shuffle depends on the count alone."""
    train, _, test = split_with_validation(items, config)
    return train, test


def split_with_validation(items: list[T], config: CurationConfig) -> tuple[list[T], list[T], list[T]]:
    """(train, validation, test): the course's train and test slices of the seeded shuffle, and
    `validation_size` items after them. Short data shrinks train, never validation or test."""
    sample = list(items)
    random.Random(config.seed).shuffle(sample)
    train_count = min(config.train_size, max(len(sample) - config.test_size - config.validation_size, 0))
    if train_count < config.train_size:
        print(
            f"Only {len(sample):,} items: train {train_count:,} instead of {config.train_size:,}",
            flush=True,
        )
    train = sample[:train_count]
    test = sample[train_count : train_count + config.test_size]
    after = train_count + config.test_size
    return train, sample[after : after + config.validation_size], test


def unique_index(keys: Iterable[tuple[int, int]]) -> list[int]:
    """The positions of the items to keep when duplicates go, from their `duplicate_keys`: an
    item whose title or text (in lower case, spaces trimmed) an earlier item has is a duplicate.
    A product listed twice could otherwise be in train and test both, its price looked up."""
    seen_titles: set[int] = set()
    seen_texts: set[int] = set()
    kept = []
    for position, (title_key, text_key) in enumerate(keys):
        if title_key in seen_titles or text_key in seen_texts:
            continue
        seen_titles.add(title_key)
        seen_texts.add(text_key)
        kept.append(position)
    return kept


def duplicate_keys(title: str, text: str) -> tuple[int, int]:
    """Two 64-bit keys an item is compared by: millions fit in memory where their texts do not."""

    def key(value: str) -> int:
        digest = hashlib.blake2b(value.strip().lower().encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little", signed=True)

    return key(title), key(text)


def dedupe(items: list[Item]) -> list[Item]:
    return [items[i] for i in unique_index(duplicate_keys(item.title, item.text) for item in items)]


def curate(items: list[Item], config: CurationConfig) -> tuple[list[Item], list[Item]]:
    """De-duplicate and balance (if configured), then split."""
    pool = dedupe(items) if config.dedupe else items
    pool = balance(pool, config) if config.balance else pool
    return split(pool, config)


def to_dataset_dict(train: list[Item], test: list[Item]):
    """The course's hub layout: `text` (training prompt / test prompt), `price`, `category`."""
    from datasets import Dataset, DatasetDict

    def rows(items: list[Item], training: bool) -> dict[str, list]:
        return {
            "text": [item.prompt if training else item.test_prompt() for item in items],
            "price": [item.price for item in items],
            "category": [item.category for item in items],
        }

    return DatasetDict({"train": Dataset.from_dict(rows(train, True)), "test": Dataset.from_dict(rows(test, False))})


def push_to_hub(dataset_dict, repo_id: str, token: str | None = None) -> str:
    """Upload as a private data set; the token comes from `helpers.plumbing.secrets` when not given."""

    dataset_dict.push_to_hub(repo_id, private=True, token=token or get_secret("HF_TOKEN"))
    return f"https://huggingface.co/datasets/{repo_id}"
