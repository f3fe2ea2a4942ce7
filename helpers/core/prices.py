"""Prices: read one from a raw metadata value, or from a model's free-text reply.

Two different jobs with one shared rule: a price is a non-negative, finite number of dollars
below `MAX_PRICE`, commas allowed as thousands separators. A negative number, an exponent
("1e9") or an absurd magnitude is refused, never read as a different number. Neither function
raises on bad input; they say why instead, so that loaders can count skips and the Tester can
count failed replies.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

MAX_PRICE = 10_000_000.0  # dollars: anything above is not a price but a broken number
# A number as a person or a model writes it, with what stands right before and after it, so
# that "-5" is seen as negative and "1e9" as an exponent rather than as 5 and 1.
_NUMBER = re.compile(
    r"(?P<sign>(?<![\w.])-\s*\$?\s*)?(?P<number>\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)(?P<exponent>[eE][-+]?\d+)?"
)
_MISSING = {"", "none", "null", "nan", "n/a", "na", "-", "—"}
_RANGE = re.compile(r"\d\s*(?:-|–|—|to)\s*\$?\s*\d")
_PLAIN = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?|\.\d+")
# A decimal comma, as a spreadsheet in much of Europe writes a number: "84,95", "1.299,99",
# "0,33333" (never three digits after one comma alone: "1,299" is a thousand and more).
_DECIMAL_COMMA = re.compile(r"-?(?:\d{1,3}(?:\.\d{3})+,\d+|\d+,(?:\d{1,2}|\d{4,}))")

# A digit group's mark as people and spreadsheets type it: "1 299,99" (a space, a no-break space
# U+00A0, a narrow one U+202F, a thin one U+2009), "1'299.99" (Switzerland), "1’299.99".
_GROUP_MARK = re.compile(r"(?<=\d)[ \u00a0\u202f\u2009'’](?=\d{3}(?!\d))")
_THOUSANDS = re.compile(r"(?P<number>.*\d)\s?[kK]", re.DOTALL)  # "1.2k": 1,200
_GLUED = re.compile(r"\d[^\W\d_]")  # "1.5M", "12x": a number that means something else


@dataclass(frozen=True)
class Price:
    """A price read from somewhere: either `price` is set or `reason` says why not."""

    price: float | None
    reason: str | None = None


def _checked(value: float) -> Price:
    if not math.isfinite(value):
        return Price(None, "price_not_a_number")
    if value < 0:
        return Price(None, "price_negative")
    if value > MAX_PRICE:
        return Price(None, "price_too_large")
    return Price(value)


def parse_raw_price(value: object) -> Price:
    """Read the `price` field of a raw Amazon record.

    The data set ships floats, null, the string "None", "$1,299.99", ranges such as
    "$10.99 - $15.99" and the odd piece of junk. Ranges are not one price, so they are refused.
    """
    if value is None:
        return Price(None, "price_missing")
    if isinstance(value, bool):
        return Price(None, "price_not_a_number")
    if isinstance(value, (int, float)):
        try:
            return _checked(float(value))
        except OverflowError:  # an integer of hundreds of digits
            return Price(None, "price_too_large")
    if not isinstance(value, str):
        return Price(None, "price_not_a_number")
    text = value.strip()
    if text.lower() in _MISSING:
        return Price(None, "price_missing")
    if _RANGE.search(text):
        return Price(None, "price_range")
    cleaned = text.removeprefix("US").strip().removeprefix("$").strip()
    if not _PLAIN.fullmatch(cleaned):
        return Price(None, "price_not_a_number")
    return _checked(float(cleaned.replace(",", "")))


def reply_text(content: object) -> str | None:
    """A reply's content as text. A server that follows the API sends a string; one that does
    not may send a JSON number (`42`: read as the text "42"), or a list of content parts (their
    text joined). Anything else (a dict, true) is no text: None, a counted failure, never a crash."""
    if isinstance(content, str):
        return content
    if isinstance(content, int | float) and not isinstance(content, bool):
        return repr(content) if math.isfinite(content) else None
    if isinstance(content, list):
        parts = [part.get("text") if isinstance(part, dict) else getattr(part, "text", None) for part in content]
        texts = [part for part in parts if isinstance(part, str)]
        return "".join(texts) if texts else None
    return None


def read_reply(reply: object, prefix: str | None = None) -> Price:
    """The price a model (or a person) wrote: the first number after `prefix` when the reply
    holds it, else the first number. `reason` is "no_number" when there is none at all. A reply
    that is not text is read through `reply_text` (a JSON number as its digits)."""
    text = reply_text(reply)
    if not text:
        return Price(None, "no_number")
    if prefix and prefix in text:
        text = text.split(prefix, 1)[1]
    match = _NUMBER.search(text)
    if match is None:
        return Price(None, "no_number")
    if match["sign"]:
        return Price(None, "price_negative")
    if match["exponent"]:
        return Price(None, "price_exponent")
    digits = match["number"].replace(",", "")
    if len(digits.split(".")[0]) > len(str(int(MAX_PRICE))):
        return Price(None, "price_too_large")  # before float(): 300 digits would read as 1e299
    return _checked(float(digits))


def decimal_point(cell: str) -> str:
    """A number typed into a spreadsheet's cell with its decimal mark as a point: "84,95" and
    "1.299,99" become "84.95" and "1299.99"; "1,299.99" and "1,299" (thousands) stay as they are."""
    text = cell.strip()
    if _DECIMAL_COMMA.fullmatch(text.removeprefix("$").strip()):
        return text.replace(".", "").replace(",", ".")
    return text


def read_cell(cell: str) -> Price:
    """A price typed into a spreadsheet's cell, never read as 84 when it says "84,95" nor as 1
    when it says "1 299,99": digit groups joined (`_GROUP_MARK`), "1.2k" as 1,200, the decimal
    mark through `decimal_point`, then the rules of `read_reply`. A cell that still holds two
    numbers, or a number with letters glued on ("1.5M"), is "price_unclear": a failure, not a guess."""
    text = _GROUP_MARK.sub("", cell.strip())
    scaled = _THOUSANDS.fullmatch(text)
    text = decimal_point(scaled["number"] if scaled else text)
    read = read_reply(text)
    if read.price is None:
        return read
    if len(_NUMBER.findall(text)) > 1 or _GLUED.search(text):
        return Price(None, "price_unclear")
    return _checked(read.price * 1000) if scaled else read


def extract_price(reply: object, prefix: str | None = None) -> float | None:
    """The price in a reply, or None: callers count that as a failed reply rather than
    guessing $0 the way the course's version did."""
    return read_reply(reply, prefix).price
