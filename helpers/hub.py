"""Why something could not be loaded from the hub (or a folder), in one line for the learner."""

from __future__ import annotations


def explain(error: Exception) -> str:
    """A gated repo, an unreachable hub, or else the error's own first line."""
    text = str(error)
    lowered = text.lower()
    if "gated" in lowered or "401" in text or "403" in text or "restricted" in lowered:
        return "it is gated: accept its licence on the hub, then log in (HF_TOKEN in the environment or Colab secrets)"
    if "offline" in lowered or "connect" in lowered or "resolve" in lowered:
        return "not in the local cache and the hub is unreachable: pass a local folder"
    return text.splitlines()[0] if text else type(error).__name__
