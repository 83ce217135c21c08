"""End-to-end batch runs through the CLI: files in, partitioned Parquet out, read by plain DuckDB."""

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from outputs import copy_output
from support import SEEDS, needs_shared
from tollwatch.pipeline.cli import main

ARTICLE = ("The death toll from the landslide in the hill town of Orvel rose to 23 on Wednesday, "
           "the regional civil protection agency said, as rescuers dug through mud for a second day. "
           "Another 40 people were injured and taken to hospitals in the valley, officials added.")


def rows(out: Path, table: str, sql: str = "SELECT * FROM t") -> list[tuple]:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{out}/{table}/*/*.parquet', "
                "hive_partitioning = true)")
    return con.execute(sql).fetchall()


@needs_shared
def test_seeds_give_five_dated_articles_readable_by_plain_duckdb(seeds_run):
    out = seeds_run.output  # `run --input SEEDS`
    assert "5 article(s)" in seeds_run.printed
    dated = dict(rows(out, "articles", "SELECT regexp_extract(uri, '(\\d{3})_', 1), "
                                       "(published_date::VARCHAR, date_source) FROM t"))
    assert dated["000"] == ("2025-03-08", "metadata")
    assert dated["001"] == ("2025-03-09", "metadata")
    assert dated["002"] == ("2025-03-09", "metadata")
    assert dated["003"][1] == dated["004"][1] == "file_mtime"
    by_date = rows(out, "articles", "SELECT published_date, count(*) FROM t GROUP BY 1")
    assert sum(n for _, n in by_date) == 5
    # The partition column lives in the folder name only, not twice.
    import pyarrow.parquet as pq
    (one,) = (out / "articles").glob("published_date=2025-03-08/*.parquet")
    assert "published_date" not in pq.read_schema(one).names


@needs_shared
def test_rerun_replaces_rather_than_adds(seeds_run, tmp_path):
    out = copy_output(seeds_run.output, tmp_path / "out")  # a run over SEEDS, then the rerun:
    assert main(["run", "--input", str(SEEDS), "--output", str(out), "-q"]) == 0
    assert rows(out, "articles", "SELECT count(*), count(DISTINCT doc_id) FROM t") == [(5, 5)]
    assert not list(out.glob(".tmp/**/*_*")), "no temporary files are left behind"


def test_overlapping_inputs_read_each_file_once(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(f" date 2026-05-12 {ARTICLE}")
    out = tmp_path / "out"
    assert main(["run", "--input", str(src), str(src / "*.txt"), str(src / "a.txt"),
                 "--output", str(out), "-q"]) == 0
    assert rows(out, "articles", "SELECT count(*) FROM t") == [(1,)]


def bad_and_good_folder(folder: Path) -> tuple[set[str], set[str]]:
    folder.mkdir()
    good = {
        "good1.txt": f" date 2026-05-12 {ARTICLE}",
        "good2.txt": f" date 2026-05-13\nurl: https://news.example/orvel\n{ARTICLE} Search goes on.",
        "page.html": f"<html><head><title>Orvel landslide</title></head><body><article>"
                     f"<h1>Orvel landslide</h1><p>{ARTICLE}</p><p>{ARTICLE[:150]}</p></article></body></html>",
    }
    bad = {
        "empty.txt": b"",
        "binary.html": b"\x00\x01\x02\x03" * 100,
        "huge.txt": b" date 2026-05-12 " + ARTICLE.encode() * 400,   # over the cap set below
        "latin1.txt": (" date 2026-05-12 Caf\xe9 " + ARTICLE).encode("latin-1"),
        "menu.html": b"<html><body><nav><a href='/'>Home</a><a href='/w'>World</a></nav></body></html>",
        "broken.xml": b"<?xml version='1.0'?><rss><channel><item><title>oops",
        "notes.pdf": b"%PDF-1.4 not an article",
    }
    for name, text in good.items():
        (folder / name).write_text(text)
    for name, data in bad.items():
        (folder / name).write_bytes(data)
    return set(good), set(bad)


def test_bad_files_become_dead_letters_and_the_run_succeeds(tmp_path, capsys):
    folder, out = tmp_path / "mixed", tmp_path / "out"
    good, bad = bad_and_good_folder(folder)
    code = main(["run", "--input", str(folder), "--output", str(out), "--max-file-bytes", "20000"])
    assert code == 0
    printed = capsys.readouterr().out
    assert f"{len(bad)} dead letter(s)" in printed and f"{len(good)} article(s)" in printed
    articles = {Path(u).name for (u,) in rows(out, "articles", "SELECT uri FROM t")}
    dead = {Path(u).name: (stage, kind) for u, stage, kind in
            rows(out, "dead_letters", "SELECT uri, stage, error_type FROM t")}
    assert articles == good
    assert set(dead) == bad
    assert dead["huge.txt"] == ("read", "too_large")
    assert dead["notes.pdf"] == ("read", "unsupported_type")
    assert dead["empty.txt"][1] == "empty"
    assert dead["binary.html"][1] == "binary"
    assert dead["latin1.txt"][1] == "undecodable"
    assert dead["menu.html"][1] == "no_article_text"
    assert dead["broken.xml"][1] == "malformed_feed"
    # Count in = articles out + dead letters out.
    assert len(good) + len(bad) == len(articles) + len(dead)


def test_exact_and_near_copies_are_marked_against_the_earliest(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    (src / "b_later.txt").write_text(f" date 2026-05-13 {ARTICLE}")
    (src / "a_first.txt").write_text(f" date 2026-05-12 {ARTICLE}")
    (src / "c_reflowed.txt").write_text(f" date 2026-05-14\n{ARTICLE.upper()}\n")
    (src / "other.txt").write_text(f" date 2026-05-13 {ARTICLE.replace('23', '24')}")
    assert main(["run", "--input", str(src), "--output", str(out), "-q"]) == 0
    got = {Path(uri).name: rest for uri, *rest in rows(
        out, "articles", "SELECT uri, doc_id, copy_kind, copy_of, is_canonical, story_id FROM t")}
    first_id = got["a_first.txt"][0]
    assert got["a_first.txt"][1:] == [None, None, True, first_id]
    for copy in ("b_later.txt", "c_reflowed.txt"):
        assert got[copy][1:] == ["exact", first_id, False, first_id]
    # One figure changed: not the same text, but a near copy of it.
    assert got["other.txt"][1:4] == ["near", first_id, False]


def test_missing_input_is_a_clear_error(tmp_path, capsys):
    assert main(["run", "--input", str(tmp_path / "nope"), "--output", str(tmp_path / "o")]) == 2
    assert "matches no file" in capsys.readouterr().err
