"""ExtractClaims as a Beam transform: Articles in, Claim records out (TestPipeline, BundleBasedDirectRunner)."""

from __future__ import annotations

from datetime import datetime, timezone

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas.records import Article, Claim
from tollwatch.transforms.claims import ExtractClaims, claim_id, claim_key

PUBLISHED = Timestamp.from_utc_datetime(datetime(2025, 3, 9, 10, 0, tzinfo=timezone.utc))
RUNNER = "BundleBasedDirectRunner"  # no runner download


def article(doc_id: str, text: str, **kw) -> Article:
    fields = dict(doc_id=doc_id, uri=f"file:///{doc_id}.html", url=None, outlet="Example News", title=None,
                  published_at=PUBLISHED, date_source="metadata", ingested_at=PUBLISHED, text=text, language="en",
                  event_ids=["syria-coast-2025"], n_repeats_removed=0, story_id=None, copy_of=None,
                  copy_kind=None, copy_similarity=None, is_canonical=True)
    fields.update(kw)
    return Article(**fields)


ORIGINAL = article("a1", "More than 1,000 people, including 745 civilians, were killed since Thursday, "
                         "the Syrian Observatory for Human Rights said.")
COPY = article("a2", ORIGINAL.text, copy_of="a1", copy_kind="exact", story_id="c1", is_canonical=False,
               event_ids=[])
NOTHING = article("a3", "The talks will resume on Monday in Geneva.")


def project(c: Claim) -> tuple:
    return (c.doc_id, c.number, c.group, c.qualifier, c.value_low, c.source, c.event_id, c.is_copy,
            c.canonical_id, c.period_text, c.period_start)


def test_extract_claims_transform():
    thursday = Timestamp.from_utc_datetime(datetime(2025, 3, 6, tzinfo=timezone.utc))
    expected = [
        ("a1", 1000, "total", "more_than", 1001, "SOHR", "syria-coast-2025", False, "a1", "since Thursday", thursday),
        ("a1", 745, "civilians", "exact", 745, "SOHR", "syria-coast-2025", False, "a1", "since Thursday", thursday),
        ("a2", 1000, "total", "more_than", 1001, "SOHR", None, True, "a1", "since Thursday", thursday),
        ("a2", 745, "civilians", "exact", 745, "SOHR", None, True, "a1", "since Thursday", thursday),
    ]
    with TestPipeline(runner=RUNNER) as p:
        claims = p | beam.Create([ORIGINAL, COPY, NOTHING]) | ExtractClaims()
        assert_that(claims | beam.Map(project), equal_to(expected))


def test_claim_records_carry_ids_keys_and_spans():
    def check(claims):
        assert len(claims) == 2
        for c in claims:
            assert isinstance(c, Claim)
            assert c.claim_id == claim_id(c.doc_id, c.char_start, c.char_end, c.measure, c.group)
            assert c.claim_key == claim_key(c.event_id, c.measure, c.group, c.qualifier, c.number, c.number_high,
                                            c.source)
            assert str(c.number) in ORIGINAL.text[c.char_start:c.char_end].replace(",", "")
            assert c.published_at == PUBLISHED and c.outlet == "Example News"
            assert c.measure == "killed" and c.scope == "overall"

    with TestPipeline(runner=RUNNER) as p:
        claims = p | beam.Create([ORIGINAL]) | ExtractClaims()
        assert_that(claims, check)


def test_user_source_file_reaches_the_workers(tmp_path):
    extra = tmp_path / "sources.toml"
    extra.write_text('[[source]]\ncanonical = "Coast Monitor"\nkind = "monitor"\naliases = ["Coast Monitor"]\n',
                     encoding="utf-8")
    text = "The Coast Monitor said 12 fishermen were missing after the storm."
    with TestPipeline(runner=RUNNER) as p:
        claims = p | beam.Create([article("b1", text)]) | ExtractClaims([str(extra)])
        assert_that(claims | beam.Map(lambda c: (c.number, c.measure, c.group, c.source)),
                    equal_to([(12, "missing", "civilians", "Coast Monitor")]))


def test_a_failing_article_becomes_a_dead_letter(monkeypatch):
    import tollwatch.transforms.claims.stage as claims_module  # the module whose article_claims calls it

    real = claims_module.extract_claims

    def flaky(text, published=None, sources=None, title=None):
        if "explode" in text:
            raise RuntimeError("boom")
        return real(text, published, sources, title)

    monkeypatch.setattr(claims_module, "extract_claims", flaky)
    bad = article("bad", "This text will explode the parser; 12 people were killed.")
    with TestPipeline(runner=RUNNER) as p:
        transform = ExtractClaims()
        claims = p | beam.Create([ORIGINAL, bad]) | transform
        assert_that(claims | "Docs" >> beam.Map(lambda c: c.doc_id), equal_to(["a1", "a1"]), label="claims")
        assert_that(transform.dead_letters | beam.Map(lambda d: (d.uri, d.stage, d.error_type, d.message)),
                    equal_to([("file:///bad.html", "claims", "RuntimeError", "boom")]), label="dead letters")
