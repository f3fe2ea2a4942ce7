import math

import pytest

from helpers.core.items import Item
from helpers.core.leaderboard import dataset_key, leaderboard, read_leaderboard, record, rows_key, training_key
from helpers.core.tester import Tester, color_for
from helpers.plumbing import paths
from helpers.plumbing.errors import ConfigError, DataError


def make(price: float, category: str = "Toys") -> Item:
    return Item(title=f"thing at {price}", price=price, category=category, text="thing")


ITEMS = [make(100), make(50, "Tools"), make(400), make(10, "Tools")]
GUESSES = {100: 130.0, 50: 120.0, 400: 200.0, 10: 10.0}


def guesser(item: Item) -> float:
    return GUESSES[item.price]


@pytest.mark.parametrize(
    "error, truth, color",
    [
        (39.9, 10, "green"),
        (100, 600, "green"),
        (40, 100, "orange"),
        (79, 100, "orange"),
        (90, 300, "orange"),
        (80, 100, "red"),
        (300, 500, "red"),
    ],
)
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


def test_a_failure_is_red_and_never_a_hit_even_on_a_cheap_item(capsys):
    cheap = [make(10), make(30)]  # a $0 guess is within $40 of either
    result = Tester(lambda item: None if item.price == 10 else 30.0, cheap).run()
    assert result.colors == ["red", "green"] and result.hit_rate == pytest.approx(50.0)
    out = capsys.readouterr().out
    assert "\033[91m1: Guess: $0.00 Truth: $10.00" in out and "never a hit" in out


def test_an_item_whose_predictor_raises_is_a_failure_shown_once_and_the_run_goes_on(capsys):
    def fragile(item: Item) -> float:
        if item.price == 50:
            raise ValueError("no idea")
        return 1.0

    result = Tester(fragile, ITEMS * 3, verbose=True).run()
    assert result.n == 12 and result.failure_count == 3
    captured = capsys.readouterr()
    assert captured.err.count("ValueError: no idea") == 1
    assert "3 items raised in the predictor" in captured.out


def test_a_batch_that_raises_is_asked_again_an_item_at_a_time():
    class Batched:
        batch_size = 4

        def __call__(self, item: Item) -> float:
            if item.price == 400:
                raise KeyError("bad item")
            return GUESSES[item.price]

        def predict_batch(self, items: list[Item]) -> list[float]:
            return [self(item) for item in items]

    result = Tester(Batched(), ITEMS, verbose=False).run()
    assert result.answers == [130.0, 120.0, None, 10.0]


def test_a_predictor_that_raises_on_every_item_stops_the_run_with_its_exception():
    def broken(item: Item) -> float:
        raise TypeError("a bug in the predictor")

    with pytest.raises(TypeError, match="a bug in the predictor"):
        Tester(broken, ITEMS * 5, verbose=False).run()


def test_lines_after_the_first_twenty_are_folded_into_one(capsys):
    items = [make(100 + i) for i in range(30)]
    Tester(lambda item: 100.0, items, size=30).run()
    out = capsys.readouterr().out
    assert "20: Guess:" in out and "21: Guess:" not in out
    assert "... and 10 more items, their lines folded" in out
    Tester(lambda item: 100.0, items, size=30, shown=None).run()
    assert "30: Guess:" in capsys.readouterr().out


def test_a_generator_of_items_is_read_once_and_scored():
    result = Tester(guesser, (item for item in ITEMS), verbose=False).run()
    assert result.n == 4 and result.average_error == pytest.approx(75.0)


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


def test_leaderboard_keeps_one_row_per_model_and_test_set(tmp_path):
    path = tmp_path / "board.csv"
    good = Tester(guesser, ITEMS, title="good", verbose=False).run()
    bad = Tester(lambda item: 999.0, ITEMS, title="bad", verbose=False).run()
    elsewhere = Tester(guesser, ITEMS[:3], title="good", verbose=False).run()
    for result in (bad, good, elsewhere, good):  # the second `good` replaces the first
        record(result, path)
    rows = read_leaderboard(path)
    key, other = dataset_key(ITEMS), dataset_key(ITEMS[:3])
    assert sorted((r["model"], r["dataset"]) for r in rows) == sorted([("bad", key), ("good", key), ("good", other)])
    table = leaderboard(path, key)
    assert list(table["model"]) == ["good", "bad"]
    assert table.loc[0, "average_error"] == pytest.approx(75.0)


def test_the_default_store_is_the_results_folder_and_its_leaderboard_is_there(tmp_path, monkeypatch):
    from helpers.plumbing.store import open_store

    monkeypatch.delenv("PRICER_STORE", raising=False)
    monkeypatch.setenv("PRICER_RESULTS", str(tmp_path / "elsewhere"))
    record(Tester(guesser, ITEMS, title="good", verbose=False).run(), open_store())
    assert [row["model"] for row in read_leaderboard(tmp_path / "elsewhere" / "leaderboard.csv")] == ["good"]


def test_the_test_set_key_comes_from_its_content_not_its_source(bundled_test, tmp_path):
    from helpers.data.curation import to_dataset_dict
    from helpers.data.hub_datasets import load_hub_items
    from helpers.data.item_files import load_items, save_items

    assert dataset_key(bundled_test) == "bundled-sample"
    subset = bundled_test[:20]
    from_file = load_items(save_items(subset, tmp_path / "test.jsonl"))[0]
    to_dataset_dict(bundled_test[:5], subset)["test"].to_parquet(str(tmp_path / "hub" / "test.parquet"))
    from_hub = load_hub_items(str(tmp_path / "hub"), split="test")
    assert dataset_key(from_file) == dataset_key(from_hub) == dataset_key(subset)
    assert dataset_key(subset).startswith("testset-") and dataset_key(subset) != dataset_key(bundled_test[:19])


def test_the_training_key_comes_from_the_rows_and_names_the_bundled_sample(first_training_items):
    from helpers.data.item_files import load_items
    from helpers.language.training import rows_from_items

    bundled = load_items(paths.TRAIN_SAMPLE)[0]
    assert training_key(bundled) == "bundled-train"
    some = load_items(first_training_items(30))[0]
    rows = rows_from_items(some)  # the rows a QLoRA run learns from share the items' key
    assert training_key(some) == rows_key(rows["prompt"], rows["completion"]) != training_key(some[:29])
    assert training_key(some).startswith("trainset-")


def test_the_tester_takes_the_training_key_from_the_items_or_the_predictor():
    def learnt(item):
        return 40.0

    learnt.trained_on = "trainset-0123456789"
    assert Tester(learnt, ITEMS, verbose=False).run().trained_on == "trainset-0123456789"
    assert Tester(guesser, ITEMS, verbose=False, trained_on=ITEMS[:2]).run().trained_on == training_key(ITEMS[:2])
    assert Tester(guesser, ITEMS, verbose=False).run().trained_on == ""  # it learnt nothing that it says


@pytest.mark.parametrize("size", [0, -5, 2.5, True, "250"])
def test_a_size_that_is_no_count_of_items_is_one_line(size):
    with pytest.raises(ConfigError, match="the Tester's size is how many items it scores"):
        Tester(guesser, ITEMS, size=size)


def test_an_empty_test_set_is_refused():
    with pytest.raises(DataError, match="at least one item"):
        Tester(guesser, [])


def test_result_dict_holds_the_metrics():
    result = Tester(guesser, ITEMS, title="m", verbose=False).run()
    low, high = result.error_interval()
    assert result.to_dict() == {
        "model": "m",
        "trained_on": "",
        "dataset": dataset_key(ITEMS),
        "n": 4,
        "average_error": 75.0,
        "rmsle": round(result.rmsle, 4),
        "hit_rate": 50.0,
        "failures": 0,
        "error_ci_low": round(low, 2),
        "error_ci_high": round(high, 2),
        "mse": round((30**2 + 70**2 + 200**2 + 0) / 4, 2),
        "r2": round(result.r2, 4),
    }


def test_mse_and_r2_match_hand_computed_values():
    result = Tester(guesser, ITEMS, verbose=False).run()
    assert result.mse == pytest.approx((30**2 + 70**2 + 200**2 + 0) / 4)
    mean = (100 + 50 + 400 + 10) / 4
    spread = sum((t - mean) ** 2 for t in (100, 50, 400, 10))
    assert result.r2 == pytest.approx(1 - (30**2 + 70**2 + 200**2) / spread)
    same = Tester(guesser, [make(100), make(100)], verbose=False).run()
    assert same.r2 is None  # truths that do not vary leave nothing to explain


def test_the_running_average_chart_and_the_leaderboard_chart_are_drawn(tmp_path):
    from helpers.core.leaderboard import leaderboard_chart

    good = Tester(guesser, ITEMS * 5, title="good", verbose=False).run()
    figure = good.running_chart(tmp_path / "running.png")
    line = figure.axes[0].lines[0]
    assert list(line.get_ydata())[-1] == pytest.approx(good.average_error)  # it ends at the average
    record(good, tmp_path / "board.csv")
    record(Tester(lambda item: 999.0, ITEMS * 5, title="bad", verbose=False).run(), tmp_path / "board.csv")
    chart = leaderboard_chart(leaderboard(tmp_path / "board.csv"), tmp_path / "board.png")
    assert [label.get_text() for label in chart.axes[0].get_yticklabels()] == ["good", "bad"]
    assert chart.axes[0].patches[0].get_facecolor() != chart.axes[0].patches[1].get_facecolor()  # the best stands out
    assert (tmp_path / "running.png").stat().st_size > 1000 and (tmp_path / "board.png").stat().st_size > 1000


class Batched:
    """A predictor with both forms, that records how it was called."""

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self.calls: list[int] = []

    def __call__(self, item: Item) -> float | None:
        return self.predict_batch([item])[0]

    def predict_batch(self, items: list[Item]) -> list[float | None]:
        self.calls.append(len(items))
        return [None if item.price == 50 else GUESSES[item.price] for item in items]


def test_a_batched_predictor_is_asked_a_batch_at_a_time_with_the_same_result():
    items = ITEMS * 5
    batched = Batched(batch_size=8)
    in_batches = Tester(batched, items, verbose=False).run()
    assert batched.calls == [8, 8, 4]
    one_at_a_time = Tester(lambda item: batched(item), items, verbose=False).run()
    assert in_batches.guesses == one_at_a_time.guesses == [130.0, 0.0, 200.0, 10.0] * 5
    assert in_batches.failures == one_at_a_time.failures and in_batches.failure_count == 5
    assert in_batches.average_error == one_at_a_time.average_error


def test_a_batched_predictor_only_sees_the_first_size_items():
    batched = Batched(batch_size=3)
    assert Tester(batched, ITEMS * 5, size=7, verbose=False).run().n == 7
    assert batched.calls == [3, 3, 1]


def test_a_batch_with_the_wrong_number_of_answers_is_a_bug():
    class Short(Batched):
        def predict_batch(self, items):
            return [1.0]

    with pytest.raises(RuntimeError, match="predict_batch gave 1 answers for 4 items"):
        Tester(Short(batch_size=4), ITEMS, verbose=False).run()


RECORDER = """
import sys
from helpers.core.items import Item
from helpers.core.tester import Tester
from helpers.core.leaderboard import record

board, writer = sys.argv[1], sys.argv[2]
items = [Item(title="t", price=float(p), category="c", text="t") for p in (10, 20, 30)]
for model in range(15):
    record(Tester(lambda item: 12.0, items, title=f"{writer}-{model}", verbose=False).run(), board)
"""


def test_parallel_writers_lose_no_row(tmp_path):
    import subprocess
    import sys

    board = tmp_path / "leaderboard.csv"
    writers = [subprocess.Popen([sys.executable, "-c", RECORDER, str(board), f"w{i}"]) for i in range(4)]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0, 0, 0]
    models = sorted(row["model"] for row in read_leaderboard(board))
    assert models == sorted(f"w{i}-{m}" for i in range(4) for m in range(15))


def test_rows_without_finite_figures_are_left_out_when_read_and_kept_in_the_file(tmp_path, capsys):
    path = tmp_path / "board.csv"
    record(Tester(guesser, ITEMS, title="good", verbose=False).run(), path)
    with open(path, "a") as handle:  # as an older version could write them
        handle.write("broken,testset-x,4,inf,0.5,50,0,1,2,2026-01-01\n")
        handle.write("empty,testset-x,4,nan,nan,nan,0,nan,nan,2026-01-01\n")
    assert list(leaderboard(path)["model"]) == ["good"]
    assert "left out 2 rows it cannot read" in capsys.readouterr().out
    record(Tester(guesser, ITEMS, title="next", verbose=False).run(), path)  # a new write keeps them
    assert "broken,testset-x,4,inf,0.5,50,0,1,2,2026-01-01" in path.read_text()
    assert sorted(leaderboard(path)["model"]) == ["good", "next"]


def test_a_guess_above_the_ceiling_is_a_failure_whatever_produced_it():
    result = Tester(lambda item: 44_444_444.0, ITEMS, verbose=False).run()
    assert result.failures == [True] * 4 and result.failure_count == 4
    assert result.average_error == pytest.approx(sum(item.price for item in ITEMS) / 4)  # each scored as $0


def test_the_summary_shows_failures_beside_hits_and_how_they_are_scored():
    answers = {100: 130.0, 50: None, 400: 2e7, 10: 10.0}
    result = Tester(lambda item: answers[item.price], ITEMS, title="Half", verbose=False).run()
    assert (
        "Hits=50.0% Failures=2 (no usable price: each scored as a $0 guess in the error, and never a hit)"
        in result.summary()
    )
    assert "Failures=0 (95% CI" in Tester(guesser, ITEMS, verbose=False).run().summary()


def test_a_wild_guess_is_drawn_at_the_edge_so_the_other_points_stay_readable():
    result = Tester(
        lambda item: 850_000.0 if item.price == 50 else item.price, ITEMS, title="Wild", verbose=False
    ).run()
    axes = result.chart().axes[0]
    assert axes.get_ylim()[1] < 1000 and "1 guesses above $800 drawn at the top edge" in axes.get_title()


def test_a_users_mistake_raised_by_the_predictor_stops_the_run_rather_than_counting_failures():
    def needs_a_key(item: Item) -> float:
        raise ConfigError("OPENAI_API_KEY is not set")

    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        Tester(needs_a_key, ITEMS, verbose=False).run()


def test_the_scatter_chart_says_what_its_colours_mean():
    axes = Tester(guesser, ITEMS, verbose=False).run().chart().axes[0]
    labels = [text.get_text() for text in axes.get_legend().get_texts()]
    assert labels == ["hit: within $40 or 20%", "within $80 or 40%", "further off, or no price"]
