import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.core.items import Item
from helpers.core.prompts import PromptFormat
from helpers.data.rules import ItemConfig, build_item, get_tokenizer, scrub, scrub_details
from helpers.plumbing.errors import TokenizerError


def test_scrub_turns_junk_characters_into_single_spaces():
    assert scrub('Size: [Large] {"Color": "Red"}\n\tWidth') == "Size Large Color Red Width"


def test_scrub_drops_long_words_with_digits_but_keeps_short_ones():
    assert scrub("Fits model ABC12345 and 2x4 boards, 500W motor") == "Fits model and 2x4 boards, 500W motor"


def test_scrub_tidies_repeated_commas():
    assert scrub("red ,, blue,,, green") == "red, blue, green"


@given(st.text())
def test_scrub_output_has_no_junk_and_no_long_part_numbers(text):
    cleaned = scrub(text)
    assert not any(ch in cleaned for ch in ':[]"{}【】\n\t')
    assert all(len(word) < 7 or not any(c.isdigit() for c in word) for word in cleaned.split(" "))


def test_details_scrub_removes_the_course_boilerplate():
    details = json.dumps({"Batteries Included?": "No", "Date First Available": "May 1", "Brand": "Acme"})
    scrubbed = scrub_details(details)
    assert "Batteries" not in scrubbed and "Date First" not in scrubbed and ":" not in scrubbed
    assert "Acme" in scrubbed


def test_a_good_record_becomes_an_item(raw_record, item_config):
    item = build_item(raw_record, "Appliances", item_config)
    assert isinstance(item, Item)
    assert item.price == 129.99 and item.category == "Appliances"
    assert item.text.startswith("Stainless Steel Ice Maker, 26 lbs per day, Model\n")
    assert "Batteries" not in item.text and "XJ2000F33" not in item.text


def test_training_prompt_has_the_course_shape(raw_record, item_config):
    item = build_item(raw_record, "Appliances", item_config)
    assert item.prompt == (f"How much does this cost to the nearest dollar?\n\n{item.text}\n\nPrice is $130.00")
    assert item.test_prompt() == item.prompt.removesuffix("130.00")


def test_text_is_capped_at_max_tokens_and_token_count_is_of_the_prompt(raw_record, item_config):
    tokenizer = get_tokenizer(item_config.tokenizer)
    item = build_item(raw_record, "Appliances", item_config)
    assert len(tokenizer.encode(item.text, add_special_tokens=False)) <= item_config.max_tokens
    assert item.token_count == len(tokenizer.encode(item.prompt, add_special_tokens=False))


def test_details_as_a_json_string_give_the_same_item(raw_record, item_config):
    as_string = dict(raw_record, details=json.dumps(raw_record["details"]))
    assert build_item(as_string, "A", item_config) == build_item(raw_record, "A", item_config)


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"title": ""}, "no_title"),
        ({"title": None}, "no_title"),
        ({"price": None}, "price_missing"),
        ({"price": "None"}, "price_missing"),
        ({"price": "$5 - $9"}, "price_range"),
        ({"price": "cheap"}, "price_not_a_number"),
        ({"price": 0.49}, "price_out_of_range"),
        ({"price": 999.5}, "price_out_of_range"),
        ({"price": 25_000}, "price_out_of_range"),
        ({"details": "not json {"}, "details_not_json"),
        ({"details": 42}, "details_not_a_dict"),
        ({"details": "[1, 2]"}, "details_not_a_dict"),
        ({"features": [1, 2]}, "text_fields_not_lists"),
        ({"description": [], "features": [], "details": {}}, "empty_text"),
        ({"description": ["Short."], "features": [], "details": {}}, "too_few_chars"),
    ],
)
def test_records_that_fail_a_rule_name_it(raw_record, item_config, change, reason):
    assert build_item({**raw_record, **change}, "A", item_config) == reason


@pytest.mark.parametrize("price", [0.5, 999.49])
def test_price_bounds_are_inclusive(raw_record, item_config, price):
    assert isinstance(build_item({**raw_record, "price": price}, "A", item_config), Item)


def test_enough_characters_but_too_few_tokens_is_rejected(raw_record, item_config):
    record = {**raw_record, "features": [], "details": {}, "description": ["the " * 80]}
    assert build_item(record, "A", item_config) == "too_few_tokens"


def test_text_that_states_the_answer_prefix_is_rejected(raw_record, item_config):
    record = {**raw_record, "description": ["Price is $5 off today only. " + raw_record["description"][0]]}
    assert build_item(record, "A", item_config) == "text_contains_prefix"


def test_rules_are_configurable(raw_record, item_config):
    strict = ItemConfig(tokenizer=item_config.tokenizer, max_price=100.0)
    assert build_item(raw_record, "A", strict) == "price_out_of_range"
    custom = ItemConfig(tokenizer=item_config.tokenizer, prompt=PromptFormat(question="What price?", prefix="USD "))
    item = build_item(raw_record, "A", custom)
    assert item.prompt.startswith("What price?\n\n") and item.prompt.endswith("\n\nUSD 130.00")


def test_items_round_trip_through_a_dict(raw_record, item_config):
    item = build_item(raw_record, "Appliances", item_config)
    assert Item.from_dict(json.loads(json.dumps(item.to_dict()))) == item


def test_no_bundled_test_prompt_gives_the_price_away(bundled_train, bundled_test):
    for item in bundled_train + bundled_test:
        prompt = item.test_prompt()
        assert prompt.endswith("\n\nPrice is $")
        assert item.prompt == prompt + f"{round(item.price)}.00"
        assert prompt.count("Price is $") == 1
        assert f"{round(item.price)}.00" not in prompt
        assert f"{item.price:.2f}" not in prompt


def test_a_missing_tokenizer_is_a_one_line_error():
    with pytest.raises(TokenizerError) as error:
        get_tokenizer("/no/such/tokenizer")
    assert "/no/such/tokenizer" in str(error.value) and "\n" not in str(error.value)


def test_importing_items_loads_no_tokenizer_and_no_transformers():
    code = "import sys, helpers.core.items; print('transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
