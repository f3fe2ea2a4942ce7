"""Raw Amazon metadata (from the hub or a local file) to items, with a report of every skip.
Curated items files are read and written by `helpers.data.item_files`.

One code path: a hub category is first fetched to the local hub cache as the data set's own
JSONL file (`raw/meta_categories/meta_<Category>.jsonl`, since the old loading script no
longer runs under `datasets`), and from there it is read exactly like a local file. Lines are
decoded and parsed by our own code rather than by a columnar JSON reader, so that one broken
line is a counted skip instead of a failed load.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import zlib
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from helpers.core.items import Item
from helpers.data.rules import Draft, ItemConfig, build_items, draft
from helpers.plumbing.errors import DataError
from helpers.plumbing.files import readable
from helpers.plumbing.hub import explain
from helpers.plumbing.processes import pool_worker_start

HUB_DATASET = "McAuley-Lab/Amazon-Reviews-2023"

# The categories of the data set's raw metadata.
CATEGORIES = (
    "All_Beauty",
    "Amazon_Fashion",
    "Appliances",
    "Arts_Crafts_and_Sewing",
    "Automotive",
    "Baby_Products",
    "Beauty_and_Personal_Care",
    "Books",
    "CDs_and_Vinyl",
    "Cell_Phones_and_Accessories",
    "Clothing_Shoes_and_Jewelry",
    "Digital_Music",
    "Electronics",
    "Gift_Cards",
    "Grocery_and_Gourmet_Food",
    "Handmade_Products",
    "Health_and_Household",
    "Health_and_Personal_Care",
    "Home_and_Kitchen",
    "Industrial_and_Scientific",
    "Kindle_Store",
    "Magazine_Subscriptions",
    "Movies_and_TV",
    "Musical_Instruments",
    "Office_Products",
    "Patio_Lawn_and_Garden",
    "Pet_Supplies",
    "Software",
    "Sports_and_Outdoors",
    "Subscription_Boxes",
    "Tools_and_Home_Improvement",
    "Toys_and_Games",
    "Video_Games",
    "Unknown",
)


@dataclass
class LoadConfig:
    """How to read raw records: the item rules, and how much parallelism."""

    item: ItemConfig = field(default_factory=ItemConfig)
    workers: int = os.cpu_count() or 1
    chunk_size: int = 1000
    limit: int | None = None  # read at most this many lines (None: all)
    progress: bool = True


@dataclass
class SkipReport:
    """How many records were read and kept, and why each of the others was not."""

    source: str = ""
    read: int = 0
    kept: int = 0
    skipped: Counter = field(default_factory=Counter)
    rules: dict[str, str] = field(default_factory=dict)  # a skip reason's rule, said beside its count

    def add(self, other: SkipReport) -> None:
        self.read += other.read
        self.kept += other.kept
        self.skipped.update(other.skipped)
        self.rules.update(other.rules)

    def to_dict(self) -> dict[str, Any]:
        return {"read": self.read, "kept": self.kept, "skipped": dict(self.skipped.most_common())}

    def __str__(self) -> str:
        total = sum(self.skipped.values())
        reasons = ", ".join(f"{name} {count:,}" for name, count in self.skipped.most_common())
        head = f"{self.source}: " if self.source else ""
        rules = "".join(f"; {name}: {rule}" for name, rule in self.rules.items() if self.skipped[name])
        line = f"{head}read {self.read:,}, kept {self.kept:,}, skipped {total:,}"
        return line + (f" ({reasons})" if reasons else "") + rules


def length_rules(config: ItemConfig) -> dict[str, str]:
    """The minimums behind the length skips, so a user whose short descriptions were skipped
    knows how much text an item needs."""
    return {
        "too_few_chars": f"an item needs more than {config.min_chars} characters of description, features and details",
        "too_few_tokens": f"an item needs more than {config.min_tokens} tokens of title and text ({config.tokenizer})",
    }


def resolve(source: str | Path) -> tuple[Path, str | None]:
    """A local path, or a hub category fetched into the cache. Returns (file, category)."""
    path = Path(source)
    name = str(source)
    if path.exists() or os.sep in name or "." in name:
        return readable(path, "JSONL, JSONL.gz or parquet file"), _category_from_name(path)
    if name not in CATEGORIES:
        raise DataError(f"unknown category {name!r}; known: {', '.join(CATEGORIES)}")
    from huggingface_hub import hf_hub_download

    try:
        local = hf_hub_download(
            repo_id=HUB_DATASET,
            repo_type="dataset",
            filename=f"raw/meta_categories/meta_{name}.jsonl",
        )
    except OSError as error:  # not in the cache and offline, unreachable, gated
        raise DataError(f"cannot fetch category {name} from {HUB_DATASET}: {explain(error)}") from None
    return Path(local), name


def _category_from_name(path: Path) -> str | None:
    stem = path.name.split(".")[0]
    if stem.startswith("meta_") and stem[5:] in CATEGORIES:
        return stem[5:]
    return None


def _open(path: Path):
    if path.suffix != ".gz":
        return open(path, "rb")
    with open(path, "rb") as head:
        if head.read(2) != b"\x1f\x8b":  # gzip's magic number: without it, nothing was compressed
            raise DataError(f"{path} is not gzip, though its name ends in .gz: rename it, or compress it with gzip")
    return gzip.open(path, "rb")


class FileCut(bytes):
    """Stands in the stream of lines where a file ends early (a gzip file cut off)."""


def iter_lines(path: Path, limit: int | None = None) -> Iterator[bytes]:
    """Raw lines of a JSONL or JSONL.gz file, or parquet rows encoded as JSON lines. A gzip
    file that ends early gives every line before the cut, then one `FileCut`."""
    if path.suffix == ".parquet":
        yield from islice(_parquet_lines(path), limit)
        return
    with _open(path) as handle:
        try:
            yield from islice(handle, limit)
        except (EOFError, OSError, zlib.error):  # gzip: cut short, or corrupt from there on
            yield FileCut()


def _parquet_file(path: Path):
    """The parquet file at `path`; a file that is no parquet is one line naming it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except pa.ArrowException as error:
        raise DataError(f"{path} is not a readable parquet file: {str(error).splitlines()[0]}") from None


def _parquet_lines(path: Path) -> Iterator[bytes]:
    for batch in _parquet_file(path).iter_batches(batch_size=1000):
        for row in batch.to_pylist():
            yield json.dumps(row, default=str).encode()


def read_record(line: bytes) -> dict[str, Any] | str:
    """One line to a JSON object, or the reason it is not one. Valid but hostile JSON (an
    integer of thousands of digits, arrays nested thousands deep) is a reason too, not a crash."""
    if isinstance(line, FileCut):
        return "truncated_file"
    if not line.strip():
        return "blank_line"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return "not_utf8"
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        return "bad_json"
    except ValueError:  # int() refuses more than 4,300 digits
        return "number_too_long"
    except RecursionError:
        return "nested_too_deep"
    return record if isinstance(record, dict) else "not_an_object"


def parse_lines(lines: list[bytes], category: str | None, config: ItemConfig) -> list[Item | str]:
    """Raw lines to Items or skip reasons, in order: the rules one record at a time, then the
    tokenizer once for the whole chunk."""
    results: list[Item | str] = []
    drafts: list[tuple[int, Draft]] = []
    for line in lines:
        record = read_record(line)
        if not isinstance(record, str):
            name = category or record.get("main_category") or "Unknown"
            try:
                record = draft(record, str(name), config)
            except RecursionError:  # details nested just shallowly enough to parse
                record = "nested_too_deep"
        if isinstance(record, Draft):
            drafts.append((len(results), record))
        results.append(record)
    for (index, _), built in zip(drafts, build_items([d for _, d in drafts], config)):
        results[index] = built
    return results


def _parse_chunk(args: tuple[list[bytes], str | None, ItemConfig]) -> tuple[list[Item], Counter]:
    lines, category, config = args
    items: list[Item] = []
    skipped: Counter = Counter()
    for result in parse_lines(lines, category, config):
        if isinstance(result, Item):
            items.append(result)
        else:
            skipped[result] += 1
    return items, skipped


def _chunks(lines: Iterator[bytes], size: int) -> Iterator[list[bytes]]:
    while chunk := list(islice(lines, size)):
        yield chunk


def _count_lines(path: Path, limit: int | None) -> int | None:
    if path.suffix == ".parquet":
        rows = _parquet_file(path).metadata.num_rows
        return min(rows, limit) if limit else rows
    if path.suffix == ".gz":
        return limit
    with open(path, "rb") as handle:
        count = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    return min(count, limit) if limit else count


def _in_order(pool: ProcessPoolExecutor, function, jobs: Iterator, ahead: int) -> Iterator:
    """`pool.map(function, jobs)` with at most `ahead` jobs read and waiting: `pool.map` reads
    every job first, which for a raw file of millions of lines means all of it in memory."""
    waiting: deque = deque()
    for job in jobs:
        waiting.append(pool.submit(function, job))
        if len(waiting) >= ahead:
            yield waiting.popleft().result()
    while waiting:
        yield waiting.popleft().result()


def stream_raw(
    source: str | Path, config: LoadConfig | None = None, category: str | None = None, report: SkipReport | None = None
) -> Iterator[list[Item]]:
    """Items from one raw metadata source (local file or hub category), a chunk at a time and in
    file order, with `report` counting as it goes: memory does not grow with the file."""
    from tqdm.auto import tqdm

    config = config or LoadConfig()
    path, found_category = resolve(source)
    category = category or found_category
    report = report if report is not None else SkipReport()
    report.source = report.source or str(category or path.name)
    report.rules.update(length_rules(config.item))
    total = _count_lines(path, config.limit)
    jobs = ((chunk, category, config.item) for chunk in _chunks(iter_lines(path, config.limit), config.chunk_size))
    workers = config.workers if total is None or total > config.chunk_size * 2 else 1  # a pool costs seconds
    with tqdm(total=total, desc=f"Parsing {report.source}", unit="rec", disable=not config.progress) as bar:
        if workers <= 1:
            results: Iterator = map(_parse_chunk, jobs)
            yield from _counted(results, report, bar)
        else:
            with ProcessPoolExecutor(workers, initializer=pool_worker_start, initargs=(os.getpid(),)) as pool:
                yield from _counted(_in_order(pool, _parse_chunk, jobs, 2 * workers), report, bar)
    refuse_if_not_jsonl(path, report)
    say_if_cut(path, report)


NOT_JSONL = {"bad_json", "not_utf8", "not_an_object", "blank_line"}


def refuse_if_not_jsonl(path: Path, report: SkipReport) -> None:
    """A file where no line is a JSON record (a CSV, a JSON array) is the wrong kind of file: one
    line that says so, not a report that kept nothing."""
    blank = report.skipped["blank_line"]
    if report.kept == 0 and report.read > blank and set(+report.skipped) <= NOT_JSONL:
        raise DataError(
            f"{path}: no line is a JSON record: curate reads JSONL (one JSON object a line), JSONL.gz or parquet"
        )


def load_raw(
    source: str | Path, config: LoadConfig | None = None, category: str | None = None
) -> tuple[list[Item], SkipReport]:
    """Items from one raw metadata source (local file or hub category), in file order."""
    report = SkipReport()
    items = [item for chunk in stream_raw(source, config, category, report) for item in chunk]
    return items, report


def say_if_cut(path: Path, report: SkipReport) -> None:
    if report.skipped["truncated_file"]:
        message = (
            f"{path}: the file ends early (cut off, or still downloading): kept the {report.kept:,} items before it"
        )
        print(message, file=sys.stderr, flush=True)


def _counted(results, report: SkipReport, bar) -> Iterator[list[Item]]:
    for chunk_items, skipped in results:
        read = len(chunk_items) + sum(skipped.values())
        report.read += read
        report.kept += len(chunk_items)
        report.skipped.update(skipped)
        bar.update(read)
        yield chunk_items


def load_categories(categories: list[str], config: LoadConfig | None = None) -> tuple[list[Item], SkipReport]:
    """Several categories (or files) in one list, with one combined report, printed per source."""
    items: list[Item] = []
    total = SkipReport(source="all")
    for category in categories:
        found, report = load_raw(category, config)
        print(report, flush=True)
        items.extend(found)
        total.add(report)
    return items, total
