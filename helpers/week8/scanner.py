"""Week 8 day 3: the scanner agent reads deal feeds and has a frontier model pick the deals worth
pricing, answering in a shape fixed in advance (structured outputs).

`client.chat.completions.parse(..., response_format=DealSelection)` sends the pydantic model's
JSON schema with the request; the API then constrains the model to JSON of that schema, and the
client turns it back into a `DealSelection`. What that guarantees: the reply parses, every deal
has a description, a number for its price and a URL. What it does not: that the number is the
deal's price (not "$100 off"), that the URL is one the model was shown, that any deal is good.
So the scanner still checks: a price above zero, a URL from the feeds, not one raised before.
"""

from __future__ import annotations

from pydantic import ValidationError

from helpers.language.frontier import FrontierAuthError, refusal
from helpers.plumbing.secrets import redact
from helpers.week8.agent import Agent
from helpers.week8.deals import DealSelection, FeedConfig, ScrapedDeal, fetch_deals


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
