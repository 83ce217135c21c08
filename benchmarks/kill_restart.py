"""Kill a batch run with SIGKILL mid-write, restart it, and compare with an uninterrupted run.

    .venv/bin/python benchmarks/kill_restart.py [--files 60]

The scenario of tests/e2e/test_faults.py, printed: `--files` small dated articles over ~files/2 days
(as many partitions per table); an uninterrupted `tollwatch run` into one folder; the same run into
another folder, killed (SIGKILL) as soon as its first Parquet file is committed, then run again.
Prints what the kill left, and per view the row count and a content hash (run-time columns left
out: tests/outputs.py) of both outputs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from outputs import TABLES, many_dates_corpus, stored_rows, temp_files, view_digest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=60)
    args = parser.parse_args()
    from tollwatch.pipeline.cli import main as tollwatch

    root = Path(tempfile.mkdtemp(prefix="tollwatch-kill-"))
    try:
        src = root / "in"
        many_dates_corpus(src, args.files)
        reference, out = root / "reference", root / "out"
        tollwatch(["run", "--input", str(src), "--output", str(reference), "-q"])
        proc = subprocess.Popen([sys.executable, "-m", "tollwatch.pipeline.cli", "run", "--input", str(src),
                                 "--output", str(out), "-q"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        while not list(out.glob("*/*/*.parquet")) and proc.poll() is None:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        print(f"killed: exit {proc.wait()}; left {len(list(out.glob('*/*/*.parquet')))} committed file(s), "
              f"{len(temp_files(out))} temporary file(s), stored rows "
              f"{ {t: stored_rows(out, t) for t in TABLES} }")
        tollwatch(["run", "--input", str(src), "--output", str(out), "-q"])
        print(f"temporary files after the restart: {len(temp_files(out))}\n")
        print("| view | uninterrupted rows | restarted rows | uninterrupted hash | restarted hash | equal |")
        print("| --- | ---: | ---: | --- | --- | --- |")
        expected, got = view_digest(reference), view_digest(out)
        for view in expected:
            (n1, h1), (n2, h2) = expected[view], got[view]
            print(f"| {view} | {n1} | {n2} | {h1[:16]} | {h2[:16]} | {expected[view] == got[view]} |")
        print("\nstored rows per table (before the views keep one per key): uninterrupted "
              f"{ {t: stored_rows(reference, t) for t in TABLES} }, restarted "
              f"{ {t: stored_rows(out, t) for t in TABLES} }")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
