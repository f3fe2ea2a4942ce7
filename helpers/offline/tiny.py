"""A tiny Llama-shaped stand-in for offline runs: a locally trained tokenizer, and a model.

Nothing here downloads anything. The tokenizer is byte-level BPE with Llama 3's
pre-tokenizer pattern, so digits come in groups of up to three, and every string of one to
three digits is a single token, as in Llama 3: the price "123.00" is "123", ".", "00".
The model is randomly initialised; it exists to run the real code paths, not to predict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from helpers.core.prompts import PROMPT_2024
from helpers.plumbing import paths
from helpers.plumbing.files import atomic_folder

# Llama 3's pre-tokenizer split (tiktoken's cl100k pattern).
LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
BOS = "<|begin_of_text|>"
EOS = "<|end_of_text|>"
PAD = "<|finetune_right_pad_id|>"


@dataclass
class TinyConfig:
    """Sizes of the stand-in model and tokenizer."""

    output: str = "results/tiny"  # the folder written
    vocab_size: int = 4096  # tokenizer: vocabulary size
    hidden_size: int = 64  # model: hidden size
    intermediate_size: int = 128  # model: MLP size
    num_hidden_layers: int = 2  # model: layers
    num_attention_heads: int = 4  # model: attention heads
    num_key_value_heads: int = 2  # model: key/value heads (grouped-query attention, as Llama 3)
    max_position_embeddings: int = 512  # model: the longest sequence
    seed: int = 42  # seeds the random weights
    with_model: bool = True  # write a random model beside the tokenizer


def _corpus() -> list[str]:
    """Text to learn merges from: the bundled items, plus every 1-3 digit string, often."""
    texts: list[str] = []
    for path in (paths.TRAIN_SAMPLE, paths.TEST_SAMPLE):
        if path.exists():
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    row = json.loads(line)
                    texts.append(row["text"])

    texts.append(f"{PROMPT_2024.question}\n\n{PROMPT_2024.prefix}")
    numbers = [str(n) for n in range(10)] + [f"{n:02d}" for n in range(100)]
    numbers += [f"{n:03d}" for n in range(1000)] + [str(n) for n in range(1000)]
    # Repeated so their merges outrank everything in the text.
    texts.extend(" ".join(numbers) for _ in range(200))
    return texts


def build_tokenizer(output: str | Path, vocab_size: int = 4096):
    """Train and save a Llama-3-like tokenizer; returns the transformers tokenizer."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[BOS, EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        model_max_length=2048,
    )
    _add_bos(fast)
    with atomic_folder(output, last=("tokenizer.json",)) as folder:  # `build` checks for it
        fast.save_pretrained(str(folder))
    return fast


def _add_bos(fast) -> None:
    """Prepend <|begin_of_text|> like Llama 3 does when special tokens are asked for."""
    from tokenizers import processors

    bos_id = fast.convert_tokens_to_ids(BOS)
    fast.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A",
        pair=f"{BOS} $A {BOS} $B",
        special_tokens=[(BOS, bos_id)],
    )


def build_model(output: str | Path, tokenizer, config: TinyConfig):
    """Save a randomly initialised LlamaForCausalLM that fits the tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(config.seed)
    model_config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size,
        num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads,
        num_key_value_heads=config.num_key_value_heads,
        max_position_embeddings=config.max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(model_config)
    with atomic_folder(output, last=("config.json",)) as folder:  # `build` checks for it
        model.save_pretrained(str(folder))
    return model


def build(config: TinyConfig) -> Path:
    """Tokenizer (and model, unless asked not to) in `config.output`; reused if present."""
    output = Path(config.output)
    if not (output / "tokenizer.json").exists():
        build_tokenizer(output, config.vocab_size)
    if config.with_model and not (output / "config.json").exists():
        from transformers import AutoTokenizer

        build_model(output, AutoTokenizer.from_pretrained(str(output)), config)
    return output
