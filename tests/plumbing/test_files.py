"""Writes that a kill cannot cut short, and reads that name the file they cannot do."""

import errno
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from helpers.plumbing.errors import ConfigError, DataError
from helpers.plumbing.files import atomic_folder, atomic_open, read_text, readable, refuse_overwrite

WRITER = """
import sys
from helpers.plumbing import paths
from helpers.data.item_files import save_items
from helpers.data.item_files import load_items

items = load_items(paths.TRAIN_SAMPLE)[0]
target, size = sys.argv[1], int(sys.argv[2])
print("ready", flush=True)
while True:  # write the file again and again, until killed
    save_items(items[:size], target)
"""


def test_a_writer_killed_mid_write_leaves_the_whole_previous_file(tmp_path):
    target = tmp_path / "items.jsonl"
    for attempt in range(5):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target), "2973"], stdout=subprocess.PIPE)
        assert writer.stdout.readline() == b"ready\n"
        time.sleep(0.3 + 0.17 * attempt)  # somewhere inside a write
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        lines = target.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 2973 and all(json.loads(line)["title"] for line in lines)


def test_an_error_inside_the_block_leaves_the_old_file(tmp_path):
    path = tmp_path / "board.csv"
    path.write_text("old\n")
    with pytest.raises(ZeroDivisionError), atomic_open(path) as handle:
        handle.write("new, half written")
        raise ZeroDivisionError
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["board.csv"]  # no temporary file left behind


def test_a_written_file_gets_the_usual_permissions(tmp_path):
    with atomic_open(tmp_path / "a.txt") as handle:
        handle.write("x")
    (tmp_path / "b.txt").write_text("x")
    assert (tmp_path / "a.txt").stat().st_mode == (tmp_path / "b.txt").stat().st_mode


def test_a_folder_is_filled_whole(tmp_path):
    with atomic_folder(tmp_path / "model") as folder:
        (folder / "weights.bin").write_bytes(b"1234")
        (folder / "config.json").write_text("{}")
        assert not (tmp_path / "model").exists()  # nothing there until the block is done
    assert sorted(os.listdir(tmp_path / "model")) == ["config.json", "weights.bin"]
    assert [name for name in os.listdir(tmp_path) if name.startswith(".")] == []


def test_reading_names_the_file_it_cannot_read(tmp_path):
    with pytest.raises(DataError, match=f"^no such file: {tmp_path / 'none.csv'}$"):
        readable(tmp_path / "none.csv")
    with pytest.raises(DataError, match=f"^{tmp_path} is a folder, not a CSV file$"):
        read_text(tmp_path, "CSV file")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("price\ncafé,12\n".encode("latin-1"))
    with pytest.raises(DataError, match=f"^{latin} is not UTF-8 text \\(byte 9\\): save it as UTF-8$"):
        read_text(latin)


def test_an_existing_output_is_kept_unless_overwrite_is_given(tmp_path):
    path = tmp_path / "out.jsonl"
    refuse_overwrite(path, overwrite=False)  # nothing there yet
    path.write_text("x")
    with pytest.raises(ConfigError, match="out.jsonl exists: pass --overwrite to replace it"):
        refuse_overwrite(path, overwrite=False)
    refuse_overwrite(path, overwrite=True)


@pytest.mark.parametrize(
    "number, advice",
    [
        (errno.ENOSPC, "free some space"),
        (errno.EROFS, "choose a folder you can write"),
        (errno.EACCES, "choose a folder"),
    ],
)
def test_a_disk_that_cannot_take_a_file_is_one_line_naming_it(number, advice):
    from helpers.plumbing.files import cannot_write

    line = cannot_write(OSError(number, os.strerror(number), "/content/drive/MyDrive/pricer/leaderboard.csv"))
    assert line.startswith(f"cannot write /content/drive/MyDrive/pricer/leaderboard.csv: {os.strerror(number)}; ")
    assert advice in line


def test_other_os_errors_stay_bugs_with_their_traceback():
    from helpers.plumbing.files import cannot_write

    assert cannot_write(OSError(errno.EBADF, os.strerror(errno.EBADF))) is None
