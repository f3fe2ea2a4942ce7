import pytest

from helpers.classical.human import PredictionsError, export_prompts, fill_prices, read_prices
from helpers.core.answers import Answers
from helpers.core.tester import Tester
from helpers.plumbing.errors import DataError


def test_exported_prompts_read_back_once_filled(tmp_path, bundled_test):
    path = export_prompts(bundled_test, tmp_path / "human.csv", size=5)
    text = path.read_text()
    assert text.startswith("index,prompt,price")
    assert text.count("Price is $") == 5
    filled = tmp_path / "filled.csv"
    import csv

    with open(path, newline="") as source, open(filled, "w", newline="") as target:
        reader, writer = csv.DictReader(source), None
        writer = csv.DictWriter(target, fieldnames=reader.fieldnames)
        writer.writeheader()
        for row, guess in zip(reader, ["10", "$1,200", "", "45.5", "99"]):
            writer.writerow({**row, "price": guess})
    prices = read_prices(filled, expected=5)
    assert prices == [10.0, 1200.0, None, 45.5, 99.0]
    result = Tester(Answers.of("human", bundled_test, prices), bundled_test, size=5, verbose=False).run()
    assert result.failure_count == 1 and result.n == 5
    assert result.guesses == [10.0, 1200.0, 0.0, 45.5, 99.0]


def test_answers_follow_the_item_not_the_order_it_is_asked_in(bundled_test):
    prices = [float(i) for i in range(1, 6)]
    pricer = Answers.of("human", bundled_test[:5], prices)
    assert [pricer(item) for item in reversed(bundled_test[:5])] == list(reversed(prices))
    assert pricer(bundled_test[5]) is None  # not one of the priced items: a failure


def test_a_filled_stand_in_reads_back_as_one_price_everywhere(tmp_path, bundled_test):
    exported = export_prompts(bundled_test, tmp_path / "human.csv", size=4)
    filled = fill_prices(exported, tmp_path / "filled.csv", 123.4)
    assert read_prices(filled, expected=4) == [123.0] * 4


@pytest.mark.parametrize(
    "content, message",
    [
        ("index,price\n0,10\n1,lots\n", "line 3: 'lots' is not a price"),
        ("index,guess\n0,1\n", "needs a 'price' column"),
        ("index,price\n0,1\n", "1 rows, but 2 test items are scored"),
        ("index,price\n0,1\n2,3\n", "line 3: index '2' out of order (expected 1)"),
    ],
)
def test_a_bad_predictions_file_names_the_place(tmp_path, content, message):
    path = tmp_path / "p.csv"
    path.write_text(content)
    with pytest.raises(PredictionsError, match=message.replace("(", r"\(").replace(")", r"\)").replace("$", r"\$")):
        read_prices(path, expected=2)


def test_a_missing_predictions_file_is_named(tmp_path):
    with pytest.raises(DataError, match="^no such file: .*nope.csv$"):
        read_prices(tmp_path / "nope.csv", expected=1)


def test_numbers_that_are_no_price_are_counted_failures_not_misread(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("index,price\n0,-5\n1,1e9\n2,12\n3," + "9" * 300 + "\n")
    assert read_prices(path, expected=4) == [None, None, 12.0, None]
    assert capsys.readouterr().out == (
        f"{path}: 3 prices are not usable, scored as failures (price_negative 1, price_exponent 1, price_too_large 1)\n"
    )


def test_a_spreadsheets_decimal_commas_are_read_as_decimals_never_as_whole_dollars(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('\ufeffindex;price\n0;84,95\n1;1.299,99\n2;"1,299"\n3;12\n', encoding="utf-8")
    assert read_prices(path, expected=4) == [84.95, 1299.99, 1299.0, 12.0]


@pytest.mark.parametrize(
    "cell, price",
    [
        ("1.2k", 1200.0),
        ("$1.2K", 1200.0),
        ("1,2k", 1200.0),
        ("1 299,99", 1299.99),
        ("1\u202f299,99", 1299.99),  # a narrow no-break space, as a French spreadsheet groups digits
        ("1\u00a0299,99", 1299.99),
        ("1'299.99", 1299.99),  # Switzerland
        ("1 234 567,5", 1234567.5),
    ],
)
def test_a_spreadsheets_digit_groups_and_thousands_are_read_as_the_number_meant(tmp_path, cell, price):
    path = tmp_path / "p.csv"
    path.write_text(f'index;price\n0;"{cell}"\n', encoding="utf-8")
    assert read_prices(path, expected=1) == [price]


def test_a_cell_of_two_numbers_or_another_scale_is_a_counted_failure_never_a_guess(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("index,price\n0,1 2\n1,1.5M\n2,12\n", encoding="utf-8")
    assert read_prices(path, expected=3) == [None, None, 12.0]
    assert capsys.readouterr().out == f"{path}: 2 prices are not usable, scored as failures (price_unclear 2)\n"


def test_a_field_longer_than_the_csv_module_takes_is_one_line_naming_the_line(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("index,price\n0,12\n1," + "x" * 200_000 + "\n")
    with pytest.raises(DataError, match=r"p.csv, line 3: field larger than field limit"):
        read_prices(path, expected=2)


def test_a_bad_row_is_named_by_its_line_in_the_file_although_prompts_span_lines(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('index,prompt,price\n0,"How much?\nTitle: a\nMore",12\n1,"Two\nlines",lots\n')
    with pytest.raises(PredictionsError, match=r"p.csv, line 5: 'lots' is not a price"):
        read_prices(path, expected=2)
