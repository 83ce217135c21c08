"""The records of duplicate detection: what it keeps of an article to compare it, what it decides,
and what crosses the runner or is stored on the way (one definition each; RowCoder registered).

| record | crosses the runner / stored |
| --- | --- |
| Signature | staging `.sketches`; canonical articles' in `OUT/_state/signatures` (`STATE_TABLES`); |
| | streaming per-band state |
| StoryTraits | inside ArticleDigest |
| ArticleDigest | staging `.digests` (batch) |
| Verdict | staging `.verdicts` (batch) |
| DocRef, Link, BandReport, Assignment | streaming ``MarkNearDuplicates`` between its stages |
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas.records import register_row_coder


class Signature(NamedTuple):
    """What near-duplicate detection keeps of an article: its identity, when it was published, its
    length and two small sketches of its shingle set -- never its text."""

    doc_id: str
    published_at: Timestamp
    # Characters in the text: the canonical order's tie-breaker (stories.canonical_key).
    length: int
    # Distinct shingles in the whole text (the sketch may hold fewer).
    n_shingles: int
    # num_perm MinHash values, little-endian uint32.
    minhash: bytes
    # The smallest `sketch_size` shingle hashes, sorted, little-endian uint32.
    sketch: bytes
    # The article's story_id as it arrived (set by the exact stage), if any.
    story_id: Optional[str]
    # The text's distinct figures in order (alignment.Outline.figures): candidates of rewrites.
    figures: Sequence[int] = ()
    # alignment.pack_outline of the text: what confirms a copy that shares few shingles.
    outline: bytes = b""
    # alignment.lead_keys: a hash of each of the first sentences, candidates of short copies.
    leads: Sequence[int] = ()


class DocRef(NamedTuple):
    """An article as a member of a cluster."""

    doc_id: str
    published_at: Timestamp
    length: int
    story_id: Optional[str]


class Link(NamedTuple):
    """A confirmed near-duplicate pair: ``doc`` was compared with the earlier-arrived ``other``."""

    doc: DocRef
    other: DocRef
    jaccard: float
    containment: float
    # The figure that linked them (see near_similarity, alignment.copy_kind).
    similarity: float
    # 'near' (shared wording), 'aligned' (a copy found by its sentences: trimmed among furniture,
    # a write-through) or 'rewrite' (the same story retold, or translated).
    kind: str = "near"


class BandReport(NamedTuple):
    """What one band key found for one article (streaming sends one per band, even if empty)."""

    doc_id: str
    band: int
    # Signatures the band key held once this article was added: the state size, for monitoring.
    held: int
    links: Sequence[Link]


class Assignment(NamedTuple):
    """An article's place in its cluster."""

    doc_id: str
    story_id: str
    # The canonical's doc_id for a copy; None for a canonical.
    copy_of: Optional[str]
    similarity: Optional[float]


class StoryTraits(NamedTuple):
    """What a rewrite keeps of its original: figures and credits, and when it was published."""

    doc_id: str
    published_at: Timestamp
    dated: bool
    length: int
    story_id: Optional[str]
    figures: Sequence[int]
    credits: Sequence[str]


class ArticleDigest(NamedTuple):
    """What the batch duplicate decisions need of an article, instead of its text."""

    doc_id: str
    published_at: Timestamp
    # Characters in the text: the canonical's tie-breaker.
    length: int
    # extract.normalized_text_hash of the text: equal for exact copies.
    text_hash: str
    # None: not compared as a near copy (undated, or fewer than MIN_SHINGLES shingles). Its
    # sketch is empty when it waits in the staging files (the bulk of a signature: read only for
    # the articles that are candidates).
    signature: Optional[Signature]
    traits: StoryTraits
    # claims.figure_key of each of the article's claims.
    figures: Sequence[str]
    # The staging file that holds the article (see staging.py).
    staged: str
    # The duplicate fields, as the article arrives and as each step leaves them.
    story_id: Optional[str]
    copy_of: Optional[str]
    copy_kind: Optional[str]
    copy_similarity: Optional[float]
    is_canonical: bool


class Verdict(NamedTuple):
    """An article's duplicate fields, and for a copy the figures its origin states."""

    doc_id: str
    staged: str
    story_id: Optional[str]
    copy_of: Optional[str]
    copy_kind: Optional[str]
    copy_similarity: Optional[float]
    is_canonical: bool
    # None: the origin is not in this run or states no figure (its copies' claims stay copies).
    canonical_figures: Optional[Sequence[str]]


register_row_coder(Signature, DocRef, Link, BandReport, Assignment, StoryTraits, ArticleDigest, Verdict)
