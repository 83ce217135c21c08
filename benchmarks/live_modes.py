"""The two live modes side by side: `tollwatch follow` (a loop of bounded runs on the local runner)
and `tollwatch run --streaming` (one stream on Prism), on a watched drop folder.

    .venv/bin/python benchmarks/live_modes.py --mode follow --minutes 10 [--tick-seconds 5]
    .venv/bin/python benchmarks/live_modes.py --mode stream --minutes 10 [--tick-seconds 5]

Measures, for the process tree of the command (the CLI, its workers, Prism's Go binary):
- drop -> readable in DuckDB: a seed file (dated today) dropped every minutes/drops, the time until
  its article row is stored;
- CPU while idle: CPU seconds per wall second, over the samples outside a drop's handling (from the
  drop to 10 s after its row appeared);
- memory: the tree's RSS every 5 s; first and last after the first row, the peak, and the growth
  per hour by least squares (extrapolated from the minutes measured).
The machine is shared: the figures are this run's, not a bound.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from support import SEEDS  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree(root: int) -> list[int]:
    """`root` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def usage(pids: list[int]) -> tuple[float, float]:
    """(CPU seconds, RSS MB) of the processes (user + system, children reaped included)."""
    cpu = rss = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/statm") as handle:
                pages = int(handle.read().split()[1])
        except OSError:
            continue
        cpu += sum(int(f) for f in fields[11:15]) / TICKS
        rss += pages * PAGE / 2**20
    return cpu, rss


def stored_articles(out: Path, name: str) -> bool:
    import duckdb

    if not list(out.glob("articles/*/*.parquet")):
        return False
    try:
        return duckdb.sql(f"SELECT count(*) FROM read_parquet('{out}/articles/*/*.parquet') "
                          f"WHERE uri LIKE '%{name}'").fetchall()[0][0] > 0
    except Exception:  # noqa: BLE001 - a file being renamed into place
        return False


def dated_today(text: str) -> str:
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    return re.sub(r"^ date \d{4}-\d{2}-\d{2}", f" date {today}", text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("follow", "stream"), required=True)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--tick-seconds", type=float, default=5.0)
    parser.add_argument("--drops", type=int, default=5)
    args = parser.parse_args()
    texts = [dated_today(p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))]
    with tempfile.TemporaryDirectory(prefix=f"live-{args.mode}-") as tmp:
        drop, out = Path(tmp) / "drop", Path(tmp) / "out"
        drop.mkdir()
        command = [sys.executable, "-m", "tollwatch.pipeline.cli", "-q"]
        command += (["follow"] if args.mode == "follow" else ["run", "--streaming",
                                                              "--write-window-seconds",
                                                              str(round(args.tick_seconds))])
        command += ["--watch", str(drop), "--output", str(out), "--tick-seconds",
                    str(args.tick_seconds)]
        started = time.monotonic()
        proc = subprocess.Popen(command, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        samples: list[tuple[float, float, float]] = []  # (t, cpu s, rss MB)
        busy: list[tuple[float, float]] = []
        delays: list[float] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                samples.append((time.monotonic() - started, *usage(tree(proc.pid))))
                done.wait(5.0)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        def drop_one(i: int) -> float:
            name = f"drop{i}.txt"
            temp = drop / f".{name}"
            temp.write_text(texts[i % len(texts)].replace("Reuters", f"Wire{i}"), encoding="utf-8")
            past = time.time() - 5
            os.utime(temp, (past, past))
            at = time.monotonic()
            temp.rename(drop / name)
            while not stored_articles(out, name):
                if time.monotonic() - at > 600:
                    raise TimeoutError(name)
                time.sleep(0.25)
            seen = time.monotonic()
            busy.append((at - started, seen - started + 10))
            return seen - at

        try:
            first = drop_one(0)  # start-up included
            measured_from = time.monotonic() - started
            interval = args.minutes * 60 / args.drops
            for i in range(1, args.drops + 1):
                time.sleep(max(0.0, measured_from + i * interval - interval / 2
                               - (time.monotonic() - started)))
                delays.append(drop_one(i))
            time.sleep(max(0.0, measured_from + args.minutes * 60 - (time.monotonic() - started)))
        finally:
            done.set()
            sampler.join()
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
    after = [s for s in samples if s[0] >= measured_from]
    idle_cpu = idle_wall = idle_rss = busy_rss = 0.0
    for (t0, c0, r0), (t1, c1, r1) in zip(after, after[1:]):
        if not any(b0 < t1 and t0 < b1 for b0, b1 in busy):
            idle_cpu += max(0.0, c1 - c0)
            idle_wall += t1 - t0
            idle_rss += r1 - r0
        else:
            busy_rss += r1 - r0
    ts, rss = [s[0] for s in after], [s[2] for s in after]
    mean_t, mean_r = statistics.fmean(ts), statistics.fmean(rss)
    slope = (sum((t - mean_t) * (r - mean_r) for t, r in zip(ts, rss))
             / sum((t - mean_t) ** 2 for t in ts))
    print(f"{args.mode}: tick {args.tick_seconds:g} s, {args.minutes:g} min measured after the "
          f"first row ({len(after)} samples)")
    print(f"  first drop -> DuckDB (start-up included): {first:.1f} s")
    print(f"  drop -> DuckDB: {', '.join(f'{d:.1f}' for d in delays)} s "
          f"(median {statistics.median(delays):.1f}, max {max(delays):.1f})")
    print(f"  CPU while idle: {idle_cpu:.1f} CPU-s over {idle_wall:.0f} s = "
          f"{100 * idle_cpu / max(idle_wall, 1e-9):.1f}% of a core")
    print(f"  RSS of the process tree: {rss[0]:.0f} MB after the first row, peak {max(rss):.0f}, "
          f"last {rss[-1]:.0f}; trend {slope * 3600:+.0f} MB/hour (least squares over "
          f"{args.minutes:g} min, extrapolated)")
    print(f"  RSS change while idle: {idle_rss:+.0f} MB over {idle_wall:.0f} s "
          f"({idle_rss * 3600 / max(idle_wall, 1e-9):+.0f} MB/hour idle); while handling the "
          f"{len(delays)} drops: {busy_rss:+.0f} MB")


if __name__ == "__main__":
    main()
