"""The notebooks: jupytext pairs in sync, committed without outputs, their copied cells in step
with helpers, and each runs end to end in smoke mode (bundled sample, offline, CPU), where what
a notebook defines is what it scores and its own versions agree with helpers'."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from helpers.notebook import HUMAN_STAND_IN, OFFLINE_CHAT, PIPELINE_CHECK, WITH_STAND_INS
from helpers.week8.service import free_port

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(ROOT.glob("notebooks/week*/*.ipynb"))
IDS = [path.name for path in NOTEBOOKS]


def load_sync():
    """notebooks/sync.py, the one command that keeps copied and shared cells in step."""
    spec = importlib.util.spec_from_file_location("notebook_sync", ROOT / "notebooks" / "sync.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cells(notebook) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_every_notebook_has_a_pair_and_every_pair_a_notebook():
    scripts = sorted(Path(__file__).resolve().parents[2].glob("notebooks/week*/*.py"))
    assert NOTEBOOKS and [path.with_suffix(".py") for path in NOTEBOOKS] == scripts


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_notebook_and_its_percent_script_hold_the_same_cells(path):
    notebook, script = nbformat.read(path, as_version=4), jupytext.read(path.with_suffix(".py"))
    assert notebook.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert cells(notebook) == cells(script), f"out of sync: run jupytext --sync {path.with_suffix('.py')}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_copied_cells_the_setup_cell_and_the_badge_are_in_step(path):
    sync = load_sync()
    assert sync.sync(path.with_suffix(".py"), write=False) == [], "run python notebooks/sync.py, commit both twins"


def test_a_copied_cell_out_of_step_with_its_helper_is_found_and_rewritten(tmp_path):
    sync = load_sync()
    (tmp_path / "week6").mkdir()
    script, twin = tmp_path / "week6" / "day3_baselines.py", tmp_path / "week6" / "day3_baselines.ipynb"
    shutil.copy(ROOT / "notebooks" / "week6" / "day3_baselines.py", script)
    shutil.copy(ROOT / "notebooks" / "week6" / "day3_baselines.ipynb", twin)
    text = script.read_text()
    assert "max_features=config.bow_max_features" in text
    script.write_text(text.replace("max_features=config.bow_max_features", "max_features=50"))
    assert sync.sync(script, write=False) == ["as in helpers.classical.baselines: fit_bow_lr"]
    assert sync.sync(script, write=True) == ["as in helpers.classical.baselines: fit_bow_lr"]
    assert sync.sync(script, write=False) == []
    assert "max_features=config.bow_max_features" in script.read_text()
    assert cells(jupytext.read(script)) == cells(nbformat.read(twin, as_version=4))


def test_a_script_written_by_another_jupytext_release_is_in_step(tmp_path):
    sync = load_sync()
    (tmp_path / "week6").mkdir()
    script, twin = tmp_path / "week6" / "day1_explore.py", tmp_path / "week6" / "day1_explore.ipynb"
    shutil.copy(ROOT / "notebooks" / "week6" / "day1_explore.ipynb", twin)
    text = (ROOT / "notebooks" / "week6" / "day1_explore.py").read_text()
    older = sync.VERSION.sub("#       jupytext_version: 1.16.0", text, count=1)
    assert older != text
    script.write_text(older)
    assert sync.sync(script, write=False) == []


def test_every_copied_cell_names_functions_that_exist(tmp_path):
    sync = load_sync()
    copies = [
        cell.source.split("\n", 1)[0]
        for path in sync.notebooks()
        for cell in jupytext.read(path).cells
        if sync.COPY.match(cell.source.split("\n", 1)[0])
    ]
    assert len(copies) >= 7  # week 6 day 3's baselines, at least
    for marker in copies:
        assert "def " in sync.copied(marker) or "class " in sync.copied(marker)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)
    assert "colab-badge.svg" in nb.cells[0].source and f"blob/main/notebooks/{path.parent.name}/{path.name}" in (
        nb.cells[0].source
    )


# Every notebook runs in course order in the test below; week 7 day 5 also runs alone, on a
# machine whose store is empty, where it trains a tiny adapter of its own. (Without a store the
# others read the bundled sample: tests/plumbing/test_store.py checks that fallback.)
ALONE = [path for path in NOTEBOOKS if path.stem == "day5_inference"]


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


# The course's order, in steps: the notebooks of one step need nothing of each other, only what
# the steps before put in the store, so they run side by side, two at a time, as learners'
# separate machines would; the longest first, so that the two machines finish a step together.
COURSE_STEPS = [
    ["week6/day1_explore", "week6/day2_curate"],
    [
        "week6/day3_baselines",
        "week7/day3_4_train",
        "week7/day2_base_model",
        "week6/day4_frontier",
        "week7/day1_quantization",
        "week6/day5_finetune_frontier",
        "week8/day3_scanner",  # it needs no model: the feeds and the chat model
    ],
    ["week8/day4_planning", "week8/day1_service", "week7/day5_inference"],  # the adapter of days 3-4
    ["week8/day2_rag_ensemble", "week8/day5_app"],  # every model's answers; day 4's memory
]
COURSE_ORDER = sorted(name for step in COURSE_STEPS for name in step)  # weeks, then days: the course's order
FEED_PORT = free_port()  # the simulated deal feeds' port on every machine of the course's run: the same URLs


def run_notebook(path: Path, results: Path, store: Path, notebook=None) -> str:
    """Run a notebook as on a fresh machine: its own empty working folder, only the store shared.
    Returns what it printed. `notebook` runs instead of the one at `path` (an edited copy)."""
    results.mkdir()
    env = {
        "PRICER_SMOKE": "1",
        "PRICER_RESULTS": str(results),
        "PRICER_STORE": str(store),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "WANDB_MODE": "offline",
        "WANDB_DIR": str(results),
        "PRICER_FEED_PORT": str(FEED_PORT),
    }
    nb = notebook or nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(results)}})
    client.execute(env={**os.environ, **env})  # the kernel's own environment: runs side by side keep theirs
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"], path.name
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name}: no chart shown"
    # what a learner reads: no cell printing a thousand lines, no notebook saved over 300 kB
    for cell in nb.cells:
        printed = "".join(o.get("text", "") for o in getattr(cell, "outputs", []) if o.output_type == "stream")
        assert printed.count("\n") < 1000, f"{path.name}: a cell prints {printed.count(chr(10))} lines"
    shown = sum(len(json.dumps(output)) for cell in nb.cells for output in getattr(cell, "outputs", []))
    assert shown < 300_000, f"{path.name}: {shown:,} bytes of outputs"  # widget state, which Colab never saves, aside
    return "".join(o.get("text", "") for o in outputs if o.output_type == "stream")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Every notebook in course order, each on a fresh machine sharing only the store, those of
    one step side by side: (the store, what each notebook printed)."""
    from concurrent.futures import ThreadPoolExecutor

    folder = tmp_path_factory.mktemp("course")
    store = folder / "store"

    def run(name: str) -> str:
        return run_notebook(ROOT / "notebooks" / f"{name}.ipynb", folder / name.replace("/", "-"), store)

    printed = {}
    with ThreadPoolExecutor(max_workers=2) as machines:
        for step in COURSE_STEPS:
            printed.update(zip(step, machines.map(run, step)))
    return store, {name: printed[name] for name in COURSE_ORDER}


# What each notebook checks of its own versions against helpers' (agree lines), as committed.
AGREEMENTS = {
    "week6/day2_curate": ["de-duplication", "balancing", "the split"],
    "week6/day4_frontier": [
        "gpt-4o-mini: frontier_price and FrontierPricer",
        "gpt-4o: frontier_price and FrontierPricer",
    ],
    "week6/day5_finetune_frontier": ["the examples", "tuned_price and FrontierPricer"],
    "week7/day1_quantization": ["LoRA parameters"],
    "week7/day2_base_model": ["model_predict, one at a time here and batched"],
    "week7/day5_inference": ["model_predict, here and batched", "improved_model_predict, here"],
    "week8/day1_service": ["the service and model_predict in process", "the specialist agent and specialist_price"],
    "week8/day2_rag_ensemble": [
        "the five most similar",
        "the five most similar, from Chroma",
        "RAG messages",
        "rag_price and FrontierPricer",
        "neighbours, here",
        "the ensemble, here",
    ],
}


# week 7's rows in smoke mode say that the tiny random model stood in
WEEK7 = ("base model_predict", "fine-tuned model_predict", "fine-tuned improved_model_predict")
TINY = {name: f"{name} ({PIPELINE_CHECK})" for name in WEEK7}
# and so do the rows of the frontier models (the offline server), the human (the training mean) and the blends
CHAT = {name: f"{name} ({OFFLINE_CHAT})" for name in ("gpt-4o-mini", "gpt-4o", "fine-tuned gpt-4o-mini")}
CHAT["gpt-4o-mini with 5 similar items"] = f"gpt-4o-mini with 5 similar items ({OFFLINE_CHAT})"


def test_the_course_runs_in_order_on_separate_machines_sharing_only_the_store(course):
    from helpers.core.leaderboard import dataset_key, read_leaderboard, training_key
    from helpers.data.item_files import load_items

    store, printed = course
    test_set = dataset_key(load_items(store / "test.jsonl")[0])  # what week 6 day 2 put in the store
    assert test_set != "bundled-sample"
    assert f"test: 300 items from {store / 'test.jsonl'}" in printed["week6/day3_baselines"]
    assert (
        f"adapter: {store / 'runs' / 'pricer-run-1' / 'adapter'} (run pricer-run-1, from the store)"
        in (printed["week7/day5_inference"])
    )
    board = read_leaderboard(store / "leaderboard.csv")
    rows = {(row["model"], row["dataset"]) for row in board}
    learnt = {row["model"]: row["trained_on"] for row in board}
    for model in (
        "tfidf_ridge",
        f"human ({HUMAN_STAND_IN})",
        CHAT["gpt-4o-mini"],
        CHAT["gpt-4o"],
        CHAT["fine-tuned gpt-4o-mini"],
        TINY["base model_predict"],
        TINY["fine-tuned model_predict"],
        TINY["fine-tuned improved_model_predict"],
        f"{TINY['fine-tuned improved_model_predict']}, every test item",
        "boosted_trees",
        "neural_net",
        "ensemble",
        CHAT["gpt-4o-mini with 5 similar items"],
        "neighbours",
        "boosted_neighbours",
        f"ensemble of every model ({WITH_STAND_INS})",
    ):
        assert (model, test_set) in rows, model
    # each row names what its model learnt from: the store's training items, none, or the adapter's rows
    trained = training_key(load_items(store / "train.jsonl")[0][:1000])  # smoke mode's first 1,000
    assert learnt["tfidf_ridge"] == learnt["boosted_trees"] == trained
    assert learnt[CHAT["gpt-4o"]] == learnt[f"human ({HUMAN_STAND_IN})"] == learnt[TINY["base model_predict"]] == ""
    assert learnt[TINY["fine-tuned improved_model_predict"]].startswith("trainset-")
    assert (
        learnt[CHAT["fine-tuned gpt-4o-mini"]].startswith("trainset-")
        and learnt[CHAT["fine-tuned gpt-4o-mini"]] != trained
    )
    # the training items are embedded once in the course (by week 8 day 2 or day 4, whichever runs
    # first): every other notebook, and the trees shown their neighbours' prices, reuse those vectors
    assert sum(text.count("embedded ") for text in printed.values()) == 1
    # week 8's ensemble took in the models of every week that priced the validation items too
    members = next(line for line in printed["week8/day2_rag_ensemble"].splitlines() if " members: " in line)
    tuned = TINY["fine-tuned improved_model_predict"]
    for model in ("tfidf_ridge", CHAT["gpt-4o"], CHAT["fine-tuned gpt-4o-mini"], tuned, "neighbours"):
        assert model in members.split(": ", 1)[1].split(", "), model


def test_week_8_hunts_deals_across_machines_with_one_memory(course):
    """Day 2 keeps the vector store and scores the ensemble agent; day 4's hunt raises a deal
    into the memory in the store; day 5, on another machine, finds it and hunts again, raising
    no deal twice."""
    from helpers.core.leaderboard import read_leaderboard
    from helpers.week8.memory import KEY

    store, printed = course
    assert any(name.endswith(".faiss") for name in map(str, (store / "vectors").rglob("*")))
    agent = [row for row in read_leaderboard(store / "leaderboard.csv") if row["model"].startswith("ensemble agent")]
    assert [row["model"] for row in agent] == [f"ensemble agent ({PIPELINE_CHECK})"]
    held = int(printed["week8/day4_planning"].split("the memory holds ")[1].split()[0])
    assert held >= 1  # the autonomous planner's deal, at least
    assert f"{held} opportunities remembered in" in printed["week8/day5_app"]  # read on another machine
    urls = [json.loads(line)["deal"]["url"] for line in (store / KEY).read_text().splitlines()]
    assert len(urls) == len(set(urls)) >= held


@pytest.mark.parametrize("name", AGREEMENTS)
def test_each_notebooks_own_versions_agree_with_helpers(course, name):
    lines = course[1][name].splitlines()
    assert not [line for line in lines if line.startswith("differ: ")]
    agreed = [line for line in lines if line.startswith("agree: ")]
    for what in AGREEMENTS[name]:
        assert any(line.startswith(f"agree: {what}") for line in agreed), what


def test_what_the_notebook_defines_is_what_it_scores(course, tmp_path):
    """Edit week 7 day 5's own improved_model_predict in its .py twin: the Tester's figure for it
    changes, and the notebook says that it no longer agrees with helpers'."""
    from helpers.core.leaderboard import read_leaderboard

    store, _ = course
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    script = jupytext.read(ROOT / "notebooks" / "week7" / "day5_inference.py")
    [cell] = [cell for cell in script.cells if cell.source.startswith("def improved_model_predict(")]
    header = "def improved_model_predict(item: Item, top_k: int = 3) -> float | None:\n"
    assert cell.source.startswith(header)
    cell.source = cell.source.replace(header, header + "    return 42.0  # a learner's edit\n", 1)
    printed = run_notebook(ROOT / "notebooks" / "week7" / "day5_inference.py", tmp_path / "edited", copy, script)

    def figure(leaderboard: Path) -> float:
        rows = [r for r in read_leaderboard(leaderboard) if r["model"] == TINY["fine-tuned improved_model_predict"]]
        return float(rows[0]["average_error"])

    before, after = figure(store / "leaderboard.csv"), figure(copy / "leaderboard.csv")
    assert after != before
    tuned = TINY["fine-tuned improved_model_predict"]
    test = [line for line in printed.splitlines() if line.startswith(f"{tuned} Error=$")]
    assert test[0].startswith(f"{tuned} Error=${after:,.2f}")
    assert "differ: improved_model_predict, here and batched: 10 of 10 differ" in printed
    assert "agree: model_predict, here and batched" in printed  # the other one is untouched


@pytest.mark.parametrize(
    "name, header, row",
    [
        ("week6/day4_frontier", "def frontier_price(model: str, item: Item) -> float | None:\n", CHAT["gpt-4o"]),
        (
            "week8/day2_rag_ensemble",
            "def rag_price(item: Item) -> float | None:\n",
            CHAT["gpt-4o-mini with 5 similar items"],
        ),
    ],
    ids=["frontier_price", "rag_price"],
)
def test_an_edit_to_a_frontier_function_moves_its_score(course, tmp_path, name, header, row):
    """The frontier models' rows score the notebook's own function: `return 42.0` added to it
    (through the .py twin) moves the row's figure, and the notebook says it no longer agrees
    with helpers' FrontierPricer. The run stops after the row is recorded."""
    from helpers.core.leaderboard import read_leaderboard

    store, _ = course
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    script = jupytext.read(ROOT / "notebooks" / f"{name}.py")
    [edited] = [i for i, cell in enumerate(script.cells) if header in cell.source]
    script.cells[edited].source = script.cells[edited].source.replace(
        header, header + "    return 42.0  # a learner's edit\n", 1
    )
    # the first cell after it that scores, records and keeps
    recorded = next(i for i, cell in enumerate(script.cells) if "score_and_keep(" in cell.source and i > edited)
    script.cells = script.cells[: recorded + 1]
    printed = run_notebook(ROOT / "notebooks" / f"{name}.py", tmp_path / "edited", copy, script)

    def figure(leaderboard: Path) -> float:
        return float(next(r for r in read_leaderboard(leaderboard) if r["model"] == row)["average_error"])

    assert figure(copy / "leaderboard.csv") != figure(store / "leaderboard.csv")
    assert "differ: " in printed


def test_an_account_refused_fine_tuning_meets_one_line_pointing_to_week_7(tmp_path):
    """Week 6 day 5 against a server that answers a new fine-tuning job as OpenAI answers an
    account it no longer lets fine-tune (403): the job's cell prints one line and stops."""
    script = jupytext.read(ROOT / "notebooks" / "week6" / "day5_finetune_frontier.py")
    [cell] = [cell for cell in script.cells if "BASE_URL, API_KEY = openai_endpoint()" in cell.source]
    refusing = (
        "from helpers.offline.fake_openai import FakeOpenAI\n\nserver = FakeOpenAI(refuse_fine_tuning=True).start()\n"
    )
    cell.source = cell.source.replace(
        "BASE_URL, API_KEY = openai_endpoint()", f"{refusing}BASE_URL, API_KEY = server.url, server.api_key"
    )
    results = tmp_path / "results"
    results.mkdir()
    env = {"PRICER_SMOKE": "1", "PRICER_RESULTS": str(results), "PRICER_STORE": str(tmp_path / "store")}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        client = NotebookClient(script, timeout=300, kernel_name="python3", allow_errors=True)
        client.execute(cwd=str(results))
    finally:
        for name, value in saved.items():
            os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)
    [job] = [cell for cell in script.cells if "openai.fine_tuning.jobs.create(" in cell.source]
    printed = "".join(o.get("text", "") for o in job.outputs if o.output_type == "stream").strip().splitlines()
    assert len(printed) == 1 and printed[0].startswith("error: ")
    assert printed[0].endswith("Week 7 fine-tunes an open model instead: notebooks/week7/day3_4_train.ipynb")
    assert not any(o.output_type == "error" for o in job.outputs)  # no traceback shown


def notebook_function(script: Path, name: str, namespace: dict) -> None:
    """Run the cell of `script` that defines `name` in `namespace`: the notebook's own code."""
    [cell] = [cell for cell in jupytext.read(script).cells if f"\ndef {name}(" in f"\n{cell.source}"]
    exec(compile(cell.source, f"{script.name}: {name}", "exec"), namespace)


def test_the_notebooks_predictors_agree_with_helpers_batched_ones_on_a_real_model(real_model_dir, bundled_test):
    """On SmolLM2, which writes prices, not the smoke run's untrained stand-in: week 7's
    model_predict (days 2 and 5) and improved_model_predict, as written in the notebooks, give
    the batched helpers' answers, to the cent (a batch with padding and one prompt alone add up
    in other orders)."""
    from helpers.language.inference import InferenceConfig, Predictors
    from helpers.language.loading import load_base

    model, tokenizer = load_base(str(real_model_dir), "4bit")
    items = bundled_test[:6]
    for day, new_tokens in (("day2_base_model", 4), ("day5_inference", 3)):
        script = ROOT / "notebooks" / "week7" / f"{day}.py"
        mine = {"model": model, "tokenizer": tokenizer}
        notebook_function(script, "model_predict", mine)
        batched = Predictors(model, tokenizer, InferenceConfig(max_new_tokens=new_tokens, max_number_tokens=1))
        answers = [mine["model_predict"](item) for item in items]
        assert sum(answer is not None for answer in answers) >= 4, answers  # a real model writes prices
        assert answers == pytest.approx(batched.model_predict.predict_batch(items), rel=1e-3, abs=0.01)
        if day == "day5_inference":
            notebook_function(script, "improved_model_predict", mine)
            improved = [mine["improved_model_predict"](item) for item in items]
            assert all(answer is not None for answer in improved), improved
            assert improved == pytest.approx(batched.improved_model_predict.predict_batch(items), rel=1e-3, abs=0.01)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_badge_and_the_set_up_cell_point_at_the_one_repository(path):
    from helpers.notebook import REPO

    nb = nbformat.read(path, as_version=4)
    url = f"https://colab.research.google.com/github/{REPO}/blob/main/notebooks/{path.parent.name}/{path.name}"
    assert url in nb.cells[0].source
    assert f'REPO = "{REPO}"' in nb.cells[1].source


def colab_setup(tmp_path, monkeypatch, remote: Path):
    """The first cell as a fresh Colab machine runs it, with github.com standing for `remote`
    (a folder of repositories) and the clone going to a folder of the test's."""
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{remote.as_uri()}/.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "https://github.com/")
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    first = nbformat.read(NOTEBOOKS[0], as_version=4).cells[1]
    assert 'CLONE = Path("/content/pricer")' in first.source
    setup = first.source.replace('Path("/content/pricer")', f"Path({str(tmp_path / 'pricer')!r})")
    colab = "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(colab), nbformat.v4.new_code_cell(setup)])
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True)
    client.execute()
    outputs = nb.cells[1].outputs
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    errors = [o for o in outputs if o.output_type == "error"]
    return printed, errors


def test_the_first_cell_stops_in_one_line_when_the_clone_fails(tmp_path, monkeypatch):
    printed, errors = colab_setup(tmp_path, monkeypatch, tmp_path / "nowhere")
    assert "$ git clone --depth 1 https://github.com/" in printed  # the command, and then what git said
    assert "fatal:" in printed
    assert [error.traceback for error in errors] == [["error: the clone failed (exit status 128): its output is above"]]


def test_the_first_cell_stops_in_one_line_when_the_install_fails(tmp_path, monkeypatch):
    from helpers.notebook import REPO

    remote = tmp_path / "remote"
    broken = remote / REPO
    broken.mkdir(parents=True)
    (broken / "pyproject.toml").write_text("[project\nname = 'pricer'\n")  # not TOML
    for command in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", *command], cwd=broken, check=True)
    printed, errors = colab_setup(tmp_path, monkeypatch, remote)
    assert (tmp_path / "pricer" / ".git").is_dir() and not (tmp_path / "pricer" / ".installed").exists()
    assert "-m pip install -e" in printed and "TOMLDecodeError" in printed  # the command, and pip's own words
    [error] = errors
    assert error.traceback[0].startswith("error: the install failed (exit status ")
    assert len(error.traceback) == 1


def test_fork_on_the_command_line_points_every_notebook_at_a_fork(tmp_path):
    from helpers.notebook import REPO

    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    (tmp_path / "helpers").mkdir()
    shutil.copy(ROOT / "helpers" / "notebook.py", tmp_path / "helpers" / "notebook.py")

    def fork(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "helpers", "fork", *args, "--root", str(tmp_path)]
        return subprocess.run(command, capture_output=True, text=True, cwd=ROOT)

    done = fork("learner/my-pricer")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"{2 * len(NOTEBOOKS) + 1} files now point at learner/my-pricer: " + (
        "commit and push them to your fork"
    )
    for path in [*tmp_path.glob("notebooks/week*/*.*"), tmp_path / "helpers" / "notebook.py"]:
        text = path.read_text()
        assert REPO not in text and "learner/my-pricer" in text, path
    for script in tmp_path.glob("notebooks/week*/*.py"):
        notebook = nbformat.read(script.with_suffix(".ipynb"), as_version=4)
        assert cells(jupytext.read(script)) == cells(notebook)  # the twins stay in step
        assert f"github/learner/my-pricer/blob/main/notebooks/{script.parent.name}/" in notebook.cells[0].source
    assert fork("learner/my-pricer").stdout.splitlines()[-1].startswith("0 files")  # a second run changes nothing
    bad = fork("learner/my pricer")
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == "error: 'learner/my pricer' is not a GitHub repository's owner/name, such as learner/pricer\n"
