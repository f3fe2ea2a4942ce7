"""The leaderboard file never loses a row: what pricer cannot read stays in it as it was, and a
spreadsheet's way of saving it (a BOM, `;`, decimal commas) is read."""

import csv

import pytest

from helpers.core.items import Item
from helpers.core.leaderboard import dataset_key, leaderboard, read_leaderboard, record
from helpers.core.tester import Tester
from helpers.plumbing.errors import DataError

ITEMS = [Item(title=f"thing {price}", price=price, category="Toys", text="thing") for price in (10.0, 50.0, 100.0)]


def result(title: str, guess: float = 40.0, trained_on: str = ""):
    return Tester(lambda item: guess, ITEMS, title=title, verbose=False, trained_on=trained_on).run()


def rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_row_with_a_mistyped_figure_stays_in_the_file_when_another_is_recorded(tmp_path, capsys):
    path = tmp_path / "leaderboard.csv"
    record(result("first"), path)
    text = path.read_text().replace(",3,", ",3x,", 1)  # someone edits n by hand, and slips
    path.write_text(text)
    mistyped = [row for row in rows(path) if row["model"] == "first"]
    record(result("second"), path)
    assert [row for row in rows(path) if row["model"] == "first"] == mistyped
    assert [row["model"] for row in read_leaderboard(path)] == ["second"]
    assert "left out 1 rows it cannot read" in capsys.readouterr().out


def test_a_renamed_column_keeps_every_row_and_the_column(tmp_path):
    path = tmp_path / "leaderboard.csv"
    for title in ("a", "b", "c"):
        record(result(title), path)
    path.write_text(path.read_text().replace("average_error", "avg_error", 1))
    record(result("d"), path)
    written = rows(path)
    assert sorted(row["model"] for row in written) == ["a", "b", "c", "d"]
    assert all(row["avg_error"] for row in written if row["model"] != "d")
    assert [row["model"] for row in read_leaderboard(path)] == ["d"]


def test_a_spreadsheets_semicolons_decimal_commas_and_bom_are_read(tmp_path):
    path = tmp_path / "leaderboard.csv"
    record(result("kept"), path)
    original = rows(path)[0]
    header = list(original)
    cells = [original[name].replace(".", ",") if name != "when" else original[name] for name in header]
    path.write_text("\ufeff" + ";".join(header) + "\n" + ";".join(cells) + "\n", encoding="utf-8")
    assert [(row["model"], row["average_error"]) for row in read_leaderboard(path)] == [
        ("kept", pytest.approx(float(original["average_error"])))
    ]
    record(result("new", 20.0), path)
    assert sorted(leaderboard(path)["model"]) == ["kept", "new"]


def test_a_file_that_is_no_leaderboard_is_refused_and_left_byte_for_byte(tmp_path):
    path = tmp_path / "predictions.csv"
    path.write_text("index,price\n0,12.5\n1,80\n")
    before = path.read_bytes()
    with pytest.raises(DataError, match="is not a leaderboard"):
        record(result("model"), path)
    assert path.read_bytes() == before


def test_a_row_with_more_cells_than_the_header_is_refused_and_left_byte_for_byte(tmp_path):
    path = tmp_path / "leaderboard.csv"
    record(result("first"), path)
    with open(path, "a") as handle:
        handle.write("pasted,,twice,3,1,1,1,0,1,1,1,1,when,surplus\n")
    before = path.read_bytes()
    with pytest.raises(DataError, match="line 3: more cells than the header"):
        record(result("second"), path)
    assert path.read_bytes() == before


def test_the_same_model_on_one_test_set_is_replaced_not_added(tmp_path):
    path = tmp_path / "leaderboard.csv"
    record(result("model", 40.0), path)
    record(result("model", 20.0), path)
    assert [(row["model"], row["dataset"]) for row in read_leaderboard(path)] == [("model", dataset_key(ITEMS))]
    assert read_leaderboard(path)[0]["average_error"] == pytest.approx(result("model", 20.0).average_error)


def test_one_model_trained_on_two_sets_keeps_a_row_for_each(tmp_path):
    path = tmp_path / "leaderboard.csv"
    record(result("tfidf_ridge", 40.0, "trainset-aaaa"), path)
    record(result("tfidf_ridge", 30.0, "trainset-bbbb"), path)
    record(result("tfidf_ridge", 20.0, "trainset-aaaa"), path)  # replaces its own row only
    found = {row["trained_on"]: row["average_error"] for row in read_leaderboard(path)}
    expected = {"trainset-aaaa": result("x", 20.0).average_error, "trainset-bbbb": result("x", 30.0).average_error}
    assert found == pytest.approx(expected, abs=1e-3)


def test_rows_from_before_the_training_column_read_as_trained_on_nothing_known(tmp_path):
    path = tmp_path / "leaderboard.csv"
    many_rows(path, 2)
    record(result("new", 20.0, "bundled-train"), path)
    assert [row["trained_on"] for row in rows(path)] == ["", "", "bundled-train"]
    from helpers.core.leaderboard import leaderboard_table

    lines = leaderboard_table(leaderboard(path)).splitlines()
    assert lines[0].split()[:4] == ["model", "trained", "on", "test"]
    assert " bundled-train " in lines[1] and " - " in lines[2]


def many_rows(path, count: int) -> None:
    """A leaderboard of `count` models, as years of experiments might leave one."""
    header = "model,dataset,n,average_error,rmsle,hit_rate,failures,error_ci_low,error_ci_high,mse,r2,when\n"
    line = "{name},testset-x,250,{error},0.8,40.0,0,{low},{high},100.0,0.1,2026-01-01T00:00:00+00:00\n"
    body = "".join(
        line.format(
            name=f"a model with a rather long and descriptive name: number {i}",
            error=50 + i % 997,
            low=40 + i % 997,
            high=60 + i % 997,
        )
        for i in range(count)
    )
    path.write_text(header + body)


def test_the_table_keeps_two_decimals_within_120_columns(tmp_path):
    path = tmp_path / "leaderboard.csv"
    many_rows(path, 5)
    record(result("a short one", 12.3456), path)
    from helpers.core.leaderboard import leaderboard_table

    lines = leaderboard_table(leaderboard(path)).splitlines()
    assert len(lines) == 7 and all(len(line) <= 120 for line in lines)
    assert lines[1].startswith("a short one ") and f"{result('x', 12.3456).average_error:,.2f}" in lines[1]
    assert "…" in lines[2]  # the long names are cut, never the figures


def test_two_long_names_alike_at_the_start_stay_apart_in_the_table(tmp_path):
    from helpers.core.leaderboard import leaderboard_table

    path = tmp_path / "leaderboard.csv"
    names = [f"smollm2-135m base (not fine-tuned) {p}" for p in ("model_predict", "improved_model_predict")]
    for name, guess in zip(names, (30.0, 45.0)):
        record(result(name, guess, trained_on="bundled-train"), path)
    lines = leaderboard_table(leaderboard(path)).splitlines()[1:]
    shown = [line.split("  ")[0] for line in lines]
    assert all("…" in name for name in shown) and len(set(shown)) == 2 and all(len(line) <= 120 for line in lines)


def test_a_leaderboard_of_ten_thousand_rows_charts_its_best_thirty(tmp_path):
    from helpers.core.leaderboard import leaderboard_chart

    path = tmp_path / "leaderboard.csv"
    many_rows(path, 10_000)
    frame = leaderboard(path)
    figure = leaderboard_chart(frame, tmp_path / "chart.png")
    assert len(figure.axes[0].patches) == 30
    assert "the best 30 of 10000" in figure.axes[0].get_title()
    assert (tmp_path / "chart.png").stat().st_size > 1000


def test_one_model_trained_twice_gets_a_bar_for_each_that_says_which(tmp_path):
    from helpers.core.leaderboard import leaderboard_chart

    path = tmp_path / "leaderboard.csv"
    record(result("tfidf_ridge", 40.0, "trainset-aaaa"), path)
    record(result("tfidf_ridge", 30.0, "trainset-bbbb"), path)
    record(result("constant", 200.0), path)
    axes = leaderboard_chart(leaderboard(path)).axes[0]
    labels = [label.get_text() for label in axes.get_yticklabels()]
    key = dataset_key(ITEMS)
    assert labels == [f"tfidf_ridge (trainset-aaaa → {key})", f"tfidf_ridge (trainset-bbbb → {key})", "constant"]
    assert len(axes.patches) == 3


def test_a_dollar_in_a_chart_title_is_a_dollar_not_mathtext(tmp_path):
    from helpers.data.charts import price_histogram

    figure = price_histogram(ITEMS, title="Before balancing")
    title = figure.axes[0].title
    assert "avg $53.33, highest $100.00" in title.get_text()
    assert title._preprocess_math(title.get_text()) == (title.get_text(), False)  # drawn as it reads


def test_the_leaderboard_command_names_a_missing_file_and_exits_2(tmp_path, capsys):
    from helpers.cli.commands import main

    with pytest.raises(SystemExit) as exit:
        main(["leaderboard", "--path", str(tmp_path / "nope.csv")])
    assert (exit.value.code, capsys.readouterr().err) == (2, f"error: no such file: {tmp_path / 'nope.csv'}\n")


def test_one_wild_model_puts_the_chart_on_a_log_scale_so_the_rest_stay_readable(tmp_path):
    from helpers.core.leaderboard import leaderboard_chart

    path = tmp_path / "leaderboard.csv"
    for name, error in (("a", 60.0), ("b", 70.0), ("c", 80.0), ("wild", 17_251.0)):
        record(result(name, error), path)
    axes = leaderboard_chart(leaderboard(path)).axes[0]
    assert axes.get_xscale() == "log" and "log scale" in axes.get_xlabel()
    record(result("wild", 90.0), path)  # no wild model: the course's linear axis
    assert leaderboard_chart(leaderboard(path)).axes[0].get_xscale() == "linear"


def test_a_row_whose_average_lies_outside_its_interval_is_charted_without_it_and_counted(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "leaderboard.csv"
    for name, error in (("a", 60.0), ("b", 70.0)):
        record(result(name, error), path)
    edited = rows(path)
    edited[1]["error_ci_high"] = str(
        float(edited[1]["average_error"]) - 5
    )  # a hand edit: the average above its interval
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(edited[0]))
        writer.writeheader()
        writer.writerows(edited)
    chart = tmp_path / "chart.png"
    command = [sys.executable, "-m", "helpers", "leaderboard", "--path", str(path), "--chart", str(chart)]
    run = subprocess.run(command, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "1 of the charted rows have an average error outside their 95% interval (edited by hand?)" in run.stdout
    assert chart.read_bytes().startswith(b"\x89PNG") and run.stdout.rstrip().endswith(f"chart: {chart}")


def test_bars_scored_on_different_numbers_of_items_say_how_many(tmp_path):
    from helpers.core.leaderboard import leaderboard_chart

    path = tmp_path / "leaderboard.csv"
    record(result("all", 40.0), path)
    record(Tester(lambda item: 40.0, ITEMS, title="first two", size=2, verbose=False).run(), path)
    axes = leaderboard_chart(leaderboard(path)).axes[0]
    labels = sorted(text.get_text() for text in axes.texts)
    assert any(label.endswith(f"(n={len(ITEMS)})") for label in labels) and any(
        label.endswith("(n=2)") for label in labels
    )
