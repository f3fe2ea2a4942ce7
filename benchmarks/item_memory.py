"""Memory an item keeps once parsed: bytes per kept item, measured with tracemalloc.

    python benchmarks/item_memory.py [--copies 20]

The bundled raw sample (242 real CDs & Vinyl records) is repeated `--copies` times and parsed
in one process with the tiny offline tokenizer; the memory still held by the items afterwards,
divided by their number, is what full-scale curation pays per kept item.
"""

from __future__ import annotations

import argparse
import gc
import platform
import tempfile
import tracemalloc
from pathlib import Path

from helpers.data.raw import LoadConfig, load_raw
from helpers.data.rules import ItemConfig, get_tokenizer
from helpers.plumbing import paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        from helpers.offline.tiny import TinyConfig, build

        tokenizer = str(build(TinyConfig(output=str(Path(work) / "tiny"), with_model=False)))
        get_tokenizer(tokenizer)  # loaded before measuring: it is paid once, not per item
        source = Path(work) / "raw.jsonl"
        source.write_bytes(paths.RAW_SAMPLE.read_bytes() * args.copies)
        config = LoadConfig(item=ItemConfig(tokenizer=tokenizer), workers=1, progress=False)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        items, report = load_raw(source, config)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"{report.read:,} raw records, {len(items):,} items kept: {held / len(items):,.0f} bytes per item held")


if __name__ == "__main__":
    main()
