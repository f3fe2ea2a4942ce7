"""The 2025 edition's summarising preprocessor (week 6 day 2): a chat model rewrites each item's
text into five lines (title, category, brand, a sentence of description, a sentence on its
features; no part numbers), and the 2025 prompt asks its question of that summary, cut to 110
tokens.

Any OpenAI-compatible model does it (the course uses gpt-oss-20b on Groq), through the frontier
module's machinery: replies cached on disk (a re-run, or a run after Ctrl-C, pays only for what
it has not asked yet), a few requests in flight, the client's retries, a stop after a refused
key or too many failures in a row, and the calls, tokens and cost reported at the end. The
course summarises each product's full raw text; a curated item keeps its cleaned text, cut to
160 tokens, and that is what is summarised here.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field, replace

from helpers import presets
from helpers.core.items import SUMMARY_TOKENS, Item, cut_summary
from helpers.core.prompts import PROMPT_2025, PromptFormat, summary_messages
from helpers.data.hub_datasets import read_items
from helpers.data.item_files import save_items
from helpers.data.rules import get_tokenizer
from helpers.language.frontier import Chat, FrontierConfig
from helpers.plumbing.errors import DataError


@dataclass
class SummaryConfig:
    """How a summary becomes the 2025 edition's prompt."""

    tokenizer: str = presets.COURSE_2025.base_model  # the tokenizer the summary's token cut is counted in
    summary_tokens: int = SUMMARY_TOKENS  # tokens a summary is cut to
    batch: int = 64  # items asked for at once; the progress bar moves a batch at a time
    prompt: PromptFormat = field(default=PROMPT_2025, metadata={"cli": False})


class Summariser(Chat):
    """Items to items with summaries: `summarise(items)` returns those it could summarise and
    the count of those it could not, by reason."""

    default_max_tokens = 300  # five short lines; a longer reply is cut by the server

    def __init__(self, config: FrontierConfig | None = None, summary: SummaryConfig | None = None):
        super().__init__(config)
        self.summary = summary or SummaryConfig()

    def summarised(self, item: Item, reply: str) -> Item:
        """`item` in the 2025 shape: its summary kept whole, its prompt made from the cut."""
        tokenizer = get_tokenizer(self.summary.tokenizer)
        text = cut_summary(reply, tokenizer, self.summary.summary_tokens)
        prompt = self.summary.prompt.training_prompt(text, item.price)
        count = len(tokenizer.encode(prompt, add_special_tokens=True))
        return replace(item, text=text, summary=reply, prompt_format=self.summary.prompt, token_count=count)

    def summarise(self, items: list[Item], progress: bool = True) -> tuple[list[Item], Counter]:
        from tqdm.auto import tqdm

        done: list[Item] = []
        skipped: Counter = Counter()
        with tqdm(total=len(items), desc="summaries", unit="item", disable=not progress) as bar:
            for start in range(0, len(items), self.summary.batch):
                batch = items[start : start + self.summary.batch]
                replies = self.ask([(item.title, summary_messages(item.text)) for item in batch])
                for item, reply in zip(batch, replies):
                    if reply is None:
                        skipped["request_failed"] += 1
                    elif not reply.strip():
                        skipped["empty_summary"] += 1
                    else:
                        done.append(self.summarised(item, reply.strip()))
                bar.update(len(batch))
        return done, skipped

    def summarise_file(self, source: str, out: str, limit: int | None = None, progress: bool = True) -> dict:
        """The command line's `summarise`: the first `limit` items of `source` summarised into
        `out`, the calls and cost said on stderr; returns the counts. None summarised writes nothing."""
        items = read_items(source)[:limit]
        done, skipped = self.summarise(items, progress=progress)
        print(f"{self.config.model}: {self.stats}", file=sys.stderr, flush=True)
        if not done:
            raise DataError(f"none of the {len(items)} items was summarised ({dict(skipped)}): nothing written")
        save_items(done, out)
        s = self.stats
        row = {"items": len(items), "summarised": len(done), "skipped": dict(skipped), "out": out}
        return {**row, "calls": s.calls, "cached": s.cached, "cost": round(s.cost, 6)}
