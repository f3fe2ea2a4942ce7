"""The course's balancing and split, and saving the result (files, `datasets`, the hub).

Balancing evens out the flood of cheap items: for each whole-dollar price 1..999, every item
from $240 up is kept; below that a price keeps at most 1,200 items, drawn with Automotive
weighted down 5:1. The random draws reproduce the course's numpy and random seeds exactly.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from helpers.files import atomic_open, atomic_path
from helpers.items import Item

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

    categories: list[str] = field(default_factory=lambda: list(COURSE_CATEGORIES))
    seed: int = 42
    train_size: int = 400_000
    test_size: int = 2_000
    balance: bool = True
    per_price_cap: int = 1200
    keep_all_from: int = 240
    downweighted_category: str = "Automotive"
    weight: float = 5.0  # weight of every other category against the downweighted one

    @classmethod
    def lite(cls) -> CurationConfig:
        return cls(categories=list(LITE_CATEGORIES), train_size=25_000, test_size=2_000)


def balance(items: list[Item], config: CurationConfig) -> list[Item]:
    """Cap each whole-dollar price at `per_price_cap` items, below `keep_all_from` dollars."""
    slots: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        slots[round(item.price)].append(item)
    unplaced = len(items) - sum(len(slots[dollars]) for dollars in range(1, 1000))
    if unplaced:  # the course's loop runs over $1..$999: $0.50 rounds to 0 and has no slot
        print(
            f"balance: left out {unplaced:,} items whose price rounds to no whole dollar from $1 to $999 "
            "(such as $0.50)",
            flush=True,
        )
    rng = np.random.RandomState(config.seed)  # the stream of the course's np.random.seed(42)
    sample: list[Item] = []
    for dollars in range(1, 1000):
        slot = slots[dollars]
        if dollars >= config.keep_all_from or len(slot) <= config.per_price_cap:
            sample.extend(slot)
            continue
        weights = np.array([1.0 if item.category == config.downweighted_category else config.weight for item in slot])
        chosen = rng.choice(len(slot), size=config.per_price_cap, replace=False, p=weights / weights.sum())
        sample.extend(slot[i] for i in chosen)
    return sample


def split(items: list[Item], config: CurationConfig) -> tuple[list[Item], list[Item]]:
    """Seeded shuffle, then train and test slices. Short data shrinks train, never test."""
    sample = list(items)
    random.Random(config.seed).shuffle(sample)
    train_count = min(config.train_size, max(len(sample) - config.test_size, 0))
    if train_count < config.train_size:
        print(
            f"Only {len(sample):,} items: train {train_count:,} instead of {config.train_size:,}",
            flush=True,
        )
    train = sample[:train_count]
    test = sample[train_count : train_count + config.test_size]
    return train, test


def curate(items: list[Item], config: CurationConfig) -> tuple[list[Item], list[Item]]:
    """Balance (if configured), then split."""
    pool = balance(items, config) if config.balance else items
    return split(pool, config)


def save_items(items: list[Item], path: str | Path) -> Path:
    """JSONL, or parquet when the name ends in .parquet."""
    path = Path(path)
    rows = [item.to_dict() for item in items]
    if path.suffix == ".parquet":
        import pandas as pd

        frame = pd.DataFrame(rows)
        frame["details"] = frame["details"].map(lambda d: json.dumps(d, ensure_ascii=False))
        with atomic_path(path) as temporary:
            frame.to_parquet(temporary, index=False)
    else:
        with atomic_open(path, "w") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


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
    """Upload as a private data set; the token comes from `helpers.secrets` when not given."""
    from helpers.secrets import get_secret

    dataset_dict.push_to_hub(repo_id, private=True, token=token or get_secret("HF_TOKEN"))
    return f"https://huggingface.co/datasets/{repo_id}"
