"""How big a model is, and which tokenizers load: the facts week 7 reads off a model.

Week 7 day 2 shows in its cells how each tokenizer writes a price: Llama 3's writes every whole
number from 0 to 999 as one token, so a price is one prediction; many others (SmolLM2, Qwen,
Gemma, Phi) write one digit a token.
"""

from __future__ import annotations

from typing import Any

from helpers.language.loading import load_tokenizer
from helpers.plumbing.errors import ModelAccessError

CHINCHILLA_TOKENS_PER_PARAMETER = 20  # Hoffmann et al. 2022: compute-optimal training data


def model_facts(config) -> dict[str, int]:
    """A Llama-style model's size, read from its config: parameters counted layer by layer."""
    hidden, layers, vocab = config.hidden_size, config.num_hidden_layers, config.vocab_size
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    attention = hidden * heads * head_dim * 2 + hidden * kv_heads * head_dim * 2  # q, o and k, v
    mlp = 3 * hidden * config.intermediate_size  # gate, up, down
    per_layer = attention + mlp + 2 * hidden  # and two norms
    embeddings = vocab * hidden * (1 if getattr(config, "tie_word_embeddings", False) else 2)
    return {
        "parameters": layers * per_layer + embeddings + hidden,
        "layers": layers,
        "attention heads": heads,
        "key/value heads": kv_heads,
        "hidden size": hidden,
        "vocabulary": vocab,
        "context length": config.max_position_embeddings,
    }


def chinchilla(training_tokens: int, parameters: int) -> str:
    """Training tokens against the compute-optimal ~20 tokens per parameter, in one line."""
    wanted = CHINCHILLA_TOKENS_PER_PARAMETER * parameters
    ratio = training_tokens / parameters
    return (
        f"{training_tokens:,} training tokens for {parameters:,} parameters: {ratio:,.2f} tokens per parameter, "
        f"{training_tokens / wanted:.1%} of Chinchilla's {wanted:,}"
    )


def load_tokenizers(names: dict[str, str]) -> dict[str, Any]:
    """The tokenizers that load (by label: hub id or folder); one that cannot (gated, offline)
    is left out with a line saying why."""

    loaded = {}
    for label, name in names.items():
        try:
            loaded[label] = load_tokenizer(name)
        except ModelAccessError as error:
            print(f"{label}: left out, {error}")
    return loaded


def training_tokens(tokenizer, items, sample: int = 2_000) -> int:
    """Tokens in the training prompts of `items`, counted on a sample and scaled up."""
    if not items:
        return 0
    counted = items[: min(sample, len(items))]
    tokens = sum(len(ids) for ids in tokenizer([item.prompt for item in counted])["input_ids"])
    return round(tokens * len(items) / len(counted))
