"""Outputs written by an earlier tollwatch (issue 22): refused by every command that reads them,
naming `tollwatch upgrade`, which rewrites them in today's format atomically, idempotently, through
Beam's FileSystems: on local paths, and on a bucket in memory (`mem://`, a FileSystem as gs:// and
s3:// are, killed between the steps of its rename). Outputs written by a newer tollwatch: refused
by every command, upgrade included.

The earlier output is made here with pyarrow, as tollwatch before the renames wrote it (the old
column names spelled out below, no version key); its rows are fiction."""

from __future__ import annotations

import io
import os

import duckdb
import pyarrow.parquet as pq
import pytest
from apache_beam.io.filesystem import BeamIOError, FileMetadata, FileSystem
from apache_beam.utils.timestamp import Timestamp

from tollwatch.pipeline import cli, upgrade as upgrade_module
from tollwatch.pipeline.query import connect
from tollwatch.transforms.parquet import table_files
from tollwatch.pipeline.upgrade import (
    TEMP_SUFFIX, NewerOutput, OldOutput, older_files, refuse_other_formats, upgrade)
from tollwatch.schemas import Article, Claim, TollWindow, arrow_schema, to_arrow_table
from tollwatch.schemas.duplicates import Signature
from tollwatch.schemas.versions import FORMAT_VERSION, VERSION_KEY, file_version

# Today's name -> the name tollwatch wrote before format 2 (main at 83fffb4).
BEFORE = {
    "articles": {"story_id": "dup_cluster_id", "copy_of": "dup_of", "copy_kind": "dup_kind",
                 "copy_similarity": "dup_similarity"},
    "claims": {"canonical_id": "origin_doc_id"},
    "signatures": {"story_id": "cluster_id"},
    "toll": {},
}
T = Timestamp(1741478400)  # 2025-03-09
DAY = "2025-03-09"


def _article(doc_id, copy_of=None):
    return Article(doc_id, f"/in/{doc_id}.txt", None, "Harbour Gazette", "Floods", T, "text", T,
                   "Floodwater reached the old quarter of Port Wren on Sunday.", "en", ["port-wren"],
                   0, "s1" if copy_of or doc_id == "a1" else None, copy_of,
                   "near" if copy_of else None, 0.91 if copy_of else None, copy_of is None)


def _claim(doc_id, canonical):
    return Claim(f"c-{doc_id}", "k", doc_id, "port-wren", "Harbour Gazette", T, "text", "killed", 12,
                 None, "exact", 12, 12, "total", None, "officials", "officials", "overall", None,
                 None, None, "Twelve people died, officials said.", 0, 36, doc_id != canonical,
                 canonical)


def _write_old(path, records, record_type, table):
    data = to_arrow_table(records, record_type)
    data = data.rename_columns([BEFORE[table].get(n, n) for n in data.column_names])
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(data.replace_schema_metadata(None), path, compression="zstd")


@pytest.fixture
def old_out(tmp_path):
    out = tmp_path / "out"
    name = "part-0a1b2c3d4e-00000-of-00001.parquet"
    _write_old(out / "articles" / f"published_date={DAY}" / name,
               [_article("a1"), _article("a2", copy_of="a1")], Article, "articles")
    _write_old(out / "claims" / f"published_date={DAY}" / name,
               [_claim("a1", "a1"), _claim("a2", "a1")], Claim, "claims")
    _write_old(out / "toll" / f"window_date={DAY}" / name,
               [TollWindow("port-wren", "killed", "total", "window", T, T + 86400, "on_time", 0, 12,
                           12, 12, 1, 1, 1, 1, [], "c-a1", T)], TollWindow, "toll")
    _write_old(out / "_state" / "signatures" / f"published_date={DAY}" / name,
               [Signature("a1", T, 57, 40, b"\0" * 8, b"\1" * 8, "s1")], Signature, "signatures")
    return out


def _files(out):
    return sorted(p for p in out.rglob("*") if p.is_file())


def _snapshot(out):
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in _files(out)}


def test_files_written_today_carry_the_format_and_a_file_without_it_is_told_by_its_columns(tmp_path):
    table = to_arrow_table([_article("a1")], Article)
    assert table.schema.metadata[VERSION_KEY] == str(FORMAT_VERSION).encode()
    # Another tool (DuckDB's COPY) writes today's columns without the key: today's format.
    assert file_version("articles", table.schema.remove_metadata()) == FORMAT_VERSION
    old = table.rename_columns([BEFORE["articles"].get(n, n) for n in table.column_names])
    assert file_version("articles", old.schema.remove_metadata()) == 1


def test_a_files_format_is_read_from_its_footer(tmp_path):
    table = to_arrow_table([_article("a1")], Article)
    marked, unmarked, other = (tmp_path / f"{n}.parquet" for n in ("marked", "unmarked", "other"))
    with pq.ParquetWriter(marked, table.schema, compression="zstd") as writer:  # as ParquetSink
        writer.write_table(table)
    pq.write_table(table.replace_schema_metadata(None), unmarked)
    pq.write_table(table.replace_schema_metadata({VERSION_KEY: b"3", b"another": b"key"}), other)
    for path, version in ((marked, FORMAT_VERSION), (unmarked, FORMAT_VERSION), (other, 3)):
        assert upgrade_module.read_version("articles", str(path)) == version


def test_every_command_that_reads_an_older_output_stops_at_once_naming_the_upgrade(
        old_out, tmp_path, capsys):
    assert sorted((os.path.basename(os.path.dirname(os.path.dirname(f.path))), f.version)
                  for f in older_files(str(old_out))) == [
        ("articles", 1), ("claims", 1), ("signatures", 1)]  # the toll's names did not change
    before = _snapshot(old_out)
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.txt").write_text("Floodwater reached the old quarter of Port Wren on Sunday.")
    commands = (["query", str(old_out)], ["query", str(old_out), "SELECT count(*) FROM articles"],
                ["report", str(old_out), "--out", str(tmp_path / "toll.png")],
                ["run", "--input", str(inputs), "--output", str(old_out)],
                ["follow", "--watch", str(inputs), "--output", str(old_out), "--ticks", "1"])
    for argv in commands:
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert f"tollwatch upgrade {old_out}" in err and "dup_of -> copy_of" in err, (argv, err)
    assert _snapshot(old_out) == before  # nothing read into, nothing written
    with pytest.raises(OldOutput):
        connect(str(old_out))


def test_a_dry_run_says_what_it_would_change_and_changes_nothing(old_out):
    before = _snapshot(old_out)
    said = []
    assert upgrade(str(old_out), dry_run=True, say=said.append) == {"older": 3, "upgraded": 0}
    assert _snapshot(old_out) == before
    assert sum(line.startswith("would rewrite") for line in said) == 3
    text = "\n".join(said)
    for table, renamed in BEFORE.items():
        for new, old in renamed.items():
            assert f"{old} -> {new}" in text


def test_quiet_drops_the_progress_lines_but_not_what_a_dry_run_says(old_out, capsys):
    assert cli.main(["upgrade", "-q", "--dry-run", str(old_out)]) == 0
    assert capsys.readouterr().err.count("would rewrite") == 3
    assert cli.main(["upgrade", "-q", str(old_out)]) == 0
    assert capsys.readouterr().err == "" and older_files(str(old_out)) == []


def test_upgrade_renames_marks_keeps_every_row_and_a_second_upgrade_changes_nothing(old_out):
    before = {p: pq.read_table(p) for p in _files(old_out)}
    toll = next(p for p in before if "/toll/" in str(p))
    toll_bytes = toll.read_bytes()
    said = []
    assert upgrade(str(old_out), say=said.append)["upgraded"] == 3
    assert said[-1] == "upgraded 3 file(s) to format 2" and said[0].startswith("[1/3] ")
    records = {"articles": Article, "claims": Claim, "signatures": Signature, "toll": TollWindow}
    for path, old in before.items():
        table = next(t for t in records if f"/{t}/" in str(path))
        now = pq.read_table(path)
        assert now.column_names == arrow_schema(records[table]).names
        renamed = {old_name: new for new, old_name in BEFORE[table].items()}
        assert now.equals(old.rename_columns([renamed.get(n, n) for n in old.column_names]))
        if table != "toll":
            assert pq.read_schema(path).metadata[VERSION_KEY] == b"2"
    assert toll.read_bytes() == toll_bytes  # nothing of it was renamed: left as it was
    refuse_other_formats(str(old_out))  # no longer refused
    con = connect(str(old_out))
    assert con.sql("SELECT doc_id, copy_of, copy_kind FROM articles ORDER BY doc_id").fetchall() == [
        ("a1", None, None), ("a2", "a1", "near")]
    assert con.sql("SELECT doc_id, canonical_id, is_copy FROM claims ORDER BY doc_id").fetchall() == [
        ("a1", "a1", False), ("a2", "a1", True)]
    snapshot = _snapshot(old_out)
    said.clear()
    assert upgrade(str(old_out), say=said.append) == {"older": 0, "upgraded": 0}
    assert said == ["nothing to upgrade: every file is in format 2"]
    assert _snapshot(old_out) == snapshot


def _killed_at(calls: list, n: int):
    calls.append(None)
    if len(calls) == n:
        raise KeyboardInterrupt


def test_an_upgrade_killed_while_writing_loses_nothing_and_the_next_one_completes(
        old_out, monkeypatch):
    rows = {p: pq.read_table(p).num_rows for p in _files(old_out)}
    real_read, calls = pq.ParquetFile.read_row_group, []

    def read_then_stop(self, *args, **kwargs):
        _killed_at(calls, 2)  # the second file, its temporary copy begun
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", read_then_stop)
    with pytest.raises(KeyboardInterrupt):
        upgrade(str(old_out), say=lambda line: None)
    monkeypatch.undo()
    assert {p: pq.read_table(p).num_rows for p in _files(old_out)} == rows  # its temp removed
    assert len(older_files(str(old_out))) == 2
    # Killed so hard that the temporary file stayed, cut short: the next upgrade removes it.
    leftover = str(sorted(f.path for f in older_files(str(old_out)))[0]) + TEMP_SUFFIX
    with open(leftover, "wb") as handle:
        handle.write(b"PAR1 cut short")
    said = []
    upgrade(str(old_out), say=said.append)
    assert not os.path.exists(leftover) and said[0].startswith("removing ")
    assert older_files(str(old_out)) == []
    assert {p: pq.read_table(p).num_rows for p in _files(old_out)} == rows


class _Upload(io.BytesIO):
    """An object being written: it appears in the bucket whole, when closed (as on GCS, S3)."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def close(self):
        if not self.closed:
            Bucket.objects[self.path] = self.getvalue()
        super().close()


class Bucket(FileSystem):
    """A bucket in memory (`mem://`), reached through Beam's FileSystems as gs:// and s3:// are:
    no folders, objects replaced whole, and a rename that is a copy then a delete (GCS, S3) or,
    with `replaces` off, one that refuses an existing destination (HDFS). `stop_at` kills the
    n-th rename between its two steps."""
    objects: dict = {}
    replaces = True
    stop_at = 0
    renames = 0

    @classmethod
    def scheme(cls):
        return "mem"

    def join(self, base, *paths):
        return "/".join([base.rstrip("/"), *(p.strip("/") for p in paths)])

    def split(self, path):
        return tuple(path.rsplit("/", 1))

    def mkdirs(self, path):
        pass

    def has_dirs(self):
        return False

    def _list(self, prefix):
        for path, data in sorted(Bucket.objects.items()):
            if path.startswith(prefix):
                yield FileMetadata(path, len(data), 0.0)

    def create(self, path, mime_type=None, compression_type=None):
        return _Upload(path)

    def open(self, path, mime_type=None, compression_type=None):
        if path not in Bucket.objects:
            raise BeamIOError("Open operation failed", {path: "no such object"})
        return io.BytesIO(Bucket.objects[path])

    def copy(self, sources, destinations):
        for source, destination in zip(sources, destinations):
            Bucket.objects[destination] = Bucket.objects[source]

    def rename(self, sources, destinations):
        for source, destination in zip(sources, destinations):
            if not Bucket.replaces and destination in Bucket.objects:
                raise BeamIOError("Rename operation failed", {(source, destination): "exists"})
            Bucket.renames += 1
            if not Bucket.replaces and Bucket.renames == Bucket.stop_at:
                raise KeyboardInterrupt  # after the original's delete, before the rename
            self.copy([source], [destination])
            if Bucket.renames == Bucket.stop_at:
                raise KeyboardInterrupt  # between the copy and the delete
            self.delete([source])

    def exists(self, path):
        return path in Bucket.objects

    def size(self, path):
        return len(Bucket.objects[path])

    def last_updated(self, path):
        return 0.0

    def checksum(self, path):
        return str(len(Bucket.objects[path]))

    def metadata(self, path):
        return FileMetadata(path, len(Bucket.objects[path]), 0.0)

    def delete(self, paths):
        for path in paths:
            Bucket.objects.pop(path, None)


BUCKET = "mem://bucket/out"


@pytest.fixture
def bucket(old_out, monkeypatch):
    """The earlier output, uploaded to BUCKET."""
    monkeypatch.setattr(Bucket, "objects", {
        f"{BUCKET}/{p.relative_to(old_out)}": p.read_bytes() for p in _files(old_out)})
    monkeypatch.setattr(Bucket, "renames", 0)
    return BUCKET


def _bucket_rows():
    """Rows per object, and per table the rows of the files the tables' glob lists."""
    per_object = {p: pq.read_table(io.BytesIO(data)).num_rows for p, data in Bucket.objects.items()
                  if p.endswith(".parquet")}
    return per_object, {t: sum(per_object[p] for p in table_files(BUCKET, t))
                        for t in ("articles", "claims", "toll")}


def _download(to):
    for path, data in Bucket.objects.items():
        local = to / path[len(BUCKET) + 1:]
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(data)
    return to


def _duckdb_rows(out):
    """The rows `tollwatch query`'s views and plain DuckDB over the tables' globs count."""
    con, plain = connect(str(out)), duckdb.connect()
    return {t: (con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0],
                plain.sql(f"SELECT count(*) FROM '{out}/{t}/*/*.parquet'").fetchall()[0][0])
            for t in ("articles", "claims", "toll")}


def test_on_a_bucket_killed_between_copy_and_delete_no_reader_counts_both(
        bucket, monkeypatch, tmp_path):
    before = _bucket_rows()
    monkeypatch.setattr(Bucket, "stop_at", 3)  # the last file copied into place, not deleted
    with pytest.raises(KeyboardInterrupt):
        upgrade(bucket, say=lambda line: None)
    temps = [p for p in Bucket.objects if p.endswith(TEMP_SUFFIX)]
    assert len(temps) == 1 and older_files(bucket) == []
    refuse_other_formats(bucket)  # every *.parquet is in today's format
    assert _bucket_rows() == before  # the temporary copy, whole, is not listed
    assert before[1] == {"articles": 2, "claims": 2, "toll": 1}
    assert _duckdb_rows(_download(tmp_path / "copy")) == {  # nor read by DuckDB
        "articles": (2, 2), "claims": (2, 2), "toll": (1, 1)}
    said = []
    assert upgrade(bucket, say=said.append)["upgraded"] == 0
    assert said[0] == f"removing {temps[0][len(bucket) + 1:]} (left by an upgrade that was " \
                      "stopped; its original is in place)"
    assert not [p for p in Bucket.objects if p.endswith(TEMP_SUFFIX)]
    assert _bucket_rows() == before
    for path, data in Bucket.objects.items():
        assert "/toll/" in path or pq.read_schema(io.BytesIO(data)).metadata[VERSION_KEY] == b"2"


def test_where_rename_does_not_replace_a_kill_after_the_delete_is_refused_then_finished(
        bucket, monkeypatch):
    """A filesystem whose rename refuses an existing destination (HDFS): the original is deleted
    first. Killed then, the rows are only in the temporary file: refused, then moved into place."""
    before = _bucket_rows()
    monkeypatch.setattr(Bucket, "replaces", False)
    monkeypatch.setattr(Bucket, "stop_at", 3)  # the last file: its original deleted, not renamed
    with pytest.raises(KeyboardInterrupt):
        upgrade(bucket, say=lambda line: None)
    stranded = [p for p in Bucket.objects if p.endswith(TEMP_SUFFIX)]
    assert len(stranded) == 1 and stranded[0][:-len(TEMP_SUFFIX)] not in Bucket.objects
    with pytest.raises(OldOutput, match="stopped midway"):
        refuse_other_formats(bucket)
    monkeypatch.setattr(Bucket, "stop_at", 0)
    said = []
    assert upgrade(bucket, say=said.append)["upgraded"] == 0
    assert said[0].startswith(f"moving {stranded[0][len(bucket) + 1:]} into place")
    assert _bucket_rows() == before and older_files(bucket) == []
    refuse_other_formats(bucket)


def test_an_output_with_a_file_of_a_newer_format_is_refused_by_every_command(tmp_path, capsys):
    out = tmp_path / "out"
    folder = out / "toll" / f"window_date={DAY}"
    folder.mkdir(parents=True)
    table = to_arrow_table([TollWindow("port-wren", "killed", "total", "window", T, T + 86400,
                                       "on_time", 0, 12, 12, 12, 1, 1, 1, 1, [], "c-a1", T)],
                           TollWindow)
    newer = {**table.schema.metadata, VERSION_KEY: str(FORMAT_VERSION + 1).encode()}
    pq.write_table(table.replace_schema_metadata(newer), folder / "part-x-00000-of-00001.parquet")
    before = _snapshot(out)
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.txt").write_text("Floodwater reached the old quarter of Port Wren on Sunday.")
    for argv in (["query", str(out)], ["upgrade", str(out)], ["upgrade", str(out), "--dry-run"],
                 ["run", "--input", str(inputs), "--output", str(out)],
                 ["follow", "--watch", str(inputs), "--output", str(out), "--ticks", "1"]):
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert f"format {FORMAT_VERSION + 1}; this one reads format {FORMAT_VERSION}" in err, err
        assert "Upgrade tollwatch" in err, err
    assert _snapshot(out) == before
    with pytest.raises(NewerOutput):
        connect(str(out))
