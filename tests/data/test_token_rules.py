"""The fast token rules give exactly what the course's three tokenizer calls a record give."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.core.prompts import PROMPT_2024, PromptFormat
from helpers.data.rules import get_tokenizer
from helpers.data.token_rules import cut_and_count

WORDS = st.sampled_from(
    [
        "Guitar",
        "strings",
        "  ",
        " ",
        "\n",
        "\n\n",
        ",",
        ".",
        "...",
        "(",
        ")",
        "-",
        "12",
        "1234",
        "3.5",
        "$",
        "café",
        "naïve",
        "日本",
        "😀",
        "x",
        "’s",
        "?",
        "!",
        ":",
        "USB-C",
        "  \n ",
        "99.99",
        "2x4",
    ]
)
TEXTS = st.lists(WORDS, min_size=1, max_size=260).map("".join)


def course(tokenizer, text: str, price: float, prompt: PromptFormat, min_tokens: int, max_tokens: int):
    """The course's way: encode, cut, decode, build the prompt and encode it again."""
    tokens = tokenizer.encode(text, add_special_tokens=False)
    if len(tokens) <= min_tokens:
        return None
    cut = tokenizer.decode(tokens[:max_tokens])
    return cut, len(tokenizer.encode(prompt.training_prompt(cut, price), add_special_tokens=False))


@pytest.fixture(scope="module")
def tokenizers(tiny_dir, real_model_dir):
    return {"tiny": get_tokenizer(str(tiny_dir)), "smollm2": get_tokenizer(str(real_model_dir))}


@settings(max_examples=40)
@given(texts=st.lists(TEXTS, min_size=1, max_size=24), price=st.floats(0.5, 999.49))
def test_random_texts_give_the_courses_cut_and_count(tokenizers, texts, price):
    for tokenizer in tokenizers.values():
        for prompt in (PROMPT_2024, PromptFormat(question="What price?", prefix="USD ")):
            fast = cut_and_count(tokenizer, texts, [price] * len(texts), prompt, 20, 40)
            assert fast == [course(tokenizer, text, price, prompt, 20, 40) for text in texts]
