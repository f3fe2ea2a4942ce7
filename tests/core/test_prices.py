import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.core.prices import Price, decimal_point, extract_price, parse_raw_price, read_cell, read_reply

PREFIX = "Price is $"


@pytest.mark.parametrize(
    "value, price",
    [(129.99, 129.99), (12, 12.0), ("19.99", 19.99), ("$1,299.99", 1299.99), (" $5 ", 5.0), (".5", 0.5)],
)
def test_raw_prices_that_are_prices(value, price):
    assert parse_raw_price(value).price == pytest.approx(price)


@pytest.mark.parametrize(
    "value, reason",
    [
        (None, "price_missing"),
        ("None", "price_missing"),
        ("", "price_missing"),
        ("null", "price_missing"),
        ("$10.99 - $15.99", "price_range"),
        ("10 to 20", "price_range"),
        ("call for price", "price_not_a_number"),
        ("12.99.1", "price_not_a_number"),
        (float("nan"), "price_not_a_number"),
        (float("inf"), "price_not_a_number"),
        (True, "price_not_a_number"),
        ([12.0], "price_not_a_number"),
        ({"amount": 3}, "price_not_a_number"),
    ],
)
def test_raw_prices_that_are_not_say_why(value, reason):
    parsed = parse_raw_price(value)
    assert parsed.price is None
    assert parsed.reason == reason


@given(st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False))
def test_any_formatted_price_reads_back(amount):
    text = f"${amount:,.2f}"
    assert parse_raw_price(text).price == pytest.approx(float(amount))
    assert extract_price(f"Price is {text}", PREFIX) == pytest.approx(float(amount))


@given(st.one_of(st.none(), st.text(), st.integers(), st.floats(), st.lists(st.integers())))
def test_raw_price_parser_never_raises(value):
    parsed = parse_raw_price(value)
    assert (parsed.price is None) != (parsed.reason is None)
    if parsed.price is not None:
        assert math.isfinite(parsed.price)


@pytest.mark.parametrize(
    "reply, price",
    [
        ("Price is $1,299.99", 1299.99),
        ("$1,299.99", 1299.99),
        ("about 99 dollars", 99.0),
        ("Price is $ 49", 49.0),
        ("Price is $49.00 and then some 12", 49.0),
        ("I think 12 but Price is $80", 80.0),
        ("It costs .75", 0.75),
        ("399.", 399.0),
    ],
)
def test_price_extraction_from_replies(reply, price):
    assert extract_price(reply, PREFIX) == pytest.approx(price)


def test_without_a_prefix_the_first_number_is_the_price():
    assert extract_price("I think 12 but Price is $80") == 12.0


@pytest.mark.parametrize("reply", ["", None, "I cannot tell", "Price is $", "Price is $ unknown"])
def test_reply_without_a_number_gives_none(reply):
    assert extract_price(reply, PREFIX) is None


@given(st.text())
def test_extraction_never_raises_and_is_never_negative(reply):
    price = extract_price(reply, PREFIX)
    assert price is None or price >= 0


@pytest.mark.parametrize(
    "reply, reason",
    [
        ("-5", "price_negative"),
        ("Price is $-5.00", "price_negative"),
        ("- $12", "price_negative"),
        ("1e9", "price_exponent"),
        ("Price is $2.5E+3", "price_exponent"),
        ("1e308", "price_exponent"),
        ("9" * 300, "price_too_large"),
        ("12,000,000", "price_too_large"),
        ("nothing", "no_number"),
    ],
)
def test_a_number_that_is_no_price_is_refused_not_misread(reply, reason):
    assert read_reply(reply, PREFIX) == Price(None, reason)
    assert extract_price(reply, PREFIX) is None


def test_a_hyphen_inside_a_word_is_no_minus_sign():
    assert extract_price("model X-200 costs about 45") == 200.0


@pytest.mark.parametrize(
    "value, reason",
    [
        (-5, "price_negative"),
        (int("9" * 400), "price_too_large"),
        (1e308, "price_too_large"),
        ("1e9", "price_not_a_number"),
    ],
)
def test_raw_prices_that_are_no_price_say_why(value, reason):
    assert parse_raw_price(value) == Price(None, reason)


@pytest.mark.parametrize(
    "cell, number",
    [("84,95", "84.95"), ("1.299,99", "1299.99"), ("0,333333", "0.333333"), ("-0,5", "-0.5"), ("$84,95", "$84.95")],
)
def test_a_decimal_comma_becomes_a_decimal_point(cell, number):
    assert decimal_point(cell) == number


@pytest.mark.parametrize("cell", ["1,299", "1,299.99", "84.95", "12", "1,234,567"])
def test_thousands_separators_and_decimal_points_stay_as_they_are(cell):
    assert decimal_point(cell) == cell


def test_a_price_cell_with_a_decimal_comma_is_never_read_as_whole_dollars():
    assert read_cell("84,95").price == 84.95
    assert read_cell("1,299").price == 1299.0


@pytest.mark.parametrize(
    "content, price",
    [(42, 42.0), (12.5, 12.5), ([{"type": "text", "text": "Price is $19"}], 19.0), ({"price": 42}, None), (True, None)],
)
def test_a_reply_that_is_not_text_is_read_as_text_or_is_no_price(content, price):
    """What a notebook's own function hands `extract_price` from a server that strays from the API."""
    assert extract_price(content, PREFIX) == price
