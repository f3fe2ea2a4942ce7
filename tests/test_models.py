"""Loading the base model: real bitsandbytes quantisation, on the CPU."""

import pytest
import torch

from helpers.models import Hardware, ModelAccessError, _access_error, detect_hardware, four_bit_layers, load_base, memory_mb, quantization_config


@pytest.fixture(scope="module")
def four_bit(tiny_model_dir):
    return load_base(str(tiny_model_dir), "4bit")


def test_the_tiny_model_loads_in_4_bit_nf4_with_double_quantisation(four_bit):
    import bitsandbytes as bnb

    model, _ = four_bit
    layers = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(layers) == four_bit_layers(model) == 2 * 7  # q, k, v, o, gate, up, down in 2 layers
    for layer in layers:
        assert layer.weight.dtype == torch.uint8  # two 4-bit values per byte
        assert layer.weight.quant_state.quant_type == "nf4"
        assert layer.weight.quant_state.nested  # double quantisation


def test_quantisation_shrinks_the_footprint(tiny_model_dir, four_bit):
    full, _ = load_base(str(tiny_model_dir), "none")
    assert four_bit_layers(full) == 0
    assert memory_mb(four_bit[0]) < memory_mb(full)


def test_the_tokenizer_gets_a_pad_token(four_bit):
    model, tokenizer = four_bit
    assert tokenizer.pad_token is not None and tokenizer.padding_side == "right"
    assert model.generation_config.pad_token_id == tokenizer.pad_token_id


def test_the_cpu_gets_fp32():
    hardware = detect_hardware()
    assert hardware.device == "cpu" and not hardware.bf16 and not hardware.fp16
    assert hardware.compute_dtype == torch.float32


@pytest.mark.parametrize(
    "hardware, dtype",
    [(Hardware("cuda", "Tesla T4", bf16=False, fp16=True), torch.float16),
     (Hardware("cuda", "NVIDIA A100", bf16=True, fp16=False), torch.bfloat16),
     (Hardware("cpu", "CPU", bf16=False, fp16=False), torch.float32)],
)  # fmt: skip
def test_4_bit_compute_dtype_follows_the_hardware(hardware, dtype):
    config = quantization_config("4bit", hardware)
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4" and config.bnb_4bit_use_double_quant
    assert config.bnb_4bit_compute_dtype == dtype


def test_other_quantisations():
    cpu = detect_hardware()
    assert quantization_config("8bit", cpu).load_in_8bit
    assert quantization_config("none", cpu) is None
    with pytest.raises(ValueError, match="quantization must be one of"):
        quantization_config("3bit", cpu)


def test_a_gated_model_without_login_says_so_in_one_line():
    error = _access_error("meta-llama/Meta-Llama-3.1-8B", OSError(
        "You are trying to access a gated repo.\nMake sure to have access to it at https://huggingface.co/..."))  # fmt: skip
    message = str(error)
    assert "\n" not in message and "gated" in message and "HF_TOKEN" in message


def test_an_unreachable_model_is_a_one_line_error():
    with pytest.raises(ModelAccessError) as error:
        load_base("meta-llama/Meta-Llama-3.1-8B")
    assert str(error.value).startswith("cannot load 'meta-llama/Meta-Llama-3.1-8B': ")
    assert "\n" not in str(error.value)
