"""Two frontier runs sharing one response cache (two notebooks, a notebook and the command line):
each request is paid for once, by whichever run asks first; the other takes its answer."""

import json
import os
import subprocess
import sys

from helpers.models.frontier import ResponseCache

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
