"""A deal feed on loopback: RSS feeds and deal pages, so that week 8's scanner runs offline.

The products are real: the bundled test items that the Tester never scores (those after the
first 250) that cost $100 or more, each page holding the item's own text. The deals are not: each entry's deal price
is drawn by a seeded rule from the item's true price (between 25% and 100% of it, so some are
bargains and some are not), and every title and page says "simulated". As on real deal sites,
some entries state only a saving ("$40 off"), which is not a price: a careful scanner drops them.

    feed = DealFeed(items).start()
    feed.urls      # the RSS feeds' addresses
    feed.stop()

For tests, `feed.faults[path] = "not-rss" | "slow" | "error"` makes that path answer with an
HTML page, answer after `slow_seconds`, or fail with status 500. Every request is recorded in
`feed.requests`.
"""

from __future__ import annotations

import html
import os
import random
import re
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from helpers.core.items import Item
from helpers.core.tester import TEST_SIZE
from helpers.data.item_files import load_items
from helpers.offline.loopback import Loopback
from helpers.plumbing import paths
from helpers.plumbing.errors import ConfigError

FEEDS = ("electronics", "computers", "smart-home")  # as the course's three dealnews feeds
# A fixed port (PRICER_FEED_PORT, else 8642), so that a deal's URL is the same on every run and
# machine: the memory knows a deal by its URL. When it is taken by the same simulated feed (another
# notebook's, the app's), that one is used; by anything else, any free port, and the deals' URLs
# differ from those remembered.
PORT = 8642


def feed_port() -> int:
    given = os.environ.get("PRICER_FEED_PORT") or str(PORT)
    if not given.isdigit() or not 0 <= int(given) < 65536:
        raise ConfigError(f"PRICER_FEED_PORT={given!r}: a port is a number from 0 to 65535")
    return int(given)


SIMULATED = "simulated deal"  # what every entry says it is


def held_back_items(least: float = 100.0) -> list[Item]:
    """The bundled test items the Tester never scores (after the first 250) that cost `least` or
    more: what deal sites list, and what a saving worth a notification can be made of."""
    return [item for item in load_items(paths.TEST_SAMPLE)[0][TEST_SIZE:] if item.price >= least]


@dataclass
class Deal:
    """One simulated offer: the product, its deal price (None: only a saving is stated)."""

    number: int
    item: Item
    price: float | None
    saving: float

    @property
    def path(self) -> str:
        return f"/deals/{self.number}.html"


def simulated_deals(items: list[Item], seed: int = 42) -> list[Deal]:
    """Each item offered at a price drawn from its own: the same items and seed, the same deals."""
    deals = []
    for number, item in enumerate(items):
        draw = random.Random(f"{seed}:{number}")
        price = max(0.99, round(item.price * draw.uniform(0.25, 1.0)) - 0.01)
        saving = round(max(item.price - price, item.price * 0.1))
        deals.append(Deal(number, item, None if draw.random() < 0.15 else price, saving))
    return deals


@dataclass
class DealFeed(Loopback):
    items: list[Item] = field(default_factory=held_back_items)
    seed: int = 42
    per_feed: int = 10  # entries in each feed
    host: str = "127.0.0.1"
    port: int = field(default_factory=feed_port)
    slow_seconds: float = 30.0  # how long a "slow" fault keeps the client waiting
    faults: dict[str, str] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.deals = simulated_deals(self.items[: self.per_feed * len(FEEDS)], self.seed)
        self.httpd: ThreadingHTTPServer | None = None
        self.shared = False  # True: the same feed was already served on `port`, by another process

    @property
    def base(self) -> str:
        if self.shared:
            return f"http://{self.host}:{self.port}"
        assert self.httpd is not None, "start() the feed first"
        return f"http://{self.host}:{self.httpd.server_address[1]}"

    @property
    def urls(self) -> list[str]:
        return [f"{self.base}/rss/{name}.xml" for name in FEEDS]

    def start(self) -> DealFeed:
        feed = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                feed._answer(self)

        try:
            self.serve(ThreadingHTTPServer((self.host, self.port), Handler), "deal-feed")
        except OSError:  # taken: by this very feed (use it), or by another program (any free port, said once)
            if self.already_served():
                self.shared = True
                return self
            self.serve(ThreadingHTTPServer((self.host, 0), Handler), "deal-feed")
            print(f"port {self.port} is taken: the simulated deals are on {self.base}, URLs unlike those remembered")
        return self

    def already_served(self) -> bool:
        """Whether `port` serves the feed this one would: the same entries, so the same URLs."""
        import httpx

        base = f"http://{self.host}:{self.port}"
        try:
            served = httpx.get(f"{base}/rss/{FEEDS[0]}.xml", timeout=2.0).text
        except httpx.HTTPError:
            return False
        undated = re.compile(r"<pubDate>[^<]*</pubDate>")
        return undated.sub("", served) == undated.sub("", self.rss(0, base))

    def stop(self) -> None:
        self.shared = False
        super().stop()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0]
        self.requests.append(path)
        fault = self.faults.get(path)
        if fault == "slow":
            time.sleep(self.slow_seconds)
        status, kind, body = 200, "application/rss+xml", None
        if fault == "error":
            status, kind, body = 500, "text/plain", "server error"
        elif fault == "not-rss":
            kind, body = "text/html", "<html><body><h1>Sign in to see today's deals</h1></body></html>"
        elif path.startswith("/rss/") and path.removeprefix("/rss/").removesuffix(".xml") in FEEDS:
            body = self.rss(FEEDS.index(path.removeprefix("/rss/").removesuffix(".xml")))
        elif path.startswith("/deals/") and path.removeprefix("/deals/").removesuffix(".html").isdigit():
            number = int(path.removeprefix("/deals/").removesuffix(".html"))
            if number < len(self.deals):
                kind, body = "text/html", self.page(self.deals[number])
        if body is None:
            status, kind, body = 404, "text/plain", "not found"
        data = body.encode("utf-8")
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", f"{kind}; charset=utf-8")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            pass

    def rss(self, feed: int, base: str | None = None) -> str:
        """One feed: RSS 2.0, its entries' summaries in the HTML snippet that deal sites send."""
        base = base or self.base
        entries = []
        for deal in self.deals[feed * self.per_feed : (feed + 1) * self.per_feed]:
            offer = f"${deal.price:,.2f}" if deal.price is not None else f"${deal.saving:,.0f} off"
            title = f"{deal.item.title[:60]} for {offer} ({SIMULATED})"  # within the 100 characters a scanner keeps
            snippet = f'<div class="snippet summary">{html.escape(deal.item.text[:200])}</div>'
            entries.append(
                f"<item><title>{html.escape(title)}</title><link>{base}{deal.path}</link>"
                f"<guid>{base}{deal.path}</guid><description>{html.escape(snippet)}</description>"
                f"<pubDate>{formatdate(usegmt=True)}</pubDate></item>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Simulated deals: {FEEDS[feed]}</title><link>{base}</link>"
            f"<description>Offline stand-in: real products from the bundled sample at simulated prices"
            f"</description>{''.join(entries)}</channel></rss>"
        )

    def page(self, deal: Deal) -> str:
        """A deal's page: the offer, then the product's text and details in a content section."""
        title, _, rest = deal.item.text.partition("\n")
        offer = (
            f"Deal price: ${deal.price:,.2f} ({SIMULATED}). Save ${deal.saving:,.0f} off the list price."
            if deal.price is not None
            else f"Save ${deal.saving:,.0f} off the list price ({SIMULATED}); the price shows in the cart."
        )
        details = "; ".join(f"{key}: {value}" for key, value in deal.item.details.items())
        return (
            f"<html><head><title>{html.escape(title)}</title></head><body>"
            f'<div class="content-section"><p>{html.escape(offer)}</p><p>{html.escape(rest.strip())}</p>'
            f"<h3>Features</h3><p>{html.escape(details or title)}</p></div></body></html>"
        )
