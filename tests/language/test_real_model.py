"""A real pretrained model and its real tokenizer, offline: SmolLM2-135M-Instruct on the CPU,
through the same 4-bit, training and prediction code as Llama 3.1 8B on a GPU."""

import math

import pytest
import torch

from helpers.core.tester import Tester
from helpers.data.item_files import load_items
from helpers.language.inference import InferenceConfig, Predictors, load_for_inference
from helpers.language.loading import four_bit_layers
from helpers.language.model_facts import model_facts
from helpers.language.training import TrainConfig, build_trainer, rows_from_items
from helpers.plumbing import paths


@pytest.fixture(scope="module")
def predictors(real_model_dir):
    config = InferenceConfig(base_model=str(real_model_dir), batch_size=4)
    return Predictors(*load_for_inference(config), config)


@pytest.fixture(scope="module")
def test_items():
    return load_items(paths.TEST_SAMPLE)[0][:4]


def test_the_real_model_is_smollm2_135m_in_4_bit_nf4(predictors):
    import bitsandbytes as bnb

    facts = model_facts(predictors.model.config)
    assert (facts["parameters"], facts["layers"], facts["attention heads"], facts["key/value heads"]) == (
        134_515_008,
        30,
        9,
        3,
    )
    assert facts["vocabulary"] == 49_152 and predictors.model.config.tie_word_embeddings
    assert four_bit_layers(predictors.model) == 30 * 7  # q, k, v, o, gate, up, down in every layer
    layer = next(m for m in predictors.model.modules() if isinstance(m, bnb.nn.Linear4bit))
    assert layer.weight.quant_state.quant_type == "nf4" and layer.weight.dtype == torch.uint8


def test_its_tokenizer_writes_prices_one_digit_a_token(predictors):
    tokenizer = predictors.tokenizer
    assert [tokenizer.decode([t]) for t in tokenizer.encode("130", add_special_tokens=False)] == ["1", "3", "0"]
    assert predictors.tokenizer.chat_template and "<|im_start|>" in predictors.tokenizer.chat_template


def test_training_grades_the_price_and_the_end_token_although_pad_is_the_end_token(real_model_dir, tmp_path):
    items = load_items(paths.TRAIN_SAMPLE)[0][:2]
    config = TrainConfig.pipeline_check(
        base_model=str(real_model_dir), output=str(tmp_path), max_steps=1, batch_size=2, logging_steps=1, max_length=400
    )
    trainer = build_trainer(config, rows_from_items(items))
    tokenizer = trainer.processing_class
    assert tokenizer.pad_token == tokenizer.eos_token == "<|im_end|>"  # one token for both
    batch = trainer.data_collator([trainer.train_dataset[0]])
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    graded = [token for token, label in zip(ids, labels) if label != -100]
    assert tokenizer.decode(graded) == items[0].completion + "<|im_end|>"  # the end is learnt, not masked
    assert tokenizer.decode(ids).startswith(items[0].test_prompt()[:40])  # no chat template around it
    trainer.train()  # one QLoRA step through the 4-bit layers
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert trainer.state.global_step == 1 and math.isfinite(losses[0]) and losses[0] > 0


def test_both_predictors_price_real_test_prompts(predictors, test_items):
    for predictor in (predictors.model_predict, predictors.improved_model_predict):
        result = Tester(predictor, test_items, verbose=False).run()
        assert result.failure_count == 0, predictor.__name__
        assert all(0 < guess < 10_000 for guess in result.guesses)


def test_batched_answers_agree_with_one_at_a_time(predictors, test_items):
    items = test_items[:2]
    assert predictors.model_predict.predict_batch(items) == [predictors.model_predict(item) for item in items]
    batched = predictors.improved_model_predict.predict_batch(items)
    assert batched == pytest.approx([predictors.improved_model_predict(item) for item in items], rel=0.02)
