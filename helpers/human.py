"""The human baseline: a CSV of test prompts for a person to price, read back for the Tester."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from helpers.errors import DataError
from helpers.items import Item
from helpers.prices import extract_price


class PredictionsError(DataError):
    """A predictions CSV that cannot be scored; the message names the file and line."""


def export_prompts(items: Sequence[Item], path: str | Path, size: int = 250) -> Path:
    """Write `index, prompt, price` rows with an empty price column for a person to fill in."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", "prompt", "price"])
        for index, item in enumerate(items[:size]):
            writer.writerow([index, item.test_prompt(), ""])
    return path


def read_prices(path: str | Path, expected: int) -> list[float | None]:
    """The `price` column, in order. An empty cell is a failure; a cell that is not a price,
    a missing column or too few rows is an error naming the place."""
    path = Path(path)
    if not path.exists():
        raise PredictionsError(f"no such file: {path}")
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "price" not in reader.fieldnames:
            raise PredictionsError(f"{path}: needs a 'price' column")
        prices: list[float | None] = []
        for row in reader:
            cell = (row.get("price") or "").strip()
            price = extract_price(cell) if cell else None
            if cell and price is None:
                raise PredictionsError(f"{path}, line {reader.line_num}: {cell!r} is not a price")
            if "index" in row and row["index"].strip() and row["index"].strip() != str(len(prices)):
                raise PredictionsError(
                    f"{path}, line {reader.line_num}: index {row['index']!r} out of order (expected {len(prices)})"
                )
            prices.append(price)
    if len(prices) < expected:
        raise PredictionsError(f"{path}: {len(prices)} rows, but {expected} test items are scored")
    return prices


class PricesFor:
    """A predictor that answers each test item with the price written for it, matched by the
    item's test prompt: items that read the same get the first answer given for them."""

    __name__ = "prices_for"

    def __init__(self, items: Sequence[Item], prices: Sequence[float | None]):
        self.answers: dict[str, float | None] = {}
        for item, price in zip(items, prices):
            self.answers.setdefault(item.test_prompt(), price)

    def __call__(self, item: Item) -> float | None:
        return self.answers.get(item.test_prompt())


def fill_prices(source: str | Path, target: str | Path, price: float) -> Path:
    """A copy of an exported prompts CSV with every price filled in: a stand-in for a person,
    so that a smoke run can go through the scoring cells."""
    with open(source, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    target = Path(target)
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["index", "prompt", "price"])
        writer.writeheader()
        writer.writerows({**row, "price": f"{price:.0f}"} for row in rows)
    return target
