"""Item: one priced product, with its training and test prompts, and the course's limits on one.

How a raw Amazon record becomes an Item (the course's rules, the tokenizer's cut) is the data
stage's: `helpers.data.rules`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from helpers.core.prompts import PROMPT_2024, PROMPT_2025, PromptFormat

MIN_TOKENS = 150
MAX_TOKENS = 160
SUMMARY_TOKENS = 110  # the 2025 edition cuts an item's summary to this many tokens
MIN_CHARS = 300
CEILING_CHARS = MAX_TOKENS * 7
MIN_PRICE = 0.5
MAX_PRICE = 999.49
# The most characters of an item's text that any prompt shows. A curated text is MAX_TOKENS
# tokens at most, a few characters each (the bundled items' are under 1,000 characters), so only
# a text no curate made is longer (a hand-made items file, a 1 MB description): it is cut, so
# that one item never costs a model's memory (a batch of 1 MB prompts) or a paid megabyte.
MAX_TEXT_CHARS = MAX_TOKENS * 16
MAX_FIELD_CHARS = 100_000  # no real product's field is this long; a hostile one costs seconds and gigabytes

# The entries of `details` that later stages read (the feature baselines); an item keeps only
# these, since the whole dict costs kilobytes an item: gigabytes for the course's 2.8 million.
USED_DETAILS = ("Item Weight", "Best Sellers Rank", "Brand")


# Boilerplate the course strips from the JSON text of the `details` field.
@dataclass
class Item:
    """A product with a price. `text` starts with the scrubbed title line."""

    title: str
    price: float
    category: str
    text: str
    details: dict[str, Any] = field(default_factory=dict)
    token_count: int = 0
    prompt_format: PromptFormat = field(default=PROMPT_2024, repr=False)
    summary: str | None = field(default=None, repr=False)  # the 2025 edition's LLM-written summary

    @property
    def completion(self) -> str:
        """What the model should write after the test prompt."""
        return self.prompt_format.completion(self.price)

    @property
    def prompt(self) -> str:
        """The training prompt: question, text, and the answer."""
        return self.prompt_format.training_prompt(self.text, self.price)

    def test_prompt(self) -> str:
        """The same prompt cut at the prefix: everything but the price."""
        return self.prompt_format.test_prompt(self.text)

    def messages(self) -> list[dict[str, str]]:
        """The chat a frontier model is shown: system, question and text, "Price is $"."""
        return self.prompt_format.messages(self.text)

    def to_dict(self) -> dict[str, Any]:
        """A row of an items file; the prompt's fields only where they are not the course's."""
        row = {
            "title": self.title,
            "price": self.price,
            "category": self.category,
            "text": self.text,
            "details": self.details,
            "token_count": self.token_count,
        }
        if self.summary is not None:
            row["summary"] = self.summary
        return {**row, **self.prompt_format.to_dict()}

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Item:
        """An item from a curated items file: the 2024 shape (`title`, `category`, `price`,
        `text`, `details`) or the 2025 one (`summary` in place of `text`, and `weight`), whose
        prompt asks the 2025 edition's question unless the row names another."""
        details = row.get("details") or {}
        if isinstance(details, str):
            details = json.loads(details)
        details = used_details(details)
        weight = row.get("weight")
        if isinstance(weight, int | float) and weight > 0 and "Item Weight" not in details:
            details["Item Weight"] = f"{weight} pounds"  # where the feature baselines read it
        summary = row.get("summary")
        text = row.get("text") or summary
        prompt_format = PromptFormat.from_dict(row, base=None if row.get("text") else PROMPT_2025)
        return cls(
            title=str(row["title"]),
            price=float(row["price"]),
            category=str(row.get("category") or "Unknown"),
            text=str(text),
            details=details,
            token_count=int(row.get("token_count") or 0),
            prompt_format=prompt_format,
            summary=str(summary) if summary else None,
        )


def item_key(item: Item) -> str:
    """The same item gives the same key in every notebook and on every machine: a digest of its
    test prompt, by which kept answers are matched to items."""
    return hashlib.sha256(item.test_prompt().encode("utf-8")).hexdigest()[:20]


def cut_summary(summary: str, tokenizer, max_tokens: int = SUMMARY_TOKENS) -> str:
    """The 2025 edition's cut: a summary longer than `max_tokens` tokens is encoded, cut,
    decoded and stripped at the end; a shorter one is kept as written."""
    tokens = tokenizer.encode(summary, add_special_tokens=False)
    return tokenizer.decode(tokens[:max_tokens]).rstrip() if len(tokens) > max_tokens else summary


def prompt_item(item: Item, tokenizer=None, max_tokens: int = MAX_TOKENS) -> Item:
    """`item` as a prompt shows it: itself, unless its text is longer than any curated text
    (MAX_TEXT_CHARS); then a copy whose text is cut to that many characters and, given the
    model's tokenizer, to `max_tokens` tokens, as curate cut the texts the model learnt from."""
    if len(item.text) <= MAX_TEXT_CHARS:
        return item
    text = item.text[:MAX_TEXT_CHARS]
    if tokenizer is not None:
        text = cut_summary(text, tokenizer, max_tokens)
    return replace(item, text=text)


def cut_line(item: Item, shown: str) -> str:
    """The line that says an item's text was cut for its prompt, and to what."""
    return f"{item.title[:40]!r}: its text is {len(item.text):,} characters, longer than any curated item's: {shown}"


def used_details(details: dict[str, Any]) -> dict[str, Any]:
    return {key: details[key] for key in USED_DETAILS if key in details}
