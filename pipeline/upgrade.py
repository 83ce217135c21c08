"""`tollwatch upgrade OUT`: rewrites the Parquet files an earlier tollwatch wrote into today's
format (schemas/versions.py), and the check by which the commands that read OUT refuse files of
another format: older ones (`tollwatch upgrade` rewrites them) and newer ones (written by a later
tollwatch: upgrade tollwatch).

It works on any output Beam's FileSystems reach (a local folder, gs://, s3://, ...) and only
through them (match, open, create, rename, delete). An older `<name>.parquet` is rewritten beside
itself as `<name>.parquet.upgrading`, a name the tables' `*.parquet` globs never match (no reader
ever sees it), then put in the original's place by `FileSystems.rename`. What "atomic" means then:

- on a local disk the rename is one rename(2): a reader sees the old file or the new one;
- a bucket (GCS, S3) has no rename: Beam copies the temporary object over the original (an
  object is replaced whole: a reader sees the old file or the new one), then deletes the
  temporary object. Killed between the two, both are left: the original, already upgraded, and
  the same rows under the temporary name, which no reader counts. The next upgrade deletes it;
- a filesystem whose rename does not replace an existing file (HDFS) has the original deleted
  first, then the rename. Killed between the two, the rows are only in the temporary file: the
  commands that read OUT refuse it (naming `tollwatch upgrade`) until the next upgrade moves it
  into place.

Killed while writing, the temporary file is cut short (on a bucket: not there, an object appears
when its upload ends) and the original intact: the next upgrade deletes the temporary file and
rewrites the original. So at every point a file's rows are in one
`*.parquet` file (or, in the last case, refused until the upgrade runs again): never lost, never
counted twice. Files of today's format are left untouched: upgrading twice changes nothing.
Run it while no `run` or `follow` writes into OUT: neither holds a lock the upgrade could check.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, NamedTuple, Optional

from tollwatch.schemas import TABLES
from tollwatch.schemas.tables import STATE_DIR, STATE_TABLES
from tollwatch.schemas.versions import (
    FORMAT_VERSION, file_version, needs_upgrade, newer_message, older_message,
    renames, upgraded_schema)

# The temporary name of a file being upgraded: `<name>.parquet` + this (not matched by `*.parquet`).
TEMP_SUFFIX = ".upgrading"
# A bucket's footers read at once by the format check.
REMOTE_READS = 16


class FormatError(ValueError):
    """An output folder holds files this tollwatch does not read as they are."""


class OldOutput(FormatError):
    """Files of an older format, or an unfinished upgrade: `tollwatch upgrade` rewrites them."""


class NewerOutput(FormatError):
    """Files written by a newer tollwatch: this one neither reads nor rewrites them."""


class StoredFile(NamedTuple):
    path: str
    table: str
    version: int


class Scan(NamedTuple):
    """What an output folder holds, as the format check and the upgrade see it."""
    # Every finished file whose footer reads, with its format (a damaged file is not this
    # check's to judge: a run sets it aside, a query skips it, quarantine.py).
    files: list[StoredFile]
    # Every finished file, damaged ones too.
    paths: frozenset[str]
    # The temporary files of upgrades (`*.parquet.upgrading`).
    temps: list[str]

    def older(self) -> list[StoredFile]:
        return [f for f in self.files if needs_upgrade(f.table, f.version)]

    def newer(self) -> list[StoredFile]:
        return [f for f in self.files if f.version > FORMAT_VERSION]

    def stranded(self) -> list[str]:
        """Temporary files whose original is gone: an upgrade stopped between deleting an
        original and renaming its upgraded copy (a filesystem whose rename does not replace)."""
        return [t for t in self.temps if original_of(t) not in self.paths]


def original_of(temp: str) -> str:
    return temp[:-len(TEMP_SUFFIX)]


def table_folders(output: str) -> Iterator[tuple[str, str]]:
    """(table name, the folder that holds the table's folder) of every table and state table."""
    from apache_beam.io.filesystems import FileSystems

    for name in TABLES:
        yield name, output
    for name in STATE_TABLES:
        yield name, FileSystems.join(output, STATE_DIR)


def read_version(table: str, path: str) -> int:
    """The format of one file, from its footer (pyarrow reads the footer only, ~0.2 ms a file)."""
    import pyarrow.parquet as pq
    from apache_beam.io.filesystems import CompressionTypes, FileSystems

    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        return file_version(table, pq.ParquetFile(handle).schema_arrow)


def _stored(item: tuple[str, str]) -> Optional[StoredFile]:
    table, path = item
    try:
        return StoredFile(path, table, read_version(table, path))
    except Exception:  # noqa: BLE001 - damaged: not this check's to judge
        return None


def scan(output: str) -> Scan:
    """Lists every table's files (one match per table) and reads each finished file's format (a
    bucket's files `REMOTE_READS` at a time: each read is a few requests' wait)."""
    from apache_beam.io.filesystems import FileSystems

    finished, temps = [], []
    for table, base in table_folders(output):
        pattern = FileSystems.join(base, table, "*", "*.parquet*")
        for path in sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list):
            if path.endswith(".parquet" + TEMP_SUFFIX):
                temps.append(path)
            elif path.endswith(".parquet"):
                finished.append((table, path))
    if _local(output) or len(finished) < 2:
        stored = list(map(_stored, finished))
    else:
        with ThreadPoolExecutor(REMOTE_READS) as pool:
            stored = list(pool.map(_stored, finished))
    return Scan([f for f in stored if f is not None], frozenset(p for _, p in finished), temps)


def older_files(output: str) -> list[StoredFile]:
    """The files of `output` that `tollwatch upgrade` would rewrite."""
    return scan(output).older()


def _exists(output: str) -> bool:
    return "://" in output or os.path.isdir(output)


def refuse_other_formats(output: str) -> None:
    """Raises NewerOutput (upgrade tollwatch) if `output` holds files of a newer format than this
    tollwatch reads, or OldOutput (naming `tollwatch upgrade`) if it holds files of an older one
    or the rows of an unfinished upgrade."""
    if not _exists(output):
        return
    found = scan(output)
    newer = found.newer()
    if newer:
        raise NewerOutput(newer_message(output, len(newer), max(f.version for f in newer)))
    older = found.older()
    if older:
        raise OldOutput(older_message(output, len(older), min(f.version for f in older)))
    stranded = found.stranded()
    if stranded:
        raise OldOutput(f"{output}: an upgrade stopped midway left the rows of {len(stranded)} "
                        f"file(s) under a temporary name only ({_relative(stranded[0], output)}). "
                        f"Finish it first: tollwatch upgrade {output}")


def _local(path: str) -> bool:
    return "://" not in path


def _sync_folder(folder: str) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _delete_quietly(path: str) -> None:
    from apache_beam.io.filesystems import FileSystems

    try:
        FileSystems.delete([path])
    except Exception:  # noqa: BLE001 - never written (or already gone)
        pass


def replace(temp: str, path: str) -> None:
    """Puts `temp` in `path`'s place (the module's docstring says how atomic that is where)."""
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.io.filesystem import BeamIOError

    try:
        FileSystems.rename([temp], [path])
        return
    except BeamIOError:
        if not (FileSystems.exists(temp) and FileSystems.exists(path)):
            raise
    # A rename that does not replace an existing file (HDFS): the original goes first. Killed
    # before the rename, the rows are in `temp` only, which the next upgrade moves into place.
    FileSystems.delete([path])
    FileSystems.rename([temp], [path])


def upgrade_file(stored: StoredFile) -> None:
    """Rewrites one file in today's format, row group by row group, and puts it in its place."""
    import pyarrow.parquet as pq
    from apache_beam.io.filesystems import CompressionTypes, FileSystems

    raw = CompressionTypes.UNCOMPRESSED
    temp = stored.path + TEMP_SUFFIX
    try:
        with FileSystems.open(stored.path, compression_type=raw) as source_handle:
            source = pq.ParquetFile(source_handle)
            schema = upgraded_schema(stored.table, source.schema_arrow, stored.version)
            with FileSystems.create(temp, compression_type=raw) as handle:
                with pq.ParquetWriter(handle, schema, compression="zstd") as writer:
                    for group in range(source.num_row_groups):
                        rows = source.read_row_group(group)
                        writer.write_table(rows.rename_columns(schema.names)
                                           .replace_schema_metadata(schema.metadata))
                if _local(temp):
                    handle.flush()
                    os.fsync(handle.fileno())
        if _local(temp):  # a bucket's object has no mode or times of its own to keep
            info = os.stat(stored.path)
            os.chmod(temp, info.st_mode & 0o7777)
            os.utime(temp, ns=(info.st_atime_ns, info.st_mtime_ns))
    except BaseException:
        _delete_quietly(temp)
        raise
    replace(temp, stored.path)
    if _local(stored.path):
        _sync_folder(os.path.dirname(stored.path))


def _relative(path: str, output: str) -> str:
    prefix = output.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else path


def _change(stored: StoredFile) -> str:
    mapping = renames(stored.table, stored.version)
    named = ", ".join(f"{old} -> {new}" for old, new in mapping.items()) or "no column renamed"
    return f"format {stored.version} -> {FORMAT_VERSION} ({named})"


def finish_stopped(output: str, found: Scan, dry_run: bool, say: Callable[[str], None]) -> None:
    """Clears what an upgrade that was stopped left: a temporary file beside its original is
    deleted (the original's rows, cut short or already in place); one whose original is gone
    holds that file's only rows, and is moved into place."""
    from apache_beam.io.filesystems import FileSystems
    from tollwatch.transforms.parquet import unreadable

    for temp in found.temps:
        name, original = _relative(temp, output), original_of(temp)
        if original in found.paths:
            say(f"{'would remove' if dry_run else 'removing'} {name} (left by an upgrade that was "
                "stopped; its original is in place)")
            if not dry_run:
                FileSystems.delete([temp])
            continue
        damaged = unreadable(temp)
        if damaged:
            say(f"left as it is: {name}, whose original is missing, is not a whole Parquet file "
                f"({damaged}); the commands that read the output refuse it until it is removed")
            continue
        say(f"{'would move' if dry_run else 'moving'} {name} into place (an upgrade was stopped "
            "after deleting its original)")
        if not dry_run:
            FileSystems.rename([temp], [original])


def upgrade(output: str, dry_run: bool = False,
            say: Optional[Callable[[str], None]] = None) -> dict[str, int]:
    """Upgrades every older file of `output` (with `dry_run`, only says what it would change);
    each step is told to `say` (default: standard error). Returns the counts."""
    say = say or (lambda line: print(f"tollwatch upgrade: {line}", file=sys.stderr, flush=True))
    if not _exists(output):
        raise FileNotFoundError(f"no output folder at {output!r}")
    found = scan(output)
    newer = found.newer()
    if newer:
        raise NewerOutput(newer_message(output, len(newer), max(f.version for f in newer)))
    finish_stopped(output, found, dry_run, say)
    older = found.older()
    for i, stored in enumerate(older, 1):
        name = _relative(stored.path, output)
        if dry_run:
            say(f"would rewrite {name}: {_change(stored)}")
            continue
        upgrade_file(stored)
        say(f"[{i}/{len(older)}] {name}: {_change(stored)}")
    verb = "would upgrade" if dry_run else "upgraded"
    say(f"{verb} {len(older)} file(s) to format {FORMAT_VERSION}" if older else
        f"nothing to upgrade: every file is in format {FORMAT_VERSION}")
    return {"older": len(older), "upgraded": 0 if dry_run else len(older)}
