"""Curation speed and memory: raw records to items, the course's way against pricer's.

    python benchmarks/parse_speed.py [--sizes 44500 445000] [--tokenizer DIR_OR_HUB_ID]

The bundled raw sample (242 real CDs & Vinyl records) is repeated to each size. Each run is a
fresh process (`python -m helpers curate`, or the course's `Item` for the baseline), timed as a
whole, with its peak resident memory, process tree included:

- course: the 2024 course's `Item`, one record at a time: encode, cut, decode, encode the prompt
  again, all through the transformers tokenizer, items kept in a list, then written;
- pricer, 1 process and all cores: `python -m helpers curate`, which drafts each record, then
  tokenizes a chunk at a time (one call to the Rust tokenizer for each step of a chunk) and
  streams the items to disk.

The tokenizer is the tiny offline one unless another is given (the real SmolLM2 tokenizer:
`--tokenizer smollm2`).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from helpers.plumbing import paths

COURSE = r'''
import json, re, sys
from transformers import AutoTokenizer

source, target, tokenizer_name = sys.argv[1:4]
tokenizer = AutoTokenizer.from_pretrained(tokenizer_name)
MIN_TOKENS, MAX_TOKENS, MIN_CHARS, CEILING_CHARS = 150, 160, 300, 160 * 7
QUESTION, PREFIX = "How much does this cost to the nearest dollar?", "Price is $"
REMOVALS = ['"Batteries Included?": "No"', '"Batteries Included?": "Yes"', '"Batteries Required?": "No"',
            '"Batteries Required?": "Yes"', "By Manufacturer", "Item", "Date First", "Package", ":", "Number of",
            "Best Sellers", "Number", "Product "]


class Item:
    """The course's 2024 Item, as it parses one record."""

    def __init__(self, data, price):
        self.title, self.price, self.prompt = data["title"], price, None
        self.parse(data)

    def scrub_details(self):
        details = self.details
        for remove in REMOVALS:
            details = details.replace(remove, "")
        return details

    def scrub(self, stuff):
        stuff = re.sub(r'[:\[\]"{}【】\s]+', " ", stuff).strip()
        stuff = stuff.replace(" ,", ",").replace(",,,", ",").replace(",,", ",")
        words = stuff.split(" ")
        select = [word for word in words if len(word) < 7 or not any(char.isdigit() for char in word)]
        return " ".join(select)

    def parse(self, data):
        contents = "\n".join(data["description"])
        if contents:
            contents += "\n"
        features = "\n".join(data["features"])
        if features:
            contents += features + "\n"
        self.details = json.dumps(data["details"]) if isinstance(data["details"], dict) else data["details"]
        if self.details:
            contents += self.scrub_details() + "\n"
        if len(contents) > MIN_CHARS:
            contents = contents[:CEILING_CHARS]
            text = f"{self.scrub(self.title)}\n{self.scrub(contents)}"
            tokens = tokenizer.encode(text, add_special_tokens=False)
            if len(tokens) > MIN_TOKENS:
                tokens = tokens[:MAX_TOKENS]
                text = tokenizer.decode(tokens)
                self.prompt = f"{QUESTION}\n\n{text}\n\n{PREFIX}{round(self.price)}.00"
                self.token_count = len(tokenizer.encode(self.prompt, add_special_tokens=False))


items = []
with open(source) as handle:
    for line in handle:
        data = json.loads(line)
        try:
            price = float(data["price"])
        except (TypeError, ValueError):
            continue
        if 0.5 <= price <= 999.49 and data.get("title"):
            item = Item(data, price)
            if item.prompt:
                items.append(item)
with open(target, "w") as handle:
    for item in items:
        handle.write(json.dumps({"title": item.title, "price": item.price, "prompt": item.prompt}) + "\n")
print(len(items))
'''


def timed(command: list[str]) -> tuple[float, float]:
    """Seconds, and the peak resident memory in MB of the process and all its children together
    (sampled every 20 ms: a pool's workers count too)."""
    import psutil

    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:  # a worker ended between the listing and the reading
            pass
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()[-2000:]}")
    return seconds, peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[44_500, 445_000])
    parser.add_argument("--tokenizer", default=None)
    parser.add_argument("--skip-course-above", type=int, default=50_000, help="the course's run is slow: one size")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    rows = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        tokenizer = args.tokenizer
        if tokenizer is None:
            from helpers.offline.tiny import TinyConfig, build

            tokenizer = str(build(TinyConfig(output=str(work / "tiny"), with_model=False)))
        elif tokenizer == "smollm2":
            from helpers.offline.smollm2 import build

            tokenizer = str(build(work / "smollm2"))
        sample = paths.RAW_SAMPLE.read_bytes()
        per_copy = sample.count(b"\n")
        for size in args.sizes:
            source = work / f"raw_{size}.jsonl"
            copies = -(-size // per_copy)
            source.write_bytes(sample * copies)
            records = per_copy * copies
            runs = [
                (
                    "pricer",
                    w,
                    [
                        sys.executable,
                        "-m",
                        "helpers",
                        "curate",
                        "--input",
                        str(source),
                        "--tokenizer",
                        tokenizer,
                        "--out",
                        str(work / f"out_{w}.jsonl"),
                        "--workers",
                        str(w),
                        "--overwrite",
                        "--no-progress",
                    ],
                )
                for w in sorted({1, cores})
            ]
            if size <= args.skip_course_above:
                runs.insert(
                    0, ("course", 1, [sys.executable, "-c", COURSE, str(source), str(work / "course.jsonl"), tokenizer])
                )
            for name, workers, command in runs:
                seconds, peak = timed(command)
                rows.append((size, records, name, workers, seconds, records / seconds, peak))
                print(
                    f"{name:>6} {workers} process(es), {records:,} records: {seconds:.1f} s, "
                    f"{records / seconds:,.0f} records/s, peak {peak:,.0f} MB",
                    flush=True,
                )
    print(
        f"\nmachine: {platform.machine()}, {cores} cores, Python {platform.python_version()}; "
        f"tokenizer: {'tiny offline' if args.tokenizer is None else args.tokenizer}"
    )
    course = {size: rate for size, _, name, _, _, rate, _ in rows if name == "course"}
    print("| records | run | processes | seconds | records/s | vs the course | peak memory |")
    print("|---|---|---|---|---|---|---|")
    baseline = next(iter(course.values()), None)
    for _, records, name, workers, seconds, rate, peak in rows:
        ratio = f"{rate / baseline:.1f}x" if baseline else "-"
        print(f"| {records:,} | {name} | {workers} | {seconds:.1f} | {rate:,.0f} | {ratio} | {peak:,.0f} MB |")


if __name__ == "__main__":
    main()
