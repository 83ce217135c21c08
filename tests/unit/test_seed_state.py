"""What a (re)started stream seeds its copy state with (duplicates/state.py: the canonical articles
OUT holds that arrived within the TTL) and which seeds a new article meets in a band
(duplicates/streaming.py, seeds_to_compare)."""

from __future__ import annotations

import pyarrow.parquet as pq
from apache_beam.utils.timestamp import Duration, Timestamp

from tollwatch.schemas import Article
from tollwatch.schemas.arrow import to_arrow_table
from tollwatch.schemas.duplicates import Signature
from tollwatch.transforms.duplicates.minhash import MinHasher
from tollwatch.transforms.duplicates.similarity import make_signature
from tollwatch.transforms.duplicates.settings import BANDS
from tollwatch.transforms.duplicates.state import StoredSeeds, canonical_arrivals, held_signatures
from tollwatch.transforms.duplicates.streaming import SeedIndex, expiry_time, seeds_to_compare

NOW = Timestamp(1_790_000_000)
HOUR, DAY = 3600, 86400
TTL = Duration(seconds=2 * DAY)
TEXT = "The river rose overnight and ten people died in the flood, officials said on {}."


def article(doc_id: str, ingested: Timestamp, published: Timestamp = None, copy_of: str = None,
            canonical: bool = True) -> Article:
    return Article(doc_id, f"/drop/{doc_id}.txt", None, None, None, published or ingested - HOUR,
                   "metadata", ingested, TEXT.format(doc_id), "en", [], 0, copy_of or doc_id,
                   copy_of, "near" if copy_of else None, 0.9 if copy_of else None, canonical)


def signature(doc_id: str, published: Timestamp) -> Signature:
    return make_signature(doc_id, published, TEXT.format(doc_id) * 4, MinHasher(), story_id=doc_id)


def write(folder, record_type, records, name="part-x-00000-of-00001.parquet") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(to_arrow_table(records, record_type), folder / name)


def test_the_canonicals_that_arrived_within_the_ttl_are_seeded_held_from_their_arrival(tmp_path):
    recent = article("recent", NOW - 3 * HOUR)
    # A scraper's page dated a year back, read an hour ago: held from its arrival, as the live
    # stream held it (at_arrival), not from its date.
    scraped = article("scraped", NOW - HOUR, published=NOW - 365 * DAY)
    # Dated ahead of when it was read: held from its date, as at_arrival holds it.
    ahead = article("ahead", NOW - 5 * HOUR, published=NOW - 2 * HOUR)
    old = article("old", NOW - 3 * DAY)  # past the TTL
    copy = article("copy", NOW - 2 * HOUR, copy_of="recent", canonical=False)
    # Canonical when first read, a copy in its latest version: its latest version decides.
    demoted = [article("demoted", NOW - 4 * HOUR),
               article("demoted", NOW - 3 * HOUR, copy_of="recent", canonical=False)]
    write(tmp_path / "articles" / "published_date=2026-09-21", Article,
          [recent, scraped, ahead, old, copy, *demoted])
    arrivals, counts = canonical_arrivals(str(tmp_path), TTL, NOW)
    assert arrivals == {"recent": NOW - 3 * HOUR, "scraped": NOW - HOUR, "ahead": NOW - 2 * HOUR}
    assert counts == {"canonical": 3, "left_out": 0}

    # Over the budget: the latest arrivals are kept, the rest counted.
    arrivals, counts = canonical_arrivals(str(tmp_path), TTL, NOW, max_seeded=2)
    assert set(arrivals) == {"scraped", "ahead"} and counts == {"canonical": 3, "left_out": 1}

    # Their stored signatures, each once, in whatever partition their date put them.
    state = tmp_path / "_state" / "signatures"
    write(state / "published_date=2025-09-21", Signature, [signature("scraped", NOW - 365 * DAY)])
    write(state / "published_date=2026-09-21", Signature,
          [signature(d, NOW - 4 * HOUR) for d in ("recent", "ahead", "old")])
    write(state / "published_date=2026-09-21", Signature, [signature("recent", NOW - 4 * HOUR)],
          name="part-y-00000-of-00001.parquet")
    held = sorted(held_signatures(str(tmp_path), canonical_arrivals(str(tmp_path), TTL, NOW)[0]))
    assert [(h.signature.doc_id, h.held_at) for h in sorted(held, key=lambda h: h.held_at)] == [
        ("recent", NOW - 3 * HOUR), ("ahead", NOW - 2 * HOUR), ("scraped", NOW - HOUR)]
    assert all(h.signature.story_id == h.signature.doc_id and len(h.signature.minhash) == 160
               for h in held)

    # What a worker loads (within the budget) and indexes: each seed under each of its band keys.
    held, left_out, summary = StoredSeeds(str(tmp_path), TTL, NOW, max_seeded=2)()
    assert sorted(h.signature.doc_id for h in held) == ["ahead", "scraped"] and left_out == 1
    assert summary.startswith("copy state seeded with 2 signatures of the 3 canonical"), summary
    index = SeedIndex(held, left_out, summary, BANDS, 2, TTL)
    assert sorted(index.by_id) == ["ahead", "scraped"]
    assert sum(len(v) for v in index.by_band.values()) == 2 * BANDS
    assert index.until == expiry_time(NOW - HOUR, TTL)
    index.release()
    assert not index.by_id and not index.by_band


def test_an_output_folder_without_articles_or_with_a_damaged_file_seeds_what_it_can(tmp_path):
    assert canonical_arrivals(str(tmp_path / "new"), TTL, NOW) == ({}, {"canonical": 0, "left_out": 0})
    write(tmp_path / "articles" / "published_date=2026-09-21", Article, [article("a", NOW - HOUR)])
    (tmp_path / "articles" / "published_date=2026-09-21" / "part-z-00000-of-00001.parquet"
     ).write_bytes(b"PAR1 not a footer")
    assert list(canonical_arrivals(str(tmp_path), TTL, NOW)[0]) == ["a"]
    assert list(held_signatures(str(tmp_path), {"a": NOW - HOUR})) == []  # no state kept


def test_a_new_article_meets_the_live_seeds_of_its_band_the_latest_first():
    micros = lambda t: t.micros  # noqa: E731
    entries = [(micros(NOW - 3 * DAY), "expired"), (micros(NOW - HOUR), "b"),
               (micros(NOW - 2 * HOUR), "a"), (micros(NOW - 30 * 60), "me"),
               (micros(NOW - 10 * 60), "edited"), (micros(NOW - 5 * 60), "c")]
    # Not itself, nor an article held anew (read again, compared by its new text), nor expired.
    assert seeds_to_compare(entries, "me", NOW, TTL, 32, {"edited"}) == ["a", "b", "c"]
    assert seeds_to_compare(entries, "me", NOW, TTL, 2, {"edited"}) == ["b", "c"]
    # Two days on, only what arrived within the TTL before the new article.
    assert seeds_to_compare(entries, "x", NOW + TTL - Duration(seconds=90 * 60), TTL, 32, set()) == ["b",
        "me", "edited", "c"]


class _Bag(list):
    read = list.copy
    add = list.append


class _Timer:
    def set(self, _when):
        pass


def test_a_bucket_links_an_arrival_to_a_seed_until_the_seeds_expire_then_lets_them_go():
    from tollwatch.transforms.duplicates.lsh import band_keys
    from tollwatch.transforms.duplicates.settings import near_options
    from tollwatch.transforms.duplicates.streaming import BucketFn, HeldSignature

    import numpy as np

    o = near_options()
    stored = HeldSignature(NOW - HOUR, signature("wire", NOW - 2 * HOUR))
    fn = BucketFn(o.threshold, o.containment, o.min_shared, o.bands, o.rows, o.ttl, o.max_bucket,
                  True, o.max_partners, seeds=lambda: ([stored], 0, "one seed"))
    fn.setup()
    copy = make_signature("copy", NOW, TEXT.format("wire") * 4 + " Read more.", MinHasher())
    key = band_keys(np.frombuffer(copy.minhash, dtype="<u4"), o.bands, o.rows)[0]
    (_, report), = fn.process((key, copy), held_at=NOW, held=_Bag(), expiry=_Timer())
    assert [link.other.doc_id for link in report.links] == ["wire"]
    # Two days on the seed has expired: nothing to link to, and the index is emptied.
    later = copy._replace(doc_id="later")
    (_, report), = fn.process((key, later), held_at=NOW + TTL, held=_Bag(), expiry=_Timer())
    assert report.links == []
    # Released, not only passed over: an arrival stamped before the expiry finds nothing now.
    (_, report), = fn.process((key, copy._replace(doc_id="stray")), held_at=NOW, held=_Bag(),
                              expiry=_Timer())
    assert report.links == []
