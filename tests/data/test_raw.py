import gzip
import json

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.data.item_files import load_items
from helpers.data.raw import LoadConfig, load_raw, resolve
from helpers.data.rules import ItemConfig
from helpers.plumbing import paths
from helpers.plumbing.errors import DataError
from helpers.plumbing.hub import UNREACHABLE


@pytest.fixture
def messy_file(tmp_path, raw_record, write_jsonl):
    """One good record, then one line of every kind of bad input."""
    rows = [
        raw_record,
        b"{not json at all\n",
        b'{"title": "caf\xe9 au lait", "price": 3}\n',  # Latin-1 byte: not UTF-8
        b"[1, 2, 3]\n",
        b"\n",
        {**raw_record, "title": ""},
        {**raw_record, "price": None},
        {**raw_record, "price": "$5 - $9"},
        {**raw_record, "price": 1_000_000},
        {**raw_record, "details": "neither dict nor json"},
        {**raw_record, "description": [], "features": [], "details": {}},
        {k: v for k, v in raw_record.items() if k != "price"},
    ]
    return write_jsonl(tmp_path / "messy.jsonl", rows)


def config(item_config, workers=1):
    return LoadConfig(item=item_config, workers=workers, progress=False)


def test_every_bad_line_is_a_counted_skip_with_its_reason(messy_file, item_config):
    items, report = load_raw(messy_file, config(item_config))
    assert len(items) == 1
    assert report.read == 12 and report.kept == 1
    assert dict(report.skipped) == {
        "bad_json": 1,
        "not_utf8": 1,
        "not_an_object": 1,
        "blank_line": 1,
        "no_title": 1,
        "price_missing": 2,
        "price_range": 1,
        "price_out_of_range": 1,
        "details_not_json": 1,
        "empty_text": 1,
    }


def test_the_report_prints_as_one_readable_line(messy_file, item_config):
    _, report = load_raw(messy_file, config(item_config))
    line = str(report)
    assert line.startswith("messy.jsonl: read 12, kept 1, skipped 11 (")
    assert "price_missing 2" in line and "\n" not in line


def test_parallel_loading_gives_the_same_items_in_the_same_order(item_config):
    serial = load_raw(paths.RAW_SAMPLE, config(item_config, workers=1))
    parallel = load_raw(paths.RAW_SAMPLE, LoadConfig(item=item_config, workers=2, chunk_size=50, progress=False))
    assert serial[0] == parallel[0]
    assert serial[1].to_dict() == parallel[1].to_dict()


def test_the_bundled_raw_sample_keeps_about_half(item_config):
    items, report = load_raw(paths.RAW_SAMPLE, config(item_config))
    assert report.read == 242
    assert report.kept == len(items) == report.read - sum(report.skipped.values())
    assert 0.3 < report.kept / report.read < 0.8
    assert report.skipped["price_missing"] == 15


def test_gzip_and_parquet_read_like_plain_jsonl(tmp_path, raw_record, item_config, write_jsonl):
    records = [raw_record, {**raw_record, "title": "Another ice maker, bigger", "price": 300}]
    plain = write_jsonl(tmp_path / "meta.jsonl", records)
    zipped = tmp_path / "meta.jsonl.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    parquet = tmp_path / "meta.parquet"
    frame = pd.DataFrame(records)
    frame["details"] = frame["details"].map(json.dumps)  # how the hub's parquet holds it
    frame.to_parquet(parquet)
    results = [load_raw(p, config(item_config))[0] for p in (plain, zipped, parquet)]
    assert [len(r) for r in results] == [2, 2, 2]
    assert results[0] == results[1] == results[2]


def test_category_comes_from_the_argument_the_file_name_or_the_record(tmp_path, raw_record, item_config, write_jsonl):
    named = write_jsonl(tmp_path / "meta_Toys_and_Games.jsonl", [raw_record])
    assert load_raw(named, config(item_config))[0][0].category == "Toys_and_Games"
    assert load_raw(named, config(item_config), category="Books")[0][0].category == "Books"
    plain = write_jsonl(tmp_path / "any.jsonl", [raw_record])
    assert load_raw(plain, config(item_config))[0][0].category == "Appliances"


def test_limit_reads_only_the_first_lines(item_config):
    _, report = load_raw(paths.RAW_SAMPLE, LoadConfig(item=item_config, workers=1, limit=10, progress=False))
    assert report.read == 10


def test_a_missing_file_is_a_one_line_error_naming_it():
    with pytest.raises(DataError, match=r"^no such file: data/nope\.jsonl$"):
        resolve("data/nope.jsonl")


def test_an_unknown_category_is_a_one_line_error_naming_it():
    with pytest.raises(DataError) as error:
        resolve("Kitchen_Sinks")
    assert str(error.value).startswith("unknown category 'Kitchen_Sinks'; known: All_Beauty,")


def test_curated_items_files_load_with_their_own_skip_report(tmp_path, bundled_test, write_jsonl):
    good = bundled_test[0].to_dict()
    path = write_jsonl(tmp_path / "items.jsonl", [good, {"title": "x"}, b"oops\n", {**good, "price": "abc"}])
    items, report = load_items(path)
    assert items == [bundled_test[0]]
    assert dict(report.skipped) == {"missing_field": 1, "bad_json": 1, "price_not_a_number": 1}


def test_hostile_but_valid_json_is_a_counted_skip(tmp_path, raw_record, item_config, write_jsonl):
    rows = [
        b"[" * 100_000 + b"]" * 100_000 + b"\n",  # nested past the recursion limit
        b'{"title": "x", "price": ' + b"9" * 5000 + b"}\n",  # an integer json.loads refuses to read
        {**raw_record, "title": "Big " * 2_500_000},  # a 10 MB title
        {**raw_record, "description": ["word " * 30_000]},  # 150,000 characters of description
        {**raw_record, "price": int("9" * 400)},  # too large for a float
        raw_record,
    ]
    items, report = load_raw(write_jsonl(tmp_path / "hostile.jsonl", rows), config(item_config))
    assert len(items) == 1 and report.read == 6
    assert dict(report.skipped) == {
        "nested_too_deep": 1,
        "number_too_long": 1,
        "field_too_long": 2,
        "price_too_large": 1,
    }


def test_a_gzip_file_cut_short_keeps_what_came_before_and_says_so(tmp_path, raw_record, item_config, capsys):
    import gzip

    records = [{**raw_record, "title": f"Ice maker number {i}"} for i in range(400)]
    whole = gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in records))
    cut = tmp_path / "meta.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    items, report = load_raw(cut, config(item_config))
    assert 0 < report.kept == len(items) < 400
    assert [item.title for item in items] == [f"Ice maker number {i}" for i in range(len(items))]
    assert dict(report.skipped) == {"truncated_file": 1} and report.read == report.kept + 1
    message = capsys.readouterr().err.strip()
    assert (
        message == f"{cut}: the file ends early (cut off, or still downloading): kept the {len(items)} items before it"
    )


def test_a_folder_is_one_line_naming_it(tmp_path):
    with pytest.raises(DataError, match=f"^{tmp_path} is a folder, not a JSONL, JSONL.gz or parquet file$"):
        resolve(tmp_path)
    with pytest.raises(DataError, match=f"^{tmp_path} is a folder, not a JSONL or parquet items file$"):
        load_items(tmp_path)


def test_a_hub_category_out_of_reach_is_one_line(monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(DataError) as error:
        resolve("Appliances")
    assert str(error.value) == ("cannot fetch category Appliances from McAuley-Lab/Amazon-Reviews-2023: " + UNREACHABLE)


def test_a_broken_parquet_file_is_one_line(tmp_path):
    path = tmp_path / "items.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(DataError, match="items.parquet is not a readable parquet file"):
        load_items(path)


def test_a_raw_file_that_is_no_parquet_is_one_line_whether_counted_or_read(tmp_path, item_config):
    path = tmp_path / "meta_Toys.parquet"
    path.write_bytes(b"this is not parquet at all")
    for progress in (True, False):  # the progress bar counts the rows first
        with pytest.raises(DataError, match="meta_Toys.parquet is not a readable parquet file"):
            load_raw(path, LoadConfig(item=item_config, progress=progress, workers=1))


def test_a_gz_file_that_is_not_gzip_is_one_line_not_an_empty_file(tmp_path, raw_record, item_config):
    path = tmp_path / "meta_Toys.jsonl.gz"
    path.write_text(json.dumps(raw_record) + "\n")  # plain text under a .gz name
    with pytest.raises(DataError, match="meta_Toys.jsonl.gz is not gzip, though its name ends in .gz"):
        load_raw(path, LoadConfig(item=item_config, progress=False, workers=1))


@pytest.mark.parametrize(
    "price, reason",
    [(-5, "price_negative"), ("1e9", "price_not_a_number"), (1e308, "price_too_large"), (0, "price_out_of_range")],
)
def test_an_items_file_price_that_is_no_price_is_a_counted_skip(tmp_path, bundled_test, write_jsonl, price, reason):
    path = write_jsonl(tmp_path / "items.jsonl", [{**bundled_test[0].to_dict(), "price": price}])
    items, report = load_items(path)
    assert items == [] and dict(report.skipped) == {reason: 1}


def course_tokens(drafted, tokenizer, config):
    """The course's 2024 Item, one record at a time: encode, cut, decode, encode the prompt."""
    tokens = tokenizer.encode(drafted.text, add_special_tokens=False)
    if len(tokens) <= config.min_tokens:
        return "too_few_tokens"
    text = tokenizer.decode(tokens[: config.max_tokens])
    if config.prompt.prefix in text:
        return "text_contains_prefix"
    prompt = config.prompt.training_prompt(text, drafted.price)
    return text, len(tokenizer.encode(prompt, add_special_tokens=False))


@pytest.mark.parametrize("which", ["tiny", "smollm2"])
def test_a_chunk_at_a_time_gives_the_courses_items_exactly(which, item_config, real_model_dir):
    from helpers.data.raw import parse_lines, read_record
    from helpers.data.rules import Draft, draft, get_tokenizer

    config = item_config if which == "tiny" else ItemConfig(tokenizer=str(real_model_dir))
    tokenizer = get_tokenizer(config.tokenizer)
    lines = paths.RAW_SAMPLE.read_bytes().splitlines(keepends=True)
    expected = []
    for line in lines:
        drafted = draft(read_record(line), "CDs_and_Vinyl", config)
        expected.append(course_tokens(drafted, tokenizer, config) if isinstance(drafted, Draft) else drafted)
    found = [r if isinstance(r, str) else (r.text, r.token_count) for r in parse_lines(lines, "CDs_and_Vinyl", config)]
    assert found == expected
    assert sum(isinstance(r, tuple) for r in found) > 100  # most of the sample is kept


def course_scrub(stuff: str) -> str:
    """The course's own scrub, word by word."""
    import re

    stuff = re.sub(r'[:\[\]"{}【】\s]+', " ", stuff).strip()
    stuff = stuff.replace(" ,", ",").replace(",,,", ",").replace(",,", ",")
    return " ".join(word for word in stuff.split(" ") if len(word) < 7 or not any(c.isdigit() for c in word))


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_scrub_is_the_courses(text):
    from helpers.data.rules import scrub

    assert scrub(text) == course_scrub(text)
