"""Pure-function tests of near-duplicate detection (no Beam pipeline): hashing, MinHash, LSH,
confirmation on the shingle sets, canonical choice and clustering, on edited copies of a real wire
story, the project's seed articles and the shared corpora."""

from __future__ import annotations

import csv
import json
import os
import random
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from apache_beam.coders import RowCoder
from apache_beam.utils.timestamp import Duration, Timestamp

from support import CORPORA, SEEDS, SHARED, needs_shared, seed
from tollwatch.schemas.duplicates import Assignment, DocRef, Link, Signature
from tollwatch.transforms.duplicates.candidates import candidate_pairs
from tollwatch.transforms.duplicates.lsh import (
    band_hashes, band_keys, band_of, first_shared_band, lsh_error, lsh_params, scurve)
from tollwatch.transforms.duplicates.minhash import jaccard_estimate, MinHasher
from tollwatch.transforms.duplicates.settings import (
    BANDS, CONTAINMENT, MAX_PARTNERS, MIN_SHARED, MIN_SHINGLES, near_options, NUM_PERM,
    SKETCH_SIZE, THRESHOLD)
from tollwatch.transforms.duplicates.similarity import (
    compare, make_signature, near_similarity, Overlap, overlap, signature_of)
from tollwatch.transforms.duplicates.stories import (
    apply_assignment, assign_on_arrival, choose_canonical, resolve_clusters, star_clusters)
from tollwatch.transforms.duplicates.streaming import MarkNearDuplicates
from tollwatch.transforms.duplicates.shingles import fmix64, shingles, token_hashes, word_hashes
from tollwatch.transforms.text import shingle_fold, shingle_fold_bytes, shingle_words
from tollwatch.transforms.duplicates import streaming





def sim(a: str, b: str) -> Overlap:
    sa, sb = shingles(a), shingles(b)
    return overlap(sa, sa.size, sb, sb.size)


def is_near(a: str, b: str):
    return near_similarity(sim(a, b))


def paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


BOILERPLATE = (
    "Sign up for our morning briefing to get the day's most important stories delivered to your "
    "inbox. We respect your privacy and you can unsubscribe at any time. Our journalism relies on "
    "readers like you: support independent reporting with a subscription, from only one euro for the "
    "first month, cancel any time, no questions asked, and share this article with your friends.")


# ---- normalisation, hashing ----------------------------------------------------------------------
def test_normalize_ignores_case_punctuation_quotes_and_spacing():
    assert shingle_words("Assad’s  forces—“killed”\n\n340!") == shingle_words('assad\'s forces - "KILLED" 340')
    assert shingle_words("Ｆｕｌｌ－width") == ["full", "width"]  # NFKC
    assert shingle_words("inter\u00adnational") == ["international"]  # soft hyphen removed
    assert shingle_fold("a\u00a0b\tc\u2003d") == "a b c d"
    assert shingle_words("") == [] and shingle_words(" ...  ") == []


def test_token_hashes_are_stable_and_positional_independent():
    first = token_hashes(["syria", "observatory", "syria"])
    assert first.dtype == np.uint64 and first.size == 3
    assert first[0] == first[2] != first[1]
    assert token_hashes(["observatory"])[0] == first[1]
    # A fixed value: a change here changes every signature held in state and every stored id.
    assert int(token_hashes(["syria"])[0]) == int(fmix64(np.array(
        [sum(b * pow(0x100000001B3, j, 1 << 64) for j, b in enumerate(b"syria")) % (1 << 64)],
        dtype=np.uint64))[0])
    long_word = "x" * 300
    assert token_hashes([long_word])[0] != token_hashes([long_word + "y"])[0]
    assert token_hashes(["é"])[0] != token_hashes(["e"])[0]


def test_word_hashes_equal_token_hashes_of_the_split_words():
    text = seed("002")
    assert np.array_equal(word_hashes(shingle_fold_bytes(text)),
                          token_hashes(shingle_words(text)))


def test_word_hashes_find_every_word_edge():
    # Words at the very start and end, one-byte words, runs of spaces, no word at all: each word's
    # hash is its own polynomial, avalanched.
    def reference(word: bytes) -> int:
        h = sum(b * pow(0x100000001B3, j, 1 << 64) for j, b in enumerate(word)) % (1 << 64)
        return int(fmix64(np.array([h], dtype=np.uint64))[0])

    for data in (b"a", b"ab cd", b" a", b"a ", b"  x  yy   zzz  ", b"   ", b"a b c d e", "é ü".encode()):
        expected = [reference(w) for w in data.split(b" ") if w]
        assert word_hashes(data).tolist() == expected, data


def test_shingles_sorted_distinct_and_blind_to_layout():
    text = seed("000")
    sh = shingles(text)
    assert sh.dtype == np.uint32 and np.all(np.diff(sh.astype(np.int64)) > 0)
    assert len(shingle_words(text)) - 4 - sh.size < 10  # few repeated 5-grams in a news story
    relaid = " ".join(paragraphs(text)).replace(". ", ".\n")
    assert np.array_equal(shingles(relaid), sh)
    assert shingles("").size == 0
    assert shingles("two words").size == 1


# ---- MinHash ------------------------------------------------------------------------------------
def test_minhasher_is_deterministic_and_seeded():
    sh = shingles(seed("000"))
    a, b = MinHasher(64, seed=1), MinHasher(64, seed=1)
    assert np.array_equal(a.signature(sh), b.signature(sh))
    assert not np.array_equal(a.signature(sh), MinHasher(64, seed=2).signature(sh))
    empty = a.signature(np.empty(0, dtype=np.uint32))
    assert np.all(empty == np.uint32(0xFFFFFFFF))
    with pytest.raises(ValueError):
        MinHasher(0)
    with pytest.raises(ValueError):
        MinHasher(64, seed="1")


def test_signature_of_long_text_is_chunk_independent():
    values = np.sort(np.random.default_rng(3).choice(2**32, 10_000, replace=False)).astype(np.uint32)
    hasher = MinHasher(40)
    expected = (hasher._a[:, None] * values[None, :] + hasher._b[:, None]).min(axis=1)
    assert np.array_equal(hasher.signature(values), expected)


def test_identical_texts_estimate_one():
    hasher = MinHasher()
    sig = hasher.signature(shingles(seed("000")))
    assert jaccard_estimate(sig, sig) == 1.0
    with pytest.raises(ValueError):
        jaccard_estimate(sig, sig[:10])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(common=st.integers(0, 600), only_a=st.integers(0, 600), only_b=st.integers(0, 600),
       rng_seed=st.integers(0, 2**32 - 1))
def test_jaccard_estimate_within_tolerance_of_exact(common, only_a, only_b, rng_seed):
    if common + only_a == 0 or common + only_b == 0:
        return
    rng = np.random.default_rng(rng_seed)
    pool = rng.choice(2**32, common + only_a + only_b, replace=False).astype(np.uint32)
    a = np.sort(pool[:common + only_a])
    b = np.sort(np.concatenate([pool[:common], pool[common + only_a:]]))
    exact = common / (common + only_a + only_b)
    hasher = MinHasher(256, seed=int(rng_seed % 1000))
    estimate = jaccard_estimate(hasher.signature(a), hasher.signature(b))
    # 5 standard errors of a binomial share of 256, plus slack for the 2-universal family.
    assert abs(estimate - exact) <= 5 * np.sqrt(exact * (1 - exact) / 256) + 0.02


def test_jaccard_estimate_is_unbiased_on_average():
    rng = np.random.default_rng(11)
    hasher = MinHasher(128)
    errors = []
    for _ in range(200):
        pool = rng.choice(2**32, 900, replace=False).astype(np.uint32)
        a, b = np.sort(pool[:600]), np.sort(pool[300:])
        errors.append(jaccard_estimate(hasher.signature(a), hasher.signature(b)) - 300 / 900)
    assert abs(np.mean(errors)) < 0.01


# ---- LSH ----------------------------------------------------------------------------------------
def test_band_keys_shape_and_sharing():
    hasher = MinHasher()
    sig = hasher.signature(shingles(seed("000")))
    keys = band_keys(sig)
    assert len(keys) == BANDS and all(len(k) == 10 for k in keys)
    assert [band_of(k) for k in keys] == list(range(BANDS))
    assert band_keys(sig.copy()) == keys
    other = hasher.signature(shingles(seed("001")))
    assert not set(keys) & set(band_keys(other))
    assert first_shared_band(sig, sig, BANDS, 2) == 0
    assert first_shared_band(sig, other, BANDS, 2) == -1
    changed = sig.copy()
    changed[:2] += 1
    assert first_shared_band(sig, changed, BANDS, 2) == 1
    with pytest.raises(ValueError):
        band_hashes(sig, 30, 2)


def test_default_banding_follows_from_the_s_curve():
    assert BANDS * (NUM_PERM // BANDS) == NUM_PERM
    assert lsh_params(1 / 3, NUM_PERM, (0.1, 0.9)) == (BANDS, 2)
    p = scurve(np.array([0.05, 1 / 3, 0.5, 0.6]), 20, 2)
    assert p[0] < 0.05 and p[1] >= 0.9 and p[2] > 0.99 and p[3] > 0.999  # the docstring's table
    fp, fn = lsh_error(1 / 3, 20, 2)
    assert fp == pytest.approx(0.144, abs=0.002) and fn == pytest.approx(0.005, abs=0.001)


# ---- confirmation ---------------------------------------------------------------------------------
def test_overlap_exact_and_bottom_k_estimate():
    rng = np.random.default_rng(5)
    pool = rng.choice(2**32, 5000, replace=False).astype(np.uint32)
    a, b = np.sort(pool[:3000]), np.sort(pool[1000:4000])  # J = 2000 / 4000, containment 2/3
    exact = overlap(a, a.size, b, b.size)
    assert exact.exact and exact.jaccard == 0.5 and exact.shared == 2000
    assert exact.containment == pytest.approx(2 / 3)
    estimate = overlap(a[:512], a.size, b[:512], b.size)
    assert not estimate.exact
    assert abs(estimate.jaccard - 0.5) < 0.08
    assert abs(estimate.shared - 2000) < 300
    assert overlap(a, 0, b, b.size).jaccard == 0.0


def test_identical_copy_is_one():
    wire = seed("000")
    assert sim(wire, wire).jaccard == 1.0
    assert is_near(wire, wire) == 1.0


@pytest.mark.parametrize("edit", [
    "trimmed", "retitled", "reparagraphed", "intro_added", "paragraph_added", "typos",
    "figure_updated", "dateline_and_byline"])
def test_edited_copies_link(edit):
    wire = seed("000")
    paras = paragraphs(wire)
    if edit == "trimmed":
        copy = "\n\n".join(paras[:int(len(paras) * 0.65)])
    elif edit == "retitled":
        copy = "Syria: hundreds of Alawite civilians killed, monitor says\n\n" + wire
    elif edit == "reparagraphed":
        copy = "\n".join(s for p in paras for s in p.split(". "))
    elif edit == "intro_added":
        copy = ("DAMASCUS, March 8 - The following story was first published by our partners at "
                "Reuters and has been lightly edited for our readers in the region.\n\n" + wire)
    elif edit == "paragraph_added":
        copy = "\n\n".join(paras[:5] + [BOILERPLATE] + paras[5:])
    elif edit == "typos":
        words = wire.split(" ")
        copy = " ".join(w[:-1] if i % 25 == 7 and len(w) > 3 else w for i, w in enumerate(words))
    elif edit == "figure_updated":
        copy = wire.replace("more than 340", "more than 500").replace("two days", "three days")
    else:
        copy = "By Timour Azhari and Suleiman Al-Khalidi\n\nBEIRUT/AMMAN (Reuters) - " + wire
    similarity = is_near(copy, wire)
    assert similarity is not None, (edit, sim(copy, wire))
    assert 0.5 <= similarity <= 1.0


def test_embedded_copy_links_by_containment():
    wire = paragraphs(seed("000"))
    piece = paragraphs(seed("002"))
    # 90% of the wire story inside a piece about twice its length.
    embedded = "\n\n".join(piece[:8] + wire[:int(len(wire) * 0.9)] + piece[8:])
    ov = sim(embedded, "\n\n".join(wire))
    assert ov.jaccard < THRESHOLD  # Jaccard alone would miss it
    assert ov.containment > 0.85 and ov.shared > MIN_SHARED
    assert near_similarity(ov) == ov.containment


def test_shared_boilerplate_paragraph_does_not_link():
    a = seed("000") + "\n\n" + BOILERPLATE
    b = seed("001") + "\n\n" + BOILERPLATE
    assert is_near(a, b) is None
    # Nor a short item that is mostly the same boilerplate: the shared part is one paragraph,
    # fewer than MIN_SHARED shingles, even though it is most of the short item.
    short = "Ceasefire talks resume in Doha on Monday, officials said.\n\n" + BOILERPLATE
    ov = sim(short, a)
    assert ov.containment > CONTAINMENT and ov.shared < MIN_SHARED
    assert near_similarity(ov) is None


@needs_shared
def test_seed_gold_relations():
    gold = json.loads((SHARED / "gold" / "seed_dedup.json").read_text())
    for pair in gold["not_duplicates"]:  # 001 vs 002: same claims, different copy
        a, b = seed(pair["a"][:3]), seed(pair["b"][:3])
        assert is_near(a, b) is None
        assert sim(a, b).jaccard < 0.05
    for pair in gold["pairs"]:  # 000 vs 004: a rewrite, invisible to shingles
        assert pair["relation"] == "rewrite"
        ov = sim(seed(pair["a"][:3]), seed(pair["b"][:3]))
        assert ov.jaccard < 0.01 and near_similarity(ov) is None


def test_independent_reports_of_one_event_do_not_link():
    pairs = CORPORA / "dedup" / "html_story_pairs.tsv"
    if not pairs.exists():
        pytest.skip("corpora not available")
    rows = list(csv.DictReader(pairs.open(encoding="utf-8"), delimiter="\t"))
    checked = 0
    for row in rows:
        texts = []
        for name in (row["doc_a"], row["doc_b"]):
            expected = CORPORA / name.replace(".html", ".expected.txt")
            texts.append(expected.read_text(encoding="utf-8"))
        ov = sim(*texts)
        assert near_similarity(ov) is None, row
        assert ov.jaccard == pytest.approx(float(row["shingle5_jaccard"]), abs=0.02)
        checked += 1
    assert checked == len(rows) > 20


def test_semeval_wire_copy_links_and_other_pairs_do_not():
    folder = CORPORA / "dedup" / "semeval2022_task8"
    if not folder.exists():
        pytest.skip("corpora not available")
    for row in csv.DictReader((folder / "sample_pairs.csv").open(encoding="utf-8")):
        a, b = (json.loads((folder / "sample_articles" / f"{row[k]}.json").read_text())["text"]
                for k in ("id1", "id2"))
        similarity = is_near(a, b)
        if float(row["shingle5_containment"]) > 0.9:  # the AP wire story and its shorter copy
            assert similarity is not None and similarity > 0.9
        else:
            assert similarity is None, row["pair_id"]


def test_hard_negative_same_template_different_story():
    # Same outlet template and stock phrases, different events and numbers.
    template = ("{city}, {day} - At least {n} people were killed and dozens wounded when {what} "
                "in {city} on {day}, officials said. Rescue workers were searching the rubble for "
                "survivors late into the night. The death toll could rise, a local official told "
                "reporters, speaking on condition of anonymity because he was not authorised to "
                "speak to the media. {extra}")
    a = template.format(city="Homs", day="Monday", n=12, what="a car bomb exploded near a market",
                        extra=seed("001"))
    b = template.format(city="Idlib", day="Friday", n=30, what="an air strike hit a school",
                        extra=seed("002"))
    assert is_near(a, b) is None


# ---- canonical and clusters -----------------------------------------------------------------------
def ref(doc_id, hour, length=500, cluster=None):
    return DocRef(doc_id, Timestamp(hour * 3600), length, cluster)


def link(a, b, similarity=0.8):
    return Link(a, b, similarity, similarity, similarity)


def test_choose_canonical_earliest_then_longest_then_doc_id():
    early, late = ref("b", 1), ref("a", 2)
    assert choose_canonical(early, late) is early and choose_canonical(late, early) is early
    short, long = ref("a", 1, 300), ref("b", 1, 900)
    assert choose_canonical(short, long) is long and choose_canonical(long, short) is long
    x, y = ref("x", 1), ref("y", 1)
    assert choose_canonical(y, x) is x and choose_canonical(x, y) is x


def contained(small, large, containment=0.9, jaccard=0.3):
    "A link by containment: most of `small` is inside `large`, their Jaccard is low."
    return Link(small, large, jaccard, containment, containment)


def test_resolve_clusters_around_the_canonical_and_deterministic():
    wire, c1, c2, c3 = ref("wire", 0), ref("c1", 1), ref("c2", 2), ref("c3", 3)
    links = [link(c1, wire, 0.9), link(c2, wire, 0.7), link(c2, c1, 0.75), link(c3, c2, 0.6),
             link(c3, wire, 0.55)]
    expected = resolve_clusters(links)
    assert expected["wire"].copy_of is None and expected["wire"].story_id == "wire"
    assert {d: (a.copy_of, a.similarity) for d, a in expected.items() if a.copy_of} == {
        "c1": ("wire", 0.9), "c2": ("wire", 0.7), "c3": ("wire", 0.55)}
    for _ in range(5):
        shuffled = [Link(l.other, l.doc, *l[2:]) if random.random() < 0.5 else l for l in links]
        random.shuffle(shuffled)
        assert resolve_clusters(shuffled) == expected


def test_resolve_clusters_chains_copies_compared_only_with_copies():
    # A page embedding a trimmed copy was linked to that copy only, never to the wire: one
    # cluster all the same.
    wire, trimmed = ref("wire", 0, 900), ref("trimmed", 1, 600)
    intro, page = ref("intro", 1, 1000), ref("page", 2, 2500)
    out = resolve_clusters([link(trimmed, wire, 0.66), contained(wire, intro, 0.95),
                            contained(trimmed, page, 0.85)])
    assert {d: a.copy_of for d, a in out.items()} == {
        "wire": None, "trimmed": "wire", "page": "wire", "intro": "wire"}
    assert len({a.story_id for a in out.values()}) == 1
    assert out["page"].similarity == 0.85  # not compared with the wire: the link that joined it
    assert out["intro"].similarity == 0.95


def test_resolve_clusters_does_not_chain_two_stories_through_a_round_up():
    story_a, story_b, roundup = ref("a", 0), ref("b", 1), ref("roundup", 2, 2000)
    copy_b = ref("copy_b", 3, 450)
    out = resolve_clusters([contained(story_a, roundup, 0.95), contained(story_b, roundup, 0.9),
                            link(copy_b, story_b, 0.8)])
    assert out["a"].copy_of is None and out["b"].copy_of is None
    assert out["roundup"].copy_of == "a" and out["copy_b"].copy_of == "b"
    assert out["a"].story_id != out["b"].story_id


def test_resolve_clusters_joins_a_trimmed_copy_before_its_container():
    # trimmed2 is inside trimmed1, both inside the original: the containers are taken shortest
    # first, so the original sees one cluster, not two.
    original, t1, t2 = ref("o", 0, 1000), ref("t1", 1, 700), ref("t2", 1, 500)
    other = ref("x", 0, 400)
    out = resolve_clusters([contained(t2, t1), contained(t1, original), contained(t2, original),
                            contained(other, ref("y", 5, 3000))])
    assert out["t1"].copy_of == "o" and out["t2"].copy_of == "o"
    assert out["y"].copy_of == "x"


def test_resolve_clusters_keeps_the_exact_stage_cluster_id():
    canonical = ref("w", 0, cluster="exact-cluster-7")
    out = resolve_clusters([link(ref("c", 1), canonical)])
    assert out["c"].story_id == out["w"].story_id == "exact-cluster-7"


def test_star_clusters_do_not_chain():
    a, b, c = ref("a", 0), ref("b", 1), ref("c", 2)
    out = star_clusters([link(b, a), link(c, b)])
    assert out["b"].copy_of == "a" and out["c"].copy_of is None


def test_assign_on_arrival():
    new, first, copy_of_first = ref("new", 5), ref("first", 0), ref("copy", 1)
    alone = assign_on_arrival(new, [], {})
    assert alone.copy_of is None and alone.story_id == "new"
    assigned = assign_on_arrival(new, [link(new, copy_of_first), link(new, first, 0.6)],
                                 {"copy": "first"})
    assert assigned.copy_of == "first" and assigned.similarity == 0.6
    # Linked only to a copy: joins that copy's cluster, with the copy's link as its figure.
    chained = assign_on_arrival(new, [link(new, copy_of_first, 0.7)], {"copy": "first"},
                                {"copy": "cluster-f"})
    assert (chained.copy_of, chained.story_id, chained.similarity) == ("first", "cluster-f", 0.7)


def test_apply_assignment_sets_the_fields():
    from tollwatch.schemas.records import Article
    article = Article("c", "u", None, None, None, Timestamp(0), "metadata", Timestamp(0), "t", "en",
                      [], 0, None, None, None, None, True)
    copy = apply_assignment(article, Assignment("c", "w", "w", 0.812345))
    assert (copy.copy_kind, copy.copy_of, copy.story_id, copy.copy_similarity,
            copy.is_canonical) == ("near", "w", "w", 0.8123, False)
    alone = apply_assignment(article, None)
    assert (alone.copy_kind, alone.copy_of, alone.story_id, alone.is_canonical) == (
        None, None, "c", True)


# ---- records and options --------------------------------------------------------------------------
def test_signature_is_small_and_round_trips_through_row_coder():
    text = seed("002")
    sig = make_signature("d2", Timestamp(1741478400), text, MinHasher(), story_id=None)
    assert sig.n_shingles > SKETCH_SIZE and len(sig.sketch) == 4 * SKETCH_SIZE
    assert len(sig.minhash) == 4 * NUM_PERM
    assert len(sig.sketch) + len(sig.minhash) < len(text.encode("utf-8"))
    coder = RowCoder.from_type_hint(Signature, None)
    assert coder.decode(coder.encode(sig)) == sig


@pytest.mark.parametrize("kwargs", [
    dict(threshold=0), dict(threshold=1.5), dict(containment=-0.1), dict(threshold="0.5"),
    dict(min_shared=0), dict(shingle_size=0), dict(num_perm=0), dict(bands=0),
    dict(bands=50), dict(bands=20, rows=3), dict(sketch_size=0), dict(ttl=0),
    dict(ttl=-5), dict(ttl="2 days"), dict(max_bucket=1), dict(seed=1.5)])
def test_bad_options_fail_at_construction(kwargs):
    with pytest.raises(ValueError):
        MarkNearDuplicates(**kwargs)


def test_options_accept_timedelta_and_seconds():
    import datetime
    assert near_options(ttl=datetime.timedelta(hours=1)).ttl == Duration(seconds=3600)
    assert near_options(ttl=60).ttl == Duration(seconds=60)
    assert near_options().rows == NUM_PERM // BANDS


def _bucket_candidates(band_key: bytes, signatures, options) -> list:
    """The candidate pairs (later, earlier) among the signatures of one band key, pair by pair: every
    pair whose first shared band is this one, each article paired with at most the
    ``options.window`` before it in (publication time, doc_id) order -- what the streaming
    ``BucketFn`` compares when everything arrives before anything expires, and the reference of
    ``candidate_pairs``."""
    band = band_of(band_key)
    unique = {sig.doc_id: sig for sig in signatures}
    ordered = sorted(unique.values(), key=lambda sig: (sig.published_at, sig.doc_id))
    minhashes = [np.frombuffer(sig.minhash, dtype="<u4") for sig in ordered]
    return [(sig, ordered[i]) for j, sig in enumerate(ordered)
            for i in range(max(0, j - options.window), j)
            if first_shared_band(minhashes[j], minhashes[i], options.bands, options.rows) == band]


def _bucket_candidates_everywhere(signatures, options):
    "The per-bucket reference: every band key's bucket_candidates, in (band, hash) order."
    buckets: dict[bytes, list] = {}
    for sig in signatures:
        for key in band_keys(np.frombuffer(sig.minhash, dtype="<u4"), options.bands, options.rows):
            buckets.setdefault(key, []).append(sig)
    return [(a.doc_id, b.doc_id) for key in sorted(buckets) if len(buckets[key]) > 1
            for a, b in _bucket_candidates(key, buckets[key], options)]


@pytest.mark.parametrize("case", range(12))
def test_candidate_pairs_are_bucket_candidates_in_their_order(case):
    rng = random.Random(case)
    # Few distinct MinHash values, so bands collide often and pairs share several bands; times
    # with ties, a short TTL and small buckets, so every filter of bucket_candidates is exercised.
    options = near_options(num_perm=12, bands=4, ttl=(50, 400, 10_000)[case % 3],
                                 max_bucket=(2, 3, 50)[case // 3 % 3])
    n = rng.randint(30, 60)
    values = 2 + case % 2
    sigs = [Signature(f"d{rng.randrange(10**6):06d}-{k}", Timestamp(rng.randrange(0, 900)), 100, 50,
                            np.array([rng.randrange(values) for _ in range(12)], dtype="<u4").tobytes(),
                            b"", None) for k in range(n)]
    expected = _bucket_candidates_everywhere(sigs, options)
    pairs = candidate_pairs(
        np.stack([np.frombuffer(s.minhash, dtype="<u4") for s in sigs]),
        np.array([s.published_at.micros for s in sigs]), [s.doc_id for s in sigs], options)
    assert [(sigs[a].doc_id, sigs[b].doc_id) for a, b in pairs] == expected
    assert expected  # the case is not vacuous


def test_candidate_pairs_of_fewer_than_two():
    options = near_options()
    assert candidate_pairs(np.zeros((1, options.num_perm), dtype="<u4"), np.array([0]), ["a"],
                                 options).shape == (0, 2)


# ---- A template's items (issue 17, item 8): bounded work per bucket and per article ----------------
_BULLETIN = ("The district emergency office reports that {n} people were hurt in {place} when a "
             "storm brought down power lines late on Monday. Repair crews are working through the "
             "night and residents should stay away from fallen cables until the area is declared "
             "safe. A shelter is open at the primary school.")


def _bulletins(n: int) -> list[Signature]:
    "n items of one bulletin with the place and the figure changed, one minute apart."
    rng = random.Random(8)
    hasher = MinHasher()
    syllables = ("ba", "lin", "tor", "mes", "ko", "ra", "vel", "un")
    out = []
    for i in range(n):
        place = "".join(rng.choice(syllables) for _ in range(3)).capitalize()
        text = _BULLETIN.format(n=rng.randint(2, 300), place=place)
        out.append(make_signature(f"b{i:05d}", Timestamp(60 * i), text, hasher))
    return out


def _pairs(sigs: list[Signature], options, stats=None) -> np.ndarray:
    return candidate_pairs(np.stack([np.frombuffer(s.minhash, dtype="<u4") for s in sigs]),
                                 np.array([s.published_at.micros for s in sigs]),
                                 [s.doc_id for s in sigs], options,
                                 *(() if stats is None else (stats,)))


def test_a_templates_candidates_grow_linearly_and_are_counted():
    options = near_options()
    small, large = _bulletins(300), _bulletins(1200)
    few, many = _pairs(small, options), _pairs(large, options)
    # Before the bound every item was paired with up to 1,000 before it: 4x the items gave ~16x
    # the pairs (each held until confirmed).
    assert len(many) <= 4.5 * len(few)
    per_article = np.bincount(many[:, 0], minlength=len(large))
    assert per_article.max() <= options.max_candidates
    stats: dict = {}
    assert np.array_equal(_pairs(large, options, stats), many)
    assert stats["cut"] > len(large) // 2  # what was not compared is counted
    # The items still chain into one cluster, as when each was compared with all before it.
    links = [compare(large[a], large[b]) for a, b in many.tolist()]
    clusters = {a.story_id for a in resolve_clusters([x for x in links if x]).values()}
    assert len(clusters) == 1


def test_a_small_bucket_is_compared_pair_by_pair():
    "A story's copies (fewer than max_partners) are all compared, and nothing is counted as cut."
    sigs = _bulletins(MAX_PARTNERS)
    options = near_options()
    stats: dict = {}
    pairs = {tuple(p) for p in _pairs(sigs, options, stats).tolist()}
    everywhere = {tuple(sorted((a, b), reverse=True)) for a in range(len(sigs)) for b in range(a)
                  if first_shared_band(np.frombuffer(sigs[a].minhash, "<u4"),
                                       np.frombuffer(sigs[b].minhash, "<u4"), options.bands,
                                       options.rows) >= 0}
    assert pairs == everywhere and stats["cut"] == 0


class _Bag:
    def __init__(self):
        self.items = []

    def read(self):
        return list(self.items)

    def add(self, item):
        self.items.append(item)

    def clear(self):
        self.items = []


class _Timer:
    def set(self, _when):
        pass


def test_streaming_bucket_compares_an_arrival_with_its_latest_neighbours_only(monkeypatch):
    compared = []
    real = streaming.compare
    monkeypatch.setattr(streaming, "compare",
                        lambda a, b, *rule: compared.append(b.doc_id) or real(a, b, *rule))
    o = near_options()
    fn = streaming.BucketFn(o.threshold, o.containment, o.min_shared, o.bands, o.rows, o.ttl,
                             o.max_bucket, False, o.max_partners)
    sigs = _bulletins(200)
    same = b"\x00\x00" + b"\x00" * 8  # one band key for all: the worst case of a bucket
    held = _Bag()
    for sig in sigs:
        compared.clear()
        list(fn.process((same, sig), held_at=sig.published_at, held=held, expiry=_Timer()))
        assert len(compared) <= o.max_partners
    # The last arrival was offered its latest neighbours (those whose first shared band is 0).
    assert set(compared) <= {s.doc_id for s in sigs[-1 - o.max_partners:-1]}
    assert len(held.items) == 200  # the state bound (max_bucket) is unchanged


def test_an_article_too_short_to_compare_gets_no_outline():
    from tollwatch.schemas import Article
    fields = dict.fromkeys(Article._fields)
    fields.update(doc_id="s", published_at=Timestamp(0), text="Nine people were hurt in a storm. " * 2)
    short = signature_of(Article(**fields), MinHasher())
    assert short.n_shingles < MIN_SHINGLES and short.outline == b"" and not short.leads
    fields.update(text=_BULLETIN.format(n=12, place="Tarven"))
    assert signature_of(Article(**fields), MinHasher()).outline
