"""The fine-tuned pricer as a service: a real serving engine (`transformers serve`) on loopback,
serving SmolLM2 with a LoRA adapter on the CPU, and asked the way the specialist asks it."""

import json
import os
import subprocess
import sys

import pytest

from helpers.language.frontier import FrontierConfig
from helpers.language.inference import InferenceConfig, Predictors, load_for_inference
from helpers.plumbing.errors import ModelAccessError
from helpers.week8.service import ServeConfig, command, served_folder, served_name
from helpers.week8.specialist import ServicePricer, SpecialistAgent, served_model

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def test_the_service_prices_as_the_model_does_in_process(
    smol_service, real_model_dir, smol_adapter, bundled_test, tmp_path
):
    items = bundled_test[:8]
    config = FrontierConfig(
        model=smol_service.model, base_url=smol_service.url, api_key="none", cache=str(tmp_path / "c")
    )
    inference = InferenceConfig(base_model=str(real_model_dir), adapter=str(smol_adapter))
    model, tokenizer = load_for_inference(inference)
    predict = Predictors(model, tokenizer, inference).model_predict.predict_batch
    in_process = predict(items)
    assert ServicePricer(config).predict_batch(items) == in_process
    assert sum(price is not None for price in in_process) >= 4  # prices, not failures that happen to agree
    # and the adapter is what is served: the base model alone prices some of them otherwise
    with model.disable_adapter():
        assert predict(items) != in_process


def test_the_service_answers_to_the_name_of_what_it_serves(smol_service, smol_adapter):
    assert served_model(smol_service.url) == smol_service.model
    assert smol_service.model.rsplit("/", 1)[1].startswith(f"{smol_adapter.name}-")


def test_a_second_ask_comes_from_the_cache_shared_with_the_frontier_models(smol_service, bundled_test, tmp_path):
    cache = str(tmp_path / "frontier.sqlite")
    config = FrontierConfig(model=smol_service.model, base_url=smol_service.url, api_key="none", cache=cache)
    first = ServicePricer(config).predict_batch(bundled_test[:3])
    again = ServicePricer(config)
    assert again.predict_batch(bundled_test[:3]) == first and again.stats.cached == 3 and again.stats.calls == 0


def test_the_folder_served_links_the_base_model_and_the_adapter(real_model_dir, smol_adapter, tmp_path, monkeypatch):
    monkeypatch.setenv("PRICER_RESULTS", str(tmp_path))
    config = ServeConfig(base_model=str(real_model_dir), adapter=str(smol_adapter))
    folder = served_folder(config)
    assert folder.parent == tmp_path / "served"
    assert (folder / "config.json").resolve() == (real_model_dir / "config.json").resolve()
    assert (folder / "adapter_model.safetensors").resolve() == (smol_adapter / "adapter_model.safetensors").resolve()
    assert served_folder(config) == folder  # made once


def test_another_adapter_or_the_same_one_trained_again_is_another_name(real_model_dir, smol_adapter, tmp_path):
    import shutil

    copy = tmp_path / smol_adapter.name
    shutil.copytree(smol_adapter, copy)
    config = ServeConfig(base_model=str(real_model_dir), adapter=str(copy))
    before = served_name(config)
    weights = copy / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\x00" * 8)
    assert served_name(config) != before  # no cached answer of the old adapter is taken for the new one


def test_the_engines_command_lines(real_model_dir, smol_adapter, tmp_path, monkeypatch):
    monkeypatch.setenv("PRICER_RESULTS", str(tmp_path))
    config = ServeConfig(base_model=str(real_model_dir), adapter=str(smol_adapter), port=8123)
    line = command(config, "/served/folder")
    assert line[:5] == [sys.executable, "-m", "transformers.cli.transformers", "serve", "/served/folder"]
    assert line[line.index("--quantization") + 1] == "bnb-4bit" and line[line.index("--port") + 1] == "8123"
    config.engine = "vllm"
    line = command(config, "pricer-abc")
    assert line[:3] == ["vllm", "serve", str(real_model_dir)]
    assert line[line.index("--lora-modules") + 1] == f"pricer-abc={smol_adapter}"
    assert line[line.index("--max-lora-rank") + 1] == "8" and "--enable-lora" in line


def test_serve_with_no_such_adapter_is_one_line(real_model_dir, tmp_path):
    line = [
        sys.executable,
        "-m",
        "helpers",
        "serve",
        "--base-model",
        str(real_model_dir),
        "--adapter",
        str(tmp_path / "no"),
    ]
    run = subprocess.run(line, capture_output=True, text=True, env={**ENV, "PRICER_RESULTS": str(tmp_path)})
    assert run.returncode == 2 and run.stdout.splitlines()[-1].startswith("serving ")
    assert run.stderr == f"error: cannot load adapter {str(tmp_path / 'no')!r}: no such folder\n"


def test_a_pricing_service_that_is_down_is_one_line_and_no_price(lines, bundled_test, tmp_path):
    from helpers.week8.service import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(Exception) as refused:  # the framework says it in one line and goes without the specialist
        SpecialistAgent(url)
    assert type(refused.value).__name__ == "APIConnectionError"
    agent = SpecialistAgent.__new__(SpecialistAgent)
    config = FrontierConfig(model="m", base_url=url, api_key="none", cache=None, max_retries=0, max_failures=2)
    agent.pricer = ServicePricer(config)
    assert agent.price("A kettle\nsteel") is None
    assert agent.price("A lamp\nbrass") is None  # and the next asks nothing more of it
    assert any(line.startswith("[Specialist Agent] Specialist Agent could not price it:") for line in lines)


def test_a_served_name_is_a_json_safe_string(smol_service):
    assert json.loads(json.dumps(smol_service.model)) == smol_service.model


def test_check_adapter_refuses_a_folder_without_one(real_model_dir):
    with pytest.raises(ModelAccessError, match="has no adapter_config.json"):
        served_folder(ServeConfig(base_model=str(real_model_dir), adapter=str(real_model_dir)))


def test_an_engine_ends_when_the_process_that_started_it_is_killed(tiny_model_dir, tmp_path):
    """A notebook's kernel killed, a `kill -9`: the engine it started does not live on as an orphan
    holding the GPU and the port."""
    import signal
    import time

    config = f"ServeConfig(base_model={str(tiny_model_dir)!r}, quantization='none', device='cpu', port=0)"
    script = (
        f"import sys\nfrom helpers.week8.service import ServeConfig, Service\nservice = Service({config})\n"
        "print(service.start().process.pid, flush=True)\nsys.stdin.read()\n"
    )
    starter = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               env={**ENV, "PRICER_RESULTS": str(tmp_path)})  # fmt: skip
    engine = int(starter.stdout.readline())
    os.kill(starter.pid, signal.SIGKILL)
    starter.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(engine, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(engine, signal.SIGKILL)
    raise AssertionError("the engine outlived the process that started it")
