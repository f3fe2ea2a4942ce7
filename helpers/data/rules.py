"""The course's item rules: a raw Amazon record to an Item, or the name of the rule it failed.

Title, price in range, enough text, the boilerplate scrubbed, the text cut to the base model's
160 tokens (`token_rules`), and the training prompt's tokens counted. The base model's tokenizer
(the edition's, `helpers.presets`) is loaded the first time an item needs it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from helpers.core.items import (
    CEILING_CHARS,
    MAX_FIELD_CHARS,
    MAX_PRICE,
    MAX_TOKENS,
    MIN_CHARS,
    MIN_PRICE,
    MIN_TOKENS,
    Item,
    used_details,
)
from helpers.core.prices import parse_raw_price
from helpers.core.prompts import PROMPT_2024, PromptFormat
from helpers.data.token_rules import cut_and_count
from helpers.plumbing.errors import TokenizerError
from helpers.plumbing.hub import TOKENIZER_FILES, check_folder, check_tokenizer_file, explain
from helpers.presets import BASE_MODEL

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
