"""Inference with the base model and a trained adapter: reload, batching, the two predictors."""

import pytest
import torch

from helpers.core.tester import Tester
from helpers.language.inference import (
    InferenceConfig,
    Predictors,
    generate_replies,
    load_for_inference,
    next_token_logits,
)
from helpers.language.loading import load_tokenizer
from helpers.language.training import TrainConfig, rows_from_items, train


@pytest.fixture(scope="module")
def adapter(tiny_model_dir, tmp_path_factory, bundled_train):
    """A LoRA adapter trained for a few steps, with one intermediate checkpoint."""
    output = tmp_path_factory.mktemp("adapter")
    items = bundled_train[:4]
    config = TrainConfig.pipeline_check(
        base_model=str(tiny_model_dir), output=str(output), max_steps=8, save_steps=4, lora_r=8, lora_alpha=16
    )
    trainer = train(config, rows_from_items(items))
    prompts = [i.test_prompt() for i in items]
    trainer.model.eval()  # no LoRA dropout when comparing
    trained_logits = next_token_logits(trainer.model, trainer.processing_class, prompts)
    return output, prompts, trained_logits


@pytest.fixture(scope="module")
def loaded(tiny_model_dir, adapter):
    config = InferenceConfig(base_model=str(tiny_model_dir), adapter=str(adapter[0]), batch_size=3)
    model, tokenizer = load_for_inference(config)
    return Predictors(model, tokenizer, config)


def test_the_adapter_reloads_from_its_folder_with_the_same_logits(loaded, adapter):
    _, prompts, trained_logits = adapter
    reloaded = next_token_logits(loaded.model, loaded.tokenizer, prompts)
    assert torch.allclose(reloaded, trained_logits, atol=1e-4)


def test_a_checkpoint_loads_as_an_earlier_revision(tiny_model_dir, adapter, loaded):
    output, prompts, _ = adapter
    config = InferenceConfig(base_model=str(tiny_model_dir), adapter=str(output / "checkpoint-4"))
    early = next_token_logits(*load_for_inference(config), prompts)
    final = next_token_logits(loaded.model, loaded.tokenizer, prompts)
    assert early.shape == final.shape and not torch.allclose(early, final, atol=1e-3)


def test_a_missing_adapter_is_a_one_line_error(tiny_model_dir, tmp_path):
    from helpers.plumbing.errors import ModelAccessError

    with pytest.raises(ModelAccessError) as error:
        load_for_inference(InferenceConfig(base_model=str(tiny_model_dir), adapter=str(tmp_path / "none")))
    assert "\n" not in str(error.value) and "cannot load adapter" in str(error.value)


def test_batched_logits_match_one_at_a_time(loaded, bundled_test):
    prompts = [i.test_prompt() for i in bundled_test[:5]]
    one_by_one = torch.cat([next_token_logits(loaded.model, loaded.tokenizer, [p]) for p in prompts])
    batched = next_token_logits(loaded.model, loaded.tokenizer, prompts)
    assert torch.allclose(one_by_one, batched, atol=1e-4)


def test_batched_generation_matches_one_at_a_time(loaded, bundled_test):
    prompts = [i.test_prompt() for i in bundled_test[:5]]
    one_by_one = [generate_replies(loaded.model, loaded.tokenizer, [p])[0] for p in prompts]
    assert generate_replies(loaded.model, loaded.tokenizer, prompts) == one_by_one
    assert len(one_by_one) == 5


def test_batched_predictors_match_one_at_a_time(loaded, bundled_test):
    items = bundled_test[:5]
    assert loaded.model_predict.predict_batch(items) == [loaded.model_predict(i) for i in items]
    batched = loaded.improved_model_predict.predict_batch(items)
    assert batched == pytest.approx([loaded.improved_model_predict(i) for i in items])


def single_token(tokenizer, text: str) -> int:
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert len(ids) == 1, f"{text!r} is not one token"
    return ids[0]


def course_method(logits, tokenizer):
    """helpers' search, one token a number: the course's improved_model_predict for one item."""
    from helpers.language.number_search import NumberTokens, search_numbers

    return search_numbers(logits.unsqueeze(0), None, NumberTokens.of(tokenizer), top_k=3, max_depth=1)[0]


def test_improved_predict_is_the_weighted_average_of_the_top_numbers(tiny_model_dir):
    tokenizer = load_tokenizer(str(tiny_model_dir))
    logits = torch.full((len(tokenizer),), -30.0)
    ids = {text: single_token(tokenizer, text) for text in ("100", "200", " the")}
    logits[ids["100"]] = torch.log(torch.tensor(0.5))
    logits[ids["200"]] = torch.log(torch.tensor(0.3))
    logits[ids[" the"]] = torch.log(torch.tensor(0.2))
    # " the" is in the top 3 but is not a number: the average is over 100 and 200 only.
    assert course_method(logits, tokenizer) == pytest.approx((100 * 0.5 + 200 * 0.3) / 0.8)


def test_improved_predict_with_no_number_on_top_is_a_counted_failure(tiny_model_dir, bundled_test):
    tokenizer = load_tokenizer(str(tiny_model_dir))
    logits = torch.full((len(tokenizer),), -30.0)
    for text in (" the", ".", " and"):
        logits[single_token(tokenizer, text)] = 0.0
    assert course_method(logits, tokenizer) is None
    result = Tester(lambda item: course_method(logits, tokenizer), bundled_test[:3], verbose=False).run()
    assert result.failure_count == 3


@pytest.mark.parametrize("which", ["model_predict", "improved_model_predict"])
def test_the_tester_gets_the_same_result_in_batches_as_one_at_a_time(loaded, bundled_test, which):
    predictor = getattr(loaded, which)
    in_batches = Tester(predictor, bundled_test, size=7, verbose=False).run()  # batches of 3, 3, 1
    one_at_a_time = Tester(lambda item: predictor(item), bundled_test, size=7, verbose=False).run()
    assert in_batches.n == 7 and in_batches.title == which.replace("_", " ").title()
    assert in_batches.failures == one_at_a_time.failures
    assert in_batches.guesses == pytest.approx(one_at_a_time.guesses, rel=1e-5)


def test_with_the_llama_3_style_tokenizer_the_search_is_the_courses_method(tiny_model_dir):
    from helpers.language.number_search import NumberTokens, search_numbers

    tokenizer = load_tokenizer(str(tiny_model_dir))  # numbers up to 999 are one token, as in Llama 3
    first = torch.full((2, len(tokenizer)), -30.0)
    rows = [{"100": 0.5, "200": 0.3, " the": 0.2}, {"742": 0.6, "17": 0.1, ".": 0.3}]
    for row, distribution in enumerate(rows):
        for text, probability in distribution.items():
            first[row, single_token(tokenizer, text)] = torch.log(torch.tensor(probability))
    dot = single_token(tokenizer, ".")

    def advance(parents, tokens):  # after any number, the decimal point
        after = torch.full((len(tokens), len(tokenizer)), -30.0)
        after[:, dot] = 0.0
        return after

    searched = search_numbers(first, advance, NumberTokens.of(tokenizer), top_k=3)
    assert searched == pytest.approx([course_method(row, tokenizer) for row in first])
    assert searched == pytest.approx([(100 * 0.5 + 200 * 0.3) / 0.8, (742 * 0.6 + 17 * 0.1) / 0.7])
