"""Frontier models as pricers, through the official `openai` client and any compatible server.

The course's prompt, kept exact (`PromptFormat.messages`): a system message, the question
without " to the nearest dollar" and the item's text, and an assistant message "Price is $"
for the model to continue; `max_tokens=5`, `seed=42`. The price is read from the reply.

Beyond the course:
- a persistent response cache (SQLite), keyed by endpoint, model and request, so that a
  re-run or a resumed run never pays for the same call twice;
- `predict_batch` for the Tester: a few requests in flight at once (asyncio, so that Ctrl-C
  cancels them at once); the `openai` client's own retries with backoff on 429, 5xx and
  timeouts; each item asked at most once a run; a run stops after a few failures in a row;
- a summary per run: calls made, answers from the cache, failures, tokens, estimated cost;
- an authentication error stops the run at once, with a message that never holds the key.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from helpers.core.items import MAX_TEXT_CHARS, Item, cut_line, prompt_item
from helpers.core.prices import reply_text
from helpers.plumbing import paths
from helpers.plumbing.errors import DataError, PricerError, SecretError
from helpers.plumbing.secrets import get_secret, redact

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

    model: str = DEFAULT_MODELS[0]  # the chat model asked
    base_url: str | None = None  # an OpenAI-compatible server (default: OPENAI_BASE_URL, else OpenAI itself)
    # None: OPENAI_API_KEY from the environment, .env or Colab. Never a command-line flag.
    api_key: str | None = field(default=None, metadata={"cli": False}, repr=False)
    max_tokens: int | None = None  # of a reply; None: the task's own (5 for a price, 300 for a summary)
    seed: int = 42  # asked of the server, which may honour it, for repeatable answers
    concurrency: int = 4  # requests in flight at once
    max_retries: int = 3  # per request, with the client's backoff (about 4 s in all)
    max_failures: int = 5  # failed requests in a row that stop the run
    timeout: float = 30.0  # seconds a request may take
    # SQLite file of the answers already paid for (--no-cache: ask again)
    cache: str | None = field(default_factory=lambda: str(paths.results("cache", "frontier.sqlite")))


class FrontierAuthError(SecretError):
    """The endpoint refused the key, or there is none. The message never holds the key."""


class FrontierUnavailable(PricerError):
    """The endpoint kept failing: the run stops rather than grind through every item."""


def endpoint(base_url: str | None, api_key: str | None) -> tuple[str, str]:
    """Base URL and key, defaulting to OPENAI_BASE_URL / OPENAI_API_KEY (environment, .env, Colab)."""

    base_url = base_url or get_secret("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    api_key = api_key or get_secret("OPENAI_API_KEY")
    if not api_key:
        if "api.openai.com" in base_url:
            raise FrontierAuthError("OPENAI_API_KEY is not set: add it to the environment, .env or Colab secrets")
        api_key = "none"  # local servers such as Ollama ignore it
    return base_url.rstrip("/"), api_key


def make_client(base_url: str | None, api_key: str | None, max_retries: int = 3, timeout: float = 30.0):
    """An `openai.OpenAI` client for the endpoint (see `endpoint`)."""
    from openai import OpenAI

    base_url, api_key = endpoint(base_url, api_key)
    return OpenAI(api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout)


def refusal(error: Exception, base_url: str, what: str) -> str | None:
    """One line for a refused key, holding neither the key nor the server's reply (which may
    echo the key); None when `error` is no refusal."""
    import openai

    if isinstance(error, openai.AuthenticationError):
        return f"authentication failed at {redact(base_url)} for {what}: check OPENAI_API_KEY"
    if isinstance(error, openai.PermissionDeniedError):
        return f"access to {what} denied at {redact(base_url)}: check the key's permissions"
    return None


def guarded(base_url: str, what: str, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`call(*args, **kwargs)`, with a refused key turned into a FrontierAuthError without a
    chained cause."""
    import openai

    try:
        return call(*args, **kwargs)
    except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
        problem = refusal(error, base_url, what)
    raise FrontierAuthError(problem)  # outside the except block: no __context__ to leak


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
    cut: int = 0  # item texts longer than any curated one, cut to MAX_TEXT_CHARS before they were sent
    billed: bool = True  # False: the server is not OpenAI's API (a local server, the offline stand-in)

    def __str__(self) -> str:
        cost = f"about ${self.cost:.4f}" if self.billed else "nothing billed (not OpenAI's API)"
        cut = f", {self.cut} texts cut to {MAX_TEXT_CHARS:,} characters" if self.cut else ""
        return (
            f"{self.calls} calls, {self.cached} from cache, {self.errors} errors, "
            f"{self.failures} replies without a price{cut}, {self.prompt_tokens + self.completion_tokens:,} "
            f"tokens, {cost}"
        )


class ResponseCache:
    """Replies on disk, one row per request key. SQLite commits each reply whole, so a run
    killed at any moment keeps every reply it was given; several processes may share it."""

    def __init__(self, path: str | Path | None):
        self.path = path
        self.lock = threading.Lock()
        self.db = None
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            try:
                self.db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
                self.db.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, value TEXT)")
                self.db.commit()
                columns = [row[1] for row in self.db.execute("PRAGMA table_info(replies)")]
                if columns != ["key", "value"]:  # another program's database, or another layout
                    raise sqlite3.DatabaseError(f"its replies table has the columns {', '.join(columns)}")
            except sqlite3.DatabaseError as error:  # not a database, locked for good, unreadable
                raise DataError(
                    f"the response cache {path} cannot be used ({error}): move it aside (mv {path} {path}.bad) "
                    "or run with --no-cache"
                ) from None

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

    # Two runs sharing the cache (two notebooks, a notebook and the command line) would each pay
    # for the items neither had answered yet. So a run claims a request just before sending it;
    # another run that meets the claim waits for the answer instead of sending the request too. A
    # claim ends when its reply is kept or its request fails (then the waiter asks itself), and
    # is ignored once its process is gone (a kill) or its time is up (another machine's kill).

    OWNER = f"{socket.gethostname()}:{os.getpid()}"

    def claim(self, key: str, seconds: float) -> bool:
        """True when this run may send the request for `key` (no other living run is sending
        it, and none has answered it since this run looked): claimed for `seconds`. False: another
        run is sending it or has answered it, and its answer will be in the cache."""
        if self.db is None:
            return True
        now = time.time()
        with self.lock:
            try:
                self.db.execute("CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, owner TEXT, until REAL)")
                self.db.execute("BEGIN IMMEDIATE")  # no other run claims between the look and the claim
                if self.db.execute("SELECT 1 FROM replies WHERE key = ?", (key,)).fetchone():
                    return False  # answered since this run looked: the caller finds it in the cache
                row = self.db.execute("SELECT owner, until FROM claims WHERE key = ?", (key,)).fetchone()
                if row and row[0] != self.OWNER and row[1] > now and _running(row[0]):
                    return False
                self.db.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?)", (key, self.OWNER, now + seconds))
            finally:
                self.db.commit()
        return True

    def release(self, key: str) -> None:
        """This run's claim on `key` ended: its reply is kept, or its request failed."""
        if self.db is None:
            return
        with self.lock:
            self.db.execute("DELETE FROM claims WHERE key = ? AND owner = ?", (key, self.OWNER))
            self.db.commit()


def _running(owner: str) -> bool:
    """Whether the process that made a claim still runs (one on another machine is taken to)."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


def _say(line: str) -> None:
    """One line on stderr, above any progress bar rather than inside it."""
    from tqdm.auto import tqdm

    tqdm.write(line, file=sys.stderr)


def run_interruptibly(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on an event loop of its own, in a daemon thread (a notebook's kernel has
    a loop running already). Ctrl-C cancels it: the requests in flight stop at once."""
    loop = asyncio.new_event_loop()
    box: dict[str, Any] = {}
    done = threading.Event()

    async def main() -> T:
        box["task"] = asyncio.current_task()
        return await make()

    def target() -> None:
        try:
            box["value"] = loop.run_until_complete(main())
        except BaseException as error:  # handed to the caller's thread below
            box["error"] = error
        finally:
            loop.close()
            done.set()

    threading.Thread(target=target, daemon=True, name="frontier-requests").start()
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        if "task" in box:
            loop.call_soon_threadsafe(box["task"].cancel)
        done.wait(5)
        raise
    if "error" in box:
        raise box["error"]
    return box["value"]


class Chat:
    """Requests to one chat model: answered from the cache where they can be, else sent a few at
    a time with the client's retries; counted and costed; stopped by a refused key, by too many
    failures in a row, or by Ctrl-C. The pricer and the summariser are built on it."""

    default_max_tokens = 5

    def __init__(self, config: FrontierConfig | None = None):
        self.config = config or FrontierConfig()
        self.base_url, self._api_key = endpoint(self.config.base_url, self.config.api_key)
        self.max_tokens = self.config.max_tokens or self.default_max_tokens
        self.cache = ResponseCache(self.config.cache)
        self.stats = RunStats(billed="api.openai.com" in self.base_url)
        self.replies: dict[str, str | None] = {}  # this run's answers, failed requests included
        self.__name__ = self.config.model
        self.batch_size = 4 * max(1, self.config.concurrency)  # the Tester's progress bar moves per batch
        self._stop: PricerError | None = None  # set when the run must send nothing more
        self._failures_in_a_row = 0

    def request(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        config = self.config
        return {"model": config.model, "messages": messages, "max_tokens": self.max_tokens, "seed": config.seed}

    def send(self, client, request: dict[str, Any]):
        """The request, sent: a chat completion. A text completion overrides this and `text_of`."""
        return client.chat.completions.create(**request)

    @staticmethod
    def text_of(response) -> object:
        """The reply's content, as the server sent it: `_reply` reads it as text (`reply_text`)."""
        return response.choices[0].message.content

    def key(self, request: dict[str, Any]) -> str:
        text = json.dumps({"endpoint": self.base_url, **request}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    async def _reply(self, client, slots: asyncio.Semaphore, label: str, request: dict[str, Any]) -> str | None:
        """One reply: from this run, the cache, or one request (with the client's retries)."""
        key = self.key(request)
        if key in self.replies or self._cached(key):
            return self.replies[key]
        # The client's timeouts and retries bound a request; this bounds it whatever happens.
        limit = self.config.timeout * (self.config.max_retries + 1) + 30
        while True:
            async with slots:
                if self._stop is not None:
                    raise self._stop
                if self._cached(key):  # another run sharing the cache may have asked meanwhile
                    return self.replies[key]
                if self.cache.claim(key, limit):
                    try:
                        return await self._send(client, label, key, request, limit)
                    finally:
                        self.cache.release(key)
            await asyncio.sleep(0.1)  # another run is asking: wait for its answer, with no slot held

    def _cached(self, key: str) -> bool:
        """Whether the cache holds the reply for `key`: then it is this run's, counted as cached."""
        hit = self.cache.get(key)
        if hit is not None:
            self.stats.cached += 1
            self.replies[key] = hit["reply"]
        return hit is not None

    async def _send(self, client, label: str, key: str, request: dict[str, Any], limit: float) -> str | None:
        """One request sent (with the client's retries), its reply kept and counted."""
        import openai

        response = None
        try:
            response = await asyncio.wait_for(self.send(client, request), limit)
        except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
            self._stop = FrontierAuthError(refusal(error, self.base_url, self.config.model))
        except (openai.APIError, openai.APIConnectionError, TimeoutError, ValueError) as error:
            self._failed(label, key, error)  # ValueError: a 200 reply whose JSON is cut short
        if response is not None and not hasattr(response, "choices"):
            response = None  # a 200 page that is no chat completion: a proxy's or a portal's HTML
            self._failed(label, key, ValueError("a 200 reply that is no chat completion (an HTML page?)"))
        if response is None and self._stop is not None:
            # outside the except block: no __context__ that could hold the key; the batch
            # cancels the requests still in flight
            raise self._stop
        if response is None:
            return None
        self._failures_in_a_row = 0
        # a server that sends a number (or content parts) is read as text; anything else is no
        # reply, a counted failure, never an AttributeError that loses the run
        text = reply_text(self.text_of(response)) if response.choices else None
        usage = response.usage
        prompt_tokens = usage.prompt_tokens if usage else 0
        completion_tokens = usage.completion_tokens if usage else 0
        if text and text.strip():  # an empty or null reply is a hiccup, asked again by the next run
            self.cache.put(key, {"reply": text, "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens})
        self.stats.calls += 1
        self.stats.prompt_tokens += prompt_tokens
        self.stats.completion_tokens += completion_tokens
        if self.stats.billed:
            self.stats.cost += cost_of(self.config.model, prompt_tokens, completion_tokens)
        self.replies[key] = text
        return text

    def _failed(self, label: str, key: str, error: Exception) -> None:
        """A request that failed after the client's retries: not asked again in this run."""
        self.stats.calls += 1
        self.stats.errors += 1
        self.replies[key] = None
        self._failures_in_a_row += 1
        why = type(error).__name__  # never the message: a server's error may echo the key
        if isinstance(error, json.JSONDecodeError):
            why = "a 200 reply whose JSON is cut short"
        elif type(error) is ValueError:
            why = str(error)  # pricer's own words
        _say(f"request failed for {label[:40]!r}: {why}")
        if self._failures_in_a_row >= self.config.max_failures and self._stop is None:
            self._stop = FrontierUnavailable(
                f"{self._failures_in_a_row} request{'s' if self._failures_in_a_row > 1 else ''} in a row failed at "
                f"{redact(self.base_url)} "
                f"(last: {type(error).__name__}): stopped; {self._resume_hint()}"
            )

    def _resume_hint(self) -> str:
        if self.cache.db is None:
            return "no cache, so a new run asks again for everything"
        return f"the {len(self.cache):,} answers so far are kept in {self.cache.path}: run again to carry on"

    async def _batch(self, chats: Sequence[tuple[str, list[dict[str, str]]]]) -> list[str | None]:
        from openai import AsyncOpenAI

        client = AsyncOpenAI(
            api_key=self._api_key,
            base_url=self.base_url,
            max_retries=self.config.max_retries,
            timeout=self.config.timeout,
        )
        slots = asyncio.Semaphore(max(1, self.config.concurrency))
        tasks = [asyncio.ensure_future(self._reply(client, slots, label, self.request(m))) for label, m in chats]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            failed = [task for task in done if task.exception() is not None]
            if failed:
                raise failed[0].exception()
            return [task.result() for task in tasks]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await client.close()

    def ask(self, chats: Sequence[tuple[str, list[dict[str, str]]]]) -> list[str | None]:
        """The replies to (label, messages) chats, a few in flight; None where a request failed.
        A refused key or too many failures in a row stop them all; so does Ctrl-C, after one
        line on how to carry on."""
        if self._stop is not None:
            raise self._stop
        if not chats:
            return []
        try:
            return run_interruptibly(lambda: self._batch(chats))
        except KeyboardInterrupt:
            self._stop = FrontierUnavailable(f"interrupted; {self._resume_hint()}")
            _say(f"{self.config.model}: {self._stop}")
            raise


class FrontierPricer(Chat):
    """A predictor `item -> price` backed by a chat model. The Tester calls `predict_batch`,
    which keeps `config.concurrency` requests in flight. `messages` turns an item into its chat:
    the course's prompt unless given (a notebook passes its own `messages_for`; week 8 passes
    one that shows the most similar priced items, `helpers.week8.retrieval.rag_messages`)."""

    def __init__(
        self,
        config: FrontierConfig | None = None,
        messages: Callable[[Item], list[dict[str, str]]] | None = None,
        name: str | None = None,
    ):
        super().__init__(config)
        self.messages = messages or Item.messages
        self.__name__ = name or self.config.model
        self.trained_on = ""  # the leaderboard's training key: none, unless retrieval shows it items

    def price(self, item: Item, reply: str | None) -> float | None:
        price = item.prompt_format.price_in(reply)
        if price is None:
            self.stats.failures += 1
        return price

    def __call__(self, item: Item) -> float | None:
        return self.predict_batch([item])[0]

    def shown(self, item: Item) -> Item:
        """`item` as its chat shows it: a text longer than any curated one (a 1 MB description,
        a paid megabyte) cut to MAX_TEXT_CHARS characters, said and counted."""
        prompted = prompt_item(item)
        if prompted is not item:
            self.stats.cut += 1
            _say(cut_line(item, f"the prompt shows its first {MAX_TEXT_CHARS:,}"))
        return prompted

    def predict_batch(self, items: Sequence[Item]) -> list[float | None]:
        """Every item's price, a few requests in flight (see `Chat.ask`)."""
        replies = self.ask([(item.title, self.messages(self.shown(item))) for item in items])
        return [self.price(item, reply) for item, reply in zip(items, replies)]

    def report(self) -> dict:
        """Its calls and cost so far: said on stderr, and returned for a JSON line."""
        print(f"{self.config.model}: {self.stats}", file=sys.stderr, flush=True)
        s = self.stats
        return {"calls": s.calls, "cached": s.cached, "errors": s.errors, "cost": round(s.cost, 6)}
