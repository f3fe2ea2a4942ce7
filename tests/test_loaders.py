import gzip
import json

import pandas as pd
import pytest

from helpers import paths
from helpers.errors import DataError
from helpers.loaders import LoadConfig, load_items, load_raw, resolve


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
