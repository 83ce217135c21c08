"""Scoring of duplicate clusters (pipeline/dedup_eval.py) and the duplicate finder measured with
it: on the generated labelled set (tests/dedup_set.py) and on the seeds."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from dedup_set import build_dedup_set, composition
from support import EXAMPLES, GOLD, needs_shared
from tollwatch.pipeline.dedup_eval import (
    DocDup, format_dedup_report, format_relation_table, labels_from_dict, labels_from_tsv,
    load_labels, predicted_pairs, relation_counts, score_pairs, story_of, uri_name)

COLUMNS = ("uri", "doc_id", "story_id", "copy_of", "copy_kind", "is_canonical")


def pair(a: str, b: str) -> frozenset:
    return frozenset((a, b))


def doc(name, copy_of=None, kind=None, cluster=None):
    """An article named `name` whose doc_id is its name."""
    return DocDup(name, name, cluster or copy_of or name, copy_of, kind, copy_of is None)


# A story w with an exact copy e, a near copy n and a rewrite r; an unrelated story x.
LABELS = labels_from_dict({
    "pairs": [
        {"a": "w", "b": "e", "relation": "exact"}, {"a": "w", "b": "n", "relation": "near"},
        {"a": "e", "b": "n", "relation": "near"}, {"a": "w", "b": "r", "relation": "rewrite"},
        {"a": "e", "b": "r", "relation": "rewrite"}, {"a": "n", "b": "r", "relation": "rewrite"},
    ],
    "not_duplicates": [{"a": "w", "b": "x", "why": "same figures, different copy"}],
})
PERFECT = [doc("w"), doc("e", "w", "exact"), doc("n", "w", "near"), doc("r", "w", "rewrite"),
           doc("x")]


# ---- labels ---------------------------------------------------------------------------------------
def test_load_labels_reads_the_example_corpus_labels():
    labels = load_labels(EXAMPLES / "expected" / "dedup.json")
    assert len(labels.pairs) == 21 and len(labels.not_duplicates) == 15
    relations = [p.relation for p in labels.pairs.values()]
    assert (relations.count("exact"), relations.count("near"), relations.count("rewrite")) == (6, 9, 6)
    assert "day3_radioserrano_bulletin.txt" in labels.documents  # named in within_document


@pytest.mark.parametrize("data", [
    {"pairs": [{"a": "a", "b": "b", "relation": "similar"}]},
    {"pairs": [{"a": "a", "b": "a", "relation": "near"}]},
    {"pairs": [{"a": "a", "b": "b", "relation": "near"}, {"a": "b", "b": "a", "relation": "exact"}]},
    {"pairs": [{"a": "a", "b": "b", "relation": "near"}], "not_duplicates": [{"a": "b", "b": "a"}]},
    {"not_duplicates": [{"a": "a"}]},
])
def test_inconsistent_labels_are_rejected(data):
    with pytest.raises(ValueError):
        labels_from_dict(data)


# ---- predicted pairs ------------------------------------------------------------------------------
def test_pairs_of_a_cluster_and_their_kinds():
    predicted = predicted_pairs(PERFECT + [doc("e2", "w", "exact")])
    assert predicted == {
        pair("w", "e"): "exact", pair("w", "e2"): "exact", pair("e", "e2"): "exact",
        pair("w", "n"): "near", pair("e", "n"): "near", pair("e2", "n"): "near",
        pair("w", "r"): "rewrite", pair("e", "r"): "rewrite", pair("e2", "r"): "rewrite",
        pair("n", "r"): "rewrite"}


def test_chains_cluster_ids_and_parquet_rows():
    # A chain (x is an exact copy of near copy n) combines the links up to the common article.
    chain = predicted_pairs([doc("w"), doc("n", "w", "near"), doc("x", "n", "exact", cluster="w")])
    assert chain == {pair("w", "n"): "near", pair("n", "x"): "exact", pair("w", "x"): "near"}
    # Copies of a canonical of an earlier run (not in this output) are one cluster.
    assert predicted_pairs([doc("a", "old", "exact"), doc("b", "old", "exact")]) == {
        pair("a", "b"): "exact"}
    # Parquet rows: the name comes from the uri, `#entry` kept for a feed entry.
    rows = [dict(zip(COLUMNS, ("/in/feed.xml#https://x.example/?p=1", "d1", "d1", None, None, True))),
            dict(zip(COLUMNS, ("/in/copy.txt", "d2", "d1", "d1", "near", False)))]
    assert predicted_pairs(rows) == {pair("feed.xml#https://x.example/?p=1", "copy.txt"): "near"}
    assert uri_name("C:\\in\\a.html") == "a.html"


# ---- scores ---------------------------------------------------------------------------------------
def test_perfect_clusters_score_one():
    score = score_pairs(LABELS, predicted_pairs(PERFECT))
    for s in (*score.kinds.values(), score.overall):
        assert (s.precision, s.recall, s.kind_agreement) == (1.0, 1.0, 1.0), s
    assert not score.false_pairs and not score.missed_pairs and not score.kind_mismatches
    assert score.confusion == {("exact", "exact"): 1, ("near", "near"): 2, ("rewrite", "rewrite"): 3}


def test_a_false_link_costs_precision_of_its_kind():
    # x joins w's cluster as a near copy: 4 false pairs (x with w, e, n, r), all predicted near
    # or rewrite; the one with w is a labelled hard negative.
    score = score_pairs(LABELS, predicted_pairs(PERFECT[:-1] + [doc("x", "w", "near")]))
    near, rewrite = score.kinds["near"], score.kinds["rewrite"]
    assert (near.n_predicted, near.n_correct) == (2 + 3, 2)  # x-w, x-e, x-n are near
    assert (rewrite.n_predicted, rewrite.n_correct) == (4, 3)  # x-r is a rewrite pair
    assert near.recall == rewrite.recall == 1.0
    assert score.overall.precision == pytest.approx(6 / 10)
    whys = {(f.a, f.b): f.why for f in score.false_pairs}
    assert whys == {("w", "x"): "same figures, different copy", ("e", "x"): "", ("n", "x"): "",
                    ("r", "x"): ""}
    report = format_dedup_report(score)
    assert "w  ~  x   predicted near; not duplicates: same figures, different copy" in report


def test_a_missed_link_costs_recall_of_its_relation():
    score = score_pairs(LABELS, predicted_pairs([doc("w"), doc("e", "w", "exact"), doc("n"),
                                                 doc("r", "w", "rewrite"), doc("x")]))
    assert score.kinds["near"].recall == 0.0 and score.kinds["near"].precision == 1.0
    assert score.kinds["exact"].recall == 1.0
    assert score.kinds["rewrite"].recall == pytest.approx(2 / 3)
    assert [(m.a, m.b, m.relation) for m in score.missed_pairs] == [
        ("e", "n", "near"), ("n", "r", "rewrite"), ("n", "w", "near")]
    assert "e  ~  n   labelled near" in format_dedup_report(score)


def test_a_kind_mismatch_is_found_but_reported():
    # n linked as a rewrite: the pair is found (recall of near 1) and correct for rewrite precision.
    score = score_pairs(LABELS, predicted_pairs(PERFECT[:2] + [doc("n", "w", "rewrite")] + PERFECT[3:]))
    near = score.kinds["near"]
    assert (near.recall, near.n_predicted, near.kind_agreement) == (1.0, 0, 0.0)
    assert score.kinds["rewrite"].precision == 1.0 and score.overall.precision == 1.0
    assert score.confusion[("near", "rewrite")] == 2
    assert ("n", "w", "near", "rewrite") in score.kind_mismatches


def test_unlabelled_documents_are_ignored_and_missing_ones_reported():
    predicted = predicted_pairs(PERFECT + [doc("y", "w", "near")])
    score = score_pairs(LABELS, predicted, found_documents=["w", "e", "n", "r", "y"])
    assert score.n_ignored == 4 and score.overall.precision == 1.0
    assert score.missing_documents == ["x"]
    with pytest.raises(ValueError):
        score_pairs(LABELS, predicted, kinds=("similar",))


# ---- the generated set, through the pipeline -----------------------------------------------------
def run_and_read(inputs: Path, out: Path, *flags: str) -> list[dict]:
    from tollwatch.pipeline.cli import main

    assert main(["run", "--input", str(inputs), "--output", str(out), "-q", *flags]) == 0
    return articles_of(out)


def articles_of(out: Path) -> list[dict]:
    rows = duckdb.sql(f"SELECT {', '.join(COLUMNS)} FROM read_parquet('{out}/articles/*/*.parquet', "
                      "hive_partitioning = true)").fetchall()
    return [dict(zip(COLUMNS, row)) for row in rows]


@pytest.fixture(scope="module")
def dedup_set(tmp_path_factory):
    return build_dedup_set(tmp_path_factory.mktemp("dedup_set"))


@pytest.fixture(scope="module")
def measured(dedup_set, tmp_path_factory):
    # With the corpus's sources table, as the demo runs: its agencies are what rewrites credit.
    articles = run_and_read(dedup_set.parent / "docs", tmp_path_factory.mktemp("dedup_out"),
                            "--sources", str(EXAMPLES / "sources.toml"))
    names = [uri_name(a["uri"]) for a in articles]
    score = score_pairs(load_labels(dedup_set), predicted_pairs(articles), found_documents=names)
    print(composition(dedup_set))
    print(format_dedup_report(score))
    return score


def test_the_set_is_consistent_and_deterministic(dedup_set, tmp_path):
    counts = composition(dedup_set)
    assert 200 <= counts["documents"] <= 400
    assert counts["near"] > 1000 and counts["exact"] > 40 and counts["not_duplicates"] > 200
    labels = load_labels(dedup_set)  # validates: no pair both a duplicate and not
    files = {p.name for p in (dedup_set.parent / "docs").iterdir()}
    assert labels.documents == files
    again = build_dedup_set(tmp_path)
    assert again.read_bytes() == dedup_set.read_bytes()
    for name in sorted(files)[::17]:
        assert (tmp_path / "docs" / name).read_bytes() == (dedup_set.parent / "docs" / name).read_bytes()
    # The corpus's own labels are carried over under the set's file names.
    example = json.loads((EXAMPLES / "expected" / "dedup.json").read_text(encoding="utf-8"))
    assert len(example["pairs"]) == sum(
        1 for key, lp in labels.pairs.items() if all(n.startswith("ex_day1_meridian") for n in key))


@pytest.mark.slow  # a whole `tollwatch run`
def test_near_duplicates_keep_hard_negatives_apart(measured):
    """Precision: independent reports with the same figures, a shared statement or a shared footer
    paragraph are never linked."""
    assert measured.kinds["near"].precision >= 0.98, format_dedup_report(measured)
    assert measured.overall.precision >= 0.98
    assert measured.kinds["exact"].recall == 1.0


@pytest.mark.slow  # a whole `tollwatch run`
def test_near_duplicates_are_found(measured):
    assert measured.kinds["near"].recall >= 0.95, format_dedup_report(measured)


@pytest.mark.slow  # a whole `tollwatch run`
def test_rewrites_are_found_without_linking_stories(measured):
    """The corpus's rewrite is linked to every copy of the wire story it retells, and no page that
    embeds a story (and quotes other stories' leads) links two stories as rewrites."""
    assert measured.kinds["rewrite"].recall == 1.0, format_dedup_report(measured)
    assert measured.kinds["rewrite"].precision >= 0.98, format_dedup_report(measured)


@pytest.mark.slow  # a whole `tollwatch run`
@needs_shared
def test_seed_relations(seeds_run):
    """Seeds: 004 is a rewrite of 000; 001 and 002 (same figures, different copy) stay apart."""
    articles = articles_of(seeds_run.output)  # `run --input SEEDS`
    score = score_pairs(load_labels(GOLD / "seed_dedup.json"), predicted_pairs(articles))
    assert not score.false_pairs, format_dedup_report(score)
    assert score.kinds["rewrite"].recall == 1.0 and score.kinds["rewrite"].kind_agreement == 1.0


# ---- realdev's TSV labels and the transitive closure --------------------------------------------
def test_tsv_labels_and_links_right_by_the_closure_of_the_labels():
    labels = labels_from_tsv([
        "doc_a\tdoc_b\trelation\treason\n",
        "a\tb\tnear\tsame wire text\n", "b\tc\trewrite\tparaphrase\n",
        "a\tc\tnone\tlabelled apart, joined by the closure\n", "a\td\tnone\tsame figures\n"])
    assert len(labels.pairs) == 2 and len(labels.not_duplicates) == 2
    assert story_of(labels) == {"a": "a", "b": "a", "c": "a", "d": "d"}
    # a~c is not listed, but a copy of a copy is the same story: right. a~d is false.
    score = score_pairs(labels, {pair("a", "c"): "near", pair("a", "d"): "near"})
    assert (score.overall.n_correct, score.overall.n_predicted) == (1, 2)
    assert [(f.a, f.b) for f in score.false_pairs] == [("a", "d")]
    assert [(f.a, f.b) for f in score.linked_negatives] == [("a", "c")]
    assert relation_counts(score) == {"exact + near": (0, 1), "rewrite": (0, 1),
                                      "links right": (1, 2)}
    table = format_relation_table({"part": score})
    assert "| exact + near copies | 0 of 1 (0.00) |" in table
    with pytest.raises(ValueError):
        labels_from_tsv(["a\tb\tnear\n"])  # no header
