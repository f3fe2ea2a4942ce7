"""Week 8 day 2: the agents that price a deal, and the ensemble agent that weighs them.

- `FrontierAgent`: a frontier model shown the five most similar training items and their
  prices (RAG, over the vector store of the training items);
- `ClassicalAgent`: a classical model of week 6 (by default the boosted trees, the 2025
  edition's best), trained on the training items;
- `EnsembleAgent`: their prices and the specialist's, combined as the validation items chose
  (`helpers.week8.ensemble.choose_blend`: members added one at a time while non-negative
  weights in log prices lower the cross-validated error, kept only where they beat the best
  member alone): on the items it was fitted on, the ensemble is never worse than its best
  member. A member that gives no price (a service down) sits out, and the weights of
  those that answered are fitted again, on the same validation items.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from helpers.classical.baselines import BaselineConfig
from helpers.classical.registry import fit_baselines
from helpers.core.items import Item
from helpers.core.leaderboard import training_key
from helpers.core.prompts import PROMPT_2024, PromptFormat
from helpers.core.tester import answers_of, usable_guess
from helpers.language.frontier import FrontierConfig, FrontierPricer
from helpers.plumbing.errors import PricerError
from helpers.plumbing.secrets import redact
from helpers.week8.agent import Agent, PricingAgent, item_for
from helpers.week8.ensemble import Blend, choose_blend
from helpers.week8.neighbour_trees import EVERY_BASELINE
from helpers.week8.retrieval import VectorStore, rag_messages
from helpers.week8.specialist import Preprocessor


class FrontierAgent(PricingAgent):
    """A frontier model, shown the `k` training items most like the deal (RAG)."""

    name = "Frontier Agent"
    color = Agent.BLUE

    def __init__(self, config: FrontierConfig, vectors: VectorStore, k: int = 5):
        self.log(f"Frontier Agent is setting up {config.model} with {len(vectors):,} items to look up")
        self.pricer = FrontierPricer(config, rag_messages(vectors, k), name=f"{config.model} with {k} similar items")


class ClassicalAgent(PricingAgent):
    """A classical model of week 6, trained here on the training items (seconds on a CPU)."""

    name = "Classical Agent"
    color = Agent.MAGENTA

    def __init__(self, train: list[Item], model: str = "boosted_trees", config: BaselineConfig | None = None):
        self.log(f"Classical Agent is training {model} on {len(train):,} items")
        self.pricer = fit_baselines(train, config or BaselineConfig(models=[model]), registry=EVERY_BASELINE)[model]
        self.log("Classical Agent is ready")


class Weights:
    """Members' prices combined as they did best on the validation items (see the module's note).
    A member that priced fewer than half of them is not weighed at all: too little to judge it on."""

    def __init__(self, answers: dict[str, list[float | None]], truths: Sequence[float]):
        self.answers, self.truths = answers, np.asarray(truths, dtype=float)
        self.fits: dict[tuple[str, ...], Blend | None] = {}
        enough = max(2, len(self.truths) / 2)
        self.weighed = tuple(n for n, prices in answers.items() if sum(p is not None for p in prices) >= enough)

    def fit(self, names: tuple[str, ...]) -> Blend | None:
        """How to combine the members `names`, chosen on the validation items all of them priced
        (`choose_blend`: never worse there than the best of them alone); None: too few such items."""
        if names not in self.fits:
            rows = [i for i in range(len(self.truths)) if all(self.answers[n][i] is not None for n in names)]
            prices = {n: [self.answers[n][i] for i in rows] for n in names}
            self.fits[names] = choose_blend(prices, self.truths[rows]) if names and len(rows) >= 2 else None
        return self.fits[names]

    def combine(self, guesses: dict[str, float | None]) -> tuple[float | None, str]:
        """(the combined price, how it was combined) from the weighed members that answered."""
        names = tuple(name for name in self.weighed if guesses.get(name) is not None)
        if not names:
            return None, "no member that priced the validation items gave a price"
        blend = self.fit(names)
        if blend is None:
            return None, "too few validation items priced by the members that answered"
        price = float(blend.predict(np.array([[guesses[name] for name in blend.names]]))[0])
        if blend.regression is None:
            return price, f"{blend.best} alone (best on the validation items: ${blend.error:,.2f})"
        weights = ", ".join(f"{n} {w:.2f}" for n, w in blend.weights.items())
        return price, f"weights {weights} (${blend.error:,.2f})"


class EnsembleAgent(Agent):
    """The deal's price from every pricing agent, weighed as they did on the validation items.
    It prices a description (`price`), and items in batches, for the Tester (`predict_batch`)."""

    name = "Ensemble Agent"
    color = Agent.YELLOW

    def __init__(
        self,
        agents: list[PricingAgent],
        validation: list[Item],
        preprocessor: Preprocessor | None = None,
        prompt: PromptFormat = PROMPT_2024,
    ):
        self.agents, self.preprocessor, self.prompt = agents, preprocessor, prompt
        self.__name__, self.batch_size = "ensemble agent", 64
        self.trained_on = training_key(validation)  # what its weights were fitted on, for the leaderboard
        self.log(f"Ensemble Agent is fitting its weights on {len(validation):,} validation items")
        answers = {agent.name: self.prices(agent, validation) for agent in agents}
        for agent in agents:
            known = [(p, item.price) for p, item in zip(answers[agent.name], validation) if p is not None]
            error = f"${sum(abs(p - t) for p, t in known) / len(known):,.2f}" if known else "none"
            self.log(
                f"{agent.name}: {len(known):,} of {len(validation):,} validation items priced, average error {error}"
            )
        self.weights = Weights(answers, [item.price for item in validation])
        left_out = [agent.name for agent in agents if agent.name not in self.weights.weighed]
        if left_out:
            self.log(f"Ensemble Agent leaves out {', '.join(left_out)}: fewer than half the validation items priced")
        blend = self.weights.fit(self.weights.weighed)
        self.log(f"Ensemble Agent is ready: {blend or 'no member priced the validation items'}")

    def prices(self, agent: PricingAgent, items: Sequence[Item]) -> list[float | None]:
        """`agent`'s prices for `items`, in batches; none at all when it cannot price (a service down)."""
        try:
            return [usable_guess(answer) for answer in answers_of(agent.pricer, items)]
        except PricerError as error:
            self.log(f"{agent.name} could not price {len(items):,} items ({redact(str(error))}): it sits out")
            return [None] * len(items)

    def predict_batch(self, items: Sequence[Item]) -> list[float | None]:
        """Curated items (already in the training items' shape), every member asked in batches."""
        answers = {agent.name: self.prices(agent, items) for agent in self.agents}
        return [
            self.weights.combine({name: prices[i] for name, prices in answers.items()})[0] for i in range(len(items))
        ]

    def __call__(self, item: Item) -> float | None:
        return self.predict_batch([item])[0]

    def price(self, description: str) -> float | None:
        """The ensemble's estimate of what the described product is worth."""
        text = self.preprocessor.preprocess(description) if self.preprocessor else description
        if self.preprocessor:
            self.log(f"Ensemble Agent rewrote the description: {text.splitlines()[0][:60]!r}")
        item = item_for(text, self.prompt)
        guesses = {agent.name: agent.price_item(item) for agent in self.agents}
        estimate, how = self.weights.combine(guesses)
        shown = "no estimate" if estimate is None else f"${estimate:,.2f}"
        self.log(f"Ensemble Agent complete - {shown}: {how}")
        return estimate
