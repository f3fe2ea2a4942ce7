import math
from dataclasses import replace

import numpy as np
import pytest
from sklearn.model_selection import KFold

from helpers.classical.baselines import BaselineConfig, fit_constant, get_rank, get_weight, is_top_electronics_brand
from helpers.classical.registry import BASELINES, DEFAULT_BASELINES, fit_baselines
from helpers.classical.stack import dollar_weights, out_of_fold
from helpers.core.items import Item
from helpers.core.tester import Tester
from helpers.plumbing.errors import ConfigError
from helpers.week8.ensemble import Ensemble, choose_blend

FAST = dict(forest_trees=10, boosted_trees=150, nn_epochs=12)


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
    assert list(predictors) == DEFAULT_BASELINES
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
    for name in DEFAULT_BASELINES[2:]:
        assert Tester(predictors[name], bundled_test, verbose=False).run().average_error < random_error, name


def test_unknown_baseline_name_is_refused(small_train):
    with pytest.raises(ConfigError, match="unknown baseline 'gpt5'"):
        fit_baselines(small_train, BaselineConfig(models=["gpt5"]))


def test_the_progress_bar_names_the_model_in_training(small_train, capsys):
    fit_baselines(small_train, BaselineConfig(models=["constant", "features_lr"]))
    bar = capsys.readouterr().err
    assert "Training baselines:" in bar and "constant]" in bar and "features_lr]" in bar


def test_the_ensembles_members_train_under_a_bar_of_their_own(small_train, capsys):
    fit_baselines(small_train, BaselineConfig(models=["ensemble"], ensemble_members=["constant", "tfidf_ridge"]))
    bars = capsys.readouterr().err
    assert "Training baselines:" in bars and "ensemble]" in bars
    assert "Training the ensemble's members:" in bars and "tfidf_ridge]" in bars


def test_the_forest_trains_on_a_sample_of_a_large_training_set(small_train, capsys):
    fit_baselines(small_train, BaselineConfig(models=["word2vec_forest"], forest_trees=5, forest_sample=300))
    assert "random_forest_pricer: trained on a sample of 300 of the 800 items" in capsys.readouterr().out


def test_the_2025_models_learn_prices_from_text(predictors, bundled_test):
    constant = Tester(predictors["constant"], bundled_test, verbose=False).run().average_error
    for name in ("boosted_trees", "neural_net", "ensemble"):
        assert Tester(predictors[name], bundled_test, verbose=False).run().average_error < 0.9 * constant, name


def test_the_neural_net_is_repeatable_with_its_seed_and_stops_early(small_train, bundled_test, capsys):
    config = BaselineConfig(models=["neural_net"], nn_hidden=32, nn_layers=2, nn_epochs=30, nn_patience=2)
    first = fit_baselines(small_train[:300], config)["neural_net"]
    again = fit_baselines(small_train[:300], config)["neural_net"]
    assert first.predict_batch(bundled_test[:20]) == again.predict_batch(bundled_test[:20])
    assert first.epochs < 30 and first.best_epoch == first.epochs - config.nn_patience


def test_the_stack_prices_each_training_item_with_members_that_did_not_train_on_it(small_train):
    items = small_train[:90]
    prices = out_of_fold(
        items, lambda rest, names: {"constant": fit_constant(rest, BaselineConfig())}, ["constant"], 3, 7
    )
    # the constant is the mean of the training items it saw: never the item's own fold
    for kept, held in KFold(3, shuffle=True, random_state=7).split(np.arange(90)):
        assert prices[held, 0] == pytest.approx(np.full(len(held), np.mean([items[i].price for i in kept])))


def test_dollar_weights_are_non_negative_and_least_absolute_error():
    rng = np.random.default_rng(3)
    a, b = rng.lognormal(4, 1, 300), rng.lognormal(4, 1, 300)
    truths = 0.6 * a + 0.4 * b
    weights = dollar_weights(np.column_stack([a, b, -a]), truths)  # a member that is always wrong way round
    assert weights == pytest.approx([0.6, 0.4, 0.0], abs=1e-6)


def test_the_ensemble_is_a_stack_never_worse_out_of_fold_than_its_best_member(small_train, bundled_test):
    config = BaselineConfig(
        models=["constant", "tfidf_ridge", "ensemble"], ensemble_members=["constant", "tfidf_ridge"]
    )
    fitted = fit_baselines(small_train, config)
    ensemble = fitted["ensemble"]
    assert ensemble.members["tfidf_ridge"] is fitted["tfidf_ridge"]  # trained once on every item, not again
    assert ensemble.error <= min(ensemble.alone.values()) + 1e-9
    assert all(weight >= 0 for weight in ensemble.weights.values())
    assert str(ensemble).endswith(f"{ensemble.best}, is ${ensemble.alone[ensemble.best]:,.2f}")
    weights = np.array(list(ensemble.weights.values()))
    members = np.column_stack([[member(item) for item in bundled_test[:5]] for member in ensemble.members.values()])
    assert ensemble.predict_batch(bundled_test[:5]) == pytest.approx(np.maximum(members @ weights, 0))


def test_the_blend_is_never_worse_on_validation_than_its_best_member():
    rng = np.random.default_rng(1)
    truths = rng.lognormal(4, 1, 50)
    # many members, three identical, a constant, noise: an unregularised regression over all of
    # them gives wild weights and ends worse than its best member on items it did not see
    prices = {f"same {i}": truths * rng.lognormal(0, 0.5, 50) for i in range(3)}
    prices |= {"constant": np.full(50, truths.mean()), "noise": rng.uniform(1, 999, 50)}
    prices["good"] = truths * rng.lognormal(0, 0.3, 50)
    blend = choose_blend(prices, truths)
    alone = {name: np.mean(np.abs(p - truths)) for name, p in prices.items()}
    assert blend.best == "good" and blend.error <= min(alone.values())
    assert "noise" not in blend.names and all(w >= 0 for w in blend.weights.values())


def test_the_blend_adds_a_member_that_corrects_another():
    rng = np.random.default_rng(2)
    truths = rng.lognormal(4, 1, 200)
    low, high = truths * 0.7 * rng.lognormal(0, 0.05, 200), truths * 1.4 * rng.lognormal(0, 0.05, 200)
    blend = choose_blend({"low": low, "high": high, "noise": rng.uniform(1, 999, 200)}, truths)
    assert set(blend.names) == {"low", "high"} and blend.error < 0.5 * blend.best_error
    assert str(blend).endswith(f"where the best member alone, {blend.best}, is ${blend.best_error:,.2f}")


def test_the_ensemble_learns_which_member_to_trust(bundled_train, bundled_test):
    truth = {item.text: item.price for item in bundled_train + bundled_test}
    rng = np.random.default_rng(0)

    def oracle(item):
        return truth[item.text]

    def noise(item):
        return float(rng.uniform(1, 999))

    ensemble = Ensemble({"oracle": oracle, "noise": noise}, bundled_train[:200])
    assert Tester(noise, bundled_test, verbose=False).run().average_error > 100
    assert Tester(ensemble, bundled_test, verbose=False).run().average_error < 2.0  # it follows the oracle


def test_xgboost_as_the_course_ran_it_learns_and_is_repeatable(small_train, bundled_test):
    config = BaselineConfig(models=["xgboost"], xgb_trees=200)
    first = fit_baselines(small_train, config)["xgboost"]
    again = fit_baselines(small_train, replace(config, xgb_jobs=2))["xgboost"]  # its trees: any thread count
    assert first.predict_batch(bundled_test[:20]) == again.predict_batch(bundled_test[:20])
    constant = fit_baselines(small_train, BaselineConfig(models=["constant"]))["constant"]
    learnt = Tester(first, bundled_test, verbose=False).run().average_error
    assert learnt < 0.95 * Tester(constant, bundled_test, verbose=False).run().average_error


def test_xgboost_is_asked_for_not_a_default():
    assert "xgboost" in BASELINES and "xgboost" not in DEFAULT_BASELINES
