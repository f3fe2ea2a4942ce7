"""Every model's answers kept in the store, so week 8's ensemble can combine models that other
notebooks ran on other machines."""

import json
import os
import subprocess
import sys

import pytest

from helpers.core.answers import Answers, remember, score_and_keep, stored
from helpers.core.items import item_key
from helpers.core.leaderboard import read_leaderboard
from helpers.data.item_files import load_items
from helpers.plumbing import paths
from helpers.plumbing.errors import DataError
from helpers.plumbing.store import FolderStore
from helpers.week8.ensemble import Ensemble


@pytest.fixture
def store(tmp_path) -> FolderStore:
    return FolderStore(tmp_path / "store")


@pytest.fixture(scope="module")
def items():
    return load_items(paths.TEST_SAMPLE)[0][:60]


def _files(store: FolderStore):
    return {
        json.loads(p.read_text())["model"]: json.loads(p.read_text())
        for p in (store.root / "predictions").glob("*.json")
    }


def test_one_call_scores_records_the_row_and_keeps_each_test_answer_by_item(store, items):
    answers = {item_key(item): item.price * 2 for item in items[:20]}
    answers[item_key(items[3])] = None  # a reply with no price

    def doubler(item):
        return answers[item_key(item)]

    result = score_and_keep(doubler, items, store, title="doubler", size=20, verbose=False)
    kept = _files(store)["doubler"]["answers"]
    assert kept == answers and len(kept) == 20
    [row] = read_leaderboard(store.root / "leaderboard.csv")
    assert row["model"] == "doubler" and float(row["average_error"]) == pytest.approx(result.average_error, abs=0.01)


def test_a_blend_is_recorded_without_its_answers_kept(store, items):
    score_and_keep(lambda item: 10.0, items, store, title="blend", size=20, verbose=False, keep=False)
    assert [row["model"] for row in read_leaderboard(store.root / "leaderboard.csv")] == ["blend"]
    assert "blend" not in _files(store)


def test_a_csv_leaderboard_takes_the_row_alone(tmp_path, items):
    score_and_keep(lambda item: 10.0, items, tmp_path / "board.csv", title="ten", size=20, verbose=False)
    assert [row["model"] for row in read_leaderboard(tmp_path / "board.csv")] == ["ten"]
    assert not (tmp_path / "predictions").exists()


def test_a_run_where_every_item_failed_is_recorded_nowhere_and_says_so(store, items, capsys):
    result = score_and_keep(lambda item: None, items, store, title="silent", size=20, verbose=False)
    assert result.failure_count == 20
    assert capsys.readouterr().out.strip().endswith("silent: every one of the 20 items failed, so nothing was recorded")
    assert not (store.root / "leaderboard.csv").exists() and _files(store) == {}


def test_on_the_command_line_a_run_where_every_item_failed_is_a_one_line_error(store, items):
    with pytest.raises(DataError, match="every one of the 20 items failed"):
        score_and_keep(lambda item: None, items, store, strict=True, title="silent", size=20, verbose=False)
    assert not (store.root / "leaderboard.csv").exists() and _files(store) == {}


def test_remember_keeps_another_set_of_items_beside_the_test_answers(store, items):
    score_and_keep(lambda item: 10.0, items, store, title="ten", size=20, verbose=False)
    remember("ten", lambda item: 10.0, items[30:50], store)
    assert set(_files(store)["ten"]["answers"]) == {item_key(item) for item in items[:20] + items[30:50]}


def test_stored_answers_give_back_the_same_prices_as_a_predictor(store, items):
    remember("half", lambda item: item.price / 2, items[:10], store)
    half = stored(store, items[:10])["half"]
    assert isinstance(half, Answers) and [half(item) for item in items[:10]] == [i.price / 2 for i in items[:10]]
    assert half(items[40]) is None  # never priced


def test_a_model_without_answers_for_every_needed_item_is_left_out_and_named(store, items, capsys):
    remember("all", lambda item: 1.0, items[:30], store)
    remember("some", lambda item: 1.0, items[:10], store)
    assert list(stored(store, items[:30])) == ["all"]
    assert "left out, for want of answers on these items: some" in capsys.readouterr().out


def test_the_same_model_name_from_two_notebooks_lands_in_one_file(store, items):
    remember("gpt-4o-mini", lambda item: 5.0, items[:5], store)
    remember("gpt-4o-mini", lambda item: 6.0, items[5:10], store)
    remember("gpt-4o mini", lambda item: 7.0, items[:10], store)  # another name, though its slug is alike
    files = _files(store)
    assert set(files) == {"gpt-4o-mini", "gpt-4o mini"} and len(files["gpt-4o-mini"]["answers"]) == 10


def test_an_ensemble_of_stored_answers_learns_from_the_validation_items_only(store, items):
    validation, test = items[:40], items[40:60]
    truth = {item_key(item): item.price for item in items}
    remember("oracle on validation", lambda item: truth[item_key(item)], validation, store)
    remember("oracle on validation", lambda item: 1.0, test, store)  # useless where it counts, unseen by the fit
    remember("constant", lambda item: 50.0, items, store)
    ensemble = Ensemble(stored(store, validation, test), validation)
    fitted = ensemble.predict_batch(validation)
    assert all(abs(p - i.price) < 0.01 * i.price for p, i in zip(fitted, validation))  # trusts what was right there
    assert all(abs(p - 1.0) < 0.5 for p in ensemble.predict_batch(test))  # and follows it on test


def test_a_broken_predictions_file_is_one_line_and_the_others_still_count(store, items, capsys):
    from helpers.plumbing.errors import DataError

    remember("good", lambda item: 3.0, items[:5], store)
    remember("cut short", lambda item: 4.0, items[:5], store)
    broken = next(p for p in (store.root / "predictions").glob("cut-short-*.json"))
    broken.write_text(broken.read_text()[:30])
    (store.root / "predictions" / "edited-by-hand-000000.json").write_text('{"model": "x", "answers": {"k": "12"}}')
    assert list(stored(store, items[:5])) == ["good"]
    printed = capsys.readouterr().out
    assert f"left out: {broken}: not a predictions file" in printed and "edited-by-hand" in printed
    with pytest.raises(DataError, match="not a predictions file"):
        remember("cut short", lambda item: 4.0, items[:5], store)  # nothing is merged into a file it cannot read


def test_an_ensemble_with_nothing_to_learn_from_says_so_in_one_line(items):
    from helpers.plumbing.errors import DataError

    with pytest.raises(DataError, match="no members"):
        Ensemble({}, items[:10])
    with pytest.raises(DataError, match="no validation items"):
        Ensemble({"ten": lambda item: 10.0}, [])


REMEMBERER = """
import sys
from helpers.plumbing import paths
from helpers.data.item_files import load_items
from helpers.core.answers import remember
from helpers.plumbing.store import open_store

items = load_items(paths.TEST_SAMPLE)[0]
start = int(sys.argv[1])
for chunk in range(start, start + 40, 2):  # twenty writes of two items each
    remember("shared model", lambda item: 7.0, items[chunk : chunk + 2], open_store())
"""


def test_two_notebooks_remembering_the_same_model_at_once_lose_no_answer(store, items):
    import subprocess
    import sys

    env = {**os.environ, "PRICER_STORE": str(store.root)}
    writers = [
        subprocess.Popen([sys.executable, "-c", REMEMBERER, str(start)], env=env, stdout=subprocess.DEVNULL)
        for start in (0, 40)
    ]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    kept = _files(store)["shared model"]["answers"]
    assert set(kept) == {item_key(item) for item in load_items(paths.TEST_SAMPLE)[0][:80]}


def test_remembering_no_items_keeps_nothing_and_says_so(store, capsys):
    remember("nothing", lambda item: 1.0, [], store)  # course-2024's data set has no validation split
    assert not (store.root / "predictions").exists() and "nothing: no items to price" in capsys.readouterr().out


def test_remembered_answers_are_what_the_tester_would_score(store, items):
    def picky(item):
        return None if item is items[2] else -5.0 if item is items[3] else item.price

    remember("picky", picky, items[:6], store)
    kept = _files(store)["picky"]["answers"]
    assert [kept[item_key(item)] for item in items[:6]] == [
        items[0].price,
        items[1].price,
        None,
        None,
        *[item.price for item in items[4:6]],
    ]  # a reply without a price and a negative one are both failures


def evaluate(tmp_path, store, guess: int = 100) -> subprocess.CompletedProcess:
    """`python -m helpers evaluate` of five guesses of $`guess`, recorded in the store `store`."""
    guesses = tmp_path / "guesses.csv"
    guesses.write_text("price\n" + f"{guess}\n" * 5)
    flags = ["--predictions", str(guesses), "--size", "5", "--model", "hundred"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PRICER_STORE": str(store)}
    return subprocess.run(
        [sys.executable, "-m", "helpers", "evaluate", *flags], capture_output=True, text=True, env=env
    )


def test_a_row_is_not_recorded_when_its_answers_cannot_be_kept(tmp_path):
    store = tmp_path / "store"
    assert evaluate(tmp_path, store).returncode == 0
    (kept,) = (store / "predictions").glob("*.json")
    kept.write_text(kept.read_text()[:40])  # a copy cut short
    (store / "leaderboard.csv").unlink()
    run = evaluate(tmp_path, store)
    assert (
        run.returncode == 2
        and run.stderr == f"error: {kept}: not a predictions file (each answer a price or null); move it aside\n"
    )
    assert not (store / "leaderboard.csv").exists()  # no row that week 8 cannot find answers for


def test_answers_are_not_kept_when_their_row_cannot_be_recorded(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    (store / "leaderboard.csv").write_text("name,score\nmine,3\n")  # no leaderboard: refused, left as it is
    run = evaluate(tmp_path, store)
    assert run.returncode == 2 and run.stderr.startswith(f"error: {store / 'leaderboard.csv'}")
    assert (store / "leaderboard.csv").read_text() == "name,score\nmine,3\n"
    assert list((store / "predictions").glob("*.json")) == []


def test_answers_kept_before_are_given_back_when_the_row_cannot_be_recorded(tmp_path):
    store = tmp_path / "store"
    assert evaluate(tmp_path, store).returncode == 0
    (kept,) = (store / "predictions").glob("*.json")
    before = kept.read_bytes()
    (store / "leaderboard.csv").write_text("name,score\nmine,3\n")
    assert evaluate(tmp_path, store, guess=50).returncode == 2
    assert kept.read_bytes() == before
