"""Two frontier runs sharing one response cache (two notebooks, a notebook and the command line):
each request is paid for once, by whichever run asks first; the other takes its answer."""

import json
import os
import subprocess
import sys

from helpers.language.frontier import ResponseCache

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def frontier(server, cache, board) -> subprocess.Popen:
    """`python -m helpers frontier` of 60 items, started and left running."""
    line = [sys.executable, "-m", "helpers", "frontier", "--base-url", server.url, "--size", "60", "--json"]
    line += ["--cache", str(cache), "--leaderboard", str(board)]
    env = {**ENV, "OPENAI_API_KEY": server.api_key}
    return subprocess.Popen(line, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_two_runs_sharing_a_cache_pay_for_each_request_once(tmp_path):
    from helpers.offline.fake_openai import FakeOpenAI, Fault

    cache = tmp_path / "cache.sqlite"
    with FakeOpenAI() as server:
        server.script.extend(Fault(delay=0.05) for _ in range(200))  # a server that takes its time, as OpenAI's does
        runs = [frontier(server, cache, tmp_path / f"board{n}.csv") for n in range(2)]
        outs = [run.communicate(timeout=300) for run in runs]
        sent = len(server.chat_requests())  # before: 100 requests for the 60 items
    assert all(run.returncode == 0 for run in runs), [err[-2000:] for _, err in outs]
    rows = [json.loads(out) for out, _ in outs]
    assert sent == 60
    assert sum(row["calls"] for row in rows) == 60 and sum(row["cached"] for row in rows) == 60
    assert rows[0]["average_error"] == rows[1]["average_error"]  # the same answers, whoever asked


def test_a_claim_left_by_a_killed_run_does_not_hold_up_the_next(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = f"{ResponseCache.OWNER.rpartition(':')[0]}:{int(gone.stdout)}"
    cache = ResponseCache(tmp_path / "cache.sqlite")
    assert cache.claim("k", 600)
    cache.db.execute("UPDATE claims SET owner = ?", (dead,))  # as a run killed mid-request left it
    cache.db.commit()
    assert cache.claim("k", 600)


def test_a_request_answered_since_a_run_looked_is_not_claimed_again(tmp_path):
    cache = ResponseCache(tmp_path / "cache.sqlite")
    # run A looked and found nothing; run B then answered and released its claim
    ResponseCache(tmp_path / "cache.sqlite").put(
        "k", {"reply": "Price is $10", "prompt_tokens": 1, "completion_tokens": 1}
    )
    assert not cache.claim("k", 600)  # A does not send it again: the answer is in the cache


def test_an_items_rows_own_system_message_is_said_and_counted(tmp_path):
    """A stray `system` column in a test file changes the frontier prompt of its items: never unsaid."""
    from helpers.offline.fake_openai import FakeOpenAI
    from helpers.plumbing import paths

    rows = [json.loads(line) for line in paths.TEST_SAMPLE.read_text().splitlines()[:3]]
    rows[1]["system"] = "You are a pirate."
    test = tmp_path / "test.jsonl"
    test.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with FakeOpenAI() as server:
        line = [sys.executable, "-m", "helpers", "frontier", "--base-url", server.url, "--test", str(test)]
        line += ["--size", "3", "--no-cache", "--leaderboard", str(tmp_path / "board.csv")]
        run = subprocess.run(line, capture_output=True, text=True, env={**ENV, "OPENAI_API_KEY": server.api_key})
        systems = [json.loads(request["body"])["messages"][0]["content"] for request in server.chat_requests()]
    assert run.returncode == 0, run.stderr[-2000:]
    assert (
        f"{test}: items carry a prompt of their own in place of the course's (`system` in 1 of 3 items): their "
        "prompts use it; remove those fields for the course's prompt"
    ) in run.stderr.splitlines()
    assert systems.count("You are a pirate.") == 1
