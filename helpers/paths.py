"""Where the repository keeps things. Works from a clone, an editable install, or Colab."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
RESULTS = Path(os.environ.get("PRICER_RESULTS") or ROOT / "results")  # override: PRICER_RESULTS

RAW_SAMPLE = DATA / "raw_cds_vinyl.jsonl"
TRAIN_SAMPLE = DATA / "train.jsonl"
TEST_SAMPLE = DATA / "test.jsonl"
