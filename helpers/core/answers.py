"""Every model's answers, kept in the store, so that week 8 can combine models the learner ran
on other machines weeks earlier (the frontier models, the fine-tuned ones) without asking them
again.

One file per model, `predictions/<model>.json` in the store: {"model": name, "answers": {item
key: price or null}}, where an item's key is a digest of its test prompt. Score, record, keep is
one call, `score_and_keep(predictor, items, store)`, which every notebook and the command line
make: the Tester, then the leaderboard row and the test answers behind it, together or not at all.
The validation answers that the ensemble's weights are fitted on come from
`remember(model, predictor, validation, store)`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from helpers.core.items import Item, item_key
from helpers.core.leaderboard import record
from helpers.core.tester import Predictor, Tester, TestResult
from helpers.plumbing.errors import DataError
from helpers.plumbing.files import atomic_open, read_text
from helpers.plumbing.store import Store

FOLDER = "predictions"  # the store's folder of answers


def _file_key(model: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-.") or "model"
    return f"{FOLDER}/{slug}-{hashlib.sha256(model.encode()).hexdigest()[:6]}.json"


class Answers:
    """A predictor that gives each item the answer a model once gave it (None for an item it
    never priced, or priced with a reply that held no price), matched by the item's key, not by
    its place: a model's kept answers, a person's CSV, answers gathered from several processes."""

    def __init__(self, model: str, answers: dict[str, float | None]):
        self.__name__ = model
        self.answers = answers

    @classmethod
    def of(cls, model: str, items: Sequence[Item], prices: Sequence[float | None]) -> Answers:
        """The answers `prices` gave `items`, in order; items that read the same get the first."""
        answers: dict[str, float | None] = {}
        for item, price in zip(items, prices):
            answers.setdefault(item_key(item), price)
        return cls(model, answers)

    def __call__(self, item: Item) -> float | None:
        return self.answers.get(item_key(item))

    def covers(self, items: Sequence[Item]) -> bool:
        return all(item_key(item) in self.answers for item in items)


def score_and_keep(
    predictor: Predictor,
    items: Sequence[Item],
    where: Store | str | Path,
    dataset: str | None = None,
    keep: bool = True,
    strict: bool = False,
    **tester: Any,
) -> TestResult:
    """Score, record, keep: `Tester.test(predictor, items, **tester)` (the lines and the chart
    unless verbose=False), then the result's row on the store's leaderboard with its answers kept
    beside it (`record_with_answers`; `keep=False`: the row alone, for a blend whose answers must
    not become a member of the next one), or, where `where` is a CSV file's path, the row alone in
    that file. `dataset` names the test set on the leaderboard in place of its content's key. A
    run where every item failed is recorded nowhere: a printed line says so (a notebook carries
    on: a pipeline check's tiny model may give no price at all), or with `strict` (the command
    line) a one-line error."""
    result = Tester.test(predictor, items, **tester)
    if dataset:
        result.dataset = dataset
    if result.failure_count == result.n:
        said = f"{result.title}: every one of the {result.n} items failed, so nothing was recorded"
        if strict:
            raise DataError(said)
        print(said)
        return result
    if isinstance(where, Store) and keep:
        record_with_answers(result, where)
    else:
        record(result, where)
    return result


def record_with_answers(result: TestResult, store: Store) -> None:
    """The leaderboard row and the answers behind it, together or not at all: a row whose answers
    were not kept leaves the model out of week 8 while the leaderboard shows it. The answers go
    first (a damaged answers file is refused before anything is written); when the row then
    cannot be recorded, the answers file goes back to what it was."""
    before = _save(store, result.title, result.item_keys, result.answers)
    try:
        record(result, store)
    except BaseException:
        store.edit(_file_key(result.title), lambda local: _put_back(local, before))
        raise


def _put_back(local: Path, before: bytes | None) -> None:
    if before is None:
        local.unlink(missing_ok=True)  # a folder store: gone again (a hub store keeps the file)
        return
    with atomic_open(local, "wb") as handle:
        handle.write(before)


def _save(store: Store, model: str, keys: Sequence[str], answers: Sequence[float | None]) -> bytes | None:
    """Merge `model`'s answers for these item keys into its file in the store; returns the file
    as it was before (None when there was none)."""
    from filelock import FileLock

    def merge(local: Path) -> bytes | None:
        with FileLock(f"{local}.lock", timeout=120):
            known = _read(local).answers if local.exists() else {}
            before = local.read_bytes() if local.exists() else None
            known.update(zip(keys, answers))
            with atomic_open(local, "w") as handle:
                json.dump({"model": model, "answers": known}, handle)
            return before

    return store.edit(_file_key(model), merge)


def _read(path: Path) -> Answers:
    """A predictions file, checked: a file that is not one (cut short, edited by hand) is a
    one-line error naming it, never a traceback or a price read wrongly."""
    import math

    try:
        row = json.loads(read_text(path, "predictions file"))
        model, answers = row["model"], row["answers"]
        usable = isinstance(model, str) and isinstance(answers, dict)
        usable = usable and all(
            a is None or (type(a) in (int, float) and math.isfinite(a) and a >= 0) for a in answers.values()
        )
    except (json.JSONDecodeError, KeyError, TypeError):
        usable = False
    if not usable:
        raise DataError(f"{path}: not a predictions file (each answer a price or null); move it aside")
    return Answers(model, answers)


def remember(model: str, predictor: Predictor, items: Sequence[Item], store: Store) -> None:
    """Have `predictor` price the items through the Tester (in batches where it can, with a
    progress bar), record nothing on the leaderboard, and keep the answers in `store` under
    `model`: how a model prices the validation items for week 8."""
    if not items:
        print(f"{model}: no items to price, nothing kept")
        return
    result = Tester(predictor, items, title=model, size=len(items), verbose=False, progress=True).run()
    _save(store, model, result.item_keys, result.answers)
    print(f"{model}: answers for {result.n:,} items kept in the store, {result.failure_count} without a price")


def stored(store: Store, *needed: Sequence[Item]) -> dict[str, Answers]:
    """Every model in `store` with an answer for each of the `needed` items, by name; the
    others are named in one line, with why they are left out."""
    found, left_out = {}, []
    for name in store.names(FOLDER):
        if not name.endswith(".json"):
            continue
        try:
            answers = _read(store.get(f"{FOLDER}/{name}"))
        except DataError as error:
            print(f"left out: {error}")
            continue
        if all(answers.covers(items) for items in needed):
            found[answers.__name__] = answers
        else:
            left_out.append(answers.__name__)
    if left_out:
        print(f"left out, for want of answers on these items: {', '.join(sorted(left_out))}")
    return dict(sorted(found.items()))
