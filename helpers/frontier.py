"""Frontier models as pricers, through the official `openai` client and any compatible server.

The course's prompt, kept exact (`PromptFormat.messages`): a system message, the question
without " to the nearest dollar" and the item's text, and an assistant message "Price is $"
for the model to continue; `max_tokens=5`, `seed=42`. The price is read from the reply.

Beyond the course:
- a persistent response cache (SQLite), keyed by endpoint, model and request, so that a
  re-run or a resumed run never pays for the same call twice;
- `predict_batch` for the Tester: a few requests in flight at once; the `openai` client's own
  retries with backoff on 429, 5xx and timeouts;
- a summary per run: calls made, answers from the cache, failures, tokens, estimated cost;
- an authentication error stops the run at once, with a message that never holds the key.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from helpers import paths
from helpers.errors import SecretError
from helpers.items import Item

T = TypeVar("T")
DEFAULT_MODELS = ["gpt-4o-mini", "gpt-4o"]  # the course's frontier models
# US dollars per million tokens (input, output), as OpenAI published them; unknown models cost 0.
PRICES_PER_MILLION = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "ft:gpt-4o-mini": (0.30, 1.20),
}


@dataclass
class FrontierConfig:
    """One model behind one OpenAI-compatible endpoint."""

    model: str = DEFAULT_MODELS[0]
    base_url: str | None = None  # None: OPENAI_BASE_URL, else OpenAI itself
    # None: OPENAI_API_KEY from the environment, .env or Colab. Never a command-line flag.
    api_key: str | None = field(default=None, metadata={"cli": False})
    max_tokens: int = 5
    seed: int = 42
    concurrency: int = 4
    max_retries: int = 5
    timeout: float = 30.0
    cache: str | None = field(default_factory=lambda: str(paths.results("cache", "frontier.sqlite")))  # None: none


class FrontierAuthError(SecretError):
    """The endpoint refused the key, or there is none. The message never holds the key."""


def make_client(base_url: str | None, api_key: str | None, max_retries: int = 5, timeout: float = 30.0):
    """An `openai.OpenAI` client; base URL and key default to OPENAI_BASE_URL / OPENAI_API_KEY."""
    from openai import OpenAI

    from helpers.secrets import get_secret

    base_url = base_url or get_secret("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    api_key = api_key or get_secret("OPENAI_API_KEY")
    if not api_key:
        if "api.openai.com" in base_url:
            raise FrontierAuthError("OPENAI_API_KEY is not set: add it to the environment, .env or Colab secrets")
        api_key = "none"  # local servers such as Ollama ignore it
    return OpenAI(api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout)


def guarded(base_url: str, what: str, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`call(*args, **kwargs)`, with authentication errors turned into one line that holds
    neither the key nor the server's reply (which may echo the key), and no chained cause."""
    import openai

    try:
        return call(*args, **kwargs)
    except openai.AuthenticationError:
        problem = f"authentication failed at {base_url} for {what}: check OPENAI_API_KEY"
    except openai.PermissionDeniedError:
        problem = f"access to {what} denied at {base_url}: check the key's permissions"
    raise FrontierAuthError(problem)  # outside the except blocks: no __context__ to leak


def cost_of(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    key = "ft:gpt-4o-mini" if model.startswith("ft:gpt-4o-mini") else model
    price_in, price_out = PRICES_PER_MILLION.get(key, (0.0, 0.0))
    return (prompt_tokens * price_in + completion_tokens * price_out) / 1_000_000


@dataclass
class RunStats:
    """What one pricer did: requests it sent, answers it took from the cache, and so on."""

    calls: int = 0
    cached: int = 0
    errors: int = 0  # calls that still failed after the client's retries
    failures: int = 0  # replies with no price in them
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0

    def __str__(self) -> str:
        return (
            f"{self.calls} calls, {self.cached} from cache, {self.errors} errors, "
            f"{self.failures} replies without a price, {self.prompt_tokens + self.completion_tokens:,} "
            f"tokens, about ${self.cost:.4f}"
        )


class ResponseCache:
    """Replies on disk, one row per request key; safe to share between threads."""

    def __init__(self, path: str | Path | None):
        self.lock = threading.Lock()
        self.db = None
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(path), check_same_thread=False)
            self.db.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, value TEXT)")
            self.db.commit()

    def get(self, key: str) -> dict[str, Any] | None:
        if self.db is None:
            return None
        with self.lock:
            row = self.db.execute("SELECT value FROM replies WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        if self.db is None:
            return
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO replies VALUES (?, ?)", (key, json.dumps(value)))
            self.db.commit()

    def __len__(self) -> int:
        if self.db is None:
            return 0
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]


class FrontierPricer:
    """A predictor `item -> price` backed by a chat model. The Tester calls `predict_batch`,
    which keeps `config.concurrency` requests in flight."""

    def __init__(self, config: FrontierConfig | None = None):
        self.config = config or FrontierConfig()
        self.client = make_client(
            self.config.base_url, self.config.api_key, self.config.max_retries, self.config.timeout
        )
        self.base_url = str(self.client.base_url).rstrip("/")
        self.cache = ResponseCache(self.config.cache)
        self.stats = RunStats()
        self.replies: dict[str, str | None] = {}
        self.__name__ = self.config.model
        self.batch_size = 8 * max(1, self.config.concurrency)
        self._lock = threading.Lock()
        self._refused: str | None = None

    def request(self, item: Item) -> dict[str, Any]:
        return {
            "model": self.config.model,
            "messages": item.messages(),
            "max_tokens": self.config.max_tokens,
            "seed": self.config.seed,
        }

    def key(self, item: Item) -> str:
        text = json.dumps({"endpoint": self.base_url, **self.request(item)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def reply(self, item: Item) -> str | None:
        """The model's reply text for one item: from memory, the cache, or one API call."""
        import openai

        key = self.key(item)
        if key in self.replies:
            return self.replies[key]
        hit = self.cache.get(key)
        if hit is not None:
            with self._lock:
                self.stats.cached += 1
                self.replies[key] = hit["reply"]
            return hit["reply"]
        if self._refused:  # another thread's request was refused: send nothing more
            raise FrontierAuthError(self._refused)
        try:
            response = guarded(
                self.base_url, self.config.model, self.client.chat.completions.create, **self.request(item)
            )
        except FrontierAuthError as error:
            self._refused = str(error)
            raise
        except (openai.APIError, openai.APIConnectionError) as error:
            with self._lock:
                self.stats.calls += 1
                self.stats.errors += 1
            print(f"request failed for {item.title[:40]!r}: {type(error).__name__}", flush=True)
            return None
        text = response.choices[0].message.content if response.choices else None
        usage = response.usage
        prompt_tokens = usage.prompt_tokens if usage else 0
        completion_tokens = usage.completion_tokens if usage else 0
        self.cache.put(key, {"reply": text, "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens})
        with self._lock:
            self.stats.calls += 1
            self.stats.prompt_tokens += prompt_tokens
            self.stats.completion_tokens += completion_tokens
            self.stats.cost += cost_of(self.config.model, prompt_tokens, completion_tokens)
            self.replies[key] = text
        return text

    def price(self, item: Item, reply: str | None) -> float | None:
        price = item.prompt_format.price_in(reply)
        if price is None:
            with self._lock:
                self.stats.failures += 1
        return price

    def __call__(self, item: Item) -> float | None:
        return self.price(item, self.reply(item))

    def predict_batch(self, items: Sequence[Item]) -> list[float | None]:
        """Every item's price, with a few requests in flight; a refused key stops them all."""
        with ThreadPoolExecutor(max_workers=max(1, self.config.concurrency)) as pool:
            futures = [pool.submit(self.reply, item) for item in items]
            try:
                replies = [future.result() for future in futures]
            except FrontierAuthError:
                for pending in futures:
                    pending.cancel()
                raise
        return [self.price(item, reply) for item, reply in zip(items, replies)]
