"""WriteParquet: records to Hive-partitioned Parquet (`OUT/<table>/<column>=<value>/<name>.parquet`).

Written through Beam's `fileio.WriteToFiles`: with `shards=0` each bundle writes the records it
makes, as (partition, record) pairs; with a number of shards the records cross WriteToFiles'
shuffle as (partition, RowCoder bytes) pairs, because the shuffle has no element type and would
pickle each record (a schema'd record decoded on a worker pickles with its whole schema, and is
rebuilt from it on the other side). Each worker writes a temporary file (in
`OUT/.tmp/<table>/`, a name without `.parquet`, so DuckDB's `*.parquet` glob never reads a half-written
file) and Beam renames it to a deterministic final name per (partition, window, shard), so a rerun
replaces the files of the partitions it writes instead of adding to them.
"""

from __future__ import annotations

import datetime
import functools
import os
import re
import threading
from typing import Callable, Iterable, Iterator, Optional

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io import fileio
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.value_provider import StaticValueProvider
from apache_beam.transforms import trigger
from apache_beam.transforms.window import (
    FixedWindows, GlobalWindow, GlobalWindows, TimestampedValue)
from apache_beam.utils.timestamp import Duration, Timestamp

from tollwatch.schemas import arrow_schema, to_arrow_table
from tollwatch.transforms import METRICS_NAMESPACE

# DuckDB reads row groups in parallel and prunes them by statistics; ~64k rows per group keeps
# both working without holding many rows in a worker's memory. Rows of long text (articles) are
# written sooner: a group is also closed at ROW_GROUP_BYTES of encoded records.
ROW_GROUP_ROWS = 65_536
ROW_GROUP_BYTES = 32 << 20
# What the open sinks of a process hold in Arrow tables, together. The process's memory for them is
# ~2x this (many small tables, and the allocator's slack): 64 MB of tables cost ~130 MB at 100k
# articles, 32 MB ~90 MB (/work/scratch/sink_mem.py, one worker's records through the sinks).
PROCESS_BUFFER_BYTES = 32 << 20
# Records a sink holds as objects before it converts them to Arrow: few, since a bundle may have
# a sink open per partition and table (150 at 100k articles over 51 days) and a record as objects
# is 1-3x its encoded size (a Claim ~1.6 KB, an Article ~5 KB).
SLICE_ROWS = 64
SLICE_BYTES = 256 << 10
# shards=0: each bundle writes its records as they arrive, one file per partition it meets; more
# partitions than this in one bundle go through a shuffle (Beam's spill).
MAX_WRITERS_PER_BUNDLE = 512
_UNSAFE = re.compile(r"[^0-9A-Za-z._-]")
# Beam's temporary files of a table are written in `<base>/.tmp/<table>/` (no `.parquet` suffix).
TEMP_DIR = ".tmp"


def run_key(inputs: list[str]) -> str:
    """A short stable key of a run's inputs (the resolved patterns, in any order)."""
    import hashlib

    return hashlib.blake2b("\n".join(sorted(inputs)).encode(), digest_size=5).hexdigest()


_FIRST_DAY = Timestamp.from_utc_datetime(datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc))
_LAST_DAY = Timestamp.from_utc_datetime(datetime.datetime(9999, 12, 31, tzinfo=datetime.timezone.utc))


_DAY_MICROS = 86_400 * 1_000_000


def partition_value(ts: Timestamp) -> str:
    """The date partition of a timestamp: YYYY-MM-DD in UTC, four-digit years (strftime writes
    year 1 as '1', which DuckDB does not read as a date). A timestamp outside years 1-9999 (a toll
    window reaching back before year 1) goes to the first or last day rather than failing the run."""
    # Every record written asks: by its day number, not through Beam's datetime conversion.
    micros = min(max(ts.micros, _FIRST_DAY.micros), _LAST_DAY.micros)
    return _day_partition(micros // _DAY_MICROS)


@functools.lru_cache(maxsize=4096)
def _day_partition(day: int) -> str:
    """The YYYY-MM-DD of a day counted from 1970-01-01 (negative before)."""
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=day)).isoformat()


def safe_component(value: str) -> str:
    """A file or folder name component that cannot leave its folder, whatever the record says."""
    cleaned = _UNSAFE.sub("_", value).strip("._")
    return cleaned[:100] or "_"


class ParquetSink(fileio.FileSink):
    """A FileSink writing records of one type as Parquet, in row groups of `ROW_GROUP_ROWS`. It
    receives (partition, record) pairs, or with `encoded` (partition, RowCoder bytes) pairs, as
    WriteParquet sends them through a shuffle, and holds the records as Arrow tables, converted
    `SLICE_ROWS` (or `SLICE_BYTES`) at a time, until it writes them.

    A bundle that writes as it goes has a sink open per partition it meets, each holding rows
    until a row group is full: the sinks of a process share `PROCESS_BUFFER_BYTES`, and past it the
    fullest one writes its row group (a bundle's memory stays flat however many records it writes)."""

    _open: "set[ParquetSink]" = set()
    _held = 0  # bytes held by the open sinks of this process
    _lock = threading.Lock()

    def __init__(self, record_type: type, row_group_rows: int = ROW_GROUP_ROWS, encoded: bool = False,
                 row_group_bytes: int = ROW_GROUP_BYTES):
        self._record_type = record_type
        self._row_group_rows = row_group_rows
        self._row_group_bytes = row_group_bytes
        self._decode = beam.coders.registry.get_coder(record_type).decode if encoded else None
        self._writer: Optional[pq.ParquetWriter] = None
        self._reset()

    def _reset(self) -> None:
        self._pending: list = []  # records not yet converted
        self._pending_bytes = 0  # their size: encoded, or estimated
        self._tables: list[pa.Table] = []  # converted, not yet written
        self._rows = 0  # rows held, pending or converted
        self._bytes = 0  # bytes held: the tables' and the pending records'

    def open(self, fh) -> None:
        self._writer = pq.ParquetWriter(fh, arrow_schema(self._record_type), compression="zstd")
        self._reset()
        # Only the thread that writes a sink may flush it (a worker runs bundles in parallel threads).
        self._thread = threading.get_ident()
        with ParquetSink._lock:
            ParquetSink._open.add(self)

    def _hold(self, change: int) -> None:
        self._bytes += change
        with ParquetSink._lock:
            ParquetSink._held += change

    def write(self, element) -> None:
        _, record = element
        if self._decode is not None:
            size, record = len(record), self._decode(record)
        else:
            size = _estimated_bytes(record)
        self._pending.append(record)
        self._pending_bytes += size
        self._rows += 1
        self._hold(size)
        if len(self._pending) >= SLICE_ROWS or self._pending_bytes >= SLICE_BYTES:
            self._convert()
        if self._rows >= self._row_group_rows or self._bytes >= self._row_group_bytes:
            self._write_rows()
        elif ParquetSink._held > PROCESS_BUFFER_BYTES:
            with ParquetSink._lock:
                fullest = max((sink for sink in ParquetSink._open if sink._thread == self._thread),
                              key=lambda sink: sink._bytes)
            fullest._write_rows()
            if ParquetSink._held > PROCESS_BUFFER_BYTES:
                self._write_rows()

    def _convert(self) -> None:
        if self._pending:
            table = to_arrow_table(self._pending, self._record_type)
            self._tables.append(table)
            self._hold(table.nbytes - self._pending_bytes)
            self._pending, self._pending_bytes = [], 0

    def _write_rows(self) -> None:
        self._convert()
        if self._tables:
            self._writer.write_table(pa.concat_tables(self._tables))
            self._hold(-self._bytes)
            self._reset()

    def flush(self) -> None:
        # Beam calls flush() once, just before it closes the handle: the footer must be written now.
        self._write_rows()
        self._writer.close()
        with ParquetSink._lock:
            ParquetSink._open.discard(self)


def _estimated_bytes(record: tuple) -> int:
    """A record's size as objects: its strings and bytes, and ~64 bytes per field (a field's object
    and pointer). Cheap, not exact (a nested list counts as one field)."""
    return sum(len(v) + 64 if isinstance(v, (str, bytes)) else 64 for v in record)


def _window_tag(window) -> str:
    if isinstance(window, GlobalWindow) or window is None:
        return ""
    start, end = (f"{t.year:04d}{t:%m%dT%H%M%S}" for t in (window.start.to_utc_datetime(),
                                                             window.end.to_utc_datetime()))
    return f"{start}-{end}-"


def hive_file_naming(base_path: str, prefix: str = "part") -> Callable:
    """Beam file naming that puts each destination in its own partition folder.

    The destination is the partition folder (`column=value`). The folder is created here because
    the local filesystem's rename does not create it and Beam only logs that failure at DEBUG.
    """

    def _name(window, pane, shard_index, total_shards, compression, destination) -> str:
        folder = FileSystems.join(base_path, destination)
        try:
            FileSystems.mkdirs(folder)
        except IOError:
            pass  # exists already
        pane_tag = f"p{pane.index}-" if pane is not None and pane.index else ""
        shard = f"{shard_index or 0:05d}-of-{total_shards or 1:05d}"
        return f"{destination}/{prefix}-{_window_tag(window)}{pane_tag}{shard}.parquet"

    return _name


class WriteParquet(beam.PTransform):
    """Writes records of one type to `output/<table>/<partition_column>=<YYYY-MM-DD>/*.parquet`.

    `partition_by` names the record's timestamp field whose UTC date is the partition; the column
    is stored only in the folder name, as DuckDB's hive_partitioning expects.
    """

    def __init__(self, output: str, table: str, record_type: type, partition_by: str,
                 partition_column: str, shards: int = 1, run_key: str = "",
                 remove_stale: bool = True):
        super().__init__()
        if partition_by not in record_type._fields:
            raise ValueError(f"{record_type.__name__} has no field {partition_by!r}")
        if shards < 0:
            raise ValueError(f"shards must be >= 0 (0: a file per bundle), got {shards}")
        if safe_component(table) != table or safe_component(partition_column) != partition_column:
            raise ValueError(f"unsafe table or column name: {table!r}, {partition_column!r}")
        self._output = output
        self._table = table
        self._record_type = record_type
        self._partition_by = partition_by
        self._partition_column = partition_column
        self._shards = shards
        if run_key and safe_component(run_key) != run_key:
            raise ValueError(f"unsafe run key {run_key!r}")
        self._prefix = f"part-{run_key}" if run_key else "part"
        self._remove_stale = remove_stale

    def expand(self, records):
        base = FileSystems.join(self._output, self._table)
        field, column, record_type = self._partition_by, self._partition_column, self._record_type
        coder = beam.coders.registry.get_coder(record_type)

        # shards=0: the records go to the sinks in the bundle that made them. Else they cross a
        # shuffle, whose elements have no type (a record would be pickled): as RowCoder bytes.
        encoded = self._shards != 0

        def partitioned(record) -> tuple[str, object]:
            return (f"{column}={partition_value(getattr(record, field))}",
                    coder.encode(record) if encoded else record)

        write = fileio.WriteToFiles(
            path=base,
            destination=lambda pair: pair[0],
            file_naming=hive_file_naming(base, self._prefix),
            temp_directory=StaticValueProvider(
                str, FileSystems.join(self._output, TEMP_DIR, self._table)),
            sink=lambda _dest: ParquetSink(record_type, encoded=encoded),
            shards=self._shards or None,
            max_writers_per_bundle=MAX_WRITERS_PER_BUNDLE if self._shards == 0 else 0,
        )
        written = (records
                   | "Encode" >> beam.Map(partitioned).with_output_types(
                       tuple[str, bytes] if encoded else tuple[str, record_type])
                   | "WriteFiles" >> write)
        if self._prefix == "part" or not self._remove_stale:
            return written
        # A rerun replaces its own files; with a file per bundle it may write fewer than before.
        return (written
                | "ByPartition" >> beam.Map(lambda r: (r.destination, r.file_name))
                | "GroupByPartition" >> beam.GroupByKey()
                | "RemoveStale" >> beam.Map(remove_stale_files, base, self._prefix))


def remove_stale_files(partition: tuple[str, Iterable[str]], base: str, prefix: str) -> list[str]:
    """Deletes the files of one partition this run's earlier writes left (its prefix, not among
    the names just written); returns the names written."""
    destination, written = partition
    kept = {FileSystems.join(base, name) if not name.startswith(base) else name for name in written}
    pattern = FileSystems.join(base, destination, f"{prefix}-*.parquet")
    try:
        found = [m.path for m in FileSystems.match([pattern])[0].metadata_list]
    except Exception:  # noqa: BLE001 - nothing to match
        found = []
    stale = [path for path in found if path not in kept]
    if stale:
        FileSystems.delete(stale)
    return sorted(kept)


def arrival_time(record, clock: Callable[[], Timestamp] = Timestamp.now) -> Timestamp:
    """When a record reached tollwatch: `ingested_at` (articles, dead letters), `computed_at` (toll
    rows), else now (claims carry no arrival time of their own: they are made on arrival)."""
    when = getattr(record, "ingested_at", None) or getattr(record, "computed_at", None)
    return when if when is not None else clock()


class _AtArrivalFn(beam.DoFn):
    """Stamps each record with its arrival time. A record whose write window closed more than the
    allowed lateness ago by `clock` is counted and left out here, where Beam would drop it silently
    (a stream's watermark is never ahead of the clock, so this leaves out all that Beam would)."""

    def __init__(self, seconds: int, lateness_seconds: int, clock: Callable[[], Timestamp]):
        self._seconds = seconds
        self._lateness = lateness_seconds
        self._clock = clock
        self._too_late = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "write_too_late")

    def process(self, record):
        when = arrival_time(record, self._clock)
        if when + self._seconds + self._lateness < self._clock():
            self._too_late.inc()
            return
        yield TimestampedValue(record, when)


class WindowByArrival(beam.PTransform):
    """Streaming records -> fixed windows of `seconds` by when they reached tollwatch
    (`arrival_time`), whatever their element time.

    Why: a stream's records are written window by window. Windowed by publication time, a copy of a
    week-old story, and every claim of it, would be late and dropped; and a toll pane's element time
    is the end of its toll window, up to a month ahead. By arrival, each record is written with the
    current window, under its own publication-date partition. A window is written on time, then
    again (a file of the next pane) for records that reach it up to `lateness_seconds` late."""

    def __init__(self, seconds: int = 60, lateness_seconds: int = 0,
                 clock: Callable[[], Timestamp] = Timestamp.now):
        super().__init__()
        if seconds <= 0:
            raise ValueError(f"the write window must be positive, got {seconds}")
        if lateness_seconds < 0:
            raise ValueError(f"the allowed lateness cannot be negative, got {lateness_seconds}")
        self._seconds = seconds
        self._lateness = lateness_seconds
        self._clock = clock

    def expand(self, records):
        return (records
                | "AtArrival" >> beam.ParDo(_AtArrivalFn(self._seconds, self._lateness, self._clock))
                .with_output_types(records.element_type)
                | "Windows" >> beam.WindowInto(FixedWindows(self._seconds),
                                               allowed_lateness=Duration(self._lateness)))


class FireEvery(beam.PTransform):
    """Streaming records -> the global window, fired every `seconds` of processing time (each
    firing is written as a pane of files of its own, named with the stream's run key).

    Why, for toll panes: downstream of the toll's windowed GroupByKey, Prism holds the watermark at
    the publication time of the claims in windows not yet closed (up to the as-of horizon, 30 days),
    so a write by event-time windows waited that long (measured: windows of arrival time after an
    early-firing GroupByKey fired only when the source stopped). Processing time does not wait."""

    def __init__(self, seconds: int = 60):
        super().__init__()
        if seconds <= 0:
            raise ValueError(f"the write interval must be positive, got {seconds}")
        self._seconds = seconds

    def expand(self, records):
        return records | "Every" >> beam.WindowInto(
            GlobalWindows(), trigger=trigger.Repeatedly(trigger.AfterProcessingTime(self._seconds)),
            accumulation_mode=trigger.AccumulationMode.DISCARDING)


def remove_temp_files(output: str, before: float) -> None:
    """After a successful run: removes the temporary files that runs killed or failed before this
    one left behind (last changed before `before`, this run's start), then the empty temporary
    folders. The views never read them (they are outside the table folders and not named
    *.parquet); this keeps them from piling up. Files of this run's own failed attempts stay until
    the next run, as do files of a run writing the same output at the same time."""
    if "://" in output:
        return
    from tollwatch.schemas.tables import STATE_DIR, STATE_TABLES, TABLES

    # Only the folders tollwatch writes temporary files to: an output folder may be one that held
    # other things before (a `.tmp` of the user's own in it is not ours to empty). `staging` is
    # the staging files' (staging.staging_dir).
    ours = [os.path.join(output, TEMP_DIR, name) for name in (*TABLES, "staging")]
    ours += [os.path.join(output, STATE_DIR, TEMP_DIR, name) for name in STATE_TABLES]
    for temp in ours:
        for folder, _subdirs, files in sorted(os.walk(temp), reverse=True):
            for name in files:
                path = os.path.join(folder, name)
                try:
                    if os.lstat(path).st_mtime < before:
                        os.remove(path)
                except OSError:
                    pass  # gone already
            try:
                os.rmdir(folder)
            except OSError:
                pass  # not empty
    for temp in (os.path.join(output, TEMP_DIR), os.path.join(output, STATE_DIR, TEMP_DIR)):
        try:
            os.rmdir(temp)
        except OSError:
            pass  # not empty, or absent


def table_files(output: str, table: str) -> list[str]:
    """The finished Parquet files of one table of an output folder (none yet: [])."""
    pattern = FileSystems.join(output, table, "*", "*.parquet")
    try:
        return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)
    except Exception:  # no such folder yet
        return []


def file_rows(path: str, columns: list[str]) -> Iterator[dict]:
    """The rows of one Parquet file of an output (local or a bucket), with those of `columns` it
    has, batch by batch."""
    with FileSystems.open(path) as handle:
        parquet = pq.ParquetFile(handle)
        present = [c for c in columns if c in parquet.schema_arrow.names]
        for batch in parquet.iter_batches(columns=present):
            yield from batch.to_pylist()


_MAGIC = b"PAR1"


def unreadable(path: str) -> Optional[str]:
    """Why a finished Parquet file cannot be read, or None: it must start and end with Parquet's
    magic bytes around a footer that fits in it (a file cut short, emptied or overwritten does
    not). Three small reads, so every file of a large output is checked in well under a second."""
    try:
        with (FileSystems.open(path) if "://" in path else open(path, "rb")) as handle:
            handle.seek(0, 2)
            size = handle.tell()
            if size < 12:
                return f"{size} bytes: too short for a Parquet file"
            handle.seek(0)
            head = handle.read(4)
            handle.seek(size - 8)
            tail = handle.read(8)
    except OSError as err:
        return f"{type(err).__name__}: {err}"
    if head != _MAGIC or tail[4:] != _MAGIC or int.from_bytes(tail[:4], "little") > size - 12:
        return f"{size} bytes and no Parquet footer: the file is cut short or is not Parquet"
    return None


# The run key in a file name written by WriteParquet (part-<run key>-[<window>-]<shard>.parquet),
# as schemas/views.sql reads it.
_RUN_KEY_OF_FILE = re.compile(r"/part-([^-/]+)-(?:[^/]*-)?\d{5}-of-\d{5}\.parquet$")


def file_run_key(path: str) -> str:
    """The key of the run that wrote a Parquet file ('' for a name WriteParquet does not give)."""
    found = _RUN_KEY_OF_FILE.search(path.replace("\\", "/"))
    return found.group(1) if found else ""


class ReadParquetRecords(beam.PTransform):
    """Records of one type from Parquet files written by WriteParquet (earlier runs' output).

    With `with_run_key`, (run key of the file, record) pairs, and a record field named `run_key`
    holds it too; `columns` reads only those columns (the record's other fields are None)."""

    def __init__(self, files: list[str], record_type: type, with_run_key: bool = False,
                 columns: Optional[list[str]] = None):
        super().__init__()
        self._files = list(files)
        self._record_type = record_type
        self._with_run_key = with_run_key
        self._columns = columns

    def expand(self, pbegin):
        from apache_beam.io.parquetio import ReadAllFromParquet

        from tollwatch.schemas import from_row

        record_type = self._record_type
        read = (pbegin
                | "Files" >> beam.Create(self._files)
                | "Read" >> ReadAllFromParquet(with_filename=self._with_run_key,
                                               **({"columns": self._columns} if self._columns
                                                  else {})))
        if self._with_run_key:
            return read | "AsRecords" >> beam.MapTuple(
                lambda path, row: (file_run_key(path),
                                   from_row({**row, "run_key": file_run_key(path)}, record_type))
            ).with_output_types(tuple[str, record_type])
        return read | "AsRecords" >> beam.Map(from_row, record_type).with_output_types(record_type)
