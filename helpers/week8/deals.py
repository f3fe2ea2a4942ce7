"""Deals: what the scanner reads from RSS feeds, and the shapes the agents pass between them.

`ScrapedDeal` is an entry of a deal feed with its page's text, cut to a length a model can be
sent. `Deal`, `DealSelection` and `Opportunity` are pydantic models, as in the course: the
scanner asks the frontier model to answer in the shape of a `DealSelection` (structured
outputs), and an `Opportunity` is a deal with the ensemble's estimate of what it is worth.

Fetching is polite and bounded: one request at a time with a pause between pages, a timeout on
each, and a feed or page that cannot be read is one line in the log, never the end of a run.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

# The course's feeds (dealnews.com): electronics, computers and smart home.
COURSE_FEEDS = [
    "https://www.dealnews.com/c142/Electronics/?rss=1",
    "https://www.dealnews.com/c39/Computers/?rss=1",
    "https://www.dealnews.com/f1912/Smart-Home/?rss=1",
]
USER_AGENT = "pricer-course deal scanner (an LLM engineering exercise; one request at a time)"


@dataclass
class FeedConfig:
    """Where the scanner looks, and how gently."""

    feeds: list[str] = field(default_factory=lambda: list(COURSE_FEEDS))  # RSS feeds of deals
    entries_per_feed: int = 10  # entries read from each feed
    timeout: float = 10.0  # seconds a feed or page may take
    delay: float = 0.5  # seconds between two requests to the sites, to be polite
    title_chars: int = 100  # a deal's text is cut to these lengths before a model sees it
    details_chars: int = 500
    features_chars: int = 500


def clean(html_text: str) -> str:
    """The words of an HTML snippet, on one line."""
    from bs4 import BeautifulSoup

    return " ".join(BeautifulSoup(html_text, "html.parser").get_text(" ").split())


@dataclass
class ScrapedDeal:
    """A deal from a feed: its title, summary and page, cut to what a model is sent."""

    title: str
    summary: str
    url: str
    details: str
    features: str

    def describe(self) -> str:
        """The deal as the scanner's prompt lists it."""
        return (
            f"Title: {self.title}\nDetails: {self.details.strip()}\nFeatures: {self.features.strip()}\nURL: {self.url}"
        )

    def __repr__(self) -> str:
        return f"<{self.title}>"


def page_text(page: str) -> tuple[str, str]:
    """(details, features) of a deal page: the text of its content section (the whole page where
    there is none), cut at the word "Features"."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    section = soup.find("div", class_="content-section") or soup.body or soup
    content = " ".join(section.get_text(" ").replace("\nmore", "").split())
    details, _, features = content.partition("Features")
    return details, features


def fetch_deals(config: FeedConfig, skip: set[str], log: Callable[[str], None]) -> list[ScrapedDeal]:
    """Every entry of every feed whose URL is not in `skip`, with its page's text. A feed that is
    not RSS, or a page that fails or times out, is one line in `log` and is left out."""
    import feedparser
    import httpx

    deals: list[ScrapedDeal] = []
    with httpx.Client(timeout=config.timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}) as web:
        for feed_url in config.feeds:
            try:
                response = web.get(feed_url)
                response.raise_for_status()
            except httpx.HTTPError as error:
                log(f"feed {feed_url} could not be read ({_why(error)}): skipped")
                continue
            feed = feedparser.parse(response.content)
            if not feed.entries:
                why = "not RSS" if feed.bozo or not feed.get("version") else "no entries"
                log(f"feed {feed_url}: {why}, skipped")
                continue
            for entry in feed.entries[: config.entries_per_feed]:
                url = entry.get("link") or ""
                if not url or url in skip:
                    continue
                time.sleep(config.delay)
                try:
                    page = web.get(url)
                    page.raise_for_status()
                except httpx.HTTPError as error:
                    log(f"deal page {url} could not be read ({_why(error)}): skipped")
                    continue
                details, features = page_text(page.text)
                deals.append(
                    ScrapedDeal(
                        title=str(entry.get("title", ""))[: config.title_chars],
                        summary=clean(str(entry.get("summary", ""))),
                        url=url,
                        details=details[: config.details_chars],
                        features=features[: config.features_chars],
                    )
                )
    return deals


def _why(error: Exception) -> str:
    """What went wrong, in a few words: a status, a timeout, a refused connection."""
    import httpx

    if isinstance(error, httpx.HTTPStatusError):
        return f"status {error.response.status_code}"
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    return re.sub(r"\s+", " ", type(error).__name__)


class Deal(BaseModel):
    """A deal with a summary description, as the scanner's model writes it."""

    product_description: str = Field(
        description="Your clearly expressed summary of the product in 3-4 sentences. Details of the item are much more "
        "important than why it's a good deal. Avoid mentioning discounts and coupons; focus on the item itself. There "
        "should be a short paragraph of text for each item you choose."
    )
    price: float = Field(
        description="The actual price of this product, as advertised in the deal. Be sure to give the actual price; "
        "for example, if a deal is described as $100 off the usual $300 price, you should respond with $200"
    )
    url: str = Field(description="The URL of the deal, as provided in the input")


class DealSelection(BaseModel):
    """The deals the scanner picked."""

    deals: list[Deal] = Field(
        description="Your selection of the 5 deals that have the most detailed, high quality description and the most "
        "clear price. You should be confident that the price reflects the deal, that it is a good deal, with a clear "
        "description"
    )


class Opportunity(BaseModel):
    """A deal, what the ensemble estimates it is worth, and the difference: the saving."""

    deal: Deal
    estimate: float
    discount: float

    def line(self) -> dict:
        """The opportunity as the command line prints it, one JSON object."""
        deal = self.deal
        return {
            "description": deal.product_description,
            "price": round(deal.price, 2),
            "estimate": round(self.estimate, 2),
            "discount": round(self.discount, 2),
            "url": deal.url,
        }
