"""Training checkpoints: which one a run can resume from, and whether it belongs to this run.

transformers writes a checkpoint's files one after the other into `checkpoint-<step>/` and
the trainer state last, so a run killed while saving leaves a folder without it, or with a
file cut short. Resuming picks the newest checkpoint whose files are all whole, says which it
passed over and why, and refuses one that was trained with another base model or LoRA shape.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

from helpers.plumbing.errors import ConfigError

STEP = re.compile(r"^checkpoint-(\d+)$")
TRAINED_ON = "trained_on.txt"  # beside an adapter: the leaderboard key of the rows it learnt from
NEEDED = ("trainer_state.json", "adapter_config.json", "adapter_model.safetensors", "optimizer.pt", "scheduler.pt")


def checkpoints(folder: str | Path) -> list[Path]:
    """The checkpoint folders in `folder`, newest (highest step) first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [path for path in folder.iterdir() if path.is_dir() and STEP.match(path.name)]
    return sorted(found, key=lambda path: int(STEP.match(path.name)[1]), reverse=True)


def why_broken(checkpoint: Path) -> str | None:
    """None for a checkpoint whose files are all there and whole, else what is wrong with it."""
    missing = [name for name in NEEDED if not (checkpoint / name).is_file()]
    if missing:
        return f"no {', '.join(missing)}"
    try:
        state = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "a JSON file is cut short"
    if not isinstance(state, dict) or "global_step" not in state:
        return "trainer_state.json holds no step"
    broken = adapter_broken(checkpoint)
    if broken:
        return broken
    for name in ("optimizer.pt", "scheduler.pt"):  # torch saves zip archives: check every member
        try:
            with zipfile.ZipFile(checkpoint / name) as archive:
                if archive.testzip() is not None:
                    return f"{name} is corrupt"
        except zipfile.BadZipFile:
            return f"{name} is cut short"
    return None


def adapter_broken(folder: Path) -> str | None:
    """None for an adapter whose two files are whole, else what is wrong: a copy cut short (a
    full disk, a Drive sync stopped half way) would otherwise be a traceback from peft."""
    settings = folder / "adapter_config.json"
    if not settings.is_file():
        return "no adapter_config.json"
    try:
        config = json.loads(settings.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "adapter_config.json is cut short"
    if not isinstance(config, dict):
        return "adapter_config.json is no adapter's settings"
    weights = folder / "adapter_model.safetensors"
    if not weights.is_file():
        return None if (folder / "adapter_model.bin").is_file() else "no adapter_model.safetensors"
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(weights), framework="pt") as opened:
            opened.keys()
    except (SafetensorError, OSError):
        return "adapter_model.safetensors is cut short or corrupt"
    return None


def newest_intact(folder: str | Path, say=print) -> Path | None:
    """The newest checkpoint in `folder` that a run can resume from; each newer one that a kill
    left partial or corrupt is passed over with a line saying why."""
    for checkpoint in checkpoints(folder):
        problem = why_broken(checkpoint)
        if problem is None:
            return checkpoint
        say(f"skipping {checkpoint}: {problem} (a run stopped while saving leaves one like it)")
    return None


def check_compatible(checkpoint: Path, base_model: str, lora: dict) -> None:
    """Refuse to resume a checkpoint trained with another base model or LoRA shape."""
    saved = json.loads((checkpoint / "adapter_config.json").read_text(encoding="utf-8"))
    differences = []
    if not _same_model(saved.get("base_model_name_or_path"), base_model):
        differences.append(f"base model {saved.get('base_model_name_or_path')!r}, not {base_model!r}")
    for name, wanted in lora.items():
        found = saved.get(name)
        if name == "target_modules":
            found, wanted = sorted(found or []), sorted(wanted)
        if found != wanted:
            differences.append(f"{name} {found}, not {wanted}")
    if differences:
        raise ConfigError(f"cannot resume from {checkpoint}: it was trained with {'; '.join(differences)}")


def _same_model(saved: str | None, wanted: str) -> bool:
    if saved == wanted:
        return True
    return (
        bool(saved)
        and Path(saved).exists()
        and Path(wanted).exists()
        and Path(saved).resolve() == Path(wanted).resolve()
    )


def clear_run(folder: str | Path) -> None:
    """Remove an earlier run's checkpoints and adapter from `folder` (asked for by --overwrite)."""
    folder = Path(folder)
    for checkpoint in checkpoints(folder):
        shutil.rmtree(checkpoint)
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        (folder / name).unlink(missing_ok=True)


def holds_a_run(folder: str | Path) -> bool:
    folder = Path(folder)
    return bool(checkpoints(folder)) or (folder / "adapter_config.json").exists()


def store_key(output: str | Path) -> str:
    """Where a run's checkpoints and adapter live in the store: runs/<its output folder's name>."""
    return f"runs/{Path(output).name}"


def fetch_from_store(store, output: str | Path, say=print) -> Path | None:
    """The newest intact checkpoint the store holds for this run, copied into `output` (a new
    machine has none of its own); None when the store holds none."""
    key = store_key(output)
    for name in sorted((n for n in store.names(key) if STEP.match(n)), key=lambda n: -int(STEP.match(n)[1])):
        found = store.get(f"{key}/{name}")
        if found is None:
            continue
        local = Path(output) / name
        if Path(found).resolve() != local.resolve():
            shutil.rmtree(local, ignore_errors=True)
            shutil.copytree(found, local)
        problem = why_broken(local)
        if problem is None:
            say(f"fetched {name} from the store {store}")
            return local
        say(f"skipping {name} in the store: {problem}")
    return None


def store_callback(store, output: str | Path, say=print):
    """A trainer callback that copies each checkpoint to the store as soon as it is saved (the
    optimizer, scheduler and trainer state with it, so a new machine can carry on), then
    removes the store's older ones. Only the main process does it."""
    from transformers import TrainerCallback

    key = store_key(output)

    class StoreCheckpoints(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            if not state.is_world_process_zero:
                return
            name = f"checkpoint-{state.global_step}"
            store.put(Path(args.output_dir) / name, f"{key}/{name}")
            for older in store.names(key):
                if STEP.match(older) and older != name:
                    store.delete(f"{key}/{older}")
            say(f"{name} is in the store {store}")

    return StoreCheckpoints()


def adapter_trained_on(adapter: str | Path | None) -> str:
    """The training set's key that `save_adapter` wrote beside an adapter: empty for the base
    model, a hub adapter, or one saved before the key was kept."""
    path = Path(adapter) / TRAINED_ON if adapter else None
    try:
        return path.read_text(encoding="utf-8").strip() if path and path.is_file() else ""
    except (OSError, UnicodeDecodeError):
        return ""
