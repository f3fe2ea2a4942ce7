"""Items a second through the pricing service (`transformers serve`) against the same model in
process (week 7's batched `model_predict`), and whether their answers agree.

    python benchmarks/service_speed.py                      # SmolLM2-135M + a LoRA adapter, on the CPU
    python benchmarks/service_speed.py --base-model meta-llama/Meta-Llama-3.1-8B --adapter ed-donner/pricer-... \
        --revision REV --items 250                           # on a GPU machine

Without `--adapter` a LoRA adapter with random (untrained) matrices is made for the base model,
so that the adapter path is served; its prices mean nothing, the timing and agreement do.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def random_adapter(base: str, folder: Path) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base), LoraConfig(r=8, init_lora_weights=False))
    with torch.no_grad():
        for name, weight in model.named_parameters():
            if "lora_B" in name:
                weight.mul_(0.05)
    model.save_pretrained(folder)
    return folder


def main() -> None:
    from helpers.data.item_files import load_items
    from helpers.language.frontier import FrontierConfig
    from helpers.language.inference import InferenceConfig, Predictors, load_for_inference
    from helpers.offline import smollm2
    from helpers.plumbing.paths import TEST_SAMPLE
    from helpers.week8.service import ServeConfig, Service
    from helpers.week8.specialist import ServicePricer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-model", default=None, help="default: SmolLM2-135M from its PyPI package")
    parser.add_argument("--adapter", default=None)
    parser.add_argument("--revision", default=None)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--engine", default="transformers")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="service-speed-"))
    os.environ["PRICER_RESULTS"] = str(work)
    base = args.base_model or str(smollm2.build(work / "smollm2"))
    adapter = args.adapter or str(random_adapter(base, work / "adapter"))
    items = load_items(TEST_SAMPLE)[0][: args.items]

    config = InferenceConfig(base_model=base, adapter=adapter, revision=args.revision)
    model, tokenizer = load_for_inference(config)
    predictor = Predictors(model, tokenizer, config).model_predict
    predictor.predict_batch(items[:2])  # warm up
    start = time.perf_counter()
    here = predictor.predict_batch(items)
    in_process = len(items) / (time.perf_counter() - start)
    del model

    serving = ServeConfig(base_model=base, adapter=adapter, revision=args.revision, engine=args.engine, port=0)
    start = time.perf_counter()
    with Service(serving, log=work / "engine.log") as service:
        loaded = time.perf_counter() - start
        pricer = ServicePricer(FrontierConfig(model=service.model, base_url=service.url, api_key="none", cache=None))
        pricer.predict_batch(items[:2])  # warm up
        pricer = ServicePricer(FrontierConfig(model=service.model, base_url=service.url, api_key="none", cache=None))
        start = time.perf_counter()
        served = pricer.predict_batch(items)
        through = len(items) / (time.perf_counter() - start)
    same = sum(a == b for a, b in zip(here, served))
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; base {base}; adapter {adapter}")
    print(f"{len(items)} test items: {in_process:,.1f} items/s in process (batches of {config.batch_size}), ")
    print(f"{through:,.1f} items/s through {args.engine} serve (4 requests in flight; it started in {loaded:,.0f} s)")
    print(f"answers agree on {same} of {len(items)}")


if __name__ == "__main__":
    main()
