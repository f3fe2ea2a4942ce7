"""Loading the base model: real bitsandbytes quantisation, on the CPU."""

import pytest
import torch

from helpers.language.loading import (
    Hardware,
    _access_error,
    detect_hardware,
    four_bit_layers,
    load_base,
    memory_mb,
    quantization_config,
)
from helpers.plumbing.errors import ConfigError, ModelAccessError
from helpers.plumbing.hub import UNREACHABLE


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


def test_the_cpu_gets_fp32(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    hardware = detect_hardware()
    assert hardware.device == "cpu" and not hardware.bf16 and not hardware.fp16
    assert hardware.compute_dtype == torch.float32


def pretend_gpu(monkeypatch, name: str, capability: tuple[int, int]) -> None:
    """The CUDA queries answer as on that card; bf16 'support' says True, as on a real T4."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: name)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index=0: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)


def test_a_t4_gets_fp16_although_torch_says_it_supports_bf16(monkeypatch):
    pretend_gpu(monkeypatch, "Tesla T4", (7, 5))
    hardware = detect_hardware()
    assert (hardware.device, hardware.bf16, hardware.fp16) == ("cuda", False, True)
    assert hardware.compute_dtype == torch.float16 and str(hardware) == "Tesla T4 (cuda, fp16)"


def test_an_a100_gets_bf16(monkeypatch):
    pretend_gpu(monkeypatch, "NVIDIA A100-SXM4-40GB", (8, 0))
    hardware = detect_hardware()
    assert (hardware.device, hardware.bf16, hardware.fp16) == ("cuda", True, False)
    assert hardware.compute_dtype == torch.bfloat16


@pytest.mark.parametrize(
    "hardware, dtype",
    [
        (Hardware("cuda", "Tesla T4", bf16=False, fp16=True), torch.float16),
        (Hardware("cuda", "NVIDIA A100", bf16=True, fp16=False), torch.bfloat16),
        (Hardware("cpu", "CPU", bf16=False, fp16=False), torch.float32),
    ],
)
def test_4_bit_compute_dtype_follows_the_hardware(hardware, dtype):
    config = quantization_config("4bit", hardware)
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4" and config.bnb_4bit_use_double_quant
    assert config.bnb_4bit_compute_dtype == dtype


def test_other_quantisations():
    cpu = detect_hardware()
    assert quantization_config("8bit", cpu).load_in_8bit
    assert quantization_config("none", cpu) is None
    with pytest.raises(ConfigError, match="quantization must be one of"):
        quantization_config("3bit", cpu)


def test_a_gated_model_without_login_says_so_in_one_line():
    error = _access_error(
        "model",
        "meta-llama/Meta-Llama-3.1-8B",
        OSError("You are trying to access a gated repo.\nMake sure to have access to it at https://huggingface.co/..."),
    )
    assert str(error) == (
        "cannot load model 'meta-llama/Meta-Llama-3.1-8B': it is gated: accept its licence on the hub, "
        "then log in (HF_TOKEN in the environment or Colab secrets)"
    )


def test_a_model_in_no_cache_and_no_reachable_hub_is_a_one_line_error(monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)  # as HF_HUB_OFFLINE=1 does
    with pytest.raises(ModelAccessError) as error:
        load_base("nobody/no-such-model")
    assert str(error.value) == ("cannot load tokenizer 'nobody/no-such-model': " + UNREACHABLE)


def test_a_folder_that_holds_no_model_says_so(tmp_path):
    with pytest.raises(ModelAccessError, match="cannot load tokenizer '.*': the folder has no tokenizer_config.json"):
        load_base(str(tmp_path))


def test_wrapping_the_model_in_an_adapter_prints_no_library_warning(tiny_model_dir):
    """peft reads a property transformers deprecates: the warning is pricer's to hide, once, not the
    user's to read at every adapter (pytest's own filter would hide it here, so a new interpreter runs)."""
    import subprocess
    import sys

    script = (
        "import sys; from peft import LoraConfig, get_peft_model; from helpers.language.loading import load_base; "
        "model, _ = load_base(sys.argv[1], 'none'); get_peft_model(model, LoraConfig(target_modules=['q_proj']))"
    )
    run = subprocess.run([sys.executable, "-c", script, str(tiny_model_dir)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "FutureWarning" not in run.stderr
