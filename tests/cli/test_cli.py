"""The command line, run as a learner runs it: `python -m helpers ...`, in a subprocess wherever a
model loads or a process matters, else in the test process."""

import contextlib
import io
import json
import os
import subprocess
import sys
import time

import pytest

from helpers.cli.commands import STAGES
from helpers.core.leaderboard import read_leaderboard, training_key
from helpers.data.item_files import load_items
from helpers.plumbing import paths
from helpers.week8.service import free_port

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


# Stages that load no model run inside the test process (a new interpreter costs seconds); the
# rest, and every test about processes, signals or the environment, start `python -m helpers`.
IN_PROCESS = {"curate", "split", "evaluate", "charts"}


def here(*args: str) -> subprocess.CompletedProcess:
    """`python -m helpers ARGS` run inside the test process: what it printed and its exit status."""
    from helpers.cli.commands import main

    out, err, status = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exit:
            status = exit.code if isinstance(exit.code, int) else 1
    return subprocess.CompletedProcess(["python", "-m", "helpers", *args], status, out.getvalue(), err.getvalue())


def cli(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    """`python -m helpers ARGS`: what it printed and its exit status."""
    if args[0] in IN_PROCESS or "--help" in args:
        run = here(*args)
    else:
        run = subprocess.run([sys.executable, "-m", "helpers", *args], capture_output=True, text=True, env=ENV)
    if ok:
        assert run.returncode == 0, run.stderr[-2000:]
    return run


def test_curate_prints_a_json_summary_as_its_last_line(tmp_path, tiny_dir):
    out = tmp_path / "items.jsonl"
    run = cli("curate", "--input", str(paths.RAW_SAMPLE), "--tokenizer", str(tiny_dir), "--out", str(out))
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["read"] == 242
    assert summary["kept"] + sum(summary["skipped"].values()) == 242
    assert len(out.read_text().splitlines()) == summary["kept"]


def test_curate_reads_gzip_and_names_a_missing_file(tmp_path, tiny_dir, raw_record, write_jsonl):
    import gzip

    plain = write_jsonl(tmp_path / "raw.jsonl", [raw_record, b"garbage\n"])
    zipped = tmp_path / "raw.jsonl.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    run = cli("curate", "--input", str(zipped), "--tokenizer", str(tiny_dir), "--out", str(tmp_path / "o.jsonl"))
    assert json.loads(run.stdout.splitlines()[-1])["skipped"] == {"bad_json": 1}
    missing = cli("curate", "--input", "nowhere/raw.jsonl", "--tokenizer", str(tiny_dir), ok=False)
    assert missing.returncode == 2
    assert missing.stderr.strip() == "error: no such file: nowhere/raw.jsonl"


def test_curate_on_a_csv_says_it_reads_jsonl(tmp_path, tiny_dir):
    table, out = tmp_path / "products.csv", tmp_path / "items.jsonl"
    table.write_text("title,description,price\nIce maker,Makes ice,99.50\nKettle,Boils water,20\n")
    run = cli("curate", "--input", str(table), "--tokenizer", str(tiny_dir), "--out", str(out), ok=False)
    assert run.returncode == 2 and run.stdout == "" and not out.exists()
    assert run.stderr.strip().splitlines()[-1] == (
        f"error: {table}: no line is a JSON record: curate reads JSONL (one JSON object a line), JSONL.gz or parquet"
    )


def test_a_skip_for_too_few_tokens_names_the_minimum(tmp_path, tiny_dir, raw_record, write_jsonl):
    """A user whose short descriptions were skipped learns how long an item must be (the README quotes it)."""
    words = "A compact ice maker with a scoop, a basket and a window, for kitchens, offices and vans. " * 4
    short = write_jsonl(
        tmp_path / "short.jsonl", [{**raw_record, "description": [words], "features": [], "details": {}}]
    )
    run = cli("curate", "--input", str(short), "--tokenizer", str(tiny_dir), "--out", str(tmp_path / "o.jsonl"))
    assert json.loads(run.stdout.splitlines()[-1])["skipped"] == {"too_few_tokens": 1}
    assert "(too_few_tokens 1); too_few_tokens: an item needs more than 150 tokens of title and text" in run.stderr


def test_an_unknown_category_is_one_line(tiny_dir):
    run = cli("curate", "--input", "Spaceships", "--tokenizer", str(tiny_dir), ok=False)
    assert run.returncode == 2
    assert len(run.stderr.strip().splitlines()) == 1 and "unknown category 'Spaceships'" in run.stderr


@pytest.mark.slow
def test_baselines_print_one_json_line_per_model(tmp_path, first_training_items):
    board, train_file = tmp_path / "board.csv", first_training_items(800)  # the command is under test
    run = cli(
        "baselines",
        "--train",
        str(train_file),
        "--test",
        str(paths.TEST_SAMPLE),
        "--json",
        "--forest-trees",
        "5",
        *("--boosted-trees", "60", "--nn-hidden", "32", "--nn-epochs", "4"),  # small: this checks the command
        *("--ensemble-members", "constant", "tfidf_ridge"),
        "--size",
        "100",
        "--leaderboard",
        str(board),
    )
    rows = [json.loads(line) for line in run.stdout.strip().splitlines()]
    assert [row["model"] for row in rows] == [
        "random",
        "constant",
        "features_lr",
        "bow_lr",
        "word2vec_lr",
        "word2vec_svr",
        "word2vec_forest",
        "tfidf_ridge",
        "boosted_trees",
        "neural_net",
        "ensemble",
    ]
    train, test = load_items(train_file)[0], load_items(paths.TEST_SAMPLE)[0][:100]
    assert {(row["n"], row["trained_on"], row["dataset"]) for row in rows} == {
        (100, training_key(train), "bundled-sample")
    }
    mean = sum(item.price for item in train) / len(train)
    errors = {row["model"]: row["average_error"] for row in rows}
    assert errors["constant"] == pytest.approx(sum(abs(mean - item.price) for item in test) / 100, abs=1e-4)
    assert errors["tfidf_ridge"] < 0.85 * errors["constant"]
    assert len(board.read_text().splitlines()) == 12


def test_split_balances_and_splits(tmp_path):
    run = cli(
        "split",
        "--items",
        str(paths.TRAIN_SAMPLE),
        "--train-size",
        "100",
        "--test-size",
        "50",
        "--train-out",
        str(tmp_path / "tr.jsonl"),
        "--test-out",
        str(tmp_path / "te.jsonl"),
    )
    counts = {"items": 2973, "duplicates": 0, "balanced": 2973, "train": 100, "test": 50, "unused": 2823}
    assert json.loads(run.stdout) == counts
    assert len((tmp_path / "te.jsonl").read_text().splitlines()) == 50


def test_a_full_disk_is_one_line_and_leaves_no_file_half_written(tmp_path):
    """A real limit on file size (as a full disk, the write fails part way): the outputs are
    neither there nor half-written, and the reason is one line."""
    import resource
    import signal

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails (EFBIG) rather than killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    outs = ["--train-out", str(tmp_path / "tr.jsonl"), "--test-out", str(tmp_path / "te.jsonl")]
    flags = ["--items", str(paths.TRAIN_SAMPLE), "--train-size", "1000", "--test-size", "50", *outs]
    run = subprocess.run(
        [sys.executable, "-m", "helpers", "split", *flags],
        capture_output=True,
        text=True,
        env=ENV,
        preexec_fn=small_disk,
    )
    assert run.returncode == 2
    assert run.stderr == (
        f"error: cannot write {tmp_path / 'tr.jsonl'}: File too large; free some space, or write elsewhere "
        "(--output, PRICER_RESULTS or PRICER_STORE)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_split_categories_keeps_only_those_categories(tmp_path):
    outs = {name: tmp_path / f"{name}.jsonl" for name in ("train", "test")}
    run = cli(
        "split",
        *("--items", str(paths.TRAIN_SAMPLE), "--categories", "Toys_and_Games", "Office_Products"),
        *("--train-size", "100", "--test-size", "50", "--no-balance"),
        *(arg for name, path in outs.items() for arg in (f"--{name}-out", str(path))),
    )
    split_items = [item for path in outs.values() for item in load_items(path)[0]]
    assert {item.category for item in split_items} == {"Toys_and_Games", "Office_Products"} and len(split_items) == 150
    assert json.loads(run.stdout)["other_categories"] == 2973 - 320 - 122  # the bundled sample's other four


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder all the same")
def test_a_read_only_output_folder_is_one_line(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    outs = ["--train-out", str(folder / "tr.jsonl"), "--test-out", str(folder / "te.jsonl")]
    run = here("split", "--items", str(paths.TRAIN_SAMPLE), "--train-size", "100", "--test-size", "50", *outs)
    assert run.returncode == 2
    assert run.stderr.startswith(f"error: cannot write {folder}") and "choose a folder you can write" in run.stderr


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_split_drops_duplicates_and_carves_a_validation_split(tmp_path, bundled_train, suffix):
    from dataclasses import replace

    from helpers.data.item_files import save_items

    items = bundled_train[:300]
    copies = [replace(items[0], price=1.0), replace(items[1], title=items[1].title.upper(), text="other words")]
    copies.append(replace(items[2], title="A new title", text=items[2].text + "  "))
    source = save_items(items + copies, tmp_path / f"items{suffix}")
    outs = {name: tmp_path / f"{name}.jsonl" for name in ("train", "validation", "test")}
    run = cli(
        "split",
        *("--items", str(source), "--dedupe", "--no-balance"),
        *("--train-size", "250", "--validation-size", "20", "--test-size", "30"),
        *(arg for name, path in outs.items() for arg in (f"--{name}-out", str(path))),
    )
    counts = {"items": 303, "duplicates": 3, "balanced": 300, "train": 250, "validation": 20, "test": 30}
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {**counts, "unused": 0}
    parts = {name: load_items(path)[0] for name, path in outs.items()}
    assert sorted(item.title for part in parts.values() for item in part) == sorted(item.title for item in items)
    assert not {item.title for item in parts["test"]} & {item.title for item in parts["train"]}


def test_evaluate_scores_a_predictions_csv(tmp_path):
    csv_path = tmp_path / "guesses.csv"
    csv_path.write_text("title,price\n" + "x,100\n" * 10)
    run = cli(
        "evaluate",
        "--predictions",
        str(csv_path),
        "--size",
        "10",
        "--model",
        "hundred",
        "--json",
        "--leaderboard",
        str(tmp_path / "b.csv"),
    )
    row = json.loads(run.stdout)
    test = load_items(paths.TEST_SAMPLE)[0][:10]
    assert (row["model"], row["n"], row["failures"]) == ("hundred", 10, 0)
    assert row["average_error"] == pytest.approx(sum(abs(100 - item.price) for item in test) / 10, abs=1e-4)


@pytest.mark.parametrize(
    "content, message",
    [
        ("title,price\nx,100\nx,lots\n", "line 3: 'lots' is not a price"),
        ("title,guess\nx,1\n", "needs a 'price' column"),
        ("title,price\nx,1\n", "1 rows, but 10 test items are scored"),
    ],
)
def test_evaluate_names_the_bad_row(tmp_path, content, message):
    csv_path = tmp_path / "guesses.csv"
    csv_path.write_text(content)
    run = cli("evaluate", "--predictions", str(csv_path), "--size", "10", ok=False)
    assert run.returncode == 2 and message in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_evaluate_without_predictions_says_the_flag_is_missing():
    run = cli("evaluate", ok=False)
    assert run.returncode == 2
    assert run.stderr.startswith("error: --predictions is missing: ") and run.stderr.count("\n") == 1


def frontier(server, tmp_path, *extra: str, size: str = "10", key: str | None = None, wait: bool = True, env=None):
    """`python -m helpers frontier` against the loopback server, as a learner runs it."""
    env = {**ENV, "OPENAI_API_KEY": key or server.api_key, **(env or {})}
    args = [
        sys.executable,
        "-m",
        "helpers",
        "frontier",
        "--base-url",
        server.url,
        "--size",
        size,
        "--leaderboard",
        str(tmp_path / "board.csv"),
        *extra,
    ]
    if not wait:
        return subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=interruptible
        )
    return subprocess.run(args, capture_output=True, text=True, env=env)


def interruptible() -> None:
    """Ctrl-C as at a terminal: a test run started in the background has SIGINT ignored, and a
    Python started that way never turns it into KeyboardInterrupt."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_frontier_prints_one_json_line_and_uses_its_cache(tmp_path):
    from helpers.offline.fake_openai import FakeOpenAI

    with FakeOpenAI() as server:
        cache = ["--cache", str(tmp_path / "c.sqlite"), "--json", "--model", "gpt-4o-mini"]
        first, second = frontier(server, tmp_path, *cache, size="20"), frontier(server, tmp_path, *cache, size="20")
        assert len(server.chat_requests()) == 20
    assert first.returncode == 0, first.stderr[-2000:]
    one, two = json.loads(first.stdout), json.loads(second.stdout)
    assert {k: one[k] for k in ("model", "n", "calls", "cached", "failures")} == {
        "model": "gpt-4o-mini",
        "n": 20,
        "calls": 20,
        "cached": 0,
        "failures": 0,
    }
    assert two == {**one, "calls": 0, "cached": 20, "cost": 0.0}  # the same scores, all from the cache


@pytest.mark.slow
def test_frontier_with_rag_shows_each_item_its_most_similar_training_items(tmp_path, first_training_items):
    from helpers.offline.fake_openai import FakeOpenAI

    train = first_training_items(120)
    results = {"PRICER_RESULTS": str(tmp_path / "results")}  # where the vector store is built
    with FakeOpenAI() as server:
        run = frontier(server, tmp_path, "--rag", str(train), "--rag-k", "3", "--json", size="4", env=results)
        users = [json.loads(r["body"])["messages"][1]["content"] for r in server.chat_requests()]
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.splitlines()[-1])["model"] == "gpt-4o-mini with 3 similar items"
    assert len(users) == 4 and all(u.count("Potentially related product:") == 3 for u in users)
    assert list((tmp_path / "results" / "vectors").iterdir())  # the store, kept for the next run


def test_frontier_with_a_bad_key_is_one_line_without_the_key(tmp_path):
    from helpers.offline.fake_openai import FakeOpenAI

    with FakeOpenAI() as server:
        run = frontier(
            server, tmp_path, "--cache", str(tmp_path / "c.sqlite"), size="5", key="bad-key-do-not-print-123456"
        )
    assert run.returncode == 2
    assert "bad-key-do-not" not in run.stdout + run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("error: authentication failed at http://127.0.0.1:")


@pytest.mark.slow
def test_main_job_says_plainly_when_it_skips_the_frontier_stage(tmp_path, real_model_dir):
    (tmp_path / "smollm2-135m").symlink_to(real_model_dir)  # written once a test session: the job reuses it
    env = {k: v for k, v in ENV.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    # the plumbing is under test here: two baselines, few items
    quick = ["--models", "constant", "tfidf_ridge", "--qlora-test-size", "5"]
    quick += ["--offline-model-size", "3"]
    quick += ["--deals-train-size", "300", "--deals-vectors", "60", "--deals-validation", "10"]
    from helpers.core.leaderboard import record
    from helpers.core.tester import Tester
    from helpers.data.item_files import load_items
    from helpers.plumbing import paths

    elsewhere = Tester(lambda item: 1.0, load_items(paths.TEST_SAMPLE)[0], title="recorded elsewhere", verbose=False)
    record(elsewhere.run(), tmp_path / "leaderboard.csv")  # another command's row, in the same file
    time.sleep(1.1)  # rows carry the second they were recorded in
    run = subprocess.run(
        [sys.executable, "-m", "helpers", "main", "--workdir", str(tmp_path), *quick],
        capture_output=True,
        text=True,
        env={**env, "PRICER_STORE": str(tmp_path / "store"), "PRICER_RESULTS": str(tmp_path), "PRICER_FEED_PORT": "0"},
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Leaderboard of this run (bundled sample" in run.stdout
    table = run.stdout.split("Leaderboard of this run", 1)[1]
    assert "recorded elsewhere" not in table and "tfidf_ridge" in table  # only this run's rows
    assert "Frontier stage skipped: neither OPENAI_API_KEY nor OPENAI_BASE_URL is configured" in run.stdout
    assert (tmp_path / "leaderboard.csv").exists()
    assert (tmp_path / "charts" / "train" / "prices.png").exists()
    assert (tmp_path / "baselines" / "tfidf_ridge.png").exists()
    assert (tmp_path / "tiny" / "tokenizer.json").exists()
    assert sum(1 for _ in open(tmp_path / "items_cds_vinyl.jsonl")) > 50
    assert (tmp_path / "charts" / "leaderboard.png").exists()
    models = {row["model"] for row in read_leaderboard(tmp_path / "leaderboard.csv")}
    assert {
        "tfidf_ridge",
        "tiny-qlora-pipeline-check model_predict",
        "smollm2-135m base (not fine-tuned) improved_model_predict",
    } <= models
    # week 8, offline: the adapter served, checked against the model in process, and one hunt for deals
    assert "the service and model_predict in process agree on 5 of 5 test items" in run.stdout
    rows = [json.loads(line) for line in run.stdout.splitlines() if line.startswith('{"description"')]
    assert rows and all(row["discount"] == round(row["estimate"] - row["price"], 2) for row in rows)
    assert all("deals simulated from the bundled sample" in " ".join(row["stand_ins"]) for row in rows)
    raised = [row for row in rows if row["raised"]]
    assert len(raised) == 1  # the simulated deals hold a bargain, and the notification went to the log
    remembered = [json.loads(line) for line in (tmp_path / "store" / "deals" / "memory.jsonl").read_text().splitlines()]
    assert [row["url"] for row in raised] == [entry["deal"]["url"] for entry in remembered]


def test_train_saves_an_adapter_and_reports_its_losses(trained_adapter):
    work, summary = trained_adapter
    assert summary["steps"] == 30 and summary["adapter"] == str(work / "adapter")
    assert summary["first_loss"] > 0 and summary["last_loss"] > 0
    assert (work / "adapter" / "adapter_model.safetensors").exists()
    assert (work / "adapter" / "checkpoint-15").is_dir()
    assert (work / "adapter" / "trained_on.txt").read_text() == "bundled-train"  # what it learnt from


def predict(*args) -> dict:
    """`predict` on the first 6 test items, in this process (a new interpreter would load the same
    model in seconds more): its one JSON line."""
    flags = ["--test", str(paths.TEST_SAMPLE), "--size", "6", "--batch-size", "3", "--json", *args]
    run = here("predict", *flags)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_predict_prints_what_the_tester_measures_in_one_json_line(trained_adapter, tmp_path):
    from helpers.core.tester import Tester
    from helpers.language.inference import InferenceConfig, Predictors, load_for_inference

    work, _ = trained_adapter
    board = str(tmp_path / "b.csv")
    config = InferenceConfig(base_model=str(work / "tiny"), adapter=str(work / "adapter"))
    predictors = Predictors(*load_for_inference(config), config)
    test = load_items(paths.TEST_SAMPLE)[0]
    for extra, predictor in (([], predictors.model_predict), (["--improved"], predictors.improved_model_predict)):
        row = predict(
            "--base-model", str(work / "tiny"), "--adapter", str(work / "adapter"), "--leaderboard", board, *extra
        )
        expected = Tester(predictor, test, title=f"adapter {predictor.__name__}", size=6, verbose=False).run()
        assert row == pytest.approx(expected.to_dict(), abs=0.01)
        assert row["trained_on"] == "bundled-train"  # the adapter says what it learnt from
    assert len(open(board).read().splitlines()) == 3


LOGITS = """
import json, sys
from helpers.language.inference import InferenceConfig, load_for_inference, next_token_logits
from helpers.data.item_files import load_items
from helpers.plumbing import paths

base, prompts = sys.argv[1], [item.test_prompt() for item in load_items(paths.TEST_SAMPLE)[0][:2]]
found = []
for adapter, revision in zip(sys.argv[2::2], sys.argv[3::2]):
    config = InferenceConfig(base_model=base, adapter=adapter, revision=revision or None)
    model, tokenizer = load_for_inference(config)
    found.append(next_token_logits(model, tokenizer, prompts)[:, :50].tolist())
print(json.dumps(found))
"""


@pytest.mark.slow
def test_an_adapter_revision_loads_from_the_hub_cache(trained_adapter, tmp_path):
    """The hub code path, offline: a cached repo with two revisions (two pushed checkpoints)."""
    work, _ = trained_adapter
    repo = tmp_path / "hub" / "models--learner--pricer-run"
    early, late = "a" * 40, "b" * 40
    for sha, source in ((early, work / "adapter" / "checkpoint-15"), (late, work / "adapter")):
        (repo / "snapshots" / sha).mkdir(parents=True)
        for name in ("adapter_config.json", "adapter_model.safetensors"):
            (repo / "snapshots" / sha / name).write_bytes((source / name).read_bytes())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(late)
    env = {**ENV, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"}
    # one process loads all four: the local folders, then the hub's two revisions (refs/main last)
    pairs = [str(work / "adapter" / "checkpoint-15"), "", str(work / "adapter"), ""]
    pairs += ["learner/pricer-run", early, "learner/pricer-run", ""]
    run = subprocess.run(
        [sys.executable, "-c", LOGITS, str(work / "tiny"), *pairs], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr[-2000:]
    local_early, local_late, hub_early, hub_main = json.loads(run.stdout)
    assert local_early != local_late  # the two revisions really differ
    assert hub_early == local_early
    assert hub_main == local_late


def test_predict_with_a_missing_model_is_one_line(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "helpers", "predict", "--base-model", str(tmp_path / "nothing"), "--size", "2"],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert run.returncode == 2
    assert run.stderr == f"error: cannot load tokenizer '{tmp_path / 'nothing'}': no such folder\n"


@pytest.mark.parametrize(
    "cut, why",
    [
        ("adapter_model.safetensors", "adapter_model.safetensors is cut short or corrupt"),
        ("adapter_config.json", "adapter_config.json is cut short"),
    ],
)
def test_predict_with_an_adapter_file_cut_short_is_one_line(trained_adapter, tmp_path, cut, why):
    import shutil

    work, _ = trained_adapter
    adapter = tmp_path / "adapter"  # a copy to Drive that stopped half way
    shutil.copytree(work / "adapter", adapter, ignore=shutil.ignore_patterns("checkpoint-*"))
    whole = (adapter / cut).read_bytes()
    (adapter / cut).write_bytes(whole[: len(whole) // 2])
    run = here("predict", "--base-model", str(work / "tiny"), "--adapter", str(adapter), "--size", "2")
    assert run.returncode == 2
    assert run.stderr == f"error: cannot load adapter '{adapter}': {why}; copy it again, or train it again\n"


@pytest.mark.parametrize("damage", ["cut short", "another program's JSON"])
def test_a_tokenizer_json_cut_short_or_foreign_is_one_line(tiny_dir, tmp_path, damage):
    import shutil

    folder = tmp_path / "tokenizer"
    shutil.copytree(tiny_dir, folder)
    tokenizer = folder / "tokenizer.json"
    whole = tokenizer.read_text()
    tokenizer.write_text(whole[: len(whole) // 2] if damage == "cut short" else '{"version": "1.0", "vocab": [1, 2]}')
    run = here("predict", "--base-model", str(folder), "--size", "2")
    assert run.returncode == 2 and run.stderr.count("\n") == 1
    assert run.stderr.startswith(
        f"error: cannot load tokenizer '{folder}': tokenizer.json is cut short or is no tokenizer"
    )


def test_the_users_mistake_is_one_line_and_exit_status_2(monkeypatch, capsys):
    from helpers.cli import commands as cli_module
    from helpers.plumbing.errors import DataError

    def mistaken(args):
        raise DataError("no such file: prices.csv")

    monkeypatch.setitem(cli_module.STAGES, "leaderboard", ("a stage that meets a mistake", mistaken, ()))
    with pytest.raises(SystemExit) as exit:
        cli_module.main(["leaderboard"])
    assert exit.value.code == 2 and capsys.readouterr().err == "error: no such file: prices.csv\n"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["frontier", "--size", "-5"], "--size -5: must be above 0"),  # once 495 paid calls
        (["evaluate", "--predictions", "p.csv", "--size", "0"], "--size 0: must be above 0"),
        (["split", "--train-size", "-100"], "--train-size -100: must be above 0"),
        (["curate", "--input", "x.jsonl", "--limit", "-1"], "--limit -1: must be above 0"),
        (["train", "--max-steps", "0"], "--max-steps 0: must be above 0, or -1 for whole epochs"),
        (["predict", "--batch-size", "-1"], "--batch-size -1: must be above 0"),
        (["baselines", "--validation-share", "-0.1"], "--validation-share -0.1: must be 0 or more"),
        (["app", "--port", "99999"], "--port 99999: a port is a number from 0 to 65535"),
        (["serve", "--port", "70000"], "--port 70000: a port is a number from 0 to 65535"),
    ],
)
def test_a_size_count_or_limit_out_of_range_is_one_line_before_any_work(argv, message, capsys):
    from helpers.cli import commands as cli_module

    with pytest.raises(SystemExit) as exit:
        cli_module.main([*argv])
    assert exit.value.code == 2 and capsys.readouterr().err == f"error: {message}\n"  # no file was even read


def test_a_bug_keeps_its_traceback(monkeypatch):
    from helpers.cli import commands as cli_module

    def buggy(args):
        raise ValueError("a bug inside a library")

    monkeypatch.setitem(cli_module.STAGES, "leaderboard", ("a stage with a bug", buggy, ()))
    with pytest.raises(ValueError, match="a bug inside a library"):
        cli_module.main(["leaderboard"])


def test_a_frontier_run_where_every_item_failed_is_not_recorded(tmp_path):
    from helpers.offline.fake_openai import FakeOpenAI, Fault

    with FakeOpenAI() as server:
        server.script.extend(Fault(reply="I could not say") for _ in range(5))
        run = frontier(server, tmp_path, "--no-cache", size="5")
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1] == (
        "error: gpt-4o-mini: every one of the 5 items failed, so nothing was recorded"
    )
    assert not (tmp_path / "board.csv").exists()


def test_no_cache_asks_every_time_and_writes_no_cache(tmp_path):
    from helpers.offline.fake_openai import FakeOpenAI

    with FakeOpenAI() as server:
        for _ in range(2):
            assert frontier(server, tmp_path, "--no-cache", "--json", size="4").returncode == 0
        assert len(server.chat_requests()) == 8
    assert not list(tmp_path.rglob("*.sqlite"))


def cached_answers(path) -> int:
    """Replies in the cache, read without creating or locking it."""
    import contextlib
    import sqlite3

    if not path.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
            return db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]
    except sqlite3.Error:
        return 0  # the table is not there yet


@pytest.mark.slow
def test_ctrl_c_stops_a_frontier_run_at_once_and_keeps_every_answer(tmp_path):
    import signal
    import time

    from helpers.offline.fake_openai import FakeOpenAI, Fault

    cache = tmp_path / "cache.sqlite"
    with FakeOpenAI() as server:
        server.script.extend(Fault(delay=0.5) for _ in range(40))  # a slow server: 10 s for the whole run
        run = frontier(server, tmp_path, "--concurrency", "2", "--cache", str(cache), size="40", wait=False)
        deadline = time.time() + 120
        while cached_answers(cache) < 4 and run.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert run.poll() is None, f"the run ended before it could be interrupted: {run.communicate()}"
        run.send_signal(signal.SIGINT)
        interrupted = time.time()
        _, err = run.communicate(timeout=30)
        seconds = time.time() - interrupted
        answered = cached_answers(cache)
        resumed = frontier(server, tmp_path, "--cache", str(cache), "--json", "--concurrency", "8", size="40")
    assert run.returncode == 130 and seconds < 5 and "Traceback" not in err
    lines = [line.split("\r")[-1] for line in err.strip().splitlines()]  # the last state of each line
    resume = f"gpt-4o-mini: interrupted; the {answered} answers so far are kept in {cache}: run again to carry on"
    assert resume in lines and lines[-1] == "interrupted"
    assert 4 <= answered < 40
    row = json.loads(resumed.stdout)
    assert (row["cached"], row["calls"], row["n"]) == (answered, 40 - answered, 40)


def test_split_says_which_items_balancing_cannot_place(tmp_path, write_jsonl):
    rows = [json.loads(line) for line in paths.TRAIN_SAMPLE.read_text().splitlines()[:40]]
    rows[0]["price"] = 0.5  # curate keeps $0.50; the course's balancing has no slot for it
    items = write_jsonl(tmp_path / "items.jsonl", rows)
    run = cli(
        "split",
        "--items",
        str(items),
        "--train-size",
        "30",
        "--test-size",
        "5",
        "--train-out",
        str(tmp_path / "tr.jsonl"),
        "--test-out",
        str(tmp_path / "te.jsonl"),
    )
    assert "balance: left out 1 items whose price rounds to no whole dollar from $1 to $999 (such as $0.50)" in (
        run.stdout
    )
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {
        "items": 40,
        "duplicates": 0,
        "balanced": 39,
        "train": 30,
        "test": 5,
        "unused": 4,
    }


def test_a_stage_does_not_overwrite_its_output_unless_told(tmp_path, tiny_dir):
    out = tmp_path / "items.jsonl"
    args = ["curate", "--input", str(paths.RAW_SAMPLE), "--tokenizer", str(tiny_dir), "--out", str(out)]
    cli(*args)
    before = out.read_bytes()
    run = cli(*args, ok=False)
    assert run.returncode == 2
    assert run.stderr == f"error: {out} exists: pass --overwrite to replace it, or choose another path\n"
    assert out.read_bytes() == before
    cli(*args, "--overwrite")


@pytest.mark.parametrize("problem", ["folder", "latin-1"])
def test_a_predictions_file_that_cannot_be_read_is_one_line(tmp_path, problem):
    path = tmp_path / "guesses.csv"
    if problem == "folder":
        path.mkdir()
        expected = f"error: {path} is a folder, not a CSV file\n"
    else:
        path.write_bytes("title,price\ncafé,12\n".encode("latin-1"))
        expected = f"error: {path} is not UTF-8 text (byte 15): save it as UTF-8\n"
    run = cli("evaluate", "--predictions", str(path), "--size", "1", ok=False)
    assert run.returncode == 2 and run.stderr == expected


def test_a_hub_data_set_out_of_reach_is_one_line(tmp_path, tiny_model_dir):
    run = cli(
        "train",
        "--train",
        "nobody/no-such-data",
        "--base-model",
        str(tiny_model_dir),
        "--output",
        str(tmp_path / "run"),
        ok=False,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("error: cannot load data set 'nobody/no-such-data' (train): ")


def test_every_flag_of_every_stage_says_what_it_does():
    from helpers.cli.commands import parser

    _, stages = parser()
    undescribed = [
        f"{name} {action.option_strings[0]}"
        for name, stage in stages.items()
        for action in stage._actions
        if action.option_strings and not (action.help or "").strip() or (action.help or "").startswith("(default")
    ]
    assert undescribed == []


def _flags_help(stage: str) -> list[str]:
    from helpers.cli.commands import parser

    return [action.help for action in parser()[1][stage]._actions if action.help and action.option_strings]


@pytest.mark.parametrize("stage", STAGES)
def test_every_stages_help_shows_each_flags_description_as_written(stage):
    """A "%" in a description is shown as "%", not read as a format code (`train`'s "30% slower" once
    printed a Python dict)."""
    run = cli(stage, "--help")
    assert run.returncode == 0 and run.stderr == "" and run.stdout.startswith(f"usage: python -m helpers {stage}")
    shown = "".join(run.stdout.split())  # argparse wraps lines, and breaks at hyphens
    missing = [text for text in _flags_help(stage) if "".join(text.replace("%%", "%").split()) not in shown]
    assert missing == [] and "'option_strings'" not in run.stdout


def test_a_flag_with_few_valid_values_lists_them():
    run = cli("predict", "--help")
    assert "--quantization {4bit,8bit,none}" in run.stdout and "--preset {course-2024,course-2025}" in run.stdout
    assert "--models {random,constant," in cli("baselines", "--help").stdout


def test_a_mistyped_flag_is_one_line_that_says_where_the_usage_is():
    run = cli("baselines", "--foo", ok=False)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == "error: unrecognized argument --foo: see python -m helpers baselines --help\n"


def test_a_mistyped_flag_names_the_flag_nearest_to_it():
    run = cli("split", "--train-szie", "100", ok=False)
    assert run.returncode == 2
    assert run.stderr == (
        "error: unrecognized argument --train-szie (did you mean --train-size?): see python -m helpers split --help\n"
    )


def test_a_value_a_flag_does_not_take_is_one_line():
    run = cli("split", "--train-size", "many", ok=False)
    assert run.returncode == 2
    assert run.stderr == (
        "error: argument --train-size: invalid int value: 'many': see python -m helpers split --help\n"
    )


def test_a_mistyped_stage_says_which_stage_was_meant():
    run = cli("baseline", "--size", "10", ok=False)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == "error: unknown stage 'baseline': did you mean baselines?\n"


def test_leaderboard_charts_beside_the_main_jobs_chart_not_over_it(tmp_path):
    board, results = tmp_path / "board.csv", tmp_path / "results"
    (tmp_path / "guesses.csv").write_text("title,price\n" + "x,100\n" * 10)
    cli("evaluate", "--predictions", str(tmp_path / "guesses.csv"), "--size", "10", "--leaderboard", str(board))
    main_jobs = results / "charts" / "leaderboard.png"
    main_jobs.parent.mkdir(parents=True)
    main_jobs.write_bytes(b"the main job's chart")
    command = [sys.executable, "-m", "helpers", "leaderboard", "--path", str(board)]
    run = subprocess.run(command, capture_output=True, text=True, env={**ENV, "PRICER_RESULTS": str(results)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == f"chart: {results / 'charts' / 'leaderboard-stage.png'}"
    assert (results / "charts" / "leaderboard-stage.png").stat().st_size > 0
    assert main_jobs.read_bytes() == b"the main job's chart"


def test_fork_run_twice_says_the_notebooks_already_point_there(tmp_path):
    from helpers.notebook import REPO, colab_url

    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "notebook.py").write_text(f'REPO = "{REPO}"\n')
    (tmp_path / "notebooks" / "week6").mkdir(parents=True)
    (tmp_path / "notebooks" / "week6" / "day1.py").write_text(f"# [badge]({colab_url(REPO, 'week6/day1.ipynb')})\n")
    first = cli("fork", "learner/my-pricer", "--root", str(tmp_path))
    assert first.stdout.splitlines()[-1] == "2 files now point at learner/my-pricer: commit and push them to your fork"
    again = cli("fork", "learner/my-pricer", "--root", str(tmp_path))
    assert again.stdout == "0 files changed: every notebook already points at learner/my-pricer\n"


def test_deals_hunts_offline_and_never_raises_a_deal_twice(tmp_path, smol_service, monkeypatch):
    """`deals` on a fresh clone: stand-ins for the feeds and the chat model, the session's pricing
    service as the specialist; one JSON line a deal priced; the raised deal remembered in the
    store, and the next hunt (the tool-calling planner this time) raises another."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PUSHOVER_USER", "PUSHOVER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PRICER_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("PRICER_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("PRICER_FEED_PORT", str(free_port()))  # one port for both hunts: the same deals' URLs
    quick = ["--train-size", "300", "--vector-items", "40", "--validation-size", "10", "--delay", "0"]
    quick += ["--specialist", smol_service.url, "--specialist-is", "SmolLM2 with a random adapter", "--threshold", "0"]
    first = here("deals", *quick)
    assert first.returncode == 0, first.stderr[-2000:]
    rows = [json.loads(line) for line in first.stdout.splitlines()]
    assert 1 <= len(rows) <= 5 and all(rows[0]["discount"] >= row["discount"] for row in rows)
    assert set(rows[0]) == {"description", "price", "estimate", "discount", "url", "raised", "stand_ins"}
    assert any("simulated" in note for note in rows[0]["stand_ins"])
    assert "the specialist is SmolLM2 with a random adapter" in rows[0]["stand_ins"]
    [raised] = [row for row in rows if row["raised"]]
    second = here("deals", *quick, "--autonomous")
    assert second.returncode == 0, second.stderr[-2000:]
    again = [json.loads(line) for line in second.stdout.splitlines()]
    assert raised["url"] not in {row["url"] for row in again}  # the scanner left the remembered deal out
    memory = [json.loads(line) for line in (tmp_path / "store" / "deals" / "memory.jsonl").read_text().splitlines()]
    urls = [entry["deal"]["url"] for entry in memory]
    assert urls[0] == raised["url"] and len(urls) == len(set(urls)) == 2


def test_deals_with_a_training_file_that_is_not_there_is_one_line(tmp_path):
    run = here("deals", "--train", str(tmp_path / "missing.jsonl"))
    assert run.returncode == 2 and run.stderr.startswith("error: ") and len(run.stderr.splitlines()) == 1
