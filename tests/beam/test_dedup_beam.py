"""Pipeline tests of MarkNearDuplicates and FindLinks, the streaming stage (TestStream), and the
per-band state's time-to-live; and the same scenario decided as a batch run decides it
(``resolve.resolve_duplicates`` over the articles' digests).

The runner is 'BundleBasedDirectRunner': the default DirectRunner first tries to download the Prism
binary. Note: on that runner with TestStream, metrics are only committed for the first bundle of a
step, so the streaming tests observe state through the BandReport's ``held`` count instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import BeamAssertException, assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Duration, Timestamp

from support import SEEDS, SHARED, seed
from tollwatch.schemas.duplicates import ArticleDigest
from tollwatch.schemas.records import Article
from tollwatch.transforms.duplicates.minhash import MinHasher
from tollwatch.transforms.duplicates.resolve import resolve_duplicates
from tollwatch.transforms.duplicates.rewrites import CreditFinder, story_traits
from tollwatch.transforms.duplicates.settings import near_options
from tollwatch.transforms.duplicates.similarity import make_signature, signature_of
from tollwatch.transforms.duplicates.streaming import FindLinks, MarkNearDuplicates
from tollwatch.transforms.extract import normalized_text_hash

RUNNER = "BundleBasedDirectRunner"
HOUR = 3600
T0 = 1741392000  # 2025-03-08T00:00:00Z




def article(doc_id: str, text: str, hours: float, **fields) -> Article:
    "Return an Article published `hours` after T0, with the duplicate fields unset."
    when = Timestamp(T0 + hours * HOUR)
    values = dict(doc_id=doc_id, uri=f"file:///in/{doc_id}.html", url=None, outlet=None, title=None,
                  published_at=when, date_source="metadata", ingested_at=when, text=text,
                  language="en", event_ids=[], n_repeats_removed=0, story_id=None,
                  copy_of=None, copy_kind=None, copy_similarity=None, is_canonical=True)
    values.update(fields)
    return Article(**values)


def marks(a: Article) -> tuple:
    return (a.doc_id, a.copy_kind, a.copy_of, a.story_id, a.is_canonical)


def streaming_pipeline() -> TestPipeline:
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    return TestPipeline(runner=RUNNER, options=options)


def scenario() -> tuple[list[Article], list[tuple]]:
    "Return articles in publication order and their expected marks."
    wire = seed("000")
    paras = wire.split("\n\n")
    s2 = seed("002")
    articles = [
        article("early", "Syria: hundreds killed on the coast, monitor says\n\n" + wire, -1),
        article("s1", seed("001"), 0),
        article("wire", wire, 0),
        article("exact", wire, 0.5, copy_kind="exact", copy_of="wire", story_id="wire",
                is_canonical=False),
        article("tiny", "Short note: more soon.", 0.5),
        article("trim", "\n\n".join(paras[:int(len(paras) * 0.65)]), 1),
        article("s2long", s2 + "\n\nAdditional reporting by our correspondent in Beirut.", 2),
        article("s2", s2, 2),
        # A round-up: most of the wire story inside the whole of s2. It contains both stories; it
        # joins the earlier canonical, and the two clusters stay apart.
        article("embed", "\n\n".join(s2.split("\n\n")[:8] + paras[:int(len(paras) * 0.9)]
                                     + s2.split("\n\n")[8:]), 3),
        # Three days later: a copy is a copy whatever the dates (batch holds every article).
        article("late", wire.replace("Saturday", "Tuesday"), 24 * 3),
    ]
    expected = [
        ("early", None, None, "early", True),
        ("s1", None, None, "s1", True),
        ("wire", "near", "early", "early", False),
        ("exact", "exact", "wire", "wire", False),
        ("tiny", None, None, "tiny", True),
        ("trim", "near", "early", "early", False),
        ("s2long", None, None, "s2long", True),  # same time as s2: the longer is canonical
        ("s2", "near", "s2long", "s2long", False),
        ("embed", "near", "early", "early", False),
        ("late", "near", "early", "early", False),
    ]
    return articles, expected


def digest(a: Article) -> ArticleDigest:
    "The article's digest, as staging.StageArticles makes it (no claims)."
    return ArticleDigest(a.doc_id, a.published_at, len(a.text), normalized_text_hash(a.text),
                         signature_of(a, MinHasher()), story_traits(a, CreditFinder({})), [], "bundle",
                         a.story_id, a.copy_of, a.copy_kind, a.copy_similarity, a.is_canonical)


@pytest.mark.parametrize("order", ["published", "reversed"])
def test_batch_decisions_mark_copies_deterministically(order):
    "What a batch run decides of the scenario, in any order of its digests."
    articles, expected = scenario()
    if order == "reversed":
        articles = articles[::-1]
    verdicts, stats = resolve_duplicates([digest(a) for a in articles])
    found = {v.doc_id: v for v in verdicts}
    # The batch decides exact copies itself, and an exact copy follows its canonical into the story
    # that canonical became a copy of (exact.repoint_copies).
    expected = [("exact", "exact", "early", "early", False) if e[0] == "exact" else e
                for e in expected]
    assert sorted((v.doc_id, v.copy_kind, v.copy_of, v.story_id, v.is_canonical)
                  for v in verdicts) == sorted(expected)
    sims = {doc_id: v.copy_similarity for doc_id, v in found.items()}
    assert (sims["wire"] > 0.95 and 0.6 < sims["trim"] < 0.8 and sims["embed"] > 0.8
            and sims["s2"] > 0.95 and sims["early"] is None), sims
    assert stats["confirmed"] >= 4 and stats["candidates"] >= stats["confirmed"]
    assert stats["exact_copies"] == 1


def test_streaming_in_publication_order_matches_batch():
    articles, expected = scenario()
    stream, watermark = TestStream().advance_watermark_to(Timestamp(T0 - 2 * HOUR)), None
    for a in articles:
        stream = stream.add_elements([TimestampedValue(a, a.published_at)])
        if a.published_at != watermark:  # TestStream watermarks must strictly advance
            stream, watermark = stream.advance_watermark_to(a.published_at), a.published_at
    stream = stream.advance_watermark_to_infinity()
    with streaming_pipeline() as p:
        marked = p | stream | MarkNearDuplicates()
        assert_that(marked | beam.Map(marks), equal_to(expected))


def test_streaming_decides_on_arrival_without_retraction():
    # The earlier-published original arrives after its copy: the copy, already emitted as
    # canonical, stays canonical and the original joins its cluster (module docstring).
    wire = seed("000")
    original, copy = article("original", wire, 0), article("copy", wire + "\n\nUpdated.", 1)
    stream = (TestStream().advance_watermark_to(Timestamp(T0))
              .add_elements([TimestampedValue(copy, copy.published_at)])
              .advance_watermark_to(Timestamp(T0 + 2 * HOUR))
              .add_elements([TimestampedValue(original, Timestamp(T0 + 2 * HOUR))])
              .advance_watermark_to_infinity())
    with streaming_pipeline() as p:
        marked = p | stream | MarkNearDuplicates()
        assert_that(marked | beam.Map(marks), equal_to([
            ("copy", None, None, "copy", True),
            ("original", "near", "copy", "copy", False)]))


def test_streaming_state_expires_after_ttl():
    # ttl 12 h. `early_copy` arrives while the original is held: linked. `late_copy` was published
    # 5 h after the original (within the TTL, so batch would link it) but arrives once the watermark
    # is past the original's TTL: the expiry timer has cleared the state, nothing to link to.
    wire = seed("000")
    original = article("original", wire, 0)
    early_copy = article("early_copy", wire + "\n\nUpdated at 01:00.", 1)
    late_copy = article("late_copy", wire + "\n\nUpdated at 05:00.", 5)
    stream = (TestStream().advance_watermark_to(Timestamp(T0))
              .add_elements([TimestampedValue(original, Timestamp(T0))])
              .advance_watermark_to(Timestamp(T0 + HOUR))
              .add_elements([TimestampedValue(early_copy, Timestamp(T0 + HOUR))])
              .advance_watermark_to(Timestamp(T0 + 30 * HOUR))
              .add_elements([TimestampedValue(late_copy, Timestamp(T0 + 31 * HOUR))])
              .advance_watermark_to_infinity())
    with streaming_pipeline() as p:
        marked = p | stream | MarkNearDuplicates(ttl=Duration(seconds=12 * HOUR))
        assert_that(marked | beam.Map(marks), equal_to([
            ("original", None, None, "original", True),
            ("early_copy", "near", "original", "original", False),
            ("late_copy", None, None, "late_copy", True)]))


def test_streaming_state_is_kept_by_arrival_whatever_date_the_pages_carry():
    # A wire story and a scraper's copy of it that carries a date a year later, both read today an
    # hour apart (a replay, or a scraper site in the feeds): the TTL counts from arrival, so they are
    # linked. Held by the pages' dates, the original expired the moment it was held.
    wire = seed("000")
    now = T0 + 400 * 24 * HOUR
    original = article("original", wire, 0, ingested_at=Timestamp(now))
    scraped = article("scraped", wire + "\n\nRead more: other stories.", 370 * 24,
                      ingested_at=Timestamp(now + HOUR))
    stream = (TestStream().advance_watermark_to(Timestamp(now))
              .add_elements([TimestampedValue(original, original.published_at)])
              .advance_watermark_to(Timestamp(now + HOUR))
              .add_elements([TimestampedValue(scraped, scraped.published_at)])
              .advance_watermark_to(Timestamp(now + 2 * HOUR))
              .advance_watermark_to_infinity())
    with streaming_pipeline() as p:
        marked = p | stream | MarkNearDuplicates()
        assert_that(marked | beam.Map(marks), equal_to([
            ("original", None, None, "original", True),
            ("scraped", "near", "original", "original", False)]))


def test_band_state_stays_bounded_on_a_long_stream():
    # 72 copies of one story, one an hour for three days, ttl 6 h: every band key of the story is
    # hit every hour. Without expiry a bucket would hold 72 signatures; with it, about 6.
    wire = seed("000")
    hasher, options = MinHasher(), near_options(ttl=6 * HOUR)
    stream = TestStream().advance_watermark_to(Timestamp(T0 - 1))
    n = 72
    for i in range(n):
        when = Timestamp(T0 + i * HOUR)
        sig = make_signature(f"copy-{i:02d}", when, f"{wire}\n\nUpdate number {i}.", hasher)
        stream = stream.add_elements([TimestampedValue(sig, when)]).advance_watermark_to(when)
    stream = stream.advance_watermark_to_infinity()

    def bounded(reports):
        held = [r.held for _, r in reports]
        links = {r.doc_id: 0 for _, r in reports}
        for _, r in reports:
            links[r.doc_id] += len(r.links)
        if len(held) != n * options.bands or max(held) > 8:
            raise BeamAssertException(f"{len(held)} reports, max held {max(held)}")
        if max(links.values()) > 7 or links["copy-71"] < 5:
            raise BeamAssertException(f"links per article {links}")

    with streaming_pipeline() as p:
        reports = p | stream | FindLinks(options, report_empty=True)
        assert_that(reports, bounded)


def test_expiry_is_in_whole_milliseconds_so_a_timer_never_re_arms_itself():
    from tollwatch.transforms.duplicates.streaming import expiry_time
    held = Timestamp(micros=1_795_279_165_376_934)
    expiry = expiry_time(held, Duration(seconds=2 * 24 * HOUR))
    assert expiry.micros % 1000 == 0 and expiry >= held + Duration(seconds=2 * 24 * HOUR)
    # A timer that fires at the (truncated) expiry finds the entry expired.
    assert not expiry_time(held, Duration(seconds=2 * 24 * HOUR)) > expiry


def test_a_stream_started_on_an_output_folder_marks_a_copy_of_a_story_written_before(tmp_path):
    # OUT holds a canonical written an hour before the (re)start, in a story of its own id; the
    # restarted stream reads a copy of it and a story of its own. The copy links to the stored
    # canonical (its copy_of and cluster); the stored one is never emitted; the new canonical's
    # signature is kept for the state, the copy's is not.
    import pyarrow.parquet as pq

    from tollwatch.schemas.arrow import to_arrow_table
    from tollwatch.schemas.duplicates import Signature
    from tollwatch.transforms.duplicates.settings import TTL
    from tollwatch.transforms.duplicates.state import stored_seeds

    now = T0 + 10 * HOUR
    stored = article("stored", seed("000"), 8, ingested_at=Timestamp(now - HOUR),
                     story_id="story-1")
    for table, record_type, record in (
            ("articles", Article, stored),
            ("_state/signatures", Signature,
             signature_of(stored, MinHasher())._replace(story_id="story-1"))):
        folder = tmp_path / table / "published_date=2025-03-08"
        folder.mkdir(parents=True)
        pq.write_table(to_arrow_table([record], record_type), folder / "part-x-00000-of-00001.parquet")
    copy = article("copy", seed("000") + "\n\nRead more: other stories.", 9,
                   ingested_at=Timestamp(now + 60))
    other = article("other", seed("001"), 9.5, ingested_at=Timestamp(now + 120))
    stream = (TestStream().advance_watermark_to(Timestamp(now))
              .add_elements([TimestampedValue(copy, copy.published_at)])
              .advance_watermark_to(Timestamp(now + 90))
              .add_elements([TimestampedValue(other, other.published_at)])
              .advance_watermark_to_infinity())
    with streaming_pipeline() as p:
        mark = MarkNearDuplicates(seeds=stored_seeds(str(tmp_path), TTL, Timestamp(now)))
        marked = p | stream | mark
        assert_that(marked | beam.Map(marks), equal_to([
            ("copy", "near", "stored", "story-1", False),
            ("other", None, None, "other", True)]))
        assert_that(mark.signatures | beam.Map(lambda s: (s.doc_id, s.story_id)),
                    equal_to([("other", "other")]), label="KeptSignatures")
