"""Fine-tune a frontier model through the OpenAI fine-tuning API, and follow the job.

The course's recipe: 200 training and 50 validation items in the chat format (system, user
as in the frontier pricer, assistant "Price is $N.00"), one epoch on gpt-4o-mini, seed 42,
suffix "pricer", optionally reporting to Weights & Biases (project "gpt-pricer").

The job's id is saved in the work folder as soon as it exists; running again after a restart
follows that job (printing only events not yet seen) instead of paying for a new one.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from helpers.core.items import Item
from helpers.language.frontier import FrontierAuthError, guarded, make_client, refusal
from helpers.plumbing import paths
from helpers.plumbing.errors import DataError, PricerError
from helpers.plumbing.files import atomic_open, read_text
from helpers.plumbing.secrets import redact
from helpers.plumbing.store import Store

TERMINAL = {"succeeded", "failed", "cancelled"}
WEEK_7 = "notebooks/week7/day3_4_train.ipynb"
STORE_KEY = "finetune_openai/job.json"
TRAINING_PRICE_PER_MILLION = 3.00  # US dollars per training token, gpt-4o-mini, as published


class FineTuningRefused(PricerError):
    """The endpoint will not fine-tune for this key: the course's week 6 day 5 cannot be run."""


@contextlib.contextmanager
def refusal_explained(base_url: str, what: str) -> Iterator[None]:
    """A refused request inside, as one line that says why and where to go instead: OpenAI closed
    self-serve fine-tuning to new accounts in May 2026 (a 403 at `jobs.create`). A refused key
    is a FrontierAuthError. Neither shows the server's reply, which may echo the key."""
    import openai

    try:
        yield
        return
    except openai.PermissionDeniedError:
        problem: PricerError = FineTuningRefused(
            f"{redact(base_url)} refused {what} for this key (403 permission denied): OpenAI closed self-serve "
            f"fine-tuning to new accounts in May 2026. Week 7 fine-tunes an open model instead: {WEEK_7}"
        )
    except openai.AuthenticationError as error:
        problem = FrontierAuthError(refusal(error, base_url, what))
    raise problem from None  # the server's reply, which may echo the key, is never shown


@dataclass
class FineTuneConfig:
    """One fine-tuning run, with the course's choices as defaults."""

    base_model: str = "gpt-4o-mini-2024-07-18"  # the OpenAI model fine-tuned
    train_size: int = 200  # training examples sent (the course: 200)
    validation_size: int = 50  # validation examples sent
    n_epochs: int = 1  # passes over the training examples
    seed: int = 42  # the job's seed, and the sample's
    suffix: str = "pricer"  # added to the fine-tuned model's name
    wandb: bool = False  # needs the W&B integration enabled in your OpenAI organisation
    wandb_project: str = "gpt-pricer"  # the W&B project OpenAI reports to
    workdir: str = field(
        default_factory=lambda: str(paths.results("finetune_openai"))
    )  # where the JSONL files and the job's state are kept (to follow it again)
    poll_seconds: float = 10.0  # seconds between two looks at the job
    base_url: str | None = None  # an OpenAI-compatible server (default: OPENAI_BASE_URL, else OpenAI itself)
    api_key: str | None = field(default=None, metadata={"cli": False}, repr=False)


def chat_example(item: Item) -> dict[str, Any]:
    return item.prompt_format.chat_example(item.text, item.price)


def write_jsonl(items: Sequence[Item], path: str | Path) -> Path:
    path = Path(path)
    with atomic_open(path, "w") as handle:
        for item in items:
            handle.write(json.dumps(chat_example(item), ensure_ascii=False) + "\n")
    return path


@dataclass
class FileCheck:
    """What `check_jsonl` found: count, problems by line, a token estimate."""

    path: str
    lines: int = 0
    problems: list[str] = field(default_factory=list)
    estimated_tokens: int = 0

    @property
    def ok(self) -> bool:
        return self.lines > 0 and not self.problems

    def __str__(self) -> str:
        verdict = (
            "ok"
            if self.ok
            else f"{len(self.problems)} problems, first: {self.problems[0] if self.problems else 'empty file'}"
        )
        return f"{Path(self.path).name}: {self.lines} examples, about {self.estimated_tokens:,} tokens, {verdict}"


def check_jsonl(path: str | Path) -> FileCheck:
    """Every line a chat example: system, user, then assistant, each with text content."""
    check = FileCheck(str(path))
    text = read_text(path, "JSONL file")
    for number, line in enumerate(text.removesuffix("\n").split("\n") if text else [], start=1):
        check.lines += 1
        try:
            example = json.loads(line)
        except json.JSONDecodeError:
            check.problems.append(f"line {number}: not JSON")
            continue
        messages = example.get("messages") if isinstance(example, dict) else None
        if not isinstance(messages, list) or not messages:
            check.problems.append(f"line {number}: no messages list")
            continue
        roles = [m.get("role") for m in messages if isinstance(m, dict)]
        if roles != ["system", "user", "assistant"]:
            check.problems.append(f"line {number}: roles {roles}, expected system, user, assistant")
        elif not all(isinstance(m.get("content"), str) and m["content"] for m in messages):
            check.problems.append(f"line {number}: a message has no text")
        else:
            # About four characters a token, plus a few tokens of framing per message.
            check.estimated_tokens += sum(len(m["content"]) // 4 + 4 for m in messages)
    return check


def training_cost(check: FileCheck, epochs: int) -> float:
    return check.estimated_tokens * epochs * TRAINING_PRICE_PER_MILLION / 1_000_000


@dataclass
class JobState:
    """What survives a restart: the job, its files, and the last event printed."""

    job_id: str
    training_file: str
    validation_file: str | None = None
    status: str = "created"
    fine_tuned_model: str | None = None
    last_event_id: str | None = None

    def save(self, path: Path) -> None:
        with atomic_open(path, "w") as handle:
            handle.write(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> JobState | None:
        if not path.exists():
            return None
        try:
            return cls(**json.loads(read_text(path, "job file")))
        except (json.JSONDecodeError, TypeError):
            raise DataError(f"{path} is not a saved fine-tuning job: move it aside to start a new job") from None


class FineTuner:
    """Write, check, upload, create, follow: each step callable on its own from a notebook. With
    a `store`, the job's file goes there too, so that a new machine follows the same job."""

    def __init__(
        self, config: FineTuneConfig | None = None, printer: Callable[[str], None] = print, store: Store | None = None
    ):
        self.config = config or FineTuneConfig()
        self.store = store
        self.client = make_client(self.config.base_url, self.config.api_key)
        self.base_url = str(self.client.base_url).rstrip("/")
        self.workdir = Path(self.config.workdir)
        self.state_path = self.workdir / "job.json"
        self.print = printer

    def write_files(self, train: Sequence[Item]) -> tuple[Path, Path]:
        """The course's split: the first `train_size` items train, the next `validation_size` validate."""
        size, extra = self.config.train_size, self.config.validation_size
        if len(train) < size + extra:
            raise DataError(f"need {size + extra} training items, have {len(train)}")
        train_path = write_jsonl(train[:size], self.workdir / "train.jsonl")
        validation_path = write_jsonl(train[size : size + extra], self.workdir / "validation.jsonl")
        for path in (train_path, validation_path):
            check = check_jsonl(path)
            self.print(str(check))
            if not check.ok:
                raise DataError(str(check))
        cost = training_cost(check_jsonl(train_path), self.config.n_epochs)
        self.print(f"Estimated training cost: ${cost:.2f} for {self.config.n_epochs} epoch(s)")
        return train_path, validation_path

    def upload(self, path: Path) -> str:
        content = path.read_bytes()
        with refusal_explained(self.base_url, "a file upload for fine-tuning"):
            uploaded = self.client.files.create(file=(path.name, content), purpose="fine-tune")
        self.print(f"Uploaded {path.name} as {uploaded.id}")
        return uploaded.id

    def create_job(self, training_file: str, validation_file: str | None) -> JobState:
        integrations = (
            [{"type": "wandb", "wandb": {"project": self.config.wandb_project}}] if self.config.wandb else None
        )
        extra: dict[str, Any] = {"integrations": integrations} if integrations else {}
        if validation_file:
            extra["validation_file"] = validation_file
        with refusal_explained(self.base_url, "a fine-tuning job"):
            job = self.client.fine_tuning.jobs.create(
                training_file=training_file,
                model=self.config.base_model,
                seed=self.config.seed,
                hyperparameters={"n_epochs": self.config.n_epochs},
                suffix=self.config.suffix,
                **extra,
            )
        state = JobState(job.id, training_file, validation_file, status=job.status)
        self.save(state)
        self.print(f"Created job {job.id} ({job.status}); saved in {self.state_path}")
        return state

    def save(self, state: JobState) -> None:
        state.save(self.state_path)
        if self.store is not None:
            self.store.put(self.state_path, STORE_KEY)

    def saved(self) -> JobState | None:
        """The job this folder (or, after a lost runtime, the store) knows of."""
        if not self.state_path.exists() and self.store is not None:
            found = self.store.get(STORE_KEY)
            if found:
                self.state_path.parent.mkdir(parents=True, exist_ok=True)
                self.state_path.write_bytes(found.read_bytes())
        return JobState.load(self.state_path)

    def new_events(self, state: JobState) -> list[Any]:
        """Events after the last one printed, oldest first (the API lists newest first)."""
        fresh = []
        for event in self.client.fine_tuning.jobs.list_events(state.job_id, limit=50):
            if event.id == state.last_event_id:
                break
            fresh.append(event)
        return list(reversed(fresh))

    def follow(self, state: JobState | None = None, max_polls: int | None = None) -> JobState:
        """Print new events until the job ends; safe to stop and call again."""
        state = state or self.saved()
        if state is None:
            raise DataError(f"no job to follow: {self.state_path} does not exist")
        polls = 0
        while True:
            job = guarded(self.base_url, "fine-tuning", self.client.fine_tuning.jobs.retrieve, state.job_id)
            events = guarded(self.base_url, "fine-tuning", self.new_events, state)
            for event in events:
                self.print(f"{time.strftime('%H:%M:%S', time.localtime(event.created_at))} {event.message}")
                state.last_event_id = event.id
            state.status, state.fine_tuned_model = job.status, job.fine_tuned_model
            self.save(state)
            polls += 1
            if job.status in TERMINAL:
                self.print(f"Job {job.id} {job.status}" + (f": {job.fine_tuned_model}" if job.fine_tuned_model else ""))
                return state
            if max_polls is not None and polls >= max_polls:
                return state
            time.sleep(self.config.poll_seconds)

    def follow_job(self, job_id: str) -> JobState:
        """Follow a job by its id, e.g. one started elsewhere; events already printed here are skipped."""
        state = self.saved()
        if state is None or state.job_id != job_id:
            job = guarded(self.base_url, "fine-tuning", self.client.fine_tuning.jobs.retrieve, job_id)
            state = JobState(job.id, job.training_file, job.validation_file, status=job.status)
        return self.follow(state)

    def run(self, train: Sequence[Item]) -> JobState:
        """The whole recipe, or, when a saved job exists, following it again."""
        state = self.saved()
        if state is not None:
            self.print(f"Resuming job {state.job_id} from {self.state_path}")
            return self.follow(state)
        train_path, validation_path = self.write_files(train)
        state = self.create_job(self.upload(train_path), self.upload(validation_path))
        return self.follow(state)
