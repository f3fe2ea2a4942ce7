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
# # Week 8 day 4: tools, and the agent that plans with them
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week8/day4_planning.ipynb)
#
# The team so far: the scanner finds deals (day 3), the ensemble prices them (day 2), the
# messenger notifies (day 3). Something must run them in order: a **planner**. Day 4 writes it
# twice. First the plan is handed to a frontier model with **tools**: it decides what to call,
# when, with what. Then the same plan written in Python, and the framework that runs it and
# remembers what it raised.
#
# In smoke mode a loopback stand-in plays the planner model by rule (the tool without arguments
# first, then the one-argument tool for each deal, then the notification for the deal furthest
# below its estimate); the deals are simulated and the ensemble's members are stand-ins. The
# stand-in goes by the tools' shapes, not their descriptions or the prompt: there, editing those
# words changes nothing; with a key, the real model reads them.

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

# %% [markdown]
# ## Tools
#
# A tool is a function of yours that the model may ask to have run. The model never runs it:
# it is shown each tool's name, a description and a JSON schema of its arguments, and it answers
# not with text but with a request, "call `estimate_true_value` with `{"description": ...}`".
# Your code runs the function, sends the result back as a message of role `tool`, and asks the
# model again; it goes on asking for tools until it answers in words. The descriptions are the
# model's only guide to what each tool does, so they are written for it.
#
# First three pretend tools, to see the loop work: a scan that returns two fixed deals, an
# estimate that always says $300, a notification that prints.

# %%
import json

from helpers.week8.deals import Deal, DealSelection


def scan_the_internet_for_bargains() -> str:
    print("pretend scan: two fixed deals")
    deals = [
        Deal(product_description="A 55-inch 4K smart TV with Dolby Vision", price=178.0, url="https://example.com/tv"),
        Deal(
            product_description="A 16-inch laptop, Ryzen 5, 16 GB, 512 GB SSD",
            price=446.0,
            url="https://example.com/pc",
        ),
    ]
    return DealSelection(deals=deals).model_dump_json()


def estimate_true_value(description: str) -> str:
    print(f"pretend estimate for {description[:30]}...: $300")
    return f"The estimated true value of {description} is 300"


def notify_user_of_deal(description: str, deal_price: float, estimated_true_value: float, url: str) -> str:
    print(f"pretend notification: {description[:30]}... at ${deal_price}, worth ${estimated_true_value}: {url}")
    return "Notification sent ok"


# %% [markdown]
# Their schemas: what the model is shown. `required` and `additionalProperties: False` ask it
# for exactly these arguments.

# %%
from helpers.week8.planning import AutonomousPlanningAgent

scan_function = AutonomousPlanningAgent.scan_function
estimate_function = AutonomousPlanningAgent.estimate_function
notify_function = AutonomousPlanningAgent.notify_function
tools = [{"type": "function", "function": f} for f in (scan_function, estimate_function, notify_function)]
print(json.dumps(notify_function, indent=2))

# %% [markdown]
# `handle_tool_call` runs each tool the model asked for. A model can ask for a tool that does not
# exist, or pass arguments that do not fit: the answer is then an error the model can read, not
# an exception that ends the run.

# %%
TOOLS = {
    "scan_the_internet_for_bargains": scan_the_internet_for_bargains,
    "estimate_true_value": estimate_true_value,
    "notify_user_of_deal": notify_user_of_deal,
}


def handle_tool_call(message) -> list[dict]:
    results = []
    for call in message.tool_calls:
        try:
            result = TOOLS[call.function.name](**json.loads(call.function.arguments or "{}"))
        except (KeyError, TypeError, ValueError) as error:
            result = f"Error: {type(error).__name__}: {error}"
        results.append({"role": "tool", "content": result, "tool_call_id": call.id})
    return results


# %% [markdown]
# The loop: ask; while the model asks for tools, run them and ask again, the conversation
# growing by its request and your results; stop when it answers in words (and, whatever it
# does, after a few rounds: a model that never stops asking would cost money forever).

# %%
from helpers.language.frontier import make_client
from helpers.notebook import openai_endpoint

BASE_URL, API_KEY = openai_endpoint()  # None, None: OPENAI_BASE_URL / OPENAI_API_KEY; smoke: the stand-in
openai = make_client(BASE_URL, API_KEY)
MODEL = "gpt-4o-mini"  # the course's 2025 edition plans with gpt-5.1
messages = [
    {"role": "system", "content": AutonomousPlanningAgent.system_message},
    {"role": "user", "content": AutonomousPlanningAgent.user_message},
]
for _ in range(10):
    response = openai.chat.completions.create(model=MODEL, messages=messages, tools=tools)
    choice = response.choices[0]
    if choice.finish_reason != "tool_calls":
        break
    messages.append(choice.message)
    messages.extend(handle_tool_call(choice.message))
print(f"the model's last word: {choice.message.content}; {len(messages)} messages in the conversation")

# %% [markdown]
# ## The autonomous planning agent
#
# The same loop with real tools: the scan is day 3's scanner, the estimate day 2's ensemble
# agent, the notification day 3's messenger. The agent checks what the model cannot be trusted
# with: a notification only once a run, and only for a deal the scan returned.

# %%
from helpers.language.frontier import FrontierAuthError, refusal
from helpers.week8.agent import Agent
from helpers.week8.deals import Opportunity
from helpers.week8.messaging import MessagingAgent
from helpers.week8.pricers import EnsembleAgent
from helpers.week8.scanner import ScannerAgent


# %%
# as in helpers.week8.planning: AutonomousPlanningAgent
class AutonomousPlanningAgent(Agent):
    name = "Autonomous Planning Agent"
    color = Agent.GREEN
    MAX_ROUNDS = 10  # replies with tool calls before the run is stopped: a model that never stops asking costs money

    scan_function = {
        "name": "scan_the_internet_for_bargains",
        "description": "Returns top bargains scraped from the internet along with the price each item is being offered "
        "for",
        "parameters": {"type": "object", "properties": {}, "required": [], "additionalProperties": False},
    }
    estimate_function = {
        "name": "estimate_true_value",
        "description": "Given the description of an item, estimate how much it is actually worth",
        "parameters": {
            "type": "object",
            "properties": {
                "description": {"type": "string", "description": "The description of the item to be estimated"},
            },
            "required": ["description"],
            "additionalProperties": False,
        },
    }
    notify_function = {
        "name": "notify_user_of_deal",
        "description": "Send the user a push notification about the single most compelling deal; only call this one "
        "time",
        "parameters": {
            "type": "object",
            "properties": {
                "description": {
                    "type": "string",
                    "description": "The description of the item itself scraped from the internet",
                },
                "deal_price": {
                    "type": "number",
                    "description": "The price offered by this deal scraped from the internet",
                },
                "estimated_true_value": {
                    "type": "number",
                    "description": "The estimated actual value that this is worth",
                },
                "url": {"type": "string", "description": "The URL of this deal as scraped from the internet"},
            },
            "required": ["description", "deal_price", "estimated_true_value", "url"],
            "additionalProperties": False,
        },
    }

    system_message = (
        "You find great deals on bargain products using your tools, and notify the user of the best bargain."
    )
    user_message = (
        "First, use your tool to scan the internet for bargain deals. Then for each deal, use your tool to estimate "
        "its true value. Then pick the single most compelling deal where the price is much lower than the estimated "
        "true value, and use your tool to notify the user. Then just reply OK to indicate success."
    )

    def __init__(
        self,
        client,
        scanner: ScannerAgent,
        ensemble: EnsembleAgent,
        messenger: MessagingAgent,
        model: str = "gpt-4o-mini",
    ):
        self.client, self.scanner, self.ensemble, self.messenger, self.model = (
            client,
            scanner,
            ensemble,
            messenger,
            model,
        )
        self.memory: set[str] = set()
        self.opportunity: Opportunity | None = None
        self.selection: DealSelection | None = None
        self.considered: list[Opportunity] = []  # the scanned deals the model had estimated, best first

    def get_tools(self) -> list[dict]:
        return [{"type": "function", "function": f} for f in (self.scan_function, self.estimate_function,
                                                              self.notify_function)]  # fmt: skip

    # --- the tools: what runs when the model asks for one ---------------------------------

    def scan_the_internet_for_bargains(self) -> str:
        self.log("Autonomous Planning Agent is calling the scanner")
        self.selection = self.scanner.scan(memory=self.memory)
        return self.selection.model_dump_json() if self.selection and self.selection.deals else "No deals found"

    def estimate_true_value(self, description: str) -> str:
        self.log("Autonomous Planning Agent is estimating a value with the Ensemble Agent")
        estimate = self.ensemble.price(description)
        if estimate is None:
            return f"The true value of {description} could not be estimated"
        for deal in self.selection.deals if self.selection else []:
            if deal.product_description == description:
                self.considered.append(Opportunity(deal=deal, estimate=estimate, discount=estimate - deal.price))
                self.considered.sort(key=lambda found: found.discount, reverse=True)
        return f"The estimated true value of {description} is {estimate:.2f}"

    def notify_user_of_deal(self, description: str, deal_price: float, estimated_true_value: float, url: str) -> str:
        if self.opportunity:
            self.log("Autonomous Planning Agent is trying to notify the user a 2nd time; ignoring")
            return "A notification was sent already; only one is allowed"
        shown = {deal.url for deal in self.selection.deals} if self.selection else set()
        if url not in shown:
            self.log(
                f"Autonomous Planning Agent: the model asked to notify a deal the scan did not return ({url[:60]})"
            )
            return "That URL is not one of the deals scanned; notify one of those"
        self.log("Autonomous Planning Agent is notifying the user")
        self.messenger.notify(description, deal_price, estimated_true_value, url)
        deal = Deal(product_description=description, price=deal_price, url=url)
        self.opportunity = Opportunity(
            deal=deal, estimate=estimated_true_value, discount=estimated_true_value - deal_price
        )
        return "Notification sent ok"

    def handle_tool_call(self, message) -> list[dict]:
        """Run each tool the model asked for; a tool it made up, or arguments that do not fit,
        get an error the model can read (and a line in the log), not an exception."""
        mapping = {
            "scan_the_internet_for_bargains": self.scan_the_internet_for_bargains,
            "estimate_true_value": self.estimate_true_value,
            "notify_user_of_deal": self.notify_user_of_deal,
        }
        results = []
        for call in message.tool_calls:
            tool, name = mapping.get(call.function.name), call.function.name
            try:
                arguments = json.loads(call.function.arguments or "{}")
                if tool is None:
                    raise LookupError(f"there is no tool {name!r}; the tools are {', '.join(mapping)}")
                if not isinstance(arguments, dict):
                    raise TypeError("the arguments are not a JSON object")
                result = tool(**arguments)
            except (LookupError, TypeError, ValueError) as error:  # ValueError: bad JSON, a price that is no number
                self.log(f"Autonomous Planning Agent: a call to {name[:40]!r} failed: {error}")
                result = f"Error: {error}"
            results.append({"role": "tool", "content": result, "tool_call_id": call.id})
        return results

    def plan(self, memory: set[str] = frozenset()) -> Opportunity | None:
        """The model plans the run with its tools; returns the opportunity it notified, if any."""
        import openai

        self.log("Autonomous Planning Agent is kicking off a run")
        self.memory, self.opportunity, self.selection, self.considered = set(memory), None, None, []
        messages: list = [
            {"role": "system", "content": self.system_message},
            {"role": "user", "content": self.user_message},
        ]
        for _ in range(self.MAX_ROUNDS):
            problem = None
            try:
                response = self.client.chat.completions.create(
                    model=self.model, messages=messages, tools=self.get_tools()
                )
            except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
                problem = refusal(error, str(self.client.base_url), self.model)
            except (openai.APIError, openai.APIConnectionError) as error:
                self.log(f"Autonomous Planning Agent: the call failed ({type(error).__name__}): the run ends here")
                return self.opportunity
            if problem:
                raise FrontierAuthError(problem)
            choice = response.choices[0]
            if choice.finish_reason != "tool_calls" or not choice.message.tool_calls:
                self.log(f"Autonomous Planning Agent completed with: {(choice.message.content or '')[:80]}")
                return self.opportunity
            messages.append(choice.message)
            messages.extend(self.handle_tool_call(choice.message))
        self.log(f"Autonomous Planning Agent: still asking for tools after {self.MAX_ROUNDS} replies: stopped")
        return self.opportunity


# %% [markdown]
# Its team, as on days 2 and 3: the specialist needs its service (`SPECIALIST`: a running
# service's address; None starts one here from the store's adapter, a GPU outside smoke mode;
# "" goes without it). The vector store comes from the store, as day 2 left it.

# %%
from helpers.language.frontier import FrontierConfig
from helpers.notebook import curated, deal_feeds, pricing_service
from helpers.week8.agent import show_agent_logs
from helpers.week8.deals import FeedConfig
from helpers.week8.pricers import ClassicalAgent, FrontierAgent
from helpers.week8.retrieval import EMBEDDING_MODEL, Embedder, offline_embedding_model, stored_vectors
from helpers.week8.specialist import Preprocessor, SpecialistAgent

SPECIALIST = None
show_agent_logs(sys.stdout)  # the agents' lines below each cell
train, validation = curated("train", store), curated("validation", store)
if SMOKE:
    train = train[:250]  # the vectors day 2 embedded in smoke mode
vectors = stored_vectors(train, store, Embedder((offline_embedding_model() if SMOKE else None) or EMBEDDING_MODEL))
chat = FrontierConfig(model=MODEL, base_url=BASE_URL, api_key=API_KEY)
agents = [] if SPECIALIST == "" else [SpecialistAgent(pricing_service(store, SPECIALIST))]
agents += [FrontierAgent(chat, vectors), ClassicalAgent(train)]
ensemble = EnsembleAgent(agents, validation, Preprocessor(chat), prompt=train[0].prompt_format)
scanner = ScannerAgent(openai, MODEL, FeedConfig(feeds=deal_feeds(), delay=0.0 if SMOKE else 0.5))
messenger = MessagingAgent()

# %%
from helpers.week8.framework import framework_log
from helpers.week8.memory import Memory

planner = AutonomousPlanningAgent(openai, scanner, ensemble, messenger, model=MODEL)
opportunity = planner.plan()
memory = Memory(store, log=framework_log)  # what was notified is remembered, so it is never raised twice
memory.add([opportunity] if opportunity else [])
opportunity

# %% [markdown]
# ## The plan in Python, and the framework
#
# A model that plans is flexible and costs a call per step; the plan itself never changes
# (scan, estimate each, notify the best), so the course's app runs it in Python: the
# `PlanningAgent`, which notifies the best deal only when it is at least $50 below its estimate.
# The framework runs the planner and keeps what it raised in the **memory**, in the store, so
# that no later run, on this machine or another, raises the same deal twice (the autonomous
# planner's deal above is in it already: the scanner leaves it out now).

# %%
from helpers.week8.framework import DealAgentFramework, Team
from helpers.week8.planning import PlanningAgent

planning = PlanningAgent(scanner, ensemble, messenger)
framework = DealAgentFramework(Team(planning, [], vectors, train), memory)
raised = framework.run()
print(f"{len(raised)} opportunity raised; the memory holds {len(framework.memory.read())}")

# %%
import matplotlib.pyplot as plt

considered = planning.considered
figure, axes = plt.subplots(figsize=(8, 3))
axes.barh([o.deal.product_description[:40] for o in considered], [o.discount for o in considered], color="C2")
axes.axvline(planning.threshold, color="grey", linestyle="--", label=f"notify at ${planning.threshold:,.0f}")
axes.set_xlabel("estimate - deal price ($)")
axes.set_title("The deals priced this run" + (" (simulated deals, stand-in models)" if SMOKE else ""))
axes.legend()
plt.show()
