"""One item whose description is a megabyte: cut for its prompt as in training (open models), and
to a character cap from the same limit (frontier models, paid by the token), said and counted;
never a run lost to a 202 GB allocation or a paid megabyte."""

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from helpers.core.items import MAX_TEXT_CHARS, MAX_TOKENS, prompt_item
from helpers.data.item_files import load_items, save_items
from helpers.data.rules import get_tokenizer
from helpers.offline.fake_openai import FakeOpenAI
from helpers.plumbing import paths

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONPATH": str(paths.ROOT)}
HUGE = 1_000_000  # characters of the one hand-made item's description


@pytest.fixture
def test_file(tmp_path, bundled_test):
    """Three bundled test items and a fourth whose text is a megabyte."""
    items = bundled_test[:3]
    huge = replace(items[0], title="Drain pump, described at length", text=items[0].text + " word" * (HUGE // 5))
    return save_items([*items, huge], tmp_path / "test.jsonl")


@pytest.mark.slow
def test_predict_prices_a_1mb_description_cut_to_the_token_limit_as_in_training(tmp_path, tiny_model_dir, test_file):
    flags = ["--base-model", str(tiny_model_dir), "--test", str(test_file), "--size", "4", "--improved", "--json"]
    command = [sys.executable, "-m", "helpers", "predict", *flags, "--leaderboard", str(tmp_path / "board.csv")]
    run = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=240)
    assert run.returncode == 0, run.stderr[-2000:]
    row = json.loads(run.stdout.splitlines()[-1])
    assert row["n"] == 4  # every item scored (a random model may write no number: a counted failure)
    cut = [line for line in run.stderr.splitlines() if "longer than any curated item's" in line]
    assert cut == [
        f"'Drain pump, described at length': its text is {len(load_items(test_file)[0][3].text):,} characters, "
        f"longer than any curated item's: the prompt shows its first {MAX_TOKENS} tokens, as in training (1 so far)"
    ]


def test_no_curated_item_is_cut_whatever_the_tokenizer(tiny_dir, bundled_train, bundled_test):
    """The bundled items were cut with Llama's tokenizer; the tiny one counts more tokens in them,
    yet their prompts stay as they are: only a text no curate made is cut."""
    tokenizer = get_tokenizer(str(tiny_dir))
    assert all(prompt_item(item, tokenizer) is item for item in [*bundled_train, *bundled_test])


def test_the_frontier_pricer_sends_a_1mb_description_cut_and_says_so(tmp_path, test_file):
    with FakeOpenAI() as server:
        flags = ["--base-url", server.url, "--test", str(test_file), "--size", "4", "--no-cache", "--json"]
        command = [sys.executable, "-m", "helpers", "frontier", *flags, "--leaderboard", str(tmp_path / "board.csv")]
        run = subprocess.run(command, capture_output=True, text=True, env={**ENV, "OPENAI_API_KEY": server.api_key})
        bodies = [json.loads(request["body"]) for request in server.chat_requests()]
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(bodies) == 4
    longest = max(len(message["content"]) for body in bodies for message in body["messages"])
    assert MAX_TEXT_CHARS < longest < MAX_TEXT_CHARS + 100  # the question and the cut text
    assert f"longer than any curated item's: the prompt shows its first {MAX_TEXT_CHARS:,}" in run.stderr
    assert f"1 texts cut to {MAX_TEXT_CHARS:,} characters" in run.stderr


def test_a_notebooks_own_function_is_shown_a_1mb_description_cut(test_file):
    from helpers.core.tester import Tester
    from helpers.language.concurrently import Concurrently, cached_client

    items = load_items(test_file)[0]
    with FakeOpenAI() as server:
        client = cached_client(server.url, server.api_key, None)

        def frontier_price(item) -> float | None:  # as week 6 day 4's cell writes it
            messages = [{"role": "user", "content": f"How much does this cost?\n\n{item.text}"}]
            reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, max_tokens=5, seed=42)
            return float(reply.choices[0].message.content.strip().split()[0].replace(",", ""))

        pricer = Concurrently(frontier_price)
        result = Tester(pricer, items, verbose=False).run()
        sent = [len(json.loads(request["body"])["messages"][0]["content"]) for request in server.chat_requests()]
    assert result.failure_count == 0 and pricer.cut == 1
    assert max(sent) < MAX_TEXT_CHARS + 100
