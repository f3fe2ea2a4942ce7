"""Prices from the base model or a fine-tuned adapter: the course's two predictors, batched.

Week 7 writes both predictors in its cells, one item at a time, the course's way:
`model_predict` generates a few tokens greedily after the test prompt and reads the number;
`improved_model_predict` does one forward pass and takes the probability-weighted average of
the top K next tokens that are numbers. Here they take a batch of prompts at once (left padding,
attention mask, matching position ids): the same answers, many times faster on a GPU, which
the notebooks check on their first items. `improved_model_predict` here also follows a number
written over several tokens (`helpers.language.number_search`), for tokenizers that write digits.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from helpers.core.items import MAX_TOKENS, Item, cut_line, prompt_item
from helpers.language.checkpoints import adapter_broken, adapter_trained_on
from helpers.language.loading import load_base
from helpers.language.number_search import NumberTokens, search_numbers
from helpers.plumbing.errors import ConfigError, ModelAccessError
from helpers.plumbing.hub import check_folder, explain, looks_local
from helpers.presets import BASE_MODEL


@dataclass
class InferenceConfig:
    """Which model to load, and how to ask it."""

    base_model: str = BASE_MODEL  # hub id or local folder of the open model
    adapter: str | None = None  # hub id or local folder of a LoRA adapter; None: the base model
    revision: str | None = None  # the adapter's revision (a hub commit or branch)
    quantization: str = "4bit"  # how the base model's weights are loaded (4bit: NF4, as in training)
    max_new_tokens: int = 3  # model_predict: tokens generated after the prompt
    top_k: int = 3  # improved_model_predict: next tokens weighed at each step
    max_number_tokens: int = 4  # improved_model_predict: tokens a number may take (digit tokenizers)
    max_paths: int = 12  # improved_model_predict: numbers followed at once, an item
    batch_size: int = 8  # items priced in one forward pass
    seed: int = 42  # seeds generation, for the same answers on a second run


def another_base(config: InferenceConfig) -> str:
    """The one line for an adapter whose weights do not fit `config.base_model`: both bases named."""
    from peft import PeftConfig

    trained = PeftConfig.from_pretrained(config.adapter, revision=config.revision).base_model_name_or_path
    return (
        f"the adapter {config.adapter} was trained on the base model {trained!r}, not on {config.base_model!r}: "
        f"pass --base-model {trained}, or an adapter of {config.base_model}"
    )


def load_for_inference(config: InferenceConfig):
    """The base model in `config.quantization`, with the adapter on top if one is given."""

    if config.adapter:
        check_adapter(config.adapter, config.revision)
    model, tokenizer = load_base(config.base_model, config.quantization)
    if config.adapter:
        from peft import PeftModel

        try:
            model = PeftModel.from_pretrained(model, config.adapter, revision=config.revision)
        except RuntimeError as error:  # peft's screen of size mismatches: an adapter of another base model
            if "size mismatch" not in str(error):
                raise
            raise ConfigError(another_base(config)) from None
    model.eval()
    return model, tokenizer


def check_adapter(adapter: str, revision: str | None) -> None:
    """Is there an adapter at this folder, or this hub repo and revision? peft would only say
    "Can't find adapter_config.json", whether the repo is gated, missing or out of reach."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    if looks_local(adapter):
        check_folder(adapter, ("adapter_config.json",), "adapter", ModelAccessError)
        broken = adapter_broken(Path(adapter)) if Path(adapter).is_dir() else None
        if broken:
            raise ModelAccessError(f"cannot load adapter {adapter!r}: {broken}; copy it again, or train it again")
        return
    where = f"{adapter!r} at {revision or 'main'}"
    try:
        hf_hub_download(adapter, "adapter_config.json", revision=revision)
    except (OSError, ValueError, EntryNotFoundError) as error:  # missing, gated, offline, not a repo id
        raise ModelAccessError(f"cannot load adapter {where}: {explain(error)}") from None


def _device(model):
    return next(model.parameters()).device


def _encode(tokenizer, prompts: Sequence[str], device):
    """Left-padded batch: every prompt ends at the last position, where the answer starts."""
    tokenizer.padding_side = "left"
    batch = tokenizer(list(prompts), return_tensors="pt", padding=True, add_special_tokens=True)
    return {k: v.to(device) for k, v in batch.items()}


def generate_replies(model, tokenizer, prompts: Sequence[str], max_new_tokens: int = 3, seed: int = 42) -> list[str]:
    """Greedy continuations of each prompt, new tokens only."""
    import torch
    from transformers import set_seed

    set_seed(seed)
    batch = _encode(tokenizer, prompts, _device(model))
    with torch.no_grad():
        output = model.generate(
            **batch, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id
        )
    new = output[:, batch["input_ids"].shape[1] :]
    return tokenizer.batch_decode(new, skip_special_tokens=True)


def next_token_logits(model, tokenizer, prompts: Sequence[str]):
    """Logits for the token after each prompt, shape (len(prompts), vocab), on the CPU."""
    import torch

    batch = _encode(tokenizer, prompts, _device(model))
    positions = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        logits = model(**batch, position_ids=positions).logits[:, -1, :]
    return logits.float().cpu()


class ModelPredictor:
    """One of the course's predictors over a loaded model, for the Tester: call it on one item,
    or give it many with `predict_batch` (what the Tester does, `batch_size` at a time)."""

    def __init__(self, model, tokenizer, config: InferenceConfig, improved: bool = False):
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.improved = improved
        self.batch_size = max(1, config.batch_size)
        self.__name__ = "improved_model_predict" if improved else "model_predict"
        self.trained_on = adapter_trained_on(config.adapter)  # what the adapter learnt from, for the leaderboard
        self.cut = 0  # items whose text was too long for a prompt, cut as in training

    def __call__(self, item: Item) -> float | None:
        return self.predict_batch([item])[0]

    @cached_property
    def number_tokens(self) -> NumberTokens:
        return NumberTokens.of(self.tokenizer)

    def prompts(self, items: Sequence[Item]) -> list[str]:
        """Each item's test prompt, a text longer than any curated one cut to MAX_TOKENS tokens
        as in training (a 1 MB description would ask a GPU for hundreds of gigabytes), each cut
        said and counted."""
        from tqdm.auto import tqdm

        shown = [prompt_item(item, self.tokenizer, MAX_TOKENS) for item in items]
        for item, prompted in zip(items, shown):
            if prompted is not item:
                self.cut += 1
                line = cut_line(item, f"the prompt shows its first {MAX_TOKENS} tokens, as in training")
                tqdm.write(f"{line} ({self.cut} so far)", file=sys.stderr)  # above the Tester's bar, not in it
        return [item.test_prompt() for item in shown]

    def predict_batch(self, items: Sequence[Item]) -> list[float | None]:
        prompts = self.prompts(items)
        if self.improved:
            run = Continuation(self.model, self.tokenizer, prompts)
            config = self.config
            return search_numbers(
                run.first_logits,
                run.advance,
                self.number_tokens,
                config.top_k,
                config.max_number_tokens,
                config.max_paths,
            )
        replies = generate_replies(self.model, self.tokenizer, prompts, self.config.max_new_tokens, self.config.seed)
        return [item.prompt_format.price_in(reply) for item, reply in zip(items, replies)]


class Predictors:
    """The course's two predictors over one loaded model: `model_predict` (generate a few
    tokens, read the number) and `improved_model_predict` (weighted top-k next tokens)."""

    def __init__(self, model, tokenizer, config: InferenceConfig | None = None):
        self.model = model.eval()  # dropout off: the same item always gets the same price
        self.tokenizer = tokenizer
        self.config = config or InferenceConfig()
        self.model_predict = ModelPredictor(self.model, tokenizer, self.config)
        self.improved_model_predict = ModelPredictor(self.model, tokenizer, self.config, improved=True)


class Continuation:
    """A batch of prompts run once through the model, whose key/value cache then grows one token
    a row at a time as the search asks: cheap, since only the new token is computed."""

    def __init__(self, model, tokenizer, prompts: Sequence[str]):
        import torch

        self.model = model
        self.cache_name = _cache_name(model)
        batch = _encode(tokenizer, prompts, _device(model))
        self.mask = batch["attention_mask"]
        positions = (self.mask.cumsum(-1) - 1).clamp(min=0)
        with torch.no_grad():
            output = model(**batch, position_ids=positions, use_cache=True)
        self.cache = getattr(output, self.cache_name)
        self.next_position = positions[:, -1] + 1
        self.first_logits = output.logits[:, -1, :].float().cpu()

    def advance(self, rows: list[int], tokens: list[int]):
        import torch

        device = self.mask.device
        index = torch.tensor(rows, device=device)
        self.cache.reorder_cache(index)  # one cache row for each path, duplicated where it branches
        self.mask = torch.cat([self.mask[index], torch.ones(len(rows), 1, dtype=self.mask.dtype, device=device)], 1)
        positions = self.next_position[index].unsqueeze(1)
        self.next_position = self.next_position[index] + 1
        with torch.no_grad():
            output = self.model(
                input_ids=torch.tensor(tokens, device=device).unsqueeze(1),
                attention_mask=self.mask,
                position_ids=positions,
                use_cache=True,
                **{self.cache_name: self.cache},
            )
        self.cache = getattr(output, self.cache_name)
        return output.logits[:, -1, :].float().cpu()


def _cache_name(model) -> str:
    """transformers 5.2x renamed the key/value cache's argument (and output) to `cache`."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"
