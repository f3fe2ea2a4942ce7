"""The course's Tester, kept exact, plus what an engineer wants next to it.

Per item: error = |guess - truth|, sle = (log(truth+1) - log(guess+1))**2, and a colour:
green when error < $40 or under 20% of the truth, orange under $80 or 40%, else red.
Summary: average error, RMSLE, hit rate (share of green) over the first `size` items.

Beyond the course: replies with no usable price are counted as failures (scored as a $0
guess in the average error and RMSLE, so the averages stay comparable, and red: a failure is
never a hit, however cheap the item), an item whose predictor raises is a failure too (its
exception shown once), a bootstrap 95% interval for the average error, a per-category table,
the running error, and the per-item lines folded after the first twenty.
`helpers.core.leaderboard` collects the results of every model of every week.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from helpers.core.items import Item, item_key
from helpers.core.leaderboard import dataset_key, training_key
from helpers.core.prices import MAX_PRICE
from helpers.plumbing.errors import ConfigError, DataError, PricerError
from helpers.plumbing.files import save_figure

GREEN = "\033[92m"
YELLOW = "\033[93m"
RED = "\033[91m"
RESET = "\033[0m"
COLOR_MAP = {"red": RED, "orange": YELLOW, "green": GREEN}
TEST_SIZE = 250  # the course scores the first 250 test items
DEFAULT_BATCH = 32  # items per predict_batch call, for a batched predictor that names no size
SHOWN = 20  # per-item lines printed before the rest are folded into one line


class Predictor(Protocol):
    """A model as the Tester sees it: any callable that gives an item's price, or None when it has
    none. One that does better in bulk (a GPU batch, concurrent API calls) also offers
    `predict_batch(items) -> list[price | None]` and, if it likes, a `batch_size`."""

    def __call__(self, item: Item) -> float | None: ...


def in_batches(predictor: Predictor, items: Sequence[Item]) -> Iterator[list[float | None]]:
    """The predictor's answers for `items`, in order, a batch at a time: `predict_batch` on
    `batch_size` items at once where it offers it, else one item at a time."""
    predict_batch = getattr(predictor, "predict_batch", None)
    if predict_batch is None:
        for item in items:
            yield [predictor(item)]
        return
    step = max(1, int(getattr(predictor, "batch_size", DEFAULT_BATCH)))
    for start in range(0, len(items), step):
        chunk = list(items[start : start + step])
        answers = list(predict_batch(chunk))
        if len(answers) != len(chunk):
            name = getattr(predictor, "__name__", type(predictor).__name__)
            raise RuntimeError(f"{name}: predict_batch gave {len(answers)} answers for {len(chunk)} items")
        yield answers


def answers_of(predictor: Predictor, items: Sequence[Item]) -> list[float | None]:
    """Every item's answer, as `in_batches` gives them."""
    return [answer for batch in in_batches(predictor, items) for answer in batch]


def color_for(error: float, truth: float) -> str:
    if error < 40 or error / truth < 0.2:
        return "green"
    if error < 80 or error / truth < 0.4:
        return "orange"
    return "red"


def usable_guess(guess: Any) -> float | None:
    """A finite number from $0 to `MAX_PRICE` ($10 million, the ceiling replies have), or None:
    a failure, whatever produced it ($44,444,444 from a model is no price)."""
    if guess is None or isinstance(guess, bool):
        return None
    try:
        value = float(guess)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value) or value < 0 or value > MAX_PRICE:
        return None
    return value


def prices_of(predictor: Predictor, items: Sequence[Item]) -> list[float]:
    """Every item's price from `predictor`, in batches where it can; a failure (no price, a
    negative or non-finite one) counts as $0, as the Tester scores it."""
    return [usable_guess(answer) or 0.0 for answer in answers_of(predictor, items)]


@dataclass
class TestResult:
    """Everything one Tester run measured; metrics are derived, never stored twice."""

    __test__ = False  # not a pytest class

    title: str
    dataset: str = ""  # the test set's leaderboard key
    trained_on: str = ""  # the training set's (`training_key`); empty for a model that learnt nothing here
    truths: list[float] = field(default_factory=list)
    guesses: list[float] = field(default_factory=list)
    failures: list[bool] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    item_titles: list[str] = field(default_factory=list)
    item_keys: list[str] = field(default_factory=list)  # `helpers.core.items.item_key` of each item

    @property
    def n(self) -> int:
        return len(self.truths)

    @property
    def errors(self) -> list[float]:
        return [abs(g - t) for g, t in zip(self.guesses, self.truths)]

    @property
    def sles(self) -> list[float]:
        return [(math.log(t + 1) - math.log(g + 1)) ** 2 for g, t in zip(self.guesses, self.truths)]

    @property
    def colors(self) -> list[str]:
        """The course's colour of each answer; red for a failure (no price is never a hit)."""
        return ["red" if f else color_for(e, t) for e, t, f in zip(self.errors, self.truths, self.failures)]

    @property
    def average_error(self) -> float:
        return sum(self.errors) / self.n

    @property
    def rmsle(self) -> float:
        return math.sqrt(sum(self.sles) / self.n)

    @property
    def hit_rate(self) -> float:
        """Share of green items, in percent."""
        return 100 * self.colors.count("green") / self.n

    @property
    def mse(self) -> float:
        """Mean squared error, in squared dollars (the 2025 course reports it)."""
        return sum((g - t) ** 2 for g, t in zip(self.guesses, self.truths)) / self.n

    @property
    def r2(self) -> float | None:
        """The share of the truths' variance the guesses explain; None when the truths do not vary."""
        mean = sum(self.truths) / self.n
        spread = sum((t - mean) ** 2 for t in self.truths)
        return 1 - self.mse * self.n / spread if spread else None

    def running_chart(self, path: str | Path | None = None):
        """The average error as the items come, with its 95% band: where it settles, and how
        wide the doubt still is after n items."""
        from matplotlib.figure import Figure

        errors = np.array(self.errors)
        count = np.arange(1, self.n + 1)
        mean = np.cumsum(errors) / count
        spread = np.sqrt(np.maximum(np.cumsum(errors**2) / count - mean**2, 0) / np.maximum(count - 1, 1))
        figure = Figure(figsize=(10, 5))
        axes = figure.subplots()
        axes.plot(count, mean, color="purple", label="average error so far")
        axes.fill_between(
            count, mean - 1.96 * spread, mean + 1.96 * spread, color="purple", alpha=0.15, label="95% band"
        )
        axes.set_xlabel("items scored")
        axes.set_ylabel("average error ($)")
        axes.set_title(f"{self.title}: average error ${self.average_error:,.2f} after {self.n} items", parse_math=False)
        axes.legend()
        return save_figure(figure, path)

    @property
    def answers(self) -> list[float | None]:
        """Each item's guess as the model gave it: None where its reply held no usable price."""
        return [None if failed else guess for guess, failed in zip(self.guesses, self.failures)]

    @property
    def failure_count(self) -> int:
        return sum(self.failures)

    def error_interval(self, samples: int = 1000, seed: int = 42) -> tuple[float, float]:
        """Bootstrap 95% interval for the average error."""
        errors = np.array(self.errors)
        rng = np.random.default_rng(seed)
        means = errors[rng.integers(0, len(errors), size=(samples, len(errors)))].mean(axis=1)
        low, high = np.percentile(means, [2.5, 97.5])
        return float(low), float(high)

    @property
    def headline(self) -> str:
        return f"{self.title} Error=${self.average_error:,.2f} RMSLE={self.rmsle:,.2f} Hits={self.hit_rate:.1f}%"

    def by_category(self):
        """Average error, hit rate and count per category, worst first."""
        import pandas as pd

        frame = pd.DataFrame(
            {"category": self.categories, "error": self.errors, "hit": [c == "green" for c in self.colors]}
        )
        table = frame.groupby("category").agg(
            n=("error", "size"), average_error=("error", "mean"), hit_rate=("hit", "mean")
        )
        table["hit_rate"] *= 100
        return table.sort_values("average_error", ascending=False).round(2)

    def chart(self, path: str | Path | None = None):
        """Truth against estimate, coloured like the per-item lines, with the y = x line."""
        from matplotlib.figure import Figure

        figure = Figure(figsize=(12, 8))
        axes = figure.subplots()
        # a wild guess would shrink every other point into a corner: guesses above twice the
        # dearest truth are drawn at that edge, and the title says how many
        top = max(max(self.truths), min(max(self.guesses), 2 * max(self.truths)))
        shown = [min(guess, top) for guess in self.guesses]
        clipped = sum(guess > top for guess in self.guesses)
        axes.plot([0, top], [0, top], color="deepskyblue", lw=2, alpha=0.6)
        axes.scatter(self.truths, shown, s=3, c=self.colors)
        from matplotlib.lines import Line2D

        meaning = {"green": "hit: within $40 or 20%", "orange": "within $80 or 40%", "red": "further off, or no price"}
        keys = [Line2D([], [], marker="o", linestyle="", color=c, label=label) for c, label in meaning.items()]
        axes.legend(handles=keys, loc="upper left")
        axes.set_xlabel("Ground Truth")
        axes.set_ylabel("Model Estimate")
        axes.set_xlim(0, top)
        axes.set_ylim(0, top * 1.02)
        note = f"\n{clipped} guesses above ${top:,.0f} drawn at the top edge" if clipped else ""
        axes.set_title(self.headline + note, parse_math=False)  # a $ is a dollar, not TeX
        return save_figure(figure, path)

    def to_dict(self) -> dict[str, Any]:
        low, high = self.error_interval()
        return {
            "model": self.title,
            "trained_on": self.trained_on,
            "dataset": self.dataset,
            "n": self.n,
            "average_error": round(self.average_error, 4),
            "rmsle": round(self.rmsle, 4),
            "hit_rate": round(self.hit_rate, 2),
            "failures": self.failure_count,
            "error_ci_low": round(low, 2),
            "error_ci_high": round(high, 2),
            "mse": round(self.mse, 2),
            "r2": None if self.r2 is None else round(self.r2, 4),
        }

    def summary(self) -> str:
        low, high = self.error_interval()
        how = (
            " (no usable price: each scored as a $0 guess in the error, and never a hit)" if self.failure_count else ""
        )
        return f"{self.headline} Failures={self.failure_count}{how} (95% CI ${low:,.2f}-${high:,.2f}, n={self.n})"


class Tester:
    """Run a predictor over the first `size` items and score it: `Tester.test(fn, items)`.

    A predictor is any callable `item -> price`. `trained_on` names what it learnt from (the
    training items, or their key), so that one model trained twice keeps two leaderboard rows;
    a predictor with a `trained_on` attribute says so itself. One that does better in bulk (a GPU batch,
    concurrent API calls) also offers `predict_batch(items) -> list[price | None]` and, if it
    likes, a `batch_size`; the Tester then asks for a batch at a time, with a progress bar.
    Either way the answers are scored in item order, so the two forms give the same result.
    """

    __test__ = False  # not a pytest class

    def __init__(
        self,
        predictor: Predictor,
        data: Sequence[Item],
        title: str | None = None,
        size: int = TEST_SIZE,
        verbose: bool = True,
        progress: bool | None = None,
        trained_on: str | Sequence[Item] | None = None,
        shown: int | None = SHOWN,
    ):
        if not isinstance(data, Sequence):  # a generator, a `map`: read once, kept as a list
            data = list(data)
        if not data:
            raise DataError("the Tester needs at least one item")
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
            raise ConfigError(f"the Tester's size is how many items it scores: a whole number from 1, not {size!r}")
        self.predictor = predictor
        self.data = data
        self.title = title or getattr(predictor, "__name__", "model").replace("_", " ").title()
        self.size = min(int(size), len(data))
        self.verbose = verbose
        self.shown = self.size if shown is None else max(0, int(shown))  # per-item lines printed
        self.raised: list[tuple[int, BaseException]] = []  # (item index, exception) for items whose predictor raised
        batched = hasattr(predictor, "predict_batch")
        self.progress = batched if progress is None else progress  # None: a bar for batched predictors
        if trained_on is None:  # a predictor may say what it learnt from
            trained_on = getattr(predictor, "trained_on", "")
        trained_on = trained_on if isinstance(trained_on, str) else training_key(trained_on)
        self.result = TestResult(self.title, dataset=dataset_key(data), trained_on=trained_on)

    def batches(self) -> Iterator[tuple[int, list[Any]]]:
        """(index of the first item, the predictor's answers) for each batch, in order. An item
        whose predictor raises answers with its exception (a batch that raises is asked again an
        item at a time), so that one bad item costs one failure, not the run."""
        items = self.data[: self.size]
        predict_batch = getattr(self.predictor, "predict_batch", None)
        step = max(1, int(getattr(self.predictor, "batch_size", DEFAULT_BATCH))) if predict_batch else 1
        for start in range(0, len(items), step):
            chunk = list(items[start : start + step])
            try:
                answers = list(predict_batch(chunk)) if predict_batch else [self.predictor(chunk[0])]
            except PricerError:  # a refused key, a service that stays down: the run stops, in one line
                raise
            except Exception as error:
                answers = [error] if not predict_batch else [self._one(item) for item in chunk]
            if len(answers) != len(chunk):
                name = getattr(self.predictor, "__name__", type(self.predictor).__name__)
                raise RuntimeError(f"{name}: predict_batch gave {len(answers)} answers for {len(chunk)} items")
            yield start, answers

    def _one(self, item: Item) -> Any:
        try:
            return self.predictor(item)
        except PricerError:
            raise
        except Exception as error:
            return error

    def _raised(self, i: int, error: BaseException) -> None:
        """Item i's predictor raised: a failure; the first exception shown in full (a bug stays
        visible), later ones counted; every one of the first ten raising stops the run with it."""
        import sys
        import traceback

        self.raised.append((i, error))
        if len(self.raised) == 1:
            print(f"item {i + 1}: the predictor raised (counted as a failure; later ones are counted, not shown):",
                  file=sys.stderr)  # fmt: skip
            traceback.print_exception(error, file=sys.stderr)
        if len(self.raised) == min(self.size, 10) == i + 1:
            raise self.raised[0][1]

    def score(self, i: int, answer: Any) -> None:
        """Add item i's answer to the result; print its coloured line when verbose."""
        item = self.data[i]
        if isinstance(answer, Exception):
            self._raised(i, answer)
            answer = None
        guess = usable_guess(answer)
        failed = guess is None
        guess = 0.0 if guess is None else guess
        truth = item.price
        result = self.result
        result.truths.append(truth)
        result.guesses.append(guess)
        result.failures.append(failed)
        result.categories.append(item.category)
        result.item_titles.append(item.title)
        result.item_keys.append(item_key(item))
        if self.verbose and i < self.shown:
            error = abs(guess - truth)
            sle = (math.log(truth + 1) - math.log(guess + 1)) ** 2
            color = "red" if failed else color_for(error, truth)
            title = item.title if len(item.title) <= 40 else item.title[:40] + "..."
            note = " (no usable price: scored as $0, and red)" if failed else ""
            print(
                f"{COLOR_MAP[color]}{i + 1}: Guess: ${guess:,.2f} Truth: ${truth:,.2f} "
                f"Error: ${error:,.2f} SLE: {sle:,.2f} Item: {title}{note}{RESET}"
            )

    def run(self) -> TestResult:
        from tqdm.auto import tqdm

        with tqdm(total=self.size, desc=self.title, disable=not self.progress) as bar:
            for start, answers in self.batches():
                for offset, answer in enumerate(answers):
                    self.score(start + offset, answer)
                bar.update(len(answers))
        if self.verbose:
            if self.size > self.shown:
                print(
                    f"... and {self.size - self.shown:,} more items, their lines folded (`shown=None` prints them all)"
                )
            if self.raised:
                print(
                    f"{len(self.raised):,} items raised in the predictor: counted as failures (the first shown above)"
                )
            print(self.result.summary())
        return self.result

    @classmethod
    def test(cls, function: Predictor, data: Sequence[Item], **kwargs: Any) -> TestResult:
        """The course's one-liner. In a notebook the scatter chart is shown as well."""
        result = cls(function, data, **kwargs).run()
        if kwargs.get("verbose", True):
            _show(result.chart())
        return result


def _show(figure) -> None:
    """Display a figure inline when running under IPython; do nothing elsewhere."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is not None:
        display(figure)
