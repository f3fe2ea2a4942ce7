"""The notebooks: jupytext pairs in sync, committed without outputs, and each runs end to end in
smoke mode (bundled sample, offline, CPU)."""

import os
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted(Path(__file__).resolve().parent.parent.glob("notebooks/week*/*.ipynb"))
IDS = [path.name for path in NOTEBOOKS]


def cells(notebook) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_every_notebook_has_a_pair_and_every_pair_a_notebook():
    scripts = sorted(Path(__file__).resolve().parent.parent.glob("notebooks/week*/*.py"))
    assert NOTEBOOKS and [path.with_suffix(".py") for path in NOTEBOOKS] == scripts


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_notebook_and_its_percent_script_hold_the_same_cells(path):
    notebook, script = nbformat.read(path, as_version=4), jupytext.read(path.with_suffix(".py"))
    assert notebook.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert cells(notebook) == cells(script), f"out of sync: run jupytext --sync {path.with_suffix('.py')}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)
    assert "colab-badge.svg" in nb.cells[0].source and f"blob/main/notebooks/{path.parent.name}/{path.name}" in (
        nb.cells[0].source
    )


# Every notebook runs in course order in the test below; these two also run alone, on a machine
# whose store is empty: day 3 then falls back to the bundled sample, and week 7 day 5 trains a
# tiny adapter of its own.
ALONE = [path for path in NOTEBOOKS if path.stem in ("day3_baselines", "day5_inference")]


@pytest.mark.parametrize("path", ALONE, ids=[path.name for path in ALONE])
def test_notebook_runs_alone_in_smoke_mode(path, tmp_path, monkeypatch):
    for name, value in {
        "PRICER_SMOKE": "1",
        "PRICER_RESULTS": str(tmp_path),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "WANDB_MODE": "offline",
    }.items():
        monkeypatch.setenv(name, value)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no chart shown"


COURSE_ORDER = [
    "week6/day1_explore",
    "week6/day2_curate",
    "week6/day3_baselines",
    "week6/day4_frontier",
    "week6/day5_finetune_frontier",
    "week7/day1_quantization",
    "week7/day2_base_model",
    "week7/day3_4_train",
    "week7/day5_inference",
    "week8/day2_rag_ensemble",
]


def run_notebook(path: Path, results: Path, store: Path) -> str:
    """Run a notebook as on a fresh machine: its own empty working folder, only the store shared.
    Returns what it printed."""
    results.mkdir()
    env = {
        "PRICER_SMOKE": "1",
        "PRICER_RESULTS": str(results),
        "PRICER_STORE": str(store),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "WANDB_MODE": "offline",
        "WANDB_DIR": str(results),
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(results)}}).execute()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"], path.name
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name}: no chart shown"
    return "".join(o.get("text", "") for o in outputs if o.output_type == "stream")


def test_the_course_runs_in_order_on_separate_machines_sharing_only_the_store(tmp_path):
    from helpers.loaders import load_items
    from helpers.testing import dataset_key, read_leaderboard

    store = tmp_path / "store"
    notebooks = Path(__file__).resolve().parent.parent / "notebooks"
    printed = {}
    for name in COURSE_ORDER:
        printed[name] = run_notebook(notebooks / f"{name}.ipynb", tmp_path / name.replace("/", "-"), store)

    test_set = dataset_key(load_items(store / "test.jsonl")[0])  # what week 6 day 2 put in the store
    assert test_set != "bundled-sample"
    assert f"test: 300 items from {store / 'test.jsonl'}" in printed["week6/day3_baselines"]
    assert (
        f"adapter: {store / 'runs' / 'pricer-run-1' / 'adapter'} (run pricer-run-1, from the store)"
        in (printed["week7/day5_inference"])
    )
    rows = {(row["model"], row["dataset"]) for row in read_leaderboard(store / "leaderboard.csv")}
    for model in (
        "tfidf_ridge",
        "human",
        "gpt-4o-mini",
        "gpt-4o",
        "fine-tuned gpt-4o-mini",
        "base model_predict",
        "fine-tuned model_predict",
        "fine-tuned improved_model_predict",
        "boosted_trees",
        "neural_net",
        "ensemble",
        "gpt-4o-mini with 5 similar items",
        "neighbours",
        "ensemble of every model",
    ):
        assert (model, test_set) in rows, model
    # week 8's ensemble took in the models of every week that priced the validation items too
    members = next(line for line in printed["week8/day2_rag_ensemble"].splitlines() if " members: " in line)
    for model in ("tfidf_ridge", "gpt-4o", "fine-tuned gpt-4o-mini", "fine-tuned improved_model_predict", "neighbours"):
        assert model in members.split(": ", 1)[1].split(", "), model


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_badge_and_the_set_up_cell_point_at_the_one_repository(path):
    from helpers.notebook import REPO

    nb = nbformat.read(path, as_version=4)
    url = f"https://colab.research.google.com/github/{REPO}/blob/main/notebooks/{path.parent.name}/{path.name}"
    assert url in nb.cells[0].source
    assert f'REPO = "{REPO}"' in nb.cells[1].source


def test_fork_points_every_notebook_at_a_fork(tmp_path):
    import shutil

    from helpers import paths
    from helpers.notebook import REPO, fork

    shutil.copytree(paths.ROOT / "notebooks", tmp_path / "notebooks")
    (tmp_path / "helpers").mkdir()
    shutil.copy(paths.ROOT / "helpers" / "notebook.py", tmp_path / "helpers" / "notebook.py")
    changed = fork("learner/my-pricer", root=tmp_path)
    assert len(changed) == 2 * len(NOTEBOOKS) + 1
    for path in changed:
        text = path.read_text()
        assert REPO not in text and "learner/my-pricer" in text
    assert cells(jupytext.read(tmp_path / "notebooks" / "week7" / "day5_inference.py")) == cells(
        nbformat.read(tmp_path / "notebooks" / "week7" / "day5_inference.ipynb", as_version=4)
    )  # the pairs stay in sync
