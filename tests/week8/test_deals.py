"""Week 8's scanner against real HTTP on loopback: the simulated deal feed (RSS and pages) and the
OpenAI-compatible stand-in, which answers structured outputs as `client.chat.completions.parse`
asks for them."""

import json
import time

import pytest

from helpers.language.frontier import make_client
from helpers.offline.deal_feed import SIMULATED, DealFeed, held_back_items, simulated_deals
from helpers.offline.fake_openai import FakeOpenAI, Fault, stand_in_deals
from helpers.week8.deals import DealSelection, FeedConfig, fetch_deals
from helpers.week8.scanner import ScannerAgent


@pytest.fixture
def feed():
    with DealFeed(slow_seconds=3.0, port=0) as running:
        yield running


@pytest.fixture
def chat():
    with FakeOpenAI() as running:
        yield running


def scanner_for(chat, feed, **settings) -> ScannerAgent:
    feeds = FeedConfig(feeds=feed.urls, delay=0.0, timeout=1.0, **settings)
    return ScannerAgent(make_client(chat.url, chat.api_key), "gpt-4o-mini", feeds)


def test_the_simulated_deals_are_real_held_back_products_at_seeded_prices():
    items = held_back_items()
    assert items and all(item.price >= 100 for item in items)
    first, again = simulated_deals(items), simulated_deals(items)
    assert [(d.item.title, d.price) for d in first] == [(d.item.title, d.price) for d in again]
    priced = [d for d in first if d.price is not None]
    assert priced and all(0 < d.price <= d.item.price for d in priced)
    assert any(d.price is None for d in first)  # some state only a saving, which is no price


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_second_feed_on_a_port_held_by_the_same_feed_uses_it_so_urls_stay_the_same():
    port = free_port()
    with DealFeed(port=port) as first, DealFeed(port=port) as second:
        assert second.shared and second.urls == first.urls
        assert fetch_deals(FeedConfig(feeds=second.urls[:1], delay=0.0), set(), print)
    assert not second.shared


def test_a_feed_whose_port_is_held_by_another_program_moves_to_a_free_one(capsys):
    import socket

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with DealFeed(port=port) as feed:
            assert not feed.shared and f":{port}/" not in feed.urls[0]
    assert f"port {port} is taken" in capsys.readouterr().out


def test_every_feed_entry_and_page_says_it_is_simulated(feed):
    deals = fetch_deals(FeedConfig(feeds=feed.urls, delay=0.0), set(), print)
    assert len(deals) == 3 * feed.per_feed
    assert all(SIMULATED in deal.title for deal in deals)
    assert all(SIMULATED in deal.details for deal in deals)


def test_a_deal_is_cut_to_what_a_model_is_sent(feed):
    config = FeedConfig(feeds=feed.urls[:1], delay=0.0, title_chars=30, details_chars=80, features_chars=40)
    deals = fetch_deals(config, set(), print)
    assert deals and all(len(d.title) <= 30 and len(d.details) <= 80 and len(d.features) <= 40 for d in deals)
    assert deals[0].describe().startswith(f"Title: {deals[0].title}\nDetails: ")


def test_deals_raised_before_are_not_fetched_again(feed):
    first = fetch_deals(FeedConfig(feeds=feed.urls[:1], delay=0.0), set(), print)
    pages_before = len([path for path in feed.requests if path.startswith("/deals/")])
    again = fetch_deals(FeedConfig(feeds=feed.urls[:1], delay=0.0), {first[0].url}, print)
    assert [d.url for d in again] == [d.url for d in first[1:]]
    assert len([path for path in feed.requests if path.startswith("/deals/")]) == pages_before + len(first) - 1


def test_the_pages_are_fetched_one_at_a_time_with_a_pause_between(feed):
    start = time.monotonic()
    deals = fetch_deals(FeedConfig(feeds=feed.urls[:1], delay=0.1), set(), print)
    assert time.monotonic() - start >= 0.1 * len(deals)


def test_a_feed_that_is_not_rss_is_one_line_and_the_others_are_read(feed):
    feed.faults[feed.urls[1].removeprefix(feed.base)] = "not-rss"
    said: list[str] = []
    deals = fetch_deals(FeedConfig(feeds=feed.urls, delay=0.0), set(), said.append)
    assert said == [f"feed {feed.urls[1]}: not RSS, skipped"]
    assert len(deals) == 2 * feed.per_feed


def test_a_feed_that_fails_is_one_line(feed):
    feed.faults[feed.urls[0].removeprefix(feed.base)] = "error"
    said: list[str] = []
    fetch_deals(FeedConfig(feeds=feed.urls[:1], delay=0.0), set(), said.append)
    assert said == [f"feed {feed.urls[0]} could not be read (status 500): skipped"]


def test_a_page_that_times_out_is_one_line_and_the_rest_go_on(feed):
    feed.faults["/deals/2.html"] = "slow"
    said: list[str] = []
    deals = fetch_deals(FeedConfig(feeds=feed.urls[:1], delay=0.0, timeout=0.5), set(), said.append)
    assert said == [f"deal page {feed.base}/deals/2.html could not be read (timed out): skipped"]
    assert len(deals) == feed.per_feed - 1


def test_the_stand_in_reads_prices_and_drops_a_saving_that_is_no_price():
    prompt = (
        "Deals:\n\nTitle: Kettle\nDetails: Deal price: $24.99 (simulated deal). Save $10 off.\nFeatures: steel\n"
        "URL: http://x/1\n\nTitle: Drill\nDetails: Save $40 off the list price.\nFeatures: cordless\nURL: http://x/2"
        "\n\nTitle: Laptop\nDetails: now $1,299.00\nFeatures: 16 GB\nURL: http://x/3"
    )
    found = stand_in_deals(prompt)
    assert [(d["price"], d["url"]) for d in found] == [(24.99, "http://x/1"), (1299.0, "http://x/3")]


def test_the_stand_in_describes_the_product_without_the_offer():
    prompt = (
        "Deals:\n\nTitle: Kettle, 1.7 L for $24.99 (simulated deal)\nDetails: Deal price: $24.99 (simulated deal). "
        "Save $10 off the list price. Boils fast. Steel body.\nFeatures: steel\nURL: http://x/1"
    )
    (found,) = stand_in_deals(prompt)
    assert found["description"] == "Kettle, 1.7 L (simulated deal). Boils fast. Steel body."


def test_structured_outputs_come_back_as_a_deal_selection(chat, feed):
    scanner = scanner_for(chat, feed)
    selection = scanner.scan()
    assert isinstance(selection, DealSelection) and 1 <= len(selection.deals) <= 5
    sent = json.loads(chat.chat_requests()[-1]["body"])
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["name"] == "DealSelection"
    assert sent["messages"][0]["content"] == ScannerAgent.SYSTEM_PROMPT
    shown = {f"{feed.base}{d.path}": d for d in feed.deals}
    for deal in selection.deals:
        assert deal.url in shown and deal.price == shown[deal.url].price  # the deal's price, not its saving


def test_a_reply_that_does_not_match_the_schema_is_one_line_and_no_deals(chat, feed, lines):
    chat.script.append(Fault(reply='{"deals": "none today"}'))
    assert scanner_for(chat, feed).scan() is None
    assert "Scanner Agent: the reply did not match DealSelection (1 problems): no deals" in " ".join(lines)


def test_a_reply_cut_short_is_one_line_and_no_deals(chat, feed, lines):
    chat.script.append(Fault(reply='{"deals": [{"product_description": "a ket'))
    assert scanner_for(chat, feed).scan() is None
    assert any("did not match DealSelection" in line for line in lines)


def test_deals_a_schema_cannot_vouch_for_are_dropped(chat, feed, lines):
    url = feed.urls and f"{feed.base}/deals/0.html"
    made_up = {"product_description": "a kettle", "price": 20.0, "url": "http://elsewhere.example/1"}
    free = {"product_description": "a drill", "price": 0.0, "url": f"{feed.base}/deals/1.html"}
    good = {"product_description": "a lamp", "price": 30.0, "url": url}
    chat.script.append(Fault(reply=json.dumps({"deals": [made_up, free, good]})))
    selection = scanner_for(chat, feed).scan()
    assert [deal.url for deal in selection.deals] == [url]
    said = " ".join(lines)
    assert "dropped a deal: a URL it was not shown (http://elsewhere.example/1)" in said
    assert "dropped a deal: no price" in said


def test_a_refused_key_stops_the_scan_in_one_line_without_the_key(chat, feed):
    from helpers.language.frontier import FrontierAuthError

    scanner = ScannerAgent(
        make_client(chat.url, "sk-wrong-key-123"), "gpt-4o-mini", FeedConfig(feeds=feed.urls[:1], delay=0.0)
    )
    with pytest.raises(FrontierAuthError) as refused:
        scanner.scan()
    assert "sk-wrong-key-123" not in str(refused.value) and refused.value.__context__ is None
