"""Is one article a copy of another? Confirmed on what each article's ``Signature`` keeps: the
shingle sets (exact while both articles have at most ``sketch_size`` distinct shingles, a bottom-k
estimate beyond) make a near copy if Jaccard >= ``threshold``, or if the shorter is contained in the
longer (containment >= ``containment``) with at least ``min_shared`` shingles in common -- more than
a long paragraph, so a shared boilerplate paragraph never links two stories; else the sentences'
alignment (``alignment.copy_kind``) finds a trimmed copy among page furniture, a write-through, a
rewrite or a translation."""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas.duplicates import DocRef, Link, Signature
from tollwatch.schemas.records import Article
from tollwatch.transforms.duplicates.alignment import (
    copy_kind, lead_keys, outline, pack_outline, unpack_outline)
from tollwatch.transforms.duplicates.minhash import MinHasher
from tollwatch.transforms.duplicates.settings import (
    CONTAINMENT, MIN_SHARED, MIN_SHINGLES, SHINGLE_SIZE, SKETCH_SIZE, THRESHOLD)
from tollwatch.transforms.duplicates.shingles import U32_MAX, as_u32, shingles


class Overlap(NamedTuple):
    """How much two shingle sets overlap."""

    jaccard: float
    # |A & B| / |A| for the smaller set A.
    containment: float
    # |A & B|, estimated when a sketch is truncated.
    shared: int
    # True when both sketches held their whole set, so the figures are exact.
    exact: bool


def _count_common(a: np.ndarray, b: np.ndarray) -> int:
    "Return |a & b| for sorted arrays of distinct values."
    if a.size == 0 or b.size == 0:
        return 0
    if a.size > b.size:
        a, b = b, a
    # A value past b's last lands on it ("clip"), which is smaller: not counted.
    return int(np.count_nonzero(b.take(b.searchsorted(a), mode="clip") == a))


def overlap(sketch_a, n_a: int, sketch_b, n_b: int) -> Overlap:
    """Return the Jaccard similarity and containment of two shingle sets from their sketches.

    A sketch is the sorted smallest hashes of a set (``n`` is the set's full size). When both sketches
    hold their whole set the figures are exact; otherwise they are the bottom-k estimate: below the
    smaller of the two sketches' largest hashes both sets are fully known, and that random sample of
    the union gives the Jaccard, from which |A & B| = J (|A| + |B|) / (1 + J).
    """
    a, b = as_u32(sketch_a), as_u32(sketch_b)
    if n_a <= 0 or n_b <= 0:
        return Overlap(0.0, 0.0, 0, True)
    exact = a.size >= n_a and b.size >= n_b
    if exact:
        shared = _count_common(a, b)
        jaccard = shared / (n_a + n_b - shared)
    else:
        # Only the sketch that reaches past the other's limit is cut.
        limit_a = a[-1] if a.size < n_a else U32_MAX
        limit_b = b[-1] if b.size < n_b else U32_MAX
        if limit_a <= limit_b:
            b = b[:b.searchsorted(limit_a, side="right")]
        else:
            a = a[:a.searchsorted(limit_b, side="right")]
        common = _count_common(a, b)
        union = a.size + b.size - common
        jaccard = common / union if union else 0.0
        shared = int(round(jaccard * (n_a + n_b) / (1.0 + jaccard)))
    return Overlap(float(jaccard), min(1.0, shared / min(n_a, n_b)), shared, exact)


def near_similarity(ov: Overlap, threshold: float = THRESHOLD, containment: float = CONTAINMENT,
                    min_shared: int = MIN_SHARED) -> Optional[float]:
    """Return the figure that makes the pair near duplicates -- the Jaccard if it reaches
    ``threshold``, else the containment if the shorter text is contained in the longer with at least
    ``min_shared`` shingles in common -- or None if the pair is not near."""
    if ov.jaccard >= threshold:
        return ov.jaccard
    if ov.containment >= containment and ov.shared >= min_shared:
        return ov.containment
    return None


def make_signature(doc_id: str, published_at: Timestamp, text: str, hasher: MinHasher,
                   shingle_size: int = SHINGLE_SIZE, sketch_size: int = SKETCH_SIZE,
                   story_id: Optional[str] = None) -> Signature:
    "Return the Signature of one text."
    sh = shingles(text, shingle_size)
    return Signature(
        doc_id=doc_id, published_at=published_at, length=len(text), n_shingles=int(sh.size),
        minhash=hasher.signature(sh).astype("<u4").tobytes(),
        sketch=sh[:sketch_size].astype("<u4").tobytes(), story_id=story_id,
        figures=[], leads=[])  # lists, as the row coder gives them back


def with_outline(sig: Signature, text: str) -> Signature:
    """The signature with the text's sentence outline (alignment.outline): its figures, the packed
    outline and the keys of its lead sentences."""
    told = outline(text)
    return sig._replace(figures=list(told.figures), outline=pack_outline(told),
                        leads=list(lead_keys(told)))


def signature_of(article: Article, hasher: MinHasher, shingle_size: int = SHINGLE_SIZE,
                 sketch_size: int = SKETCH_SIZE) -> Signature:
    """Return the Signature of an article; one too short to be compared (fewer than
    ``MIN_SHINGLES`` shingles) without the outline, which nothing would read."""
    sig = make_signature(article.doc_id, article.published_at, article.text or "", hasher,
                         shingle_size, sketch_size, article.story_id)
    if sig.n_shingles < MIN_SHINGLES:
        return sig
    return with_outline(sig, article.text or "")


def ref(sig: Signature) -> DocRef:
    "Return the cluster-member view of a signature."
    return DocRef(sig.doc_id, sig.published_at, sig.length, sig.story_id)


def compare(a: Signature, b: Signature, threshold: float = THRESHOLD,
            containment: float = CONTAINMENT, min_shared: int = MIN_SHARED) -> Optional[Link]:
    """Return the Link between two signatures if one is a copy of the other, else None: near
    duplicates by their shingles (``near_similarity``), else by how their sentences align
    (``alignment.copy_kind``: a trimmed copy among furniture, a write-through, a rewrite, a
    translation)."""
    ov = overlap(a.sketch, a.n_shingles, b.sketch, b.n_shingles)
    similarity = near_similarity(ov, threshold, containment, min_shared)
    if similarity is not None:
        return Link(ref(a), ref(b), ov.jaccard, ov.containment, similarity)
    if not a.outline or not b.outline:
        return None
    found = copy_kind(unpack_outline(a.outline), unpack_outline(b.outline), ov.containment)
    if found is None:
        return None
    return Link(ref(a), ref(b), ov.jaccard, ov.containment, found[1], found[0])
