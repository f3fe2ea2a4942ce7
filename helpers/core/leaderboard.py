"""The leaderboard: one row per model, training set and test set, every week's results in one CSV file.

Notebooks on separate machines and the command line record into the same file (in the store,
which is the results folder unless PRICER_STORE names another): a lock makes writers take
turns and the file is replaced whole, so no row is lost and no reader sees half a file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from helpers.core.items import Item
from helpers.core.prices import decimal_point
from helpers.plumbing import paths
from helpers.plumbing.errors import ConfigError, DataError
from helpers.plumbing.files import atomic_open, make_room, read_csv, save_figure, through_links
from helpers.plumbing.store import Store

LEADERBOARD = "leaderboard.csv"  # its key in the store
BUNDLED_SAMPLE = "bundled-sample"  # the bundled test sample's leaderboard key
BUNDLED_TRAIN = "bundled-train"  # the bundled training sample's
LEADERBOARD_FIELDS = [
    "model",
    "trained_on",
    "dataset",
    "n",
    "average_error",
    "rmsle",
    "hit_rate",
    "failures",
    "error_ci_low",
    "error_ci_high",
    "mse",
    "r2",
    "when",
]


class Scored(Protocol):
    """What a row is made from: the Tester's result."""

    title: str

    def to_dict(self) -> dict[str, Any]: ...


# --- a row's keys: which training set and which test set, from their content -----------------


def _digest(items: Sequence[Item]) -> str:
    text = json.dumps([[item.test_prompt(), item.price] for item in items], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rows_digest(prompts: Sequence[str], completions: Sequence[str]) -> str:
    text = json.dumps([list(prompts), list(completions)], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _item_rows(items: Sequence[Item]) -> tuple[list[str], list[str]]:
    """The (prompts, completions) a model trained on these items learns from."""
    return [item.test_prompt() for item in items], [item.completion for item in items]


def _sample(path: Path) -> list[Item]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Item.from_dict(json.loads(line)) for line in lines if line.strip()]


@lru_cache(maxsize=1)
def _bundled_digest() -> str:
    return _digest(_sample(paths.TEST_SAMPLE))


@lru_cache(maxsize=1)
def _bundled_train_digest() -> str:
    return _rows_digest(*_item_rows(_sample(paths.TRAIN_SAMPLE)))


def dataset_key(items: Sequence[Item]) -> str:
    """The leaderboard key of a test set, from its content: the same items give the same key
    whether they were read from a file, from the hub, in a notebook or on the command line."""
    digest = _digest(items)
    return BUNDLED_SAMPLE if digest == _bundled_digest() else f"testset-{digest[:10]}"


def rows_key(prompts: Sequence[str], completions: Sequence[str]) -> str:
    """The leaderboard key of what a model learnt from, from the training rows themselves: one
    model name trained on two sets gives two leaderboard rows, never one that replaces the other."""
    digest = _rows_digest(prompts, completions)
    return BUNDLED_TRAIN if digest == _bundled_train_digest() else f"trainset-{digest[:10]}"


def training_key(items: Sequence[Item]) -> str:
    """`rows_key` of the rows these items make: the key a baseline, a RAG store or a QLoRA run
    trained on the same items shares."""
    return rows_key(*_item_rows(items))


NUMBERS = ("n", "average_error", "rmsle", "hit_rate", "failures", "error_ci_low", "error_ci_high")
OPTIONAL = ("mse", "r2")  # rows from before these columns leave them empty


def _figure(cell: Any) -> float:
    """A figure as the Tester wrote it, or as a spreadsheet re-saved it (a decimal comma)."""
    value = float(decimal_point(str(cell)))
    if not math.isfinite(value):
        raise ValueError(cell)
    return value


def _text(cell: Any) -> str:
    return "" if cell is None else str(cell).strip()


def _parsed(row: dict[str, Any]) -> dict[str, Any] | None:
    """The row with its figures as numbers, or None when pricer cannot read it (a renamed column,
    a mistyped figure, an infinite one an older version wrote): such rows stay in the file."""
    if None in row or not _text(row.get("model")) or not _text(row.get("dataset")):
        return None
    try:
        figures = {name: _figure(row[name]) for name in NUMBERS}
        optional = {name: _figure(row[name]) if _text(row.get(name)) else "" for name in OPTIONAL}
    except (KeyError, TypeError, ValueError):
        return None
    figures["n"], figures["failures"] = int(figures["n"]), int(figures["failures"])
    trained_on = _text(row.get("trained_on"))  # empty: a model that learnt nothing here, or a row from before
    return {**row, **figures, **optional, "trained_on": trained_on}


def record(result: Scored, where: Store | str | Path) -> None:
    """Add or replace the row for (model, training set, test set) in a leaderboard: the store's, which every
    notebook and the command line share, or a CSV file of its own. Only that: the model's answers
    are kept beside it by `helpers.core.answers.score_and_keep`, the one call that scores, records and keeps."""
    row = {**result.to_dict(), "when": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if not _text(row["model"]) or not _text(row["dataset"]):
        raise ConfigError(
            f"a leaderboard row needs a model's name and a test set's: got {row['model']!r}, {row['dataset']!r}"
        )
    if _parsed(row) is None:
        raise RuntimeError(f"{result.title}: a figure is not a finite number: {row}")  # the Tester never makes one
    if not isinstance(where, Store):
        _record(row, Path(where))
        return
    where.edit(LEADERBOARD, lambda local: _record(row, local))


def _record(row: dict[str, Any], path: Path) -> None:
    """Several processes may record at once (two notebooks, a notebook and the command line):
    a lock file makes them take turns, and the file is replaced whole, so no row is lost and no
    reader sees half a file. Rows it cannot read are written back as they were."""
    from filelock import FileLock

    path = through_links(path)  # one lock, one file, whether it is named by a link or by its target
    make_room(path)
    with FileLock(f"{path}.lock", timeout=120):
        fields, usable, unread = _read(path)
        key = _key(row)
        rows = [r for r in usable if _key(r) != key] + [row] + unread
        extra = [name for name in fields if name not in LEADERBOARD_FIELDS]
        with atomic_open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=LEADERBOARD_FIELDS + extra, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)


def _key(row: dict[str, Any]) -> tuple[str, str, str]:
    return row["model"], row["trained_on"], row["dataset"]


def _read(path: Path) -> tuple[list[str], list[dict[str, Any]], list[dict[str, str]]]:
    """The header, the rows pricer reads, and the rows it cannot (kept as they are). A file that
    is no leaderboard, or a row with more cells than the header, is one line: nothing is written
    over it."""
    if not path.exists():
        return [], [], []
    fields, rows = read_csv(path, "leaderboard CSV")
    if rows and not {"model", "dataset"} <= set(fields):
        raise DataError(f"{path} is not a leaderboard (no model and dataset columns): choose another path")
    usable, unread = [], []
    for line, row in rows:
        if None in row:
            raise DataError(f"{path}, line {line}: more cells than the header has: mend or remove that row")
        parsed = _parsed(row)
        (usable if parsed else unread).append(parsed or row)
    return fields, usable, unread


def read_leaderboard(path: str | Path | None) -> list[dict[str, Any]]:
    """The rows of the leaderboard at `path` that pricer can read (none when there is no file),
    their figures as numbers; the others are counted, said so, and stay in the file."""
    if path is None:
        return []
    _, usable, unread = _read(Path(path))
    if unread:
        print(
            f"{path}: left out {len(unread)} rows it cannot read (a figure that is no number, or a column "
            "renamed); they stay in the file",
            flush=True,
        )
    return usable


def leaderboard(source: Store | str | Path, dataset: str | None = None):
    """The leaderboard of `source` (a store, or a CSV file) as a DataFrame, best average error
    first; with `dataset`, the rows of that test set only."""
    import pandas as pd

    path = source.get(LEADERBOARD) if isinstance(source, Store) else source
    frame = pd.DataFrame(read_leaderboard(path), columns=LEADERBOARD_FIELDS)
    if dataset is not None:
        frame = frame[frame["dataset"] == dataset]
    for column in ("n", "failures"):
        frame[column] = pd.to_numeric(frame[column]).astype("Int64")
    for column in ("average_error", "rmsle", "hit_rate", "error_ci_low", "error_ci_high", "mse", "r2"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")  # rows from before mse and r2: empty
    return frame.sort_values("average_error").reset_index(drop=True)


def leaderboard_table(frame, width: int = 120) -> str:
    """The leaderboard as a terminal shows it whole: figures to two decimals, the longest model
    names cut (…) so that a line fits in `width` columns."""
    header = ("model", "trained on", "test set", "n", "error $", "95% interval $", "rmsle", "hits %", "failures")
    rows = [
        (str(r.model), str(r.trained_on or "-"), str(r.dataset), f"{r.n}", f"{r.average_error:,.2f}")
        + (f"{r.error_ci_low:,.2f}-{r.error_ci_high:,.2f}", f"{r.rmsle:.2f}", f"{r.hit_rate:.2f}", f"{r.failures}")
        for r in frame.itertuples()
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    fitting = max(12, widths[0] - max(0, sum(widths) + 2 * (len(widths) - 1) - width))
    widths[0] = _name_width([row[0] for row in rows], fitting)

    def line(row: tuple[str, ...]) -> str:
        name = _cut(row[0], widths[0])
        return "  ".join(
            [name.ljust(widths[0]), row[1].ljust(widths[1]), row[2].ljust(widths[2])]
            + [cell.rjust(size) for cell, size in zip(row[3:], widths[3:])]
        )

    return "\n".join(line(row) for row in (header, *rows))


def _cut(name: str, size: int) -> str:
    """`name` in `size` characters, its start (which model) and its longer end (which predictor
    or run) kept, so `x model_predict` and `x improved_model_predict` stay apart."""
    if len(name) <= size:
        return name
    head = size // 3
    return name[:head] + "…" + name[len(name) - (size - 1 - head) :]


def _name_width(names: list[str], size: int) -> int:
    """The narrowest width from `size` up at which names that differ still differ once cut: a
    line a little wider beats two rows that read alike."""
    longest = max(map(len, names), default=size)
    while size < longest and len({_cut(name, size) for name in names}) < len(set(names)):
        size += 1
    return size


def leaderboard_chart(frame, path: str | Path | None = None, top: int = 30):
    """The `top` models on the leaderboard as bars of their average error with its 95% interval,
    best first and highlighted: a leaderboard of thousands of rows charts in a second."""
    import numpy as np
    from matplotlib.figure import Figure

    shown = frame.sort_values("average_error").head(top).reset_index(drop=True)
    figure = Figure(figsize=(10, max(3, 0.45 * len(shown) + 1)))
    axes = figure.subplots()
    errors = shown["average_error"].to_numpy()
    spans = _spans(errors, shown["error_ci_low"].to_numpy(), shown["error_ci_high"].to_numpy())
    colours = ["seagreen" if i == 0 else "lightsteelblue" for i in range(len(shown))]
    bars = axes.barh(range(len(shown)), errors, xerr=spans, color=colours, capsize=3)
    axes.set_yticks(range(len(shown)), _labels(shown))
    counts = shown["n"].astype(int).tolist()
    mixed = len(set(counts)) > 1  # rows scored on different numbers of items: each bar says how many
    axes.bar_label(
        bars, labels=[f"${e:,.2f}" + (f" (n={n})" if mixed else "") for e, n in zip(errors, counts)], padding=4
    )
    axes.invert_yaxis()
    axes.set_xlabel("average error ($), with its 95% interval")
    if len(errors) > 1 and errors.max() > 10 * np.median(errors):  # one wild model would squash the rest flat
        axes.set_xscale("log")
        axes.set_xlim(left=max(errors.min() / 2, 0.01))
        axes.set_xlabel("average error ($, log scale: one model is far off the rest), with its 95% interval")
    keys = ", ".join(sorted(set(shown["dataset"])))
    best = f": the best {len(shown)} of {len(frame)}" if len(frame) > len(shown) else ""
    title = f"Leaderboard ({keys}){best}, first {shown['model'][0]}" if len(shown) else "Leaderboard"
    axes.set_title(title, parse_math=False)
    return save_figure(figure, path)


def _spans(errors, low, high):
    """Each bar's interval as matplotlib draws it; a row whose interval does not hold its average
    (edited by hand) is drawn without one, with a line counting them: for everyone who shares the
    leaderboard, one such row would otherwise stop the chart."""
    import numpy as np

    spans = np.array([errors - low, high - errors], dtype=float)
    outside = (spans < 0).any(axis=0)
    if outside.any():
        print(
            f"{outside.sum()} of the charted rows have an average error outside their 95% interval (edited by "
            "hand?): drawn without the interval",
            flush=True,
        )
        spans[:, outside] = 0
    return spans


def _labels(shown) -> list[str]:
    """Each bar's model; a model shown twice (two training sets, two test sets) says which."""
    repeated = shown["model"].duplicated(keep=False)
    return [
        f"{row.model} ({row.trained_on or '-'} → {row.dataset})" if twice else str(row.model)
        for row, twice in zip(shown.itertuples(), repeated)
    ]
