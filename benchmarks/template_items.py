"""Near-identical short items (issue 17, item 8): time and peak memory of `tollwatch run` over feed
entries made from one template with the place and the figure changed, as agencies and governments
publish them, at two sizes. One `tollwatch run` per size, under `/usr/bin/time`, so that each peak
is its own.

    .venv/bin/python benchmarks/template_items.py --sizes 2500 10000 [--out .bench/template]

The items are fictional. Each feed file holds at most 2,500 entries (below the 5,000 a feed is read
up to). Before the bound, every item was compared with up to 1,000 others and every pair was held.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape

ENTRIES_PER_FEED = 2500
TEMPLATE = (
    "The Regional Civil Protection Office reports that {figure} people were injured in {place} "
    "after heavy rain overnight. Emergency teams from the district are working in the area and "
    "residents are advised to avoid unnecessary travel until the roads have been cleared. "
    "Shelters are open at the municipal sports hall. The office will publish a further update "
    "this evening.")
_SYLLABLES = ("ka", "lo", "mar", "ven", "tis", "ru", "del", "an", "sor", "pel", "qui", "bra")


def place(rng: random.Random) -> str:
    "A fictional place name of two to four syllables."
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def template_items(n: int, seed: int = 17) -> list[tuple[str, str, datetime.datetime]]:
    "n (title, text, published) items of one template with the place and figure changed."
    rng = random.Random(seed)
    start = datetime.datetime(2026, 3, 2, 6, 0, tzinfo=datetime.timezone.utc)
    items = []
    for i in range(n):
        where, figure = place(rng), rng.randint(2, 400)
        text = TEMPLATE.format(figure=figure, place=where)
        items.append((f"Heavy rain: {figure} injured in {where}", text,
                      start + datetime.timedelta(minutes=3 * i)))
    return items


def write_feeds(folder: Path, n: int, seed: int = 17) -> list[Path]:
    "The items as RSS files of at most ENTRIES_PER_FEED entries each, each carrying its text."
    folder.mkdir(parents=True, exist_ok=True)
    items = template_items(n, seed)
    paths = []
    for part, at in enumerate(range(0, n, ENTRIES_PER_FEED)):
        entries = "".join(
            f"<item><title>{escape(title)}</title><guid isPermaLink=\"false\">civil-{at + k}</guid>"
            f"<pubDate>{published.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
            f"<description>{escape(text)}</description></item>"
            for k, (title, text, published) in enumerate(items[at:at + ENTRIES_PER_FEED]))
        path = folder / f"civil-protection-{part}.xml"
        path.write_text('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                        f"<title>Civil protection</title>{entries}</channel></rss>", "utf-8")
        paths.append(path)
    return paths


def measure(n: int, out: Path) -> dict:
    """One `tollwatch run` over n template items: wall seconds, peak RSS (MB) and its summary."""
    inputs, output = out / f"in-{n}", out / f"out-{n}"
    shutil.rmtree(inputs, ignore_errors=True)
    shutil.rmtree(output, ignore_errors=True)
    write_feeds(inputs, n)
    done = subprocess.run(["/usr/bin/time", "-f", "TIME %e %U %S %M", sys.executable, "-m",
                           "tollwatch.pipeline.cli", "run", "--input", str(inputs), "--output",
                           str(output)], capture_output=True, text=True, check=False)
    found = re.search(r"TIME (\S+) (\S+) (\S+) (\d+)", done.stderr)
    if found is None:
        return {"items": n, "exit": done.returncode, "stderr": done.stderr[-2000:]}
    seconds, user, system, kb = found.groups()
    summary = [line for line in done.stdout.splitlines()
               if line.startswith("Read ") or "nearest" in line]
    # Wall time depends on the machine's load (it is shared): the CPU seconds are the comparable figure.
    return {"items": n, "seconds": float(seconds), "cpu_seconds": round(float(user) + float(system), 1),
            "peak_mb": round(int(kb) / 1024), "exit": done.returncode, "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2500, 10000])
    parser.add_argument("--out", type=Path, default=Path(".bench/template"))
    args = parser.parse_args()
    for n in args.sizes:
        print(json.dumps(measure(n, args.out)), flush=True)


if __name__ == "__main__":
    main()
