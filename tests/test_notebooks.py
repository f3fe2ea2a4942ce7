"""Every notebook runs end to end in smoke mode: bundled sample, offline, CPU."""

import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted(Path(__file__).resolve().parent.parent.glob("notebooks/week*/*.ipynb"))


def test_notebooks_are_generated_from_make_notebooks():
    script = NOTEBOOKS[0].parent.parent / "make_notebooks.py"
    run = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)
    assert "colab-badge.svg" in nb.cells[0].source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_in_smoke_mode(path, tmp_path, monkeypatch):
    for name, value in {"PRICER_SMOKE": "1", "PRICER_RESULTS": str(tmp_path), "HF_HUB_OFFLINE": "1",
                        "HF_DATASETS_OFFLINE": "1", "WANDB_MODE": "offline"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    nb = nbformat.read(path, as_version=4)
    start = time.time()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.time() - start
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no chart shown"
    assert elapsed < 60, f"smoke run took {elapsed:.0f}s"
