"""`tollwatch upgrade OUT`: rewrites the Parquet files an earlier tollwatch wrote into today's
format (schemas/versions.py), and the check by which the commands that read OUT refuse such files.

A file is rewritten beside itself under a name the tables' `*.parquet` globs never match, then
renamed over the original (atomic on a local filesystem): killed at any point, every file is
either its old self or its upgraded self, and a leftover temporary file is removed by the next
upgrade. Files already in today's format are left untouched, so upgrading twice changes nothing.
Run it while no `run` or `follow` writes into OUT.
"""

from __future__ import annotations

import glob
import os
import sys
from typing import Callable, Iterator, NamedTuple, Optional

from tollwatch.schemas import TABLES
from tollwatch.schemas.tables import STATE_DIR, STATE_TABLES
from tollwatch.schemas.versions import (
    FORMAT_VERSION, changed_tables, file_version, older_message, renames, upgraded_schema)

# The temporary name of a file being upgraded: `<name>.parquet` + this (not matched by `*.parquet`).
TEMP_SUFFIX = ".upgrading"


class OldOutput(ValueError):
    """An output folder holds files of an older format: `tollwatch upgrade` rewrites them."""


class OlderFile(NamedTuple):
    path: str
    table: str
    version: int


def table_folders(output: str) -> Iterator[tuple[str, str]]:
    """(table name, the folder that holds the table's folder) of every table and state table."""
    for name in TABLES:
        yield name, output
    for name in STATE_TABLES:
        yield name, f"{output.rstrip('/')}/{STATE_DIR}" if "://" in output else os.path.join(
            output, STATE_DIR)


def _schema(path: str):
    import pyarrow.parquet as pq

    if "://" in path:
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.open(path) as handle:
            return pq.ParquetFile(handle).schema_arrow
    return pq.read_schema(path)


def older_files(output: str) -> list[OlderFile]:
    """The Parquet files of `output` written in a format older than today's, of the tables a
    format change touched (the others read the same in any format). A file whose footer does not
    read is not counted here: a run sets it aside, a query skips it (quarantine.py)."""
    from tollwatch.transforms.parquet import table_files

    found, changed = [], changed_tables()
    for table, base in table_folders(output):
        if table not in changed:
            continue
        for path in table_files(base, table):
            try:
                version = file_version(table, _schema(path))
            except Exception:  # noqa: BLE001 - damaged: not this check's to judge
                continue
            if version < FORMAT_VERSION:
                found.append(OlderFile(path, table, version))
    return found


def refuse_older(output: str) -> None:
    """Raises OldOutput, naming `tollwatch upgrade`, if `output` holds files of an older format."""
    if "://" not in output and not os.path.isdir(output):
        return
    older = older_files(output)
    if older:
        raise OldOutput(older_message(output, len(older), min(f.version for f in older)))


def _sync_folder(folder: str) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def upgrade_file(older: OlderFile) -> None:
    """Rewrites one file in today's format, row group by row group, and renames it into place."""
    import pyarrow.parquet as pq

    source = pq.ParquetFile(older.path)
    schema = upgraded_schema(older.table, source.schema_arrow, older.version)
    temp = older.path + TEMP_SUFFIX
    info = os.stat(older.path)
    try:
        with open(temp, "wb") as handle:
            with pq.ParquetWriter(handle, schema, compression="zstd") as writer:
                for group in range(source.num_row_groups):
                    rows = source.read_row_group(group)
                    writer.write_table(rows.rename_columns(schema.names).replace_schema_metadata(
                        schema.metadata))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, info.st_mode & 0o7777)
        os.utime(temp, ns=(info.st_atime_ns, info.st_mtime_ns))
        os.replace(temp, older.path)
    except BaseException:
        try:
            os.remove(temp)
        except OSError:
            pass
        raise
    _sync_folder(os.path.dirname(older.path))


def leftover_temp_files(output: str) -> list[str]:
    """Temporary files of an upgrade killed before it renamed them."""
    return sorted(path for table, base in table_folders(output)
                  for path in glob.glob(os.path.join(glob.escape(base), table, "*",
                                                     "*.parquet" + TEMP_SUFFIX)))


def _change(older: OlderFile) -> str:
    mapping = renames(older.table, older.version)
    named = ", ".join(f"{old} -> {new}" for old, new in mapping.items()) or "no column renamed"
    return f"format {older.version} -> {FORMAT_VERSION} ({named})"


def upgrade(output: str, dry_run: bool = False,
            say: Optional[Callable[[str], None]] = None) -> dict[str, int]:
    """Upgrades every older file of `output` (with `dry_run`, only says what it would change);
    each step is told to `say` (default: standard error). Returns the counts."""
    say = say or (lambda line: print(f"tollwatch upgrade: {line}", file=sys.stderr, flush=True))
    if "://" in output:
        raise ValueError("upgrade rewrites a local output folder; copy a bucket's output to a "
                         "local folder, upgrade it there and copy it back")
    if not os.path.isdir(output):
        raise FileNotFoundError(f"no output folder at {output!r}")
    for temp in leftover_temp_files(output):
        say(f"{'would remove' if dry_run else 'removing'} {os.path.relpath(temp, output)} "
            "(left by an upgrade that was stopped; its original is intact)")
        if not dry_run:
            os.remove(temp)
    older = older_files(output)
    for i, file in enumerate(older, 1):
        name = os.path.relpath(file.path, output)
        if dry_run:
            say(f"would rewrite {name}: {_change(file)}")
            continue
        upgrade_file(file)
        say(f"[{i}/{len(older)}] {name}: {_change(file)}")
    verb = "would upgrade" if dry_run else "upgraded"
    say(f"{verb} {len(older)} file(s) to format {FORMAT_VERSION}" if older else
        f"nothing to upgrade: every file is in format {FORMAT_VERSION}")
    return {"older": len(older), "upgraded": 0 if dry_run else len(older)}
