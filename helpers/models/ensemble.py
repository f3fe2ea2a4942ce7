"""The ensemble (week 8's ensemble agent): a linear model over other predictors' prices.

Its weights are fitted on a validation split carved from the training items, never on the test
items: the members train on the rest of the training items, price the validation items, and a
linear regression learns how much to trust each (in log prices, with the members' lowest and
highest guess as two more inputs, as the course does). Any predictor can be a member: the
classical models here, and in a notebook the frontier and fine-tuned models too, from the
answers they gave (`helpers.evaluation.predictions.Answers` turns kept answers into a predictor).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from helpers.core.items import Item
from helpers.core.tester import Predictor, answers_of, usable_guess
from helpers.errors import DataError
from helpers.models.baselines import BaselineConfig, held_out


def prices_of(predictor: Predictor, items: Sequence[Item]) -> list[float]:
    """Every item's price from `predictor`, in batches where it can; a failure (no price, a
    negative or non-finite one) counts as $0, as the Tester scores it."""
    return [usable_guess(answer) or 0.0 for answer in answers_of(predictor, items)]


class Ensemble:
    """A predictor: the members' prices, combined by weights learnt on validation items."""

    def __init__(self, members: dict[str, Callable], validation: Sequence[Item]):
        from sklearn.linear_model import LinearRegression

        if not members:
            raise DataError("the ensemble has no members: no model has priced both the validation and the test items")
        if not validation:
            raise DataError("the ensemble has no validation items to fit its weights on")
        self.members = members
        self.validation = list(validation)  # kept, so anyone can check what the weights were fitted on
        self.model = LinearRegression().fit(self.inputs(self.validation), np.log1p([i.price for i in validation]))
        self.__name__ = "ensemble"
        self.batch_size = 256

    def inputs(self, items: Sequence[Item]) -> np.ndarray:
        prices = np.array([prices_of(member, items) for member in self.members.values()]).T
        return np.log1p(np.column_stack([prices, prices.min(axis=1), prices.max(axis=1)]))

    @property
    def weights(self) -> dict[str, float]:
        names = [*self.members, "lowest", "highest"]
        return dict(zip(names, map(float, self.model.coef_)))

    def predict_batch(self, items: Sequence[Item]) -> list[float]:
        return [max(float(p), 0.0) for p in np.expm1(self.model.predict(self.inputs(items)))]

    def __call__(self, item: Item) -> float:
        return self.predict_batch([item])[0]


def split_validation(items: Sequence[Item], share: float, seed: int) -> tuple[list[Item], list[Item]]:
    """(the items the members train on, the validation items the weights are fitted on)."""
    kept, held = held_out(len(items), share, seed)
    return [items[i] for i in sorted(kept)], [items[i] for i in sorted(held)]


def fit_ensemble(
    train: Sequence[Item], config: BaselineConfig, fit_members: Callable[[list[Item], list[str]], dict[str, Callable]]
) -> Ensemble:
    """The ensemble over `config.ensemble_members`, trained from `train` alone: `fit_members(items,
    names)` trains the members on all but the validation share, whose items fit the weights."""
    rest, validation = split_validation(train, config.validation_share, config.seed)
    return Ensemble(fit_members(rest, list(config.ensemble_members)), validation)
