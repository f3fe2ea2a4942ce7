"""The course's way to serve the fine-tuned pricer: a Modal app (serverless GPUs), for
`modal deploy helpers/week8/modal_pricer.py`. Not run by this project's tests (no Modal account
offline); week 8 day 1 shows it beside `transformers serve`, which does the same job locally.

The base model loads in 4 bits with the instructor's adapter at its fixed revision (the preset
names both), once per container (`@modal.enter`); `price` writes a few tokens after the course's
test prompt and reads the number, as `model_predict` does. It needs a Modal secret named
"huggingface-secret" holding HF_TOKEN (the base model is gated).
"""

import modal

from helpers.core.prompts import PROMPT_2024
from helpers.presets import COURSE_2024

app = modal.App("pricer-service")
image = (
    modal.Image.debian_slim()
    .pip_install("torch", "transformers", "bitsandbytes", "accelerate", "peft")
    .add_local_python_source("helpers")
)
MIN_CONTAINERS = 0  # 1 keeps a GPU warm between calls (no cold start; billed while idle)


@app.cls(image=image, secrets=[modal.Secret.from_name("huggingface-secret")], gpu="T4", timeout=1800,
         min_containers=MIN_CONTAINERS)  # fmt: skip
class Pricer:
    @modal.enter()
    def setup(self):
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

        quantization = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_use_double_quant=True,
                                          bnb_4bit_compute_dtype=torch.float16, bnb_4bit_quant_type="nf4")  # fmt: skip
        self.tokenizer = AutoTokenizer.from_pretrained(COURSE_2024.base_model)
        base = AutoModelForCausalLM.from_pretrained(
            COURSE_2024.base_model, quantization_config=quantization, device_map="auto"
        )
        self.model = PeftModel.from_pretrained(base, COURSE_2024.adapter, revision=COURSE_2024.revision).eval()

    @modal.method()
    def price(self, description: str) -> float:
        import torch

        inputs = self.tokenizer(PROMPT_2024.test_prompt(description), return_tensors="pt").to("cuda")
        with torch.no_grad():
            output = self.model.generate(**inputs, max_new_tokens=3, do_sample=False)
        reply = self.tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
        return PROMPT_2024.price_in(reply) or 0.0
