"""The wiring of tollwatch's stages: sources in, partitioned Parquet out. No stage logic here.

`build` is the batch flow of `tollwatch run` (and of each tick of `tollwatch follow`);
`build_streaming` the flow of `tollwatch run --streaming` on live sources. They differ in their
sources only: after the sources both are `_stages`, the same steps in the same order, and the
mode (`_Batch`, `_Stream`) chooses how a step keeps its state -- the whole run and the output
folder's earlier files in batch, per-key state and windows in a stream (ARCHITECTURE.md, "One
pipeline").
"""

from __future__ import annotations

import json
from typing import Optional, Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import DebugOptions, StandardOptions
from apache_beam.utils.timestamp import Timestamp

from tollwatch.pipeline.options import LiveOptions, TollwatchOptions
from tollwatch.pipeline.progress import ReportProgress
from tollwatch.schemas import TABLES, Claim, DeadLetter, RawDoc, TollWindow
from tollwatch.schemas.intermediate import ArticleVersion, EventSpan, FileRef
from tollwatch.transforms.copies import FindCopies
from tollwatch.transforms.duplicates.settings import TTL as COPIES_TTL
from tollwatch.transforms.duplicates.state import WriteSignatures, known_signatures, stored_seeds
from tollwatch.transforms.events import AssignEvents, Event, default_event, load_events
from tollwatch.transforms.extract import ExtractArticles
from tollwatch.transforms.infer_events import ApplyEvents, InferEvents
from tollwatch.transforms.inputs.files import ReadFiles
from tollwatch.transforms.parquet import (
    FireEvery, ReadParquetRecords, WindowByArrival, WriteParquet, run_key, table_files)
from tollwatch.transforms.quarantine import set_aside_damaged
from tollwatch.transforms.repeats import StripRepeatedPassages
from tollwatch.transforms.resume import SkipWritten, article_key, dead_letter_key, written_keys
from tollwatch.transforms.staging import RemoveStaging, staging_dir
from tollwatch.transforms.toll import ReviseToll, TollStats, WithEarlierClaims
from tollwatch.transforms.inputs.watch import DEFAULT_TTL as WATCH_TTL, WatchFolder, watch_patterns
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


def _raw_docs(sources: Sequence[dict]):
    return [s["raw_docs"] for s in sources] | "AllRawDocs" >> beam.Flatten().with_output_types(RawDoc)


def _stages(pipeline: beam.Pipeline, options: TollwatchOptions, sources: Sequence[dict], mode,
            expected_files: Optional[int] = None) -> dict:
    """The flow after the sources, the same in both modes: RawDocs -> Articles -> copies and
    claims -> toll -> the four tables. `mode` (`_Batch`, `_Stream`) gives each stateful step its
    form and writes the tables. Returns the tables' PCollections by name."""
    extracted = (_raw_docs(sources)
                 | "Progress" >> ReportProgress("files read", expected_files)
                 | "ExtractArticles" >> ExtractArticles())
    strip, assign = StripRepeatedPassages(), AssignEvents(events_for(options))
    assigned = (extracted["articles"]
                | "StripRepeatedPassages" >> strip
                | "AssignEvents" >> assign)
    # A restarted stream reads its sources again: what OUT holds already goes no further.
    assigned = mode.not_written(assigned, "Articles", article_key)
    found = mode.with_known(pipeline, assigned) | "FindCopies" >> mode.find_copies
    articles, claims = mode.label_events(pipeline, assigned, found["articles"], found["claims"])
    toll = mode.toll(pipeline, articles, claims)
    dead_letters = ([s["dead_letters"] for s in sources]
                    + [extracted["dead_letters"], strip.dead_letters, assign.dead_letters,
                       found["dead_letters"], *mode.more_dead_letters(pipeline)]
                    | "AllDeadLetters" >> beam.Flatten().with_output_types(DeadLetter))
    dead_letters = mode.not_written(dead_letters, "DeadLetters", dead_letter_key)
    outputs = {"articles": articles, "claims": claims, "toll": toll, "dead_letters": dead_letters}
    mode.write(pipeline, outputs, found)
    return outputs


class _Batch:
    """A bounded run: a step sees the whole run at once, and what earlier runs wrote into the
    output folder is its state (signatures of canonical articles, claims, toll, event ids)."""

    def __init__(self, options: TollwatchOptions, key: str, now: Optional[Timestamp]):
        self._options = options
        self._key = key
        # Batch: by default each worker bundle writes its records as they come (no shuffle of
        # whole records); --parquet_shards N shuffles them into N files per partition.
        self._shards = options.parquet_shards if options.parquet_shards is not None else 0
        output = options.output
        # Before anything of the output is read: a damaged file is set aside, not a failed run.
        self._damaged = set_aside_damaged(output, now)
        self._staging = staging_dir(output, key)
        self.find_copies = FindCopies(options.sources, staging=self._staging)
        self._earlier = {t: table_files(output, t) for t in ("claims", "toll", "articles")}
        self._current = _windowing(options)
        # A run owns the toll: with another windowing than the earlier toll's it replaces the table.
        self._replaced = (self._earlier["toll"] if must_replace(
            self._earlier["toll"], recorded_windowing(output), self._current) else [])

    def not_written(self, records, name: str, key_of):
        return records  # a rerun's files replace its own: reading again repeats no row

    def with_known(self, pipeline, articles):
        known = known_signatures(pipeline, self._options.output)  # canonical articles of earlier runs
        return (articles, known) if known is not None else articles

    def label_events(self, pipeline, assigned, articles, claims):
        """Without --events: events from places and dates over the whole run, keeping the ids of
        the events the output already holds."""
        if self._options.events:
            return articles, claims
        earlier = self._earlier["articles"]
        spans = (pipeline | "EventsSoFar" >> ReadParquetRecords(
            earlier, EventSpan, columns=list(EventSpan._fields)) if earlier else None)
        choices = assigned | "InferEvents" >> InferEvents(spans)
        labelled = {"articles": articles, "claims": claims} | "ApplyEvents" >> ApplyEvents(choices)
        return labelled["articles"], labelled["claims"]

    def toll(self, pipeline, articles, claims):
        """An output folder that already holds claims: the toll is recomputed over them and this
        run's claims, and only windows whose answer changed are written, as a new pane."""
        earlier_claims, earlier_toll = self._earlier["claims"], self._earlier["toll"]
        toll_claims = claims
        if earlier_claims:
            toll_claims = ((claims,
                            articles | "ReadDocIds" >> beam.Map(lambda a: a.doc_id).with_output_types(str),
                            pipeline | "EarlierClaims" >> ReadParquetRecords(earlier_claims, Claim,
                                                                             with_run_key=True),
                            pipeline | "EarlierArticles" >> ReadParquetRecords(
                                self._earlier["articles"], ArticleVersion, with_run_key=True,
                                columns=["doc_id", "ingested_at", "published_at"])
                            | "ArticleVersions" >> beam.Values().with_output_types(ArticleVersion))
                           | "WithEarlierClaims" >> WithEarlierClaims())
        toll = toll_claims | "TollStats" >> _toll_stats(self._options)
        if earlier_toll and not self._replaced:
            toll = ((toll, pipeline | "EarlierToll" >> ReadParquetRecords(earlier_toll, TollWindow))
                    | "ReviseToll" >> ReviseToll())
        return toll

    def more_dead_letters(self, pipeline) -> list:
        return [pipeline | "DamagedOutput" >> beam.Create(self._damaged).with_output_types(DeadLetter)]

    def write(self, pipeline, outputs: dict, found: dict) -> None:
        options, key = self._options, self._key
        found["signatures"] | "KeepSignatures" >> WriteSignatures(options.output, self._shards, key)
        # Toll panes are a log: each revision gets files of its own, named after the earlier toll
        # files it revised, so a rerun from the same state replaces its own files and nothing else.
        keys = {name: key for name in outputs}
        keys["toll"] = run_key([key, *self._earlier["toll"]] if not self._replaced
                               else [key, json.dumps(self._current)])
        written = _write(outputs, options, keys, self._shards)
        if self._replaced or recorded_windowing(options.output) != self._current:
            written[list(outputs).index("toll")] | "OwnToll" >> OwnToll(
                options.output, self._replaced, self._current)
        (written | "AllWritten" >> beam.Flatten()
         | "RemoveStaging" >> RemoveStaging(self._staging))


class _Stream:
    """An unbounded run: per-key state with expiry timers (copies), windows with early, on-time
    and late panes (toll, writes). Of the output folder, a (re)started stream reads what it has
    written already (resume.py): it writes no row twice, its toll counts the claims written, and
    its copy state holds the canonical articles that arrived within its TTL (duplicates/state.py)."""

    def __init__(self, options: TollwatchOptions, clock, toll_by_processing_time: bool,
                 resume: bool = True):
        self._options = options
        self._clock = clock
        self._resume = resume
        self._written = written_keys(options.output, WATCH_TTL, clock()) if resume else frozenset()
        # The local FnApiRunner (no --runner) has no processing time: there, no early panes, and
        # toll panes are written by arrival windows like the other tables.
        self._local = options.view_as(StandardOptions).runner is None
        self._toll_by_processing_time = toll_by_processing_time and not self._local
        # Copies of stories written before the (re)start link to their stored canonicals.
        seeds = stored_seeds(options.output, COPIES_TTL, clock()) if resume else None
        self.find_copies = FindCopies(options.sources, seeds=seeds)

    def not_written(self, records, name: str, key_of):
        """Leaves out what a restarted stream read again (its rows are in OUT already)."""
        if not self._written:
            return records
        return records | f"{name}NotWrittenBefore" >> SkipWritten(self._written, key_of)

    def with_known(self, pipeline, articles):
        return articles

    def _written_claims(self, pipeline):
        """The claims OUT holds (of each article's current version) that a toll window still open
        now counts, or None."""
        output, options = self._options.output, self._options
        files = table_files(output, "claims") if self._resume else []
        if not files:
            return None
        horizon = self._clock() - (options.as_of_days * 86400 + _lateness_seconds(options))
        return ((pipeline | "NoNewClaims" >> beam.Create([]).with_output_types(Claim),
                 pipeline | "NoneReadAgain" >> beam.Create([]).with_output_types(str),
                 pipeline | "EarlierClaims" >> ReadParquetRecords(files, Claim, with_run_key=True),
                 pipeline | "EarlierArticles" >> ReadParquetRecords(
                     table_files(output, "articles"), ArticleVersion, with_run_key=True,
                     columns=["doc_id", "ingested_at", "published_at"])
                 | "ArticleVersions" >> beam.Values().with_output_types(ArticleVersion))
                | "WithEarlierClaims" >> WithEarlierClaims()
                | "StillInAWindow" >> beam.Filter(
                    lambda c, since: c.published_at is not None and c.published_at >= since,
                    horizon).with_output_types(Claim))

    def label_events(self, pipeline, assigned, articles, claims):
        return articles, claims  # inferring events needs the whole run: a stream keeps --events'

    def toll(self, pipeline, articles, claims):
        # A stream's toll is revised (early panes) as often as its files are written.
        live = self._options.view_as(LiveOptions)
        written = self._written_claims(pipeline)
        if written is not None:
            claims = (claims, written) | "WithWrittenClaims" >> beam.Flatten().with_output_types(Claim)
        return claims | "TollStats" >> _toll_stats(self._options, streaming=not self._local,
                                                   clock=self._clock,
                                                   early_firing_seconds=live.write_window_seconds)

    def more_dead_letters(self, pipeline) -> list:
        return []

    def write(self, pipeline, outputs: dict, found: dict) -> None:
        options = self._options
        size = options.view_as(LiveOptions).write_window_seconds
        windowed = {name: pcoll | f"{name}WriteWindows" >> (
                        FireEvery(size) if name == "toll" and self._toll_by_processing_time
                        else WindowByArrival(size, _lateness_seconds(options), self._clock))
                    for name, pcoll in outputs.items()}
        # Toll panes are fired by processing time, numbered from 0 by each run of the stream: a
        # restarted stream names its files apart, by its start time.
        keys = {"toll": run_key([str(self._clock())])}
        # A stream's windows are written by a fixed number of shards (WriteToFiles' rule in streaming).
        _write(windowed, options, keys, options.parquet_shards or 1, remove_stale=False)
        (found["signatures"]
         | "signaturesWriteWindows" >> WindowByArrival(size, _lateness_seconds(options), self._clock)
         | "KeepSignatures" >> WriteSignatures(options.output, options.parquet_shards or 1))


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
    if patterns:
        sources.append(pipeline | "ReadFiles" >> ReadFiles(list(patterns), options.max_file_bytes, now))
    elif files:
        sources.append(pipeline | "ReadFiles" >> ReadFiles(
            max_bytes=options.max_file_bytes, now=now, files=list(files), roots=roots))
    if not sources:
        raise ValueError("nothing to read: no input patterns and no other source")
    mode = _Batch(options, key or run_key(list(patterns)), now)
    return _stages(pipeline, options, sources, mode, expected_files)


# Prism (Beam 2.77) splits a bundle that makes no progress for 100 ms and hands its rest to a new
# bundle, freeing the keys of the elements it moved while the first part still runs (its engine's
# splitBundle): a stateful step then runs two elements of one key at once, each reading the state
# as it was before the other's write. A stream's state is per key (a feed's cursor, a path's version,
# the copies' buckets): measured, a feed entry polled at two ticks in one bundle, under load, was
# written twice. Without these splits Prism runs the elements of a key one after another.
PRISM_NO_SPLITS = "prism_disable_sdf_split"
# The runners that may run the job on Prism (the DirectRunner tries it first; a PortableRunner may
# be sent to Prism's job server). Others are not given Prism's experiment.
_MAYBE_PRISM = {"PrismRunner", "TestPrismRunner", "DirectRunner", "SwitchingDirectRunner",
                "PortableRunner"}


def keep_keys_in_order(options) -> None:
    """Asks Prism not to split a stream's bundles (PRISM_NO_SPLITS), when the job may run on it."""
    runner = options.view_as(StandardOptions).runner or "DirectRunner"  # Beam's default
    if runner.rsplit(".", 1)[-1] in _MAYBE_PRISM:
        options.view_as(DebugOptions).add_experiment(PRISM_NO_SPLITS)


def build_streaming(pipeline: beam.Pipeline, options: TollwatchOptions,
                    feed_source: Optional[beam.PTransform] = None,
                    extra_sources: Sequence[dict] = (), clock=Timestamp.now,
                    toll_by_processing_time: bool = True, resume: bool = True) -> dict:
    """Adds the streaming flow: the watched folders (and `feed_source`, e.g. ReadFeeds) -> the
    stages of `build` in their streaming form -> windowed Parquet. What a stream cannot decide
    (rewrites, the un-marking of figures a copy states anew: transforms/copies.py; inferred
    events) is left to `tollwatch run` over the output.

    `toll_by_processing_time=False` writes toll panes by arrival windows like the other tables
    (for Beam's TestStream runner, which does not end a stream with a repeated processing-time
    trigger; on Prism that write waits for the toll windows to close, see FireEvery).
    `resume=False` reads nothing of the output (a dry run translates the graph without it)."""
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
    keep_keys_in_order(pipeline.options)
    return _stages(pipeline, options, sources, _Stream(options, clock, toll_by_processing_time,
                                                                 resume))
