"""`improved_model_predict` for any tokenizer: the probability-weighted average of the likeliest
whole numbers the model would write.

The course's method takes the top 3 next tokens that read as numbers and averages them, weighted
by their probabilities. That works for Llama 3, which writes every number up to 999 as one token;
SmolLM2, Qwen, Gemma and Phi write "130" as "1", "3", "0", and the course's method then averages
single digits. Here each likely first token that is digits is carried on: while the model's
likeliest next token is a digit token, the path branches into the top-k digit tokens, its weight
multiplied by theirs, up to a few tokens (`max_depth`) and a few paths (`max_paths`) an item.
A path ends where the likeliest next token is not a digit (the decimal point, say). When numbers
are one token, every path ends after its first token, and this is the course's method exactly.

The search runs on next-token distributions given by `advance`, so the same code serves a model
(`helpers.language.inference.Continuation`: batched, with its key/value cache, one new token a row
a step) and hand-made distributions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class NumberTokens:
    """Which tokens can start a price (they read as a positive number: the course's rule), and
    which can carry one on (digits only)."""

    first: dict[int, float]
    digits: dict[int, str]

    @classmethod
    def of(cls, tokenizer) -> NumberTokens:
        first, digits = {}, {}
        for token in range(len(tokenizer)):
            text = tokenizer.decode([token])
            if text.isdigit():
                digits[token] = text
            try:
                value = float(text)
            except ValueError:
                continue
            if math.isfinite(value) and value > 0:
                first[token] = value
        return cls(first, digits)


@dataclass
class _Path:
    item: int
    text: str
    weight: float
    length: int = 1


def search_numbers(
    first_logits,
    advance: Callable[[list[int], list[int]], object],
    tokens: NumberTokens,
    top_k: int = 3,
    max_depth: int = 4,
    max_paths: int = 12,
) -> list[float | None]:
    """For each row of `first_logits` (the distribution after a prompt), the weighted average
    of the numbers the search finds; None where the top-k tokens hold no number (a failure).
    `advance(rows, tokens)` gives the logits after appending `tokens[i]` to row `rows[i]` of the
    previous call (of `first_logits` at first)."""
    import torch

    probabilities = torch.softmax(first_logits.float(), dim=-1)
    found: list[list[tuple[float, float]]] = [[] for _ in range(probabilities.shape[0])]
    paths: list[_Path] = []
    rows: list[int] = []
    steps: list[int] = []
    for item, distribution in enumerate(probabilities):
        top = distribution.topk(top_k)
        for probability, token in zip(top.values.tolist(), top.indices.tolist()):
            if token not in tokens.first:
                continue
            if token in tokens.digits and max_depth > 1:
                paths.append(_Path(item, tokens.digits[token], probability))
                rows.append(item)
                steps.append(token)
            else:
                found[item].append((tokens.first[token], probability))
    while paths:
        distributions = torch.softmax(advance(rows, steps).float(), dim=-1)
        grown: list[tuple[_Path, int, int]] = []  # (path, its row now, the token that grew it)
        for row, (path, distribution) in enumerate(zip(paths, distributions)):
            if int(distribution.argmax()) not in tokens.digits or path.length >= max_depth:
                found[path.item].append((float(path.text), path.weight))  # the number ends here
                continue
            top = distribution.topk(top_k)
            for probability, token in zip(top.values.tolist(), top.indices.tolist()):
                if token in tokens.digits:
                    longer = _Path(
                        path.item, path.text + tokens.digits[token], path.weight * probability, path.length + 1
                    )
                    grown.append((longer, row, token))
        grown = _most_likely(grown, max_paths)
        paths = [path for path, _, _ in grown]
        rows = [row for _, row, _ in grown]
        steps = [token for _, _, token in grown]
    return [sum(v * w for v, w in pairs) / sum(w for _, w in pairs) if pairs else None for pairs in found]


def _most_likely(grown: list[tuple[_Path, int, int]], max_paths: int) -> list[tuple[_Path, int, int]]:
    """At most `max_paths` paths an item, the likeliest, in their original order."""
    keep: set[int] = set()
    by_item: dict[int, list[int]] = {}
    for index, (path, _, _) in enumerate(grown):
        by_item.setdefault(path.item, []).append(index)
    for indices in by_item.values():
        keep.update(sorted(indices, key=lambda i: -grown[i][0].weight)[:max_paths])
    return [entry for index, entry in enumerate(grown) if index in keep]
