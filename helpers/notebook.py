"""What the notebooks share, so that each one stays a narration: set-up, the store, their inputs,
and `agree`, which sets a notebook's own version of a step beside helpers'.

Each Colab notebook runs on a machine of its own, so a notebook reads what an earlier one made
from the store (`helpers.plumbing.store`: a Drive folder, your hub namespace, or locally the results
folder) and writes what a later one needs back there. In full mode an input the store lacks is
a one-line message naming the notebook that makes it and the course's public fallback; it never
falls back to the bundled sample unasked. Smoke mode (`PRICER_SMOKE=1`) runs a notebook offline
on the bundled sample in seconds, with a folder store: the tests run every notebook that way.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

from helpers.core.items import Item
from helpers.core.tester import TEST_SIZE
from helpers.data.hub_datasets import load_hub_items
from helpers.data.item_files import load_items, save_items
from helpers.language.training import LATEST_RUN, TrainConfig, train
from helpers.offline.deal_feed import DealFeed
from helpers.offline.fake_openai import FakeOpenAI
from helpers.offline.tiny import TinyConfig, build
from helpers.plumbing import paths
from helpers.plumbing.errors import PricerError
from helpers.plumbing.files import cannot_write
from helpers.plumbing.secrets import describe, get_secret, redact
from helpers.plumbing.store import Store, missing, open_store
from helpers.presets import BASE_MODEL, preset
from helpers.week8.deals import COURSE_FEEDS
from helpers.week8.service import ServeConfig, Service

REPO = "pricer-course/pricer"  # GitHub owner/name that the badges and set-up cells point at


def colab_url(repo: str, notebook: str = "") -> str:
    """The Colab badge's address of `notebook` ("week6/day1_explore.ipynb") in `repo`. The one
    owner of the badge's and the set-up cell's text that name the repository: notebooks/sync.py
    writes them from these, and `fork` rewrites them with these."""
    return f"https://colab.research.google.com/github/{repo}/blob/main/notebooks/{notebook}"


def repo_line(repo: str) -> str:
    """The assignment that names the repository, here and in every notebook's set-up cell."""
    return f'REPO = "{repo}"'


DRIVE = "/content/drive/MyDrive/pricer"  # the store when a Colab notebook chooses STORE = "drive"
CURATE = "week6/day2_curate.ipynb"
TRAIN = "week7/day3_4_train.ipynb"


SMOKE_RESULTS = paths.ROOT / "results" / "smoke"  # smoke runs' own results, store and leaderboard


def smoke() -> bool:
    return os.environ.get("PRICER_SMOKE") == "1"


def setup(choice: str | None = None) -> tuple[bool, Store]:
    """What every notebook does first, once the package is importable: charts inline, the store
    opened ("drive" mounts Google Drive, "hf" is your hub namespace, None: PRICER_STORE, else the
    results folder), a hub login when HF_TOKEN is set, and a mistake in the input shown as one
    line rather than a traceback. Returns (smoke mode, the store), and the notebook hands the
    store to whatever reads or writes it. Secrets come from the environment, a .env file or
    Colab's secrets panel, never from the notebook."""
    import matplotlib

    matplotlib.rcParams["text.parse_math"] = False  # a "$" in a chart's title is a dollar, not mathematics
    shell = _shell()
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")
        from matplotlib.figure import Figure

        shell.display_formatter.formatters["image/png"].for_type(Figure, compact_png)
        shell.set_custom_exc((PricerError, OSError), _one_line)
    if smoke():
        choice = None  # a folder: PRICER_STORE if the tests set one, else the results folder
        if not os.environ.get("PRICER_RESULTS") and not os.environ.get("PRICER_STORE"):
            os.environ["PRICER_RESULTS"] = str(SMOKE_RESULTS)  # a pipeline check never touches real results
    if choice == "drive":
        from google.colab import drive  # type: ignore[import-not-found]

        drive.mount("/content/drive")
    import sys

    if "google.colab" not in sys.modules:  # the setup cell cloned and installed nothing: say what is used
        print(f"Locally: the helpers package from {paths.ROOT} (installed by `bash .ci/setup`), nothing cloned")
    print(
        "Smoke mode: bundled sample, offline"
        if smoke()
        else "Full mode: the real data and models from the hub (offline? restart with PRICER_SMOKE=1)"
    )
    print(describe("HF_TOKEN"))
    token = get_secret("HF_TOKEN")
    if token and not smoke():
        from huggingface_hub import login

        login(token, add_to_git_credential=False)
    store = open_store({"drive": DRIVE, "hf": "hf"}.get(choice or "", None))
    print(f"Store: {store}")
    return smoke(), store


def compact_png(figure) -> bytes:
    """A chart as the notebook shows it: 72 dpi and 48 colours, about a sixth of the bytes of
    matplotlib's own PNG and the same to the eye, so that a notebook of a dozen charts stays a
    few hundred kilobytes when saved."""
    import io

    from PIL import Image

    drawn, small = io.BytesIO(), io.BytesIO()
    figure.savefig(drawn, format="png", dpi=72, bbox_inches="tight", facecolor="white")
    Image.open(drawn).convert("RGB").quantize(colors=48).save(small, format="png", optimize=True)
    return small.getvalue()


def agree(what: str, mine: Sequence, theirs: Sequence) -> None:
    """Set the notebook's own version beside helpers' (the faster one, or the one the command line
    runs), value by value, and say in one line whether they agree. A learner who has edited the
    notebook's version sees where it now differs; the test of the course's run asserts that the
    notebooks, as committed, agree."""
    mine, theirs = list(mine), list(theirs)
    differ = [i for i, (a, b) in enumerate(zip(mine, theirs)) if not _same(a, b)]
    if len(mine) != len(theirs):
        print(f"differ: {what}: {len(mine)} values here, {len(theirs)} from helpers")
    elif not differ:
        print(f"agree: {what}: the same" + (f" on all {len(mine):,}" if len(mine) > 1 else ""))
    else:
        here, there = _shown(mine[differ[0]], theirs[differ[0]])
        where = f"the first, #{differ[0] + 1}: {here} here, {there} in helpers"
        print(f"differ: {what}: {len(differ):,} of {len(mine):,} differ; {where}")


def _same(a, b) -> bool:
    """Equal, where numbers may differ in the last digits: a batch and one item at a time add up
    in other orders. Lists, tuples and dicts are compared item by item."""
    a, b = _comparable(a), _comparable(b)
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-3, abs_tol=0.01)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    return a == b


def _comparable(value):
    """A config object as its dict (LoraConfig, SFTConfig, BitsAndBytesConfig), else the value."""
    return value.to_dict() if hasattr(value, "to_dict") and not isinstance(value, Item) else value


def _shown(a, b) -> tuple[str, str]:
    """The two values, or where two configs' dicts first differ."""
    a, b = _comparable(a), _comparable(b)
    if isinstance(a, dict) and isinstance(b, dict):
        key = next(k for k in [*a, *b] if k not in a or k not in b or not _same(a[k], b[k]))
        return (f"{key}={a[key]!r}" if key in a else f"no {key}"), (f"{key}={b[key]!r}" if key in b else f"no {key}")
    return repr(a)[:80], repr(b)[:80]


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _one_line(shell, kind, error, traceback, tb_offset=None):
    """A user's mistake, or a disk that cannot take a file (a full or read-only Drive), in one
    line; any other error is shown whole, as IPython would."""
    line = str(error) if isinstance(error, PricerError) else cannot_write(error)
    if line is None:
        return shell.showtraceback((kind, error, traceback), tb_offset=tb_offset)
    print(f"error: {redact(line)}")


VALIDATION_SAMPLE = 250  # in smoke mode with an empty store: the bundled training items held out last
SMOKE_SIZE = 50  # in smoke mode, the items slow models (run on the CPU) are scored on


# What stood in for a model in smoke mode, said wherever its figure appears
PIPELINE_CHECK = "pipeline check: tiny random model"  # week 7's rows, week 8's specialist
OFFLINE_CHAT = "offline stand-in: rule-based replies"  # the frontier models' rows
HUMAN_STAND_IN = "smoke stand-in: the training mean"  # the human baseline's row
WITH_STAND_INS = "smoke: offline stand-ins among its members"  # a blend of the above


def labelled(title: str, stand_in: str = PIPELINE_CHECK) -> str:
    """A model's title on the leaderboard; in smoke mode it says what stood in for the model,
    so that no one takes a stand-in's figures for a fine-tuned Llama's or for GPT-4o's."""
    return f"{title} ({stand_in})" if smoke() else title


def scored_size() -> int:
    """How many test items the open models and week 8 are scored on, and how many validation
    items every model prices for week 8's ensemble: the Tester's 250, or 50 in smoke mode."""
    return SMOKE_SIZE if smoke() else TEST_SIZE


def curated(split: str, store: Store, data: str | None = None) -> list[Item]:
    """The curated items of `split` ("train", "validation" or "test"): week 6 day 2's from the
    store, or with `data` a preset's ("course-2024", "course-2025") from the hub (course-2024 has
    no validation split: an empty list). Validation items are the first `scored_size()`: those
    every model prices, and week 8's ensemble is fitted on. In smoke mode, when the store has
    none, the bundled sample stands in, and says so: its last 250 training items are then the
    validation items, and no longer training items."""
    items, where = _curated(split, store, data)
    if split == "validation" and len(items) > scored_size():
        where = f"{where}: the first {scored_size():,} of {len(items):,}, which every model prices for week 8"
        items = items[: scored_size()]
    print(f"{split}: {len(items):,} items from {where}")
    return items


def _curated(split: str, store: Store, data: str | None) -> tuple[list[Item], str]:
    if data:
        chosen = preset(data)
        if split == "validation" and not chosen.validation:
            print(f"validation: none in {chosen.dataset} ({data}); week 8's ensemble needs day 2's or course-2025's")
            return [], chosen.dataset
        return load_hub_items(chosen.dataset, split, chosen.prompt), f"{chosen.dataset} ({data})"
    found = store.get(f"{split}.jsonl")
    if found is None and not smoke():
        raise missing(store, f"{split}.jsonl", CURATE, "set DATA = 'course-2025' to use the course's curated data set")
    if found:
        return load_items(found)[0], str(found)
    path = paths.TEST_SAMPLE if split == "test" else paths.TRAIN_SAMPLE
    items = load_items(path)[0]
    if split != "test":
        items = items[-VALIDATION_SAMPLE:] if split == "validation" else items[:-VALIDATION_SAMPLE]
    return items, f"{path} (the bundled sample: the store has none)"


def save_curated(store: Store, train: list[Item], test: list[Item], validation: list[Item] | None = None) -> None:
    """Week 6 day 2's output: saved in the results folder and put in the store for later notebooks."""
    for name, items in (("train", train), ("validation", validation), ("test", test)):
        if items is None:
            continue
        local = save_items(items, paths.results(f"{name}.jsonl"))
        store.put(local, f"{name}.jsonl")
        print(f"{len(items):,} {name} items in the store {store} as {name}.jsonl")


def stored_run(store: Store) -> str | None:
    """The name of the newest run that week 7 days 3-4 put in the store, if any."""
    run = store.read_text(LATEST_RUN)
    return run.strip() if run else None


def latest_adapter(store: Store) -> str:
    """The adapter of the newest run in the store, as a local folder."""
    run = stored_run(store)
    found = store.get(f"runs/{run}/adapter") if run else None
    if found is None:
        raise missing(store, "a trained adapter", TRAIN, "set ADAPTER = PRESET for the instructor's adapter")
    print(f"adapter: {found} (run {run}, from the store)")
    return str(found)


def openai_endpoint() -> tuple[str | None, str | None]:
    """(base URL, key) for the frontier notebooks. None, None: OPENAI_BASE_URL and OPENAI_API_KEY
    from the environment, .env or Colab. In smoke mode: a loopback server whose replies are a
    number derived from the prompt, not a model's guess, so the scores test the code only."""
    if not smoke():
        return None, None

    server = FakeOpenAI().start()  # a daemon thread: it lives as long as the kernel
    return server.url, server.api_key


def base_model(name: str = BASE_MODEL, with_model: bool = True) -> str:
    """`name` (Llama 3.1 8B unless a preset says otherwise); in smoke mode the tiny offline
    stand-in (a locally trained tokenizer and, `with_model`, a random Llama-shaped model)."""
    if not smoke():
        return name

    return str(build(TinyConfig(output=str(paths.results("tiny")), with_model=with_model)))


def training_data(store: Store, data: str | None = None) -> str:
    """What week 7 trains on: week 6 day 2's items from the store, or with `data` a preset's
    training data set on the hub."""
    if data:
        chosen = preset(data)
        return chosen.prompts_dataset or chosen.dataset
    found = store.get("train.jsonl")
    if found is None and not smoke():
        raise missing(store, "train.jsonl", CURATE, "set DATA = PRESET to train on the course's data set")
    if found is None:  # the bundled sample's training items, less those held out for validation
        found = save_items(curated("train", store), paths.results("bundled-train.jsonl"))
    return str(found)


def smoke_adapter(store: Store, base: str) -> None:
    """In smoke mode, on a machine whose store holds no run (a notebook run alone): a tiny
    adapter trained on the spot (seconds) into the store, as days 3-4 would have."""
    if smoke() and stored_run(store) is None:
        output = str(paths.results("pricer-smoke"))
        config = TrainConfig.pipeline_check(base_model=base, train=training_data(store), output=output)
        config.overwrite, config.store = True, store.spec
        train(config)


def adapter(store: Store, choice: str | None = None) -> tuple[str, str | None]:
    """(adapter, revision) for week 7 day 5: the newest run in the store, or with `choice` a
    preset's adapter (the instructor's) at its fixed revision."""
    if choice:
        chosen = preset(choice)
        return chosen.adapter, chosen.revision
    return latest_adapter(store), None


def deal_feeds() -> list[str]:
    """The RSS feeds week 8's scanner reads: the course's (dealnews.com); in smoke mode simulated
    ones on loopback, real products of the bundled sample at seeded prices, each saying so."""
    if not smoke():
        return list(COURSE_FEEDS)
    feed = DealFeed().start()  # a daemon thread: it lives as long as the kernel
    print(f"Smoke mode: {len(feed.urls)} simulated deal feeds on {feed.base} (real products, simulated prices)")
    return feed.urls


def pricing_service(store: Store, url: str | None = None, choice: str | None = None, data: str | None = None) -> str:
    """The address of the fine-tuned pricer as a service: `url`, where one runs already (day 1's,
    `python -m helpers serve` on a GPU machine); else one started here, in the background for as
    long as the kernel lives, from the newest adapter in the store or a preset's (`choice`). In
    smoke mode the tiny pipeline-check model is served: its prices test the plumbing only."""
    import atexit

    if url:
        return url
    name, revision = adapter(store, choice)
    base = base_model(preset(choice or data or "course-2024").base_model)
    service = Service(ServeConfig(base_model=base, adapter=name, revision=revision, port=0))
    print(f"starting the pricing service: {name} on {base} (transformers serve; a minute or two for a large model)")
    service.start()
    atexit.register(service.stop)
    print(f"pricing service: {service.url}, model {service.model}")
    return service.url
