"""Curated items files: read (JSONL or parquet, every row that cannot be used counted), indexed
without holding the items, and written a chunk at a time, atomically.
"""

from __future__ import annotations

import contextlib
import json
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from helpers.core.items import Item
from helpers.core.prices import parse_raw_price
from helpers.core.prompts import PROMPT_2024, PROMPT_2025
from helpers.data.curation import duplicate_keys
from helpers.data.raw import SkipReport, iter_lines, read_record, say_if_cut
from helpers.plumbing.files import atomic_open, atomic_path, readable, refuse_unfinished_set


@dataclass
class ItemsIndex:
    """What de-duplicating, balancing and splitting read of an items file: each usable row's
    price, category, byte offset and duplicate keys, about 40 bytes a row, not the items."""

    prices: array = field(default_factory=lambda: array("d"))
    categories: list[str] = field(default_factory=list)  # one shared string for each category
    offsets: array = field(default_factory=lambda: array("q"))
    title_keys: array = field(default_factory=lambda: array("q"))
    text_keys: array = field(default_factory=lambda: array("q"))


def index_items(path: str | Path) -> tuple[ItemsIndex, SkipReport]:
    """The index of a JSONL items file, with a report of the rows it cannot use (as `load_items`)."""
    path = readable(path, "JSONL items file")
    refuse_unfinished_set(path)
    index, report = ItemsIndex(), SkipReport(source=path.name)
    with open(path, "rb") as handle:
        offset = 0
        for line in handle:
            report.read += 1
            result = _item_or_reason(line)
            if isinstance(result, str):
                report.skipped[result] += 1
            else:
                index.prices.append(result.price)
                index.categories.append(sys.intern(result.category))
                index.offsets.append(offset)
                title_key, text_key = duplicate_keys(result.title, result.text)
                index.title_keys.append(title_key)
                index.text_keys.append(text_key)
                report.kept += 1
            offset += len(line)
    return index, report


def load_items(path: str | Path) -> tuple[list[Item], SkipReport]:
    """Curated items (JSONL or parquet with `title`, `category`, `price`, `text`)."""
    path = readable(path, "JSONL or parquet items file")
    refuse_unfinished_set(path)
    items: list[Item] = []
    report = SkipReport(source=path.name)
    for line in iter_lines(path):
        report.read += 1
        reason = _item_or_reason(line)
        if isinstance(reason, str):
            report.skipped[reason] += 1
            continue
        items.append(reason)
        report.kept += 1
    say_if_cut(path, report)
    say_own_prompts(path, items)
    return items, report


PROMPT_FIELDS = ("question", "prefix", "system")
COURSE_PROMPTS = (PROMPT_2024, PROMPT_2025)


def say_own_prompts(path: Path, items: Sequence[Item]) -> None:
    """A row's `question`, `prefix` or `system` (how pricer keeps a prompt of one's own) replaces
    the course's in every prompt of that item, the frontier model's system message included: one
    line counts the items that carry one, so a stray column never changes a prompt unsaid."""
    own: Counter[str] = Counter()
    for item in items:
        prompt = item.prompt_format
        own.update(f for f in PROMPT_FIELDS if getattr(prompt, f) not in {getattr(c, f) for c in COURSE_PROMPTS})
    if own:
        fields = ", ".join(f"`{name}` in {count:,}" for name, count in sorted(own.items()))
        print(
            f"{path}: items carry a prompt of their own in place of the course's ({fields} of "
            f"{len(items):,} items): their prompts use it; remove those fields for the course's prompt",
            file=sys.stderr,
            flush=True,
        )


def _item_or_reason(line: bytes) -> Item | str:
    row = read_record(line)
    if isinstance(row, str):
        return row
    if not ("title" in row and "price" in row and (row.get("text") or row.get("summary"))):
        return "missing_field"
    price = parse_raw_price(row["price"])
    if price.price is None:
        return price.reason or "price_not_a_number"
    if price.price <= 0:
        return "price_out_of_range"  # the Tester divides by the truth
    try:
        return Item.from_dict({**row, "price": price.price})
    except (TypeError, ValueError, RecursionError):  # a field of the wrong type, details not JSON
        return "bad_field"


def _row(item: Item) -> dict:
    row = item.to_dict()
    row["details"] = json.dumps(row["details"], ensure_ascii=False)  # one string column, as the hub keeps it
    return row


@contextlib.contextmanager
def item_writer(path: str | Path) -> Iterator[Callable[[list[Item]], None]]:
    """`write(items)`, called as often as there are items: JSONL, or parquet when the name ends
    in .parquet, streamed to a temporary file that replaces `path` once all went well, so
    memory does not grow with the number of items and a killed run leaves no half a file."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        with atomic_path(path) as temporary:
            writer = None
            try:

                def write_parquet(items: list[Item]) -> None:
                    nonlocal writer
                    if items:
                        table = pa.Table.from_pylist([_row(item) for item in items])
                        writer = writer or pq.ParquetWriter(temporary, table.schema)
                        writer.write_table(table.cast(writer.schema))

                yield write_parquet
            finally:
                if writer is not None:
                    writer.close()
            if writer is None:
                pq.write_table(pa.table({}), temporary)  # no items: an empty file, not none
    else:
        with atomic_open(path, "w") as handle:

            def write_jsonl(items: list[Item]) -> None:
                handle.writelines(json.dumps(item.to_dict(), ensure_ascii=False) + "\n" for item in items)

            yield write_jsonl


def copy_rows(source: str | Path, offsets: Sequence[int], target: str | Path) -> Path:
    """The rows of a JSONL file that start at `offsets`, in that order, into `target`: a split
    of millions of items copies its rows rather than holding them."""
    with open(source, "rb") as rows, atomic_path(target) as temporary, open(temporary, "wb") as out:
        for offset in offsets:
            rows.seek(offset)
            row = rows.readline()
            out.write(row if row.endswith(b"\n") else row + b"\n")
    return Path(target)


def save_items(items: list[Item], path: str | Path) -> Path:
    """JSONL, or parquet when the name ends in .parquet."""
    with item_writer(path) as write:
        write(items)
    return Path(path)
