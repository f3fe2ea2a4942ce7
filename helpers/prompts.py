"""The prompt's single owner: every text a model is shown, or answers in, is built here.

The course asks one question about an item's text and has the model finish "Price is $".
From that one definition come the training prompt, the test prompt (cut at the prefix), the
completion the loss falls on, the frontier model's chat messages, the OpenAI fine-tuning
examples, the cut of a hub data set's `text` column back into prompt and completion, and the
price read back from a reply. Change the question or the prefix here (or in an `ItemConfig`)
and all of them follow.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from helpers.prices import extract_price

QUESTION = "How much does this cost to the nearest dollar?"
PREFIX = "Price is $"
SYSTEM = "You estimate prices of items. Reply only with the price, no explanation"
# The course's frontier prompt asks the question without the rounding instruction.
ROUNDING = " to the nearest dollar"


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

    def price_in(self, reply: str | None) -> float | None:
        """The price a model wrote: the first number after the prefix, else the first number."""
        return extract_price(reply, self.prefix)

    # --- chat models -----------------------------------------------------------------------

    @property
    def user_question(self) -> str:
        return self.question.replace(ROUNDING, "")

    def messages(self, text: str) -> list[dict[str, str]]:
        """The course's frontier prompt: system, the item, and an answer begun with the prefix."""
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": f"{self.user_question}\n\n{text}"},
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
    def from_dict(cls, row: dict[str, Any]) -> PromptFormat:
        given = {f.name: row[f.name] for f in fields(cls) if isinstance(row.get(f.name), str) and row[f.name]}
        return replace(COURSE, **given)


COURSE = PromptFormat()
