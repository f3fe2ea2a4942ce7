# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Week 8 day 3: the scanner agent reads deal feeds, the messaging agent tells you
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week8/day3_scanner.ipynb)
#
# Deal sites publish their deals as RSS feeds: a title, a summary and a link for each. The
# scanner reads them, fetches each deal's page, and has a frontier model pick the five deals
# with the most detailed description and the clearest price, answering in a shape fixed in
# advance (**structured outputs**). The messaging agent then sends a deal to your phone.
#
# In smoke mode the feeds are simulated on this machine: real products of the bundled sample
# offered at prices drawn by a seeded rule, every title and page saying "simulated deal"; and a
# loopback stand-in answers for the frontier model, by rule (it takes the first dollar amount
# of each deal that is not "$N off"), not by judgement. It reads the deals and the schema, not
# the prompt's words: there, editing the prompts below changes nothing; with a key, the real
# model reads them.

# %%
# Setup. In Colab: fetch the repository and install it (a minute or two), showing what each step
# prints. Locally: nothing to do, the README's `bash .ci/setup` (or `pip install -e .`) did it.
import subprocess
import sys
from pathlib import Path

REPO = "pricer-course/pricer"  # GitHub owner/name (`python -m helpers fork OWNER/NAME` points it at a fork)
STORE = "drive"  # in Colab, where results outlive this machine: "drive" (Google Drive) or "hf" (your hub)
COLAB = "google.colab" in sys.modules
CLONE = Path("/content/pricer")  # where Colab keeps the repository


class SetupFailed(Exception):
    def _render_traceback_(self):  # shown as this one line, not as a traceback
        return [f"error: {self}"]


def run_setup_step(name: str, command: list[str]) -> None:
    print("$", " ".join(command), flush=True)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        print(line, end="", flush=True)
    if process.wait():
        raise SetupFailed(f"the {name} failed (exit status {process.returncode}): its output is above")


if COLAB:
    if not (CLONE / ".git").exists():
        run_setup_step("clone", ["git", "clone", "--depth", "1", f"https://github.com/{REPO}", str(CLONE)])
    if not (CLONE / ".installed").exists():
        run_setup_step("install", [sys.executable, "-m", "pip", "install", "-e", str(CLONE)])
        (CLONE / ".installed").touch()
    sys.path.insert(0, str(CLONE))

from helpers.notebook import setup

# smoke mode (PRICER_SMOKE=1): offline, on the bundled sample; `store` keeps what outlives this machine
SMOKE, store = setup(STORE if COLAB else None)

# %% [markdown]
# ## An RSS feed
#
# RSS is XML: a channel with items, each a title, a link and a description (here an HTML
# snippet). `feedparser` reads any of its dialects into a list of entries.

# %%
import feedparser
import httpx

from helpers.notebook import deal_feeds

FEEDS = deal_feeds()  # the course's three dealnews feeds; in smoke mode, simulated ones
web = httpx.Client(timeout=10, headers={"User-Agent": "pricer-course deal scanner"})
feed = feedparser.parse(web.get(FEEDS[0]).content)  # fetched with a timeout, then parsed
print(f"{len(feed.entries)} entries in {feed.feed.get('title', FEEDS[0])}")
entry = feed.entries[0]
print(entry.title)
print(entry.link)

# %% [markdown]
# The entry's page holds the details. BeautifulSoup turns its HTML into text: the deal sites
# keep the product's description in one section, which is what is kept.

# %%
from bs4 import BeautifulSoup

page = BeautifulSoup(web.get(entry.link).text, "html.parser")
section = page.find("div", class_="content-section") or page.body
print(" ".join(section.get_text(" ").split())[:600])

# %% [markdown]
# Every entry of every feed the same way, one request at a time with a pause between them (a
# site that sees a burst of requests may block you), each cut to a length worth sending to a
# model (100 characters of title, 500 of details and of features). A feed that is not RSS, or a
# page that fails or times out, is a line saying so, and the rest are read.

# %%
from helpers.week8.deals import FeedConfig, fetch_deals

feeds = FeedConfig(feeds=FEEDS, delay=0.0 if SMOKE else 0.5)  # no one to be polite to on loopback
scraped = fetch_deals(feeds, set(), print)
print(f"{len(scraped)} deals\n")
print(scraped[0].describe())

# %% [markdown]
# ## Structured outputs
#
# We want the model's answer as data: a list of deals, each with a description, a price and the
# URL. A pydantic model says so; `client.chat.completions.parse(..., response_format=...)`
# sends its JSON schema with the request, the API constrains the model's tokens to JSON of that
# schema, and the client turns the reply back into the pydantic object.
#
# What that guarantees: the reply parses, and every deal has a description, a *number* for its
# price and a URL. What it does not: that the number is the deal's price. A deal described as
# "$100 off" has a number in it that is a saving, not a price; the prompt warns the model, and
# the simulated feeds hold a few such deals to see it happen. Nor that the URL is one the model
# was shown, nor that anything is a good deal. So the scanner still checks what a schema cannot.

# %%
from pydantic import BaseModel, Field


# %%
# as in helpers.week8.deals: Deal, DealSelection, Opportunity
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


# %%
from helpers.language.frontier import make_client
from helpers.notebook import openai_endpoint
from helpers.week8.scanner import ScannerAgent

BASE_URL, API_KEY = openai_endpoint()  # None, None: OPENAI_BASE_URL / OPENAI_API_KEY; smoke: the stand-in
openai = make_client(BASE_URL, API_KEY)
MODEL = "gpt-4o-mini"  # the course's 2025 edition uses gpt-5-mini
user_prompt = (
    ScannerAgent.USER_PROMPT_PREFIX + "\n\n".join(d.describe() for d in scraped) + ScannerAgent.USER_PROMPT_SUFFIX
)
messages = [{"role": "system", "content": ScannerAgent.SYSTEM_PROMPT}, {"role": "user", "content": user_prompt}]
response = openai.chat.completions.parse(model=MODEL, messages=messages, response_format=DealSelection, seed=42)
selection = response.choices[0].message.parsed
for deal in selection.deals:
    print(f"${deal.price:,.2f}  {deal.url}\n{deal.product_description[:200]}\n")

# %% [markdown]
# ## The scanner agent
#
# The same steps in one agent, which leaves out the deals raised before (the memory, day 5) and
# checks each deal the model returns: a price above zero, a URL it was shown. A reply that does
# not fit the schema, or a call that fails, is one line in the log and no deals this time.

# %%
from pydantic import ValidationError

from helpers.language.frontier import FrontierAuthError, refusal
from helpers.plumbing.secrets import redact
from helpers.week8.agent import Agent
from helpers.week8.deals import ScrapedDeal


# %%
# as in helpers.week8.scanner: ScannerAgent
class ScannerAgent(Agent):
    name = "Scanner Agent"
    color = Agent.CYAN

    SYSTEM_PROMPT = """You identify and summarize the 5 most detailed deals from a list, by selecting deals that have \
the most detailed, high quality description and the most clear price.
Respond strictly in JSON with no explanation, using this format. You should provide the price as a number derived from \
the description. If the price of a deal isn't clear, do not include that deal in your response.
Most important is that you respond with the 5 deals that have the most detailed product description with price. It's \
not important to mention the terms of the deal; most important is a thorough description of the product.
Be careful with products that are described as "$XXX off" or "reduced by $XXX" - this isn't the actual price of the \
product. Only respond with products when you are highly confident about the price."""

    USER_PROMPT_PREFIX = """Respond with the most promising 5 deals from this list, selecting those which have the \
most detailed, high quality product description and a clear price that is greater than 0.
You should rephrase the description to be a summary of the product itself, not the terms of the deal.
Remember to respond with a short paragraph of text in the product_description field for each of the 5 items that you \
select.
Be careful with products that are described as "$XXX off" or "reduced by $XXX" - this isn't the actual price of the \
product. Only respond with products when you are highly confident about the price.

Deals:

"""

    USER_PROMPT_SUFFIX = "\n\nInclude exactly 5 deals, no more."

    def __init__(self, client, model: str = "gpt-4o-mini", feeds: FeedConfig | None = None):
        """`client`: an `openai.OpenAI` client (`helpers.language.frontier.make_client`)."""
        self.client, self.model, self.feeds = client, model, feeds or FeedConfig()
        self.log(f"Scanner Agent is ready: {len(self.feeds.feeds)} feeds, {model}")

    def fetch_deals(self, memory: set[str]) -> list[ScrapedDeal]:
        """The feeds' deals whose URL is not in `memory` (the deals raised before)."""
        self.log("Scanner Agent is about to fetch deals from the RSS feeds")
        scraped = fetch_deals(self.feeds, memory, self.log)
        self.log(f"Scanner Agent received {len(scraped)} deals not already raised")
        return scraped

    def make_user_prompt(self, scraped: list[ScrapedDeal]) -> str:
        return self.USER_PROMPT_PREFIX + "\n\n".join(deal.describe() for deal in scraped) + self.USER_PROMPT_SUFFIX

    def scan(self, memory: set[str] = frozenset()) -> DealSelection | None:
        """Up to five deals with a clear price, described by the model; None when there are none."""
        import openai

        scraped = self.fetch_deals(memory)
        if not scraped:
            return None
        messages = [
            {"role": "system", "content": self.SYSTEM_PROMPT},
            {"role": "user", "content": self.make_user_prompt(scraped)},
        ]
        self.log(f"Scanner Agent is calling {self.model} with structured outputs")
        problem = None
        try:
            response = self.client.chat.completions.parse(
                model=self.model, messages=messages, response_format=DealSelection, seed=42
            )
        except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
            problem = refusal(error, str(self.client.base_url), self.model)
        except ValidationError as error:
            self.log(f"Scanner Agent: the reply did not match DealSelection ({error.error_count()} problems): no deals")
            return None
        except (openai.APIError, openai.APIConnectionError, ValueError) as error:
            self.log(f"Scanner Agent: the call failed ({type(error).__name__}): no deals this time")
            return None
        if problem:
            raise FrontierAuthError(problem)  # outside the except block: nothing that could hold the key
        message = response.choices[0].message if response.choices else None
        if message is None or message.parsed is None:
            why = redact(message.refusal) if message is not None and message.refusal else "no parsed reply"
            self.log(f"Scanner Agent: {why}: no deals")
            return None
        return self.checked(message.parsed, {deal.url for deal in scraped}, memory)

    def checked(self, selection: DealSelection, shown: set[str], memory: set[str]) -> DealSelection:
        """The deals that a schema cannot vouch for left out: a price of 0 or less, a URL the
        model was not shown, a deal raised before."""
        kept, dropped = [], []
        for deal in selection.deals:
            if deal.price <= 0:
                dropped.append(f"no price ({deal.url})")
            elif deal.url not in shown:
                dropped.append(f"a URL it was not shown ({deal.url[:60]})")
            elif deal.url in memory:
                dropped.append(f"raised before ({deal.url})")
            else:
                kept.append(deal)
        for reason in dropped:
            self.log(f"Scanner Agent dropped a deal: {reason}")
        self.log(f"Scanner Agent received {len(kept)} selected deals with a price from {self.model}")
        return DealSelection(deals=kept)


# %%
from helpers.week8.agent import show_agent_logs

show_agent_logs(sys.stdout)  # the agents' lines below each cell
scanner = ScannerAgent(openai, MODEL, feeds)
found = scanner.scan()
print(f"{len(found.deals) if found else 0} deals with a clear price")

# %% [markdown]
# How the scanner's picks relate to what the feeds offered: each deal's price against the
# product's real price (known here, since the simulated deals are made from priced items). A
# point under the diagonal is a bargain; the ensemble (day 2) will have to find them without
# knowing the truth.

# %%
import matplotlib.pyplot as plt

from helpers.offline.deal_feed import DealFeed

if SMOKE:
    truth = {f"/deals/{d.number}.html": d for d in DealFeed().deals}  # the same seeded deals as the feeds
    picked = [(truth[deal.url[deal.url.index("/deals/") :]].item.price, deal.price) for deal in found.deals]
    figure, axes = plt.subplots(figsize=(5, 5))
    axes.scatter(*zip(*picked))
    top = max(max(p) for p in picked) * 1.1
    axes.plot([0, top], [0, top], color="grey", linestyle="--")
    axes.set_xlabel("the product's real price ($)")
    axes.set_ylabel("the simulated deal's price ($)")
    axes.set_title("The scanner's picks (simulated deals)")
    plt.show()
    # the deals that state only a saving ("$N off"): a careful scanner leaves every one out
    picked_paths = {deal.url[deal.url.index("/deals/") :] for deal in found.deals}
    savings = [d for d in truth.values() if d.price is None]
    for d in savings:
        print(
            f"${d.saving:,.0f} off, no price: {'PICKED' if d.path in picked_paths else 'left out'}: {d.item.title[:60]}"
        )
    print(f"{sum(d.path in picked_paths for d in savings)} of {len(savings)} saving-only deals picked")
else:
    figure, axes = plt.subplots(figsize=(6, 3))
    axes.barh(range(len(found.deals)), [deal.price for deal in found.deals])
    axes.set_yticks(range(len(found.deals)), [deal.product_description[:30] for deal in found.deals])
    axes.set_xlabel("deal price ($)")
    plt.show()

# %% [markdown]
# ## The messaging agent
#
# [Pushover](https://pushover.net) sends push notifications to your phone: sign up, create an
# application, and set two secrets, PUSHOVER_USER (your user key) and PUSHOVER_TOKEN (the
# application's token), in the environment, `.env` or Colab's secrets panel. Without them the
# notification is a line in the log. A notification that fails (no network, a refused token) is
# a line in the log too: it never stops the hunt. Neither key is ever shown.

# %%
from helpers.plumbing.secrets import get_secret
from helpers.week8.messaging import PUSHOVER_URL


# %%
# as in helpers.week8.messaging: MessagingAgent
class MessagingAgent(Agent):
    name = "Messaging Agent"
    color = Agent.WHITE

    def __init__(self, url: str = PUSHOVER_URL, timeout: float = 10.0):
        self.url, self.timeout = url, timeout
        self.user, self.token = get_secret("PUSHOVER_USER"), get_secret("PUSHOVER_TOKEN")
        how = "Pushover" if self.user and self.token else "the log (PUSHOVER_USER and PUSHOVER_TOKEN are not set)"
        self.log(f"Messaging Agent will notify by {how}")

    def push(self, text: str) -> bool:
        """Send `text`; True when it went (or was logged for want of Pushover keys)."""
        import httpx

        if not (self.user and self.token):
            self.log(f"Messaging Agent notification: {text}")
            return True
        self.log("Messaging Agent is sending a push notification")
        payload = {"user": self.user, "token": self.token, "message": text[:1024], "sound": "cashregister"}
        try:
            httpx.post(self.url, data=payload, timeout=self.timeout).raise_for_status()
        except httpx.HTTPStatusError as error:
            self.log(f"Messaging Agent: Pushover refused the notification (status {error.response.status_code})")
            return False
        except httpx.HTTPError as error:
            self.log(f"Messaging Agent: the notification could not be sent ({type(error).__name__})")
            return False
        self.log(f"Messaging Agent sent: {text}")
        return True

    def alert(self, opportunity: Opportunity) -> bool:
        """A notification about `opportunity`."""
        deal = opportunity.deal
        return self.notify(deal.product_description, deal.price, opportunity.estimate, deal.url)

    def notify(self, description: str, deal_price: float, estimated_true_value: float, url: str) -> bool:
        text = (
            f"Deal Alert! Price=${deal_price:,.2f}, Estimate=${estimated_true_value:,.2f}, "
            f"Discount=${estimated_true_value - deal_price:,.2f}: {description[:60]}... {url}"
        )
        return self.push(text)


# %%
messenger = MessagingAgent()
messenger.notify(
    "A special deal on a Samsung 60 inch LED TV going at a great bargain", 300, 1000, "https://example.com"
)
