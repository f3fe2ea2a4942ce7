"""Week 8 day 1: the specialist, week 7's fine-tuned model asked through the pricing service, and
the preprocessor that turns a deal's free text into the shape the models were trained on.

The specialist asks the service for a text completion of the course's test prompt, greedily,
as many tokens as `model_predict` generates in process, and reads the price as week 7 does.
It goes through the frontier models' machinery (`helpers.language.frontier.Chat`): the same
`openai` client, the same response cache on disk, the same retries and stop after failures.
"""

from __future__ import annotations

from typing import Any

from helpers.core.items import Item
from helpers.core.prompts import summary_messages
from helpers.language.frontier import FrontierConfig, FrontierPricer, make_client
from helpers.language.inference import InferenceConfig
from helpers.language.summaries import Summariser
from helpers.week8.agent import MAX_DESCRIPTION, Agent, PricingAgent


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


def served_model(url: str) -> str:
    """The model a service answers to (with vLLM, the adapter: listed after the base model)."""
    return make_client(url, "none", max_retries=1, timeout=10).models.list().data[-1].id


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


class Preprocessor:
    """A deal's free text rewritten as the 2025 edition's five lines (title, category, brand, a
    sentence of description, one on its features), the shape its items were trained on; the text
    as it is where the model gives no rewrite."""

    def __init__(self, config: FrontierConfig):
        self.chat = Summariser(config)  # the 2025 summary prompt, cached like every other call

    def preprocess(self, text: str) -> str:
        [reply] = self.chat.ask([(text[:40], summary_messages(text[:MAX_DESCRIPTION]))])
        return reply.strip() if reply and reply.strip() else text
