"""The human baseline: a CSV of test prompts for a person to price, read back for the Tester."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from helpers.core.items import Item
from helpers.core.prices import read_cell
from helpers.plumbing.errors import DataError
from helpers.plumbing.files import atomic_open, read_csv


class PredictionsError(DataError):
    """A predictions CSV that cannot be scored; the message names the file and line."""


def export_prompts(items: Sequence[Item], path: str | Path, size: int = 250) -> Path:
    """Write `index, prompt, price` rows with an empty price column for a person to fill in."""
    path = Path(path)
    with atomic_open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", "prompt", "price"])
        for index, item in enumerate(items[:size]):
            writer.writerow([index, item.test_prompt(), ""])
    return path


def read_prices(path: str | Path, expected: int) -> list[float | None]:
    """The `price` column, in order, as a spreadsheet may have saved it (decimal commas, `;`,
    a BOM). An empty cell, or a number that is no price (negative, an exponent, absurdly
    large), is a counted failure; a cell with no number at all, a missing column or too few
    rows is an error naming the place."""
    fields, rows = read_csv(path)
    if "price" not in fields:
        raise PredictionsError(f"{path}: needs a 'price' column")
    prices: list[float | None] = []
    unusable = Counter()
    for line, row in rows:
        cell = (row.get("price") or "").strip()
        read = read_cell(cell) if cell else None
        if read is not None and read.reason == "no_number":
            raise PredictionsError(f"{path}, line {line}: {cell!r} is not a price")
        if read is not None and read.reason:
            unusable[read.reason] += 1
        index = (row.get("index") or "").strip()
        if index and index != str(len(prices)):
            raise PredictionsError(f"{path}, line {line}: index {index!r} out of order (expected {len(prices)})")
        prices.append(read.price if read else None)
    if len(prices) < expected:
        raise PredictionsError(f"{path}: {len(prices)} rows, but {expected} test items are scored")
    if unusable:
        reasons = ", ".join(f"{reason} {count}" for reason, count in unusable.most_common())
        print(f"{path}: {sum(unusable.values())} prices are not usable, scored as failures ({reasons})", flush=True)
    return prices


def fill_prices(source: str | Path, target: str | Path, price: float) -> Path:
    """A copy of an exported prompts CSV with every price filled in: a stand-in for a person,
    so that a smoke run can go through the scoring cells."""
    rows = [row for _, row in read_csv(source)[1]]
    target = Path(target)
    with atomic_open(target, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["index", "prompt", "price"])
        writer.writeheader()
        writer.writerows({**row, "price": f"{price:.0f}"} for row in rows)
    return target
