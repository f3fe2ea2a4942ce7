"""Week 6's data work file to file, each in one call: raw records to an items file
(`curate_file`), and an items file to its train, validation and test files (`split_file`).
The command line's `curate` and `split` stages and the main job run these."""

from __future__ import annotations

import sys
from pathlib import Path

from helpers.data.charts import CHARTS, Point, save_all
from helpers.data.curation import CurationConfig, balance, balance_index, dedupe, split_with_validation, unique_index
from helpers.data.hub_datasets import read_items
from helpers.data.item_files import copy_rows, index_items, item_writer, save_items
from helpers.data.raw import LoadConfig, SkipReport, stream_raw
from helpers.plumbing.errors import ConfigError, DataError
from helpers.plumbing.files import atomic_set, refuse_overwrite


def refuse_charts(folder: str | Path, overwrite: bool) -> None:
    """Before any work: stop if `folder` already holds charts and `overwrite` is not set."""
    for name in CHARTS:
        refuse_overwrite(Path(folder) / name, overwrite)


def curate_file(
    sources: list[str],
    out: str | Path,
    config: LoadConfig,
    category: str | None = None,
    charts: str | Path | None = None,
    overwrite: bool = False,
) -> SkipReport:
    """Every raw source's items into one items file, written as they come (memory holds only
    what the charts need); each source's skip report on stderr; the total returned."""
    if not sources:
        raise ConfigError("--input needs at least one raw file or hub category")
    refuse_overwrite(out, overwrite)
    if charts:
        refuse_charts(charts, overwrite)
    points, total = [], SkipReport()
    with item_writer(out) as write:
        for source in sources:
            report = SkipReport()
            for items in stream_raw(source, config, category, report):
                write(items)
                if charts:
                    points.extend(Point.of(item) for item in items)
            print(report, file=sys.stderr, flush=True)
            total.add(report)
    if charts and points:
        save_all(points, charts)
    return total


def split_file(
    items: str,
    outs: dict[str, str],
    config: CurationConfig,
    overwrite: bool = False,
    categories: list[str] | None = None,
) -> dict[str, int]:
    """Keep only `categories` (when given), de-duplicate (when asked), balance and split the items
    file into `outs` (train, test and, when `config.validation_size` is set, validation). A JSONL
    file is split through an index of its rows, which are copied as they are; other files are
    read into memory. Returns the counts at each step."""
    if not config.validation_size:
        outs = {name: out for name, out in outs.items() if name != "validation"}
    if len({Path(out).resolve() for out in outs.values()}) < len(outs):
        raise ConfigError(
            f"two of split's outputs name the same file ({', '.join(map(str, outs.values()))}): give each its own"
        )
    for out in outs.values():
        refuse_overwrite(out, overwrite)
    if Path(items).suffix == ".jsonl":
        index, report = index_items(items)
        if report.read != report.kept:
            print(report, file=sys.stderr)
        if not index.offsets:
            raise DataError(f"no usable items in {items}")
        chosen = of_categories(index.categories, categories, items)
        keys = [(index.title_keys[i], index.text_keys[i]) for i in chosen]
        kept = [chosen[i] for i in unique_index(keys)] if config.dedupe else chosen
        pool = list(kept)
        if config.balance:
            prices, found = [index.prices[i] for i in kept], [index.categories[i] for i in kept]
            pool = [kept[i] for i in balance_index(prices, found, config)]
        parts = dict(zip(("train", "validation", "test"), split_with_validation(pool, config)))
        with atomic_set(outs.values()) as temporaries:  # all whole before any replaces a file: --items among them
            for name, temporary in zip(outs, temporaries):
                copy_rows(items, [index.offsets[i] for i in parts[name]], temporary)
        total = len(index.offsets)
    else:
        loaded = read_items(items)
        chosen = [loaded[i] for i in of_categories([item.category for item in loaded], categories, items)]
        kept = dedupe(chosen) if config.dedupe else chosen
        pool = balance(kept, config) if config.balance else kept
        parts = dict(zip(("train", "validation", "test"), split_with_validation(pool, config)))
        with atomic_set(outs.values()) as temporaries:
            for name, temporary in zip(outs, temporaries):
                save_items(parts[name], temporary)
        total = len(loaded)
    counts = {"items": total, "duplicates": len(chosen) - len(kept), "balanced": len(pool)}
    if categories:
        counts = {"items": total, "other_categories": total - len(chosen), **counts}
    counts.update({name: len(parts[name]) for name in outs})
    return {**counts, "unused": len(pool) - sum(len(parts[name]) for name in outs)}


def of_categories(found: list[str], categories: list[str] | None, items: str) -> list[int]:
    """The positions of the items in `categories` (all of them when None); none at all is the
    user's mistake, said with the categories the file has."""
    if not categories:
        return list(range(len(found)))
    wanted = set(categories)
    chosen = [i for i, category in enumerate(found) if category in wanted]
    if not chosen:
        raise DataError(
            f"no items of {', '.join(categories)} in {items}: its categories are {', '.join(sorted(set(found)))}"
        )
    return chosen
