"""What must outlive one machine: the curated data, the leaderboard, checkpoints and adapters.

In Colab every notebook runs on a machine of its own, which forgets everything when the runtime
goes. `PRICER_STORE` names the place that remembers:

- a folder: a plain path on a local box or in tests, or a mounted Google Drive folder in Colab
  (`/content/drive/MyDrive/pricer`); files and folders are copied in whole (atomically);
- `hf://NAMESPACE`, or just `hf` for your own: one private data set repo, NAMESPACE/pricer-store,
  on the Hugging Face hub (the course's way to carry data and adapters between machines);
- unset: the results folder itself, so one machine needs nothing more.

Keys are relative paths: `train.jsonl`, `test.jsonl`, `leaderboard.csv`,
`runs/<run>/checkpoint-<step>/`, `runs/<run>/adapter/`, `runs/latest`.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from helpers.plumbing import paths
from helpers.plumbing.errors import ConfigError, DataError
from helpers.plumbing.files import atomic_path
from helpers.plumbing.hub import explain

ENV = "PRICER_STORE"
HUB_PREFIX = "hf"
HUB_REPO = "pricer-store"
EDIT_TRIES = 8  # a hub edit re-reads and tries again this often while other machines commit first
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")  # an address (gs://, s3://, https://): never a folder name
CONFLICT = (409, 412)  # the hub's answers to a commit whose parent is no longer the newest
T = TypeVar("T")


class Store:
    """A place for files and folders, by key. Subclasses say where; `spec` names it, as
    `open_store` takes it (a training run's `TrainConfig.store`)."""

    spec: str

    def get(self, key: str) -> Path | None:
        """A local path holding the file or folder at `key`, or None when there is none."""
        raise NotImplementedError

    def put(self, local: str | Path, key: str) -> None:
        """Copy a file or a folder in, whole, replacing what was at `key`."""
        raise NotImplementedError

    def names(self, key: str) -> list[str]:
        """The names directly under the folder at `key` (empty when there is none)."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def edit(self, key: str, change: Callable[[Path], T]) -> T:
        """Rewrite the file at `key`: `change` is given a local path, reads what is there (if
        anything) and replaces it; the store then keeps the new file. On the hub `change` may run
        more than once: when another machine commits first, it runs again on that machine's file,
        so no machine's edit is lost."""
        raise NotImplementedError

    def read_text(self, key: str) -> str | None:
        path = self.get(key)
        return path.read_text(encoding="utf-8") if path else None

    def write_text(self, text: str, key: str) -> None:
        with tempfile.TemporaryDirectory() as folder:
            local = Path(folder) / Path(key).name
            local.write_text(text, encoding="utf-8")
            self.put(local, key)


class FolderStore(Store):
    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser()
        self.spec = str(self.root)

    def __str__(self) -> str:
        return str(self.root)

    def get(self, key: str) -> Path | None:
        path = self.root / key
        return path if path.exists() else None

    def put(self, local: str | Path, key: str) -> None:
        local, target = Path(local), self.root / key
        if local.resolve() == target.resolve():
            return
        if local.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part"))
            try:
                shutil.copytree(local, staging, dirs_exist_ok=True)
                if target.exists():  # a folder cannot be renamed over another: move the old one aside
                    old = staging.with_suffix(".old")
                    os.replace(target, old)
                    os.replace(staging, target)
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    os.replace(staging, target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        else:
            with atomic_path(target) as temporary:
                shutil.copyfile(local, temporary)

    def names(self, key: str) -> list[str]:
        folder = self.root / key
        return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []

    def delete(self, key: str) -> None:
        path = self.root / key
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)

    def edit(self, key: str, change: Callable[[Path], T]) -> T:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        return change(path)  # writers on one machine take turns by `change`'s own file lock


class HubStore(Store):
    """One private data set repo on the hub. Reads go through the hub cache."""

    def __init__(self, namespace: str | None = None):
        from huggingface_hub import HfApi

        self.api = HfApi()
        if not namespace:
            try:
                namespace = self.api.whoami()["name"]
            except OSError as error:  # not logged in, offline
                raise ConfigError(f"PRICER_STORE=hf needs a hub login (HF_TOKEN): {explain(error)}") from None
        self.repo = f"{namespace}/{HUB_REPO}"
        self.spec = f"{HUB_PREFIX}://{namespace}"
        self._created = False

    def __str__(self) -> str:
        return f"hf://{self.repo} (a private data set)"

    def _create(self) -> None:
        if not self._created:
            self.api.create_repo(self.repo, repo_type="dataset", private=True, exist_ok=True)
            self._created = True

    def get(self, key: str) -> Path | None:
        from huggingface_hub import hf_hub_download, snapshot_download
        from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError

        try:
            return Path(hf_hub_download(self.repo, key, repo_type="dataset"))
        except (EntryNotFoundError, RepositoryNotFoundError):
            pass
        except OSError:  # a folder is no file; offline and not cached
            pass
        if not self.names(key):
            return None
        folder = snapshot_download(self.repo, repo_type="dataset", allow_patterns=[f"{key}/*", f"{key}/**"])
        return Path(folder) / key

    def put(self, local: str | Path, key: str) -> None:
        with self._reaching():
            self._put(Path(local), key)

    def _put(self, local: Path, key: str) -> None:
        self._create()
        if local.is_dir():
            self.api.upload_folder(
                repo_id=self.repo,
                repo_type="dataset",
                folder_path=str(local),
                path_in_repo=key,
                delete_patterns=["*"],
                commit_message=f"pricer: {key}",
            )
        else:
            self._upload_file(local, key)

    def _upload_file(self, local: Path, key: str, parent: str | None = None) -> None:
        """One file in one commit; with `parent`, only if that is still the newest commit."""
        self.api.upload_file(
            repo_id=self.repo,
            repo_type="dataset",
            path_or_fileobj=str(local),
            path_in_repo=key,
            commit_message=f"pricer: {key}",
            parent_commit=parent,
        )

    def names(self, key: str) -> list[str]:
        from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError

        try:
            with self._reaching():
                tree = self.api.list_repo_tree(self.repo, path_in_repo=key, repo_type="dataset")
                return sorted(Path(entry.path).name for entry in tree)
        except (EntryNotFoundError, RepositoryNotFoundError):
            return []

    @contextlib.contextmanager
    def _reaching(self) -> Iterator[None]:
        """A hub out of reach (offline, no network, a refused token) is one line naming the store."""
        from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError

        try:
            yield
        except (EntryNotFoundError, RepositoryNotFoundError):
            raise
        except OSError as error:
            status = getattr(getattr(error, "response", None), "status_code", None)
            if status in (401, 403):  # reached, and refused: a read-only token, or another's namespace
                raise DataError(
                    f"the store {self.spec} refused this token ({status}): set HF_TOKEN to a token with write "
                    "access to that namespace"
                ) from None
            reason = explain(error).split(": pass a local folder")[0]
            offline = "a folder in PRICER_STORE works offline"
            raise DataError(f"cannot reach the store {self.spec}: {reason}; {offline}") from None

    def delete(self, key: str) -> None:
        with self._reaching():
            self.api.delete_folder(key, repo_id=self.repo, repo_type="dataset", commit_message=f"pricer: remove {key}")

    def edit(self, key: str, change: Callable[[Path], T]) -> T:
        """Optimistic concurrency, the hub's way: read the file at the newest commit, change it,
        and commit with that commit as the parent. When another machine committed in between,
        the hub refuses (409/412) and the edit starts again from the file as they left it."""
        from huggingface_hub.errors import HfHubHTTPError

        with self._reaching():
            self._create()
            for attempt in range(EDIT_TRIES):
                head = self.api.repo_info(self.repo, repo_type="dataset").sha
                with tempfile.TemporaryDirectory() as folder:
                    local = Path(folder) / Path(key).name
                    self._download(key, head, local)
                    outcome = change(local)
                    if not local.exists():
                        return outcome
                    try:
                        self._upload_file(local, key, parent=head)
                        return outcome
                    except HfHubHTTPError as error:
                        if error.response is None or error.response.status_code not in CONFLICT:
                            raise
                time.sleep(random.uniform(0.2, 1.0) * (attempt + 1))  # apart, so two retries do not meet again
        raise DataError(f"{key} in the store {self.spec}: other machines committed first {EDIT_TRIES} times; run again")

    def _download(self, key: str, revision: str, local: Path) -> None:
        """The file at `key` as it was at `revision`, copied to `local`; nothing when there is none."""
        from huggingface_hub.errors import EntryNotFoundError

        try:
            found = self.api.hf_hub_download(self.repo, key, repo_type="dataset", revision=revision)
        except EntryNotFoundError:
            return
        shutil.copyfile(found, local)


def open_store(spec: str | None = None) -> Store:
    """The store named by `spec`, else by PRICER_STORE, else the results folder: the one place
    that the default is worked out. Everything else is given the store it uses."""
    spec = spec or os.environ.get(ENV) or ""
    if spec == HUB_PREFIX or spec.startswith(f"{HUB_PREFIX}://"):
        return HubStore(spec.removeprefix(HUB_PREFIX).removeprefix("://") or None)
    if spec.startswith(("hf:", "hub:")):
        raise ConfigError(f"{ENV}={spec!r}: write hf://NAMESPACE, or hf for your own namespace")
    if SCHEME.match(spec):  # else `gs://b` is a folder `gs:` here, gone with the machine
        raise ConfigError(
            f"{ENV}={spec!r} is no store pricer can reach: it takes a folder (in Colab a mounted Drive "
            f"folder, /content/drive/MyDrive/pricer), hf://NAMESPACE, or hf for your own namespace"
        )
    root = Path(spec or paths.results()).expanduser()
    if root.is_symlink() and not root.exists():  # a loop, or a link to a folder no longer there
        raise ConfigError(f"the store {root} is a link that leads to no folder: set {ENV} to a folder")
    if root.exists() and not root.is_dir():
        raise ConfigError(f"the store {root} is a file, not a folder: set {ENV} to a folder (or move the file)")
    return FolderStore(root)


def missing(store: Store, key: str, notebook: str, fallback: str) -> DataError:
    """The one-line error for an input a notebook needs and the store does not hold."""
    return DataError(f"{key} is not in the store {store}: run {notebook} first, or {fallback}")
