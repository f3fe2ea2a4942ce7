"""Scoring from the command line: `score_and_keep` (the Tester, the row and the answers kept,
as every notebook scores) with the stage's flags, and the result printed. Every stage that
prices test items (baselines, evaluate, frontier, predict) and the main job score through
`score`, the store they opened once passed in."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from helpers.core.answers import Answers, score_and_keep
from helpers.core.items import Item
from helpers.core.tester import TEST_SIZE, Predictor, TestResult, answers_of
from helpers.plumbing import paths
from helpers.plumbing.files import refuse_unwritable
from helpers.plumbing.store import Store


@dataclass
class Scoring:
    """Which test items, and where the result goes."""

    test: str = str(paths.TEST_SAMPLE)  # test items: a local items file or a hub data set
    size: int = TEST_SIZE  # the first N test items are priced
    json: bool = False  # print the result as one JSON line
    dataset: str | None = None  # the leaderboard's name for the test set (default: from the items' content)
    trained_on: str | None = None  # the leaderboard's name for the training set (default: the model's own)
    leaderboard: str | None = None  # a CSV of its own (default: the store's, with each answer kept beside it)


def score(
    predictor: Predictor,
    test: Sequence[Item],
    scoring: Scoring,
    title: str,
    store: Store,
    extra: Callable[[], dict] | None = None,
    progress: bool | None = None,
    trained_on: Sequence[Item] | None = None,
) -> TestResult:
    """`score_and_keep` into `scoring.leaderboard`, else into `store`; print the result (one JSON
    line with the fields `extra()` adds, when `scoring.json`). `trained_on`: the items the model
    learnt from, when it cannot say so itself."""
    if scoring.leaderboard:
        refuse_unwritable(scoring.leaderboard)  # before the items are priced, not after
    learnt = scoring.trained_on if scoring.trained_on is not None else trained_on
    result = score_and_keep(
        predictor, test, scoring.leaderboard or store, scoring.dataset, strict=True,
        title=title, size=scoring.size, verbose=False, progress=progress, trained_on=learnt,
    )  # fmt: skip
    row = {**result.to_dict(), **(extra() if extra else {})}
    print(json.dumps(row) if scoring.json else result.summary(), flush=True)
    return result


def shared(predictor: Predictor, items: Sequence[Item], processes) -> Predictor:
    """Under `accelerate launch`: each process prices a contiguous share of `items` and the main
    process gathers the answers in order; returns a predictor that gives them back, the same as
    one process's."""
    from accelerate.utils import gather_object

    with processes.split_between_processes(list(items)) as share:
        answers = answers_of(predictor, share)
    gathered = Answers.of(predictor.__name__, items, gather_object(answers))
    gathered.trained_on = getattr(predictor, "trained_on", "")  # what the model learnt from, for the leaderboard
    return gathered
