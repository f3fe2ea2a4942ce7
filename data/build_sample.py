"""Rebuild the bundled sample in data/ from the shared real records.

    python data/build_sample.py --shared ../shared/data

Writes data/train.jsonl and data/test.jsonl (curated items, deterministic split) and
data/raw_cds_vinyl.jsonl (raw metadata records, copied byte for byte). Run once by a
maintainer; the outputs are committed, so nothing else ever reads the shared folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from helpers.core.items import Item
from helpers.data.curation import CurationConfig, split
from helpers.data.item_files import save_items

HERE = Path(__file__).resolve().parent
CURATED = ["amazon2023_curated_6categories.jsonl", "amazon2023_curated_appliances.jsonl"]
RAW = "amazon2023_raw_cds_vinyl.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(HERE.parent.parent / "shared" / "data"))
    parser.add_argument("--test-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    shared = Path(args.shared)

    items: list[Item] = []
    seen: set[str] = set()
    duplicates = 0
    for name in CURATED:
        with open(shared / name, encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if row["title"] in seen:
                    duplicates += 1  # same product twice would leak between train and test
                    continue
                seen.add(row["title"])
                items.append(Item.from_dict(row))
    config = CurationConfig(seed=args.seed, train_size=len(items) - args.test_size, test_size=args.test_size)
    train, test = split(items, config)
    save_items(train, HERE / "train.jsonl")
    save_items(test, HERE / "test.jsonl")
    shutil.copyfile(shared / RAW, HERE / "raw_cds_vinyl.jsonl")
    print(f"{len(items)} items ({duplicates} duplicate titles dropped): train {len(train)}, test {len(test)}")


if __name__ == "__main__":
    main()
