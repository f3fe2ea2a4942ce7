"""The fine-tuned pricer as a service: week 7's base model and adapter behind an OpenAI-compatible
HTTP endpoint, run by an existing serving engine (never a model server of our own).

- `transformers serve` (the `transformers[serving]` extra): CPU or one GPU. It loads a model
  folder; for a base model with an adapter it is given a folder of links, the base model's
  config, tokenizer and weights beside the adapter's two files, which transformers loads as
  `from_pretrained` then `load_adapter` (the same LoRA layers on the same 4-bit base as week 7's
  `PeftModel.from_pretrained`, so the same answers).
- vLLM (`pip install vllm`, a CUDA GPU): the base model with the adapter as a LoRA module.

Either answers `POST /v1/completions`, which the specialist asks for a few tokens after the
course's test prompt, as `model_predict` generates them in process. The course deploys the same
model on Modal; week 8 day 1 shows that code beside this.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from helpers.language.inference import check_adapter
from helpers.language.loading import detect_hardware
from helpers.plumbing import paths
from helpers.plumbing.errors import ConfigError, DataError, ModelAccessError
from helpers.plumbing.hub import check_folder, explain, looks_local
from helpers.plumbing.processes import die_with_parent
from helpers.presets import BASE_MODEL

ENGINES = ("transformers", "vllm")
SERVED_QUANTIZATIONS = ("4bit", "8bit", "none")
BASE_FILES = ("*.json", "*.safetensors", "*.model", "*.jinja", "*.tiktoken")  # config, tokenizer, weights
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin", "trained_on.txt")


@dataclass
class ServeConfig:
    """Which model to serve, with which engine, where."""

    base_model: str = BASE_MODEL  # hub id or local folder of the open model
    adapter: str | None = None  # hub id or local folder of the LoRA adapter; None: the base model alone
    revision: str | None = None  # the adapter's revision (a hub commit or branch)
    preset: str | None = None  # a course edition: its base model and the instructor's adapter at its revision
    engine: str = "transformers"  # transformers (transformers serve: CPU or one GPU) or vllm (a CUDA GPU)
    host: str = "127.0.0.1"  # the address it listens on (0.0.0.0: every interface)
    port: int = 8000  # the port it listens on (0: any free port)
    quantization: str = "4bit"  # the base model's weights as loaded: 4bit (NF4, as in training), 8bit or none
    device: str = "auto"  # transformers serve's device: auto, cpu, cuda:0
    startup_timeout: float = 900.0  # seconds to wait for the engine to load the model and answer


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _local(name: str, revision: str | None, patterns: tuple[str, ...], what: str) -> Path:
    """A local folder holding `name`: the folder itself, or its files from the hub cache."""
    if looks_local(name):
        check_folder(name, ("config.json", "adapter_config.json"), what, ModelAccessError)
        return Path(name).expanduser()
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(name, revision=revision, allow_patterns=list(patterns)))
    except (OSError, ValueError) as error:  # gated, missing, offline and not cached
        raise ModelAccessError(f"cannot load {what} {name!r}: {explain(error)}") from None


def served_name(config: ServeConfig) -> str:
    """The name the service answers to: the adapter's (or the base model's) name and a digest of
    what is served, so that another adapter, or the same one trained again, is another name and
    no cached answer of the old one is taken for the new one."""
    base = _local(config.base_model, None, BASE_FILES, "model") if looks_local(config.base_model) else None
    digest = hashlib.sha256(str(base.resolve() if base else config.base_model).encode())
    if config.adapter:
        adapter = _local(config.adapter, config.revision, ADAPTER_FILES, "adapter")
        for file in ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin"):
            if (adapter / file).is_file():
                with open(adapter / file, "rb") as handle:
                    for block in iter(lambda handle=handle: handle.read(1 << 20), b""):
                        digest.update(block)
    label = Path(config.adapter or config.base_model.rstrip("/")).name
    return f"{label}-{digest.hexdigest()[:10]}"


def served_folder(config: ServeConfig) -> Path:
    """For `transformers serve`: a folder of links to the base model's files and the adapter's,
    in the results folder, named for what it serves (made once, atomically)."""
    if config.adapter:
        check_adapter(config.adapter, config.revision)
    base = _local(config.base_model, None, BASE_FILES, "model")
    if not config.adapter:
        return base
    adapter = _local(config.adapter, config.revision, ADAPTER_FILES, "adapter")
    folder = paths.results("served", served_name(config))
    if (folder / "adapter_config.json").exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".part"))
    try:
        for source in sorted(base.iterdir()):
            if source.is_file() and not source.name.startswith(("adapter_", ".")) and source.suffix != ".md":
                (staging / source.name).symlink_to(source.resolve())
        for name in ADAPTER_FILES:
            if (adapter / name).is_file():
                (staging / name).symlink_to((adapter / name).resolve())
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def command(config: ServeConfig, name: str) -> list[str]:
    """The engine's command line for `config`, the model answering to `name`."""
    if config.engine not in ENGINES:
        raise ConfigError(f"--engine {config.engine}: must be one of {', '.join(ENGINES)}")
    if config.quantization not in SERVED_QUANTIZATIONS:
        raise ConfigError(f"--quantization {config.quantization}: must be one of {', '.join(SERVED_QUANTIZATIONS)}")
    where = ["--host", config.host, "--port", str(config.port)]
    if config.engine == "vllm":
        if config.quantization == "8bit":
            raise ConfigError("vLLM loads bitsandbytes in 4 bits only: --quantization 4bit or none")
        line = ["vllm", "serve", config.base_model, *where, "--served-model-name", name]
        if config.quantization == "4bit":
            line += ["--quantization", "bitsandbytes"]
        if config.adapter:
            adapter = _local(config.adapter, config.revision, ADAPTER_FILES, "adapter")
            rank = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8")).get("r", 16)
            line += ["--enable-lora", "--lora-modules", f"{name}={adapter}", "--max-lora-rank", str(rank)]
        return line
    line = [sys.executable, "-m", "transformers.cli.transformers", "serve", name, *where, "--device", config.device]
    if config.quantization != "none":
        line += ["--quantization", f"bnb-{config.quantization}"]
    return [*line, "--dtype", _dtype(), "--log-level", "warning"]


def _dtype() -> str:
    """The precision the in-process model computes in (week 7): bf16, fp16 or fp32."""
    return str(detect_hardware().compute_dtype).removeprefix("torch.")


def check_engine(engine: str) -> None:
    """One line when the engine is not installed."""
    if engine == "vllm" and shutil.which("vllm") is None:
        raise ConfigError("vLLM is not installed: pip install vllm (it needs a CUDA GPU), or use --engine transformers")
    if engine == "transformers" and not all(importlib.util.find_spec(m) for m in ("fastapi", "uvicorn")):
        raise ConfigError("transformers serve needs its serving extras: pip install 'transformers[serving]'")


class Service:
    """A serving engine in a child process: started, waited for until it answers, and stopped.

    with Service(ServeConfig(base_model=..., adapter=..., port=0)) as service:
        service.url, service.model   # what an OpenAI client is given
    """

    def __init__(self, config: ServeConfig, log: str | Path | None = None):
        self.config = config
        self.log_path = Path(log) if log else None
        self.process: subprocess.Popen | None = None
        self.model = ""
        self.line: list[str] = []  # the engine's command line, once launched

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.config.port}/v1"

    def start(self, quiet: bool = True) -> Service:
        """Launch the engine and wait until it answers; a failure is one line with the engine's last words."""
        self.launch(quiet)
        self.wait_until_ready()
        return self

    def launch(self, quiet: bool = True) -> Service:
        """Launch the engine and return at once (it loads the model meanwhile): `wait_until_ready` waits."""
        config = self.config
        check_engine(config.engine)
        if config.port == 0:
            config.port = free_port(config.host)
        if config.engine == "transformers":
            self.model = str(served_folder(config))
        else:
            self.model = served_name(config) if config.adapter else config.base_model
        line = self.line = command(config, self.model)
        if quiet:
            self.log_path = self.log_path or paths.results("served", f"engine-{config.port}.log")
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            output = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115  the child writes to it
        else:
            output = None
        environment = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "HF_HUB_DISABLE_UPDATE_CHECK": "1"}
        self.process = subprocess.Popen(
            line, stdout=output, stderr=subprocess.STDOUT, env=environment, preexec_fn=die_with_parent
        )
        if output is not None:
            output.close()
        return self

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.config.startup_timeout
        health = self.url.removesuffix("/v1") + "/health"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DataError(f"the {self.config.engine} engine stopped while loading: {self._last_words()}")
            try:
                with urllib.request.urlopen(health, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        self.stop()
        raise DataError(f"the {self.config.engine} engine did not answer in {self.config.startup_timeout:.0f} s")

    def _last_words(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return f"exit status {self.process.returncode}; its output is above"
        lines = [line for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        return f"{lines[-1][:300] if lines else 'no output'} (all of it: {self.log_path})"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> Service:
        return self.start() if self.process is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(config: ServeConfig) -> None:
    """`python -m helpers serve`: the engine in the foreground, its output shown, until Ctrl-C."""
    service = Service(config)
    print(f"serving {config.adapter or config.base_model} with {config.engine} on {service.url} ...", flush=True)
    service.start(quiet=False)
    print(f"ready: {service.url} answers as model {service.model!r} (Ctrl-C stops it)", flush=True)
    try:
        service.process.wait()
    finally:
        service.stop()
