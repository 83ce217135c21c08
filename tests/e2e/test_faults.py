"""Faults mid-run: a worker exception inside a bundle, and a run killed with SIGKILL while it writes.

What Beam 2.77's local runners do with a failed bundle (read in the installed source):
- BundleBasedDirectRunner retries it: `runners/direct/executor.py`, `TransformExecutor` runs a
  bundle up to `_MAX_RETRY_PER_BUNDLE = 4` times, and a bundle's outputs are committed only when it
  succeeds (`handle_result` after `finish_bundle`), so a retried bundle adds no duplicate.
- FnApiRunner (tollwatch's default local runner) does not: `fn_runner.py` raises
  `RuntimeError(result.error)` for a failed bundle and the pipeline fails. Runners that retry are
  Dataflow and Flink.
Either way the output is exact because of how it is written (transforms/parquet.py): a worker
writes a temporary file in OUT/.tmp (outside the table folders, not named *.parquet, so no view
reads it) and a committed file is renamed to a name that depends only on the run's inputs, the
partition and the shard, so a rerun replaces every file the failed run committed instead of adding
rows; the views keep one row per key (doc_id, claim_id, the latest toll pane) over what runs with
other inputs stored. The next successful run removes temporary files left by killed runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from outputs import TABLES, many_dates_corpus, stored_rows, temp_files, view_digest
from tollwatch.pipeline.cli import main
from tollwatch.transforms import parquet

def run(out: Path, *inputs: Path, runner: str | None = None) -> int:
    extra = [f"--runner={runner}"] if runner else []
    return main(["run", "--input", *map(str, inputs), "--output", str(out), "-q", *extra])


def stored(out: Path) -> dict[str, int]:
    return {t: stored_rows(out, t) for t in TABLES}


@pytest.fixture
def fail_once_mid_write(tmp_path, monkeypatch):
    """ParquetSink.write raises the first time it is given an Article (a file marker makes it fail
    only once): a worker dying with half an articles file written."""
    marker = tmp_path / "failed_once"
    write = parquet.ParquetSink.write

    def failing_write(self, record):
        if self._record_type.__name__ == "Article" and not marker.exists():
            marker.write_text("failed here")
            raise RuntimeError("injected worker failure mid-write")
        return write(self, record)

    monkeypatch.setattr(parquet.ParquetSink, "write", failing_write)
    return marker


@pytest.fixture(scope="module")
def reference(run_over_ab):
    """What one uninterrupted run over the corpus stores."""
    return view_digest(run_over_ab), stored(run_over_ab)


def test_bundle_based_direct_runner_retries_the_failed_bundle_without_duplicates(
        small_inputs, reference, fail_once_mid_write, tmp_path):
    out = tmp_path / "out"
    assert run(out, *small_inputs, runner="BundleBasedDirectRunner") == 0
    assert fail_once_mid_write.exists()  # the fault did happen
    assert (view_digest(out), stored(out)) == reference
    # The failed attempt's half-written file stays in OUT/.tmp, where no view looks ...
    (orphan,) = temp_files(out)
    assert orphan.parent == out / ".tmp" / "articles" and not orphan.name.endswith(".parquet")
    # ... until the next run, which removes it.
    assert run(out, *small_inputs) == 0
    assert temp_files(out) == [] and (view_digest(out), stored(out)) == reference


def test_fnapi_runner_fails_the_run_and_a_rerun_gives_exactly_the_rows(
        small_inputs, reference, fail_once_mid_write, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(Exception, match="injected worker failure"):
        run(out, *small_inputs)
    assert fail_once_mid_write.exists()
    # What the failed run committed is whole files, nothing half-written under a table folder.
    for path in out.glob("*/*/*.parquet"):
        pq.read_metadata(path)
    assert run(out, *small_inputs) == 0
    assert (view_digest(out), stored(out)) == reference


def test_a_run_killed_mid_write_and_restarted_ends_with_exactly_the_rows_of_an_uninterrupted_run(tmp_path):
    src = tmp_path / "in"
    many_dates_corpus(src)
    reference = tmp_path / "reference"
    assert run(reference, src) == 0
    expected = (view_digest(reference), stored(reference))

    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "tollwatch.pipeline.cli", "run", "--input", str(src),
                             "--output", str(out), "-q"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not list(out.glob("*/*/*.parquet")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)  # as soon as the first file is committed: mid-write
    assert proc.wait() == -signal.SIGKILL, "the run finished before it could be killed"
    committed = list(out.glob("*/*/*.parquet"))
    assert committed and stored(out) != expected[1], "the kill left a partial output"
    for path in committed:
        pq.read_metadata(path)  # committed files are whole
    assert all(not p.name.endswith(".parquet") for p in temp_files(out))

    assert run(out, src) == 0
    assert (view_digest(out), stored(out)) == expected
    assert temp_files(out) == []
