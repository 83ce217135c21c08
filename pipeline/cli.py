"""The `tollwatch` command: run the pipeline, query its output, run the demo."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

LOG = logging.getLogger("tollwatch")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEMO_PATTERNS = ("*.html", "*.txt", "*.xml")

_DESCRIPTION = """\
tollwatch follows a crisis in the news: it reads articles (HTML pages, text files, RSS/Atom feed
files), marks republished wire copy, and writes partitioned Parquet that DuckDB reads.

  tollwatch demo                              run on the bundled (fictional) example corpus
  tollwatch run --input DIR --output OUT      run on your own files
  tollwatch query OUT ["SQL"]                 summarise or query the output with DuckDB
"""

_RUN_EPILOG = """\
Any other --flag is passed to Apache Beam. Without --runner the pipeline runs here, on Beam's
in-process FnApiRunner (no download, no service). Use both cores with
  --direct_running_mode=multi_processing --direct_num_workers=2
or deploy with e.g. --runner=DataflowRunner --project=... --region=... --temp_location=gs://...

Output: OUT/articles/published_date=YYYY-MM-DD/*.parquet and
        OUT/dead_letters/ingested_date=YYYY-MM-DD/*.parquet
Rerunning on the same input replaces those files: the rows are not written twice.
"""

_FOLLOW_EPILOG = """\
Every tick (--tick-seconds, default 30) lists the --watch folders and polls the feeds that are
due, and runs the pipeline of `tollwatch run` over what is new. New rows are readable with
`tollwatch query OUT` as soon as a tick ends; state (file and feed cursors, dedup signatures)
is kept in OUT/_state/, so follow can be stopped and started again. Ctrl-C ends it after the
current tick.
  tollwatch follow --watch ~/drop --feeds feeds.toml --output OUT
"""

_QUERY_EPILOG = """\
Views: articles, canonical_articles (each story once), claims, incidents, toll, toll_latest,
toll_now, dead_letters.
Example:
  tollwatch query OUT "SELECT outlet, count(*) FROM articles GROUP BY 1 ORDER BY 2 DESC"
Without SQL it prints a summary. The SQL runs in a sandbox: SELECT (and EXPLAIN) over the
output's tables only; --unsafe-sql lifts it (files, network, COPY, ATTACH, extensions).
The same views in plain DuckDB:
  SELECT published_date, count(*)
  FROM read_parquet('OUT/articles/*/*.parquet', hive_partitioning = true) GROUP BY 1;
"""


def _parser() -> argparse.ArgumentParser:
    from tollwatch.pipeline.options import LiveOptions, TollwatchOptions

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    parser = argparse.ArgumentParser(
        prog="tollwatch", description=_DESCRIPTION, parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run", help="read files and write partitioned Parquet", epilog=_RUN_EPILOG, parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    TollwatchOptions._add_argparse_args(run)  # one definition for the CLI and for Beam
    LiveOptions._add_argparse_args(run)  # the live sources of `run --streaming`

    follow = commands.add_parser(
        "follow", help="follow live: watch folders and poll feeds, every tick, into one output",
        epilog=_FOLLOW_EPILOG, parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter)
    TollwatchOptions._add_argparse_args(follow)
    LiveOptions._add_argparse_args(follow)
    follow.add_argument("--ticks", type=int, default=None, metavar="N",
                        help="stop after N ticks (default: run until Ctrl-C)")

    query = commands.add_parser(
        "query", help="query an output folder with DuckDB", epilog=_QUERY_EPILOG, parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    query.add_argument("output", metavar="DIR", help="an output folder written by `tollwatch run`")
    query.add_argument("sql", nargs="?", help="SQL over the views; without it, a summary")
    query.add_argument("--unsafe-sql", action="store_true",
                       help="run the SQL with DuckDB's full access (files, network, extensions, "
                            "COPY, ATTACH); by default only SELECTs over the output's views run")

    report = commands.add_parser(
        "report", help="chart the evolving toll (PNG, or HTML with every event)", parents=[common])
    report.add_argument("output", metavar="DIR", help="an output folder written by `tollwatch run`")
    report.add_argument("--out", required=True, metavar="FILE", help="FILE.png or FILE.html")
    report.add_argument("--event", metavar="ID", help="the event to chart (default: the one with "
                        "most claims; HTML: all)")

    for name, labels, what in (
            ("eval-claims", "GOLD.jsonl", "the claim extractor against hand-labelled claims "
                                          "(JSON lines: doc, number, number_high, group, source, ...)"),
            ("eval-dedup", "LABELS.json", "duplicate detection (pairwise, per kind) against labelled "
                                          "relations (pairs exact|near|rewrite, not_duplicates)")):
        evaluate = commands.add_parser(name, parents=[common], help=f"score {what}")
        evaluate.add_argument("labels", metavar=labels, help="the hand-labelled file")
        evaluate.add_argument("--input", nargs="+", required=True, metavar="PATH",
                              help="the labelled documents (folders, globs or files)")
        evaluate.add_argument("--sources", nargs="+", default=[], metavar="FILE",
                              help="extra known-sources files")

    demo = commands.add_parser("demo", help="run on the bundled fictional example corpus",
                               parents=[common])
    demo.add_argument("--output", default="demo-output", metavar="DIR",
                      help="output folder (default: %(default)s)")
    return parser


def _configure_logging(quiet: bool) -> None:
    """tollwatch's own lines at INFO; Beam's chatter (and its import-time warnings about optional
    GCP clients, logged on the root logger) only when it is an error. Call before importing Beam."""
    logging.basicConfig(format="tollwatch: %(message)s", stream=sys.stderr, force=True)
    logging.getLogger().setLevel(logging.ERROR)
    LOG.setLevel(logging.WARNING if quiet else logging.INFO)


def _counter(result, name: str) -> int:
    from apache_beam.metrics.metric import MetricsFilter

    counters = result.metrics().query(MetricsFilter().with_name(name))["counters"]
    return sum(c.committed or 0 for c in counters)


def _quiet_workers(beam_args: Sequence[str]) -> list[str]:
    """The Beam flags, with the worker processes' chatter at WARNING unless asked otherwise."""
    beam_args = list(beam_args)
    if not any(a.startswith("--default_sdk_harness_log_level") for a in beam_args):
        beam_args.append("--default_sdk_harness_log_level=WARNING")
    return beam_args


def run_pipeline(inputs: Sequence[str], output: str, beam_args: Sequence[str] = (),
                 **tollwatch_options) -> dict[str, int]:
    """Runs the batch pipeline; returns the counts a user is told about. `tollwatch_options` are
    TollwatchOptions by name (events, sources, max_file_bytes, ...)."""
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.pipeline.build import build
    from tollwatch.pipeline.options import TollwatchOptions
    from tollwatch.pipeline.runner import make_pipeline
    from tollwatch.transforms.ingest import resolve_inputs

    patterns = resolve_inputs(list(inputs))
    n_files = sum(len(m.metadata_list) for m in FileSystems.match(patterns))
    if "://" not in output:
        output = os.path.abspath(output)
    beam_args = _quiet_workers(beam_args)
    options = PipelineOptions(beam_args, input=list(inputs), output=output,
                              **{k: v for k, v in tollwatch_options.items() if v is not None})
    LOG.info("reading %d file(s) from %s", n_files, ", ".join(inputs))
    started = time.monotonic()
    started_at = time.time()
    pipeline = make_pipeline(options)
    build(pipeline, options.view_as(TollwatchOptions), patterns, now=Timestamp.now(),
          expected_files=n_files)
    result = pipeline.run()
    if detached(options):
        return {"files": n_files, "submitted": 1, "seconds": round(time.monotonic() - started, 1)}
    result.wait_until_finish()
    _clean_temp(output, started_at)
    counts = {
        "files": n_files,
        "articles": _counter(result, "articles_extracted"),
        "exact_copies": _counter(result, "exact_copies"),
        "dead_letters": _counter(result, "read_dead_letters") + _counter(result, "extract_dead_letters"),
        "seconds": round(time.monotonic() - started, 1),
    }
    return counts


def run_streaming(args, beam_args: Sequence[str]) -> int:
    """`run --streaming`: the live sources as a real stream, on Prism (without --runner, once
    `make runners` has built it), Flink, Dataflow or any portable runner. Waits for the job (a
    local or LOOPBACK job dies with its client) until it ends or Ctrl-C cancels it; a Dataflow job
    lives on its service, and is handed over."""
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    from tollwatch.pipeline.build import build_streaming
    from tollwatch.pipeline.options import TollwatchOptions, unknown_flags
    from tollwatch.pipeline.runner import make_pipeline, prism_binary

    if not args.output or not (args.watch or args.feeds or args.feed):
        raise ValueError("run --streaming needs --output and --watch, --feeds or --feed")
    beam_args = list(beam_args)
    runner = PipelineOptions(beam_args).view_as(StandardOptions).runner
    if runner is None:
        prism = prism_binary()
        if prism is None:
            raise ValueError("run --streaming needs a streaming runner: build Prism with `make "
                             "runners` (Go), or name one: --runner=FlinkRunner, DataflowRunner, ...")
        beam_args += ["--runner=PrismRunner", f"--prism_location={prism}"]
    passed = unknown_flags(beam_args)
    if passed:
        LOG.info("passed to the runner as they are: %s", " ".join(passed))
    skip = {"command", "quiet"}
    options = PipelineOptions(beam_args, **{k: v for k, v in vars(args).items()
                                            if k not in skip and v is not None})
    pipeline = make_pipeline(options)
    build_streaming(pipeline, options.view_as(TollwatchOptions), _feed_source(options))
    result = pipeline.run()
    runner = options.view_as(StandardOptions).runner
    if detached(options) or runner in ("DataflowRunner", "TestDataflowRunner"):
        LOG.info("streaming job %s submitted to %s", job_id(result), runner)
        return 0
    LOG.info("streaming job %s running on %s; Ctrl-C stops it", job_id(result), runner)
    # Beam's handler of Ctrl-C stops the local job server at once, under the running job: the job is
    # cancelled through the runner instead, then the server stops when the CLI exits.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        state = wait_for(result)
    except KeyboardInterrupt:
        LOG.info("stopping job %s", job_id(result))
        result.cancel()
        state = wait_for(result, deadline_seconds=60)
    _report_drops(result)
    LOG.info("streaming job %s ended: %s", job_id(result), state)
    return 0


def with_plain_switches(beam_args: Sequence[str]) -> list[str]:
    """The Beam flags with `--streaming=True` as `--streaming` (and `=False` left out): Beam's
    switches take no value, and its parser exits on one."""
    out = []
    for arg in beam_args:
        name, equals, value = arg.partition("=")
        if equals and name == "--streaming":
            if value.strip().lower() in ("true", "1", "yes"):
                out.append(name)
            elif value.strip().lower() not in ("false", "0", "no"):
                raise ValueError(f"{name} takes True or False, not {value!r}")
        else:
            out.append(arg)
    return out


def streaming_asked(beam_args: Sequence[str]) -> bool:
    """Whether the Beam flags ask for a stream (--streaming, --streaming=True, ...), as Beam reads them."""
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    return bool(PipelineOptions(list(beam_args)).view_as(StandardOptions).streaming)


def _runner_named(beam_args: Sequence[str]) -> bool:
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    return PipelineOptions(list(beam_args)).view_as(StandardOptions).runner is not None


def wait_for(result, poll_seconds: float = 2.0, deadline_seconds: Optional[float] = None) -> str:
    """Waits until the job ends; returns its final state (or the last one seen by the deadline).
    Polls the job's state: Beam's wait_until_finish on a portable runner holds one state stream
    whose gRPC deadline is --job_server_timeout (300 s), so a stream's client died after 5 minutes,
    and its LOOPBACK job with it."""
    from apache_beam.runners.runner import PipelineState

    ends = None if deadline_seconds is None else time.monotonic() + deadline_seconds
    while True:
        state = result.state
        if PipelineState.is_terminal(state) or (ends is not None and time.monotonic() > ends):
            return str(state)
        time.sleep(poll_seconds)


def job_id(result) -> str:
    """The runner's id of a submitted job (Dataflow: job_id(); portable runners: _job_id)."""
    found = getattr(result, "job_id", None)
    if callable(found):
        found = found()
    return str(found or getattr(result, "_job_id", None) or "(no id)")


STREAM_DROPS = {"write_too_late": "record(s) reached their write window past the allowed "
                                  "lateness: not written",
                "toll_claims_too_late": "claim(s) came after every toll window they belong to had "
                                        "closed (past the allowed lateness): written, but left "
                                        "out of the toll"}


def _report_drops(result) -> None:
    """Logs what a stream left out on purpose (never silently)."""
    for name, what in STREAM_DROPS.items():
        try:
            dropped = _counter(result, name)
        except Exception:  # noqa: BLE001 - a runner that reports no metrics after a cancel
            continue
        if dropped:
            LOG.warning("%d %s", dropped, what)


def _feed_source(options):
    """The ReadFeeds source of --feeds/--feed, or None."""
    from tollwatch.pipeline.options import LiveOptions
    from tollwatch.transforms.feeds import ReadFeeds

    live = options.view_as(LiveOptions)
    if not live.feeds and not live.feed:
        return None
    return ReadFeeds(_feeds_of(live), _fetch_policy(live))


def _exact_pattern(path: str) -> str:
    """A match pattern for exactly this path, whatever glob characters its name holds."""
    if "://" in path:
        return path
    return "".join(f"[{c}]" if c in "*?[" else c for c in path)


def follow_command(args, beam_args: Sequence[str]) -> int:
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.pipeline.build import build
    from tollwatch.pipeline.follow import Follower, stop_on_signals
    from tollwatch.pipeline.options import TollwatchOptions
    from tollwatch.pipeline.runner import make_pipeline
    from tollwatch.transforms.watch import watch_patterns

    if not args.output:
        raise ValueError("follow needs --output")
    if not args.watch and not args.feeds and not args.feed:
        raise ValueError("follow needs --watch, --feeds or --feed")
    output = os.path.abspath(args.output) if "://" not in args.output else args.output
    if "://" in output:
        raise ValueError("follow keeps its state in a local output folder; for a bucket, deploy "
                         "the streaming pipeline (see deploy/README.md)")
    os.makedirs(output, exist_ok=True)
    watch = watch_patterns(args.watch) if args.watch else []
    beam_args = _quiet_workers(beam_args)
    skip = {"command", "quiet", "ticks", "output", "input"}
    settings = {k: v for k, v in vars(args).items() if k not in skip and v is not None}
    feeds_due, poll_sources = _feed_hooks(args, output)

    def run_tick(state, new_files, due_feeds, key) -> dict:
        tick_started = time.time()
        options = PipelineOptions(beam_args, output=output, input=args.watch or args.feed or
                                  [args.feeds], **settings)
        pipeline = make_pipeline(options)
        extra, collect = poll_sources(pipeline, options, state, due_feeds, key)
        build(pipeline, options.view_as(TollwatchOptions),
              [_exact_pattern(v.path) for v in new_files], now=Timestamp.now(), key=key,
              expected_files=len(new_files), extra_sources=extra)
        pipeline.run().wait_until_finish()
        _clean_temp(output, tick_started)
        return collect()

    follower = Follower(output, watch, run_tick, feeds_due)
    stop_on_signals(follower)

    def report(result) -> None:
        if result is not None:
            LOG.info("tick %d: %d new file(s), %d feed(s) polled, %.1f s", result.tick,
                     result.files, result.feeds, result.seconds)

    LOG.info("following %s into %s every %g s (Ctrl-C to stop)",
             ", ".join(watch + list(args.feed or []) + ([args.feeds] if args.feeds else [])),
             output, args.tick_seconds)
    ticks = follower.run(args.tick_seconds, args.ticks, report)
    LOG.info("stopped after %d tick(s); output in %s", ticks, output)
    return 0


def _feeds_of(live) -> list:
    """The feeds of --feeds FILE and --feed URL."""
    from tollwatch.transforms.feeds import load_feeds, merge_feeds

    return merge_feeds(load_feeds(live.feeds) if live.feeds else [], live.feed or [])


def _fetch_policy(live):
    from tollwatch.transforms.fetch import FetchPolicy

    return FetchPolicy(timeout=live.fetch_timeout_seconds,
                       allow_private_hosts=bool(live.allow_private_hosts)).validate()


def _feed_hooks(args, output: str):
    """(feeds_due, poll_sources) for follow: which feeds to poll in a tick, and the pipeline
    source that polls them and hands their cursors back after the run."""
    if not args.feeds and not args.feed:
        return (lambda state, now: []), (lambda pipeline, options, state, due, key: ([], dict))
    import glob
    import json

    import apache_beam as beam
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.transforms.feeds import FeedCursor, PollFeeds

    feeds, policy = _feeds_of(args), _fetch_policy(args)

    def cursors_of(state) -> dict:
        return {url: FeedCursor.from_json(doc) for url, doc in state.feeds.items()}

    def feeds_due(state, now: float) -> list:
        cursors = cursors_of(state)
        return [f for f in feeds
                if (cursors.get(f.url) or FeedCursor(f.url)).due(f, Timestamp(now))]

    def poll_sources(pipeline, options, state, due, key):
        if not due:
            return [], dict
        cursors = cursors_of(state)
        folder = os.path.join(output, "_state", ".ticks", key)
        shutil.rmtree(folder, ignore_errors=True)
        polled = (pipeline
                  | "FeedsDue" >> beam.Create([(f, cursors.get(f.url)) for f in due])
                  | "PollFeeds" >> PollFeeds(policy))
        (polled["cursors"]
         | "CursorJson" >> beam.Map(lambda c: json.dumps(c.to_json(), ensure_ascii=False))
         | "KeepCursors" >> beam.io.WriteToText(os.path.join(folder, "cursors"),
                                                file_name_suffix=".jsonl"))

        def collect() -> dict:
            found = {}
            for path in sorted(glob.glob(os.path.join(folder, "cursors*.jsonl"))):
                with open(path, encoding="utf-8") as handle:
                    for line in handle:
                        doc = json.loads(line)
                        found[doc["url"]] = doc
            shutil.rmtree(folder, ignore_errors=True)
            return found

        return [{"raw_docs": polled["raw_docs"], "dead_letters": polled["dead_letters"]}], collect

    return feeds_due, poll_sources


def detached(options) -> bool:
    """Whether a batch `run` returns once the job is handed over instead of waiting for it and
    reporting its counters: a dry run or a template (--dry_run, --template_location; the Dataflow
    flex template launcher sets the latter), where the job is translated, not run."""
    from apache_beam.options.pipeline_options import GoogleCloudOptions, TestOptions

    return bool(options.view_as(TestOptions).dry_run
                or options.view_as(GoogleCloudOptions).template_location)


def _clean_temp(output: str, started_at: float) -> None:
    """After a successful run: removes the temporary files that runs killed or failed before this
    one left behind (older than this run's start), then the empty temporary folders. The views
    never read them (they are outside the table folders and not named *.parquet); this keeps them
    from piling up. Files of this run's own failed attempts stay until the next run, as do files of
    a run writing the same output at the same time."""
    if "://" in output:
        return
    for temp in (os.path.join(output, ".tmp"), os.path.join(output, "_state", ".tmp")):
        for folder, _subdirs, files in sorted(os.walk(temp), reverse=True):
            for name in files:
                path = os.path.join(folder, name)
                try:
                    if os.lstat(path).st_mtime < started_at:
                        os.remove(path)
                except OSError:
                    pass  # gone already
            try:
                os.rmdir(folder)
            except OSError:
                pass  # not empty


def _print_run(counts: dict[str, int], output: str) -> None:
    if counts.get("submitted"):
        print(f"Job handed to the runner ({counts['files']} input file(s) matched now); its "
              f"Parquet goes below {output}. Follow it in the runner's console.")
        return
    print(f"Read {counts['files']} file(s) in {counts['seconds']} s: {counts['articles']} article(s) "
          f"({counts['exact_copies']} exact copies), {counts['dead_letters']} dead letter(s).")
    print(f"Parquet written below {output}")


def _query(output: str, sql: Optional[str], unsafe: bool = False) -> int:
    from tollwatch.pipeline.query import UnsafeSQL, run_sql, summary

    if not sql:
        print(summary(output))
        return 0
    import duckdb

    def show(relation) -> None:
        if relation is not None:
            relation.show(max_width=200, max_rows=200)

    try:
        run_sql(output, sql, unsafe=unsafe, show=show)
    except (duckdb.Error, UnsafeSQL) as err:
        print(f"tollwatch query: {err}", file=sys.stderr)
        return 2
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _configure_logging(quiet="-q" in argv or "--quiet" in argv)
    parser = _parser()
    args, beam_args = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if beam_args and args.command not in ("run", "follow"):
        parser.error(f"unrecognized arguments: {' '.join(beam_args)}")
    from tollwatch.pipeline.options import unknown_flags
    from tollwatch.transforms.ingest import InputError

    try:
        beam_args = with_plain_switches(beam_args)
        if args.command == "query":
            return _query(args.output, args.sql, args.unsafe_sql)
        if args.command == "eval-claims":
            from tollwatch.pipeline.evaluate import eval_claims

            print(eval_claims(args.labels, args.input, args.sources))
            return 0
        if args.command == "eval-dedup":
            from tollwatch.pipeline.evaluate import eval_dedup

            print(eval_dedup(args.labels, args.input, args.sources))
            return 0
        if args.command == "report":
            from tollwatch.pipeline.report import render

            drawn = render(args.output, args.out, args.event)
            print(f"Chart of {', '.join(drawn)} written to {args.out}")
            return 0
        if args.command == "follow":
            unknown = unknown_flags(beam_args)
            if unknown:
                parser.error(f"unrecognized arguments: {' '.join(unknown)} "
                             "(neither a tollwatch nor an Apache Beam option)")
            return follow_command(args, beam_args)
        if args.command == "demo":
            inputs = [str(EXAMPLES / pattern) for pattern in DEMO_PATTERNS]
            output = args.output
            beam_args = []
            if os.path.isdir(output):
                shutil.rmtree(output)  # the demo's own folder: start clean every time
            counts = run_pipeline(inputs, output, events=str(EXAMPLES / "events.toml"),
                                  sources=[str(EXAMPLES / "sources.toml")])
        else:
            if streaming_asked(beam_args):
                return run_streaming(args, beam_args)
            if not args.input or not args.output:
                parser.error("run needs --input and --output")
            unknown = unknown_flags(beam_args)
            # A named runner reads options of its own (--checkpointing_interval, ...): they pass
            # through. The local runner reads none, so there an unknown flag is a typo.
            if unknown and not _runner_named(beam_args):
                parser.error(f"unrecognized arguments: {' '.join(unknown)} "
                             "(neither a tollwatch nor an Apache Beam option)")
            inputs, output = args.input, args.output
            extra = {k: v for k, v in vars(args).items()
                     if k not in ("command", "quiet", "input", "output")}
            counts = run_pipeline(inputs, output, beam_args, **extra)
    except (InputError, FileNotFoundError, ValueError) as err:
        print(f"tollwatch: {err}", file=sys.stderr)
        return 2
    _print_run(counts, output)
    if args.command == "demo":
        from tollwatch.pipeline.query import summary
        from tollwatch.pipeline.report import render

        print()
        print(summary(output))
        for name in ("toll.html", "toll.png"):
            render(output, os.path.join(output, name))
        print(f"\nThe evolving toll, as a chart: {os.path.join(output, 'toll.png')} "
              f"(all events: {os.path.join(output, 'toll.html')})")
        print(f'Try: tollwatch query {output} "SELECT outlet, title FROM canonical_articles"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
