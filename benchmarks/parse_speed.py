"""Items parsed per second from raw metadata records: one process against every core.

    python benchmarks/parse_speed.py [--copies 40] [--tokenizer DIR_OR_HUB_ID]

The bundled raw sample (242 real records) is repeated `--copies` times into a temporary
JSONL, then parsed by `load_raw` with 1 worker and with one worker per core. The tokenizer is
the tiny offline one unless another is given; tokenizing dominates the cost.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from helpers import paths
from helpers.items import ItemConfig
from helpers.loaders import LoadConfig, load_raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--tokenizer", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work:
        tokenizer = args.tokenizer
        if tokenizer is None:
            from helpers.tiny import TinyConfig, build

            tokenizer = str(build(TinyConfig(output=str(Path(work) / "tiny"), with_model=False)))
        source = Path(work) / "raw.jsonl"
        source.write_bytes(paths.RAW_SAMPLE.read_bytes() * args.copies)
        cores = os.cpu_count() or 1
        rows = []
        for workers in sorted({1, cores}):
            config = LoadConfig(item=ItemConfig(tokenizer=tokenizer), workers=workers, progress=False)
            load_raw(source, config)  # warm-up: imports, tokenizer load, page cache
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                items, report = load_raw(source, config)
                times.append(time.perf_counter() - start)
            best = min(times)
            rows.append((workers, report.read, len(items), best, report.read / best))

    print(f"machine: {platform.processor() or platform.machine()}, {cores} cores, Python {platform.python_version()}")
    print(f"tokenizer: {'tiny offline' if args.tokenizer is None else args.tokenizer}; best of {args.repeats}")
    print(f"{'workers':>7} {'records':>8} {'items':>6} {'seconds':>8} {'records/s':>10} {'speed-up':>8}")
    for workers, read, kept, seconds, rate in rows:
        print(f"{workers:>7} {read:>8,} {kept:>6,} {seconds:>8.2f} {rate:>10,.0f} {rate / rows[0][4]:>7.2f}x")


if __name__ == "__main__":
    main()
