"""WatchFolder: the files that appear (or change) in a folder or bucket, as a stream.

Every `interval` seconds a `PeriodicImpulse` tick matches the patterns (Beam FileSystems: local,
gs://, s3://...). Each path is keyed to a stateful DoFn that remembers the (modification time,
size) it last emitted, so a file is read once, and again only when it changes. The memory is
bounded as in Beam's `DeduplicatePerKey`: a path is forgotten by an event-time timer `ttl` after
its modification time, and files last modified more than `ttl` before a tick are not taken at all,
so a forgotten file is never read twice. The files then go through the batch reader
(`ingest.read_file`: size cap, unsupported types and unreadable files become DeadLetters).

The same matching rule, as a pure function over a listing and a cursor, is `changed_files`: the
local `follow` mode keeps that cursor in the output folder between its bounded runs.
"""

from __future__ import annotations

from typing import Iterable, Mapping, NamedTuple, Optional, Sequence

import apache_beam as beam
from apache_beam.coders import coders
from apache_beam.io.filesystem import FileMetadata
from apache_beam.transforms import userstate
from apache_beam.transforms.periodicsequence import PeriodicImpulse
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.timestamp import MAX_TIMESTAMP, Duration, Timestamp

from tollwatch.schemas import DeadLetter, RawDoc
from tollwatch.transforms.inputs.files import (
    DEFAULT_MAX_FILE_BYTES, FileRef, ReadFileFn, file_kind, file_ref, input_root, list_matches,
    printable_path, undecodable_name)
from tollwatch.transforms import METRICS_NAMESPACE

DEFAULT_INTERVAL_SECONDS = 30.0
DEFAULT_TTL = Duration(seconds=7 * 24 * 3600)
# A file modified this recently may still be being written: it waits for the next listing.
DEFAULT_SETTLE_SECONDS = 1.0


class FileVersion(NamedTuple):
    """What identifies one version of a file: its path, modification time and size."""

    path: str
    mtime: float
    size: int

    @classmethod
    def of(cls, meta: FileMetadata) -> "FileVersion":
        return cls(meta.path, float(meta.last_updated_in_seconds or 0.0), int(meta.size_in_bytes))


def changed_files(listing: Iterable[FileVersion], seen: Mapping[str, tuple[float, int]],
                  now: float, settle_seconds: float = DEFAULT_SETTLE_SECONDS,
                  ttl_seconds: Optional[float] = None) -> list[FileVersion]:
    """The files of a listing to read now: new or changed since `seen` (path -> (mtime, size)),
    not hidden, modified at least `settle_seconds` ago and, with a TTL, within it. Sorted by path."""
    out = {}
    for version in listing:
        if file_kind(version.path) == "hidden" or version.mtime > now - settle_seconds:
            continue
        if ttl_seconds is not None and version.mtime < now - ttl_seconds:
            continue
        if seen.get(version.path) != (version.mtime, version.size):
            out[version.path] = version
    return [out[p] for p in sorted(out)]


class NewFilesFn(beam.DoFn):
    """Per path: emit a matched file when its (mtime, size) is not the one emitted last; forget the
    path `ttl` after its modification time."""

    LAST = userstate.ReadModifyWriteStateSpec("last", coders.TupleCoder(
        [coders.FloatCoder(), coders.VarIntCoder()]))
    FORGET = userstate.TimerSpec("forget", TimeDomain.WATERMARK)

    def __init__(self, ttl: Duration, settle_seconds: float):
        self._ttl = ttl
        self._settle = settle_seconds
        self._new = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "watch_new_files")
        self._forgotten = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "watch_forgotten_paths")

    def process(self, element: tuple[str, FileMetadata], tick=beam.DoFn.TimestampParam,
                last=beam.DoFn.StateParam(LAST), forget=beam.DoFn.TimerParam(FORGET)):
        _, meta = element
        version = FileVersion.of(meta)
        previous = last.read()
        seen = {version.path: tuple(previous)} if previous is not None else {}
        if not changed_files([version], seen, tick.micros / 1e6, self._settle,
                             self._ttl.micros / 1e6):
            return
        last.write((version.mtime, version.size))
        # Whole milliseconds: portable runners keep timers at millisecond precision.
        forget.set(Timestamp(micros=(int((version.mtime + self._ttl.micros / 1e6) * 1000) + 1) * 1000))
        self._new.inc()
        yield meta

    @userstate.on_timer(FORGET)
    def forget(self, last=beam.DoFn.StateParam(LAST)):
        last.clear()
        self._forgotten.inc()


class _NamedFn(beam.DoFn):
    """A new file as a FileRef; one whose name is not UTF-8 (no coder can carry it) to
    'dead_letters'."""

    def process(self, meta: FileMetadata, tick=beam.DoFn.TimestampParam):
        dead = undecodable_name(meta.path, meta.size_in_bytes, tick)
        yield file_ref(meta) if dead is None else beam.pvalue.TaggedOutput(ReadFileFn.DEAD_LETTERS, dead)


class WatchFolder(beam.PTransform):
    """Patterns -> {'raw_docs', 'dead_letters'}: each new or changed file once, read as in batch.

    `start`/`stop` bound the polling (`stop=None`: forever); with a stop time the transform runs on
    batch runners too, which is how the tests exercise it.
    """

    def __init__(self, patterns: Sequence[str], interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
                 max_bytes: int = DEFAULT_MAX_FILE_BYTES, ttl: Duration = DEFAULT_TTL,
                 settle_seconds: float = DEFAULT_SETTLE_SECONDS, start: Optional[Timestamp] = None,
                 stop: Optional[Timestamp] = None):
        super().__init__()
        if not patterns:
            raise ValueError("WatchFolder needs at least one pattern")
        if interval_seconds <= 0 or max_bytes <= 0 or settle_seconds < 0:
            raise ValueError("interval and max_bytes must be positive, settle_seconds >= 0")
        self._patterns = list(patterns)
        self._interval = interval_seconds
        self._max_bytes = max_bytes
        self._ttl = ttl if isinstance(ttl, Duration) else Duration(seconds=ttl)
        self._settle = settle_seconds
        self._start, self._stop = start, stop

    def expand(self, pbegin):
        patterns = self._patterns
        start = self._start if self._start is not None else Timestamp.now()
        stop = self._stop if self._stop is not None else MAX_TIMESTAMP
        files = (
            pbegin
            | "Tick" >> PeriodicImpulse(start_timestamp=start, stop_timestamp=stop,
                                        fire_interval=self._interval)
            | "Patterns" >> beam.FlatMap(lambda _tick: patterns)
            # As in batch: dangling and looping links are listed too, to become dead letters.
            | "Match" >> beam.FlatMap(lambda pattern: list_matches([pattern])).with_output_types(
                FileMetadata)
            # Keyed by the printable path: a name that is not UTF-8 cannot be a key as it is.
            | "KeyByPath" >> beam.Map(lambda meta: (printable_path(meta.path), meta)).with_output_types(
                tuple[str, FileMetadata])
            # A stage boundary: batch runners fire the state's timers when a stage's input is
            # done, which, fused with the polling source, would be after every poll.
            | "ToPathState" >> beam.transforms.util.ReshufflePerKey()
            | "NewFiles" >> beam.ParDo(NewFilesFn(self._ttl, self._settle)).with_input_types(
                tuple[str, FileMetadata]).with_output_types(FileMetadata)
            # Once per version, like any new file: a name that is not UTF-8 is a dead letter.
            | "Named" >> beam.ParDo(_NamedFn()).with_output_types(FileRef)
            .with_outputs(ReadFileFn.DEAD_LETTERS, main="files"))
        named = files[ReadFileFn.DEAD_LETTERS]
        files = (
            files.files
            | "GlobalWindow" >> beam.WindowInto(GlobalWindows())
            | "Spread" >> beam.Reshuffle())
        # Confined to the watched folders, as in batch: a link must not lead out of them.
        roots = sorted({r for r in map(input_root, patterns) if r is not None})
        results = files | "Read" >> beam.ParDo(ReadFileFn(self._max_bytes, None, roots)).with_output_types(
            RawDoc, dead_letters=DeadLetter).with_outputs(ReadFileFn.DEAD_LETTERS, main="raw_docs")
        dead_letters = ((results[ReadFileFn.DEAD_LETTERS], named)
                        | "DeadLetters" >> beam.Flatten().with_output_types(DeadLetter))
        return {"raw_docs": results.raw_docs, "dead_letters": dead_letters}


def watch_patterns(paths: Sequence[str]) -> list[str]:
    """The match patterns of --watch paths: a folder (existing or not yet: a drop folder or bucket
    may start empty) is every file below it; a glob or an existing file stays as it is."""
    import os

    from tollwatch.transforms.inputs.files import is_glob

    out = []
    for path in paths:
        if is_glob(path) or ("://" not in path and os.path.isfile(path)):
            out.append(path if "://" in path else os.path.abspath(path))
        elif "://" in path:
            out.append(path.rstrip("/") + "/**")
        else:
            out.append(os.path.join(os.path.abspath(path), "**"))
    return out
