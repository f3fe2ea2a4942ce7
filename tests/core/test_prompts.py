"""The prompt's single owner: change the question or the prefix once, and every model follows."""

import json

from helpers.core.prompts import PROMPT_2024, PromptFormat
from helpers.data.curation import to_dataset_dict
from helpers.data.item_files import load_items, save_items
from helpers.data.rules import ItemConfig, build_item
from helpers.language.finetune_openai import chat_example
from helpers.language.frontier import FrontierConfig, FrontierPricer
from helpers.language.training import training_rows
from helpers.offline.fake_openai import FakeOpenAI, Fault

CUSTOM = PromptFormat(question="What would this sell for to the nearest dollar?", prefix="Sale price: USD ")


def test_the_course_prompt_is_the_courses_text():
    assert (
        PROMPT_2024.test_prompt("A kettle")
        == "How much does this cost to the nearest dollar?\n\nA kettle\n\nPrice is $"
    )
    assert PROMPT_2024.training_prompt("A kettle", 24.5) == PROMPT_2024.test_prompt("A kettle") + "24.00"
    assert PROMPT_2024.messages("A kettle") == [
        {"role": "system", "content": "You estimate prices of items. Reply only with the price, no explanation"},
        {"role": "user", "content": "How much does this cost?\n\nA kettle"},
        {"role": "assistant", "content": "Price is $"},
    ]


def test_a_prompt_splits_back_into_its_parts():
    prompt = CUSTOM.training_prompt("Sold at Price is $5 shops", 130.4)
    assert CUSTOM.split(prompt) == (CUSTOM.test_prompt("Sold at Price is $5 shops"), "130.00")
    assert CUSTOM.text_of(prompt) == CUSTOM.text_of(CUSTOM.split(prompt)[0]) == "Sold at Price is $5 shops"


def test_only_what_differs_from_the_course_is_stored():
    assert PROMPT_2024.to_dict() == {}
    assert CUSTOM.to_dict() == {"question": CUSTOM.question, "prefix": CUSTOM.prefix}
    assert PromptFormat.from_dict({"title": "x", **CUSTOM.to_dict()}) == CUSTOM
    assert PromptFormat.from_dict({"title": "x"}) == PROMPT_2024


def test_a_non_default_prompt_goes_end_to_end(raw_record, tiny_dir, tmp_path):
    # An item built under the custom prompt, saved and read back: the file remembers the prompt.
    item = build_item(raw_record, "Appliances", ItemConfig(tokenizer=str(tiny_dir), prompt=CUSTOM))
    assert item.test_prompt() == f"{CUSTOM.question}\n\n{item.text}\n\nSale price: USD "
    path = save_items([item], tmp_path / "items.jsonl")
    loaded = load_items(path)[0][0]
    assert loaded == item and loaded.prompt_format == CUSTOM

    # The frontier request, over real HTTP to the loopback server, and the price read back.
    with FakeOpenAI() as server:
        server.script.append(Fault(reply="12 items... Sale price: USD 1,234.00"))
        pricer = FrontierPricer(FrontierConfig(base_url=server.url, api_key=server.api_key, cache=None))
        price = pricer(loaded)
        sent = json.loads(server.chat_requests()[0]["body"])["messages"]
    assert sent[1] == {"role": "user", "content": f"What would this sell for?\n\n{item.text}"}
    assert sent[2] == {"role": "assistant", "content": "Sale price: USD "}
    assert price == 1234.0

    # The OpenAI fine-tuning example answers with the custom prefix.
    assert chat_example(loaded)["messages"][2] == {"role": "assistant", "content": "Sale price: USD 130.00"}

    # Training rows, from the items file and from a data set in the hub's layout.
    assert training_rows(str(path))[:] == {"prompt": [item.test_prompt()], "completion": ["130.00"]}
    to_dataset_dict([item], [item])["train"].to_parquet(str(tmp_path / "hub" / "train.parquet"))
    assert training_rows(str(tmp_path / "hub"), CUSTOM)[:] == {"prompt": [item.test_prompt()], "completion": ["130.00"]}

    # A model's reply: the number after the custom prefix, not the first number.
    assert loaded.prompt_format.price_in("about 3 weeks. Sale price: USD 99.50") == 99.5
    assert PROMPT_2024.price_in("about 3 weeks. Sale price: USD 99.50") == 3.0
