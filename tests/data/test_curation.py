from collections import Counter

import pytest

from helpers.core.items import Item
from helpers.data.curation import CurationConfig, balance, curate, split, to_dataset_dict
from helpers.data.item_files import load_items, save_items


def make(price: float, category: str = "Toys", n: int = 0) -> Item:
    return Item(title=f"{category} {price} #{n}", price=price, category=category, text=f"Thing {n}")


def test_a_cheap_price_is_capped_and_favours_non_automotive():
    crowd = [make(10, "Automotive", i) for i in range(300)] + [make(10, "Toys", i) for i in range(300)]
    kept = balance(crowd, CurationConfig(per_price_cap=200))
    assert len(kept) == 200
    counts = Counter(item.category for item in kept)
    # Drawing 200 of 600 with Toys weighted 5:1 leaves Automotive a small minority.
    assert counts["Automotive"] < 60 < counts["Toys"]


def test_prices_from_the_keep_all_threshold_up_are_never_capped():
    crowd = [make(240, "Automotive", i) for i in range(50)]
    assert len(balance(crowd, CurationConfig(per_price_cap=10))) == 50


def test_small_groups_are_kept_whole_and_out_of_range_dollars_dropped():
    items = [make(5.2, n=i) for i in range(3)] + [make(0.5), make(1000.2)]
    kept = balance(items, CurationConfig())
    assert sorted(item.title for item in kept) == sorted(item.title for item in items[:3])


def test_same_seed_same_split_other_seed_other_split(bundled_train):
    config = CurationConfig(train_size=500, test_size=100, per_price_cap=5)
    first = curate(bundled_train, config)
    again = curate(bundled_train, config)
    other = curate(bundled_train, CurationConfig(train_size=500, test_size=100, per_price_cap=5, seed=7))
    assert first == again
    assert [i.title for i in first[1]] != [i.title for i in other[1]]


def test_split_sizes_and_no_overlap(bundled_train):
    train, test = split(bundled_train, CurationConfig(train_size=1000, test_size=200))
    assert (len(train), len(test)) == (1000, 200)
    assert not {id(i) for i in train} & {id(i) for i in test}


def test_short_data_shrinks_train_but_keeps_the_test_set(bundled_train, capsys):
    items = bundled_train[:300]
    train, test = split(items, CurationConfig(train_size=1000, test_size=100))
    assert (len(train), len(test)) == (200, 100)
    assert "train 200 instead of 1,000" in capsys.readouterr().out


def test_lite_is_the_course_appliances_variant():
    lite = CurationConfig.lite()
    assert (lite.categories, lite.train_size, lite.test_size) == (["Appliances"], 25_000, 2_000)


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_items_survive_a_save_and_load(tmp_path, bundled_test, suffix):
    path = save_items(bundled_test[:20], tmp_path / f"items{suffix}")
    loaded, report = load_items(path)
    assert loaded == bundled_test[:20]
    assert report.kept == 20


def test_dataset_dict_has_training_prompts_and_test_prompts(bundled_test):
    data = to_dataset_dict(bundled_test[:5], bundled_test[5:8])
    assert data["train"].column_names == ["text", "price", "category"]
    assert data["train"][0]["text"] == bundled_test[0].prompt
    assert data["test"][0]["text"] == bundled_test[5].test_prompt()
    assert data["test"][0]["text"].endswith("Price is $")
    assert len(data["test"]) == 3


def test_a_pushed_dataset_dict_loads_back_as_items(tmp_path, bundled_test):
    """Week 7 reads week 6's data set back; a local folder in the hub's file layout stands in."""
    from helpers.data.hub_datasets import load_hub_items

    data = to_dataset_dict(bundled_test[:5], bundled_test[5:9])
    for name in ("train", "test"):
        data[name].to_parquet(str(tmp_path / f"{name}.parquet"))
    items = load_hub_items(str(tmp_path), split="test")
    assert [i.test_prompt() for i in items] == [i.test_prompt() for i in bundled_test[5:9]]
    assert [i.price for i in items] == [i.price for i in bundled_test[5:9]]
    assert [i.category for i in items] == [i.category for i in bundled_test[5:9]]


def test_a_missing_hub_dataset_is_a_one_line_error():
    from helpers.data.hub_datasets import load_hub_items
    from helpers.plumbing.errors import DataError

    with pytest.raises(DataError, match="cannot load data set 'nobody/nothing' \\(test\\)"):
        load_hub_items("nobody/nothing")


def test_balancing_from_an_index_keeps_the_same_items_in_the_same_order(tmp_path, bundled_train):
    from helpers.data.curation import balance_index
    from helpers.data.item_files import copy_rows, index_items

    items = bundled_train[:1500]
    path = save_items(items, tmp_path / "items.jsonl")
    config = CurationConfig(train_size=900, test_size=100, per_price_cap=3)
    train, test = curate(items, config)
    index, report = index_items(path)
    assert report.kept == 1500 and len(index.offsets) == 1500
    chosen_train, chosen_test = split(balance_index(index.prices, index.categories, config), config)
    copied = load_items(copy_rows(path, [index.offsets[i] for i in chosen_train], tmp_path / "train.jsonl"))[0]
    assert copied == train and [items[i] for i in chosen_test] == test


def test_split_refuses_one_file_for_two_outputs_and_writes_nothing(tmp_path, bundled_train):
    from helpers.data.pipeline import split_file
    from helpers.plumbing.errors import ConfigError

    source = save_items(bundled_train[:200], tmp_path / "items.jsonl")
    outs = {"train": str(tmp_path / "same.jsonl"), "test": str(tmp_path / "." / "same.jsonl")}
    with pytest.raises(ConfigError, match="name the same file"):
        split_file(str(source), outs, CurationConfig(train_size=100, test_size=50))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["items.jsonl"]


def test_split_can_write_its_training_items_over_its_input(tmp_path, bundled_train):
    from helpers.data.pipeline import split_file

    source = save_items(bundled_train[:200], tmp_path / "items.jsonl")
    lines = set(source.read_text().splitlines())
    outs = {"train": str(source), "test": str(tmp_path / "test.jsonl")}
    counts = split_file(str(source), outs, CurationConfig(train_size=100, test_size=50), overwrite=True)
    train, test = source.read_text().splitlines(), (tmp_path / "test.jsonl").read_text().splitlines()
    assert (counts["train"], counts["test"], len(train), len(test)) == (100, 50, 100, 50)
    assert set(train) <= lines and set(test) <= lines and not set(train) & set(test)  # every row whole
    assert len(load_items(tmp_path / "test.jsonl")[0]) == 50


# `split` killed (SIGKILL, a lost runtime) right after its new training file replaced the old one,
# before its test file did: the disk holds a train and a test from two different splits.
KILLED_BETWEEN_ITS_FILES = """
import os, signal, sys
from helpers.cli.commands import main

rename, train_out = os.replace, sys.argv[1]

def dies_after_the_training_file(source, target):
    rename(source, target)
    if str(target) == train_out:
        os.kill(os.getpid(), signal.SIGKILL)

os.replace = dies_after_the_training_file
main(["split", "--train-out", train_out, *sys.argv[2:]])
"""


def split_flags(tmp_path, seed: int) -> list[str]:
    from helpers.plumbing import paths

    sizes = ["--items", str(paths.TRAIN_SAMPLE), "--train-size", "2000", "--test-size", "300", "--seed", str(seed)]
    return [*sizes, "--test-out", str(tmp_path / "test.jsonl")]


def test_a_split_cut_between_its_files_is_refused_when_read_never_used(tmp_path):
    import os
    import subprocess
    import sys

    from helpers.cli.commands import main
    from helpers.plumbing.errors import DataError

    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    main(["split", "--train-out", str(train), *split_flags(tmp_path, seed=1)])
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BETWEEN_ITS_FILES, str(train), *split_flags(tmp_path, seed=2), "--overwrite"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert set(train.read_text().splitlines()) & set(test.read_text().splitlines())  # a pair that would leak
    for path in (train, test):
        with pytest.raises(DataError, match=f"^{path} is one file of a set whose writing was cut off"):
            load_items(path)
    evaluate = [sys.executable, "-m", "helpers", "evaluate", "--test", str(test), "--predictions", str(tmp_path)]
    run = subprocess.run(evaluate, capture_output=True, text=True, env=env)
    assert run.returncode == 2 and run.stderr.startswith(f"error: {test} is one file of a set whose writing was cut")
    assert "split --overwrite" in run.stderr and len(run.stderr.splitlines()) == 1


def test_a_split_written_again_whole_is_read_again(tmp_path):
    from helpers.cli.commands import main

    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    main(["split", "--train-out", str(train), *split_flags(tmp_path, seed=1)])
    (tmp_path / ".test.jsonl.set-unfinished").write_text("as a cut split leaves it")
    main(["split", "--train-out", str(train), *split_flags(tmp_path, seed=2), "--overwrite"])
    assert (len(load_items(train)[0]), len(load_items(test)[0])) == (2000, 300)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test.jsonl", "train.jsonl"]  # no mark, no temporary
