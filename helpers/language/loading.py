"""The open base model: by hub id or local folder, quantised as asked, on the hardware found.

Mixed precision follows the GPU: bf16 on compute capability 8.0 and newer (Ampere and later:
A100, L4, H100), fp16 on older cards (the T4 in free Colab), fp32 on the CPU. The capability
decides, not `torch.cuda.is_bf16_supported()`, which says True on a T4 because it emulates bf16. 4-bit NF4 with double
quantisation is the course's choice and the default; 8-bit and no quantisation are there to
compare memory footprints (week 7, day 1).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

from helpers.plumbing.errors import ConfigError, ModelAccessError
from helpers.plumbing.hub import TOKENIZER_FILES, check_folder, check_tokenizer_file, explain
from helpers.presets import BASE_MODEL

QUANTIZATIONS = ("4bit", "8bit", "none")
# On a CPU with AVX-512 bitsandbytes looks for an optional faster kernel package, and warns at
# import that it is not installed; its own kernels run instead. Only that warning is hidden.
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
# peft's PeftModel (built by trl's trainer and by loading an adapter) reads transformers' deprecated
# `is_gradient_checkpointing`, so transformers warns at each: twice a main job, about code in neither
# pricer nor the user's hands. Only that warning is hidden; the call is peft's to change.
warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)


@dataclass
class Hardware:
    """What we run on, and the precision that suits it."""

    device: str  # "cuda" or "cpu"
    name: str
    bf16: bool
    fp16: bool
    capability: tuple[int, int] | None = None  # a CUDA GPU's compute capability

    @property
    def compute_dtype(self):
        import torch

        return torch.bfloat16 if self.bf16 else torch.float16 if self.fp16 else torch.float32

    def __str__(self) -> str:
        precision = "bf16" if self.bf16 else "fp16" if self.fp16 else "fp32"
        return f"{self.name} ({self.device}, {precision})"

    @property
    def why(self) -> str:
        """The precision chosen, and the reason, for a learner to read."""
        if self.device != "cuda":
            return "no GPU: fp32, the CPU's own precision"
        version = ".".join(map(str, self.capability)) if self.capability else "unknown"
        if self.bf16:
            return f"compute capability {version} has bf16 in hardware: bf16 mixed precision"
        return (
            f"compute capability {version} is below 8.0, so bf16 would only be emulated: fp16 mixed precision "
            "with a gradient scaler, LoRA weights kept in fp32"
        )


BF16_CAPABILITY = (8, 0)  # Ampere: the first GPUs with bf16 in hardware


def detect_hardware() -> Hardware:
    import torch

    if torch.cuda.is_available():
        capability = tuple(torch.cuda.get_device_capability(0))
        bf16 = capability >= BF16_CAPABILITY
        return Hardware("cuda", torch.cuda.get_device_name(0), bf16=bf16, fp16=not bf16, capability=capability)
    return Hardware("cpu", "CPU", bf16=False, fp16=False)


def quantization_config(kind: str, hardware: Hardware):
    """A BitsAndBytesConfig for "4bit" (NF4, double quantisation) or "8bit"; None for "none"."""
    from transformers import BitsAndBytesConfig

    if kind not in QUANTIZATIONS:
        raise ConfigError(f"quantization must be one of {', '.join(QUANTIZATIONS)}, not {kind!r}")
    if kind == "4bit":
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_use_double_quant=True,  # the blocks' scales quantised too
            bnb_4bit_compute_dtype=hardware.compute_dtype,  # bf16 on Ampere and newer, fp16 on a T4, fp32 on a CPU
            bnb_4bit_quant_type="nf4",  # 4-bit NormalFloat, not evenly spaced integers
        )
    if kind == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return None  # the weights as they are stored: 16 bits on a GPU, 32 on a CPU


def _access_error(what: str, name: str, error: Exception) -> ModelAccessError:

    return ModelAccessError(f"cannot load {what} {name!r}: {explain(error)}")


def load_tokenizer(name: str, revision: str | None = None, padding_side: str = "right"):
    """The tokenizer, with a pad token (Llama has none: the end-of-text token stands in)."""
    from transformers import AutoTokenizer

    check_folder(name, TOKENIZER_FILES, "tokenizer", ModelAccessError)
    check_tokenizer_file(name, ModelAccessError)
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, revision=revision)
    except OSError as error:  # not on disk, not in the hub cache, gated, or unreachable
        raise _access_error("tokenizer", name, error) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = padding_side
    return tokenizer


def load_model(name: str = BASE_MODEL, quantization: str = "4bit", revision: str | None = None):
    """The causal LM, quantised as asked, on the GPU when there is one."""
    from transformers import AutoModelForCausalLM

    hardware = detect_hardware()
    quantization = quantization_config(quantization, hardware)
    check_folder(name, ("config.json",), "model", ModelAccessError)
    try:
        model = AutoModelForCausalLM.from_pretrained(
            name,
            revision=revision,
            quantization_config=quantization,
            dtype=hardware.compute_dtype,
            device_map=device_map(hardware),
        )
    except OSError as error:  # not on disk, not in the hub cache, gated, or unreachable
        raise _access_error("model", name, error) from None
    return model


def device_map(hardware: Hardware) -> str | dict[str, int]:
    """Where the model goes. One process on a GPU spreads it over every GPU ("auto"); under
    `accelerate launch` each process holds a whole copy on its own GPU (data parallel: "auto"
    there would spread one copy over all of them, which breaks it)."""
    if hardware.device != "cuda":
        return "cpu"
    processes = distributed()
    return {"": processes.local_process_index} if processes.num_processes > 1 else "auto"


def distributed():
    """This process's place among those `accelerate launch` started (one, without it)."""
    import torch
    from accelerate import PartialState

    return PartialState(cpu=not torch.cuda.is_available())  # without cpu=True, CPU processes stay unaware


def load_base(name: str = BASE_MODEL, quantization: str = "4bit", revision: str | None = None):
    """Tokenizer and model together, with the model's pad token set from the tokenizer."""
    tokenizer = load_tokenizer(name, revision)
    model = load_model(name, quantization, revision)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def memory_mb(model) -> float:
    """The model's memory footprint in MB (parameters and buffers, as stored)."""
    return model.get_memory_footprint() / 1e6


def four_bit_layers(model) -> int:
    """How many linear layers are stored in 4 bits (bitsandbytes Linear4bit)."""
    import bitsandbytes as bnb

    return sum(isinstance(module, bnb.nn.Linear4bit) for module in model.modules())
