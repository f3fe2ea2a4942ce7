"""The OpenAI Batch API, as the 2025 edition's week 6 day 2 uses it for its summaries.

The chat requests go as one JSONL file, a row each (`custom_id`, `method`, `url`, `body`, the
body exactly what a chat call would send), uploaded with purpose "batch"; `batches.create`
asks for them at /v1/chat/completions within the 24-hour window; `batches.retrieve` says where
the batch is; once it is `completed` the output file holds one line per answered request,
found by its custom_id, and the error file one per request that failed. OpenAI charges half
the price of the same calls made one at a time, and promises an answer within 24 hours.

The batch's id is kept in the store as soon as it exists, with a fingerprint of its requests:
after a lost runtime `pick_up` finds the same batch again rather than paying twice, and a
changed list of requests starts a new one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from helpers.core.items import Item
from helpers.core.prices import reply_text
from helpers.core.prompts import summary_messages
from helpers.language.frontier import Chat, cost_of, guarded
from helpers.plumbing.errors import DataError, PricerError
from helpers.plumbing.files import atomic_open
from helpers.plumbing.secrets import redact
from helpers.plumbing.store import Store

ENDPOINT = "/v1/chat/completions"
WINDOW = "24h"  # the only completion window OpenAI offers
ENDED = ("completed", "failed", "expired", "cancelled")
STORE_KEY = "summaries/batch.json"
DISCOUNT = 0.5  # a batch's price against the same calls made one at a time


class BatchFailed(PricerError):
    """The batch ended without results: its input was refused, or it expired or was cancelled."""


def request_row(custom_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}


def summary_rows(items: Sequence[Item], chat: Chat) -> list[dict[str, Any]]:
    """A row per item, `item-<n>` in the order given, whose body is the very request the
    concurrent summariser sends for it."""
    return [request_row(f"item-{n}", chat.request(summary_messages(item.text))) for n, item in enumerate(items)]


def write_rows(rows: Iterable[dict[str, Any]], path: str | Path) -> Path:
    path = Path(path)
    with atomic_open(path, "w") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def fingerprint(rows: Iterable[dict[str, Any]]) -> str:
    """Which requests a batch carries, in 16 hex digits: the same rows, the same fingerprint."""
    text = "\n".join(json.dumps(row, sort_keys=True) for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class BatchResults:
    """A finished batch read back: each custom_id's reply, or why it has none."""

    replies: dict[str, str | None] = field(default_factory=dict)  # None: an answer whose content is no text
    errors: dict[str, str] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def missing(self, custom_ids: Iterable[str]) -> list[str]:
        """The requests neither answered nor reported failed."""
        return [c for c in custom_ids if c not in self.replies and c not in self.errors]

    def __str__(self) -> str:
        failed = ""
        if self.errors:
            first, why = next(iter(self.errors.items()))
            failed = f" (the first, {first}: {why})"
        return f"{len(self.replies)} answered, {len(self.errors)} failed{failed}"


def read_results(output: str | None, errors: str | None = None) -> BatchResults:
    """The output file's and the error file's lines, by custom_id."""
    results = BatchResults()
    for which, text in (("output", output), ("error", errors)):
        for number, line in enumerate((text or "").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                custom_id = row["custom_id"]
            except (json.JSONDecodeError, TypeError, KeyError):
                raise DataError(f"line {number} of the batch's {which} file is no result line") from None
            response = row.get("response") or {}
            body = response.get("body") or {}
            choices = body.get("choices") if isinstance(body, dict) else None
            if response.get("status_code") == 200 and not row.get("error") and choices:
                results.replies[custom_id] = reply_text((choices[0].get("message") or {}).get("content"))
                usage = body.get("usage") or {}
                results.prompt_tokens += usage.get("prompt_tokens", 0)
                results.completion_tokens += usage.get("completion_tokens", 0)
            else:
                results.errors[custom_id] = _why(row)
    return results


def _why(row: dict[str, Any]) -> str:
    error = row.get("error") or ((row.get("response") or {}).get("body") or {}).get("error") or {}
    status = (row.get("response") or {}).get("status_code")
    message = error.get("message") if isinstance(error, dict) else str(error)
    return f"{status or 'no response'}: {message or 'no reason given'}"


def batch_cost(model: str, results: BatchResults) -> float:
    """What OpenAI charges for the batch: half the price of the same calls."""
    return cost_of(model, results.prompt_tokens, results.completion_tokens) * DISCOUNT


def check_completed(batch: Any) -> None:
    """Nothing when the batch completed; else one line saying how it ended and why."""
    if batch.status == "completed":
        return
    problems = (batch.errors.data if batch.errors else None) or []
    why = "; ".join(f"line {p.line}: {p.message}" if p.line else str(p.message) for p in problems[:3])
    raise BatchFailed(f"batch {batch.id} ended {batch.status}" + (f": {why}" if why else ""))


@dataclass
class BatchState:
    """What a lost runtime needs to pick a batch up again."""

    batch_id: str
    input_file_id: str
    requests: int
    fingerprint: str
    endpoint: str  # the server it was sent to, credentials redacted
    model: str


def save_batch(store: Store, state: BatchState) -> None:
    store.write_text(json.dumps(asdict(state), indent=2), STORE_KEY)


def saved_batch(store: Store) -> BatchState | None:
    text = store.read_text(STORE_KEY)
    if text is None:
        return None
    try:
        return BatchState(**json.loads(text))
    except (json.JSONDecodeError, TypeError):
        raise DataError(f"{STORE_KEY} in the store is no saved batch: delete it to start a new one") from None


def pick_up(client, store: Store, rows: Sequence[dict[str, Any]], say: Callable[[str], None] = print):
    """The batch saved in the store for exactly these requests at this endpoint, as the server
    sees it now; None, with a line saying why, when there is none to carry on with: none saved,
    one saved for other requests or another server (the offline server's port changes with each
    kernel), one the server does not know, or one that ended without results."""
    import openai

    state = saved_batch(store)
    endpoint = redact(str(client.base_url).rstrip("/"))
    if state is None:
        return None
    if state.fingerprint != fingerprint(rows):
        say(f"The batch saved in the store, {state.batch_id}, was for other requests: a new one")
        return None
    if state.endpoint != endpoint:
        say(f"The batch saved in the store, {state.batch_id}, was sent to {state.endpoint}, not {endpoint}: a new one")
        return None
    try:
        batch = guarded(endpoint, "the Batch API", client.batches.retrieve, state.batch_id)
    except openai.NotFoundError:
        say(f"{endpoint} no longer knows batch {state.batch_id}: a new one")
        return None
    if batch.status in ENDED and batch.status != "completed":
        say(f"Batch {batch.id} ended {batch.status}: a new one")
        return None
    say(f"Carrying on with batch {batch.id} ({batch.status}), saved earlier in the store")
    return batch
