"""What every week 8 agent shares: a name, a colour, and one way to say what it is doing.

Each agent logs through Python's `logging` under one logger, so the command line prints the
lines, the app shows them as they come, and a notebook sees them below the cell that runs.
"""

from __future__ import annotations

import logging
import sys

from helpers.core.items import Item
from helpers.core.prompts import PROMPT_2024, PromptFormat
from helpers.core.tester import usable_guess
from helpers.plumbing.errors import PricerError
from helpers.plumbing.secrets import redact

LOGGER = logging.getLogger("pricer.agents")


class Agent:
    """A part of the deal-hunting team: it says what it is doing, as itself, in its colour."""

    RED = "\033[31m"
    GREEN = "\033[32m"
    YELLOW = "\033[33m"
    BLUE = "\033[34m"
    MAGENTA = "\033[35m"
    CYAN = "\033[36m"
    WHITE = "\033[37m"
    BG_BLACK = "\033[40m"
    RESET = "\033[0m"

    name: str = "Agent"
    color: str = WHITE

    def log(self, message: str) -> None:
        LOGGER.info(f"{self.BG_BLACK}{self.color}[{self.name}] {message}{self.RESET}")


def show_agent_logs(stream=None) -> logging.Handler:
    """The agents' lines on `stream` (stderr), with the time, once however often it is called."""
    for handler in LOGGER.handlers:
        if getattr(handler, "pricer_console", False):
            return handler
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", datefmt="%H:%M:%S"))
    handler.pricer_console = True
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False  # not twice, through the root logger a notebook may have set up
    return handler


MAX_DESCRIPTION = 2000  # characters of a deal's description a pricer is shown: a page's worth, not a megabyte


def item_for(description: str, prompt: PromptFormat = PROMPT_2024) -> Item:
    """A deal's description as an item to price, in the training items' prompt: its first line the
    title, its price unknown (0, never read)."""
    text = description.strip()[:MAX_DESCRIPTION]
    return Item(title=text.split("\n", 1)[0][:100], price=0.0, category="Unknown", text=text, prompt_format=prompt)


class PricingAgent(Agent):
    """An agent that prices a description with a predictor of items (`pricer`): the Tester and the
    ensemble's fit give it items, the planner gives it a deal's description."""

    pricer = None
    prompt: PromptFormat = PROMPT_2024

    def price_item(self, item: Item) -> float | None:
        self.log(f"{self.name} is pricing {item.title[:40]!r}")
        try:
            guess = usable_guess(self.pricer(item))
        except PricerError as error:  # a service that is down, a refused key: this member sits it out
            self.log(f"{self.name} could not price it: {redact(str(error))}")
            return None
        self.log(f"{self.name} completed - predicting {'no price' if guess is None else f'${guess:,.2f}'}")
        return guess

    def price(self, description: str) -> float | None:
        return self.price_item(item_for(description, self.prompt))
