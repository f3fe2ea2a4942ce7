"""Prices from the base model or a fine-tuned adapter: the course's two predictors, batched.

`model_predict` generates a few tokens greedily after the test prompt and reads the number.
`improved_model_predict` does one forward pass and takes the probability-weighted average of
the top K next tokens that are numbers (Llama 3 writes every number up to 999 as one token).
Both have batched forms (left padding, attention mask, matching position ids) that give the
same answers as one item at a time, many times faster on a GPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from helpers.items import Item
from helpers.prices import extract_price


@dataclass
class InferenceConfig:
    """Which model to load, and how to ask it."""

    base_model: str = "meta-llama/Meta-Llama-3.1-8B"
    adapter: str | None = None  # hub id or local folder of a LoRA adapter; None: the base model
    revision: str | None = None  # the adapter's revision (a hub commit or branch)
    quantization: str = "4bit"
    max_new_tokens: int = 3
    top_k: int = 3
    batch_size: int = 8
    seed: int = 42


def load_for_inference(config: InferenceConfig):
    """The base model in `config.quantization`, with the adapter on top if one is given."""
    from helpers.models import ModelAccessError, load_base

    model, tokenizer = load_base(config.base_model, config.quantization)
    if config.adapter:
        from peft import PeftModel

        try:
            model = PeftModel.from_pretrained(model, config.adapter, revision=config.revision)
        except Exception as error:  # hub errors, missing files, a wrong revision
            from helpers.hub import explain

            where = f"{config.adapter!r} at {config.revision or 'main'}"
            raise ModelAccessError(f"cannot load adapter {where}: {explain(error)}") from None
    model.eval()
    return model, tokenizer


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


def weighted_price(logits, tokenizer, top_k: int = 3) -> float | None:
    """Probability-weighted average of the top-k next tokens that read as a positive number;
    None when none of them does (a counted failure, where the course returned a tuple)."""
    import torch

    probabilities = torch.softmax(logits.float(), dim=-1)
    top = probabilities.topk(top_k)
    prices, weights = [], []
    for probability, token in zip(top.values.tolist(), top.indices.tolist()):
        try:
            value = float(tokenizer.decode([token]))
        except ValueError:
            continue
        if value > 0:
            prices.append(value)
            weights.append(probability)
    if not prices:
        return None
    return sum(p * w for p, w in zip(prices, weights)) / sum(weights)


class Predictors:
    """The course's predictors over one loaded model, as Tester-ready callables."""

    def __init__(self, model, tokenizer, config: InferenceConfig | None = None):
        self.model = model.eval()  # dropout off: the same item always gets the same price
        self.tokenizer = tokenizer
        self.config = config or InferenceConfig()

    def model_predict(self, item: Item) -> float | None:
        return self.model_predict_batch([item])[0]

    def improved_model_predict(self, item: Item) -> float | None:
        return self.improved_model_predict_batch([item])[0]

    def model_predict_batch(self, items: Sequence[Item]) -> list[float | None]:
        replies = generate_replies(
            self.model, self.tokenizer, [i.test_prompt() for i in items], self.config.max_new_tokens, self.config.seed
        )
        return [extract_price(reply) for reply in replies]

    def improved_model_predict_batch(self, items: Sequence[Item]) -> list[float | None]:
        logits = next_token_logits(self.model, self.tokenizer, [i.test_prompt() for i in items])
        return [weighted_price(row, self.tokenizer, self.config.top_k) for row in logits]

    def batched(self, items: Sequence[Item], improved: bool = False, progress: bool = True):
        """Predict `items` in batches up front; returns a predictor that looks the answers up."""
        from tqdm.auto import tqdm

        predict = self.improved_model_predict_batch if improved else self.model_predict_batch
        size = max(1, self.config.batch_size)
        answers: dict[int, float | None] = {}
        for start in tqdm(range(0, len(items), size), desc="Predicting", disable=not progress):
            chunk = items[start : start + size]
            answers.update(zip(map(id, chunk), predict(chunk)))

        def batched_predictor(item: Item) -> float | None:
            return answers[id(item)] if id(item) in answers else predict([item])[0]

        batched_predictor.__name__ = "improved_model_predict" if improved else "model_predict"
        return batched_predictor
