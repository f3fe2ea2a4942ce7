"""Why something could not be loaded from the hub (or a folder), in one line for the learner."""

from __future__ import annotations

from pathlib import Path

from helpers.plumbing.errors import PricerError

TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json")
UNREACHABLE = (
    "not in the local cache and the hub is unreachable: pass a local folder, "
    "or run offline on the bundled sample with PRICER_SMOKE=1"
)


def explain(error: Exception) -> str:
    """A gated repo, an unreachable hub, or else the error's own first line."""
    text = str(error)
    lowered = text.lower()
    if "gated" in lowered or "401" in text or "403" in text or "restricted" in lowered:
        return "it is gated: accept its licence on the hub, then log in (HF_TOKEN in the environment or Colab secrets)"
    if "offline" in lowered or "connect" in lowered or "resolve" in lowered:
        return UNREACHABLE
    return text.splitlines()[0] if text else type(error).__name__


def looks_local(name: str) -> bool:
    """A path rather than a hub id ("owner/name" has one slash and no leading dot or slash)."""
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or Path(name).exists()


def check_folder(name: str, needs: tuple[str, ...], what: str, error: type[PricerError]) -> None:
    """A local folder must exist and hold one of `needs`; the library would say something
    obscure instead (that the path is not a valid hub repo id, say)."""
    folder = Path(name)
    if looks_local(name) and not folder.exists():
        raise error(f"cannot load {what} {name!r}: no such folder")
    if folder.is_dir() and not any((folder / file).exists() for file in needs):
        raise error(f"cannot load {what} {name!r}: the folder has no {' or '.join(needs)}")


def check_tokenizer_file(name: str, error: type[PricerError]) -> None:
    """A local tokenizer.json cut short (a copy stopped half way) or written by something else
    is one line naming it, not a JSON or a KeyError traceback from deep inside transformers."""
    path = Path(name) / "tokenizer.json"
    if not path.is_file():
        return
    from tokenizers import Tokenizer

    try:
        Tokenizer.from_file(str(path))
    except Exception as problem:  # the tokenizers library raises a bare Exception for a file it cannot read
        why = str(problem).splitlines()[0][:100] if str(problem) else type(problem).__name__
        reason = f"{path.name} is cut short or is no tokenizer ({why})"
        raise error(f"cannot load tokenizer {name!r}: {reason}; copy the folder again") from None
