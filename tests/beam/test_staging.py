"""The batch path's staging files and duplicate verdicts, without a runner: the verdicts made over
digests say what the per-article stages say of the articles themselves."""

from __future__ import annotations

import datetime as dt

import pytest
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas import Article
from tollwatch.schemas.duplicates import ArticleDigest
from tollwatch.transforms.claims import ClaimMention, figure_key, to_claim, unmark_new_figures
from tollwatch.transforms.duplicates.exact import mark_exact_duplicates
from tollwatch.transforms.duplicates.minhash import MinHasher
from tollwatch.transforms.duplicates.resolve import resolve_duplicates
from tollwatch.transforms.duplicates.rewrites import CreditFinder, story_traits
from tollwatch.transforms.duplicates.similarity import signature_of
from tollwatch.transforms.duplicates.stories import apply_assignment
from tollwatch.transforms.extract import normalized_text_hash
from tollwatch.transforms.parquet import remove_stale_files
from tollwatch.transforms.staging import (
    ARTICLES, RecordFile, apply_verdict, claim_verdict, read_records, state_signature)

T0 = Timestamp.from_utc_datetime(dt.datetime(2026, 5, 12, 8, tzinfo=dt.timezone.utc))
WIRE = " ".join(f"word{i} of the wire story about the clashes in the north" for i in range(40))


def article(doc_id: str, text: str, hours: float = 0) -> Article:
    return Article(doc_id=doc_id, uri=f"file:///{doc_id}.txt", url=None, outlet=doc_id, title=None,
                   published_at=T0 + round(hours * 3600), date_source="metadata", ingested_at=T0,
                   text=text, language="en", event_ids=["e"], n_repeats_removed=0, story_id=None,
                   copy_of=None, copy_kind=None, copy_similarity=None, is_canonical=True)


def mention(number: int) -> ClaimMention:
    fields = dict.fromkeys(ClaimMention._fields)
    fields.update(measure="killed", number=number, qualifier="exact", value_low=number,
                  value_high=number, group="total", scope="overall",
                  sentence=f"{number} people were killed.", char_start=0, char_end=10)
    return ClaimMention(**fields)


def digest(a: Article, claims, staged: str = "bundle") -> ArticleDigest:
    return ArticleDigest(
        a.doc_id, a.published_at, len(a.text), normalized_text_hash(a.text),
        signature_of(a, MinHasher()), story_traits(a, CreditFinder({})),
        sorted({figure_key(c) for c in claims}), staged, a.story_id, a.copy_of, a.copy_kind,
        a.copy_similarity, a.is_canonical)


def test_staging_files_give_back_the_records_in_order(tmp_path):
    records = [article(f"a{i}", WIRE + f" number {i}") for i in range(3)]
    out = RecordFile(str(tmp_path / ("b" + ARTICLES)), Article)
    for record in records:
        out.write(record)
    out.close()
    assert list(read_records(str(tmp_path / ("b" + ARTICLES)), Article)) == records


def test_verdicts_over_digests_say_what_the_article_stages_say():
    wire = article("wire", WIRE)
    copy = article("copy", WIRE.upper(), hours=2)  # the same text in capitals: an exact copy
    other = article("other", "An unrelated story. " * 30, hours=1)
    mentions = {"wire": [mention(45)], "copy": [mention(45), mention(52)], "other": [mention(7)]}
    raw = {a.doc_id: [to_claim(a, m) for m in mentions[a.doc_id]] for a in (wire, copy, other)}

    digests = [digest(a, raw[a.doc_id]) for a in (wire, copy, other)]
    verdicts, stats = resolve_duplicates(digests)
    by_id = {v.doc_id: v for v in verdicts}

    # The article stages: exact copies marked, the others compared as near copies (found alone
    # here: their own cluster), then claims made from the marked articles and their new figures
    # unmarked.
    marked = {a.doc_id: a if a.copy_kind == "exact" else apply_assignment(a, None)
              for a in mark_exact_duplicates([wire, copy, other])}
    for a in (wire, copy, other):
        assert apply_verdict(a, by_id[a.doc_id]) == marked[a.doc_id]
    expected = unmark_new_figures(
        [to_claim(marked[d], m) for d in ("wire", "copy") for m in mentions[d]])
    assert [claim_verdict(c, by_id[c.doc_id]) for d in ("wire", "copy") for c in raw[d]] == expected
    assert {(c.doc_id, c.number): c.is_copy for c in expected} == {
        ("wire", 45): False, ("copy", 45): True, ("copy", 52): False}
    assert stats["exact_copies"] == 1
    # What a later run links its copies to: the canonical articles' signatures, in their cluster.
    signatures = [state_signature(signature_of(a, MinHasher()), by_id[a.doc_id]) for a in (wire, copy, other)]
    assert [(s.doc_id, s.story_id) if s else None for s in signatures] == [
        ("wire", "wire"), None, ("other", "other")]


def test_staged_sketches_are_read_for_the_candidates_only():
    wire = article("wire", WIRE)
    near = article("near", WIRE.replace("word3 of", "word three of"), hours=3)
    other = article("other", "An unrelated story. " * 30, hours=1)
    digests = [digest(a, []) for a in (wire, near, other)]
    verdicts, _ = resolve_duplicates(digests)
    assert {v.doc_id: v.copy_kind for v in verdicts} == {"wire": None, "near": "near", "other": None}
    sketches = {d.doc_id: d.signature.sketch for d in digests}
    asked = []
    staged = [d._replace(signature=d.signature._replace(sketch=b"")) for d in digests]
    assert resolve_duplicates(staged, sketches=lambda ids: asked.append(ids) or sketches.items())[0] == verdicts
    assert asked == [{"wire", "near"}]


def test_a_rerun_removes_its_own_files_it_did_not_write_again(tmp_path):
    day = tmp_path / "articles" / "published_date=2026-05-12"
    day.mkdir(parents=True)
    for name in ("part-k1-00000-of-00002.parquet", "part-k1-00001-of-00002.parquet",
                 "part-k2-00000-of-00001.parquet"):
        (day / name).write_bytes(b"x")
    (day / "part-k1-00000-of-00001.parquet").write_bytes(b"new")
    base = str(tmp_path / "articles")
    remove_stale_files(
        ("published_date=2026-05-12", ["published_date=2026-05-12/part-k1-00000-of-00001.parquet"]), base, "part-k1")
    assert sorted(p.name for p in day.iterdir()) == [
        "part-k1-00000-of-00001.parquet", "part-k2-00000-of-00001.parquet"]


def test_the_open_sinks_of_a_process_share_one_buffer(tmp_path, monkeypatch):
    import apache_beam as beam
    import pyarrow.parquet as pq

    from tollwatch.transforms import parquet

    monkeypatch.setattr(parquet, "PROCESS_BUFFER_BYTES", 20_000)
    coder = beam.coders.registry.get_coder(Article)
    sinks = [parquet.ParquetSink(Article, encoded=True) for _ in range(4)]
    handles = [open(tmp_path / f"{i}.parquet", "wb") for i in range(4)]
    for sink, fh in zip(sinks, handles):
        sink.open(fh)
    records = [article(f"a{i}", WIRE + f" number {i}") for i in range(40)]  # ~2.4 KB each
    most = 0
    for i, record in enumerate(records):
        sinks[i % 4].write(("day", coder.encode(record)))
        most = max(most, parquet.ParquetSink._held)
    assert most <= 20_000 + 3_000
    for sink, fh in zip(sinks, handles):
        sink.flush()
        fh.close()
    assert parquet.ParquetSink._held == 0
    tables = [pq.read_table(tmp_path / f"{i}.parquet") for i in range(4)]
    assert sorted(d for t in tables for d in t.column("doc_id").to_pylist()) == sorted(r.doc_id for r in records)
    assert max(pq.ParquetFile(tmp_path / f"{i}.parquet").num_row_groups for i in range(4)) > 1


@pytest.mark.parametrize("encoded", [True, False])
def test_a_row_group_converted_in_slices_keeps_its_records_and_their_order(tmp_path, monkeypatch, encoded):
    import apache_beam as beam
    import pyarrow.parquet as pq

    from tollwatch.transforms import parquet

    monkeypatch.setattr(parquet, "SLICE_ROWS", 3)
    coder = beam.coders.registry.get_coder(Article)
    records = [article(f"a{i}", WIRE + f" number {i}", hours=i) for i in range(10)]
    sink = parquet.ParquetSink(Article, encoded=encoded)
    with open(tmp_path / "day.parquet", "wb") as fh:
        sink.open(fh)
        for record in records:
            sink.write(("day", coder.encode(record) if encoded else record))
            assert len(sink._pending) < 3
        sink.flush()
    written = pq.ParquetFile(tmp_path / "day.parquet")
    assert written.num_row_groups == 1
    table = written.read()
    assert table.column("doc_id").to_pylist() == [r.doc_id for r in records]
    assert table.column("text").to_pylist() == [r.text for r in records]


def test_lean_digests_share_their_values_and_decide_the_same():
    from apache_beam.coders import registry

    from tollwatch.transforms.duplicates.resolve import lean_digest

    wire = article("wire", WIRE)
    near = article("near", WIRE.replace("word3 of", "word three of"), hours=3)
    other = article("other", "An unrelated story. " * 30)  # published when the wire was
    mentions = {"wire": [mention(45)], "near": [mention(45), mention(52)], "other": []}
    digests = [digest(a, [to_claim(a, m) for m in mentions[a.doc_id]]) for a in (wire, near, other)]
    coder = registry.get_coder(ArticleDigest)
    decoded = [coder.decode(coder.encode(d)) for d in digests]
    shared: dict = {}
    lean = [lean_digest(d, shared) for d in decoded]

    for d in lean:
        assert d.signature.doc_id is d.doc_id and d.traits.doc_id is d.doc_id
        assert d.signature.published_at is d.published_at and d.traits.published_at is d.published_at
    assert lean[2].published_at is lean[0].published_at
    assert lean[0].staged is lean[1].staged
    assert lean[0].figures[0] is lean[1].figures[0]  # "killed:45:None"
    assert [tuple(d.figures) for d in lean] == [tuple(d.figures) for d in digests]

    def fields(verdicts):
        return [v._replace(canonical_figures=v.canonical_figures and tuple(v.canonical_figures))
                for v in verdicts]

    assert fields(resolve_duplicates(lean)[0]) == fields(resolve_duplicates(digests)[0])
    assert {v.doc_id: v.copy_kind for v in resolve_duplicates(lean)[0]} == {
        "wire": None, "near": "near", "other": None}


def test_staging_passes_on_file_names_that_hold_every_digest(tmp_path):
    import apache_beam as beam
    from apache_beam.testing.test_pipeline import TestPipeline

    from tollwatch.transforms.staging import StageArticles, read_digests

    articles = [article("wire", WIRE), article("copy", WIRE.upper(), hours=2),
                article("other", "An unrelated story. " * 30, hours=1)]
    names = str(tmp_path / "names")
    with TestPipeline() as p:
        staged = p | beam.Create(articles) | StageArticles(str(tmp_path / "staging"))
        staged["staged"] | beam.io.WriteToText(names, shard_name_template="")
    bases = open(names).read().split()
    assert len(bases) == len(set(bases)) >= 1  # one name per bundle
    digests = {d.doc_id: d for d in read_digests(bases)}
    assert digests == {a.doc_id: digest(a, [], digests[a.doc_id].staged)._replace(
        signature=digests[a.doc_id].signature) for a in articles}
    assert digests["wire"].signature.sketch == b""  # the sketch waits in its own file


def test_verdicts_are_written_beside_their_staging_files(tmp_path):
    """write_verdicts takes verdicts grouped by staging file, writes each group to that file's
    `.verdicts` and passes on each staging file name once, after its verdicts are written."""
    from tollwatch.schemas.duplicates import Verdict
    from tollwatch.transforms.staging import VERDICTS, write_verdicts

    bases = [str(tmp_path / name) for name in ("a", "b", "c")]
    verdicts = [Verdict(f"d{i}", bases[i // 3], None, None, None, None, True,
                        ["killed:5:None"] if i % 2 else None) for i in range(8)]
    written = []
    for base in write_verdicts(iter(verdicts)):
        written.append(base)
        # A name goes on only once its file is complete.
        assert list(read_records(base + VERDICTS, Verdict)) == [v for v in verdicts if v.staged == base]
    assert written == bases
    assert list(write_verdicts([])) == []


def test_records_beyond_a_bundles_writers_go_through_the_spill_and_are_all_written(tmp_path, monkeypatch):
    """shards=0 hands records to the sinks as they are; past MAX_WRITERS_PER_BUNDLE partitions in a
    bundle, WriteToFiles shuffles the rest (pickled records) and writes them after."""
    import apache_beam as beam
    import duckdb
    from apache_beam.testing.test_pipeline import TestPipeline

    from tollwatch.transforms import parquet

    monkeypatch.setattr(parquet, "MAX_WRITERS_PER_BUNDLE", 1)
    records = [article(f"a{i}", WIRE + f" number {i}", hours=24 * i) for i in range(5)]
    with TestPipeline() as p:
        (p | beam.Create(records, reshuffle=False)
         | parquet.WriteParquet(str(tmp_path), "articles", Article, "published_at",
                                "published_date", shards=0))
    got = duckdb.sql(f"select doc_id, text, published_date from read_parquet("
                     f"'{tmp_path}/articles/*/*.parquet', hive_partitioning=true) order by doc_id").fetchall()
    assert [(d, t) for d, t, _ in got] == [(r.doc_id, r.text) for r in records]
    assert len({day for _, _, day in got}) == 5


# A wire story and a rewrite of it that keeps its figures and its credit and little of its wording
# (fictional): found by the figures-and-credit rule, not by shared shingles.
WIRE_STORY = (
    "Floods in the river valley have killed 41 people and left 230 injured, the regional governor "
    "told Reuters on Tuesday. Rescue boats searched flooded villages through the night as water "
    "levels kept rising after a week of heavy rain. The governor said 1,200 homes had been "
    "damaged and that schools would stay closed until Friday. Army engineers were sent to "
    "reinforce a dam upstream of the provincial capital.")
REWRITE_STORY = (
    "A regional governor said 41 people are dead and 230 hurt in valley flooding, speaking to "
    "Reuters. Boats combed submerged hamlets overnight while the water went on climbing. Some "
    "1,200 houses suffered damage. Classes are cancelled for the week. Residents queued for "
    "drinking water at the town hall, where volunteers handed out blankets and bread.")


def test_a_rewrite_found_by_figures_and_credit_has_the_aligned_share_as_its_similarity():
    from tollwatch.transforms.duplicates.alignment import aligned_share, outline

    finder = CreditFinder({"Reuters": "Reuters"})
    wire, rewrite = article("wire", WIRE_STORY), article("rewrite", REWRITE_STORY, hours=3)

    def with_credit(a: Article) -> ArticleDigest:
        return digest(a, [])._replace(traits=story_traits(a, finder))

    digests = [with_credit(wire), with_credit(rewrite)]
    verdicts, stats = resolve_duplicates(digests)
    found = {v.doc_id: v for v in verdicts}["rewrite"]
    assert (found.copy_kind, found.copy_of, stats["rewrites"]) == ("rewrite", "wire", 1)
    expected = aligned_share(outline(REWRITE_STORY), outline(WIRE_STORY))
    # Not the share of its figures found in the original (1.0): how much of the text is retold.
    assert found.copy_similarity == expected and 0 < expected < 1.0
    # The same when the outlines wait in the staging files.
    outlines = {d.doc_id: (d.signature.sketch, d.signature.outline) for d in digests}
    staged = [d._replace(signature=d.signature._replace(sketch=b"", outline=b"")) for d in digests]
    again, _ = resolve_duplicates(staged, sketches=lambda ids: [(i, outlines[i]) for i in ids])
    assert {v.doc_id: v for v in again}["rewrite"].copy_similarity == expected
