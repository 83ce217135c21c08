"""The two local live modes side by side (issue 20): `tollwatch follow` (a loop of bounded runs) and
`tollwatch run --streaming` on Prism, each measured in one run of its own.

    .venv/bin/python benchmarks/bench_live.py [--modes follow stream] [--drops 10]
        [--idle-seconds 150] [--tick-seconds 10] [--write-window-seconds 10]

Per mode: start the command on an empty drop folder and output; drop a first example file and wait
until it is readable (start-up); after `--settle-seconds` (the last work's tail), then
  1. idle span A (`--idle-seconds`, nothing dropped): CPU seconds of the process tree;
  2. `--drops` drops, each a different file of examples/ (never the same document twice), at a
     random moment of the tick, each waited for: drop-to-DuckDB latency, median and max;
  3. idle span B, the same length as A, after settling again.
The process tree is the command and every descendant (Prism, SDK workers), read from /proc (psutil
is not a runtime dependency): CPU = utime + stime of each live process plus what it reaped of its
children; memory = the sum of the tree's RSS, sampled every `--sample-seconds`. Memory growth per
hour is extrapolated from RSS after start-up to RSS at the end (the whole measured run, drops
included), and from a least-squares line over idle span B alone (ticks with nothing to do).
A drop is readable when DuckDB's `read_parquet` over `OUT/articles/*/*.parquet` returns its row,
polled every 0.25 s; a drop that became a dead letter instead (`OUT/dead_letters/`) stops the
mode's measure at once, with the dead letter's reason. A file is written under a hidden name,
dated 5 s back, then renamed, as the README asks of a drop.
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
import threading
import time
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import tree_pids  # noqa: E402  (benchmarks/ is not a package)

EXAMPLES = HERE.parent / "examples"
PRISM = Path.home() / ".apache_beam" / "cache" / "prism" / "bin" / "prism"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


# ---- the process tree, from /proc ---------------------------------------------------------------
def parse_stat(line: str) -> tuple[float, int]:
    """(CPU seconds of the process and of its reaped children, RSS bytes) from a /proc/PID/stat line.
    The command name may hold spaces and parentheses: the fields start after the last ')'."""
    fields = line[line.rindex(")") + 2:].split()
    # fields[0] is field 3 (state) of proc(5): utime 14, stime 15, cutime 16, cstime 17, rss 24.
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / CLOCK_TICKS, int(fields[21]) * PAGE


def start_time(pid: int) -> Optional[str]:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            line = handle.read()
    except OSError:
        return None
    return line[line.rindex(")") + 2:].split()[19]


def tree_usage(root: int) -> tuple[float, int, int]:
    """(CPU seconds, RSS bytes, processes) summed over the tree of `root` now."""
    cpu, rss, n = 0.0, 0, 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
                seconds, resident = parse_stat(handle.read())
        except (OSError, ValueError):
            continue
        cpu, rss, n = cpu + seconds, rss + resident, n + 1
    return cpu, rss, n


class Sampler(threading.Thread):
    """Samples the tree every `interval` seconds: (monotonic time, CPU s, RSS bytes, processes)."""

    def __init__(self, root: int, interval: float):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.samples: list[tuple[float, float, int, int]] = []
        self.started: dict[int, str] = {}  # pid -> its start time (field 22): a pid is reused
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            for pid in tree_pids(self.root):
                if pid not in self.started and (start := start_time(pid)):
                    self.started[pid] = start
            self.samples.append((time.monotonic(), *tree_usage(self.root)))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def between(self, start: float, end: float) -> list[tuple[float, float, int, int]]:
        return [s for s in self.samples if start <= s[0] <= end]



def idle_span(root: int, settle: float, seconds: float):
    """Waits `settle` s, then measures an idle span of `seconds`: (start, end, CPU seconds of the
    tree in it, tree_usage at its start, tree_usage at its end)."""
    time.sleep(settle)
    start, first = time.monotonic(), tree_usage(root)
    time.sleep(seconds)
    last, end = tree_usage(root), time.monotonic()
    return start, end, last[0] - first[0], first, last

def slope_per_hour(points: list[tuple[float, float]]) -> Optional[float]:
    """The least-squares slope of (seconds, value) points, per hour; None under 3 points."""
    if len(points) < 3:
        return None
    mean_t = statistics.fmean(t for t, _ in points)
    mean_v = statistics.fmean(v for _, v in points)
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return None
    return 3600 * sum((t - mean_t) * (v - mean_v) for t, v in points) / var


# ---- drops and DuckDB ----------------------------------------------------------------------------
def readable(out: Path, name: str) -> bool:
    import duckdb

    if not list(out.glob("articles/*/*.parquet")):
        return False
    try:
        return duckdb.connect().execute(
            f"SELECT count(*) FROM read_parquet('{out}/articles/*/*.parquet', "
            "hive_partitioning = true, union_by_name = true) WHERE uri LIKE ?",
            [f"%/{name}"]).fetchall()[0][0] > 0
    except duckdb.Error:  # a file being replaced between the glob and the read
        return False


def dead_letter(out: Path, name: str) -> Optional[str]:
    """Why the drop `name` became a dead letter (its stage, error and message), or None."""
    import duckdb

    if not list(out.glob("dead_letters/*/*.parquet")):
        return None
    try:
        rows = duckdb.connect().execute(
            "SELECT stage, error_type, message FROM "
            f"read_parquet('{out}/dead_letters/*/*.parquet', hive_partitioning = true, "
            "union_by_name = true) WHERE ends_with(uri, ?) LIMIT 1",
            [f"/{name}"]).fetchall()
    except duckdb.Error:  # a file being replaced between the glob and the read
        return None
    return f"{rows[0][0]}: {rows[0][1]}: {rows[0][2]}" if rows else None


def drop(folder: Path, source: Path, name: str) -> float:
    """Drops `source` as `name` (hidden name, mtime 5 s back, rename); the monotonic time of the
    rename."""
    temp = folder / f".{name}"
    temp.write_bytes(source.read_bytes())
    past = time.time() - 5
    os.utime(temp, (past, past))
    temp.rename(folder / name)
    return time.monotonic()


def wait_readable(out: Path, name: str, since: float, timeout: float, process) -> float:
    while time.monotonic() - since < timeout:
        if readable(out, name):
            return time.monotonic() - since
        reason = dead_letter(out, name)
        if reason:
            raise RuntimeError(f"{name} became a dead letter, not an article ({reason})")
        if process.poll() is not None:
            raise RuntimeError(f"the command exited ({process.returncode}) before {name} was read")
        time.sleep(0.25)
    raise TimeoutError(f"{name} not readable after {timeout:.0f} s")


# ---- one mode --------------------------------------------------------------------------------------
def command(mode: str, drop_dir: Path, out: Path, args: argparse.Namespace) -> list[str]:
    base = [sys.executable, "-m", "tollwatch.pipeline.cli", "-q"]
    if mode == "follow":
        return base + ["follow", "--watch", str(drop_dir), "--output", str(out),
                       "--tick-seconds", str(args.tick_seconds)]
    return base + ["run", "--streaming", "--watch", str(drop_dir), "--output", str(out),
                   "--tick-seconds", str(args.tick_seconds),
                   "--write-window-seconds", str(args.write_window_seconds),
                   "--runner=PrismRunner", f"--prism_location={PRISM}"]


def stop(process, sampler: Sampler, log) -> float:
    """Ctrl-C, as a user stops it; the seconds until it exited. Whatever it started and left
    running is ended by pid."""
    began = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        print("  (did not stop within 120 s of Ctrl-C: killed)", file=log, flush=True)
        process.kill()
        process.wait()
    seconds = time.monotonic() - began
    for pid, started in sorted(sampler.started.items()):
        if pid != process.pid and start_time(pid) == started:  # the same process, still there
            try:
                os.kill(pid, signal.SIGKILL)
                print(f"  (pid {pid} of its tree outlived it: killed)", file=log, flush=True)
            except ProcessLookupError:
                pass
    return seconds


def measure(mode: str, files: list[Path], args: argparse.Namespace) -> dict:
    rng = random.Random(7)
    settle = args.settle_seconds
    if settle is None:
        settle = 2 * (args.tick_seconds if mode == "follow" else
                      max(args.tick_seconds, args.write_window_seconds))
    with tempfile.TemporaryDirectory(prefix=f"bench-live-{mode}-") as tmp:
        tmp = Path(tmp)
        drop_dir, out = tmp / "drop", tmp / "out"
        drop_dir.mkdir()
        argv = command(mode, drop_dir, out, args)
        print(f"[{mode}] {' '.join(argv)}  (settling {settle:g} s)", flush=True)
        with (tmp / "log").open("w") as log:
            process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
            sampler = Sampler(process.pid, args.sample_seconds)
            sampler.start()
            result: dict = {"mode": mode}
            try:
                started = time.monotonic()
                name = f"drop00-{files[0].name}"
                drop(drop_dir, files[0], name)
                wait_readable(out, name, started, args.timeout_seconds, process)
                result["startup_s"] = time.monotonic() - started

                a_start, a_end, cpu_a, (_, rss_start, procs), _ = idle_span(
                    process.pid, settle, args.idle_seconds)

                delays = []
                for i, source in enumerate(files[1:args.drops + 1], start=1):
                    time.sleep(rng.uniform(0, args.tick_seconds))
                    name = f"drop{i:02d}-{source.name}"
                    since = drop(drop_dir, source, name)
                    delays.append(wait_readable(out, name, since, args.timeout_seconds, process))
                    print(f"[{mode}] {name}: {delays[-1]:.1f} s", flush=True)
                _, rss_drops, _ = tree_usage(process.pid)

                b_start, b_end, cpu_b, _, (_, rss_end, procs_end) = idle_span(
                    process.pid, settle, args.idle_seconds)
                idle_b = [(t, rss / MB) for t, _, rss, _ in sampler.between(b_start, b_end)]
                peak = max(rss for _, _, rss, _ in sampler.samples)
                result.update(
                    latency_median_s=statistics.median(delays), latency_max_s=max(delays),
                    latencies=delays,
                    idle_cpu_a_s=cpu_a, idle_cpu_b_s=cpu_b,
                    idle_span_s=(a_end - a_start + b_end - b_start) / 2,
                    rss_start_mb=rss_start / MB, rss_after_drops_mb=rss_drops / MB,
                    rss_end_mb=rss_end / MB, rss_peak_mb=peak / MB,
                    run_s=b_end - a_start,
                    growth_run_mb_h=(rss_end - rss_start) / MB / (b_end - a_start) * 3600,
                    growth_idle_mb_h=slope_per_hour(idle_b), processes=(procs, procs_end))
            finally:
                result["stop_s"] = stop(process, sampler, log)
                sampler.stop()
                if "latencies" not in result:
                    print((tmp / "log").read_text(errors="replace")[-3000:], flush=True)
    return result


def fmt(value: Optional[float], spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", nargs="+", choices=("follow", "stream"),
                        default=["follow", "stream"])
    parser.add_argument("--drops", type=int, default=10)
    parser.add_argument("--idle-seconds", type=float, default=150.0)
    parser.add_argument("--tick-seconds", type=float, default=10.0)
    parser.add_argument("--write-window-seconds", type=int, default=10)
    parser.add_argument("--settle-seconds", type=float, default=None,
                        help="wait before each idle span, for the work of the last drop to end "
                             "(default: 2 ticks; in streaming 2 write windows if longer)")
    parser.add_argument("--sample-seconds", type=float, default=2.0)
    parser.add_argument("--timeout-seconds", type=float, default=300.0)
    args = parser.parse_args()
    files = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".txt", ".html"))
    if args.drops + 1 > len(files):
        raise SystemExit(f"--drops at most {len(files) - 1}: examples/ has {len(files)} documents")
    if "stream" in args.modes and not PRISM.is_file():
        raise SystemExit(f"{PRISM} is missing: `make runners` (Go) builds it")
    print(f"tick {args.tick_seconds:g} s, write window {args.write_window_seconds} s (stream), "
          f"{args.drops} drops, idle spans {args.idle_seconds:g} s, samples every "
          f"{args.sample_seconds:g} s; load average {os.getloadavg()[0]:.1f} at start", flush=True)
    results = []
    for mode in args.modes:
        try:
            results.append(measure(mode, files, args))
        except (RuntimeError, TimeoutError) as error:
            print(f"[{mode}] failed: {error}", flush=True)
            continue
        r = results[-1]
        print(f"[{mode}] latencies: " + ", ".join(f"{d:.1f}" for d in r["latencies"])
              + f" s; RSS {(r['rss_after_drops_mb'] - r['rss_start_mb']) / args.drops:+.1f} MB a drop; "
              f"processes {r['processes'][0]} -> {r['processes'][1]}; stopped by Ctrl-C in "
              f"{r['stop_s']:.1f} s", flush=True)
    print(f"\nload average {os.getloadavg()[0]:.1f} at end\n")
    print("| mode | start-up s | drop -> DuckDB median / max s | idle CPU s per span (A, B) "
          "| idle CPU % of a core | RSS MB start / after drops / end (peak) "
          "| RSS growth MB/h: run, idle B |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        idle = (r["idle_cpu_a_s"] + r["idle_cpu_b_s"]) / 2
        print(f"| {r['mode']} | {r['startup_s']:.1f} | {r['latency_median_s']:.1f} / "
              f"{r['latency_max_s']:.1f} | {r['idle_cpu_a_s']:.2f}, {r['idle_cpu_b_s']:.2f} "
              f"(span {r['idle_span_s']:.0f} s) | {100 * idle / r['idle_span_s']:.1f} "
              f"| {r['rss_start_mb']:.0f} / {r['rss_after_drops_mb']:.0f} / {r['rss_end_mb']:.0f} "
              f"({r['rss_peak_mb']:.0f}) | {fmt(r['growth_run_mb_h'], '+.0f')} "
              f"(over {r['run_s']:.0f} s), {fmt(r['growth_idle_mb_h'], '+.0f')} |")


if __name__ == "__main__":
    main()
