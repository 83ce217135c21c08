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

    articles = rows("articles", "uri, doc_id, dup_of, dup_kind")
    labelled_docs = {json.loads(line)["doc"].split("#")[0]
                     for line in (EXAMPLES / "expected" / "claims.jsonl").read_text().splitlines()}
    assert {Path(uri.split("#")[0]).name for uri, *_ in articles} == labelled_docs
    name = {doc_id: Path(uri).name for uri, doc_id, *_ in articles}
    found = {frozenset((Path(uri).name, name[dup_of])): kind for uri, _, dup_of, kind in articles
             if dup_of}
    labels = json.loads((EXAMPLES / "expected" / "dedup.json").read_text())
    relation = {frozenset((p["a"], p["b"])): p["relation"] for p in labels["pairs"]}
    # Every link is a labelled pair of the same kind, and every labelled copy or rewrite is linked.
    assert all(relation.get(pair) == kind for pair, kind in found.items()), found
    copies = {n for pair in relation for n in pair}
    assert {n for pair in found for n in pair} == copies
    assert rows("claims", "count(*)")[0][0] > 100
    assert rows("toll", "count(DISTINCT event_id)")[0][0] == 2
