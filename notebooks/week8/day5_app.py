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
# # Week 8 day 5: The Price is Right
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pricer-course/pricer/blob/main/notebooks/week8/day5_app.ipynb)
#
# The finale: the agents in an app. A table of the opportunities found so far, the agents' log
# as they work, a 3-D map of the vector store, and a timer that sends them hunting again every
# few minutes; select a row, and its notification is sent again. Built with Gradio's `Blocks`,
# piece by piece, then whole. In Colab the app gets a public `gradio.live` link (this machine's
# localhost is out of your browser's reach); `python -m helpers app` runs the same on your own.
#
# In smoke mode everything that would need the network stands in, and says so above the table:
# simulated deals, a rule-based chat model, the tiny pipeline-check model as the specialist.

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
# ## The memory
#
# What the agents raised before is in the store: day 4's run left one there (or more, from the
# app on another day). A deal is remembered by its URL, not its description: the scanner meets
# the same deal again tomorrow, rewritten by the model in other words, and only the URL says it
# is the same deal. The memory keeps the first opportunity for each URL, and the scanner leaves
# out every URL in it, so nothing is raised twice. It lives in the store, so a restart, a new
# runtime or a second machine find it, and two machines writing at once each keep theirs.

# %%
from helpers.week8.framework import framework_log
from helpers.week8.memory import Memory

memory = Memory(store, log=framework_log)
opportunities = memory.read()
for opportunity in opportunities:
    print(f"${opportunity.deal.price:,.2f} worth ${opportunity.estimate:,.2f}: {opportunity.deal.url}")
print(f"{len(opportunities)} opportunities remembered in {store}")

# %% [markdown]
# ## Gradio, piece by piece
#
# `gr.Blocks` lays out components in rows and columns; an event (the page loading, a timer's
# tick, a row selected) calls a Python function whose return value fills the components named
# as its outputs. A generator function fills them again at each `yield`: that is how the log
# moves while the agents work. First, the table alone.

# %%
import gradio as gr

from helpers.week8.app import HEADERS, table_for

with gr.Blocks(title="The Price is Right") as table_only:
    gr.Markdown("## The Price is Right: the opportunities so far")
    gr.Dataframe(headers=HEADERS, value=table_for(opportunities), wrap=True, interactive=False)
# shown below the cell (in Colab through a public link); the cell returns while it runs
table_only.launch(inline=True, prevent_thread_lock=True)

# %% [markdown]
# ## The whole app
#
# The app puts the agents together on its first hunt (so the page opens at once), runs one hunt
# at a time whoever asks (the page loading, the timer, a second browser), shows the log as it
# comes, and never loses an opportunity found: a hunt that fails is a line in the log. The map is
# day 2's t-SNE, in 3-D. The team is day 4's: `SPECIALIST` is a running pricing service's
# address; None starts one here from the store's adapter (a GPU outside smoke mode); "" goes
# without it.

# %%
from helpers.language.frontier import FrontierConfig, make_client
from helpers.notebook import curated, deal_feeds, openai_endpoint, pricing_service
from helpers.week8.deals import FeedConfig
from helpers.week8.framework import SIMULATED_DEALS, STAND_IN_CHAT, DealAgentFramework, Team
from helpers.week8.messaging import MessagingAgent
from helpers.week8.planning import PlanningAgent
from helpers.week8.pricers import ClassicalAgent, EnsembleAgent, FrontierAgent
from helpers.week8.retrieval import EMBEDDING_MODEL, Embedder, offline_embedding_model, stored_vectors
from helpers.week8.scanner import ScannerAgent
from helpers.week8.specialist import Preprocessor, SpecialistAgent

SPECIALIST = None
MODEL = "gpt-4o-mini"
BASE_URL, API_KEY = openai_endpoint()  # None, None: OPENAI_BASE_URL / OPENAI_API_KEY; smoke: the stand-in
FEEDS = deal_feeds()
STAND_INS = [STAND_IN_CHAT, SIMULATED_DEALS, "the specialist is the pipeline check's tiny random model"]


def make_framework() -> DealAgentFramework:
    """The team of day 4, put together (the app calls this on its first hunt)."""
    train, validation = curated("train", store), curated("validation", store)
    if SMOKE:
        train = train[:250]  # the vectors day 2 embedded in smoke mode
    embedder = Embedder((offline_embedding_model() if SMOKE else None) or EMBEDDING_MODEL)
    vectors = stored_vectors(train, store, embedder)
    chat, client = FrontierConfig(model=MODEL, base_url=BASE_URL, api_key=API_KEY), make_client(BASE_URL, API_KEY)
    agents = [] if SPECIALIST == "" else [SpecialistAgent(pricing_service(store, SPECIALIST))]
    agents += [FrontierAgent(chat, vectors), ClassicalAgent(train)]
    ensemble = EnsembleAgent(agents, validation, Preprocessor(chat), prompt=train[0].prompt_format)
    scanner = ScannerAgent(client, MODEL, FeedConfig(feeds=FEEDS, delay=0.0 if SMOKE else 0.5))
    planner = PlanningAgent(scanner, ensemble, MessagingAgent())
    return DealAgentFramework(Team(planner, STAND_INS if SMOKE else [], vectors, train), memory)


# %%
from helpers.week8.app import App, AppConfig

table_only.close()  # the table alone has been seen: its port is free again
settings = AppConfig(port=None, every=300, map_points=250 if SMOKE else 800)  # port None: the first free from 7860
app = App(make_framework, store, settings, STAND_INS if SMOKE else [])
ui = app.launch(block=False)  # in Colab: a public gradio.live link; locally http://127.0.0.1:7860

# %% [markdown]
# The app hunts once when a page opens it, then every five minutes. Here one hunt is run from
# the notebook as a page would, and the table it ends with is shown; in smoke mode the app is
# then closed, so that the notebook ends.

# %%
import matplotlib.pyplot as plt

from helpers.week8.app import ANSI  # the log's colour codes, which a printed line leaves out

*_, (log, table) = app.hunt()  # the generator to its end: the log (as HTML) and the table it ends with
print("The log's last lines, as the app shows them:")
for line in list(app.log.lines)[-12:]:
    print("  ", ANSI.sub("", line))
print(f"{len(table)} opportunities in the table")
found = memory.read()
figure, axes = plt.subplots(figsize=(7, 3))
axes.barh([o.deal.product_description[:40] for o in found], [o.discount for o in found], color="C2")
axes.set_xlabel("estimate - deal price ($)")
axes.set_title("Opportunities remembered" + (" (simulated deals, stand-in models)" if SMOKE else ""))
plt.show()

# %%
if SMOKE:
    ui.close()
