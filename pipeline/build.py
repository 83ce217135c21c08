"""The wiring of tollwatch's stages: sources in, partitioned Parquet out. No stage logic here.

`build` is the batch flow of `tollwatch run` (and of each tick of `tollwatch follow`);
`build_streaming` the same stages on live sources for Dataflow and Flink. Both end in `_write`.
"""

from __future__ import annotations

import json
from typing import Optional, Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import StandardOptions
from apache_beam.utils.timestamp import Timestamp

from tollwatch.pipeline.options import LiveOptions, TollwatchOptions
from tollwatch.pipeline.progress import ReportProgress
from tollwatch.schemas import TABLES, Claim, DeadLetter, RawDoc, TollWindow
from tollwatch.schemas.intermediate import ArticleVersion, EventSpan, FileRef
from tollwatch.transforms.events import AssignEvents, Event, default_event, load_events
from tollwatch.transforms.claims import ExtractClaims
from tollwatch.transforms.duplicates.resolve import ResolveDuplicates
from tollwatch.transforms.duplicates.state import WriteSignatures, known_signatures
from tollwatch.transforms.duplicates.streaming import MarkNearDuplicates
from tollwatch.transforms.extract import ExtractArticles
from tollwatch.transforms.infer_events import ApplyEvents, InferEvents
from tollwatch.transforms.inputs.files import ReadFiles
from tollwatch.transforms.parquet import (
    FireEvery, ReadParquetRecords, WindowByArrival, WriteParquet, run_key, table_files)
from tollwatch.transforms.quarantine import set_aside_damaged
from tollwatch.transforms.repeats import StripRepeatedPassages
from tollwatch.transforms.staging import (
    ApplyVerdicts, RemoveStaging, StageArticles, read_digests, read_sketches, staging_dir,
    write_verdicts)
from tollwatch.transforms.toll import ReviseToll, TollStats, WithEarlierClaims
from tollwatch.transforms.inputs.watch import WatchFolder, watch_patterns
from tollwatch.transforms.windowing import OwnToll, must_replace, recorded_windowing, windowing


def events_for(options: TollwatchOptions) -> list[Event]:
    """The events of --events, else one event named after the (first) input (which a batch run
    replaces by the events InferEvents finds; a stream keeps it)."""
    if options.events:
        return load_events(options.events)
    first = (options.input or options.view_as(LiveOptions).watch or ["input"])[0].rstrip("/")
    parts = [p for p in first.replace("\\", "/").split("/") if p and not any(c in p for c in "*?[")]
    return [default_event(parts[-1] if parts else "input")]


def _toll_stats(options: TollwatchOptions, streaming: bool = False, clock=Timestamp.now,
                early_firing_seconds: int = 60) -> TollStats:
    return TollStats(early_firing_seconds=early_firing_seconds,
        window_seconds=round(options.window_hours * 3600),
        period_seconds=round(options.period_hours * 3600),
        as_of_days=options.as_of_days,
        allowed_lateness_seconds=_lateness_seconds(options),
        streaming=streaming, clock=clock)


def _windowing(options: TollwatchOptions) -> dict:
    return windowing(round(options.window_hours * 3600), round(options.period_hours * 3600),
                     options.as_of_days)


def _lateness_seconds(options: TollwatchOptions) -> int:
    return round(options.allowed_lateness_hours * 3600)


def _write(outputs: dict, options: TollwatchOptions, keys: dict[str, str], shards: int,
           remove_stale: bool = True) -> list:
    """Writes each table; returns the PCollections of the files written."""
    written = []
    for name, pcoll in outputs.items():
        table = TABLES[name]
        written.append(pcoll | f"Write{table.record_type.__name__}s" >> WriteParquet(
            options.output, table.name, table.record_type, table.partition_by,
            table.partition_column, shards=shards, run_key=keys.get(name, ""),
            remove_stale=remove_stale))
    return written


def build(pipeline: beam.Pipeline, options: TollwatchOptions, patterns: Sequence[str],
          now: Optional[Timestamp] = None, expected_files: Optional[int] = None,
          key: Optional[str] = None, extra_sources: Sequence[dict] = (),
          files: Optional[Sequence[FileRef]] = None, roots: Sequence[str] = ()) -> dict:
    """Adds the batch flow to `pipeline`; returns its PCollections by name.

    `patterns` are read as files; `files` are files already listed (a tick's new files, confined
    to `roots`); `extra_sources` are more {'raw_docs', 'dead_letters'} (a tick's feed polls).
    `key` names this run's files (default: a hash of the patterns, so a rerun of the same input
    replaces its own files)."""
    sources = list(extra_sources)
    # Batch: by default each worker bundle writes its records as they come (no shuffle of whole
    # records); --parquet_shards N shuffles them into N files per partition.
    shards = options.parquet_shards if options.parquet_shards is not None else 0
    if patterns:
        sources.append(pipeline | "ReadFiles" >> ReadFiles(list(patterns), options.max_file_bytes, now))
    elif files:
        sources.append(pipeline | "ReadFiles" >> ReadFiles(
            max_bytes=options.max_file_bytes, now=now, files=list(files), roots=roots))
    if not sources:
        raise ValueError("nothing to read: no input patterns and no other source")
    raw_docs = ([s["raw_docs"] for s in sources]
                | "AllRawDocs" >> beam.Flatten().with_output_types(RawDoc))
    key = key or run_key(list(patterns))
    # Before anything of the output is read: a damaged file is set aside, not a failed run.
    damaged = set_aside_damaged(options.output, now)
    staging = staging_dir(options.output, key)
    extracted = (raw_docs
                 | "Progress" >> ReportProgress("files read", expected_files)
                 | "ExtractArticles" >> ExtractArticles())
    stage = StageArticles(staging, options.sources)
    strip, assign = StripRepeatedPassages(), AssignEvents(events_for(options))
    assigned = (extracted["articles"]
                | "StripRepeatedPassages" >> strip
                | "AssignEvents" >> assign)
    staged = assigned | "StageArticles" >> stage
    known = known_signatures(pipeline, options.output)  # canonical articles of earlier runs
    decided = (((staged["staged"], known) if known is not None else staged["staged"])
               | "ResolveDuplicates" >> ResolveDuplicates(read_digests, read_sketches,
                                                          write_verdicts))
    final = decided | "ApplyVerdicts" >> ApplyVerdicts()
    earlier_claims, earlier_toll, earlier_articles = (
        table_files(options.output, t) for t in ("claims", "toll", "articles"))
    if not options.events:
        # Events from places and dates, keeping the ids of the events the output already holds.
        earlier = (pipeline | "EventsSoFar" >> ReadParquetRecords(
            earlier_articles, EventSpan, columns=list(EventSpan._fields))
                   if earlier_articles else None)
        choices = assigned | "InferEvents" >> InferEvents(earlier)
        final = {**final, **({"articles": final["articles"], "claims": final["claims"]}
                             | "ApplyEvents" >> ApplyEvents(choices))}
    articles, claims = final["articles"], final["claims"]
    # An output folder that already holds claims: the toll is recomputed over them and this run's
    # claims, and only windows whose answer changed are written, as a new pane.
    toll_claims = claims
    if earlier_claims:
        toll_claims = ((claims,
                        articles | "ReadDocIds" >> beam.Map(lambda a: a.doc_id).with_output_types(str),
                        pipeline | "EarlierClaims" >> ReadParquetRecords(earlier_claims, Claim,
                                                                         with_run_key=True),
                        pipeline | "EarlierArticles" >> ReadParquetRecords(
                            earlier_articles, ArticleVersion, with_run_key=True,
                            columns=["doc_id", "ingested_at", "published_at"])
                        | "ArticleVersions" >> beam.Values().with_output_types(ArticleVersion))
                       | "WithEarlierClaims" >> WithEarlierClaims())
    toll = toll_claims | "TollStats" >> _toll_stats(options)
    # A run owns the toll: with another windowing than the earlier toll's it replaces the table.
    current = _windowing(options)
    replaced = earlier_toll if must_replace(earlier_toll, recorded_windowing(options.output),
                                            current) else []
    if earlier_toll and not replaced:
        toll = ((toll, pipeline | "EarlierToll" >> ReadParquetRecords(earlier_toll, TollWindow))
                | "ReviseToll" >> ReviseToll())
    dead_letters = ([s["dead_letters"] for s in sources]
                    + [extracted["dead_letters"], strip.dead_letters, assign.dead_letters,
                       staged["dead_letters"],
                       pipeline | "DamagedOutput" >> beam.Create(damaged).with_output_types(DeadLetter)]
                    | "AllDeadLetters" >> beam.Flatten().with_output_types(DeadLetter))
    final["signatures"] | "KeepSignatures" >> WriteSignatures(options.output, shards, key)
    outputs = {"articles": articles, "claims": claims, "toll": toll, "dead_letters": dead_letters}
    # Toll panes are a log: each revision gets files of its own, named after the earlier toll files
    # it revised, so a rerun from the same state replaces its own files and nothing else.
    keys = {name: key for name in outputs}
    keys["toll"] = run_key([key, *earlier_toll] if not replaced else [key, json.dumps(current)])
    written = _write(outputs, options, keys, shards)
    if replaced or recorded_windowing(options.output) != current:
        written[list(outputs).index("toll")] | "OwnToll" >> OwnToll(options.output, replaced, current)
    (written | "AllWritten" >> beam.Flatten()
     | "RemoveStaging" >> RemoveStaging(staging))
    return outputs


def build_streaming(pipeline: beam.Pipeline, options: TollwatchOptions,
                    feed_source: Optional[beam.PTransform] = None,
                    extra_sources: Sequence[dict] = (), clock=Timestamp.now,
                    toll_by_processing_time: bool = True) -> dict:
    """Adds the streaming flow: the watched folders (and `feed_source`, e.g. ReadFeeds) -> the
    per-article stages -> windowed Parquet. Exact copies are found as near copies of similarity
    1.0; rewrites, and the un-marking of figures a copy states anew, need the whole batch and
    are left to `tollwatch run` over the output.

    `toll_by_processing_time=False` writes toll panes by arrival windows like the other tables
    (for Beam's TestStream runner, which does not end a stream with a repeated processing-time
    trigger; on Prism that write waits for the toll windows to close, see FireEvery)."""
    live = options.view_as(LiveOptions)
    sources = list(extra_sources)
    if live.watch:
        sources.append(pipeline | "WatchFolder" >> WatchFolder(
            watch_patterns(live.watch), interval_seconds=live.tick_seconds,
            max_bytes=options.max_file_bytes))
    if feed_source is not None:
        sources.append(pipeline | "ReadFeeds" >> feed_source)
    if not sources:
        raise ValueError("streaming needs --watch or feeds to read")
    raw_docs = ([s["raw_docs"] for s in sources]
                | "AllRawDocs" >> beam.Flatten().with_output_types(RawDoc))
    extracted = raw_docs | "ExtractArticles" >> ExtractArticles()
    strip, assign = StripRepeatedPassages(), AssignEvents(events_for(options))
    mark = MarkNearDuplicates()
    articles = (extracted["articles"]
                | "StripRepeatedPassages" >> strip
                | "AssignEvents" >> assign
                | "MarkNearDuplicates" >> mark)
    extract_claims = ExtractClaims(options.sources)
    claims = articles | "ExtractClaims" >> extract_claims
    # A stream's toll is revised (early panes) as often as its files are written. The local
    # FnApiRunner (no --runner) has no processing time: there, no early panes, and toll panes are
    # written by arrival windows like the other tables.
    local = options.view_as(StandardOptions).runner is None
    toll_by_processing_time = toll_by_processing_time and not local
    toll = claims | "TollStats" >> _toll_stats(options, streaming=not local, clock=clock,
                                               early_firing_seconds=live.write_window_seconds)
    dead_letters = ([s["dead_letters"] for s in sources]
                    + [extracted["dead_letters"], strip.dead_letters, assign.dead_letters,
                       mark.dead_letters, extract_claims.dead_letters]
                    | "AllDeadLetters" >> beam.Flatten().with_output_types(DeadLetter))
    outputs = {"articles": articles, "claims": claims, "toll": toll, "dead_letters": dead_letters}
    size = live.write_window_seconds
    windowed = {name: pcoll | f"{name}WriteWindows" >> (
                    FireEvery(size) if name == "toll" and toll_by_processing_time
                    else WindowByArrival(size, _lateness_seconds(options), clock))
                for name, pcoll in outputs.items()}
    # Toll panes are fired by processing time, numbered from 0 by each run of the stream: a
    # restarted stream names its files apart, by its start time.
    keys = {"toll": run_key([str(clock())])}
    # A stream's windows are written by a fixed number of shards (WriteToFiles' rule in streaming).
    _write(windowed, options, keys, options.parquet_shards or 1, remove_stale=False)
    return outputs
