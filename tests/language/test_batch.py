"""The 2025 edition's summaries through the Batch API, against the offline server over real HTTP."""

import json

import pytest
from openai import OpenAI

from helpers.core.prompts import summary_messages
from helpers.language.batches import (
    ENDPOINT,
    WINDOW,
    BatchFailed,
    BatchState,
    batch_cost,
    check_completed,
    fingerprint,
    pick_up,
    read_results,
    request_row,
    save_batch,
    saved_batch,
    summary_rows,
    write_rows,
)
from helpers.language.frontier import FrontierConfig, cost_of
from helpers.language.summaries import Summariser, SummaryConfig
from helpers.offline.fake_openai import Fault
from helpers.plumbing.errors import DataError
from helpers.plumbing.store import FolderStore


def summariser(server, tiny_dir, tmp_path) -> Summariser:
    config = FrontierConfig(base_url=server.url, api_key=server.api_key, cache=str(tmp_path / "cache.sqlite"))
    return Summariser(config, SummaryConfig(tokenizer=str(tiny_dir)))


def client_for(server) -> OpenAI:
    return OpenAI(base_url=server.url, api_key=server.api_key, max_retries=0)


def submit(client, rows, tmp_path):
    path = write_rows(rows, tmp_path / "batch.jsonl")
    with open(path, "rb") as file:
        uploaded = client.files.create(file=file, purpose="batch")
    return client.batches.create(input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window=WINDOW)


def follow(client, batch, seen=None):
    for _ in range(10):
        batch = client.batches.retrieve(batch.id)
        if seen is not None:
            seen.append((batch.status, batch.request_counts.model_dump()))
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            return batch
    raise AssertionError(f"batch still {batch.status} after 10 looks")


def results_of(client, batch):
    output = client.files.content(batch.output_file_id).text if batch.output_file_id else None
    errors = client.files.content(batch.error_file_id).text if batch.error_file_id else None
    return read_results(output, errors)


def chat_row(custom_id: str, text: str) -> dict:
    return request_row(custom_id, {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]})


def test_a_batch_is_validated_then_in_progress_then_completed_with_its_counts(server, tmp_path):
    client = client_for(server)
    batch = submit(client, [chat_row(f"r{n}", f"item {n}") for n in range(4)], tmp_path)
    assert batch.status == "validating"
    seen = []
    follow(client, batch, seen)
    assert seen == [
        ("in_progress", {"total": 4, "completed": 0, "failed": 0}),
        ("in_progress", {"total": 4, "completed": 2, "failed": 0}),
        ("completed", {"total": 4, "completed": 4, "failed": 0}),
    ]


def test_each_summary_in_the_batch_is_what_the_concurrent_summariser_got(server, tiny_dir, tmp_path, bundled_test):
    items = bundled_test[:5]
    worker = summariser(server, tiny_dir, tmp_path)
    rows = summary_rows(items, worker)
    client = client_for(server)
    results = results_of(client, follow(client, submit(client, rows, tmp_path)))
    assert not server.chat_requests()  # the batch answered without a single chat call
    concurrent = worker.ask([(item.title, summary_messages(item.text)) for item in items])
    assert [results.replies[f"item-{n}"] for n in range(5)] == concurrent
    assert all(reply.startswith("Title: ") for reply in concurrent)


def test_the_rows_carry_the_summarisers_own_request(server, tiny_dir, tmp_path, bundled_test):
    worker = summariser(server, tiny_dir, tmp_path)
    (row,) = summary_rows(bundled_test[:1], worker)
    assert row == {
        "custom_id": "item-0",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "model": "gpt-4o-mini",
            "messages": summary_messages(bundled_test[0].text),
            "max_tokens": 300,
            "seed": 42,
        },
    }


def test_a_bad_line_is_reported_under_its_custom_id_not_lost(server, tmp_path):
    client = client_for(server)
    rows = [chat_row("good", "a kettle"), request_row("no-messages", {"model": "gpt-4o-mini"}), chat_row("also", "x")]
    batch = follow(client, submit(client, rows, tmp_path))
    results = results_of(client, batch)
    assert batch.status == "completed" and batch.request_counts.failed == 1
    assert set(results.replies) == {"good", "also"}
    assert results.errors == {"no-messages": "400: body.messages must be a non-empty list"}
    assert results.missing(row["custom_id"] for row in rows) == []


def test_a_request_the_server_fails_goes_to_the_error_file(server, tmp_path):
    server.script.append(Fault(status=500))
    client = client_for(server)
    results = results_of(client, follow(client, submit(client, [chat_row("a", "one"), chat_row("b", "two")], tmp_path)))
    assert list(results.errors) == ["a"] and results.errors["a"].startswith("500: ")
    assert list(results.replies) == ["b"]


def test_an_input_that_is_not_json_lines_fails_the_batch_naming_the_line(server, tmp_path):
    client = client_for(server)
    text = json.dumps(chat_row("a", "one")) + "\nnot json\n"
    uploaded = client.files.create(file=("batch.jsonl", text.encode()), purpose="batch")
    created = client.batches.create(input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window=WINDOW)
    batch = follow(client, created)
    assert batch.status == "failed" and batch.output_file_id is None
    with pytest.raises(BatchFailed, match=r"^batch batch_0001 ended failed: line 2: This line is not parseable"):
        check_completed(batch)


def test_a_file_uploaded_for_fine_tuning_is_refused_as_a_batch(server):
    client = client_for(server)
    uploaded = client.files.create(file=("train.jsonl", b"{}\n"), purpose="fine-tune")
    with pytest.raises(Exception, match="expected 'batch'"):
        client.batches.create(input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window=WINDOW)


def test_a_batch_id_kept_in_the_store_is_picked_up_by_a_new_runtime(server, tmp_path):
    rows = [chat_row(f"r{n}", f"item {n}") for n in range(3)]
    first = client_for(server)
    batch = submit(first, rows, tmp_path)
    store = FolderStore(tmp_path / "store")
    save_batch(store, BatchState(batch.id, batch.input_file_id, 3, fingerprint(rows), server.url, "gpt-4o-mini"))

    said = []
    again = pick_up(client_for(server), FolderStore(tmp_path / "store"), rows, said.append)  # a fresh runtime
    assert again.id == batch.id and len(server.batches) == 1
    assert said == [f"Carrying on with batch {batch.id} (in_progress), saved earlier in the store"]
    assert sorted(results_of(first, follow(first, again)).replies) == ["r0", "r1", "r2"]


def test_a_batch_saved_for_other_requests_is_not_picked_up(server, tmp_path):
    rows = [chat_row("r0", "item 0")]
    client = client_for(server)
    batch = submit(client, rows, tmp_path)
    store = FolderStore(tmp_path / "store")
    save_batch(store, BatchState(batch.id, batch.input_file_id, 1, fingerprint(rows), server.url, "gpt-4o-mini"))
    said = []
    assert pick_up(client, store, [chat_row("r0", "another item")], said.append) is None
    assert "was for other requests: a new one" in said[0]


def test_a_batch_saved_at_another_server_is_not_picked_up(server, tmp_path):
    rows = [chat_row("r0", "item 0")]
    store = FolderStore(tmp_path / "store")
    elsewhere = "http://127.0.0.1:1/v1"  # the offline server of an earlier kernel
    save_batch(store, BatchState("batch_0001", "file-0001", 1, fingerprint(rows), elsewhere, "gpt-4o-mini"))
    said = []
    assert pick_up(client_for(server), store, rows, said.append) is None
    assert said == [f"The batch saved in the store, batch_0001, was sent to {elsewhere}, not {server.url}: a new one"]


def test_a_batch_the_server_has_forgotten_is_not_picked_up(server, tmp_path):
    rows = [chat_row("r0", "item 0")]
    store = FolderStore(tmp_path / "store")
    save_batch(store, BatchState("batch_0042", "file-0001", 1, fingerprint(rows), server.url, "gpt-4o-mini"))
    said = []
    assert pick_up(client_for(server), store, rows, said.append) is None
    assert said == [f"{server.url} no longer knows batch batch_0042: a new one"]


def test_a_corrupt_saved_batch_is_one_line(tmp_path):
    store = FolderStore(tmp_path)
    store.write_text("{not json", "summaries/batch.json")
    with pytest.raises(DataError, match="no saved batch: delete it"):
        saved_batch(store)


def test_a_batch_costs_half_the_same_calls(server, tmp_path):
    client = client_for(server)
    results = results_of(client, follow(client, submit(client, [chat_row("a", "one " * 400)], tmp_path)))
    assert results.prompt_tokens > 0 and results.completion_tokens > 0
    full = cost_of("gpt-4o-mini", results.prompt_tokens, results.completion_tokens)
    assert batch_cost("gpt-4o-mini", results) == pytest.approx(full / 2)


def test_a_result_line_that_is_not_json_is_one_line():
    with pytest.raises(DataError, match="^line 2 of the batch's output file is no result line$"):
        read_results('{"custom_id": "a", "response": null}\n<html>\n')
