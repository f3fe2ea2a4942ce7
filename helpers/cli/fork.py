"""`python -m helpers fork OWNER/NAME`: point every notebook's Colab badge and set-up cell, and
`REPO` in helpers/notebook.py (the owner of their text: `colab_url`, `repo_line`), at a fork."""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

from helpers.notebook import colab_url, repo_line
from helpers.plumbing import paths
from helpers.plumbing.errors import ConfigError
from helpers.plumbing.files import atomic_path, readable

GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")  # a user or organisation: at most 39, no leading -
GITHUB_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")  # GitHub turns any other character into -, so refuse it here
GITHUB_ADDRESSES = ("https://github.com/", "http://github.com/", "github.com/", "git@github.com:")


def github_repo(text: str) -> str:
    """`text` as GitHub names the repository: "owner/name", from that or from the clone address
    (`https://github.com/owner/name.git`, `git@github.com:owner/name.git`). GitHub drops a
    trailing `.git` from a new repository's name, so `owner/name.git` points at `owner/name`:
    badges written with `.git` would lead nowhere. Anything else GitHub would not take is one
    line."""
    repo = text.strip()
    for address in GITHUB_ADDRESSES:
        if repo.lower().startswith(address):
            repo = repo[len(address) :]
    repo = repo.rstrip("/")
    repo = repo[: -len(".git")] if repo.lower().endswith(".git") else repo
    owner, _, name = repo.partition("/")
    if not (GITHUB_OWNER.fullmatch(owner) and GITHUB_NAME.fullmatch(name)) or name in (".", ".."):
        raise ConfigError(f"{text!r} is not a GitHub repository's owner/name, such as learner/pricer")
    return repo


def fork(repo: str, root: Path = paths.ROOT) -> list[Path]:
    """Point every notebook's Colab badge and set-up cell (both twins), and `REPO` here, at
    `repo`, a fork's "owner/name": `python -m helpers fork owner/name`. Returns the files it
    changed; running it again with the same name changes none.

    All or nothing: every file is read and its new version written beside it before any is
    renamed into place, so a file that cannot be read or written leaves every file as it was.
    The names are ASCII, so the files are changed as bytes: an encoding that is not UTF-8, CRLF
    line ends and everything else but the name stay byte for byte."""

    repo = github_repo(repo)
    here = root / "helpers" / "notebook.py"
    notebooks = [*sorted(root.glob("notebooks/week*/*.ipynb")), *sorted(root.glob("notebooks/week*/*.py"))]
    source = here.read_bytes() if here.is_file() else b""
    current = re.search(rb'^REPO = "([^"\r\n]+)"', source, re.MULTILINE)
    if current is None or not notebooks:
        raise ConfigError(f"{root} is not a pricer repository: no notebooks, or no REPO in helpers/notebook.py")
    old, new = current[1].decode("ascii"), repo
    changes = []
    for path in [*notebooks, here]:
        data = readable(path, "notebook").read_bytes()
        forked = data.replace(colab_url(old).encode(), colab_url(new).encode())
        forked = forked.replace(repo_line(old).encode(), repo_line(new).encode())  # a .py file, and helpers'
        escaped = repo_line(old).replace('"', '\\"'), repo_line(new).replace('"', '\\"')
        forked = forked.replace(escaped[0].encode(), escaped[1].encode())  # inside an .ipynb's JSON strings
        if forked != data:
            changes.append((path, forked))
    with contextlib.ExitStack() as stack:
        for path, forked in reversed(changes):  # renamed last in, first out: helpers/notebook.py last
            temporary = stack.enter_context(atomic_path(path))
            temporary.write_bytes(forked)
            shutil.copymode(path, temporary)
        stack.pop_all().close()  # each is whole: now they are renamed into place, one after another
    return [path for path, _ in changes]
