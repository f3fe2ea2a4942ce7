"""A notebook's own pricing function, run over many items a few at a time, with every reply
cached on disk: so that what a notebook's cell defines is what the Tester scores.

    openai = cached_client(BASE_URL, API_KEY)            # an openai.OpenAI client whose replies are kept
    def frontier_price(item): ...openai.chat.completions.create(...)...
    Tester.test(Concurrently(frontier_price), test)      # the notebook's function, 4 items in flight

The cache sits under the client (an httpx transport): a request sent again, by this run or the
next, is answered from disk, whatever function sent it; an edited prompt is a new request, and
asked. `FrontierPricer` is the command line's pricer; this is the notebook's function, run as is.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from helpers.core.items import MAX_TEXT_CHARS, Item, cut_line, prompt_item
from helpers.language.frontier import (
    FrontierAuthError,
    FrontierConfig,
    FrontierUnavailable,
    ResponseCache,
    RunStats,
    _say,
    cost_of,
    endpoint,
    refusal,
)

ANSWERS = ("/chat/completions", "/completions")  # the requests whose replies are kept: a model's answers


class CachedTransport(httpx.BaseTransport):
    """Answers (status 200) kept in a `ResponseCache`, keyed by URL and body, and counted; every
    other request (an upload, a fine-tuning job) goes through as it is, every time."""

    def __init__(self, cache: ResponseCache, billed: bool):
        self.cache, self.inner = cache, httpx.HTTPTransport()
        self.stats = RunStats(billed=billed)
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST" or not request.url.path.endswith(ANSWERS):
            return self.inner.handle_request(request)
        body = request.read()
        key = hashlib.sha256(str(request.url).encode() + b"\n" + body).hexdigest()
        hit = self.cache.get(key)
        if hit is not None:
            with self.lock:
                self.stats.cached += 1
            return httpx.Response(200, headers={"content-type": "application/json"}, content=hit["body"].encode())
        response = self.inner.handle_request(request)
        content = response.read()
        with self.lock:
            self.stats.calls += 1
            if response.status_code == 200:
                self._count(content)
            else:
                self.stats.errors += 1
        if response.status_code == 200:
            self.cache.put(key, {"body": content.decode("utf-8", errors="replace")})
        return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)

    def _count(self, content: bytes) -> None:
        try:
            reply = json.loads(content)
            usage, model = reply.get("usage") or {}, reply.get("model", "")
        except (ValueError, AttributeError):
            return
        prompt, completion = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        self.stats.prompt_tokens += prompt
        self.stats.completion_tokens += completion
        if self.stats.billed:
            self.stats.cost += cost_of(model, prompt, completion)


def cached_client(
    base_url: str | None = None,
    api_key: str | None = None,
    cache: str | Path | None = "default",
    max_retries: int = 3,
    timeout: float = 30.0,
):
    """An `openai.OpenAI` client whose successful replies are kept in `cache` (None: none), with
    `client.stats` counting requests, answers from the cache, tokens and cost. "default": the
    frontier models' cache in the results folder, as the command line keeps it."""
    from openai import OpenAI

    cache = FrontierConfig().cache if cache == "default" else cache

    base_url, api_key = endpoint(base_url, api_key)
    transport = CachedTransport(ResponseCache(cache), billed="api.openai.com" in base_url)
    client = OpenAI(
        api_key=api_key,
        base_url=base_url,
        max_retries=max_retries,
        timeout=timeout,
        http_client=httpx.Client(transport=transport, timeout=timeout),
    )
    client.stats = transport.stats
    return client


class Concurrently:
    """`function(item) -> price`, run as is, for `concurrency` items at once. A refused key stops
    the run in one line (never holding the key); so do `max_failures` calls in a row that fail
    after the client's retries. Any other exception is the function's: the Tester counts it. An
    item whose text is longer than any curated one is handed to the function cut (`prompt_item`),
    so that one 1 MB description is not a paid megabyte; `cut` counts them."""

    def __init__(
        self,
        function: Callable[[Item], float | None],
        name: str | None = None,
        concurrency: int = 4,
        max_failures: int = 5,
        trained_on: str = "",
    ):
        self.function, self.concurrency, self.max_failures = function, max(1, concurrency), max_failures
        self.__name__ = name or getattr(function, "__name__", "model")
        self.batch_size = 4 * self.concurrency  # the Tester's progress bar moves per batch
        self.trained_on = trained_on
        self._in_a_row = 0
        self._lock = threading.Lock()
        self.cut = 0  # items whose text, longer than any curated one, the function was shown cut

    def __call__(self, item: Item) -> float | None:
        import openai

        problem = None
        shown = prompt_item(item)  # a 1 MB description is not a paid megabyte
        if shown is not item:
            with self._lock:
                self.cut += 1
            _say(cut_line(item, f"{self.__name__} is shown its first {MAX_TEXT_CHARS:,}"))
        try:
            price = self.function(shown)
        except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
            problem = refusal(error, str(error.request.url) if error.request else "the endpoint", self.__name__)
        except (openai.APIConnectionError, openai.APIStatusError):
            with self._lock:
                self._in_a_row += 1
                stop = self._in_a_row >= self.max_failures
            if stop:
                problem = "stop"
            else:
                raise
        else:
            with self._lock:
                self._in_a_row = 0
            return price
        if problem == "stop":  # outside the except block: no chained error that could hold the key
            raise FrontierUnavailable(f"{self.__name__}: {self.max_failures} calls in a row failed: stopped")
        raise FrontierAuthError(problem)

    def predict_batch(self, items: Sequence[Item]) -> list[Any]:
        """Every item's price, `concurrency` at a time. Ctrl-C stops at once: the replies so far
        are in the cache, so the next run carries on."""
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="notebook-calls")
        try:
            return list(pool.map(self, items))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
