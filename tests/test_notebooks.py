"""The notebooks: jupytext pairs in sync, committed without outputs, and each runs end to end in
smoke mode (bundled sample, offline, CPU)."""

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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_in_smoke_mode(path, tmp_path, monkeypatch):
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
