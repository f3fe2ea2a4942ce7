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

from helpers.errors import ConfigError

STEP = re.compile(r"^checkpoint-(\d+)$")
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
        json.loads((checkpoint / "adapter_config.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "a JSON file is cut short"
    if not isinstance(state, dict) or "global_step" not in state:
        return "trainer_state.json holds no step"
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(checkpoint / "adapter_model.safetensors"), framework="pt") as weights:
            weights.keys()
    except (SafetensorError, OSError):
        return "adapter_model.safetensors is cut short or corrupt"
    for name in ("optimizer.pt", "scheduler.pt"):  # torch saves zip archives: check every member
        try:
            with zipfile.ZipFile(checkpoint / name) as archive:
                if archive.testzip() is not None:
                    return f"{name} is corrupt"
        except zipfile.BadZipFile:
            return f"{name} is cut short"
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
