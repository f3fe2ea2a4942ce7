"""The course's data sets in both editions' layouts, read offline from small local folders of
the same shape (a folder in the hub's layout goes through the same `datasets` code)."""

import pandas as pd
import pytest

from helpers.data.curation import to_dataset_dict
from helpers.data.hub_datasets import hub_training_rows, load_hub_items
from helpers.plumbing.errors import DataError
from helpers.presets import COURSE_2024, COURSE_2025

QUESTION_2025 = "What does this cost to the nearest dollar?"
SUMMARY = "Title: Ice maker\nCategory: Appliances\nBrand: Frost\nDescription: Makes ice.\nDetails: 26 lbs a day."


def write_splits(folder, splits: dict[str, list[dict]]):
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in splits.items():
        pd.DataFrame(rows).to_parquet(folder / f"{name}.parquet")
    return str(folder)


def item_2025(i: int, price: float) -> dict:
    """A row of ed-donner/items_full: its prompt is made from the summary, as the course makes it."""
    summary = SUMMARY.replace("Ice maker", f"Ice maker {i}")
    prompt = f"{QUESTION_2025}\n\n{summary}\n\nPrice is ${round(price)}.00"
    return {
        "title": f"Ice maker {i}",
        "category": "Appliances",
        "price": price,
        "full": "long text " * 20,
        "weight": 22.5,
        "summary": summary,
        "prompt": prompt,
        "id": i,
    }


def test_the_2025_question_is_the_presets(tmp_path):
    assert COURSE_2025.prompt.question == QUESTION_2025 and COURSE_2025.prompt.prefix == "Price is $"
    assert COURSE_2025.base_model == "meta-llama/Llama-3.2-3B" and COURSE_2024.prompt.question.startswith("How much")


def test_2025_items_read_with_their_summary_as_text(tmp_path):
    rows = {"train": [item_2025(0, 130.0)], "validation": [item_2025(1, 5.49)], "test": [item_2025(2, 299.99)]}
    folder = write_splits(tmp_path / "items_lite", rows)
    [item] = load_hub_items(folder, "test", COURSE_2025.prompt)
    assert (item.title, item.price, item.category) == ("Ice maker 2", 299.99, "Appliances")
    assert item.text == SUMMARY.replace("Ice maker", "Ice maker 2")
    assert item.test_prompt() == rows["test"][0]["prompt"].removesuffix("300.00")
    assert item.details == {"Item Weight": "22.5 pounds"}
    assert [i.title for i in load_hub_items(folder, "validation", COURSE_2025.prompt)] == ["Ice maker 1"]
    training = hub_training_rows(folder, COURSE_2025.prompt)
    assert training[:] == {"prompt": [rows["train"][0]["prompt"].removesuffix("130.00")], "completion": ["130.00"]}


def test_2025_prompt_rows_train_as_they_are_and_test_to_the_dollar(tmp_path):
    prompt = f"{QUESTION_2025}\n\n{SUMMARY}\n\nPrice is $"
    rows = [{"prompt": prompt, "completion": "130.00"}, {"prompt": prompt, "completion": "7.00"}]
    folder = write_splits(tmp_path / "items_prompts_lite", {"train": rows, "test": rows})
    assert hub_training_rows(folder, COURSE_2025.prompt)[:] == {
        "prompt": [prompt, prompt],
        "completion": ["130.00", "7.00"],
    }
    items = load_hub_items(folder, "test", COURSE_2025.prompt)
    assert [item.price for item in items] == [130.0, 7.0] and items[0].text == SUMMARY


def test_the_2024_layout_reads_back_the_items_it_was_made_from(tmp_path, bundled_test):
    folder = tmp_path / "pricer-data"
    data = to_dataset_dict(bundled_test[:3], bundled_test[3:6])
    write_splits(folder, {name: data[name].to_list() for name in ("train", "test")})
    items = load_hub_items(str(folder), "test", COURSE_2024.prompt)
    assert [i.test_prompt() for i in items] == [i.test_prompt() for i in bundled_test[3:6]]
    assert hub_training_rows(str(folder))["completion"] == [i.completion for i in bundled_test[:3]]


def test_a_layout_pricer_does_not_know_is_one_line(tmp_path):
    folder = write_splits(tmp_path / "odd", {"test": [{"name": "x", "cost": 3}]})
    with pytest.raises(DataError, match="is in no layout pricer knows: columns cost, name"):
        load_hub_items(folder, "test")


def test_a_preset_sets_the_flags_it_names_and_a_flag_given_still_wins():
    from helpers.cli.commands import parser

    args = parser("course-2025")[0].parse_args(["predict", "--preset", "course-2025"])
    assert (args.base_model, args.adapter, args.revision, args.test) == (
        "meta-llama/Llama-3.2-3B",
        "ed-donner/price-2025-11-28_18.47.07",
        "b19c8bfea3b6ff62237fbb0a8da9779fc12cefbd",
        "ed-donner/items_full",
    )
    mine = parser("course-2024")[0].parse_args(["train", "--preset", "course-2024", "--base-model", "my/model"])
    assert (mine.base_model, mine.train, mine.preset) == ("my/model", "ed-donner/pricer-data", "course-2024")


def test_each_edition_trains_with_its_own_values():
    from helpers.language.training import TrainConfig

    assert (TrainConfig().lora_r, TrainConfig().max_length) == (32, 182)  # 2024's, the defaults
    full = TrainConfig.for_preset("course-2025")
    assert (full.lora_r, full.epochs, full.batch_size, full.max_length, full.warmup_ratio) == (256, 3, 256, 128, 0.01)
    assert {"gate_proj", "up_proj", "down_proj"} <= set(full.target_modules)
    lite = TrainConfig.for_preset("course-2025", lite=True, epochs=2)  # a field given still wins
    assert (lite.lora_r, lite.batch_size, lite.epochs, lite.train) == (32, 32, 2, "ed-donner/items_prompts_lite")
    assert "gate_proj" not in lite.target_modules


def test_train_with_the_2025_preset_takes_its_values_from_the_command_line():
    from helpers.cli.commands import parser

    args = parser("course-2025")[0].parse_args(["train", "--preset", "course-2025", "--epochs", "1"])
    assert (args.lora_r, args.batch_size, args.max_length, args.epochs) == (256, 256, 128, 1)
