"""The `tollwatch` command: run the pipeline, query its output, run the demo."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Optional, Sequence

LOG = logging.getLogger("tollwatch")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEMO_PATTERNS = ("*.html", "*.txt", "*.xml")
# The file by which `demo` knows a folder as its own output, and what it writes there.
DEMO_MARKER = ".tollwatch-demo"
DEMO_WRITES = ("articles", "claims", "toll", "dead_letters", "_state", "_quarantine", ".tmp",
               "toll.html", "toll.png", DEMO_MARKER)

_DESCRIPTION = """\
tollwatch follows a crisis in the news: it reads articles (HTML pages, text files, RSS/Atom feed
files), marks republished wire copy, and writes partitioned Parquet that DuckDB reads.

  tollwatch demo                              run on the bundled (fictional) example corpus
  tollwatch run --input DIR --output OUT      run on your own files
  tollwatch query OUT ["SQL"]                 summarise or query the output with DuckDB
  tollwatch upgrade OUT                       rewrite an earlier version's output in today's format
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
output's tables only, within bounds of time, memory, threads and spill space (above); a damaged
file is skipped and named. --unsafe-sql lifts it (files, network, COPY, ATTACH, extensions).
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
    run.add_argument("--submit-timeout-seconds", "--submit_timeout_seconds", type=float,
                     default=DEFAULT_SUBMIT_TIMEOUT_SECONDS, metavar="S",
                     help="with a remote --runner: how long to wait for it to take the job "
                          "(default %(default)g)")
    LiveOptions._add_argparse_args(run.add_argument_group(  # the live sources of `run --streaming`
        "live sources, with --streaming on Dataflow or Flink (here: use `tollwatch follow`)"))

    follow = commands.add_parser(
        "follow", help="follow live: watch folders and poll feeds, every tick, into one output",
        epilog=_FOLLOW_EPILOG, parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter)
    TollwatchOptions._add_argparse_args(follow)
    LiveOptions._add_argparse_args(follow)
    for action in follow._actions:
        if "--input" in action.option_strings:
            action.help = argparse.SUPPRESS  # follow reads --watch and feeds; --input is refused
    follow.add_argument("--ticks", type=int, default=None, metavar="N",
                        help="stop after N ticks (default: run until Ctrl-C)")

    query = commands.add_parser(
        "query", help="query an output folder with DuckDB", epilog=_QUERY_EPILOG, parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    query.add_argument("output", metavar="DIR", help="an output folder written by `tollwatch run`")
    query.add_argument("sql", nargs="?", help="SQL over the views; without it, a summary")
    query.add_argument("--format", choices=("table", "csv", "json", "parquet"), default=None,
                       help="write the result as csv, json (one object a line) or parquet; "
                            "to --to FILE, or to standard output (csv, json)")
    query.add_argument("--to", metavar="FILE", help="write the result to FILE (its format from "
                       "--format, else from its extension); the file is written by tollwatch, "
                       "not by the SQL, which stays sandboxed")
    query.add_argument("--unsafe-sql", action="store_true",
                       help="run the SQL with DuckDB's full access (files, network, extensions, "
                            "COPY, ATTACH); by default only SELECTs over the output's views run")
    from tollwatch.pipeline.query import QueryLimits

    bounds = QueryLimits()
    query.add_argument("--timeout-seconds", type=float, default=bounds.seconds, metavar="S",
                       help="stop a sandboxed query after S seconds (default %(default)g)")
    query.add_argument("--memory-limit", default=bounds.memory, metavar="SIZE",
                       help="DuckDB's memory bound for a sandboxed query (default %(default)s)")
    query.add_argument("--threads", type=int, default=bounds.threads, metavar="N",
                       help="threads of a sandboxed query (default %(default)s)")
    query.add_argument("--max-temp-size", default=bounds.temp_space, metavar="SIZE",
                       help="bound of a sandboxed query's spill files (default %(default)s)")

    report = commands.add_parser(
        "report", help="chart the evolving toll (PNG, or HTML with every event)", parents=[common])
    report.add_argument("output", metavar="DIR", help="an output folder written by `tollwatch run`")
    report.add_argument("--output", "--out", dest="out", required=True, metavar="FILE",
                        help="FILE.png or FILE.html (--out is the same option)")
    report.add_argument("--events", metavar="FILE", help="the events file of the run, for the "
                        "events' names in titles")
    report.add_argument("--event", metavar="ID", help="the event to chart (default: the one with "
                        "most claims; HTML: all)")

    upgrade = commands.add_parser(
        "upgrade", help="rewrite an output folder written by an earlier tollwatch in today's "
                        "format (renamed columns), file by file; safe to stop and run again",
        parents=[common])
    upgrade.add_argument("output", metavar="DIR", help="an output folder written by `tollwatch "
                         "run`: local, or a bucket's (gs://..., s3://...)")
    upgrade.add_argument("--dry-run", action="store_true",
                         help="only say which files would be rewritten and how")

    for name, labels, what in (
            ("eval-claims", "GOLD", "the claim extractor against hand-labelled claims "
                                    "(JSON lines: doc, number, number_high, group, source, ...)"),
            ("eval-dedup", "LABELS.json", "duplicate detection (pairwise, per kind) against labelled "
                                          "relations (pairs exact|near|rewrite, not_duplicates)")):
        evaluate = commands.add_parser(name, parents=[common], help=f"score {what}")
        if name == "eval-claims":
            evaluate.add_argument("labels", nargs="+", metavar=labels,
                                  help="gold claim files, or realdev parts (PART/gold/claims.jsonl, "
                                       "PART/news_text/) or a folder of parts")
            evaluate.add_argument("--input", nargs="+", metavar="PATH",
                                  help="the labelled documents (folders, globs or files); a realdev "
                                       "part's default to its news_text/")
        else:
            evaluate.add_argument(
                "labels", nargs="+", metavar="LABELS",
                help="labels files (JSON, or TSV rows doc_a, doc_b, relation, reason) read with "
                     "--input, or folders laid out as realdev's parts (gold/dedup.tsv, "
                     "news_text/), or a folder of such parts: each is scored, and all together")
            evaluate.add_argument("--input", nargs="+", default=[], metavar="PATH",
                                  help="the labelled documents of a labels file")
        evaluate.add_argument("--sources", nargs="+", default=[], metavar="FILE",
                              help="extra known-sources files")

    evaluate = commands.add_parser("eval-events", parents=[common],
                                   help="score the events inferred without --events against "
                                        "realdev's labelled ones")
    evaluate.add_argument("labels", metavar="REALDEV",
                          help="a folder of realdev parts (PART/news_text/INDEX.tsv: event column)")
    evaluate.add_argument("--output", metavar="OUT",
                          help="score the events of OUT (written by `tollwatch run` without "
                               "--events) instead of inferring them here")

    demo = commands.add_parser("demo", help="run on the bundled fictional example corpus",
                               parents=[common])
    demo.add_argument("--output", default="demo-output", metavar="DIR",
                      help="output folder (default: %(default)s)")
    parser.commands = commands.choices  # name -> subparser, for errors with the command's usage
    return parser


def unknown_option_message(parser: argparse.ArgumentParser, unknown: Sequence[str]) -> str:
    """'unrecognized arguments: ...', with the closest option of `parser` for each unknown flag."""
    import difflib

    known = [o for action in parser._actions for o in action.option_strings]
    hints = []
    for flag in unknown:
        name = flag.split("=", 1)[0]
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        if not close and name.replace("_", "-") in known:
            close = [name.replace("_", "-")]
        if close:
            hints.append(f"{name}: did you mean {close[0]}?")
    return (f"unrecognized arguments: {' '.join(unknown)}"
            + (f" ({'; '.join(hints)})" if hints else " (neither a tollwatch nor an Apache Beam "
                                                      "option)"))


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


class RunError(RuntimeError):
    """A run that could not start or finish, told in one line with what to do about it."""


LOCAL_RUNNERS = (None, "DirectRunner", "SwitchingDirectRunner", "FnApiRunner",
                 "BundleBasedDirectRunner")
JOB_SERVER_RUNNERS = ("PrismRunner", "FlinkRunner", "SparkRunner", "PortableRunner")
DEFAULT_SUBMIT_TIMEOUT_SECONDS = 180.0


REACH_SECONDS = 20.0


def check_reachable(path: str, seconds: Optional[float] = None) -> None:
    """Raises RunError when the filesystem of a remote path (gs://...) does not answer within
    `seconds`. Its client retries an unreachable host (no network, no DNS) for 120 s before it
    fails, and a batch run lists its input and its output several times while the graph is built:
    minutes of silence otherwise. A reachable bucket answers in well under a second."""
    import re

    from apache_beam.io.filesystems import FileSystems

    seconds = REACH_SECONDS if seconds is None else seconds
    fixed = re.split(r"[*?\[]", path, maxsplit=1)[0]  # the part before any wildcard
    outcome = within(seconds, lambda: FileSystems.exists(fixed), "reach")
    if outcome is None:
        raise RunError(f"{path}: its filesystem did not answer within {seconds:g} s (is there a "
                       "network, and a route to the storage service?)")
    if "error" in outcome:
        first = (str(outcome["error"]).strip().splitlines() or [""])[0]
        raise RunError(f"{path}: cannot reach it: {type(outcome['error']).__name__}: {first[:300]}")


def within(seconds: float, call, name: str) -> Optional[dict]:
    """call() in a daemon thread for at most `seconds`: None if it has not returned by then (it is
    left to finish or hang on its own), else {'result': ...} or {'error': what it raised}. For
    clients that retry an unreachable host for minutes without a word."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as err:  # noqa: BLE001 - handed to the caller
            outcome["error"] = err

    thread = threading.Thread(target=run, daemon=True, name=name)
    thread.start()
    thread.join(seconds)
    return None if thread.is_alive() else outcome


def check_output(output: str) -> None:
    """Creates a local output folder and checks it is writable, or raises RunError saying why."""
    if "://" in output:
        check_reachable(output)
        return
    if os.path.exists(output) and not os.path.isdir(output):
        raise RunError(f"--output {output} is a file, not a folder: give a folder (it is created "
                       "when missing)")
    try:
        os.makedirs(output, exist_ok=True)
        probe = os.path.join(output, f".tollwatch-write-check-{os.getpid()}")
        with open(probe, "w", encoding="utf-8"):
            pass
        os.remove(probe)
    except OSError as err:
        raise RunError(f"cannot write to the output folder {output} ({err.strerror or err}): "
                       "choose a folder you can write to") from None


def _runner_name(options) -> Optional[str]:
    from apache_beam.options.pipeline_options import StandardOptions

    runner = options.view_as(StandardOptions).runner
    return runner if runner is None or isinstance(runner, str) else type(runner).__name__


def runner_failure(runner: Optional[str], err: BaseException) -> str:
    """One line for a runner that could not start a job, with what to do about it."""
    import re

    text = str(err).strip()
    jar = re.search(r"stage the jar at (\S+?\.jar)", text)
    if jar:
        status = re.search(r"HTTP Error \d+[^.:]*|Name or service not known", text)
        return (f"{runner} needs its job server jar, which could not be downloaded "
                f"({status.group(0) if status else 'no network'}): put it at {jar.group(1)} or "
                "pass --flink_job_server_jar=PATH (see deploy/README.md)")
    first = (text.splitlines() or [type(err).__name__])[0]
    return f"{runner or 'the run'} could not start the job: {type(err).__name__}: {first[:300]}"


def submit(start, options, timeout: float = DEFAULT_SUBMIT_TIMEOUT_SECONDS):
    """start() (build the pipeline and run it); for a remote runner, within `timeout` seconds and
    with its failure told in one line (a Dataflow project or bucket that cannot be reached hangs
    in the Google client, looking for credentials, without a word)."""
    runner = _runner_name(options)
    if runner in LOCAL_RUNNERS or runner in JOB_SERVER_RUNNERS:
        # A local run is the whole job, not a hand-over: no deadline. A runner whose client starts
        # a job server here sets a SIGINT handler, which only the main thread may do.
        return start()
    LOG.info("handing the job to %s (waiting at most %g s)", runner, timeout)
    outcome = within(timeout, start, "submit")
    if outcome is None:
        hint = {"DataflowRunner": "are the project and buckets reachable, and are credentials "
                                  "set (gcloud auth application-default login)?",
                "FlinkRunner": "is the Flink master reachable?"}.get(runner, "is the output "
                                                                      "reachable?")
        raise RunError(f"{runner} did not take the job within {timeout:g} s; {hint} "
                       "(--submit-timeout-seconds sets the wait)")
    if "error" in outcome:
        err = outcome["error"]
        if isinstance(err, KeyboardInterrupt):
            raise err
        raise RunError(runner_failure(runner, err)) from None
    return outcome["result"]


def run_pipeline(inputs: Sequence[str], output: str, beam_args: Sequence[str] = (),
                 submit_timeout: float = DEFAULT_SUBMIT_TIMEOUT_SECONDS,
                 **tollwatch_options) -> dict[str, int]:
    """Runs the batch pipeline; returns the counts a user is told about. `tollwatch_options` are
    TollwatchOptions by name (events, sources, max_file_bytes, ...)."""
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.pipeline.build import build
    from tollwatch.pipeline.options import TollwatchOptions
    from tollwatch.pipeline.runner import make_pipeline
    from tollwatch.pipeline.upgrade import refuse_other_formats
    from tollwatch.transforms.parquet import remove_temp_files
    from tollwatch.transforms.inputs.files import input_pattern, list_matches, resolve_inputs

    if "://" not in output:
        output = os.path.abspath(output)
    beam_args = _quiet_workers(beam_args)
    options = PipelineOptions(beam_args, input=list(inputs), output=output,
                              **{k: v for k, v in tollwatch_options.items() if v is not None})
    if detached(options) and any("://" in path for path in inputs):
        # A translated job (a dry run, a template) matches a remote input when it runs; here it
        # would only be counted, and a dry run must work without the network.
        patterns = [input_pattern(p) if "://" in p else resolve_inputs([p])[0] for p in inputs]
        n_files = None
    else:
        for path in inputs:
            if "://" in path:
                check_reachable(path)
        patterns = resolve_inputs(list(inputs))
        n_files = sum(1 for _ in list_matches(patterns))
    try:
        check_output(output)
    except RunError as err:
        if not detached(options):
            raise
        raise RunError(f"{err}. The batch job reads what the output already holds (its earlier "
                       "state, claims and toll), so even a dry run lists it: to translate the "
                       "job offline, give a local --output") from None
    refuse_other_formats(output)  # the run reads OUT's earlier claims, toll and signatures
    LOG.info("reading %s from %s", "the files the job matches" if n_files is None
             else f"{n_files} file(s)", ", ".join(inputs))
    started = time.monotonic()
    started_at = time.time()

    def start():
        pipeline = make_pipeline(options)
        build(pipeline, options.view_as(TollwatchOptions), patterns, now=Timestamp.now(),
              expected_files=n_files)
        return pipeline.run()

    result = submit(start, options, submit_timeout)
    if detached(options):
        from apache_beam.options.pipeline_options import TestOptions

        return {"files": n_files, "submitted": 1, "seconds": round(time.monotonic() - started, 1),
                "dry_run": int(bool(options.view_as(TestOptions).dry_run))}
    result.wait_until_finish()
    remove_temp_files(output, started_at)
    counts = {
        "files": n_files,
        "articles": _counter(result, "articles_extracted"),
        "exact_copies": _counter(result, "exact_copies"),
        "dead_letters": _counter(result, "read_dead_letters") + _counter(result, "extract_dead_letters"),
        "partners_cut": _counter(result, "partners_cut"),
        "seconds": round(time.monotonic() - started, 1),
    }
    return counts


def run_streaming(args, beam_args: Sequence[str]) -> int:
    """`run --streaming`: the live sources as a real stream, on Prism (without --runner, once
    `make runners` has built it), Flink, Dataflow or any portable runner. Waits for the job (a
    local or LOOPBACK job dies with its client) until it ends or Ctrl-C cancels it; a Dataflow job
    lives on its service, and is handed over."""
    from apache_beam.options.pipeline_options import (
        GoogleCloudOptions, PipelineOptions, StandardOptions, TestOptions)

    from tollwatch.pipeline.build import build_streaming
    from tollwatch.pipeline.options import TollwatchOptions, unknown_flags
    from tollwatch.pipeline.runner import make_pipeline, prism_binary
    from tollwatch.pipeline.upgrade import refuse_other_formats

    if not args.output or not (args.watch or args.feeds or args.feed):
        raise ValueError("run --streaming needs --output and --watch, --feeds or --feed")
    if args.input:
        raise ValueError("run --streaming reads --watch folders and feeds, not --input (to read "
                         "files once: tollwatch run --input ...)")
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
    skip = {"command", "quiet", "submit_timeout_seconds"}
    options = PipelineOptions(beam_args, **{k: v for k, v in vars(args).items()
                                            if k not in skip and v is not None})

    # A restarted stream reads what OUT holds (resume.py); a dry run translates the graph only and
    # must work without the network, so it reads nothing of OUT.
    dry_run = bool(options.view_as(TestOptions).dry_run)
    if "://" in args.output and not dry_run:
        check_reachable(args.output)
    if not dry_run:
        refuse_other_formats(args.output)

    def start():
        pipeline = make_pipeline(options)
        build_streaming(pipeline, options.view_as(TollwatchOptions), feed_source(options),
                        resume=not dry_run)
        return pipeline.run()

    result = submit(start, options,
                    getattr(args, "submit_timeout_seconds", None) or DEFAULT_SUBMIT_TIMEOUT_SECONDS)
    runner = options.view_as(StandardOptions).runner
    if detached(options) and not options.view_as(GoogleCloudOptions).template_location:
        print("Dry run: the streaming job was translated, not submitted.")
        return 0
    if detached(options) or runner in ("DataflowRunner", "TestDataflowRunner"):
        print(f"Streaming job {job_id(result)} handed to {runner}. Follow it in the runner's "
              "console.")
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


def feed_source(options):
    """The ReadFeeds source of --feeds/--feed, or None."""
    from tollwatch.pipeline.follow import feeds_of, fetch_policy, poll_limits
    from tollwatch.pipeline.options import LiveOptions
    from tollwatch.transforms.inputs.feeds import ReadFeeds

    live = options.view_as(LiveOptions)
    if not live.feeds and not live.feed:
        return None
    return ReadFeeds(feeds_of(live), fetch_policy(live), poll_limits(live))


# Options of `run` that `follow` does not use: refused, not ignored.
FOLLOW_REFUSES = {
    "--write_window_seconds": "follow writes a tick's rows when the tick ends: --write-window-seconds "
                              "is for run --streaming",
    "--streaming": "follow runs a bounded pipeline every tick: for one stream, tollwatch run "
                   "--streaming --watch ... (ARCHITECTURE.md, 'follow')",
}


def _flag_names(argv: Sequence[str]) -> set[str]:
    """The --flags of argv with '-' in their names as '_' (--write-window-seconds=5 ->
    --write_window_seconds)."""
    return {"--" + a[2:].split("=", 1)[0].replace("-", "_") for a in argv if a.startswith("--")}


def follow_command(args, beam_args: Sequence[str]) -> int:
    from apache_beam.options.pipeline_options import PipelineOptions

    from tollwatch.pipeline.follow import (
        Follower, feed_hooks, feeds_of, stop_on_signals, tick_runner)
    from tollwatch.pipeline.upgrade import refuse_other_formats
    from tollwatch.transforms.parquet import remove_temp_files
    from tollwatch.transforms.inputs.files import input_root
    from tollwatch.transforms.inputs.watch import watch_patterns

    if not args.output:
        raise ValueError("follow needs --output")
    if not args.watch and not args.feeds and not args.feed:
        raise ValueError("follow needs --watch, --feeds or --feed")
    output = os.path.abspath(args.output) if "://" not in args.output else args.output
    if "://" in output:
        raise ValueError("follow keeps its state in a local output folder; for a bucket, deploy "
                         "the streaming pipeline (see deploy/README.md)")
    os.makedirs(output, exist_ok=True)
    refuse_other_formats(output)  # every tick reads OUT's earlier claims, toll and signatures
    watch = watch_patterns(args.watch) if args.watch else []
    roots = sorted({r for r in map(input_root, watch) if r is not None})
    beam_args = _quiet_workers(beam_args)
    skip = {"command", "quiet", "ticks", "output", "input"}
    settings = {k: v for k, v in vars(args).items() if k not in skip and v is not None}
    feeds_due, poll_sources = feed_hooks(args, output)
    run_tick = tick_runner(output, roots, lambda: PipelineOptions(
        beam_args, output=output, input=args.watch or args.feed or [args.feeds], **settings),
        poll_sources, remove_temp_files)
    # Cursors of feeds no longer configured expire.
    feed_urls = {f.url for f in feeds_of(args)} if args.feeds or args.feed else set()
    follower = Follower(output, watch, run_tick, feeds_due, feed_urls=feed_urls)
    stop_on_signals(follower)

    for folder in args.watch or []:
        if "://" not in folder and not any(c in folder for c in "*?[") \
                and not os.path.exists(folder):
            LOG.warning("the watched folder %s does not exist: nothing is read from it until it "
                        "does", folder)

    def report(result) -> None:
        if result is None:
            LOG.info("%s: nothing new", time.strftime("%H:%M:%S UTC", time.gmtime()))
            return
        LOG.info("tick %d: %d new file(s), %d feed(s) due, %.1f s", result.tick, result.files,
                 result.feeds, result.seconds)
        for url, outcome in sorted(result.outcomes.items()):
            LOG.info("  %s: %s", url, outcome)

    LOG.info("following %s into %s every %g s (Ctrl-C to stop)",
             ", ".join(watch + list(args.feed or []) + ([args.feeds] if args.feeds else [])),
             output, args.tick_seconds)
    ticks = follower.run(args.tick_seconds, args.ticks, report)
    LOG.info("stopped after %d tick(s); output in %s", ticks, output)
    return 0


def detached(options) -> bool:
    """Whether a batch `run` returns once the job is handed over instead of waiting for it and
    reporting its counters: a dry run or a template (--dry_run, --template_location; the Dataflow
    flex template launcher sets the latter), where the job is translated, not run."""
    from apache_beam.options.pipeline_options import GoogleCloudOptions, TestOptions

    return bool(options.view_as(TestOptions).dry_run
                or options.view_as(GoogleCloudOptions).template_location)


def clear_demo_output(output: str) -> None:
    """Makes `output` ready for the demo: a missing or empty folder is used as it is; an earlier
    demo output (it holds DEMO_MARKER) loses what the demo wrote and nothing else; any other
    folder is refused (ValueError), since the demo deletes only what it wrote. Marks it."""
    if os.path.lexists(output) and not os.path.isdir(output):
        raise ValueError(f"demo: {output} is not a folder")
    if os.path.isdir(output) and os.listdir(output):
        if not os.path.isfile(os.path.join(output, DEMO_MARKER)):
            raise ValueError(f"demo: refusing to write into {output}: it is not empty and not an "
                             "earlier demo output; choose a new or empty folder")
        for name in DEMO_WRITES:
            path = os.path.join(output, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            elif os.path.lexists(path):
                os.remove(path)
    os.makedirs(output, exist_ok=True)
    with open(os.path.join(output, DEMO_MARKER), "w", encoding="utf-8") as marker:
        marker.write("Written by `tollwatch demo`, which may empty this folder of what it wrote.\n")


def _print_run(counts: dict[str, int], output: str) -> None:
    if counts.get("submitted"):
        matched = ("the input is matched when it runs" if counts["files"] is None
                   else f"{counts['files']} input file(s) matched now")
        if counts.get("dry_run"):
            print(f"Dry run: the job was translated ({matched}), not submitted.")
            return
        print(f"Job handed to the runner ({matched}); its Parquet goes below {output}. Follow "
              "it in the runner's console.")
        return
    print(f"Read {counts['files']} file(s) in {counts['seconds']} s: {counts['articles']} article(s) "
          f"({counts['exact_copies']} exact copies), {counts['dead_letters']} dead letter(s).")
    if counts.get("partners_cut"):
        from tollwatch.transforms.duplicates.settings import MAX_PARTNERS

        print(f"{counts['partners_cut']} article(s) share their wording with more articles than "
              f"are compared (a template?): each was compared with its {MAX_PARTNERS} nearest "
              "in a bucket only.")
    print(f"Parquet written below {output}")


def outside_toll_note(con) -> Optional[str]:
    """One line: how many claims of the output are outside the toll, and why."""
    rows = con.execute("""SELECT reason, count(*) FROM outside_toll GROUP BY 1
                          ORDER BY 2 DESC, 1""").fetchall()
    if not rows:
        return None
    total = sum(n for _, n in rows)
    return (f"{total} claim(s) are outside the toll: "
            + "; ".join(f"{n} {reason}" for reason, n in rows)
            + " (the outside_toll view lists them)")


def inferred_events_note(con, shown: int = 8) -> Optional[str]:
    """Without an events file: the events inferred from places and dates, biggest first."""
    rows = con.execute("""
        SELECT event_ids[1] AS event, count(*) AS n,
               min(published_at) FILTER (WHERE date_source IN ('metadata', 'feed', 'text')),
               max(published_at) FILTER (WHERE date_source IN ('metadata', 'feed', 'text'))
        FROM articles WHERE len(event_ids) > 0 GROUP BY 1 ORDER BY n DESC, event""").fetchall()
    if not rows:
        return None
    listed = [f"{event} ({n} article(s)" + (f", {first:%Y-%m-%d} to {last:%Y-%m-%d})"
                                             if first else ", undated)")
              for event, n, first, last in rows[:shown]]
    more = f", and {len(rows) - shown} more" if len(rows) > shown else ""
    return (f"no --events: {len(rows)} event(s) inferred from the articles' places and dates: "
            + "; ".join(listed) + more + ". To name or join them, give --events FILE "
            "(README, 'Events').")


def _notes(output: str, args) -> None:
    """What a user must know about the run's numbers: claims outside the toll, inferred events."""
    from tollwatch.pipeline.query import connect

    con = connect(output)
    note = outside_toll_note(con)
    if note:
        print(note)
    if not getattr(args, "events", None):
        note = inferred_events_note(con)
        if note:
            print(note)


EXPORT_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "json", ".ndjson": "json",
                  ".parquet": "parquet"}


def export_format(fmt: Optional[str], to: Optional[str]) -> Optional[str]:
    """The export format of --format/--to, or None to print tables; raises ValueError."""
    if to and not fmt:
        fmt = EXPORT_FORMATS.get(os.path.splitext(to)[1].lower())
        if fmt is None:
            raise ValueError(f"--to {to}: say --format csv, json or parquet (or end the name in "
                             f"{', '.join(EXPORT_FORMATS)})")
    if fmt == "parquet" and not to:
        raise ValueError("--format parquet needs --to FILE")
    return None if fmt in (None, "table") else fmt


def export(table, fmt: str, to: Optional[str]) -> None:
    """Writes an Arrow table as csv, json lines or parquet, to `to` or standard output, with
    DuckDB's COPY on a connection of its own that holds nothing but the table (the user's SQL
    never writes; the path is the one the user named on the command line)."""
    import tempfile

    import duckdb

    con = duckdb.connect()
    con.register("result", table)
    options = {"csv": "FORMAT csv, HEADER true", "json": "FORMAT json",
               "parquet": "FORMAT parquet"}[fmt]
    target = os.path.abspath(to) if to else None
    with tempfile.TemporaryDirectory(prefix="tollwatch-export-") as scratch:
        path = target or os.path.join(scratch, f"result.{fmt}")
        if target:
            check_output(os.path.dirname(target))
            if os.path.isdir(target):
                raise ValueError(f"--to {to} is a folder: name a file")
        quoted = path.replace("'", "''")
        con.execute(f"COPY result TO '{quoted}' ({options})")
        if not target:
            with open(path, encoding="utf-8") as handle:
                shutil.copyfileobj(handle, sys.stdout)


def _query(output: str, sql: Optional[str], unsafe: bool = False, fmt: Optional[str] = None,
           to: Optional[str] = None, limits=None) -> int:
    from tollwatch.pipeline.query import QueryBound, QueryLimits, UnsafeSQL, run_sql, summary

    import duckdb

    try:
        fmt = export_format(fmt, to)
        if not sql:
            if fmt:
                raise ValueError("--format and --to export the result of a query: give the SQL")
            print(summary(output))
            return 0
        results = []

        def show(relation) -> None:
            if relation is None:
                return
            if fmt:
                results.append(relation.to_arrow_table())
            else:
                relation.show(max_width=200, max_rows=200)

        with _terminate_as_exit():
            run_sql(output, sql, unsafe=unsafe, show=show, limits=limits or QueryLimits())
        if fmt:
            if len(results) != 1:
                raise ValueError(f"--format/--to export one result; the SQL gave {len(results)}")
            export(results[0], fmt, to)
            if to:
                print(f"{results[0].num_rows} row(s) written to {to}", file=sys.stderr)
    except (duckdb.Error, UnsafeSQL, QueryBound, ValueError, RunError) as err:
        print(f"tollwatch query: {err}", file=sys.stderr)
        return 2
    return 0


@contextlib.contextmanager
def _terminate_as_exit():
    """SIGTERM as SystemExit for the duration (in the main thread only, where handlers run), so
    the cleanup of what is running happens as it does for Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, _frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv_given = argv
    argv = list(sys.argv[1:] if argv is None else argv)
    _configure_logging(quiet="-q" in argv or "--quiet" in argv)
    parser = _parser()
    args, beam_args = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    command = parser.commands[args.command]  # errors print this command's usage, not tollwatch's
    if args.command == "query" and args.sql is None and beam_args[-1:] and \
            not beam_args[-1].startswith("-"):
        args.sql = beam_args.pop()  # `query OUT --unsafe-sql "SQL"`: the SQL after the flag
    if beam_args and args.command not in ("run", "follow"):
        command.error(unknown_option_message(command, beam_args))
    if args.command == "follow" and args.input:
        command.error("follow reads --watch folders and --feeds, not --input (to read files once: "
                      "tollwatch run --input ...)")
    if args.command == "follow":
        unused = [why for flag, why in FOLLOW_REFUSES.items() if flag in _flag_names(argv)]
        if unused:
            command.error("; ".join(unused))
    from tollwatch.pipeline.options import unknown_flags
    from tollwatch.transforms.inputs.files import InputError

    try:
        beam_args = with_plain_switches(beam_args)
        if args.command == "query":
            from tollwatch.pipeline.query import QueryLimits

            limits = QueryLimits(args.timeout_seconds, args.memory_limit, args.threads,
                                 args.max_temp_size)
            return _query(args.output, args.sql, args.unsafe_sql, args.format, args.to, limits)
        if args.command == "upgrade":
            from tollwatch.pipeline.upgrade import upgrade

            # --quiet drops the progress lines, not what a dry run is asked to say.
            quiet = args.quiet and not args.dry_run
            upgrade(args.output, dry_run=args.dry_run, say=(lambda line: None) if quiet else None)
            return 0
        if args.command == "eval-claims":
            from tollwatch.pipeline.evaluate import eval_claims

            print(eval_claims(args.labels, args.input, args.sources))
            return 0
        if args.command == "eval-dedup":
            from tollwatch.pipeline.evaluate import eval_dedup

            print(eval_dedup(args.labels, args.input, args.sources))
            return 0
        if args.command == "eval-events":
            from tollwatch.pipeline.evaluate import eval_events

            print(eval_events(args.labels, args.output))
            return 0
        if args.command == "report":
            from tollwatch.pipeline.report import render

            names = {}
            if args.events:
                from tollwatch.transforms.events import load_events

                names = {e.id: e.name for e in load_events(args.events)}
            drawn = render(args.output, args.out, args.event, names)
            print(f"Chart of {', '.join(drawn)} written to {args.out}")
            return 0
        if args.command == "follow":
            unknown = unknown_flags(beam_args)
            if unknown:
                command.error(unknown_option_message(command, unknown))
            return follow_command(args, beam_args)
        if args.command == "demo":
            inputs = [str(EXAMPLES / pattern) for pattern in DEMO_PATTERNS]
            output = args.output
            beam_args = []
            clear_demo_output(output)
            counts = run_pipeline(inputs, output, events=str(EXAMPLES / "events.toml"),
                                  sources=[str(EXAMPLES / "sources.toml")])
        else:
            if streaming_asked(beam_args):
                return run_streaming(args, beam_args)
            unknown = unknown_flags(beam_args)
            # A named runner reads options of its own (--checkpointing_interval, ...): they pass
            # through. The local runner reads none, so there an unknown flag is a typo.
            if unknown and not _runner_named(beam_args):
                command.error(unknown_option_message(command, unknown))
            if not args.input or not args.output:
                command.error("run needs --input and --output")
            inputs, output = args.input, args.output
            extra = {k: v for k, v in vars(args).items()
                     if k not in ("command", "quiet", "input", "output", "submit_timeout_seconds")}
            counts = run_pipeline(inputs, output, beam_args, args.submit_timeout_seconds, **extra)
    except (InputError, FileNotFoundError, ValueError, RunError) as err:
        print(f"tollwatch: {err}", file=sys.stderr)
        if isinstance(err, RunError) and argv_given is None:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(2)  # a runner client stuck in the network must not hold the exit
        return 2
    except (KeyboardInterrupt, RuntimeError) as err:
        if not isinstance(err, KeyboardInterrupt) and not str(err).startswith("KeyboardInterrupt"):
            raise  # Beam re-raises Ctrl-C inside a stage as RuntimeError('KeyboardInterrupt ...')
        print("\ntollwatch: interrupted. The output holds whole files only; run the same "
              "command again to complete it (the rerun replaces files, it does not add rows).",
              file=sys.stderr)
        return 130
    _print_run(counts, output)
    if args.command == "run" and not counts.get("submitted") and "://" not in output:
        _notes(output, args)
    if args.command == "demo":
        from tollwatch.pipeline.query import summary
        from tollwatch.pipeline.report import render

        print()
        print(summary(output))
        from tollwatch.transforms.events import load_events

        names = {e.id: e.name for e in load_events(str(EXAMPLES / "events.toml"))}
        for name in ("toll.html", "toll.png"):
            render(output, os.path.join(output, name), names=names)
        print(f"\nThe evolving toll, as a chart: {os.path.join(output, 'toll.png')} "
              f"(all events: {os.path.join(output, 'toll.html')})")
        # In a new shell `tollwatch` is on the PATH only with the venv activated: name it as run.
        command = "tollwatch" if shutil.which("tollwatch") else os.path.relpath(sys.argv[0])
        print(f'Try: {command} query {output} "SELECT outlet, title FROM canonical_articles"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
