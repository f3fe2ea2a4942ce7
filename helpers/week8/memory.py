"""The memory of opportunities already raised, kept in the store so that no deal is raised twice.

One opportunity a line (`deals/memory.jsonl` in the store): a deal is known by its URL, which is
how the scanner recognises it in tomorrow's feed whatever the model writes about it then, so the
memory keeps the first opportunity raised for each URL. It lives in the store, as the leaderboard
does: it survives a restart, and a second machine (or a second app) adds to the same memory,
each rewrite made whole under the file's lock. A line that cannot be read (a file cut short, an
edit by hand) is counted and reported once, the damaged file is kept beside it, and the rest is used.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from helpers.plumbing.files import atomic_open
from helpers.plumbing.store import Store
from helpers.week8.deals import Opportunity

KEY = "deals/memory.jsonl"  # the memory's place in the store


class Memory:
    """The opportunities raised so far, oldest first, read from and written to `store`."""

    def __init__(self, store: Store, log: Callable[[str], None] = print, key: str = KEY):
        self.store, self.log, self.key = store, log, key
        self.said: set[tuple] = set()  # the damaged files already reported: the app reads the memory often

    def read(self) -> list[Opportunity]:
        path = self.store.get(self.key)
        return self._parse(path) if path else []

    def urls(self) -> set[str]:
        return {opportunity.deal.url for opportunity in self.read()}

    def add(self, found: list[Opportunity]) -> list[Opportunity]:
        """Remember `found`, save those whose URL is known already; returns those added."""
        from filelock import FileLock

        added: list[Opportunity] = []

        def merge(local: Path) -> None:
            with FileLock(f"{local}.lock", timeout=120):
                known = self._parse(local) if local.exists() else []
                urls = {opportunity.deal.url for opportunity in known}
                added[:] = [o for o in _unique(found) if o.deal.url not in urls]
                if not added:
                    return
                with atomic_open(local, "w") as handle:
                    handle.writelines(o.model_dump_json() + "\n" for o in [*known, *added])

        self.store.edit(self.key, merge)
        return added

    def _parse(self, path: Path) -> list[Opportunity]:
        opportunities, bad = [], 0
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                opportunities.append(Opportunity.model_validate(json.loads(line)))
            except (json.JSONDecodeError, ValidationError):
                bad += 1
        state = (str(path), path.stat().st_size, path.stat().st_mtime_ns)
        if bad and state not in self.said:
            self.said.add(state)
            aside = path.with_name(f"{path.name}.damaged-{state[2]}")  # each damaged state its own copy
            if not aside.exists():
                shutil.copyfile(path, aside)
            self.log(
                f"memory {self.key}: {bad} line{'s' if bad > 1 else ''} could not be read (a file cut short?) and "
                f"{'were' if bad > 1 else 'was'} left out; {len(opportunities)} kept; the file as it was: {aside}"
            )
        return opportunities


def _unique(opportunities: list[Opportunity]) -> list[Opportunity]:
    seen: dict[str, Opportunity] = {}
    for opportunity in opportunities:
        seen.setdefault(opportunity.deal.url, opportunity)
    return list(seen.values())
