"""The course's token rules, fast, for a chunk of texts at once, with exactly the course's results.

The course encodes each record's text, cuts it to 160 tokens, decodes the cut, builds the
training prompt around it and encodes that whole prompt again to count its tokens: three calls
through the transformers tokenizer a record. Here, for a chunk of texts:

- each text is encoded once, by the Rust tokenizer for the whole chunk (several threads), and
  only as far as the cut needs: a prefix long enough for `max_tokens + 1` tokens (a text whose
  prefix falls short is encoded whole);
- the cut is decoded, as the course does;
- the prompt's tokens are counted without encoding it: a tokenizer applies its merges inside
  pre-tokens (words, numbers, runs of spaces or punctuation), never across them, so the
  prompt's tokens are the text's inner pre-tokens' tokens, plus those of two short windows that
  are encoded: the question and the first pre-token, and the last pre-token and the answer.

Where an assumption of that shortcut does not hold for a text (a pre-token that spans the whole
cut, pieces that do not decode back to the cut), that text's prompt is encoded in full.
"""

from __future__ import annotations

from helpers.core.prompts import PromptFormat

SENTINEL = "\x00"


def cut_and_count(
    tokenizer, texts: list[str], prices: list[float], prompt: PromptFormat, min_tokens: int, max_tokens: int
) -> list[tuple[str, int] | None]:
    """For each text: None when it has `min_tokens` tokens or fewer; else the text cut to
    `max_tokens` tokens (as decoding the cut gives it), and the token count of its training prompt."""
    backend = tokenizer.backend_tokenizer
    encodings = _encode_prefixes(backend, texts, max_tokens + 1)
    kept = [i for i, encoding in enumerate(encodings) if len(encoding.ids) > min_tokens]
    pieces, plans = [], []  # what to decode: each cut, and the pieces its prompt's count needs
    for i in kept:
        cut = encodings[i].ids[:max_tokens]
        words = encodings[i].word_ids[: len(cut)]
        starts = [k for k in range(len(cut)) if k == 0 or words[k] != words[k - 1]]  # where each pre-token starts
        pieces.append(cut)
        if len(starts) < 2:
            plans.append(None)
            continue
        first, second = starts[1], starts[2] if len(starts) > 2 else len(cut)
        before_last, last = starts[-2], starts[-1]
        plans.append(last - first)  # the tokens of the inner pre-tokens: the prompt has the same ones
        pieces += [cut[:first], cut[first:second], cut[first:last], cut[before_last:last], cut[last:]]
    decoded = iter(_decode(tokenizer, backend, pieces))
    results: list[tuple[str, int] | None] = [None] * len(texts)
    windows, whole = [], []  # prompts' windows to encode, and prompts to encode whole
    for inner, i in zip(plans, kept):
        text = next(decoded)
        head, tail = prompt.training_prompt(SENTINEL, prices[i]).split(SENTINEL)
        if inner is None:
            whole.append((i, text, head + text + tail))
            continue
        first, second, middle, before_last, last = (next(decoded) for _ in range(5))
        if first + middle + last != text:
            whole.append((i, text, head + text + tail))
            continue
        # Each window holds one pre-token more than it counts, so that the pre-tokenizer sees
        # what follows (or precedes) the counted ones as it will in the prompt.
        windows.append(
            (i, text, inner, head + first + second, len(head + first), before_last + last + tail, len(before_last))
        )
    encoded = backend.encode_batch([w for window in windows for w in (window[3], window[5])], add_special_tokens=False)
    for k, (i, text, inner, _, head_end, _, tail_start) in enumerate(windows):
        head, tail = encoded[2 * k], encoded[2 * k + 1]
        if _splits(head, head_end) and _splits(tail, tail_start):
            results[i] = (text, _before(head, head_end) + inner + len(tail.ids) - _before(tail, tail_start))
        else:  # a pre-token reaches across the window's boundary: the prompt is counted whole
            head_part, tail_part = prompt.training_prompt(SENTINEL, prices[i]).split(SENTINEL)
            whole.append((i, text, head_part + text + tail_part))
    counted = backend.encode_batch([p for _, _, p in whole], add_special_tokens=False)
    for (i, text, _), encoding in zip(whole, counted):
        results[i] = (text, len(encoding.ids))
    return results


def _splits(encoding, position: int) -> bool:
    """Whether a pre-token starts at `position`: the counts on either side add up."""
    return encoding.char_to_word(position) != encoding.char_to_word(position - 1)


def _before(encoding, position: int) -> int:
    """How many of an encoding's tokens come from pre-tokens before the one at `position`."""
    word = encoding.char_to_word(position)
    return sum(1 for w in encoding.word_ids if w < word)


def _encode_prefixes(backend, texts: list[str], tokens: int):
    """Encodings whose first `tokens - 1` tokens are the whole text's, and that hold at least
    `tokens` tokens or the whole text. A prefix sized from the chunk's first texts is encoded;
    where it falls short, or cuts into the word that holds token `tokens - 1` (a cut word can
    split differently), the whole text is encoded."""
    sample = backend.encode_batch(texts[:16], add_special_tokens=False)
    spans = [e.offsets[tokens - 1][1] for e in sample if len(e.ids) >= tokens]
    length = int(max(spans) * 1.5) + 32 if spans else None
    if length is None:
        return backend.encode_batch(texts, add_special_tokens=False)
    encodings = sample + backend.encode_batch([text[:length] for text in texts[16:]], add_special_tokens=False)
    short = [
        i
        for i in range(16, len(texts))
        if len(texts[i]) > length
        and (len(encodings[i].ids) < tokens or encodings[i].word_ids[tokens - 2] == encodings[i].word_ids[-1])
    ]
    for i, encoding in zip(short, backend.encode_batch([texts[i] for i in short], add_special_tokens=False)):
        encodings[i] = encoding
    return encodings


def _decode(tokenizer, backend, pieces: list[list[int]]) -> list[str]:
    """What `tokenizer.decode` gives for each, from one call of the Rust decoder."""
    texts = backend.decode_batch(pieces, skip_special_tokens=False)
    if getattr(tokenizer, "clean_up_tokenization_spaces", False):
        texts = [tokenizer.clean_up_tokenization(text) for text in texts]
    return texts
