"""What benchmarks/bench_live.py reads of a process tree from /proc: a child's CPU counts while it
runs and after its parent reaped it (else a tree's idle CPU would lose the work of short-lived
children), a command name with spaces and parentheses does not shift the fields, and the memory
slope is per hour."""

from __future__ import annotations

import os
import subprocess
import sys

from support import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_live import CLOCK_TICKS, PAGE, parse_stat, slope_per_hour, tree_pids, tree_usage  # noqa: E402


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
