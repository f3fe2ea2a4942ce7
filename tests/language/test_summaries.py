"""The 2025 edition's data shape: LLM-written summaries, and the prompt made from them."""

import json
import os
import subprocess
import sys

from helpers.classical.baselines import BaselineConfig
from helpers.classical.registry import fit_baselines
from helpers.core.items import Item, cut_summary
from helpers.core.prompts import PROMPT_2025
from helpers.core.tester import Tester
from helpers.data.item_files import load_items
from helpers.data.rules import get_tokenizer
from helpers.language.frontier import FrontierConfig
from helpers.language.summaries import Summariser, SummaryConfig
from helpers.offline.fake_openai import Fault

SUMMARY = (
    "Title: Stainless Steel Electric Kettle\nCategory: Appliances\nBrand: Acme\n"
    "Description: A 1.7 litre kettle that boils water quickly.\nDetails: Auto shut-off and a boil-dry guard."
)


def summariser(server, tiny_dir, tmp_path, **overrides) -> Summariser:
    config = FrontierConfig(base_url=server.url, api_key=server.api_key, cache=str(tmp_path / "cache.sqlite"))
    return Summariser(config, SummaryConfig(tokenizer=str(tiny_dir), **overrides))


def test_the_summary_prompt_is_the_course_preprocessor_prompt_exactly(server, tiny_dir, tmp_path, bundled_train):
    summariser(server, tiny_dir, tmp_path).summarise(bundled_train[:1], progress=False)
    sent = json.loads(server.chat_requests()[0]["body"])
    assert sent["messages"] == [
        {
            "role": "system",
            "content": "Create a concise description of a product. Respond only in this format. "
            "Do not include part numbers.\n"
            "Title: Rewritten short precise title\n"
            "Category: eg Electronics\n"
            "Brand: Brand name\n"
            "Description: 1 sentence description\n"
            "Details: 1 sentence on features",
        },
        {"role": "user", "content": bundled_train[0].text},
    ]
    assert sent["max_tokens"] == 300  # room for five lines, where a price needs 5


def test_the_2025_prompt_is_built_from_the_summary(server, tiny_dir, tmp_path, bundled_train):
    server.script.append(Fault(reply=SUMMARY))
    (item,), skipped = summariser(server, tiny_dir, tmp_path).summarise(bundled_train[:1], progress=False)
    assert not skipped
    assert item.summary == SUMMARY and item.price == bundled_train[0].price
    assert item.test_prompt() == f"What does this cost to the nearest dollar?\n\n{SUMMARY}\n\nPrice is $"
    assert item.prompt == item.test_prompt() + f"{round(item.price)}.00"
    assert item.token_count == len(get_tokenizer(str(tiny_dir)).encode(item.prompt))


def test_a_long_summary_is_cut_as_the_course_cuts_it(tiny_dir):
    tokenizer = get_tokenizer(str(tiny_dir))
    long = SUMMARY + " More words about the kettle and its many uses in a busy kitchen." * 20
    cut = cut_summary(long, tokenizer, 110)
    tokens = tokenizer.encode(long, add_special_tokens=False)
    assert cut == tokenizer.decode(tokens[:110]).rstrip()  # the course's make_prompts, step for step
    assert len(tokenizer.encode(cut, add_special_tokens=False)) <= 110
    assert cut_summary(SUMMARY, tokenizer, 110) == SUMMARY  # a short one is kept as written


def test_failed_and_empty_replies_are_counted_and_left_out(server, tiny_dir, tmp_path, bundled_train):
    server.script.extend([Fault(reply="   "), Fault(status=400)])
    done, skipped = summariser(server, tiny_dir, tmp_path).summarise(bundled_train[:4], progress=False)
    assert len(done) == 2 and skipped == {"empty_summary": 1, "request_failed": 1}


def test_a_second_run_takes_its_summaries_from_the_cache(server, tiny_dir, tmp_path, bundled_train):
    first = summariser(server, tiny_dir, tmp_path)
    done, _ = first.summarise(bundled_train[:6], progress=False)
    again = summariser(server, tiny_dir, tmp_path)
    redone, _ = again.summarise(bundled_train[:6], progress=False)
    assert len(server.chat_requests()) == 6
    assert again.stats.calls == 0 and again.stats.cached == 6 and redone == done
    assert first.stats.calls == 6 and first.stats.prompt_tokens > 0


def test_summary_items_round_trip_and_keep_the_2025_prompt(server, tiny_dir, tmp_path, bundled_train):
    from helpers.data.item_files import save_items

    done, _ = summariser(server, tiny_dir, tmp_path).summarise(bundled_train[:3], progress=False)
    path = save_items(done, tmp_path / "summarised.jsonl")
    again, report = load_items(path)
    assert again == done and report.kept == 3
    assert all(item.prompt_format == PROMPT_2025 for item in again)


def test_a_row_with_only_a_summary_and_weight_is_a_2025_item():
    item = Item.from_dict(
        {"title": "Kettle", "category": "Appliances", "price": 24.99, "summary": SUMMARY, "weight": 2.5}
    )
    assert item.text == SUMMARY and item.summary == SUMMARY
    assert item.test_prompt().startswith("What does this cost to the nearest dollar?\n\nTitle: Stainless")
    assert item.details["Item Weight"] == "2.5 pounds"  # where the feature baselines read the weight


def test_baselines_and_the_tester_work_on_summaries(server, tiny_dir, tmp_path, bundled_train, bundled_test):
    worker = summariser(server, tiny_dir, tmp_path)
    train, _ = worker.summarise(bundled_train[:150], progress=False)
    test, _ = worker.summarise(bundled_test[:30], progress=False)
    predictors = fit_baselines(train, BaselineConfig(models=["constant", "features_lr", "tfidf_ridge"]))
    for name, predictor in predictors.items():
        result = Tester(predictor, test, verbose=False).run()
        assert result.n == 30 and result.failure_count == 0, name


def test_the_summarise_command_writes_items_and_reports_cost(server, tiny_dir, tmp_path):
    out = tmp_path / "summarised.jsonl"
    env = {**os.environ, "OPENAI_API_KEY": server.api_key, "HF_HUB_OFFLINE": "1"}
    args = ["--base-url", server.url, "--tokenizer", str(tiny_dir), "--limit", "5", "--out", str(out)]
    args += ["--cache", str(tmp_path / "c.sqlite"), "--no-progress"]
    run = subprocess.run([sys.executable, "-m", "helpers", "summarise", *args], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["items"] == summary["summarised"] == summary["calls"] == 5 and summary["skipped"] == {}
    assert "gpt-4o-mini: 5 calls, 0 from cache" in run.stderr
    assert all(item.summary for item in load_items(out)[0])
    refused = subprocess.run(
        [sys.executable, "-m", "helpers", "summarise", *args], capture_output=True, text=True, env=env
    )
    assert refused.returncode == 2 and "--overwrite" in refused.stderr
