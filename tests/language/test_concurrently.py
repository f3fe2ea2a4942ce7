"""A notebook's own pricing function, run a few items at a time with every reply cached, against
the OpenAI-compatible stand-in on loopback: what the function does is what is scored."""

import socket

import pytest

from helpers.core.items import Item
from helpers.core.prices import extract_price
from helpers.core.tester import Tester
from helpers.language.concurrently import Concurrently, cached_client
from helpers.language.frontier import FrontierAuthError, FrontierUnavailable
from helpers.plumbing.errors import PricerError


@pytest.fixture
def items(bundled_test) -> list[Item]:
    return bundled_test[:12]


def pricer_for(client, question: str = "How much does this cost?"):
    def frontier_price(item: Item) -> float | None:
        messages = [{"role": "user", "content": f"{question}\n\n{item.text}"}]
        response = client.chat.completions.create(model="gpt-4o-mini", messages=messages, max_tokens=5, seed=42)
        return extract_price(response.choices[0].message.content)

    return frontier_price


def test_the_function_itself_is_scored_so_an_edit_moves_the_score(server, items):
    asked = Tester(Concurrently(pricer_for(cached_client(server.url, server.api_key, None))), items, verbose=False)
    fixed = Tester(Concurrently(lambda item: 42.0), items, verbose=False)
    assert asked.run().average_error != fixed.run().average_error
    assert fixed.result.guesses == [42.0] * len(items)


def test_a_second_run_is_answered_from_the_cache_and_asks_nothing(server, items, tmp_path):
    first = cached_client(server.url, server.api_key, tmp_path / "cache.sqlite")
    answers = Concurrently(pricer_for(first)).predict_batch(items)
    sent = len(server.chat_requests())
    again = cached_client(server.url, server.api_key, tmp_path / "cache.sqlite")
    assert Concurrently(pricer_for(again)).predict_batch(items) == answers
    assert len(server.chat_requests()) == sent == len(items)
    assert (again.stats.calls, again.stats.cached) == (0, len(items))


def test_an_edited_prompt_is_a_new_request_and_is_asked(server, items, tmp_path):
    client = cached_client(server.url, server.api_key, tmp_path / "cache.sqlite")
    Concurrently(pricer_for(client)).predict_batch(items[:3])
    Concurrently(pricer_for(client, "What is this worth?")).predict_batch(items[:3])
    assert client.stats.calls == 6 and client.stats.cached == 0


def test_the_stand_in_bills_nothing_and_says_so(server, items):
    client = cached_client(server.url, server.api_key, None)
    Concurrently(pricer_for(client)).predict_batch(items[:2])
    assert client.stats.prompt_tokens > 0 and client.stats.cost == 0.0
    assert str(client.stats).endswith("nothing billed (not OpenAI's API)")


def test_a_refused_key_stops_the_run_in_one_line_without_the_key(server, items):
    client = cached_client(server.url, "sk-wrong-key-123456", None)
    with pytest.raises(FrontierAuthError) as error:
        Tester(Concurrently(pricer_for(client)), items, verbose=False).run()
    assert "authentication failed" in str(error.value) and "sk-wrong" not in str(error.value)
    assert error.value.__context__ is None and error.value.__cause__ is None


def test_a_server_that_is_down_stops_the_run_after_five_failures_in_a_row(items):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = cached_client(f"http://127.0.0.1:{port}/v1", "none", None, max_retries=0, timeout=2.0)
    with pytest.raises(FrontierUnavailable, match="5 calls in a row failed") as error:
        Tester(Concurrently(pricer_for(client), concurrency=1), items, verbose=False).run()
    assert isinstance(error.value, PricerError)
