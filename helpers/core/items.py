"""Item: one product, cleaned the course's way, with its training and test prompts.

`build_item` turns one raw Amazon Reviews 2023 metadata record into an `Item`, or into the
name of the rule that rejected it. The rules and defaults are the course's; they live in
`ItemConfig` so a notebook or the command line can change them without copying constants.

Nothing heavy happens at import: the tokenizer is loaded the first time an item needs it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from helpers.core.prices import parse_raw_price
from helpers.core.prompts import PROMPT_2024, PROMPT_2025, PromptFormat
from helpers.core.token_rules import cut_and_count
from helpers.errors import TokenizerError
from helpers.hub import TOKENIZER_FILES, check_folder, check_tokenizer_file, explain
from helpers.presets import BASE_MODEL

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
    prompt: PromptFormat = PROMPT_2024
    min_tokens: int = MIN_TOKENS
    max_tokens: int = MAX_TOKENS
    min_chars: int = MIN_CHARS
    ceiling_chars: int = CEILING_CHARS
    min_price: float = MIN_PRICE
    max_price: float = MAX_PRICE
    max_field_chars: int = MAX_FIELD_CHARS  # a longer title, description, features or details is junk


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


@lru_cache(maxsize=4)
def get_tokenizer(name: str):
    """Load a tokenizer once per process, from the hub or a local folder."""
    from transformers import AutoTokenizer

    check_folder(name, TOKENIZER_FILES, "tokenizer", TokenizerError)
    check_tokenizer_file(name, TokenizerError)  # one rule for a tokenizer.json cut short
    try:
        return AutoTokenizer.from_pretrained(name)
    except OSError as error:  # not on disk, not in the hub cache, gated, or unreachable
        raise TokenizerError(f"cannot load tokenizer {name!r}: {explain(error)}") from None


def used_details(details: dict[str, Any]) -> dict[str, Any]:
    return {key: details[key] for key in USED_DETAILS if key in details}


def scrub_details(details: str) -> str:
    for remove in REMOVALS:
        details = details.replace(remove, "")
    return details


def scrub(text: str) -> str:
    """The course's text clean-up: junk characters to spaces, and no long part numbers."""
    text = _JUNK.sub(" ", text).strip()
    text = text.replace(" ,", ",").replace(",,,", ",").replace(",,", ",")
    words = text.split(" ")
    kept = [word for word in words if len(word) < 7 or not any(map(str.isdigit, word))]
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


@dataclass
class Draft:
    """A record that passed every rule checked before tokenizing, with its scrubbed text."""

    title: str
    price: float
    category: str
    details: dict[str, Any]
    text: str


def draft(record: dict[str, Any], category: str, config: ItemConfig) -> Draft | str:
    """The course's rules up to the tokenizer: a Draft, or the name of the rule the record failed."""
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
    details_text = json.dumps(details, ensure_ascii=False) if details else ""
    longest = max(len(title), sum(map(len, description)), sum(map(len, features)), len(details_text))
    if longest > config.max_field_chars:
        return "field_too_long"  # before any scrubbing or tokenizing, which it would make slow

    contents = "\n".join(description)
    if contents:
        contents += "\n"
    if features:
        contents += "\n".join(features) + "\n"
    if details:
        contents += scrub_details(details_text) + "\n"
    if not contents.strip():
        return "empty_text"
    if len(contents) <= config.min_chars:
        return "too_few_chars"
    contents = contents[: config.ceiling_chars]
    return Draft(title, raw.price, category, used_details(details), f"{scrub(title)}\n{scrub(contents)}")


def build_items(drafts: list[Draft], config: ItemConfig) -> list[Item | str]:
    """The course's token rules for many drafts at once: each text cut to `max_tokens` tokens
    (encoded, cut and decoded, as the course does), and the training prompt's tokens counted.
    The tokenizer sees the whole batch in one call of its Rust core, not one call per record."""

    if not drafts:
        return []
    tokenizer = get_tokenizer(config.tokenizer)
    cuts = cut_and_count(
        tokenizer,
        [d.text for d in drafts],
        [d.price for d in drafts],
        config.prompt,
        config.min_tokens,
        config.max_tokens,
    )
    results: list[Item | str] = []
    for d, cut in zip(drafts, cuts):
        if cut is None:
            results.append("too_few_tokens")
        elif config.prompt.prefix in cut[0]:
            results.append("text_contains_prefix")  # the test prompt would give the answer away
        else:
            text, count = cut
            results.append(Item(d.title, d.price, d.category, text, d.details, count, config.prompt))
    return results


def build_item(record: dict[str, Any], category: str, config: ItemConfig) -> Item | str:
    """One raw record to an Item, or the name of the rule it failed."""
    drafted = draft(record, category, config)
    return drafted if isinstance(drafted, str) else build_items([drafted], config)[0]
