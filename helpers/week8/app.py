"""Week 8 day 5: The Price is Right, the deal-hunting agents in a Gradio app.

A table of the opportunities found so far (from the memory in the store, so a reload or a
restart shows them again), the agents' log as they work, a 3-D map of the vector store's items
(t-SNE, coloured by category), and a timer that sends the agents hunting again. Selecting a row
sends that deal's notification again. The team is put together on the first hunt, so the page
opens at once; one hunt runs at a time, whoever asks.
"""

import html
import logging
import os
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from helpers.plumbing.errors import ConfigError, PricerError
from helpers.plumbing.secrets import redact
from helpers.plumbing.store import Store
from helpers.week8.agent import LOGGER
from helpers.week8.deals import Opportunity
from helpers.week8.framework import DealAgentFramework, DealsConfig, assemble, framework_log, hunting
from helpers.week8.maps import map_figure
from helpers.week8.memory import Memory

HEADERS = ["Deals found so far", "Price", "Estimate", "Discount", "URL"]
COLOURS = {"31": "#ff7b7b", "32": "#7bff9c", "33": "#ffe07b", "34": "#7bb6ff", "35": "#e07bff", "36": "#7bf3ff"}
ANSI = re.compile(r"\033\[[0-9;]*m")


@dataclass
class AppConfig:
    """Where the app listens, and how often the agents hunt."""

    host: str = "127.0.0.1"  # the address the app listens on (0.0.0.0: every interface)
    port: int | None = 7860  # the app's port (--no-port: the first free one from 7860)
    share: bool | None = None  # a public gradio.live link (default: in Colab, where localhost is out of reach)
    every: float = 300.0  # seconds between two hunts
    map_points: int = 800  # items of the vector store shown on the 3-D map


def table_for(opportunities: list[Opportunity]) -> list[list[str]]:
    return [
        [o.deal.product_description, f"${o.deal.price:,.2f}", f"${o.estimate:,.2f}", f"${o.discount:,.2f}", o.deal.url]
        for o in opportunities
    ]


def html_for(lines: list[str]) -> str:
    """The log's last lines as HTML, each agent in its colour, the newest at the bottom (a column
    laid out bottom up keeps the box scrolled there as lines arrive)."""
    shown = []
    for line in reversed(lines[-60:]):
        codes = re.findall(r"\033\[(\d+)m", line)
        colour = next((COLOURS[c] for c in reversed(codes) if c in COLOURS), "#dddddd")
        shown.append(f'<div style="color:{colour}">{html.escape(ANSI.sub("", line))}</div>')
    return (
        '<div id="agent-log" style="height:400px;overflow-y:auto;display:flex;flex-direction:column-reverse;'
        f'background:#222229;padding:10px;font-family:monospace;font-size:12px">{"".join(shown)}</div>'
    )


class LogLines(logging.Handler):
    """The agents' lines, kept for the app to show (the newest few hundred)."""

    def __init__(self):
        super().__init__()
        self.lines: deque[str] = deque(maxlen=500)
        self.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", datefmt="%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class App:
    """The app over a framework made on first use (`make`), the memory, and a map of the vectors."""

    def __init__(
        self,
        make: Callable[[], DealAgentFramework],
        store: Store,
        config: AppConfig | None = None,
        stand_ins: list[str] | None = None,
    ):
        self.make, self.config, self.stand_ins = make, config or AppConfig(), stand_ins or []
        self.memory = Memory(store, log=framework_log)
        self.framework: DealAgentFramework | None = None
        self.log = LogLines()
        LOGGER.addHandler(self.log)
        LOGGER.setLevel(logging.INFO)
        self.hunting = threading.Lock()

    def opportunities(self) -> list[Opportunity]:
        return self.memory.read()

    def hunt(self) -> Iterator[tuple[str, list[list[str]]]]:
        """Run the agents once (or follow the run already going), yielding the log and the table."""
        yield html_for(list(self.log.lines)), table_for(self.opportunities())
        if self.hunting.acquire(blocking=False):
            done = threading.Event()
            threading.Thread(target=self._hunt, args=(done,), daemon=True, name="hunt").start()
        else:
            framework_log("a hunt is under way already: following it")
            done = None
        while (done is not None and not done.is_set()) or (done is None and self.hunting.locked()):
            time.sleep(0.3)
            yield html_for(list(self.log.lines)), table_for(self.opportunities())
        yield html_for(list(self.log.lines)), table_for(self.opportunities())

    def _hunt(self, done: threading.Event) -> None:
        try:
            if self.framework is None:
                framework_log("Initializing the agents (the first hunt takes longest)")
                self.framework = self.make()
                framework_log("The agents are ready")
            self.framework.run()
        except PricerError as error:  # a refused key, a model that stopped answering: one line, the app stays up
            framework_log(f"the hunt stopped: {redact(str(error))}")
        except Exception as error:  # a bug: a line in the log, the traceback on stderr, and the app stays up
            framework_log(f"the hunt failed: {type(error).__name__}: {redact(str(error))[:200]}")
            logging.getLogger(__name__).exception("the hunt failed")
        finally:
            self.hunting.release()
            done.set()

    def resend(self, row: int) -> str:
        """Send the notification of the table's `row` again."""
        found = self.opportunities()
        if self.framework is None or not 0 <= row < len(found):
            framework_log("that row's notification cannot be sent before the agents are ready")
        else:
            framework_log(f"sending the notification for row {row + 1} again")
            messenger = self.framework.team.planner.messenger
            messenger.alert(found[row])
        return html_for(list(self.log.lines))

    def figure(self):
        """The vector store's items in 3-D, once the agents (and their vector store) are ready."""
        import plotly.graph_objects as go

        deadline = time.monotonic() + 1800
        while self.framework is None and time.monotonic() < deadline:
            time.sleep(1)
        if self.framework is None:
            return go.Figure(layout={"title": "the agents are not ready: no map", "height": 400})
        team = self.framework.team
        items = team.train[: min(self.config.map_points, len(team.vectors))]
        vectors = team.vectors.vectors()[: len(items)]
        return map_figure(vectors, [item.category for item in items], [item.title for item in items])

    def build(self):
        os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
        import gradio as gr

        with gr.Blocks(title="The Price is Right", fill_width=True) as ui:
            gr.Markdown(
                '<div style="text-align:center;font-size:24px"><strong>The Price is Right</strong> - '
                "deal-hunting agents</div>"
            )
            gr.Markdown(
                '<div style="text-align:center;font-size:14px">A fine-tuned open model served by an inference '
                "engine, a frontier model shown similar products (RAG) and a classical model, weighed by an "
                "ensemble, price the deals a scanner finds in RSS feeds; the best is sent as a notification.</div>"
            )
            if self.stand_ins:
                gr.Markdown(
                    '<div style="text-align:center;font-size:13px;color:#b26b00">Offline: '
                    + html.escape("; ".join(self.stand_ins))
                    + ". The prices and estimates below are simulated, not a market's or a model's judgement.</div>",
                    elem_id="stand-ins",
                )
            table = gr.Dataframe(
                headers=HEADERS, value=table_for(self.opportunities()), wrap=True, max_height=400, interactive=False,
                column_widths=["50%", "9%", "9%", "9%", "23%"], elem_id="opportunities",
            )  # fmt: skip
            with gr.Row():
                with gr.Column(scale=1):
                    log = gr.HTML(html_for(list(self.log.lines)))
                with gr.Column(scale=1):
                    plot = gr.Plot(show_label=False)
            ui.load(self.hunt, outputs=[log, table])
            ui.load(self.figure, outputs=[plot])
            timer = gr.Timer(value=self.config.every, active=True)
            timer.tick(self.hunt, outputs=[log, table])

            def select(event: gr.SelectData) -> str:
                return self.resend(event.index[0])

            table.select(select, outputs=[log])
        return ui

    def launch(self, block: bool = True):
        """Serve the app; `block` False returns at once (a notebook, a test)."""
        if self.config.port is not None:
            with socket.socket() as probe:
                try:
                    probe.bind((self.config.host, self.config.port))
                except OSError:
                    raise ConfigError(
                        f"--port {self.config.port} is taken (the app already running?): choose another, or --no-port "
                        "for the first free one from 7860"
                    ) from None
        colab = "google.colab" in sys.modules
        share = colab if self.config.share is None else self.config.share
        ui = self.build()
        ui.launch(
            server_name=self.config.host, server_port=self.config.port, share=share, inbrowser=False,
            prevent_thread_lock=not block, quiet=not block,
        )  # fmt: skip
        return ui


def run_app(config: DealsConfig, settings: AppConfig, store: Store) -> None:
    """`python -m helpers app`: The Price is Right until Ctrl-C; the team is made on the first hunt."""
    with hunting(config) as (train, validation, where):

        def make() -> DealAgentFramework:
            return DealAgentFramework(assemble(config, train, validation, store, where), Memory(store, framework_log))

        print(f"The Price is Right: http://{settings.host}:{settings.port or 7860} (Ctrl-C stops it)", flush=True)
        App(make, store, settings, where.stand_ins).launch(block=True)
