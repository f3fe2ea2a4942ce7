"""The leaderboard: one row per model and test set, every week's results in one CSV file.

Notebooks on separate machines and the command line record into the same file (in the store,
which is the results folder unless PRICER_STORE names another): a lock makes writers take
turns and the file is replaced whole, so no row is lost and no reader sees half a file.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from helpers.core.tester import TestResult
from helpers.files import atomic_open, read_text, save_figure
from helpers.store import Store

LEADERBOARD = "leaderboard.csv"  # its key in the store
LEADERBOARD_FIELDS = [
    "model",
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


NUMBERS = ("n", "average_error", "rmsle", "hit_rate", "failures", "error_ci_low", "error_ci_high")


def _usable_row(row: dict[str, Any]) -> bool:
    """A row whose figures are all finite numbers (an older version could write inf or nan)."""
    try:
        return all(math.isfinite(float(row[name])) for name in NUMBERS)
    except (KeyError, TypeError, ValueError):
        return False


def record(result: TestResult, where: Store | str | Path) -> None:
    """Add or replace the row for (model, data set) in a leaderboard: the store's, which every
    notebook and the command line share, or a CSV file of its own. Only that: the model's answers
    are kept by `helpers.evaluation.predictions.keep_answers`, when asked for."""
    row = {**result.to_dict(), "when": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if not _usable_row(row):
        raise RuntimeError(f"{result.title}: a figure is not a finite number: {row}")  # the Tester never makes one
    if not isinstance(where, Store):
        _record(row, Path(where))
        return
    with where.editing(LEADERBOARD) as local:
        _record(row, local)


def _record(row: dict[str, Any], path: Path) -> None:
    """Several processes may record at once (two notebooks, a notebook and the command line):
    a lock file makes them take turns, and the file is replaced whole, so no row is lost and no
    reader sees half a file."""
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{path}.lock", timeout=120):
        key = (row["model"], row["dataset"])
        rows = [r for r in read_leaderboard(path) if (r["model"], r["dataset"]) != key] + [row]
        with atomic_open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=LEADERBOARD_FIELDS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)


def read_leaderboard(path: str | Path | None) -> list[dict[str, Any]]:
    """The rows of the leaderboard at `path` (none when there is no file). Rows without finite
    figures are left out, and said so."""
    if path is None or not Path(path).exists():
        return []
    path = Path(path)
    rows = list(csv.DictReader(io.StringIO(read_text(path, "leaderboard CSV"), newline="")))
    usable = [row for row in rows if _usable_row(row)]
    if len(usable) < len(rows):
        print(f"{path}: left out {len(rows) - len(usable)} rows whose figures are not finite numbers", flush=True)
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


def leaderboard_chart(frame, path: str | Path | None = None):
    """Every model on the leaderboard as a bar of its average error with its 95% interval,
    best first and highlighted."""
    from matplotlib.figure import Figure

    frame = frame.sort_values("average_error").reset_index(drop=True)
    figure = Figure(figsize=(10, max(3, 0.45 * len(frame) + 1)))
    axes = figure.subplots()
    errors = frame["average_error"].to_numpy()
    spans = [errors - frame["error_ci_low"].to_numpy(), frame["error_ci_high"].to_numpy() - errors]
    colours = ["seagreen" if i == 0 else "lightsteelblue" for i in range(len(frame))]
    bars = axes.barh(frame["model"], errors, xerr=spans, color=colours, capsize=3)
    axes.bar_label(bars, labels=[f"${e:,.2f}" for e in errors], padding=4)
    axes.invert_yaxis()
    axes.set_xlabel("average error ($), with its 95% interval")
    keys = sorted(set(frame["dataset"]))
    axes.set_title(f"Leaderboard ({', '.join(keys)}): best {frame['model'][0]}" if len(frame) else "Leaderboard")
    return save_figure(figure, path)
