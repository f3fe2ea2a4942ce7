import math

import pytest

from helpers.items import Item
from helpers.testing import Tester, TestResult, color_for, leaderboard, read_leaderboard, record


def make(price: float, category: str = "Toys") -> Item:
    return Item(title=f"thing at {price}", price=price, category=category, text="thing")


ITEMS = [make(100), make(50, "Tools"), make(400), make(10, "Tools")]
GUESSES = {100: 130.0, 50: 120.0, 400: 200.0, 10: 10.0}


def guesser(item: Item) -> float:
    return GUESSES[item.price]


@pytest.mark.parametrize(
    "error, truth, color",
    [(39.9, 10, "green"), (100, 600, "green"), (40, 100, "orange"), (79, 100, "orange"),
     (90, 300, "orange"), (80, 100, "red"), (300, 500, "red")],
)  # fmt: skip
def test_colours_follow_the_course_thresholds(error, truth, color):
    assert color_for(error, truth) == color


def test_metrics_match_hand_computed_values():
    result = Tester(guesser, ITEMS, verbose=False).run()
    errors = [30, 70, 200, 0]
    sles = [
        (math.log(101) - math.log(131)) ** 2,
        (math.log(51) - math.log(121)) ** 2,
        (math.log(401) - math.log(201)) ** 2,
        0.0,
    ]
    assert result.errors == errors
    assert result.average_error == pytest.approx(75.0)
    assert result.rmsle == pytest.approx(math.sqrt(sum(sles) / 4))
    assert result.colors == ["green", "orange", "red", "green"]
    assert result.hit_rate == pytest.approx(50.0)


def test_only_the_first_size_items_are_scored():
    result = Tester(guesser, ITEMS, size=2, verbose=False).run()
    assert result.n == 2 and result.average_error == pytest.approx(50.0)


def test_replies_without_a_price_are_counted_and_scored_as_zero():
    replies = iter([None, "nonsense", float("nan"), -5.0])
    result = Tester(lambda item: next(replies), ITEMS, verbose=False).run()
    assert result.failure_count == 4
    assert result.guesses == [0.0, 0.0, 0.0, 0.0]
    assert result.average_error == pytest.approx((100 + 50 + 400 + 10) / 4)


def test_verbose_run_prints_coloured_lines_and_the_headline(capsys):
    Tester(guesser, ITEMS, title="Hand Model").run()
    out = capsys.readouterr().out
    assert "\033[92m1: Guess: $130.00 Truth: $100.00 Error: $30.00" in out
    assert "Hand Model Error=$75.00 RMSLE=" in out and "Hits=50.0%" in out


def test_title_defaults_to_the_function_name():
    def my_fancy_pricer(item):
        return 1.0

    assert Tester(my_fancy_pricer, ITEMS, verbose=False).run().title == "My Fancy Pricer"


def test_the_bootstrap_interval_brackets_the_average():
    result = Tester(guesser, ITEMS * 20, verbose=False).run()
    low, high = result.error_interval()
    assert low < result.average_error < high
    assert result.error_interval() == (low, high)  # seeded


def test_per_category_table():
    table = Tester(guesser, ITEMS, verbose=False).run().by_category()
    assert table.loc["Tools", "n"] == 2
    assert table.loc["Tools", "average_error"] == pytest.approx(35.0)
    assert table.loc["Toys", "hit_rate"] == pytest.approx(50.0)


def test_chart_title_is_the_course_headline(tmp_path):
    result = Tester(guesser, ITEMS, title="Hand", verbose=False).run()
    figure = result.chart(tmp_path / "hand.png")
    assert figure.axes[0].get_title() == "Hand Error=$75.00 RMSLE=0.57 Hits=50.0%"
    assert (tmp_path / "hand.png").stat().st_size > 1000


def test_leaderboard_keeps_one_row_per_model_and_dataset(tmp_path):
    path = tmp_path / "board.csv"
    good = Tester(guesser, ITEMS, title="good", verbose=False).run()
    bad = Tester(lambda item: 999.0, ITEMS, title="bad", verbose=False).run()
    record(bad, "sample", path)
    record(good, "sample", path)
    record(good, "other", path)
    record(good, "sample", path)  # replaces, does not duplicate
    rows = read_leaderboard(path)
    assert sorted((r["model"], r["dataset"]) for r in rows) == [("bad", "sample"), ("good", "other"), ("good", "sample")]
    table = leaderboard(path, "sample")
    assert list(table["model"]) == ["good", "bad"]
    assert table.loc[0, "average_error"] == pytest.approx(75.0)


def test_an_empty_test_set_is_refused():
    with pytest.raises(ValueError, match="at least one item"):
        Tester(guesser, [])


def test_result_dict_has_the_reported_fields():
    row = TestResult("m", truths=[10.0], guesses=[12.0], failures=[False], categories=["A"]).to_dict()
    assert {"model", "n", "average_error", "rmsle", "hit_rate", "failures"} <= set(row)
