"""Week 8's ensemble: other predictors' prices, blended on validation items.

Its weights are fitted on validation items, never on the test items, priced by members that did
not train on them (week 8's ensemble agent and notebook; the classical ensemble is a stack over
out-of-fold prices instead, `helpers.classical.stack`).
The course fits one linear regression over every member (in log prices, with the lowest and the
highest guess as two more inputs); with many members and few validation items that regression
gives wild weights (+2.7 on one, -1.8 on another) and ends worse than its best member. So the
inputs are chosen on the validation items (`choose_blend`: forward selection, non-negative
weights, judged by cross-validation), and the blend is kept only where it beats the best member
alone there. Any predictor can be a member: the classical models here, and in a notebook the
frontier and fine-tuned models too, from the answers they gave
(`helpers.core.answers.Answers` turns kept answers into a predictor).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from helpers.core.items import Item
from helpers.core.tester import prices_of
from helpers.plumbing.errors import DataError


@dataclass
class Blend:
    """How validation chose to combine the members' prices: one member alone, or non-negative
    weights over a few of them in log prices (`regression`), and the errors it was chosen on."""

    names: tuple[str, ...]  # the inputs combined, in the order `predict` takes them
    regression: Any | None  # None: names[0] alone
    error: float  # its average error on the validation items ($)
    best: str  # the best member alone there
    best_error: float

    def predict(self, columns: np.ndarray) -> np.ndarray:
        """Prices from the chosen inputs' prices (items × `names`)."""
        columns = np.asarray(columns, dtype=float)
        if self.regression is None:
            return columns[:, 0]
        return np.maximum(np.expm1(self.regression.predict(np.log1p(columns))), 0.0)

    @property
    def weights(self) -> dict[str, float]:
        if self.regression is None:
            return {self.names[0]: 1.0}
        return dict(zip(self.names, map(float, self.regression.coef_)))

    def __str__(self) -> str:
        if self.regression is None:
            return f"{self.best} alone (${self.best_error:,.2f} on the validation items; no blend did better)"
        weights = " + ".join(f"{w:.2f} × {n}" for n, w in self.weights.items())
        return (
            f"{weights} (log prices): ${self.error:,.2f} on the validation items, "
            f"where the best member alone, {self.best}, is ${self.best_error:,.2f}"
        )


def fit_log_weights(columns: np.ndarray, truths: np.ndarray):
    from sklearn.linear_model import LinearRegression

    return LinearRegression(positive=True).fit(np.log1p(columns), np.log1p(truths))


def blend_error(regression, columns: np.ndarray, truths: np.ndarray) -> float:
    return float(np.mean(np.abs(np.maximum(np.expm1(regression.predict(np.log1p(columns))), 0.0) - truths)))


def cross_validated_error(columns: np.ndarray, truths: np.ndarray, folds: int, seed: int) -> float:
    """The blend's average error on items it was not fitted on, `folds` times over."""
    from sklearn.model_selection import KFold

    if len(truths) < 2 * folds:  # too few items to hold any out: judged where it was fitted
        return blend_error(fit_log_weights(columns, truths), columns, truths)
    errors = np.zeros(len(truths))
    for fitted, held in KFold(folds, shuffle=True, random_state=seed).split(columns):
        regression = fit_log_weights(columns[fitted], truths[fitted])
        errors[held] = np.abs(np.maximum(np.expm1(regression.predict(np.log1p(columns[held]))), 0.0) - truths[held])
    return float(errors.mean())


def choose_blend(
    prices: dict[str, Sequence[float]], truths: Sequence[float], folds: int = 5, gain: float = 0.01, seed: int = 42
) -> Blend:
    """Forward selection on the validation items: start from the best member alone, add the
    member whose non-negative weights most lower the cross-validated error, stop when none
    lowers it by `gain` (1%). The blend is kept only if it beats the best member alone on the
    validation items, so it is never worse there."""
    names = list(prices)
    table = np.column_stack([np.asarray(prices[n], dtype=float) for n in names])
    truths = np.asarray(truths, dtype=float)
    alone = {n: float(np.mean(np.abs(table[:, j] - truths))) for j, n in enumerate(names)}
    best = min(alone, key=alone.get)
    chosen, chosen_error = [best], alone[best]
    while len(chosen) < len(names):
        trials = {
            n: cross_validated_error(table[:, [names.index(c) for c in [*chosen, n]]], truths, folds, seed)
            for n in names
            if n not in chosen
        }
        added = min(trials, key=trials.get)
        if trials[added] > chosen_error * (1 - gain):
            break
        chosen, chosen_error = [*chosen, added], trials[added]
    if len(chosen) > 1:
        columns = table[:, [names.index(c) for c in chosen]]
        regression = fit_log_weights(columns, truths)
        error = blend_error(regression, columns, truths)
        if error < alone[best]:
            return Blend(tuple(chosen), regression, error, best, alone[best])
    return Blend((best,), None, alone[best], best, alone[best])


class Ensemble:
    """A predictor: the members' prices, blended as the validation items chose (`blend`)."""

    def __init__(self, members: dict[str, Callable], validation: Sequence[Item]):
        if not members:
            raise DataError("the ensemble has no members: no model has priced both the validation and the test items")
        if not validation:
            raise DataError("the ensemble has no validation items to fit its weights on")
        self.members = members
        self.validation = list(validation)  # kept, so anyone can check what the weights were fitted on
        self.blend = choose_blend(self.inputs(self.validation), [item.price for item in self.validation])
        self.__name__ = "ensemble"
        self.batch_size = 256

    def inputs(self, items: Sequence[Item]) -> dict[str, np.ndarray]:
        """Each member's prices for `items`, and the lowest and the highest of them, as the course has."""
        prices = np.array([prices_of(member, items) for member in self.members.values()]).T
        return {**dict(zip(self.members, prices.T)), "lowest": prices.min(axis=1), "highest": prices.max(axis=1)}

    @property
    def weights(self) -> dict[str, float]:
        """The chosen inputs' weights (in log prices); a member left out has none."""
        return self.blend.weights

    def predict_batch(self, items: Sequence[Item]) -> list[float]:
        inputs = self.inputs(items)
        return [float(p) for p in self.blend.predict(np.column_stack([inputs[n] for n in self.blend.names]))]

    def __call__(self, item: Item) -> float:
        return self.predict_batch([item])[0]
