# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Week 8 day 1: the fine-tuned pricer as a service, and the specialist agent
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week8/day1_service.ipynb)
#
# Week 8 puts the pricers to work: agents that read deal feeds, price each deal and tell you
# about the ones offered well below what they are worth. Day 1: week 7's fine-tuned model as a
# **service**, an HTTP endpoint that any program can ask for a price, and the first agent, the
# *specialist*, which asks it.
#
# When does a service beat loading the model in the notebook? Loading it where you need it is
# simplest for one evaluation (week 7 did that). But the model needs a GPU and a minute to load,
# and this week's agents, app and notebooks run elsewhere (a CPU machine, another Colab runtime,
# a timer that fires every few minutes). A service loads the model once on one GPU and answers
# everyone, for as long as it runs; callers need no GPU and no weights. The course deploys it on
# Modal (serverless GPUs); here an existing serving engine does the job on this machine, behind
# the same OpenAI-compatible API the frontier models use: `transformers serve` (CPU or one GPU),
# or vLLM on a GPU, which batches many requests at once. Modal's code is at the end.
#
# Order of play: day 1 the service and the specialist; day 2 retrieval, the frontier agent and
# the ensemble; day 3 the scanner and the messenger; day 4 tools and the autonomous planner;
# day 5 The Price is Right app.

# %%
# Setup. In Colab: fetch the repository and install it (a minute or two), showing what each step
# prints. Locally: nothing to do, the README's `bash .ci/setup` (or `pip install -e .`) did it.
import subprocess
import sys
from pathlib import Path

REPO = "pricer-course/pricer"  # GitHub owner/name (`python -m helpers fork OWNER/NAME` points it at a fork)
STORE = "drive"  # in Colab, where results outlive this machine: "drive" (Google Drive) or "hf" (your hub)
COLAB = "google.colab" in sys.modules
CLONE = Path("/content/pricer")  # where Colab keeps the repository


class SetupFailed(Exception):
    def _render_traceback_(self):  # shown as this one line, not as a traceback
        return [f"error: {self}"]


def run_setup_step(name: str, command: list[str]) -> None:
    print("$", " ".join(command), flush=True)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        print(line, end="", flush=True)
    if process.wait():
        raise SetupFailed(f"the {name} failed (exit status {process.returncode}): its output is above")


if COLAB:
    if not (CLONE / ".git").exists():
        run_setup_step("clone", ["git", "clone", "--depth", "1", f"https://github.com/{REPO}", str(CLONE)])
    if not (CLONE / ".installed").exists():
        run_setup_step("install", [sys.executable, "-m", "pip", "install", "-e", str(CLONE)])
        (CLONE / ".installed").touch()
    sys.path.insert(0, str(CLONE))

from helpers.notebook import setup

# smoke mode (PRICER_SMOKE=1): offline, on the bundled sample; `store` keeps what outlives this machine
SMOKE, store = setup(STORE if COLAB else None)

# %%
from helpers.notebook import adapter, base_model, curated, smoke_adapter
from helpers.presets import preset

PRESET = "course-2024"  # the course's edition: "course-2024" (Llama 3.1 8B) or "course-2025" (Llama 3.2 3B)
ADAPTER = None  # None: the newest run week 7 days 3-4 put in the store; PRESET: the instructor's adapter
# In smoke mode the tiny random model and its pipeline-check adapter stand in: the service below
# is real, the prices it gives test the plumbing, not a model.
BASE_MODEL = base_model(preset(PRESET).base_model)
if ADAPTER is None:
    smoke_adapter(store, BASE_MODEL)  # smoke mode with no run in the store: a tiny adapter trained here (seconds)
ADAPTER_PATH, REVISION = adapter(store, ADAPTER)
test = curated("test", store)

# %% [markdown]
# ## The engine
#
# `transformers serve` is transformers' own server: it loads a model once and answers the
# OpenAI API's requests for it. It loads a model *folder*; for a base model with an adapter,
# helpers makes one of links, the base model's config, tokenizer and weights beside the
# adapter's two files. transformers then loads the base model in 4 bits and puts the adapter on
# top, as `PeftModel.from_pretrained` did in week 7. With `engine="vllm"` (on a CUDA GPU) the
# base model is served with the adapter as a LoRA module instead.
#
# The engine runs in a process of its own, in the background; `python -m helpers serve` runs the
# same from a terminal, on a GPU machine that others then call.

# %%
from helpers.week8.service import ServeConfig, Service

config = ServeConfig(base_model=BASE_MODEL, adapter=ADAPTER_PATH, revision=REVISION, port=0)  # 0: any free port
service = Service(config).start()  # loads the model (a minute or two for Llama on a GPU), waits until it answers
print(" ".join(service.line))
print(f"\nanswering at {service.url} as model {service.model!r}")

# %% [markdown]
# ## Asking it for a price
#
# The service speaks the OpenAI API, so the `openai` client asks it. Not a chat: a **text
# completion** (`/v1/completions`) of the course's test prompt, as the model was trained to
# continue it, three tokens, greedily (`temperature=0`), exactly what `model_predict` generated
# in week 7.

# %%
from openai import OpenAI

from helpers.core.items import Item
from helpers.notebook import labelled

client = OpenAI(base_url=service.url, api_key="none")  # a local service wants no key


def specialist_price(item: Item) -> float | None:
    response = client.completions.create(
        model=service.model, prompt=item.test_prompt(), max_tokens=3, temperature=0, seed=42
    )
    return item.prompt_format.price_in(response.choices[0].text)


print(labelled("the service's prices"))
for item in test[:3]:
    price = specialist_price(item)  # None: the reply held no price (a tiny random model's often does not)
    print(f"{'no price' if price is None else f'${price:,.2f}'} for {item.title[:60]} (truth ${item.price:,.2f})")

# %% [markdown]
# Does the service price as the model did in week 7? The same base model, the same adapter, the
# same prompt, greedy decoding: the answers must be the same. Here the model is loaded in this
# process too, and week 7's batched `model_predict` set beside the service's answers.

# %%
from helpers.language.inference import InferenceConfig, Predictors, load_for_inference
from helpers.notebook import agree

FIRST = 5
inference = InferenceConfig(base_model=BASE_MODEL, adapter=ADAPTER_PATH, revision=REVISION)
in_process = Predictors(*load_for_inference(inference), inference).model_predict
agree(
    f"the service and model_predict in process, on the first {FIRST} test items",
    map(specialist_price, test[:FIRST]),
    in_process.predict_batch(test[:FIRST]),
)

# %% [markdown]
# ## The specialist agent
#
# Each of this week's agents is a small class with a name and a colour, saying what it does in
# a shared log (`Agent.log`). The specialist prices a description through the service. Its
# `ServicePricer` sends the request above through the frontier models' machinery: the same
# response cache on disk (a repeated question costs nothing), a few requests in flight, the
# client's retries, and a stop after a few failures in a row. A service that is down makes the
# specialist sit out, in one line, rather than stop the hunt.

# %%
from typing import Any

from helpers.language.frontier import FrontierConfig, FrontierPricer
from helpers.week8.agent import Agent, PricingAgent
from helpers.week8.specialist import served_model


# %%
# as in helpers.week8.specialist: ServicePricer, SpecialistAgent
class ServicePricer(FrontierPricer):
    """A predictor `item -> price` asking the pricing service (any OpenAI-compatible server) for a
    text completion of the item's test prompt."""

    def __init__(self, config: FrontierConfig, name: str | None = None, trained_on: str = ""):
        super().__init__(config, messages=Item.test_prompt, name=name)
        self.max_tokens = config.max_tokens or InferenceConfig.max_new_tokens  # as model_predict generates
        self.trained_on = trained_on  # the adapter's training key, for the leaderboard

    def request(self, prompt: str) -> dict[str, Any]:
        config = self.config
        return {"model": config.model, "prompt": prompt, "max_tokens": self.max_tokens, "temperature": 0.0,
                "seed": config.seed}  # fmt: skip

    def send(self, client, request: dict[str, Any]):
        return client.completions.create(**request)

    @staticmethod
    def text_of(response) -> str | None:
        return response.choices[0].text


class SpecialistAgent(PricingAgent):
    """Week 7's fine-tuned model, through the pricing service."""

    name = "Specialist Agent"
    color = Agent.RED

    def __init__(self, url: str, model: str | None = None, cache: str | None = None, trained_on: str = ""):
        self.log(f"Specialist Agent is connecting to the pricing service at {url}")
        model = model or served_model(url)
        config = FrontierConfig(model=model, base_url=url, api_key="none", cache=cache, max_retries=1, max_failures=3)
        self.pricer = ServicePricer(config, name="specialist", trained_on=trained_on)
        self.log(f"Specialist Agent is ready: {model}")


# %%
import time

from helpers.week8.agent import show_agent_logs

show_agent_logs(sys.stdout)  # the agents' lines below each cell
specialist = SpecialistAgent(service.url)
agree(
    "the specialist agent and specialist_price",
    map(specialist.pricer, test[:FIRST]),
    map(specialist_price, test[:FIRST]),
)
SPEED = 20 if SMOKE else 100
start = time.perf_counter()
in_process.predict_batch(test[:SPEED])
here = SPEED / (time.perf_counter() - start)
start = time.perf_counter()
SpecialistAgent(service.url, cache=None).pricer.predict_batch(test[FIRST : FIRST + SPEED])  # no cache: all asked
served = SPEED / (time.perf_counter() - start)

# %%
import matplotlib.pyplot as plt

figure, axes = plt.subplots(figsize=(7, 2.5))
in_flight = specialist.pricer.config.concurrency
axes.barh(
    [f"through the service\n({in_flight} requests in flight)", "in process\n(batched)"],
    [served, here],
    color=["C1", "C0"],
)
axes.set_xlabel("items priced a second")
axes.set_title(f"{SPEED} test items{' (tiny pipeline-check model)' if SMOKE else ''}")
plt.show()
print(labelled(f"{here:,.1f} items/s in process, {served:,.1f} through the service"), "(figures in docs/benchmarks.md)")

# %% [markdown]
# ## The preprocessor
#
# A deal on the web is free text: "Quadcast HyperX condenser mic, connects via usb-c...". The
# models were trained on curated items, and the 2025 edition on five-line summaries of them. The
# preprocessor asks a chat model for that summary (the 2025 prompt, word for word), so that what
# the pricers see looks like what they learnt from. In smoke mode a loopback stand-in answers:
# its "summary" is the text's own words cut into the five lines, not a model's rewrite.

# %%
from helpers.notebook import openai_endpoint
from helpers.week8.specialist import Preprocessor

BASE_URL, API_KEY = openai_endpoint()  # None, None: OPENAI_BASE_URL / OPENAI_API_KEY; smoke: the stand-in
preprocessor = Preprocessor(FrontierConfig(model="gpt-4o-mini", base_url=BASE_URL, api_key=API_KEY))
text = preprocessor.preprocess(
    "Quadcast HyperX condenser mic, connects via usb-c to your computer for crystal clear audio"
)
print(text)
price = specialist.price(text)
print(labelled(f"\nthe specialist's price: {'no price' if price is None else f'${price:,.2f}'}"))

# %% [markdown]
# ## The course's way: Modal
#
# The course deploys the same model on [Modal](https://modal.com): serverless GPUs, billed by the
# second, that scale to zero when idle (`min_containers=1` keeps one warm, at a price). Its app is
# a class whose `setup` loads the model once per container and whose `price` answers a call. The
# code below is the course's, with this project's prompt; deploying it needs `pip install modal`,
# a Modal account (`modal token new`) and a Modal secret holding your HF_TOKEN. Set
# `DEPLOY_TO_MODAL = True` to deploy; the specialist then calls `modal.Cls.from_name(...)`
# instead of the service above.

# %%
import importlib.util

from helpers.plumbing import paths

DEPLOY_TO_MODAL = False
MODAL_APP = paths.ROOT / "helpers" / "week8" / "modal_pricer.py"  # the course's Modal app, with this project's prompt
print(MODAL_APP.read_text().split('"""', 2)[2].strip())
if not DEPLOY_TO_MODAL:
    print("\nModal: not deployed (DEPLOY_TO_MODAL = False); the service above does the same job on this machine")
elif importlib.util.find_spec("modal") is None:
    print("\nModal: not installed; pip install modal, then modal token new")
else:
    subprocess.run(["modal", "deploy", str(MODAL_APP)], check=False, cwd=paths.ROOT)

# %% [markdown]
# The service stops with this notebook's kernel; `service.stop()` stops it now. Day 2 gives the
# specialist two colleagues, and an ensemble agent that weighs all three.

# %%
service.stop()
