"""Week 8's agents with real objects: the messenger against a Pushover stand-in on loopback, the
memory in a folder store with real parallel writers, the ensemble's weights, and both planners
over the simulated feed and the OpenAI-compatible stand-in (structured outputs, tool calls)."""

import json
import multiprocessing
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from helpers.core.items import Item
from helpers.language.frontier import make_client
from helpers.offline.deal_feed import DealFeed
from helpers.offline.fake_openai import FakeOpenAI, Fault
from helpers.plumbing.store import FolderStore
from helpers.week8.agent import PricingAgent, item_for
from helpers.week8.deals import Deal, FeedConfig, Opportunity
from helpers.week8.memory import KEY, Memory
from helpers.week8.messaging import MessagingAgent
from helpers.week8.planning import AutonomousPlanningAgent, PlanningAgent
from helpers.week8.pricers import EnsembleAgent, Weights
from helpers.week8.scanner import ScannerAgent


class Pushover:
    """A stand-in for Pushover's messages API on loopback: records each post, answers `status`."""

    def __init__(self, status: int = 200):
        self.posts: list[dict] = []
        self.status = status
        pushover = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                pushover.posts.append({k: v[0] for k, v in parse_qs(body).items()})
                self.send_response(pushover.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/1/messages.json"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def opportunity(url: str, price: float = 20.0, estimate: float = 100.0) -> Opportunity:
    deal = Deal(product_description=f"a product at {url}", price=price, url=url)
    return Opportunity(deal=deal, estimate=estimate, discount=estimate - price)


# --- messaging ---------------------------------------------------------------------------------


def test_without_pushover_keys_a_notification_is_a_line_in_the_log(monkeypatch, lines):
    monkeypatch.delenv("PUSHOVER_USER", raising=False)
    monkeypatch.delenv("PUSHOVER_TOKEN", raising=False)
    assert MessagingAgent(url="http://127.0.0.1:9/nowhere").alert(opportunity("http://x/1"))
    assert any(
        line.startswith("[Messaging Agent] Messaging Agent notification: Deal Alert! Price=$20.00") for line in lines
    )


def test_with_pushover_keys_the_alert_is_posted_and_the_token_never_shown(monkeypatch, lines):
    monkeypatch.setenv("PUSHOVER_USER", "u-secret-user")
    monkeypatch.setenv("PUSHOVER_TOKEN", "t-secret-token")
    pushover = Pushover()
    try:
        assert MessagingAgent(url=pushover.url).alert(opportunity("http://x/1"))
    finally:
        pushover.stop()
    [post] = pushover.posts
    assert post["user"] == "u-secret-user" and post["token"] == "t-secret-token"
    assert post["message"].startswith("Deal Alert! Price=$20.00, Estimate=$100.00, Discount=$80.00")
    assert not [line for line in lines if "secret" in line]


@pytest.mark.parametrize("status", [401, 500])
def test_a_notification_refused_is_one_line_and_the_run_goes_on(monkeypatch, lines, status):
    monkeypatch.setenv("PUSHOVER_USER", "u-secret-user")
    monkeypatch.setenv("PUSHOVER_TOKEN", "t-secret-token")
    pushover = Pushover(status=status)
    try:
        assert MessagingAgent(url=pushover.url).alert(opportunity("http://x/1")) is False
    finally:
        pushover.stop()
    assert any(f"Pushover refused the notification (status {status})" in line for line in lines)
    assert not [line for line in lines if "secret" in line]


def test_a_notification_that_cannot_be_sent_is_one_line(monkeypatch, lines):
    monkeypatch.setenv("PUSHOVER_USER", "u")
    monkeypatch.setenv("PUSHOVER_TOKEN", "t")
    assert MessagingAgent(url="http://127.0.0.1:9/1/messages.json", timeout=2).alert(opportunity("http://x/1")) is False
    assert any("the notification could not be sent (ConnectError)" in line for line in lines)


# --- memory ------------------------------------------------------------------------------------


def test_the_memory_survives_a_restart_and_keeps_one_opportunity_a_url(tmp_path):
    store = FolderStore(tmp_path / "store")
    assert Memory(store).add([opportunity("http://x/1"), opportunity("http://x/1", price=5)]) != []
    again = Memory(store)  # a new process, or another machine sharing the store
    assert again.add([opportunity("http://x/1", price=1), opportunity("http://x/2")])[0].deal.url == "http://x/2"
    assert [(o.deal.url, o.deal.price) for o in Memory(store).read()] == [("http://x/1", 20.0), ("http://x/2", 20.0)]
    assert Memory(store).urls() == {"http://x/1", "http://x/2"}


def _remember(root: str, first: int, start: multiprocessing.Event) -> None:
    start.wait()
    memory = Memory(FolderStore(root))
    for number in range(first, first + 20):
        memory.add([opportunity(f"http://x/{number}")])


def test_two_processes_remembering_at_once_lose_nothing(tmp_path):
    start = multiprocessing.Event()
    writers = [multiprocessing.Process(target=_remember, args=(str(tmp_path), n, start)) for n in (0, 100)]
    for writer in writers:
        writer.start()
    start.set()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    urls = [o.deal.url for o in Memory(FolderStore(tmp_path)).read()]
    assert sorted(urls) == sorted(f"http://x/{n}" for n in [*range(20), *range(100, 120)])


def test_a_memory_cut_short_keeps_every_whole_line_and_the_file_as_it_was(tmp_path):
    store, said = FolderStore(tmp_path), []
    Memory(store).add([opportunity("http://x/1"), opportunity("http://x/2")])
    path = tmp_path / KEY
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) - 25])  # the second line cut off
    memory = Memory(store, log=said.append)
    assert [o.deal.url for o in memory.read()] == ["http://x/1"]
    assert said and said[0].startswith(f"memory {KEY}: 1 line could not be read (a file cut short?)")
    [aside] = (tmp_path / KEY).parent.glob("memory.jsonl.damaged-*")
    assert aside.read_bytes() == whole[: len(whole) - 25]
    memory.read()
    assert len(said) == 1  # said once, however often the app reads it
    memory.add([opportunity("http://x/3")])
    assert [o.deal.url for o in Memory(store).read()] == ["http://x/1", "http://x/3"]


# --- the ensemble's weights --------------------------------------------------------------------


def test_the_weights_are_never_worse_on_validation_than_the_best_member():
    truths = [10.0, 50.0, 200.0, 30.0, 90.0, 400.0, 15.0, 60.0]
    answers = {"exact": [t * 1.02 for t in truths], "noisy": [t * (3 if i % 2 else 0.2) for i, t in enumerate(truths)]}
    blend = Weights(answers, truths).fit(("exact", "noisy"))
    best = sum(abs(a - t) for a, t in zip(answers["exact"], truths)) / len(truths)
    assert blend.best == "exact" and blend.error <= best + 1e-9


def test_a_member_that_gives_no_price_sits_out_and_the_rest_are_weighed_again():
    truths = [10.0, 50.0, 200.0, 30.0, 90.0]
    weights = Weights({"a": [t * 1.1 for t in truths], "b": [t * 0.5 for t in truths]}, truths)
    price, how = weights.combine({"a": 110.0, "b": None})
    assert price == 110.0 and how.startswith("a alone")
    assert weights.combine({"a": None, "b": None}) == (None, "no member that priced the validation items gave a price")


def test_a_member_that_priced_too_few_validation_items_is_not_weighed():
    truths = [10.0, 50.0, 200.0, 30.0, 90.0, 40.0]
    rare = [None, None, None, None, None, 1.0]  # a tiny model that wrote a price once
    weights = Weights({"rare": rare, "good": [t * 1.1 for t in truths]}, truths)
    assert weights.weighed == ("good",)
    price, how = weights.combine({"rare": 1.0, "good": 110.0})
    assert price == 110.0 and how.startswith("good alone")


class Fixed(PricingAgent):
    """A pricing agent that answers what it is told (a classical model would do, slower)."""

    def __init__(self, name: str, price):
        self.name, self.pricer = name, (lambda item: price(item) if callable(price) else price)


def test_the_ensemble_agent_prices_a_description_from_its_members(lines):
    validation = [Item(title=f"t{i}", price=p, category="c", text=f"t{i}\nwords") for i, p in enumerate([20, 40, 80])]
    ensemble = EnsembleAgent([Fixed("Sure", lambda item: item.price or 100.0), Fixed("Down", None)], validation)
    assert ensemble.price("A kettle\nsteel, 1.7 litres") == 100.0
    assert any("Down: 0 of 3 validation items priced" in line for line in lines)


def test_a_deal_description_becomes_an_item_of_bounded_size():
    item = item_for("A kettle\n" + "x" * 1_000_000)
    assert item.title == "A kettle" and len(item.text) == 2000 and item.price == 0.0


# --- the planners ------------------------------------------------------------------------------


@pytest.fixture
def team(monkeypatch):
    """Scanner over the simulated feed, the chat stand-in, an ensemble that knows each deal's
    true price, the messenger writing to the log."""
    monkeypatch.delenv("PUSHOVER_USER", raising=False)
    with FakeOpenAI() as chat, DealFeed(port=0) as feed:
        truth = {deal.item.title[:40]: deal.item.price for deal in feed.deals}

        def worth(item: Item) -> float:
            return next((price for title, price in truth.items() if title[:30] in item.text), 100.0)

        validation = [Item(title=f"t{i}", price=p, category="c", text=f"t{i}") for i, p in enumerate([20, 40, 80])]
        client = make_client(chat.url, chat.api_key)
        scanner = ScannerAgent(client, "gpt-4o-mini", FeedConfig(feeds=feed.urls, delay=0.0))
        ensemble = EnsembleAgent(
            [Fixed("Oracle", lambda item: worth(item) if item.price == 0 else item.price)], validation
        )
        yield client, scanner, ensemble, MessagingAgent(), chat, feed


def test_the_planning_agent_notifies_the_deal_furthest_below_its_estimate(team, lines):
    _, scanner, ensemble, messenger, _, _ = team
    planner = PlanningAgent(scanner, ensemble, messenger, threshold=10)
    best = planner.plan()
    assert best is not None and best == planner.considered[0]
    assert best.discount == max(found.discount for found in planner.considered) > 10
    assert sum("Messaging Agent notification: Deal Alert!" in line for line in lines) == 1


def test_no_notification_when_no_saving_passes_the_threshold(team, lines):
    _, scanner, ensemble, messenger, _, _ = team
    assert PlanningAgent(scanner, ensemble, messenger, threshold=1_000_000).plan() is None
    assert not [line for line in lines if "Deal Alert!" in line]


def test_the_autonomous_planner_scans_estimates_each_deal_and_notifies_once(team, lines):
    client, scanner, ensemble, messenger, chat, _ = team
    planner = AutonomousPlanningAgent(client, scanner, ensemble, messenger)
    found = planner.plan()
    assert found is not None and found.deal.url == planner.considered[0].deal.url
    calls = [json.loads(r["body"]) for r in chat.chat_requests() if json.loads(r["body"]).get("tools")]
    assert len(calls) == 4  # scan, the estimates, the notification, then "OK"
    assert [t["function"]["name"] for t in calls[0]["tools"]] == [
        "scan_the_internet_for_bargains",
        "estimate_true_value",
        "notify_user_of_deal",
    ]
    assert sum("Deal Alert!" in line for line in lines) == 1


def test_an_unknown_tool_and_bad_arguments_are_told_to_the_model_and_the_run_goes_on(team, lines):
    client, scanner, ensemble, messenger, chat, _ = team
    chat.script.extend([Fault(tool_calls=[("buy_it_now", "{}")]), Fault(tool_calls=[("estimate_true_value", "{oops")])])
    chat.script.append(Fault(tool_calls=[("notify_user_of_deal", '{"description": "x"}')]))
    planner = AutonomousPlanningAgent(client, scanner, ensemble, messenger)
    assert planner.plan() is not None  # the stand-in planner then takes over, and notifies
    said = " ".join(lines)
    assert "a call to 'buy_it_now' failed: there is no tool 'buy_it_now'" in said
    assert "a call to 'estimate_true_value' failed" in said and "a call to 'notify_user_of_deal' failed" in said
    sent = [json.loads(r["body"]) for r in chat.chat_requests() if json.loads(r["body"]).get("tools")]
    errors = [m["content"] for m in sent[1]["messages"] if m.get("role") == "tool"]
    assert errors == ["Error: there is no tool 'buy_it_now'; the tools are scan_the_internet_for_bargains, "
                      "estimate_true_value, notify_user_of_deal"]  # fmt: skip


def test_a_model_that_never_stops_asking_for_tools_is_stopped(team, lines):
    client, scanner, ensemble, messenger, chat, _ = team
    planner = AutonomousPlanningAgent(client, scanner, ensemble, messenger)
    chat.script.extend(Fault(tool_calls=[("estimate_true_value", '{"description": "a kettle"}')]) for _ in range(20))
    assert planner.plan() is None
    assert any(f"still asking for tools after {planner.MAX_ROUNDS} replies: stopped" in line for line in lines)


def test_a_notification_for_a_deal_the_scan_never_returned_is_refused(team, lines):
    client, scanner, ensemble, messenger, chat, _ = team
    planner = AutonomousPlanningAgent(client, scanner, ensemble, messenger)
    made_up = json.dumps({"description": "x", "deal_price": 1, "estimated_true_value": 500, "url": "http://made.up/1"})
    scan = Fault(tool_calls=[("scan_the_internet_for_bargains", "{}")])
    chat.script.extend([scan, Fault(), Fault(tool_calls=[("notify_user_of_deal", made_up)])])  # Fault(): the scanner's
    planner.plan()
    assert not [line for line in lines if "made.up" in line and "Deal Alert" in line]
    assert any("asked to notify a deal the scan did not return (http://made.up/1)" in line for line in lines)
