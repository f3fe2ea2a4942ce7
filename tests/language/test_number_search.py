"""improved_model_predict's search for whole numbers, on hand-made distributions."""

import math

import pytest
import torch

from helpers.language.number_search import NumberTokens, search_numbers


class Vocabulary:
    """A tokenizer reduced to what the search needs: a size, and the text of each token."""

    def __init__(self, texts: list[str]):
        self.texts = texts

    def __len__(self) -> int:
        return len(self.texts)

    def decode(self, tokens: list[int]) -> str:
        return "".join(self.texts[token] for token in tokens)


def logits(vocabulary: Vocabulary, probabilities: dict[str, float]) -> torch.Tensor:
    """Logits whose softmax gives these probabilities (and next to nothing to the rest)."""
    row = torch.full((len(vocabulary),), -50.0)
    for text, probability in probabilities.items():
        row[vocabulary.texts.index(text)] = math.log(probability)
    return row


class Tree:
    """Next-token distributions by the text written so far: a hand-made model."""

    def __init__(self, vocabulary, tree: dict[str, dict[str, float]], prompts: int = 1, otherwise=None):
        self.vocabulary, self.tree = vocabulary, tree
        self.otherwise = otherwise or {".": 1.0}  # after any text the tree does not hold
        self.written = [""] * prompts
        self.calls: list[int] = []

    def first(self) -> torch.Tensor:
        return torch.stack([logits(self.vocabulary, self.tree[text]) for text in self.written])

    def advance(self, rows: list[int], tokens: list[int]) -> torch.Tensor:
        self.written = [self.written[row] + self.vocabulary.texts[token] for row, token in zip(rows, tokens)]
        self.calls.append(len(rows))
        distributions = [self.tree.get(text, self.otherwise) for text in self.written]
        return torch.stack([logits(self.vocabulary, distribution) for distribution in distributions])


def test_with_one_token_numbers_it_is_the_courses_method_exactly():
    vocabulary = Vocabulary(["130", "129", "125", ".", " the"])
    tree = Tree(vocabulary, {"": {"130": 0.5, "129": 0.3, " the": 0.2}})
    first = tree.first()
    [price] = search_numbers(first, tree.advance, NumberTokens.of(vocabulary), top_k=3)
    assert price == pytest.approx((130 * 0.5 + 129 * 0.3) / 0.8)
    assert tree.calls == [2]  # one look past each number, to see that it ends


def test_with_digit_tokens_it_follows_each_likely_number_to_its_end():
    vocabulary = Vocabulary([str(d) for d in range(10)] + ["."])
    tree = Tree(
        vocabulary,
        {
            "": {"1": 0.6, "2": 0.3, ".": 0.1},
            "1": {"3": 0.7, "2": 0.2, ".": 0.1},
            "13": {"0": 0.8, "5": 0.1, ".": 0.1},
            "12": {".": 0.9, "0": 0.1},
            "2": {".": 0.6, "5": 0.4},
        },
    )
    [price] = search_numbers(tree.first(), tree.advance, NumberTokens.of(vocabulary), top_k=3)
    found = {130: 0.6 * 0.7 * 0.8, 135: 0.6 * 0.7 * 0.1, 12: 0.6 * 0.2, 2: 0.3}
    assert price == pytest.approx(sum(v * w for v, w in found.items()) / sum(found.values()))


def test_the_search_is_bounded_in_depth_and_in_paths():
    vocabulary = Vocabulary([str(d) for d in range(10)] + ["."])
    always_more = {str(d): 0.1 for d in range(10)}  # a model that never stops writing digits
    tree = Tree(vocabulary, {"": always_more}, otherwise=always_more)
    tokens = NumberTokens.of(vocabulary)
    search_numbers(tree.first(), tree.advance, tokens, top_k=3, max_depth=3, max_paths=4)
    assert len(tree.calls) == 3 and max(tree.calls) <= 4  # three tokens at most, four paths at most


def test_no_number_on_top_is_a_failure():
    vocabulary = Vocabulary(["about", " the", ".", "7"])
    tree = Tree(vocabulary, {"": {"about": 0.5, " the": 0.3, ".": 0.2}})
    assert search_numbers(tree.first(), tree.advance, NumberTokens.of(vocabulary), top_k=3) == [None]


def test_several_prompts_are_searched_together():
    vocabulary = Vocabulary([str(d) for d in range(10)] + ["."])
    tree = Tree(vocabulary, {"": {"4": 1.0}, "4": {"2": 1.0}, "42": {".": 1.0}}, prompts=3)
    assert search_numbers(tree.first(), tree.advance, NumberTokens.of(vocabulary)) == [42.0, 42.0, 42.0]
