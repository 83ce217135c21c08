"""Batch runs on Beam's own runners, Prism and Flink, give the rows of the default local run.

The runners are installed by `make runners` into Beam's caches (`make test` does it where Go and
Java are present). Without them these tests skip, saying what to install; under CI (the `CI`
variable set) a missing runner fails them instead, so a CI that lost its runners does not pass
quietly, unless the registry refused the runner (recorded by `make runners`): that skip quotes it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT, SEEDS, SHARED, needs_shared

sys.path.insert(0, str(ROOT / "benchmarks"))
from same_output import TABLES, compare, rows  # noqa: E402

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
        # The registry's final "not served" (its words kept by `make runners`): no install step
        # can fix that, so CI says it and goes on rather than failing for ever.
        pytest.skip(f"{path.name}: Maven Central: {refused.read_text().strip()}")
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
    print("prism batch: the same rows as the local run:",
          {t: len(rows(tmp_path / "out", t)) for t in TABLES})
    assert len(rows(local_output, "articles")) >= 90


@needs_shared
def test_a_batch_on_flink_gives_the_rows_of_the_local_run(local_output, tmp_path):
    jar = runner_or_skip(FLINK_JAR, "Java 17 and Maven")
    run(tmp_path / "out", "--runner=FlinkRunner", "--flink_master=[local]",
        f"--flink_job_server_jar={jar}", "--flink_version=1.20", "--environment_type=LOOPBACK")
    assert compare(local_output, tmp_path / "out") == []


def dated_today(seed: Path) -> str:
    """A seed's text with its ` date YYYY-MM-DD` marker set to today: a story of now, so that its
    claims are on time for the toll windows of a live stream."""
    import datetime as dt
    import re

    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    return re.sub(r"^ date \d{4}-\d{2}-\d{2}", f" date {today}", seed.read_text(encoding="utf-8"))


def feed_of(text: str, guid: str) -> bytes:
    """An Atom feed of one entry carrying the whole story (so it is not fetched from a link)."""
    import datetime as dt
    from xml.sax.saxutils import escape

    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    html = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n") if p.strip())
    return (f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            f"<title>Wire</title><id>urn:wire</id><updated>{now}</updated>"
            f"<entry><id>urn:wire:{guid}</id><title>Wire {guid}</title><updated>{now}</updated>"
            f"<published>{now}</published><content type='html'>{escape(html)}</content></entry>"
            f"</feed>").encode()


def wait_for_rows(output: Path, tables: dict[str, int], seconds: float) -> dict[str, int]:
    """Polls the output until each table holds at least its number of stored rows (or time is up);
    returns the counts last seen."""
    import time

    from outputs import stored_rows

    ends = time.monotonic() + seconds
    while True:
        seen = {t: stored_rows(output, t) for t in tables}
        if all(seen[t] >= n for t, n in tables.items()) or time.monotonic() > ends:
            return seen
        time.sleep(2)


def stored(output: Path) -> dict[str, int]:
    """Rows stored (before any view keeps one per key) of articles and claims, and distinct claim ids."""
    import duckdb

    claims = f"read_parquet('{output}/claims/*/*.parquet')"
    (n_claims, ids), = duckdb.sql(f"SELECT count(*), count(DISTINCT claim_id) FROM {claims}").fetchall()
    (articles,), = duckdb.sql(f"SELECT count(*) FROM read_parquet('{output}/articles/*/*.parquet')"
                              ).fetchall()
    return {"articles": articles, "claims": n_claims, "claim_ids": ids}


def start_stream(output: Path, drop: Path, feeds: Path, log: Path, *beam_args: str):
    command = [sys.executable, "-m", "tollwatch.pipeline.cli", "run", "--streaming",
               "--watch", str(drop), "--feeds", str(feeds), "--allow-private-hosts",
               "--output", str(output), "--tick-seconds", "2", "--write-window-seconds", "5",
               *beam_args]
    return subprocess.Popen(command, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def stop(process, log: Path) -> None:
    """Ctrl-C: the job is cancelled and the CLI exits 0 within half a minute."""
    import signal

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0, log.read_text()[-3000:]


@needs_shared
def test_a_stream_on_prism_is_readable_within_a_minute_and_a_restart_loses_nothing(tmp_path):
    """`run --streaming --watch DROP --feeds` on Prism: a dropped file and a published feed entry
    are articles, claims and toll panes in DuckDB within 60 s; Ctrl-C stops the job; a restart reads what
    came while it was down and writes no row twice (stored rows, not only the views), and a copy of a
    story written before the restart, dropped after it, is marked as that story's copy."""
    import time

    import duckdb
    from feed_server import FeedServer, Reply
    from tollwatch.pipeline.query import connect

    runner_or_skip(PRISM, "Go")
    seeds = sorted(SEEDS.glob("*.txt"))
    drop, output, log = tmp_path / "drop", tmp_path / "out", tmp_path / "stream.log"
    drop.mkdir()
    empty = (b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>Wire</title>"
             b"<id>urn:wire</id><updated>2026-01-01T00:00:00Z</updated></feed>")
    with FeedServer() as server:
        server.routes["/feed.xml"] = Reply(body=empty)
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(f'[[feed]]\nurl = "{server.url("/feed.xml")}"\npoll_seconds = 2\n')
        stream = start_stream(output, drop, feeds, log)
        try:
            (drop / "first.txt").write_text(dated_today(seeds[0]), encoding="utf-8")
            server.routes["/feed.xml"] = Reply(body=feed_of(dated_today(seeds[1]), "e1"))
            dropped_at = time.monotonic()
            seen = wait_for_rows(output, {"articles": 2, "claims": 1, "toll": 1,
                                          "_state/signatures": 2}, 60)
            print(f"prism stream: file and feed entry to stored rows {seen} in "
                  f"{time.monotonic() - dropped_at:.1f} s (polled every 2 s)")
            assert seen["articles"] >= 2 and seen["claims"] >= 1 and seen["toll"] >= 1, (
                seen, log.read_text()[-3000:])
            before = stored(output)
        finally:
            stop(stream, log)
        # While it is down a file is dropped; the restarted stream reads it, and reads the first
        # file and the feed entry again without writing them again.
        (drop / "second.txt").write_text(dated_today(seeds[2]), encoding="utf-8")
        restarted_at = time.time()
        stream = start_stream(output, drop, feeds, log)
        try:
            seen = wait_for_rows(output, {"articles": 3}, 60)
            # A copy of the first story (a page with a line of its own), read after the restart.
            (drop / "copy.txt").write_text(dated_today(seeds[0]) + "\n\nRead more: other stories.",
                                           encoding="utf-8")
            seen = wait_for_rows(output, {"articles": 4}, 60)
            time.sleep(15)  # three write windows: a row read again would be written by now
            after = stored(output)
        finally:
            stop(stream, log)
    print(f"prism stream: stored rows before the restart {before}, after it {after}")
    assert seen["articles"] == 4, (seen, log.read_text()[-3000:])
    marks = {u.rsplit("/", 1)[-1]: row for u, *row in duckdb.sql(
        f"SELECT uri, doc_id, copy_of, story_id, copy_kind FROM "
        f"read_parquet('{output}/articles/*/*.parquet')").fetchall() if "drop" in u}
    assert sorted(marks) == ["copy.txt", "first.txt", "second.txt"], marks
    assert after["articles"] == 4 and before["articles"] == 2, (before, after)
    # The state holds each canonical's signature once: the two written before, second.txt's; the
    # seeded ones are not written again, nor the copy's.
    from outputs import stored_rows
    assert stored_rows(output, "_state/signatures") == 3
    # The copy links to the canonical written before the restart, its claims are a copy's.
    (first, _, cluster, _), (copy, copy_of, copy_cluster, kind) = marks["first.txt"], marks["copy.txt"]
    print(f"prism stream: the copy read after the restart: copy_of {copy_of} (first.txt: {first}), "
          f"cluster {copy_cluster}, kind {kind}")
    assert (copy_of, copy_cluster, kind) == (first, cluster, "near"), marks
    assert duckdb.sql(f"SELECT bool_and(is_copy AND canonical_id = '{first}') FROM read_parquet("
                      f"'{output}/claims/*/*.parquet') WHERE doc_id = '{copy}'").fetchall() == [(True,)]
    # Claims: the first run's, and the second file's, each once.
    assert after["claim_ids"] == after["claims"] > before["claims"] == before["claim_ids"], (before, after)
    con = connect(str(output))
    assert con.execute("SELECT count(*) FROM articles").fetchall()[0][0] == 4
    # The restarted stream's toll counts the claims written before it (not read again): panes it
    # computed hold more than the one article it wrote.
    (docs,), = duckdb.sql(f"SELECT max(n_docs) FROM read_parquet('{output}/toll/*/*.parquet') "
                          f"WHERE epoch(computed_at) >= {restarted_at}").fetchall()
    assert docs is not None and docs >= 2, docs


def test_streaming_true_means_streaming_and_runner_options_pass_through():
    from tollwatch.pipeline.cli import streaming_asked, with_plain_switches
    from tollwatch.pipeline.options import unknown_flags

    assert with_plain_switches(["--streaming=True", "--x=1"]) == ["--streaming", "--x=1"]
    assert with_plain_switches(["--streaming=false"]) == []
    with pytest.raises(ValueError):
        with_plain_switches(["--streaming=maybe"])
    assert streaming_asked(with_plain_switches(["--streaming=True"]))
    assert not streaming_asked(["--runner=PrismRunner"])
    # Options only the runner reads: unknown to Beam's Python side, passed on with a named runner.
    assert unknown_flags(["--checkpointing_interval=10000", "--savepoint_path=/s"]) == [
        "--checkpointing_interval=10000", "--savepoint_path=/s"]


def test_an_unknown_flag_without_a_runner_is_refused_as_a_typo(tmp_path, capsys):
    from tollwatch.pipeline.cli import main

    with pytest.raises(SystemExit):
        main(["run", "--input", str(tmp_path), "--output", str(tmp_path / "o"), "--chekpointing=1"])
    assert "unrecognized arguments: --chekpointing=1" in capsys.readouterr().err


def test_a_stream_asks_prism_to_run_the_elements_of_a_key_one_after_another(tmp_path):
    """Prism splits a slow bundle and runs its rest beside it, two elements of one key at once, each
    reading the state the other has not written yet (a feed entry polled at two ticks was written
    twice): a stream that may run on Prism asks it not to split; other runners are not told."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import DebugOptions, PipelineOptions

    from tollwatch.pipeline.build import PRISM_NO_SPLITS, build_streaming, keep_keys_in_order
    from tollwatch.pipeline.options import TollwatchOptions

    options = PipelineOptions(["--streaming", "--runner=PrismRunner", "--prism_location=/nowhere"],
                              watch=[str(tmp_path / "drop")], output=str(tmp_path / "out"))
    pipeline = beam.Pipeline(options=options)  # which holds a copy of the options
    build_streaming(pipeline, options.view_as(TollwatchOptions), resume=False)
    assert PRISM_NO_SPLITS in pipeline.options.view_as(DebugOptions).experiments

    def experiments(*beam_args: str) -> list[str]:
        options = PipelineOptions(list(beam_args))
        keep_keys_in_order(options)
        return options.view_as(DebugOptions).experiments or []

    assert PRISM_NO_SPLITS in experiments("--runner=PortableRunner", "--job_endpoint=localhost:8073")
    assert PRISM_NO_SPLITS in experiments()  # no runner named: Beam's default, the DirectRunner
    assert experiments("--runner=FlinkRunner") == experiments("--runner=DataflowRunner") == []
