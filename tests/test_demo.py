"""The demo on the bundled example corpus, checked against the corpus's hand-written labels."""

import json
from pathlib import Path

import duckdb

from support import EXAMPLES
from tollwatch.pipeline.cli import main


def test_demo_writes_every_article_and_finds_the_labelled_exact_copies(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--output", str(out), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "Articles by publication date" in printed and "0 dead letter(s)" in printed
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT uri, doc_id, dup_of FROM read_parquet('{out}/articles/*/*.parquet', "
        "hive_partitioning = true)").fetchall()
    labelled_docs = {json.loads(line)["doc"].split("#")[0]
                     for line in (EXAMPLES / "expected" / "claims.jsonl").read_text().splitlines()}
    assert {Path(uri.split("#")[0]).name for uri, _, _ in rows} == labelled_docs
    name = {doc_id: Path(uri).name for uri, doc_id, _ in rows}
    found = {frozenset((Path(uri).name, name[dup_of])) for uri, _, dup_of in rows if dup_of}
    labels = json.loads((EXAMPLES / "expected" / "dedup.json").read_text())
    exact = {frozenset((p["a"], p["b"])) for p in labels["pairs"] if p["relation"] == "exact"}
    # Copies point at their canonical article: every found pair is a labelled exact pair, and the
    # copies cover the labelled cluster.
    assert found <= exact
    assert {n for pair in found for n in pair} == {n for pair in exact for n in pair}
