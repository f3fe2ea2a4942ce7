"""Secrets from the environment, a `.env` file, or Colab's secrets panel; never printed."""

from __future__ import annotations

import os
import re

from helpers.plumbing import paths


def get_secret(name: str) -> str | None:
    """The value of `name`, looked up in the environment, then `.env`, then Colab."""
    value = os.environ.get(name)
    if not value:
        from dotenv import dotenv_values

        for env_file in (paths.ROOT / ".env", os.path.join(os.getcwd(), ".env")):
            if os.path.exists(env_file):
                value = dotenv_values(env_file).get(name) or value
    if not value:
        value = _colab_secret(name)
    return value or None


def _colab_secret(name: str) -> str | None:
    try:
        from google.colab import userdata  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        return userdata.get(name)
    except Exception:  # SecretNotFoundError, NotebookAccessError: treat as unset
        return None


def describe(name: str) -> str:
    """Whether a secret is set, for display: never its value."""
    return f"{name}: {'set' if get_secret(name) else 'not set'}"


# A credential inside a URL: the password of `user:password@host`, or a query parameter whose
# name says it holds one (`?api-key=...`, `&token=...`, `&sig=...`).
_USERINFO = re.compile(r"(?<=://)([^/\s:@]+):([^/\s@]+)@")
_QUERY_SECRET = re.compile(
    r"([?&](?:api[-_]?key|key|token|access[-_]?token|secret|password|pass|sig|signature|auth)=)[^&#\s]+", re.I
)


def redact(text: str) -> str:
    """`text` with the credentials of every URL in it replaced by `***`: a key passed inside
    `--base-url` never reaches a message, a log or a file."""
    return _QUERY_SECRET.sub(r"\1***", _USERINFO.sub(r"\1:***@", text))
