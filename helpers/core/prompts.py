"""The prompt's single owner: every text a model is shown, or answers in, is built here.

The course asks one question about an item's text and has the model finish "Price is $".
From that one definition come the training prompt, the test prompt (cut at the prefix), the
completion the loss falls on, the frontier model's chat messages, the OpenAI fine-tuning
examples, the cut of a hub data set's `text` column back into prompt and completion, and the
price read back from a reply. Change the question or the prefix here (or in an `ItemConfig`)
and all of them follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from helpers.core.prices import extract_price

QUESTION = "How much does this cost to the nearest dollar?"
QUESTION_2025 = "What does this cost to the nearest dollar?"  # the 2025 edition asks it of a summary
PREFIX = "Price is $"
SYSTEM = "You estimate prices of items. Reply only with the price, no explanation"
# The course's frontier prompt asks the question without the rounding instruction.
ROUNDING = " to the nearest dollar"
# Week 8's retrieval: similar items and their prices, shown before the question.
CONTEXT_INTRO = (
    "To provide some context, here are some other items that might be similar to the item you need to estimate."
)
CONTEXT_ITEM = "Potentially related product:"
CONTEXT_QUESTION = "And now the question for you:"
# The 2025 edition's summarising preprocessor (week 6 day 2), word for word.
SUMMARY_SYSTEM = """Create a concise description of a product. Respond only in this format. Do not include part numbers.
Title: Rewritten short precise title
Category: eg Electronics
Brand: Brand name
Description: 1 sentence description
Details: 1 sentence on features"""


@dataclass(frozen=True)
class PromptFormat:
    """How an item's text becomes a prompt, and how a price becomes the answer."""

    question: str = QUESTION
    prefix: str = PREFIX
    system: str = SYSTEM

    # --- open models -----------------------------------------------------------------------

    def test_prompt(self, text: str) -> str:
        """Everything but the price: the model writes what comes next."""
        return f"{self.question}\n\n{text}\n\n{self.prefix}"

    def completion(self, price: float) -> str:
        """What the model should write after the test prompt: whole dollars."""
        return f"{round(price)}.00"

    def training_prompt(self, text: str, price: float) -> str:
        return self.test_prompt(text) + self.completion(price)

    def split(self, prompt: str) -> tuple[str, str]:
        """A training prompt cut into (test prompt, completion), at the last prefix."""
        cut = prompt.rindex(self.prefix) + len(self.prefix)
        return prompt[:cut], prompt[cut:]

    def text_of(self, prompt: str) -> str:
        """The item's text back from a training or test prompt."""
        body = prompt.removeprefix(f"{self.question}\n\n")
        marker = f"\n\n{self.prefix}"
        return body[: body.rindex(marker)] if marker in body else body

    def price_in(self, reply: object) -> float | None:
        """The price a model wrote: the first number after the prefix, else the first number."""
        return extract_price(reply, self.prefix)

    # --- chat models -----------------------------------------------------------------------

    @property
    def user_question(self) -> str:
        return self.question.replace(ROUNDING, "")

    def messages(self, text: str, similar: Sequence[tuple[str, float]] = ()) -> list[dict[str, str]]:
        """The course's frontier prompt: system, the item, and an answer begun with the prefix.
        With `similar` (text, price) pairs, week 8's: those items and their prices come first."""
        question = f"{self.user_question}\n\n{text}"
        if similar:
            shown = "".join(f"{CONTEXT_ITEM}\n{other}\n{self.prefix}{price:.2f}\n\n" for other, price in similar)
            question = f"{CONTEXT_INTRO}\n\n{shown}{CONTEXT_QUESTION}\n\n{question}"
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": question},
            {"role": "assistant", "content": self.prefix},
        ]

    def chat_example(self, text: str, price: float) -> dict[str, Any]:
        """One OpenAI fine-tuning example: the same chat, answered in full."""
        system, user, _ = self.messages(text)
        answer = {"role": "assistant", "content": self.prefix + self.completion(price)}
        return {"messages": [system, user, answer]}

    # --- storage ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, str]:
        """Only what differs from the course's prompt, so course items stay as they were."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != f.default}

    @classmethod
    def from_dict(cls, row: dict[str, Any], base: PromptFormat | None = None) -> PromptFormat:
        """The prompt a stored row names: `base` (the course's) with the fields the row gives."""
        given = {f.name: row[f.name] for f in fields(cls) if isinstance(row.get(f.name), str) and row[f.name]}
        return replace(base or PROMPT_2024, **given)


PROMPT_2024 = PromptFormat()
PROMPT_2025 = PromptFormat(question=QUESTION_2025)


def summary_messages(text: str) -> list[dict[str, str]]:
    """The chat that asks a model for the 2025 edition's five-line summary of an item."""
    return [{"role": "system", "content": SUMMARY_SYSTEM}, {"role": "user", "content": text}]
