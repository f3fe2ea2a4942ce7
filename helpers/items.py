"""Item: one product, cleaned the course's way, with its training and test prompts.

`build_item` turns one raw Amazon Reviews 2023 metadata record into an `Item`, or into the
name of the rule that rejected it. The rules and defaults are the course's; they live in
`ItemConfig` so a notebook or the command line can change them without copying constants.

Nothing heavy happens at import: the tokenizer is loaded the first time an item needs it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from helpers.prices import PREFIX, parse_raw_price

QUESTION = "How much does this cost to the nearest dollar?"
BASE_MODEL = "meta-llama/Meta-Llama-3.1-8B"
MIN_TOKENS = 150
MAX_TOKENS = 160
MIN_CHARS = 300
CEILING_CHARS = MAX_TOKENS * 7
MIN_PRICE = 0.5
MAX_PRICE = 999.49

# Boilerplate the course strips from the JSON text of the `details` field.
REMOVALS = (
    '"Batteries Included?": "No"',
    '"Batteries Included?": "Yes"',
    '"Batteries Required?": "No"',
    '"Batteries Required?": "Yes"',
    "By Manufacturer",
    "Item",
    "Date First",
    "Package",
    ":",
    "Number of",
    "Best Sellers",
    "Number",
    "Product ",
)

_JUNK = re.compile(r'[:\[\]"{}【】\s]+')


@dataclass
class ItemConfig:
    """The course's item rules. Change a field, not a constant."""

    tokenizer: str = BASE_MODEL  # hub id or local tokenizer folder
    question: str = QUESTION
    prefix: str = PREFIX
    min_tokens: int = MIN_TOKENS
    max_tokens: int = MAX_TOKENS
    min_chars: int = MIN_CHARS
    ceiling_chars: int = CEILING_CHARS
    min_price: float = MIN_PRICE
    max_price: float = MAX_PRICE


@dataclass
class Item:
    """A product with a price. `text` starts with the scrubbed title line."""

    title: str
    price: float
    category: str
    text: str
    details: dict[str, Any] = field(default_factory=dict)
    token_count: int = 0
    question: str = field(default=QUESTION, repr=False)
    prefix: str = field(default=PREFIX, repr=False)

    @property
    def completion(self) -> str:
        """What the model should write after the test prompt."""
        return f"{round(self.price)}.00"

    @property
    def prompt(self) -> str:
        """The training prompt: question, text, and the answer."""
        return self.test_prompt() + self.completion

    def test_prompt(self) -> str:
        """The same prompt cut at the prefix: everything but the price."""
        return f"{self.question}\n\n{self.text}\n\n{self.prefix}"

    def to_dict(self) -> dict[str, Any]:
        row = asdict(self)
        if row["question"] == QUESTION:
            del row["question"]
        if row["prefix"] == PREFIX:
            del row["prefix"]
        return row

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Item:
        """An item from a curated items file (`title`, `category`, `price`, `text`, ...)."""
        details = row.get("details") or {}
        if isinstance(details, str):
            details = json.loads(details)
        return cls(
            title=str(row["title"]),
            price=float(row["price"]),
            category=str(row.get("category") or "Unknown"),
            text=str(row["text"]),
            details=details,
            token_count=int(row.get("token_count") or 0),
            question=row.get("question") or QUESTION,
            prefix=row.get("prefix") or PREFIX,
        )


def item_from_prompt(prompt: str, price: float, category: str = "Unknown") -> Item:
    """An Item back from a hub row (`text` is a training or test prompt, `price` the price)."""
    body = prompt.removeprefix(f"{QUESTION}\n\n")
    text = body[: body.rindex(f"\n\n{PREFIX}")] if f"\n\n{PREFIX}" in body else body
    return Item(title=text.split("\n", 1)[0], price=float(price), category=category, text=text)


class TokenizerError(RuntimeError):
    """A tokenizer could not be loaded; the message says what to do in one line."""


@lru_cache(maxsize=4)
def get_tokenizer(name: str):
    """Load a tokenizer once per process, from the hub or a local folder."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(name)
    except Exception as error:  # transformers raises OSError, ValueError, hub errors...
        from helpers.hub import explain

        raise TokenizerError(f"cannot load tokenizer {name!r}: {explain(error)}") from None


def scrub_details(details: str) -> str:
    for remove in REMOVALS:
        details = details.replace(remove, "")
    return details


def scrub(text: str) -> str:
    """The course's text clean-up: junk characters to spaces, and no long part numbers."""
    text = _JUNK.sub(" ", text).strip()
    text = text.replace(" ,", ",").replace(",,,", ",").replace(",,", ",")
    words = text.split(" ")
    kept = [word for word in words if len(word) < 7 or not any(ch.isdigit() for ch in word)]
    return " ".join(kept)


def _details_dict(value: object) -> tuple[dict[str, Any] | None, str | None]:
    if value is None or value == "":
        return {}, None
    if isinstance(value, dict):
        return value, None
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return None, "details_not_json"
        if isinstance(parsed, dict):
            return parsed, None
    return None, "details_not_a_dict"


def _lines(value: object) -> list[str] | None:
    """`description` and `features` are lists of strings; accept a lone string too."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def build_item(record: dict[str, Any], category: str, config: ItemConfig) -> Item | str:
    """One raw record to an Item, or the name of the rule it failed."""
    title = record.get("title")
    if not isinstance(title, str) or not title.strip():
        return "no_title"
    raw = parse_raw_price(record.get("price"))
    if raw.price is None:
        return raw.reason or "price_not_a_number"
    if not config.min_price <= raw.price <= config.max_price:
        return "price_out_of_range"
    description = _lines(record.get("description"))
    features = _lines(record.get("features"))
    if description is None or features is None:
        return "text_fields_not_lists"
    details, reason = _details_dict(record.get("details"))
    if details is None:
        return reason or "details_not_a_dict"

    contents = "\n".join(description)
    if contents:
        contents += "\n"
    if features:
        contents += "\n".join(features) + "\n"
    if details:
        contents += scrub_details(json.dumps(details, ensure_ascii=False)) + "\n"
    if not contents.strip():
        return "empty_text"
    if len(contents) <= config.min_chars:
        return "too_few_chars"
    contents = contents[: config.ceiling_chars]
    text = f"{scrub(title)}\n{scrub(contents)}"

    tokenizer = get_tokenizer(config.tokenizer)
    tokens = tokenizer.encode(text, add_special_tokens=False)
    if len(tokens) <= config.min_tokens:
        return "too_few_tokens"
    text = tokenizer.decode(tokens[: config.max_tokens])
    if config.prefix in text:
        return "text_contains_prefix"  # the test prompt would give the answer away
    item = Item(
        title=title,
        price=raw.price,
        category=category,
        text=text,
        details=details,
        question=config.question,
        prefix=config.prefix,
    )
    item.token_count = len(tokenizer.encode(item.prompt, add_special_tokens=False))
    return item
