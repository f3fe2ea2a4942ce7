"""Where the repository keeps things. Works from a clone, an editable install, or Colab.

One rule for outputs: every stage writes under the results folder (`PRICER_RESULTS`, default
`results/` in the repository) unless it is given an explicit path. The folder is read from the
environment on every call, so a notebook may set it after importing helpers.
"""

import os
from pathlib import Path

from helpers.plumbing.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent.parent  # helpers/plumbing/paths.py: the checkout
DATA = ROOT / "data"

RAW_SAMPLE = DATA / "raw_cds_vinyl.jsonl"
TRAIN_SAMPLE = DATA / "train.jsonl"
TEST_SAMPLE = DATA / "test.jsonl"


def results(*parts: str) -> Path:
    """A path under the results folder; one that is a file is one line, not a traceback from
    the first stage that writes under it."""
    root = Path(os.environ.get("PRICER_RESULTS") or ROOT / "results")
    if root.is_file():
        raise ConfigError(f"the results folder {root} is a file: set PRICER_RESULTS to a folder (or move the file)")
    return root.joinpath(*parts)
