"""Outputs written by an earlier tollwatch (issue 22): refused by every command that reads them,
naming `tollwatch upgrade`, which rewrites them in today's format atomically, idempotently.

The earlier output is made here with pyarrow, as tollwatch before the renames wrote it (the old
column names spelled out below, no version key); its rows are fiction."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.utils.timestamp import Timestamp

from tollwatch.pipeline import cli, upgrade as upgrade_module
from tollwatch.pipeline.query import connect
from tollwatch.pipeline.upgrade import OldOutput, older_files, refuse_older, upgrade
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
    refuse_older(str(old_out))  # no longer refused
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


def test_an_upgrade_stopped_midway_loses_nothing_and_the_next_one_completes(old_out, monkeypatch):
    rows = {p: pq.read_table(p).num_rows for p in _files(old_out)}
    real_replace, calls = os.replace, []

    def replace_then_stop(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt  # stopped between two files' renames
        real_replace(src, dst)

    monkeypatch.setattr(upgrade_module.os, "replace", replace_then_stop)
    with pytest.raises(KeyboardInterrupt):
        upgrade(str(old_out), say=lambda line: None)
    monkeypatch.undo()
    assert {p: pq.read_table(p).num_rows for p in _files(old_out)} == rows  # no temp file left
    assert len(older_files(str(old_out))) == 2
    # A kill that left a temporary file: the next upgrade removes it and completes.
    leftover = calls[1] + upgrade_module.TEMP_SUFFIX
    with open(leftover, "wb") as handle:
        handle.write(b"PAR1 cut short")
    said = []
    upgrade(str(old_out), say=said.append)
    assert not os.path.exists(leftover) and said[0].startswith("removing ")
    assert older_files(str(old_out)) == []
    assert {p: pq.read_table(p).num_rows for p in _files(old_out)} == rows
