"""The classical ensemble as a stack: its weights learnt from every training item's out-of-fold
prices, in dollars.

Week 8's ensemble fits its weights on a validation share (a tenth of the training items, a few
hundred on the bundled sample): too few to trust, and it ended worse than its best member. Here
every training item is priced once by members that did not train on it (k folds), and the
weights are the non-negative ones with the least average dollar error over those prices (the
Tester's own measure; a linear programme solves it exactly). The best member alone is one of the
weightings tried, so on those prices the stack is never worse than it. The members then price
new items as trained on every training item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from helpers.core.items import Item
from helpers.core.tester import Predictor, prices_of
from helpers.plumbing.errors import DataError

FitMembers = Callable[[list[Item], list[str]], dict[str, Predictor]]


def dollar_weights(columns: np.ndarray, truths: np.ndarray, most: int = 20_000, seed: int = 42) -> np.ndarray:
    """Non-negative w with the least mean |columns @ w - truths|: a linear programme (minimise the
    mean of t with -t <= columns @ w - truths <= t), on at most `most` rows drawn with `seed`
    (a few weights need no more)."""
    from scipy.optimize import linprog
    from scipy.sparse import eye, hstack, vstack

    columns, truths = np.asarray(columns, dtype=float), np.asarray(truths, dtype=float)
    if len(truths) > most:
        rows = np.random.default_rng(seed).choice(len(truths), most, replace=False)
        columns, truths = columns[rows], truths[rows]
    n, m = columns.shape
    slack = eye(n, format="csr")
    bounds = vstack([hstack([columns, -slack]), hstack([-columns, -slack])]).tocsr()
    cost = np.r_[np.zeros(m), np.full(n, 1.0 / n)]
    solved = linprog(cost, A_ub=bounds, b_ub=np.r_[truths, -truths], bounds=(0, None), method="highs")
    if not solved.success:  # a bug, not the user's: an L1 fit with w = 0 allowed always has a solution
        raise RuntimeError(f"the stack's weights could not be solved: {solved.message}")
    return solved.x[:m]


def out_of_fold(train: Sequence[Item], fit_members: FitMembers, names: list[str], folds: int, seed: int) -> np.ndarray:
    """Items × members: each training item priced by members trained on the other folds."""
    from sklearn.model_selection import KFold
    from tqdm.auto import tqdm

    prices = np.zeros((len(train), len(names)))
    split = list(KFold(folds, shuffle=True, random_state=seed).split(np.arange(len(train))))
    for kept, held in tqdm(split, desc="Stack: members out of fold", unit="fold"):
        members = fit_members([train[i] for i in kept], names)
        unseen = [train[i] for i in held]
        prices[held] = np.column_stack([prices_of(members[name], unseen) for name in names])
    return prices


@dataclass
class Stack:
    """A predictor: `members` (trained on every training item) weighted by `weights` in dollars."""

    members: dict[str, Predictor]
    weights: dict[str, float]
    error: float  # the stack's average error on the out-of-fold prices ($)
    alone: dict[str, float]  # each member's there

    def __post_init__(self) -> None:
        self.__name__, self.batch_size = "ensemble", 256  # as the Tester names and batches a predictor

    @property
    def best(self) -> str:
        return min(self.alone, key=self.alone.get)

    def predict_batch(self, items: Sequence[Item]) -> list[float]:
        used = {name: weight for name, weight in self.weights.items() if weight > 0}  # a zero weight: not asked
        if not used:  # every weight zero: the least dollar error was $0 for everything
            return [0.0] * len(items)
        prices = np.column_stack([prices_of(self.members[name], items) for name in used])
        return [float(p) for p in np.maximum(prices @ np.array(list(used.values())), 0.0)]

    def __call__(self, item: Item) -> float:
        return self.predict_batch([item])[0]

    def __str__(self) -> str:
        weights = " + ".join(f"{w:.2f} × {n}" for n, w in self.weights.items() if w > 0)
        return (
            f"{weights} (dollars): ${self.error:,.2f} on every training item priced out of fold, "
            f"where the best member alone, {self.best}, is ${self.alone[self.best]:,.2f}"
        )


def fit_stack(
    train: Sequence[Item],
    names: list[str],
    fit_members: FitMembers,
    folds: int = 3,
    seed: int = 42,
    trained: dict[str, Predictor] | None = None,
) -> Stack:
    """The stack over `names`: `fit_members(items, names)` trains them, once a fold and once on
    every item (members already in `trained`, fitted on all of `train`, are not trained again)."""
    if not names:
        raise DataError("the ensemble has no members")
    if len(train) < 2 * folds:
        raise DataError(f"the ensemble needs at least {2 * folds} training items to price them out of fold")
    train = list(train)
    prices = out_of_fold(train, fit_members, names, folds, seed)
    truths = np.array([item.price for item in train])
    weights = dollar_weights(prices, truths, seed=seed)
    alone = {name: float(np.mean(np.abs(prices[:, j] - truths))) for j, name in enumerate(names)}
    trained = trained or {}
    missing = [name for name in names if name not in trained]
    members = {**{name: trained[name] for name in names if name in trained}, **fit_members(train, missing)}
    error = float(np.mean(np.abs(prices @ weights - truths)))
    return Stack({name: members[name] for name in names}, dict(zip(names, map(float, weights))), error, alone)
