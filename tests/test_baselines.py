import math

import pytest

from helpers.baselines import BASELINES, BaselineConfig, fit_baselines, get_rank, get_weight, is_top_electronics_brand
from helpers.errors import ConfigError
from helpers.items import Item
from helpers.testing import Tester

FAST = dict(forest_trees=10)


@pytest.fixture(scope="module")
def small_train(bundled_train) -> list[Item]:
    return bundled_train[:800]


@pytest.fixture(scope="module")
def predictors(small_train):
    return fit_baselines(small_train, BaselineConfig(**FAST))


def with_details(**details) -> Item:
    return Item(title="t", price=1.0, category="c", text="t", details=details)


@pytest.mark.parametrize(
    "text, pounds",
    [
        ("2.5 Pounds", 2.5),
        ("8 ounces", 0.5),
        ("453.592 Grams", 1.0),
        ("1 Kilograms", 2.20462),
        ("150 hundredths pounds", 1.5),
        ("1,200 Grams", 2.6455),
    ],
)
def test_item_weight_is_read_in_pounds(text, pounds):
    assert get_weight(with_details(**{"Item Weight": text})) == pytest.approx(pounds, rel=1e-3)


@pytest.mark.parametrize("text", ["heavy", "12", "5 stone", None, 7])
def test_unreadable_weights_are_unknown(text):
    assert get_weight(with_details(**{"Item Weight": text})) is None


def test_rank_is_the_mean_of_best_sellers_ranks():
    assert get_rank(with_details(**{"Best Sellers Rank": {"A": 100, "B": 300}})) == 200
    assert get_rank(with_details()) is None


def test_brand_flag():
    assert is_top_electronics_brand(with_details(Brand="Sony"))
    assert not is_top_electronics_brand(with_details(Brand="Acme"))


def test_every_baseline_trains_and_prices_every_test_item(predictors, bundled_test):
    assert list(predictors) == list(BASELINES)
    for name, predictor in predictors.items():
        prices = [predictor(item) for item in bundled_test[:50]]
        assert all(math.isfinite(p) and p >= 0 for p in prices), name


def test_random_baseline_is_seeded_and_in_range(small_train, bundled_test):
    first = fit_baselines(small_train, BaselineConfig(models=["random"]))["random"]
    again = fit_baselines(small_train, BaselineConfig(models=["random"]))["random"]
    a, b = [first(i) for i in bundled_test[:20]], [again(i) for i in bundled_test[:20]]
    assert a == b and all(1 <= p <= 999 for p in a)


def test_constant_baseline_is_the_training_mean(predictors, small_train, bundled_test):
    mean = sum(item.price for item in small_train) / len(small_train)
    assert predictors["constant"](bundled_test[0]) == pytest.approx(mean)


def test_word2vec_models_are_reproducible(small_train, bundled_test):
    config = BaselineConfig(models=["word2vec_lr"])
    first = fit_baselines(small_train[:300], config)["word2vec_lr"]
    again = fit_baselines(small_train[:300], config)["word2vec_lr"]
    assert [first(i) for i in bundled_test[:10]] == [again(i) for i in bundled_test[:10]]


def test_the_strong_model_clearly_beats_the_constant_baseline(predictors, bundled_test):
    constant = Tester(predictors["constant"], bundled_test, verbose=False).run()
    strong = Tester(predictors["tfidf_ridge"], bundled_test, verbose=False).run()
    assert strong.average_error < 0.85 * constant.average_error
    assert strong.hit_rate > constant.hit_rate


def test_learnt_baselines_beat_random(predictors, bundled_test):
    random_error = Tester(predictors["random"], bundled_test, verbose=False).run().average_error
    for name in ("features_lr", "bow_lr", "word2vec_lr", "word2vec_svr", "word2vec_forest", "tfidf_ridge"):
        assert Tester(predictors[name], bundled_test, verbose=False).run().average_error < random_error, name


def test_unknown_baseline_name_is_refused(small_train):
    with pytest.raises(ConfigError, match="unknown baseline 'gpt5'"):
        fit_baselines(small_train, BaselineConfig(models=["gpt5"]))


def test_the_forest_trains_on_a_sample_of_a_large_training_set(small_train, capsys):
    fit_baselines(small_train, BaselineConfig(models=["word2vec_forest"], forest_trees=5, forest_sample=300))
    assert "random_forest_pricer: trained on a sample of 300 of the 800 items" in capsys.readouterr().out
