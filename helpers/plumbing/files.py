"""Files in and out: every write is atomic, every read names the file when it cannot be done.

A file is written to a temporary file beside it and renamed into place, so a run killed at any
moment leaves the previous complete file or none, never a truncated one that a later stage
trusts. A file that cannot be read (missing, a folder, the wrong encoding) is one line that
names it.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from helpers.plumbing.errors import ConfigError, DataError

_UMASK = os.umask(0)
os.umask(_UMASK)
_MODE = 0o666 & ~_UMASK  # what open() would have given a new file


def refuse_unwritable(path: str | Path, folder: bool = False) -> None:
    """An output that is a folder where a file is written (or a file where a folder is), or that
    lies under a file (`notes.txt/x`), is one line, before any work."""
    path = Path(path)
    if path.is_dir() and not folder:
        raise ConfigError(f"{path} is a folder: name a file to write there")
    if path.is_file() and folder:
        raise ConfigError(f"{path} is a file: name a folder to write there")
    above = next((parent for parent in path.parents if parent.exists()), None)
    if above is not None and not above.is_dir():
        raise ConfigError(f"cannot write {path}: {above} is a file, not a folder")


def make_room(path: Path, folder: bool = False) -> None:
    """The folders above `path`, made, once `refuse_unwritable` finds nothing in the way."""
    refuse_unwritable(path, folder)
    path.parent.mkdir(parents=True, exist_ok=True)


def through_links(path: str | Path) -> Path:
    """The file a write to `path` is meant for: a symbolic link's target (as `open` writes
    through a link), so replacing it never puts a copy in the link's place."""
    path = Path(path)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path` (beside a link's target): write it, and on success it
    replaces `path`."""
    path = through_links(path)
    make_room(path)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(handle)
    temporary = Path(name)
    temporary.chmod(_MODE)  # mkstemp makes it private
    try:
        yield temporary
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except OSError as error:
        if error.filename in (None, str(temporary)) and error.errno in NO_ROOM | NOT_WRITABLE:
            error.filename = str(path)  # a write to a full disk names no file: name the one it was for
        raise
    finally:
        temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs) -> Iterator[IO]:
    """`open(path, mode)` that only replaces `path` once the block finishes without error."""
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
    with atomic_path(path) as temporary, open(temporary, mode, **kwargs) as handle:
        yield handle


SET_MARK = ".{}.set-unfinished"  # beside each file of a set while the set is renamed into place


def set_mark(path: Path) -> Path:
    return path.with_name(SET_MARK.format(path.name))


@contextlib.contextmanager
def atomic_set(paths: Sequence[str | Path]) -> Iterator[list[Path]]:
    """Temporaries for files that only hold together (a split's train and test): write them all,
    and on success they replace `paths`. A kill between two renames would leave a new train beside
    an old test, sharing items; so a mark lies beside each file until all are in, and a reader
    that finds one refuses the file (`refuse_unfinished_set`)."""
    targets = [through_links(path) for path in paths]
    for target in targets:
        make_room(target)
    temporaries: list[Path] = []
    renaming = False
    try:
        for target in targets:
            handle, name = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=f".part{target.suffix}"
            )
            os.close(handle)
            temporaries.append(Path(name))
        try:
            yield temporaries
        except OSError as error:  # a full disk names the temporary: name the file it was for
            named = {str(temporary): str(target) for temporary, target in zip(temporaries, targets)}
            error.filename = named.get(error.filename, error.filename)
            raise
        for temporary in temporaries:
            temporary.chmod(_MODE)
            with open(temporary, "rb+") as written:
                os.fsync(written.fileno())
        others = "\n".join(map(str, targets))
        for target in targets:
            set_mark(target).write_text(others, encoding="utf-8")
        renaming = True
        for temporary, target in zip(temporaries, targets):
            os.replace(temporary, target)
        for target in targets:
            set_mark(target).unlink()
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
        if not renaming:
            for target in targets:
                set_mark(target).unlink(missing_ok=True)


def refuse_unfinished_set(path: str | Path) -> None:
    """A file of a set whose writing was cut off (see `atomic_set`) is one line, never read."""
    mark = set_mark(Path(path))
    if mark.exists():
        raise DataError(
            f"{path} is one file of a set whose writing was cut off (a split stopped between its files): it may "
            f"share items with the others; write the set again (split --overwrite), or delete {mark} if you are sure"
        )


def readable(path: str | Path, what: str = "file") -> Path:
    """`path`, after checking that it is a file that exists; else one line naming it."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a {what}")
    if not path.exists():
        raise DataError(f"no such file: {path}")
    return path


def read_text(path: str | Path, what: str = "file") -> str:
    """The whole file as UTF-8 text; a file in another encoding is one line naming it."""
    path = readable(path, what)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not UTF-8 text (byte {error.start}): save it as UTF-8") from None


def read_csv(path: str | Path, what: str = "CSV file") -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header, and each row with the line it starts on (a quoted cell may span lines), of a
    CSV file as a person's spreadsheet may have saved it: a UTF-8 BOM dropped, `;` read as the
    delimiter when the header uses it. A field too long for the csv module is one line naming
    the file and line."""
    text = read_text(path, what).removeprefix("\ufeff")
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        fields = list(reader.fieldnames or [])
        while True:
            start = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                return fields, rows
            rows.append((start, row))
    except csv.Error as error:
        raise DataError(f"{path}, line {reader.line_num + 1}: {error}") from None  # the line it stopped in


def refuse_overwrite(path: str | Path, overwrite: bool, flag: str = "--overwrite") -> None:
    """A stage does not replace an existing output unless it is told to."""
    refuse_unwritable(path)
    if not overwrite and Path(path).exists():
        raise ConfigError(f"{path} exists: pass {flag} to replace it, or choose another path")


@contextlib.contextmanager
def atomic_folder(path: str | Path, last: tuple[str, ...] = ("config.json",)) -> Iterator[Path]:
    """A temporary folder beside `path`: fill it, and on success its files are renamed into
    `path` (replacing any of the same name), the `last` ones (what a reader checks for) last."""
    path = Path(path)
    make_room(path, folder=True)
    temporary = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part"))
    try:
        yield temporary
        path.mkdir(exist_ok=True)
        files = sorted(temporary.rglob("*"), key=lambda file: (file.name in last, str(file)))
        for file in files:
            if file.is_file():
                target = path / file.relative_to(temporary)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(file, target)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def save_figure(figure, path: str | Path | None):
    """Write `figure` as a PNG at `path` (atomically), when a path is given; return the figure."""
    if path:
        with atomic_path(path) as temporary:
            figure.savefig(temporary, format="png", dpi=100, bbox_inches="tight")
    return figure


NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}  # a full disk, a quota, a file size limit
NOT_WRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM}  # a read-only disk or folder


_QUOTED_OS_ERROR = re.compile(r"\(os error (\d+)\)")  # how Rust's std::io::Error ends its message


@contextlib.contextmanager
def quoted_disk_errors(path: str | Path) -> Iterator[None]:
    """A full or read-only disk met by a library that writes in its own code and only quotes the
    OS's error in an exception of its own (safetensors, in Rust: `Exception: ... I/O error: File
    too large (os error 27)`), raised as the OSError it is, naming `path`: the one `cannot write`
    line. Any other error goes on as it was, traceback and all."""
    try:
        yield
    except OSError:
        raise
    except Exception as error:
        found = _QUOTED_OS_ERROR.search(str(error))
        code = int(found[1]) if found else None
        if code not in NO_ROOM | NOT_WRITABLE:
            raise
        raise OSError(code, os.strerror(code), str(path)) from None


def cannot_write(error: OSError) -> str | None:
    """The one line for a disk that cannot take a file (full, read-only, not ours), or None for
    any other error. Every file is written atomically, so nothing is left half-written."""
    where = f"cannot write {error.filename}" if error.filename else "cannot write"
    elsewhere = "--output, PRICER_RESULTS or PRICER_STORE"
    if error.errno in NO_ROOM:
        return f"{where}: {error.strerror}; free some space, or write elsewhere ({elsewhere})"
    if error.errno in NOT_WRITABLE:
        return f"{where}: {error.strerror}; choose a folder you can write ({elsewhere})"
    return None
