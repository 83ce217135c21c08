"""The demo on the bundled example corpus, checked against the corpus's hand-written labels."""

import json
from pathlib import Path

import duckdb

from support import EXAMPLES
from tollwatch.pipeline.cli import main


def test_demo_writes_articles_claims_toll_and_the_chart_and_links_the_labelled_copies(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--output", str(out), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "Toll as known now" in printed and "0 dead letter(s)" in printed
    assert (out / "toll.png").stat().st_size > 10_000 and (out / "toll.html").stat().st_size > 10_000
    con = duckdb.connect()

    def rows(table, columns):
        return con.execute(f"SELECT {columns} FROM read_parquet('{out}/{table}/*/*.parquet', "
                           "hive_partitioning = true)").fetchall()

    articles = rows("articles", "uri, doc_id, copy_of, copy_kind")
    labelled_docs = {json.loads(line)["doc"].split("#")[0]
                     for line in (EXAMPLES / "expected" / "claims.jsonl").read_text().splitlines()}
    assert {Path(uri.split("#")[0]).name for uri, *_ in articles} == labelled_docs
    name = {doc_id: Path(uri).name for uri, doc_id, *_ in articles}
    found = {frozenset((Path(uri).name, name[copy_of])): kind for uri, _, copy_of, kind in articles
             if copy_of}
    labels = json.loads((EXAMPLES / "expected" / "dedup.json").read_text())
    relation = {frozenset((p["a"], p["b"])): p["relation"] for p in labels["pairs"]}
    # Every link is a labelled pair of the same kind, and every labelled copy or rewrite is linked.
    assert all(relation.get(pair) == kind for pair, kind in found.items()), found
    copies = {n for pair in relation for n in pair}
    assert {n for pair in found for n in pair} == copies
    assert rows("claims", "count(*)")[0][0] > 100
    assert rows("toll", "count(DISTINCT event_id)")[0][0] == 2


# The demo deletes only what it wrote (issue 17, data loss: `demo --output DIR` wiped DIR).
def test_the_demo_refuses_a_folder_that_is_not_its_own(tmp_path, capsys, monkeypatch):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("my notes")
    assert main(["demo", "--output", str(notes), "-q"]) == 2
    err = capsys.readouterr().err
    assert "refusing" in err and len(err.strip().splitlines()) == 1
    assert [p.name for p in notes.iterdir()] == ["todo.txt"]
    monkeypatch.chdir(notes)
    assert main(["demo", "--output", ".", "-q"]) == 2
    assert [p.name for p in notes.iterdir()] == ["todo.txt"]


def test_an_earlier_demo_output_loses_only_what_the_demo_wrote(tmp_path):
    from tollwatch.pipeline.cli import DEMO_MARKER, clear_demo_output

    out = tmp_path / "demo"
    (out / "articles" / "published_date=2026-05-05").mkdir(parents=True)
    (out / "articles" / "published_date=2026-05-05" / "part-0.parquet").write_bytes(b"x")
    (out / "toll.png").write_bytes(b"png")
    (out / DEMO_MARKER).write_text("")
    (out / "mine.txt").write_text("kept")
    clear_demo_output(str(out))
    assert sorted(p.name for p in out.iterdir()) == sorted([DEMO_MARKER, "mine.txt"])
    clear_demo_output(str(tmp_path / "new"))
    assert (tmp_path / "new" / DEMO_MARKER).is_file()
