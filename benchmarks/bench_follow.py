"""Delay from a file drop, and from a feed change, to the row being readable in DuckDB under
`tollwatch follow`.

    .venv/bin/python benchmarks/bench_follow.py [--tick-seconds 30] [--rounds 3]

Starts `tollwatch follow` in a subprocess on a drop folder and on a feed served from loopback,
then, at random moments, drops a file or adds an entry to the feed and polls DuckDB (through the
output's views) every 0.2 s until the new row is there.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from feed_server import FeedServer, Reply, full_item, rss  # noqa: E402

EXAMPLES = HERE.parent / "examples"


def count(out: Path, sql: str) -> int:
    from tollwatch.pipeline.query import connect

    if not (out / "articles").is_dir():
        return 0
    try:
        return connect(str(out)).execute(sql).fetchall()[0][0]
    except Exception:
        return 0


def wait_until(predicate, timeout: float) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if predicate():
            return time.monotonic() - began
        time.sleep(0.2)
    raise TimeoutError


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tick-seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(7)
    texts = sorted(EXAMPLES.glob("*.txt"))
    with tempfile.TemporaryDirectory() as tmp, FeedServer() as server:
        tmp = Path(tmp)
        drop, out = tmp / "drop", tmp / "out"
        drop.mkdir()
        items = [full_item("e-0", "Opening report")]
        server.routes["/live.xml"] = Reply(body=rss(*items), etag='"0"')
        feeds = tmp / "feeds.toml"
        feeds.write_text(f'[[feed]]\nurl = "{server.url("/live.xml")}"\npoll_seconds = 1\n')
        command = [sys.executable, "-m", "tollwatch.pipeline.cli", "follow", "-q", "--watch",
                   str(drop), "--feeds", str(feeds), "--allow-private-hosts", "--output",
                   str(out), "--tick-seconds", str(args.tick_seconds)]
        proc = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        file_delays, feed_delays = [], []
        try:
            wait_until(lambda: count(out, "SELECT count(*) FROM articles") >= 1, 600)
            for i in range(args.rounds):
                time.sleep(rng.uniform(0, args.tick_seconds))
                source = texts[i % len(texts)]
                temp = drop / f".drop{i}.txt"
                temp.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
                past = time.time() - 5
                os.utime(temp, (past, past))
                temp.rename(drop / f"drop{i}.txt")
                file_delays.append(wait_until(lambda: count(
                    out, f"SELECT count(*) FROM articles WHERE uri LIKE '%drop{i}.txt'") == 1, 600))
                time.sleep(rng.uniform(0, args.tick_seconds))
                items.append(full_item(f"e-{i + 1}", f"Update number {i + 1}"))
                server.routes["/live.xml"] = Reply(body=rss(*items), etag=f'"{i + 1}"')
                feed_delays.append(wait_until(lambda: count(
                    out, f"SELECT count(*) FROM articles WHERE title = 'Update number {i + 1}'") == 1,
                    600))
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=300)
    for name, delays in (("file drop", file_delays), ("feed change", feed_delays)):
        print(f"{name} -> readable in DuckDB, tick {args.tick_seconds:g} s: "
              + ", ".join(f"{d:.1f}" for d in delays)
              + f" s (median {statistics.median(delays):.1f}, max {max(delays):.1f})")


if __name__ == "__main__":
    main()
