"""Curated data sets on the hub (or in a local folder of the same layout), in the course's
layouts, as items and as training rows:

- 2024 (`ed-donner/pricer-data`, and what week 6 day 2 pushes): `text` holds the training
  prompt (train split) or the test prompt (test split), beside `price` and maybe `category`;
- 2025 items (`ed-donner/items_full`, `items_lite`): `title`, `category`, `price`, `full`,
  `weight`, `summary`, `prompt` (the training prompt, made from the summary), `id`; splits
  train, validation and test;
- 2025 prompts (`ed-donner/items_prompts_full`, `_lite`): `prompt` (ending "Price is $") and
  `completion` (the price), ready for training.
"""

from __future__ import annotations

import sys
from pathlib import Path

from helpers.core.items import Item
from helpers.core.prices import read_reply
from helpers.core.prompts import PROMPT_2024, PromptFormat
from helpers.data.item_files import load_items
from helpers.plumbing.errors import DataError
from helpers.plumbing.hub import explain, looks_local

ITEM_SUFFIXES = (".jsonl", ".json", ".gz", ".parquet")  # what a local items file is called


def hub_rows(dataset_id: str, split: str):
    """One split of a hub data set (or of a local folder in the hub's layout)."""
    from datasets import load_dataset

    if Path(dataset_id).suffix in ITEM_SUFFIXES or (looks_local(dataset_id) and not Path(dataset_id).exists()):
        raise DataError(f"no such file: {dataset_id}")
    try:
        return load_dataset(dataset_id, split=split)
    except (OSError, ValueError) as error:  # not found, unreachable (ConnectionError), no such split
        raise DataError(f"cannot load data set {dataset_id!r} ({split}): {explain(error)}") from None


def read_items(source: str, prompt_format: PromptFormat = PROMPT_2024) -> list[Item]:
    """Items from a local file (its skip report on stderr), or the test split of a hub data set
    read with `prompt_format`: what every command-line stage is given. None usable is an error."""
    if not Path(source).is_file() and not looks_local(source) and "/" in source:
        return load_hub_items(source, "test", prompt_format)
    items, report = load_items(source)
    if report.read != report.kept:
        print(report, file=sys.stderr)
    if not items:
        raise DataError(f"no usable items in {source}")
    return items


def load_hub_items(dataset_id: str, split: str = "test", prompt_format: PromptFormat = PROMPT_2024) -> list[Item]:
    """Items from a data set in any of the course's layouts."""
    rows = hub_rows(dataset_id, split)
    columns = set(rows.column_names)
    if "text" in columns:
        return _from_prompts(rows, "text", prompt_format)
    if {"title", "price"} <= columns and columns & {"prompt", "summary", "full"}:
        return [_from_2025_item(row, prompt_format) for row in rows]
    if {"prompt", "completion"} <= columns:
        return _from_prompt_rows(rows, prompt_format)
    raise DataError(f"{dataset_id} ({split}) is in no layout pricer knows: columns {', '.join(sorted(columns))}")


def _from_prompts(rows, column: str, prompt_format: PromptFormat) -> list[Item]:
    categories = rows["category"] if "category" in rows.column_names else ["Unknown"] * len(rows)
    return [
        _item(prompt_format.text_of(prompt), float(price), category, prompt_format)
        for prompt, price, category in zip(rows[column], rows["price"], categories)
    ]


def _from_2025_item(row: dict, prompt_format: PromptFormat) -> Item:
    """The 2025 item: its text is what its prompt holds (the summary, cut), else the summary."""
    text = prompt_format.text_of(row["prompt"]) if row.get("prompt") else row.get("summary") or row.get("full") or ""
    item = _item(text, float(row["price"]), row.get("category") or "Unknown", prompt_format)
    item.title = row["title"]
    item.summary = row.get("summary") or None
    if row.get("weight"):
        item.details = {"Item Weight": f"{row['weight']} pounds"}  # what the feature baselines read
    return item


def _from_prompt_rows(rows, prompt_format: PromptFormat) -> list[Item]:
    """Prompt and completion rows: the price is the completion's, to the dollar."""
    items = []
    for prompt, completion in zip(rows["prompt"], rows["completion"]):
        price = read_reply(completion).price
        if price is None or price <= 0:
            raise DataError(f"a completion that is no price: {completion!r}")
        items.append(_item(prompt_format.text_of(prompt), price, "Unknown", prompt_format))
    return items


def _item(text: str, price: float, category: str, prompt_format: PromptFormat) -> Item:
    return Item(title=text.split("\n", 1)[0], price=price, category=category, text=text, prompt_format=prompt_format)


def hub_training_rows(dataset_id: str, prompt_format: PromptFormat = PROMPT_2024):
    """{"prompt", "completion"} rows from a data set's train split, in any of the layouts."""
    data = hub_rows(dataset_id, "train")
    columns = data.column_names
    if {"prompt", "completion"} <= set(columns):
        return data.select_columns(["prompt", "completion"])
    column = "text" if "text" in columns else "prompt" if "prompt" in columns else None
    if column is None:
        raise DataError(f"{dataset_id} (train) holds no prompts: columns {', '.join(sorted(columns))}")
    return data.map(
        lambda row: dict(zip(("prompt", "completion"), prompt_format.split(row[column]))), remove_columns=columns
    )
