"""Batch runs on Beam's own runners, Prism and Flink, give the rows of the default local run.

The runners are installed by `make runners` into Beam's caches (`make test` does it where Go and
Java are present). Without them these tests skip, saying what to install; under CI (the `CI`
variable set) a missing runner fails them instead, so a CI that lost its runners does not pass
quietly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import SEEDS, SHARED, needs_shared

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from same_output import compare, rows  # noqa: E402

CACHE = Path.home() / ".apache_beam" / "cache"
PRISM = CACHE / "prism" / "bin" / "prism"
FLINK_JAR = CACHE / "jars" / "beam-runners-flink-1.20-job-server-2.77.0.jar"
REALDEV = sorted(SHARED.glob("realdev/part_*/news_text"))


def runner_or_skip(path: Path, tools: str) -> Path:
    """The installed runner at `path`, else a skip (a failure under CI)."""
    if path.is_file():
        return path
    message = f"{path} is missing: install {tools}, then `make runners`"
    refused = path.with_name(path.name + ".refused")  # kept by `make runners`
    if refused.is_file():
        message += f" (Maven Central: {refused.read_text().strip()})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run(output: Path, *beam_args: str) -> None:
    command = [sys.executable, "-m", "tollwatch.pipeline.cli", "-q", "run",
               "--input", str(SEEDS), *map(str, REALDEV), "--output", str(output), *beam_args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def local_output(tmp_path_factory) -> Path:
    if not SEEDS.is_dir() or not REALDEV:
        pytest.skip("../shared (seeds, realdev) is not beside the checkout")
    output = tmp_path_factory.mktemp("local") / "out"
    run(output)
    return output


@needs_shared
def test_a_batch_on_prism_gives_the_rows_of_the_local_run(local_output, tmp_path):
    prism = runner_or_skip(PRISM, "Go")
    run(tmp_path / "out", "--runner=PrismRunner", f"--prism_location={prism}",
        "--environment_type=LOOPBACK")
    assert compare(local_output, tmp_path / "out") == []
    assert len(rows(local_output, "articles")) >= 90


@needs_shared
def test_a_batch_on_flink_gives_the_rows_of_the_local_run(local_output, tmp_path):
    jar = runner_or_skip(FLINK_JAR, "Java 17 and Maven")
    run(tmp_path / "out", "--runner=FlinkRunner", "--flink_master=[local]",
        f"--flink_job_server_jar={jar}", "--flink_version=1.20", "--environment_type=LOOPBACK")
    assert compare(local_output, tmp_path / "out") == []
