"""What benchmarks/bench_live.py reads of a process tree from /proc: a child's CPU counts while it
runs and after its parent reaped it (else a tree's idle CPU would lose the work of short-lived
children), a command name with spaces and parentheses does not shift the fields, and the memory
slope is per hour; and a drop that became a dead letter stops the wait for it, with the reason."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest
from apache_beam.utils.timestamp import Timestamp
from support import ROOT

from tollwatch.schemas import DeadLetter, to_arrow_table

sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_live import (  # noqa: E402
    CLOCK_TICKS, PAGE, dead_letter, parse_stat, slope_per_hour, tree_pids, tree_usage,
    wait_readable)


def test_a_stat_line_is_read_after_the_last_parenthesis():
    fields = ["S"] + ["0"] * 10 + ["300", "100", "50", "50"] + ["0"] * 6 + ["7"] + ["0"] * 20
    line = "4242 (a) b (c)) " + " ".join(fields)
    assert parse_stat(line) == (500 / CLOCK_TICKS, 7 * PAGE)


def test_a_child_is_in_the_tree_and_its_cpu_stays_counted_once_reaped():
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"
    before, _, _ = tree_usage(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", burn + "import time; time.sleep(30)"])
    try:
        while child.pid not in tree_pids(os.getpid()):
            pass
        _, rss, n = tree_usage(os.getpid())
        assert n >= 2 and rss > 0
    finally:
        child.kill()
        child.wait()
    done = subprocess.run([sys.executable, "-c", burn])
    assert done.returncode == 0
    after, _, _ = tree_usage(os.getpid())
    assert after - before >= 0.3  # the second child ran and was reaped: its 0.3 s are our cutime


def test_the_slope_is_per_hour():
    assert slope_per_hour([(0, 100.0), (60, 101.0), (120, 102.0)]) == 60.0
    assert slope_per_hour([(0, 1.0), (1, 2.0)]) is None


class _Running:
    returncode = None

    def poll(self):
        return None


def test_a_drop_that_became_a_dead_letter_stops_the_wait_with_its_reason(tmp_path):
    out, drops = tmp_path / "out", tmp_path / "drop"
    folder = out / "dead_letters" / "ingested_date=2026-12-05"
    folder.mkdir(parents=True)
    letter = DeadLetter(str(drops / "drop01-b.html"), "extract", "EmptyText",
                        "no article text in the page", 120, Timestamp(1796428800))
    pq.write_table(to_arrow_table([letter], DeadLetter), folder / "part-t1-00000-of-00001.parquet")
    assert dead_letter(out, "drop01-b.html") == "extract: EmptyText: no article text in the page"
    assert dead_letter(out, "b.html") is None and dead_letter(out, "drop02-c.html") is None
    started = time.monotonic()
    with pytest.raises(RuntimeError, match=r"drop01-b.html became a dead letter.*no article text"):
        wait_readable(out, "drop01-b.html", started, 60, _Running())
    assert time.monotonic() - started < 5  # not the 60 s timeout
