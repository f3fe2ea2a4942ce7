"""Prices: read one from a raw metadata value, or from a model's free-text reply.

Two different jobs with one shared rule: a price is a non-negative number of dollars, commas
allowed as thousands separators. Neither function raises on bad input; they say why instead,
so that loaders can count skips and the Tester can count failed replies.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?|\.\d+")
_MISSING = {"", "none", "null", "nan", "n/a", "na", "-", "—"}
_RANGE = re.compile(r"\d\s*(?:-|–|—|to)\s*\$?\s*\d")


@dataclass(frozen=True)
class RawPrice:
    """A raw price field, read: either `price` is set or `reason` says why not."""

    price: float | None
    reason: str | None = None


def parse_raw_price(value: object) -> RawPrice:
    """Read the `price` field of a raw Amazon record.

    The data set ships floats, null, the string "None", "$1,299.99", ranges such as
    "$10.99 - $15.99" and the odd piece of junk. Ranges are not one price, so they are refused.
    """
    if value is None:
        return RawPrice(None, "price_missing")
    if isinstance(value, bool):
        return RawPrice(None, "price_not_a_number")
    if isinstance(value, (int, float)):
        price = float(value)
        if not math.isfinite(price):
            return RawPrice(None, "price_not_a_number")
        return RawPrice(price)
    if not isinstance(value, str):
        return RawPrice(None, "price_not_a_number")
    text = value.strip()
    if text.lower() in _MISSING:
        return RawPrice(None, "price_missing")
    if _RANGE.search(text):
        return RawPrice(None, "price_range")
    cleaned = text.removeprefix("US").strip().removeprefix("$").strip()
    if not re.fullmatch(r"\d+(?:,\d{3})*(?:\.\d+)?|\.\d+", cleaned):
        return RawPrice(None, "price_not_a_number")
    price = float(cleaned.replace(",", ""))
    return RawPrice(price)


def extract_price(reply: str | None, prefix: str | None = None) -> float | None:
    """The price a model wrote: the first number after `prefix` (when the reply holds it),
    else the first number.

    Returns None when there is no number at all; callers count that as a failed reply rather
    than guessing $0 the way the course's version did.
    """
    if not reply:
        return None
    text = reply
    if prefix and prefix in text:
        text = text.split(prefix, 1)[1]
    match = _NUMBER.search(text)
    if match is None:
        return None
    return float(match.group().replace(",", ""))
