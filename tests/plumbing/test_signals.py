"""Kills and signals met as a user meets them: `python -m helpers` in a real subprocess, sent a
real SIGKILL or SIGTERM mid-run; what it leaves behind (processes, files) is checked."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def children(pid: int) -> set[int]:
    """The living processes whose parent is `pid` (a zombie is dead)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            state, parent = stat.rsplit(")", 1)[1].split()[:2]
            if int(parent) == pid and state != "Z":
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_curates_workers_end_within_seconds_when_curate_is_killed(tmp_path, tiny_dir, raw_record, write_jsonl):
    raw = write_jsonl(tmp_path / "raw.jsonl", [raw_record] * 60_000)  # seconds of parsing for two workers
    line = [sys.executable, "-m", "helpers", "curate", "--input", str(raw), "--tokenizer", str(tiny_dir)]
    line += ["--out", str(tmp_path / "items.jsonl"), "--workers", "2", "--no-progress"]
    curate = subprocess.Popen(line, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    deadline = time.monotonic() + 60
    while len(workers := children(curate.pid)) < 2 and curate.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(workers) == 2 and curate.poll() is None, "curate ended before its workers could be seen"
    curate.kill()  # kill -9: no Python code of curate's runs again
    curate.wait()
    deadline = time.monotonic() + 10
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "curate's workers outlived it"


def test_sigterm_mid_write_leaves_the_previous_file_and_no_temporary(tmp_path, tiny_dir, raw_record, write_jsonl):
    """`kill` (SIGTERM, as a job scheduler or a stopping container sends) unwinds like Ctrl-C."""
    raw = write_jsonl(tmp_path / "raw.jsonl", [raw_record] * 60_000)
    out = tmp_path / "items.jsonl"
    out.write_text("the previous items\n")
    line = [sys.executable, "-m", "helpers", "curate", "--input", str(raw), "--tokenizer", str(tiny_dir)]
    line += ["--out", str(out), "--workers", "1", "--no-progress", "--overwrite"]
    curate = subprocess.Popen(line, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".items.jsonl.*.part")) and curate.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert curate.poll() is None, "curate ended before it could be stopped mid-write"
    curate.terminate()  # SIGTERM
    _, err = curate.communicate(timeout=30)
    assert curate.returncode == 128 + signal.SIGTERM and "Traceback" not in err
    assert err.strip().splitlines()[-1] == "terminated"
    assert out.read_text() == "the previous items\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["items.jsonl", "raw.jsonl"]
