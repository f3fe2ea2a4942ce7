"""`python -m helpers fork OWNER/NAME`, as a learner runs it on a copy of the repository: every
file or none, the name as GitHub takes it, and every byte but the name kept."""

import os
import shutil
import subprocess
import sys

import pytest

from helpers.notebook import REPO
from helpers.plumbing import paths

ENV = {**os.environ, "PYTHONPATH": str(paths.ROOT)}


@pytest.fixture
def clone(tmp_path):
    """A copy of the repository's notebooks and helpers/notebook.py, the files fork changes."""
    shutil.copytree(paths.ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns(".*"))
    (tmp_path / "helpers").mkdir()
    shutil.copy(paths.ROOT / "helpers" / "notebook.py", tmp_path / "helpers" / "notebook.py")
    return tmp_path


def files(root) -> dict:
    """Every file under `root`, by path, with its bytes."""
    return {path: path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def fork(root, *args: str, **popen) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "helpers", "fork", *args, "--root", str(root)]
    return subprocess.run(command, capture_output=True, env=ENV, cwd=root, **popen)


def test_a_notebook_with_a_latin1_byte_is_forked_with_the_byte_kept(clone):
    script = clone / "notebooks" / "week6" / "day1_explore.py"
    script.write_bytes(script.read_bytes() + b"# caf\xe9 (saved by an editor in Latin-1)\n")
    run = fork(clone, "learner/my-pricer")
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    assert script.read_bytes().endswith(b"# caf\xe9 (saved by an editor in Latin-1)\n")
    assert b"github/learner/my-pricer/" in script.read_bytes() and REPO.encode() not in script.read_bytes()


def test_crlf_line_ends_stay_crlf(clone):
    script = clone / "notebooks" / "week7" / "day2_base_model.py"
    before = script.read_bytes().replace(b"\n", b"\r\n")
    script.write_bytes(before)
    assert fork(clone, "learner/my-pricer").returncode == 0
    assert script.read_bytes() == before.replace(f"/{REPO}/".encode(), b"/learner/my-pricer/").replace(
        f'"{REPO}"'.encode(), b'"learner/my-pricer"'
    )


def test_a_file_that_cannot_be_written_leaves_every_file_as_it_was(clone):
    """The last file fork writes (helpers/notebook.py) exceeds a real file size limit, after every
    notebook's new version is ready: one line, and every file byte for byte, no temporary left."""
    import resource
    import signal

    here = clone / "helpers" / "notebook.py"
    here.write_bytes(here.read_bytes() + b"#" * 300_000 + b"\n")
    before = files(clone)

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails (EFBIG) rather than killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    run = fork(clone, "learner/my-pricer", preexec_fn=small_disk)
    assert (run.returncode, run.stdout) == (2, b"")
    assert run.stderr.decode() == (
        f"error: cannot write {here}: File too large; free some space, or write elsewhere "
        "(--output, PRICER_RESULTS or PRICER_STORE)\n"
    )
    assert files(clone) == before


@pytest.mark.parametrize("given", ["learner/my-pricer.git", "https://github.com/learner/my-pricer.git"])
def test_a_name_ending_in_git_points_where_github_puts_the_fork(clone, given):
    """GitHub drops `.git` from a new repository's name: the badges point at learner/my-pricer."""
    run = fork(clone, given)
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    assert (
        run.stdout.decode()
        .splitlines()[-1]
        .endswith(" files now point at learner/my-pricer: commit and push them to your fork")
    )
    texts = [
        path.read_text(encoding="utf-8")
        for path in [*clone.glob("notebooks/week*/*.*"), clone / "helpers" / "notebook.py"]
    ]
    assert all("learner/my-pricer" in text and "my-pricer.git" not in text for text in texts)


@pytest.mark.parametrize("given", ["learner/my pricer", "my_name/pricer", "learner/.git", "learner/..", "learner/"])
def test_a_name_github_would_not_take_is_one_line_and_changes_nothing(clone, given):
    before = files(clone)
    run = fork(clone, given)
    assert (run.returncode, run.stdout) == (2, b"")
    assert run.stderr.decode() == f"error: {given!r} is not a GitHub repository's owner/name, such as learner/pricer\n"
    assert files(clone) == before
