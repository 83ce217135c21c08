"""Time and peak memory of one `tollwatch follow` tick over a drop folder of N small files, and of
the idle tick after it (nothing new: the listing and the cursor only).

    .venv/bin/python benchmarks/bench_follow_tick.py --files 5000 20000

Each size gets a fresh drop folder of distinct small text files (seeded words, no two alike) and a
fresh output; each tick is its own `tollwatch follow --ticks 1` process, measured with wait4.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from hostile import run_command  # noqa: E402

WORDS = ("river town council market bridge road school harbour valley station storm mayor police "
         "north south east west rain farmers trade museum concert league festival court budget "
         "hospital clinic train airport ferry mountain forest lake village district").split()


def make_drop(folder: Path, n: int, seed: int = 17) -> None:
    rng = random.Random(seed)
    for i in range(n):
        sub = folder / f"d{i % 50:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        words = " ".join(rng.choice(WORDS) for _ in range(60))
        (sub / f"item-{i:06d}.txt").write_text(f" date 2026-05-13\nItem {i} {rng.random()}\n\n{words}.\n")
    old = time.time() - 60  # settled
    for path in folder.rglob("*.txt"):
        os.utime(path, (old, old))


def tick(drop: Path, out: Path, work: Path) -> tuple[int, float, float]:
    argv = [str(Path(sys.executable).parent / "tollwatch"), "--quiet", "follow", "--watch", str(drop),
            "--output", str(out), "--ticks", "1"]
    code, seconds, peak, stderr = run_command(argv, 1800, work)
    if code != 0:
        raise SystemExit(f"follow failed ({code}): {stderr[-2000:]}")
    return code, seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, nargs="+", default=[5000, 20000])
    args = parser.parse_args()
    for n in args.files:
        with tempfile.TemporaryDirectory(prefix="bench-follow-") as tmp:
            work = Path(tmp)
            make_drop(work / "drop", n)
            _, first, first_peak = tick(work / "drop", work / "out", work)
            _, idle, idle_peak = tick(work / "drop", work / "out", work)
            state = (work / "out" / "_state" / "follow.json").stat().st_size
            print(f"files={n} first_tick_s={first:.1f} first_tick_peak_mb={first_peak:.0f} "
                  f"idle_tick_s={idle:.1f} idle_tick_peak_mb={idle_peak:.0f} follow_json_bytes={state}",
                  flush=True)


if __name__ == "__main__":
    main()
