"""The frontier pricer against a real OpenAI-compatible HTTP server on loopback."""

import json
import logging

import pytest

from helpers.core.items import Item
from helpers.core.tester import Tester
from helpers.language.frontier import FrontierAuthError, FrontierConfig, FrontierPricer
from helpers.offline.fake_openai import Fault


@pytest.fixture
def items(bundled_test) -> list[Item]:
    return bundled_test[:10]


def config_for(server, tmp_path, **overrides) -> FrontierConfig:
    values = dict(
        base_url=server.url,
        api_key=server.api_key,
        cache=str(tmp_path / "cache.sqlite"),
        concurrency=3,
        max_retries=3,
        timeout=5.0,
    )
    return FrontierConfig(**{**values, **overrides})


def evaluate(items, config: FrontierConfig, size: int):
    """What the notebooks and the command line do: the pricer through the Tester."""
    pricer = FrontierPricer(config)
    return Tester(pricer, items, size=size, verbose=False).run(), pricer.stats


def test_the_course_prompt_goes_over_the_wire_exactly(server, tmp_path, items):
    FrontierPricer(config_for(server, tmp_path))(items[0])
    sent = json.loads(server.chat_requests()[0]["body"])
    assert sent["model"] == "gpt-4o-mini" and sent["max_tokens"] == 5 and sent["seed"] == 42
    system, user, assistant = sent["messages"]
    assert system == {
        "role": "system",
        "content": "You estimate prices of items. Reply only with the price, no explanation",
    }
    assert user["role"] == "user"
    assert user["content"] == f"How much does this cost?\n\n{items[0].text}"
    assert assistant == {"role": "assistant", "content": "Price is $"}
    assert sent["messages"] == items[0].messages()


@pytest.mark.parametrize(
    "reply, price",
    [("99.99", 99.99), ("1,299", 1299.0), (" 45", 45.0), ("Price is $12.50", 12.5), ("about 80 dollars", 80.0)],
)
def test_prices_come_out_of_varied_replies(server, tmp_path, items, reply, price):
    server.script.append(Fault(reply=reply))
    assert FrontierPricer(config_for(server, tmp_path, cache=None))(items[0]) == price


def test_a_reply_without_a_price_is_counted_not_raised(server, tmp_path, items):
    server.script.append(Fault(reply="I'm not sure"))
    pricer = FrontierPricer(config_for(server, tmp_path))
    assert pricer(items[0]) is None
    assert pricer.stats.failures == 1


def test_rate_limits_are_retried_and_give_one_result(server, tmp_path, items):
    server.script.extend([Fault(status=429), Fault(status=429), Fault(reply="42")])
    pricer = FrontierPricer(config_for(server, tmp_path))
    assert pricer(items[0]) == 42.0
    assert len(server.chat_requests()) == 3
    assert pricer.stats.calls == 1 and pricer.stats.errors == 0


def test_a_timeout_is_retried(server, tmp_path, items):
    server.script.extend([Fault(delay=1.5), Fault(reply="77")])
    pricer = FrontierPricer(config_for(server, tmp_path, timeout=0.5, max_retries=2))
    assert pricer(items[0]) == 77.0
    assert len(server.chat_requests()) == 2


def test_a_server_that_never_answers_in_time_is_a_counted_error(server, tmp_path, items):
    server.script.extend([Fault(delay=1.0), Fault(delay=1.0)])
    pricer = FrontierPricer(config_for(server, tmp_path, timeout=0.3, max_retries=1))
    assert pricer(items[0]) is None
    assert pricer.stats.errors == 1 and pricer.stats.failures == 1


def test_a_second_evaluation_is_served_from_the_cache(server, tmp_path, items):
    config = config_for(server, tmp_path)
    first, first_stats = evaluate(items, config, size=10)
    assert first_stats.calls == 10 and len(server.chat_requests()) == 10
    second, second_stats = evaluate(items, config, size=10)
    assert len(server.chat_requests()) == 10  # the server saw nothing new
    assert second_stats.calls == 0 and second_stats.cached == 10
    assert second.guesses == first.guesses


def test_an_interrupted_evaluation_resumes_with_only_what_is_missing(server, tmp_path, items):
    config = config_for(server, tmp_path, concurrency=1)
    wrong = FrontierConfig(**{**config.__dict__, "api_key": "wrong-key-123"})
    FrontierPricer(config).predict_batch(items[:4])  # the first run got this far...
    with pytest.raises(FrontierAuthError):
        FrontierPricer(wrong).predict_batch(items)  # ...then stopped (here: a revoked key)
    before = len(server.chat_requests())
    result, stats = evaluate(items, config, size=10)
    assert stats.cached == 4 and stats.calls == 6
    assert len(server.chat_requests()) - before == 6
    assert result.n == 10


def test_a_bad_key_stops_at_once_and_never_shows_the_key(server, tmp_path, items, caplog):
    secret = "very-secret-key-ABCDEFGHIJKLMNOP"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(FrontierAuthError) as error:
        evaluate(items, config_for(server, tmp_path, api_key=secret), size=10)
    message = str(error.value)
    assert message.startswith("authentication failed at http://127.0.0.1:") and "\n" not in message
    assert secret not in message and error.value.__cause__ is None and error.value.__context__ is None
    assert all(secret not in record.getMessage() for record in caplog.records)
    assert len(server.chat_requests()) <= 3  # stopped, not ground through every item


def test_a_missing_key_for_openai_itself_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setattr("helpers.plumbing.secrets._colab_secret", lambda name: None)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("helpers.plumbing.paths.ROOT", tmp_path)
    with pytest.raises(FrontierAuthError, match="OPENAI_API_KEY is not set"):
        FrontierPricer(FrontierConfig(cache=None))


def test_usage_is_summed_and_a_server_that_is_not_openai_bills_nothing(server, tmp_path, items):
    result, stats = evaluate(items, config_for(server, tmp_path), size=5)
    assert stats.calls == 5 and stats.prompt_tokens > 0
    assert stats.cost == 0.0 and not stats.billed
    assert str(stats).startswith("5 calls, 0 from cache") and str(stats).endswith("nothing billed (not OpenAI's API)")


def test_openai_tokens_are_costed_at_the_published_prices():
    from helpers.language.frontier import RunStats, cost_of

    assert cost_of("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.15 + 0.60)
    assert str(RunStats(calls=1, cost=0.1277)).endswith("about $0.1277")


def test_a_server_failing_again_and_again_stops_the_run_in_one_line(server, tmp_path, items):
    from helpers.language.frontier import FrontierUnavailable

    server.script.extend(Fault(status=500) for _ in range(20))
    pricer = FrontierPricer(config_for(server, tmp_path, max_retries=0, max_failures=3, concurrency=1))
    with pytest.raises(FrontierUnavailable) as error:
        Tester(pricer, items, verbose=False).run()
    assert len(server.chat_requests()) == 3  # not one request more
    assert str(error.value).startswith("3 requests in a row failed at http://127.0.0.1:")
    assert str(error.value).endswith("kept in " + str(tmp_path / "cache.sqlite") + ": run again to carry on")


def test_reaching_max_failures_cancels_the_requests_in_flight(server, tmp_path, items):
    import time

    from helpers.language.frontier import FrontierUnavailable

    server.script.extend([Fault(status=500)] + [Fault(delay=10) for _ in range(3)])  # one fails, three hang
    pricer = FrontierPricer(config_for(server, tmp_path, max_retries=0, max_failures=1, concurrency=4))
    start = time.monotonic()
    with pytest.raises(FrontierUnavailable, match="^1 request in a row failed"):
        Tester(pricer, items[:4], verbose=False).run()
    assert time.monotonic() - start < 8  # the three hanging requests were not waited for


def test_an_empty_reply_is_not_cached_so_the_next_run_asks_again(server, tmp_path, items):
    server.script.append(Fault(reply=""))
    first = Tester(FrontierPricer(config_for(server, tmp_path, concurrency=1)), items[:2], verbose=False).run()
    again = Tester(FrontierPricer(config_for(server, tmp_path, concurrency=1)), items[:2], verbose=False).run()
    assert first.failures == [True, False] and again.failures == [False, False]
    assert len(server.chat_requests()) == 3  # the empty one asked again; the other from the cache


@pytest.mark.parametrize(
    "body, content_type, why",
    [
        (b'{"id": "chatcmpl-1", "choices": [{"ind', "application/json", "a 200 reply whose JSON is cut short"),
        (b"<html><body>502 Bad Gateway</body></html>", "text/html", "a 200 reply that is no chat completion"),
    ],
)
def test_a_200_reply_that_is_no_chat_completion_is_a_counted_failure(
    server, tmp_path, items, capsys, body, content_type, why
):
    from helpers.offline.fake_openai import Fault

    server.script.append(Fault(body=body, content_type=content_type))
    pricer = FrontierPricer(config_for(server, tmp_path, max_retries=0, concurrency=1))
    result = Tester(pricer, items[:3], verbose=False).run()
    assert result.failures == [True, False, False] and pricer.stats.errors == 1
    assert why in capsys.readouterr().err


def test_a_failed_item_is_not_asked_again_in_the_same_run(server, tmp_path, items):
    server.script.append(Fault(status=500))
    pricer = FrontierPricer(config_for(server, tmp_path, max_retries=0, concurrency=1))
    first = Tester(pricer, items[:3], verbose=False).run()
    again = Tester(pricer, items[:3], verbose=False).run()
    assert len(server.chat_requests()) == 3
    assert first.failures == again.failures == [True, False, False]
    assert pricer.stats.errors == 1 and pricer.stats.calls == 3


def test_a_corrupt_cache_is_one_line_that_says_what_to_do(server, tmp_path, items):
    from helpers.plumbing.errors import DataError

    cache = tmp_path / "cache.sqlite"
    cache.write_bytes(b"this is not a database, it was cut short or overwritten" * 100)
    with pytest.raises(DataError) as error:
        FrontierPricer(config_for(server, tmp_path))
    assert str(error.value) == (
        f"the response cache {cache} cannot be used (file is not a database): "
        f"move it aside (mv {cache} {cache}.bad) or run with --no-cache"
    )


def test_a_cache_with_another_table_layout_is_one_line(server, tmp_path):
    import sqlite3

    from helpers.plumbing.errors import DataError

    cache = tmp_path / "cache.sqlite"
    with sqlite3.connect(cache) as db:  # another program's (or an older pricer's) database
        db.execute("CREATE TABLE replies (prompt TEXT, answer TEXT, created REAL)")
    with pytest.raises(DataError) as error:
        FrontierPricer(config_for(server, tmp_path))
    assert str(error.value) == (
        f"the response cache {cache} cannot be used (its replies table has the columns prompt, answer, created): "
        f"move it aside (mv {cache} {cache}.bad) or run with --no-cache"
    )


def test_the_pricer_sends_the_chat_a_notebook_writes(server, tmp_path, items):
    def messages_for(item: Item) -> list[dict[str, str]]:  # a learner's own prompt
        return [{"role": "user", "content": f"Guess the price of {item.title}"}, {"role": "assistant", "content": "$"}]

    pricer = FrontierPricer(config_for(server, tmp_path), messages_for, name="my prompt")
    Tester(pricer, items, size=3, verbose=False).run()
    sent = [json.loads(request["body"])["messages"] for request in server.chat_requests()]
    assert sorted(map(json.dumps, sent)) == sorted(json.dumps(messages_for(item)) for item in items[:3])
    assert pricer.__name__ == "my prompt"


def completion_body(content) -> bytes:
    """A 200 chat completion whose message content is `content`, as a server that strays from the
    API may send it (a JSON number, a dict)."""
    message = {"role": "assistant", "content": content}
    choice = {"index": 0, "finish_reason": "stop", "message": message}
    usage = {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}
    reply = {"id": "x", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini", "choices": [choice]}
    return json.dumps({**reply, "usage": usage}).encode()


def frontier_cli(server, tmp_path, size: int):
    """`python -m helpers frontier` on the first `size` bundled test items, one request at a time."""
    import os
    import subprocess
    import sys

    flags = ["--base-url", server.url, "--size", str(size), "--concurrency", "1", "--no-cache", "--json"]
    command = [sys.executable, "-m", "helpers", "frontier", *flags, "--leaderboard", str(tmp_path / "board.csv")]
    env = {**os.environ, "OPENAI_API_KEY": server.api_key, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(command, capture_output=True, text=True, env=env)


def test_a_reply_whose_content_is_a_number_is_read_as_that_price(server, tmp_path, items):
    server.script.append(Fault(body=completion_body(42)))
    run = frontier_cli(server, tmp_path, size=1)
    assert run.returncode == 0, run.stderr[-2000:]
    row = json.loads(run.stdout.splitlines()[-1])
    assert row["failures"] == 0 and row["average_error"] == pytest.approx(abs(42 - items[0].price), abs=0.01)


def test_a_reply_whose_content_is_no_text_is_a_counted_failure(server, tmp_path, items):
    server.script.extend([Fault(body=completion_body({"price": 42})), Fault(reply="50")])
    run = frontier_cli(server, tmp_path, size=2)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert json.loads(run.stdout.splitlines()[-1])["failures"] == 1
