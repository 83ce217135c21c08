"""Near-duplicate articles: link every copy of a story (trimmed, retitled, re-paragraphed, with an
intro or a paragraph added, with typos, or embedded in a longer piece) to its canonical article, so a
repeated figure does not count as independent confirmation.

How (each step is a pure function below; ``MarkNearDuplicates`` at the bottom wires them):

1. ``shingles``: the text is normalised (NFKC, lower case, punctuation and symbols to spaces), split
   into words, each word hashed once (a vectorised polynomial byte hash, avalanched with the
   MurmurHash3 finaliser), and every run of ``shingle_size`` words combined into one 32-bit shingle
   hash with NumPy. The distinct shingle hashes are the article's set.
2. ``MinHasher.signature``: ``num_perm`` MinHash values, all permutations over all shingles in one
   array operation (the affine ``a*x + b mod 2**32`` family of datasketch's ``affine32`` scheme).
3. ``band_keys``: LSH banding, ``bands`` bands of ``rows`` values. Articles sharing a band key are
   candidates.
4. ``overlap`` + ``near_similarity``: a candidate pair is confirmed on the shingle sets themselves
   (exact while both articles have at most ``sketch_size`` distinct shingles, a bottom-k estimate
   beyond): near if Jaccard >= ``threshold``, or if the shorter is contained in the longer
   (containment >= ``containment``) with at least ``min_shared`` shingles in common -- more than a
   long paragraph, so a shared boilerplate paragraph never links two stories.
5. ``resolve_clusters`` / ``assign_on_arrival``: confirmed pairs become clusters, each with one
   canonical (``choose_canonical``: earliest published, ties the longest, then the smallest
   ``doc_id``) of which every other member is a copy.

Defaults, and why (the numbers come from ``scurve`` and ``lsh_error``; see ``tests/unit/test_dedup.py``):

- ``shingle_size=5`` words, the unit of the project's gold data. Measured on the 27 pairs of
  independent reports of one event (``corpora/dedup/html_story_pairs.tsv``) plus seeds 001/002, and
  on edited copies of seed 000 (max Jaccard / max containment of the negatives; Jaccard of a copy
  with a typo every 25th / every 10th word)::

      k       negatives J / C    typo every 25th   every 10th
      3       0.123 / 0.243      0.85              0.72
      5       0.071 / 0.144      0.76              0.57
      8       0.040 / 0.082      0.64              0.39

  5 keeps every negative far below both cuts and a heavily mistyped copy above 0.5.
- ``threshold=0.5`` (Jaccard), ``containment=0.8`` with ``min_shared=100`` shingles: 95% of the
  paragraphs of the html corpus have <= 71 words, so 100 shared shingles is always more than one
  paragraph.
- ``num_perm=40`` as ``bands=20`` x ``rows=2``. The signature only proposes candidates; the decision is
  made on the shingle sets, so a false positive costs one set comparison while a false negative loses
  a copy for good, and every band stores the article once more in state. The banding is therefore
  designed for the containment case (a copy inside a piece 2-3x its length has Jaccard ~1/3), with
  false negatives weighted 9:1: ``lsh_params(1/3, 40, (0.1, 0.9)) == (20, 2)``. Probability that a
  pair becomes a candidate, ``scurve(j, 20, 2)``::

      Jaccard      0.01    0.05   0.1    0.2    1/3    0.4    0.5    0.6
      candidate    0.002   0.049  0.18   0.56   0.90   0.97   0.997  1.000

  At the Jaccard threshold 0.5 the false-negative rate is 0.3%; datasketch's own optimum for
  ``threshold=0.5, num_perm=128`` (25 x 5) misses 45% of the pairs at exactly 0.5 and 91% at 1/3.
  The weighted errors as datasketch's ``_optimal_param`` reports them, at the design point 1/3:
  false-positive integral 0.144, false-negative integral 0.005.
- ``sketch_size=512``: exact sets for articles up to ~512 words (most wire copy), beyond that a
  bottom-k estimate (measured at Jaccard 0.5: standard error 0.014 at 1,000 shingles, 0.019 at
  10,000; no bias). On the benchmark's 3,248 candidate pairs (10,000 documents) 5 decisions differ
  from exact sets, all containment within 0.02 of the cut.
  The cost is state: a held signature is at most ~2.3 KB (sketch + 160 B of MinHash + ids), and an
  article is held once per band, so up to ~46 KB per article for the TTL -- several times its
  text. ``sketch_size=128`` cuts that to ~14 KB (standard error 0.03-0.04). Holding only ids and band
  hashes per band and the sketch once per article (one more keyed join) would cut it ~10x.
- ``ttl=2 days``: a crisis story's copies come within hours to a day of the wire. The TTL bounds
  streaming state (a memory budget); it is not a similarity rule: in batch, articles are compared
  whatever their publication dates (scraper sites show the date they scraped, and half of real
  copies show none).

Batch and streaming (``MarkNearDuplicates`` picks the mode from whether its input is bounded;
``tollwatch run`` itself decides a batch in ``resolve.ResolveDuplicates``, over small digests under
one key, with the same ``bucket_candidates`` and ``resolve_clusters``):

- Both modes key each article's ``Signature`` by its band keys. Streaming holds them in one stateful
  DoFn per band key (``FindLinks`` / ``_BucketFn``: a ``BagState`` of signatures and an event-time
  expiry timer that drops entries once the watermark is ``ttl`` past them, the
  ``DeduplicatePerKey`` pattern). Batch groups them (``GroupLinks``: one ``GroupByKey``, then
  ``bucket_links`` finds the same pairs): a growing bag costs the SDK's state cache a deep size of
  the whole bag at every write, a third of a local run's CPU. A pair is compared in the first band
  it shares only, so each pair is confirmed once.
- In batch every pair that shares a band key is compared whatever its dates and order of arrival
  (``resolve.ResolveDuplicates`` also compares pairs that share figures or a lead sentence, and
  confirms by sentence alignment, ``alignment.copy_kind``), and ``resolve_clusters`` runs over
  all confirmed pairs at once (one ``GroupByKey``): a cluster is a connected set of links, except that a page which
  contains articles of two clusters (a round-up of two wire stories) joins the earlier one and
  does not merge them; the canonical is the cluster's first article in canonical order. The
  result is deterministic. (Star clusters around the canonical, used before, split off 29% of the
  labelled copy pairs of the test set: with dates of a day's resolution the longest copy of the
  day -- a page embedding the story -- became canonical, and copies never compared with it stayed
  apart.) Exception: a band key holding more than ``max_bucket`` signatures evicts the oldest
  (counter ``bucket_overflow``); which pairs are then compared depends on arrival order. And an
  article is compared with at most ``max_partners`` (32) articles before it in a band key's
  bucket and, in batch, ``max_candidates`` (64) in all: a bucket bigger than a story's copies is
  a template (one bulletin with the place and the figure changed), whose items then chain to
  their neighbours in linear work instead of each meeting up to ``max_bucket`` others (counter
  ``partners_cut``: the articles concerned, per band key in streaming and ``GroupLinks``).
- In streaming an article is decided once, when all its bands have reported (``_GatherFn``), and
  never revised: it is compared with the articles that *arrived* before it and are still within
  ``ttl``; a single ``_ResolveFn`` (one key; it only sees articles that matched something) makes it a
  copy of the earliest canonical it is linked to, or, linked only to copies, of their canonical.
  Approximations: an earlier-published article
  that arrives after its copy becomes a copy of the cluster already emitted (the emitted canonical
  is not retracted); an article decided before one of its partners was resolved may point to a
  partner that became a copy; state expires on the watermark, so an article arriving more than
  ``ttl`` behind the watermark finds nothing.

Output contract: copies get ``dup_kind='near'``, ``dup_of`` = the canonical's ``doc_id``,
``dup_similarity`` (the Jaccard to the canonical if it reaches ``threshold``, else the containment
that linked them) and ``is_canonical=False``. Every article this stage decides gets
``dup_cluster_id`` = its canonical's cluster: the canonical's existing ``dup_cluster_id`` (as left by
the exact stage) or its ``doc_id`` -- also for articles without copies, so that a canonical emitted
in streaming before its first copy arrived carries the same id as in batch. Articles marked
``dup_kind='exact'`` upstream pass through untouched; articles with fewer than ``MIN_SHINGLES``
shingles are not compared (counter ``too_short``). The output is in the global window.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import re
import struct
import unicodedata
from collections import defaultdict
from typing import Any, Iterable, Mapping, NamedTuple, Optional, Sequence, Union

import numpy as np

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics
from apache_beam.transforms import userstate, window
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.utils.timestamp import Duration, Timestamp

from tollwatch.schemas.records import Article, DeadLetter, register_row_coder
from tollwatch.transforms.alignment import (
    copy_kind, lead_keys, outline, pack_outline, unpack_outline)
from tollwatch.transforms.clusters import DisjointSets
from tollwatch.transforms.guard import article_failure

__all__ = [
    "Article", "Assignment", "BandReport", "DocRef", "FindLinks", "GroupLinks", "Link",
    "MarkNearDuplicates", "bucket_candidates", "bucket_links", "candidate_pairs",
    "MinHasher", "NearOptions", "near_options",
    "Overlap", "Signature", "apply_assignment", "assign_on_arrival", "band_hashes", "band_keys",
    "canonical_key", "choose_canonical", "first_shared_band", "key_pairs", "story_pairs", "jaccard_estimate", "lsh_error",
    "lsh_params", "make_signature", "with_outline", "near_similarity", "normalize", "overlap", "resolve_clusters",
    "star_clusters",
    "scurve", "shingles", "token_hashes", "tokens",
]

# ---- Settings: every tunable in one place -------------------------------------------------------
SHINGLE_SIZE = 5
THRESHOLD = 0.5
CONTAINMENT = 0.8
MIN_SHARED = 100
NUM_PERM = 40
BANDS = 20
SKETCH_SIZE = 512
TTL = Duration(seconds=2 * 24 * 3600)
MAX_BUCKET = 1000
# Per band key, an article is compared with at most this many articles before it (in batch, in the
# bucket's order; in streaming, the most recently held). A story's copies are a few dozen (the bench
# corpus: up to 31 per story), so a bucket of that size is compared pair by pair; a bigger one is a
# template (one bulletin with the place and the figure changed), whose items then chain to their
# neighbours, each in bounded time, instead of each to up to MAX_BUCKET others.
MAX_PARTNERS = 32
# LSH candidates of one article over all bands (batch): what bounds its work when its neighbours
# differ from band to band, as a template's do.
MAX_CANDIDATES = 64
SEED = 1
# Fewer distinct shingles than this (a text of under ~25 words) is not compared: one changed
# number is then a large share of the text and Jaccard says little.
MIN_SHINGLES = 20
# Only the first MiB of a normalised text is shingled (bounds the hash tables at 16 MB; an
# article is a few KB).
MAX_TEXT_BYTES = 1 << 20

_NAMESPACE = "tollwatch.dedup"
_U32_MAX = np.uint32(0xFFFFFFFF)
_U64 = np.uint64


# ---- Normalisation and shingles -----------------------------------------------------------------
@functools.cache
def _separator(char: str) -> Optional[str]:
    """What normalisation makes of one character: a plain space for Unicode punctuation, symbols,
    controls and spaces, '' for format characters (soft hyphen, zero-width joiners: inside words),
    None to keep it. Per character, as texts meet them: a table of every code point took a worker
    0.1-0.4 s to build."""
    if char == " ":
        return None
    category = unicodedata.category(char)
    if category[0] in "PSZ" or category == "Cc" or char.isspace():
        return " "
    return "" if category == "Cf" else None


@functools.cache
def _ascii_separator_bytes() -> bytes:
    "bytes.translate table: ASCII punctuation, symbols and controls to a space; other bytes kept."
    return bytes(0x20 if code < 0x80 and _separator(chr(code)) else code for code in range(256))


_NON_ASCII = re.compile("[^\x00-\x7f]")


def _normalized_bytes(text: str) -> bytes:
    """Return ``normalize(text)`` as UTF-8. The few distinct non-ASCII separators are replaced one by
    one and ASCII ones by ``bytes.translate``: ``str.translate`` leaves its fast path as soon as a
    text holds one curly quote, and is then 6x slower than all of this."""
    text = unicodedata.normalize("NFKC", text).lower()
    if not text.isascii():
        for char in set(_NON_ASCII.findall(text)):
            replacement = _separator(char)
            if replacement is not None:
                text = text.replace(char, replacement)
    # surrogatepass: a lone surrogate left by a lossy decode is hashed, not an error.
    return text.encode("utf-8", "surrogatepass").translate(_ascii_separator_bytes())


def normalize(text: str) -> str:
    """Return the text in NFKC, lower case, with punctuation, symbols and any whitespace replaced by
    a space: words are then exactly the runs of non-space characters."""
    return _normalized_bytes(text).decode("utf-8", "surrogatepass")


def tokens(text: str) -> list[str]:
    "Return the words of the normalised text."
    return normalize(text).split()


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: an avalanching bijection (wraps mod 2**64 by design).
    Computed in place (every caller passes an array of its own) and returned."""
    h ^= h >> _U64(33)
    h *= _U64(0xFF51AFD7ED558CCD)
    h ^= h >> _U64(33)
    h *= _U64(0xC4CEB9FE1A85EC53)
    h ^= h >> _U64(33)
    return h


# Words are polynomials in their UTF-8 bytes with this odd base (the FNV prime), mod 2**64.
_WORD_BASE = 0x100000001B3
_SHINGLE_MULT = _U64(0x9E3779B97F4A7C15)
_BAND_MULT = _U64(0xC2B2AE3D27D4EB4F)


def _powers(base: int, n: int) -> np.ndarray:
    "Return base**i mod 2**64 for i < n (uint64), by doubling."
    out = np.empty(n, dtype=np.uint64)
    out[:1] = 1
    k = 1
    while k < n:
        m = min(k, n - k)
        np.multiply(out[:m], _U64(pow(base, k, 1 << 64)), out=out[k:k + m])
        k += m
    return out


_INVERSE_BASE = pow(_WORD_BASE, -1, 1 << 64)  # an odd number has an inverse mod 2**64
_power_cache = (np.ones(1, dtype=np.uint64), np.ones(1, dtype=np.uint64))


def _power_tables(n: int) -> tuple[np.ndarray, np.ndarray]:
    "Return at least n powers of the word base and of its inverse (grown by doubling, kept)."
    global _power_cache
    if _power_cache[0].size < n:
        size = 1 << max(12, (n - 1).bit_length())
        _power_cache = (_powers(_WORD_BASE, size), _powers(_INVERSE_BASE, size))
    return _power_cache


def _word_hashes(normalised: bytes) -> np.ndarray:
    """Return one stable 64-bit hash (uint64) per word of a normalised text, for all words at once.

    A word's hash is its UTF-8 bytes read as a polynomial, sum(b[j] * B**(j - start)), avalanched by
    ``_fmix64``. One prefix sum over the whole text gives every word's polynomial at its offset;
    multiplying by B**-start moves it to offset 0. The same word gives the same hash in every
    process and version, unlike Python's salted ``hash()``.
    """
    data = np.frombuffer(normalised[:MAX_TEXT_BYTES], dtype=np.uint8)
    if data.size == 0:
        return np.empty(0, dtype=np.uint64)
    # Where a byte differs from the one before in being a word byte (a space before the text and
    # after it): alternately a word's first byte and one past its last.
    in_word = np.zeros(data.size + 2, dtype=bool)
    np.not_equal(data, 0x20, out=in_word[1:-1])
    edges = np.flatnonzero(in_word[1:] != in_word[:-1])
    starts, ends = edges[0::2], edges[1::2]
    powers, inverses = _power_tables(data.size)
    prefix = np.empty(data.size + 1, dtype=np.uint64)
    prefix[0] = 0
    np.cumsum(data * powers[:data.size], out=prefix[1:])
    return _fmix64((prefix[ends] - prefix[starts]) * inverses[starts])


def token_hashes(words: Sequence[str]) -> np.ndarray:
    "Return one stable 64-bit hash (uint64) per word, computed for all words at once."
    return _word_hashes(" ".join(words).encode("utf-8", "surrogatepass"))


def shingles(text: str, shingle_size: int = SHINGLE_SIZE) -> np.ndarray:
    """Return the sorted distinct 32-bit hashes (uint32) of the text's ``shingle_size``-word shingles.

    A text shorter than ``shingle_size`` words is one shingle; an empty text has none.
    """
    return _shingle_set(_word_hashes(_normalized_bytes(text)), shingle_size)


def _shingle_set(hashes: np.ndarray, shingle_size: int) -> np.ndarray:
    "Combine each run of shingle_size word hashes into one 32-bit hash; return them sorted, distinct."
    if hashes.size == 0:
        return np.empty(0, dtype=np.uint32)
    k = min(shingle_size, hashes.size)
    n = hashes.size - k + 1
    combined = hashes[:n].copy()
    for j in range(1, k):
        combined *= _SHINGLE_MULT
        combined += hashes[j:j + n]
    ordered = np.sort((_fmix64(combined) >> _U64(32)).astype(np.uint32))
    distinct = np.empty(ordered.size, dtype=bool)
    distinct[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=distinct[1:])
    return ordered[distinct]


# ---- MinHash ------------------------------------------------------------------------------------
def _splitmix64(seed: int, n: int) -> np.ndarray:
    "Return n pseudo-random uint64 values derived from seed (stable across NumPy versions)."
    state = (seed * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    out = []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        out.append(z ^ (z >> 31))
    return np.array(out, dtype=np.uint64)


class MinHasher:
    """MinHash signatures of shingle sets, vectorised over all permutations and all shingles.

    Permutation ``i`` maps a 32-bit shingle hash ``x`` to ``a[i] * x + b[i] mod 2**32`` with ``a[i]``
    odd (a bijection, so it adds no collisions); ``x`` is already avalanched by ``shingles``. This is
    datasketch's ``affine32`` scheme; the parameters come from ``seed`` alone, so signatures made by
    different workers and runs agree.

    >>> hasher = MinHasher(num_perm=64)
    >>> a = hasher.signature(shingles("the quick brown fox jumps over the lazy dog today"))
    >>> float(jaccard_estimate(a, a))
    1.0
    """

    # Shingles per block of the (permutations x shingles) matrix: bounds the temporary array
    # (40 x 4096 x 4 bytes = 640 KB) for very long texts.
    _CHUNK = 4096

    def __init__(self, num_perm: int = NUM_PERM, seed: int = SEED):
        if not isinstance(num_perm, int) or not 1 <= num_perm <= 65535:
            raise ValueError(f"num_perm must be an int in [1, 65535], got {num_perm!r}")
        if not isinstance(seed, int):
            raise ValueError(f"seed must be an int, got {seed!r}")
        self.num_perm = num_perm
        self.seed = seed
        raw = _splitmix64(seed, 2 * num_perm)
        self._a = ((raw[:num_perm] >> _U64(32)).astype(np.uint32) | np.uint32(1))
        self._b = (raw[num_perm:] >> _U64(32)).astype(np.uint32)

    def signature(self, shingle_hashes: np.ndarray) -> np.ndarray:
        "Return the signature (uint32, ``num_perm`` values) of a set of 32-bit shingle hashes."
        values = np.asarray(shingle_hashes, dtype=np.uint32)
        out = np.full(self.num_perm, _U32_MAX, dtype=np.uint32)
        a, b = self._a[:, None], self._b[:, None]
        # (permutations x shingles): the min runs along contiguous rows, 2.4x faster than the
        # transposed layout.
        for start in range(0, values.size, self._CHUNK):
            block = a * values[None, start:start + self._CHUNK]
            block += b
            np.minimum(out, block.min(axis=1), out=out)
        return out


def jaccard_estimate(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    "Return the share of equal MinHash values: an unbiased estimate of the Jaccard similarity."
    a, b = _u32(sig_a), _u32(sig_b)
    if a.shape != b.shape:
        raise ValueError(f"signatures differ in length: {a.size} vs {b.size}")
    return float(np.count_nonzero(a == b)) / a.size if a.size else 0.0


# ---- LSH banding --------------------------------------------------------------------------------
def scurve(jaccard: Union[float, np.ndarray], bands: int, rows: int):
    "Return the probability that a pair with this Jaccard similarity shares at least one band."
    return 1.0 - (1.0 - np.asarray(jaccard, dtype=float) ** rows) ** bands


def lsh_error(threshold: float, bands: int, rows: int) -> tuple[float, float]:
    """Return the false-positive and false-negative integrals of the S-curve around ``threshold``
    (the areas datasketch's ``_optimal_param`` weighs), by the trapezoid rule."""
    below = np.linspace(0.0, threshold, 2001)
    above = np.linspace(threshold, 1.0, 2001)
    return (float(np.trapezoid(scurve(below, bands, rows), below)),
            float(np.trapezoid(1.0 - scurve(above, bands, rows), above)))


def lsh_params(threshold: float, num_perm: int,
               weights: tuple[float, float] = (0.5, 0.5)) -> tuple[int, int]:
    "Return the (bands, rows) with bands * rows <= num_perm minimising the weighted LSH errors."
    best, best_error = (1, 1), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            fp, fn = lsh_error(threshold, bands, rows)
            error = weights[0] * fp + weights[1] * fn
            if error < best_error:
                best, best_error = (bands, rows), error
    return best


def band_hashes(signature: np.ndarray, bands: int, rows: int) -> np.ndarray:
    "Return one 64-bit hash (uint64) per band of the signature."
    sig = _u32(signature)
    if bands * rows > sig.size:
        raise ValueError(f"{bands} bands x {rows} rows need {bands * rows} values, got {sig.size}")
    return _hash_rows(sig[:bands * rows].reshape(bands, rows))


def _hash_rows(table: np.ndarray) -> np.ndarray:
    "One 64-bit hash per band of (..., bands, rows) MinHash values: the band hash of band_hashes."
    h = table[..., 0].astype(np.uint64)
    for j in range(1, table.shape[-1]):
        h *= _BAND_MULT
        h += table[..., j]
    return _fmix64(h)


def band_keys(signature: np.ndarray, bands: int = BANDS, rows: Optional[int] = None) -> list[bytes]:
    """Return the LSH keys of a signature: 10 bytes each, the band index (big-endian uint16) then
    the band's 64-bit hash. Two signatures share a key when they agree on a whole band (or, with
    probability 2**-64, by a hash collision that ``first_shared_band`` weeds out)."""
    rows = rows or _u32(signature).size // bands
    return [struct.pack(">HQ", i, int(h)) for i, h in enumerate(band_hashes(signature, bands, rows))]


def band_of(key: bytes) -> int:
    "Return the band index of a key made by ``band_keys``."
    return struct.unpack_from(">H", key)[0]


def first_shared_band(sig_a: np.ndarray, sig_b: np.ndarray, bands: int, rows: int) -> int:
    "Return the index of the first band on which the two signatures agree entirely, or -1."
    a, b = _u32(sig_a), _u32(sig_b)
    n = bands * rows
    equal = (a[:n] == b[:n]).reshape(bands, rows).all(axis=1)
    hits = np.flatnonzero(equal)
    return int(hits[0]) if hits.size else -1


# ---- Confirmation on the shingle sets -----------------------------------------------------------
class Overlap(NamedTuple):
    """How much two shingle sets overlap."""

    jaccard: float
    # |A & B| / |A| for the smaller set A.
    containment: float
    # |A & B|, estimated when a sketch is truncated.
    shared: int
    # True when both sketches held their whole set, so the figures are exact.
    exact: bool


def _u32(values) -> np.ndarray:
    if isinstance(values, (bytes, bytearray, memoryview)):
        return np.frombuffer(values, dtype="<u4")
    return np.asarray(values, dtype=np.uint32)


def _count_common(a: np.ndarray, b: np.ndarray) -> int:
    "Return |a & b| for sorted arrays of distinct values."
    if a.size == 0 or b.size == 0:
        return 0
    if a.size > b.size:
        a, b = b, a
    idx = np.searchsorted(b, a)
    idx[idx == b.size] = 0
    return int(np.count_nonzero(b[idx] == a))


def overlap(sketch_a, n_a: int, sketch_b, n_b: int) -> Overlap:
    """Return the Jaccard similarity and containment of two shingle sets from their sketches.

    A sketch is the sorted smallest hashes of a set (``n`` is the set's full size). When both sketches
    hold their whole set the figures are exact; otherwise they are the bottom-k estimate: below the
    smaller of the two sketches' largest hashes both sets are fully known, and that random sample of
    the union gives the Jaccard, from which |A & B| = J (|A| + |B|) / (1 + J).
    """
    a, b = _u32(sketch_a), _u32(sketch_b)
    if n_a <= 0 or n_b <= 0:
        return Overlap(0.0, 0.0, 0, True)
    exact = a.size >= n_a and b.size >= n_b
    if exact:
        shared = _count_common(a, b)
        jaccard = shared / (n_a + n_b - shared)
    else:
        limit = min(a[-1] if a.size < n_a else _U32_MAX, b[-1] if b.size < n_b else _U32_MAX)
        a = a[:np.searchsorted(a, limit, side="right")]
        b = b[:np.searchsorted(b, limit, side="right")]
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


# ---- Records ------------------------------------------------------------------------------------
class Signature(NamedTuple):
    """What near-duplicate detection keeps of an article: its identity, when it was published, its
    length and two small sketches of its shingle set -- never its text."""

    doc_id: str
    published_at: Timestamp
    # Characters in the text: the canonical's tie-breaker, as in MarkExactDuplicates.
    length: int
    # Distinct shingles in the whole text (the sketch may hold fewer).
    n_shingles: int
    # num_perm MinHash values, little-endian uint32.
    minhash: bytes
    # The smallest `sketch_size` shingle hashes, sorted, little-endian uint32.
    sketch: bytes
    # The article's dup_cluster_id as it arrived (set by the exact stage), if any.
    cluster_id: Optional[str]
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
    cluster_id: Optional[str]


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
    cluster_id: str
    # The canonical's doc_id for a copy; None for a canonical.
    dup_of: Optional[str]
    similarity: Optional[float]


class _Held(NamedTuple):
    # Element timestamp: the clock the expiry timer runs on.
    held_at: Timestamp
    signature: Signature


class _Decided(NamedTuple):
    held_at: Timestamp
    doc_id: str
    canonical_id: str
    cluster_id: str


register_row_coder(Signature, DocRef, Link, BandReport, Assignment, _Held, _Decided)


def make_signature(doc_id: str, published_at: Timestamp, text: str, hasher: MinHasher,
                   shingle_size: int = SHINGLE_SIZE, sketch_size: int = SKETCH_SIZE,
                   cluster_id: Optional[str] = None) -> Signature:
    "Return the Signature of one text."
    words = _word_hashes(_normalized_bytes(text))
    sh = _shingle_set(words, shingle_size)
    return Signature(
        doc_id=doc_id, published_at=published_at, length=len(text), n_shingles=int(sh.size),
        minhash=hasher.signature(sh).astype("<u4").tobytes(),
        sketch=sh[:sketch_size].astype("<u4").tobytes(), cluster_id=cluster_id,
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
                         shingle_size, sketch_size, article.dup_cluster_id)
    if sig.n_shingles < MIN_SHINGLES:
        return sig
    return with_outline(sig, article.text or "")


def ref(sig: Signature) -> DocRef:
    "Return the cluster-member view of a signature."
    return DocRef(sig.doc_id, sig.published_at, sig.length, sig.cluster_id)


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


# ---- Canonical and clusters ---------------------------------------------------------------------
def canonical_key(doc) -> tuple:
    "Sort key of the canonical order: earliest published, then the longest, then the smallest doc_id."
    return (doc.published_at, -doc.length, doc.doc_id)


def choose_canonical(a, b):
    "Return whichever of two articles (anything with published_at, length, doc_id) is canonical."
    return a if canonical_key(a) <= canonical_key(b) else b


def _cluster_of(doc: DocRef) -> str:
    return doc.cluster_id or doc.doc_id


def _covers_both(link: Link, containment: float = CONTAINMENT) -> bool:
    """Whether the shared shingles make up most of the longer text too, not only of the shorter.
    From J = s / |A u B| and c = s / |A| (A the smaller set): s / |B| = 1 / (1/J + 1 - 1/c)."""
    if link.jaccard <= 0 or link.containment <= 0:
        return False
    return 1.0 / (1.0 / link.jaccard + 1.0 - 1.0 / link.containment) >= containment


def _link_graph(links: Iterable[Link]) -> tuple[dict[str, DocRef], dict[str, dict[str, float]],
                                                 list[tuple[str, str]], dict[str, set[str]]]:
    """The articles of a set of links, the best similarity of each linked pair, the pairs that are
    mostly each other ("mutual"), and for each article the shorter articles it contains."""
    refs: dict[str, DocRef] = {}
    similarity: dict[str, dict[str, float]] = defaultdict(dict)
    mutual: list[tuple[str, str]] = []
    contains: dict[str, set[str]] = defaultdict(set)
    for link in links:
        a, b = link.doc, link.other
        if a.doc_id == b.doc_id:
            continue
        for doc in (a, b):
            known = refs.get(doc.doc_id)
            if known is None or canonical_key(doc) < canonical_key(known):
                refs[doc.doc_id] = doc
        best = max(similarity[a.doc_id].get(b.doc_id, 0.0), link.similarity)
        similarity[a.doc_id][b.doc_id] = similarity[b.doc_id][a.doc_id] = best
        # A link by sentence alignment is between stories told alike (a rewrite, a write-through,
        # a trimmed copy), not a passage inside a longer page: it joins the two.
        if link.kind != "near" or _covers_both(link):
            mutual.append((a.doc_id, b.doc_id))
        else:  # the shorter text is (mostly) inside the longer, which has more of its own
            small, large = sorted((a, b), key=lambda d: (d.length, d.doc_id))
            contains[large.doc_id].add(small.doc_id)
    return refs, similarity, mutual, contains


def resolve_clusters(links: Iterable[Link]) -> dict[str, Assignment]:
    """Return the Assignment of every article in a set of confirmed links, deterministically.

    A cluster is a connected set of links, so a copy that was only compared with other copies
    (a trimmed copy and a copy with an intro added share less with each other than with the story)
    still joins the story. One kind of link does not connect: a page that contains articles of two
    or more clusters (a round-up, a live page quoting several wire stories) joins the earliest of
    them and does not merge them. Only a pair whose shared text is most of both texts ("mutual",
    e.g. a copy with typos) is joined unconditionally: two disjoint stories cannot each be most of
    one page. Containers are taken from the shortest, so a trimmed copy inside a longer copy is
    joined before the full story is looked at.

    The canonical of a cluster is its first article in canonical order; every other article becomes
    its copy, with its similarity to the canonical if they were compared, else its best similarity
    to a member of the cluster (the link that brought it in).
    """
    refs, similarity, mutual, contains = _link_graph(links)
    sets = DisjointSets(refs)
    find, union = sets.find, sets.union

    for a, b in mutual:
        union(a, b)
    undecided: list[str] = []
    for container in sorted(contains, key=lambda d: (refs[d].length, d)):
        foreign = {find(d) for d in contains[container]} - {find(container)}
        if len(foreign) <= 1:
            for d in contains[container]:
                union(container, d)
        else:
            undecided.append(container)

    def members_by_root() -> dict[str, list[DocRef]]:
        groups: dict[str, list[DocRef]] = defaultdict(list)
        for doc in refs.values():
            groups[find(doc.doc_id)].append(doc)
        return groups

    for container in undecided:  # joins the cluster of the earliest canonical it contains
        groups = members_by_root()
        roots = {find(d) for d in contains[container]} - {find(container)}
        if roots:
            first = min(roots, key=lambda r: min(canonical_key(m) for m in groups[r]))
            union(container, first)

    out: dict[str, Assignment] = {}
    for members in members_by_root().values():
        centre = min(members, key=canonical_key)
        out[centre.doc_id] = Assignment(centre.doc_id, _cluster_of(centre), None, None)
        ids = {m.doc_id for m in members}
        for doc in members:
            if doc is centre:
                continue
            sims = similarity[doc.doc_id]
            figure = sims.get(centre.doc_id)
            if figure is None:
                figure = max(s for other, s in sims.items() if other in ids)
            out[doc.doc_id] = Assignment(doc.doc_id, _cluster_of(centre), centre.doc_id, figure)
    return out


def star_clusters(links: Iterable[Link]) -> dict[str, Assignment]:
    """Return Assignments that never chain: articles are taken in canonical order, and each becomes
    a copy of the first earlier canonical it is directly linked to, or a canonical itself. For
    links that do not compose (a rewrite of a rewrite need not say what the story says)."""
    refs, similarity, _, _ = _link_graph(links)
    canonical_of: dict[str, str] = {}
    out: dict[str, Assignment] = {}
    for doc in sorted(refs.values(), key=canonical_key):
        centres = [refs[o] for o in similarity[doc.doc_id] if canonical_of.get(o) == o]
        if centres:
            centre = min(centres, key=canonical_key)
            canonical_of[doc.doc_id] = centre.doc_id
            out[doc.doc_id] = Assignment(doc.doc_id, _cluster_of(centre), centre.doc_id,
                                         similarity[doc.doc_id][centre.doc_id])
        else:
            canonical_of[doc.doc_id] = doc.doc_id
            out[doc.doc_id] = Assignment(doc.doc_id, _cluster_of(doc), None, None)
    return out


def assign_on_arrival(doc: DocRef, links: Iterable[Link], canonical_of: Mapping[str, str],
                      cluster_of: Optional[Mapping[str, str]] = None) -> Assignment:
    """Return the Assignment of a newly arrived article from its links to earlier arrivals.

    ``canonical_of`` maps the doc_id of articles already decided to their canonical's doc_id (an
    article missing from it had no partner when it was decided, so it is a canonical) and
    ``cluster_of`` to their cluster id. The new article becomes a copy of the first (canonical
    order) canonical it is linked to; linked only to copies, it joins the cluster of the first of
    them, as ``resolve_clusters`` chains in batch. Decisions are final, so nothing is merged.
    """
    cluster_of = cluster_of or {}
    others = [l for l in links if l.other.doc_id != doc.doc_id]
    centres = [l for l in others
               if canonical_of.get(l.other.doc_id, l.other.doc_id) == l.other.doc_id]
    if centres:
        best = min(centres, key=lambda l: canonical_key(l.other))
        return Assignment(doc.doc_id, cluster_of.get(best.other.doc_id, _cluster_of(best.other)),
                          best.other.doc_id, best.similarity)
    if others:
        best = min(others, key=lambda l: canonical_key(l.other))
        canonical = canonical_of[best.other.doc_id]
        return Assignment(doc.doc_id, cluster_of.get(best.other.doc_id, canonical), canonical,
                          best.similarity)
    return Assignment(doc.doc_id, _cluster_of(doc), None, None)


def apply_assignment(article: Article, assignment: Optional[Assignment]) -> Article:
    "Return the article with its duplicate fields set from its Assignment (None: alone)."
    if assignment is None or assignment.dup_of is None:
        cluster = assignment.cluster_id if assignment else (article.dup_cluster_id or article.doc_id)
        return article._replace(dup_cluster_id=cluster, dup_of=None, dup_kind=None,
                                dup_similarity=None, is_canonical=True)
    return article._replace(dup_cluster_id=assignment.cluster_id, dup_of=assignment.dup_of,
                            dup_kind="near", dup_similarity=round(float(assignment.similarity), 4),
                            is_canonical=False)


# ---- Beam ---------------------------------------------------------------------------------------
_SIGNATURES_TAG = "signatures"
_ALONE_TAG = "alone"
_LINKED_TAG = "linked"
_DEAD_LETTERS_TAG = "dead_letters"
_COPIES = Metrics.counter(_NAMESPACE, "near_copies")


class SignArticles(beam.PTransform):
    """PCollection[Article] -> PCollection[Signature]: what the output folder keeps of canonical
    articles so a later run can link its copies to them (signatures, not texts)."""

    def __init__(self, num_perm: int = NUM_PERM, seed: int = SEED, shingle_size: int = SHINGLE_SIZE,
                 sketch_size: int = SKETCH_SIZE):
        super().__init__()
        self._args = (num_perm, seed, shingle_size, sketch_size)

    def expand(self, articles):
        signed = articles | "Sign" >> beam.ParDo(_SignFn(*self._args)).with_outputs(
            _SIGNATURES_TAG, _ALONE_TAG, main="compared")
        return signed[_SIGNATURES_TAG]


class _SignFn(beam.DoFn):
    """Article -> the article itself for the articles to compare, their Signature on 'signatures',
    and on 'alone' the articles not compared (exact copies untouched, too-short ones as their own
    canonical)."""

    def __init__(self, num_perm, seed, shingle_size, sketch_size):
        self._args = (num_perm, seed)
        self._shingle_size, self._sketch_size = shingle_size, sketch_size
        self._exact = Metrics.counter(_NAMESPACE, "exact_kept")
        self._short = Metrics.counter(_NAMESPACE, "too_short")
        self._undated = Metrics.counter(_NAMESPACE, "undated")

    def setup(self):
        self._hasher = MinHasher(*self._args)

    def process(self, article: Article):
        if article.dup_kind == "exact":
            self._exact.inc()
            yield pvalue.TaggedOutput(_ALONE_TAG, article)
            return
        if article.published_at is None:  # no time, no canonical order: not compared
            self._undated.inc()
            yield pvalue.TaggedOutput(_ALONE_TAG, apply_assignment(article, None))
            return
        try:
            sig = signature_of(article, self._hasher, self._shingle_size, self._sketch_size)
        except Exception as err:  # noqa: BLE001 - one article's failure is its dead letter
            yield pvalue.TaggedOutput(_DEAD_LETTERS_TAG, article_failure(article, "sign", err))
            return
        if sig.n_shingles < MIN_SHINGLES:
            self._short.inc()
            yield pvalue.TaggedOutput(_ALONE_TAG, apply_assignment(article, None))
            return
        yield article
        yield pvalue.TaggedOutput(_SIGNATURES_TAG, sig)


def _expiry(held_at: Timestamp, ttl: Duration) -> Timestamp:
    """When an entry held at `held_at` expires, in whole milliseconds: portable runners keep timers
    at millisecond precision, so an expiry with microseconds would fire just before itself and
    re-arm forever."""
    micros = (held_at + ttl).micros
    return Timestamp(micros=-(-micros // 1000) * 1000)


def _band_entries(sig: Signature, bands: int, rows: int) -> list[tuple[bytes, Signature]]:
    return [(key, sig) for key in band_keys(np.frombuffer(sig.minhash, dtype="<u4"), bands, rows)]


def _band_keyed(options: "NearOptions") -> beam.PTransform:
    "Each Signature once per LSH band key: the key of both the streaming buckets and the batch groups."
    return beam.FlatMap(_band_entries, options.bands, options.rows).with_output_types(
        tuple[bytes, Signature])


class _BucketFn(beam.DoFn):
    """Per band key: compare each new signature with those held, emit the confirmed links as a
    BandReport, hold it, and drop what is older than the TTL when the watermark passes it."""

    HELD = userstate.BagStateSpec("held", beam.coders.registry.get_coder(_Held))
    EXPIRY = userstate.TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, threshold, containment, min_shared, bands, rows, ttl, max_bucket,
                 report_empty, max_partners=MAX_PARTNERS):
        self._rule = (threshold, containment, min_shared)
        self._bands, self._rows = bands, rows
        self._ttl, self._max_bucket, self._report_empty = ttl, max_bucket, report_empty
        self._window = min(max_bucket, max_partners)
        self._candidates = Metrics.counter(_NAMESPACE, "candidates")
        self._confirmed = Metrics.counter(_NAMESPACE, "confirmed")
        self._expired = Metrics.counter(_NAMESPACE, "expired")
        self._overflow = Metrics.counter(_NAMESPACE, "bucket_overflow")
        self._size = Metrics.distribution(_NAMESPACE, "bucket_size")
        self._cut = Metrics.counter(_NAMESPACE, "partners_cut")

    def process(self, element, held_at=beam.DoFn.TimestampParam,
                held=beam.DoFn.StateParam(HELD), expiry=beam.DoFn.TimerParam(EXPIRY)):
        key, sig = element
        band = band_of(key)
        entries = list(held.read())
        mine = np.frombuffer(sig.minhash, dtype="<u4")
        others = [e for e in entries if e.signature.doc_id != sig.doc_id]
        seen = len(others) < len(entries)
        if len(others) > self._window:  # a template's bucket: the latest neighbours only
            self._cut.inc()
            others.sort(key=lambda e: (e.held_at, e.signature.doc_id))
            others = others[-self._window:]
        links = []
        for entry in others:
            other = entry.signature
            theirs = np.frombuffer(other.minhash, dtype="<u4")
            if first_shared_band(mine, theirs, self._bands, self._rows) != band:
                continue  # compared in an earlier band (or a key collision)
            self._candidates.inc()
            link = compare(sig, other, *self._rule)
            if link is not None:
                self._confirmed.inc()
                links.append(link)
        if not seen:
            entries.append(_Held(held_at, sig))
            if len(entries) > self._max_bucket:
                self._overflow.inc()
                entries.sort(key=lambda e: (e.held_at, e.signature.doc_id))
                entries = entries[-self._max_bucket:]
                held.clear()
                for entry in entries:
                    held.add(entry)
            else:
                held.add(entries[-1])
        self._size.update(len(entries))
        expiry.set(_expiry(min(e.held_at for e in entries), self._ttl))
        if links or self._report_empty:
            yield sig.doc_id, BandReport(sig.doc_id, band, len(entries), links)

    @userstate.on_timer(EXPIRY)
    def expire(self, now=beam.DoFn.TimestampParam, held=beam.DoFn.StateParam(HELD),
               expiry=beam.DoFn.TimerParam(EXPIRY)):
        entries = list(held.read())
        keep = [e for e in entries if _expiry(e.held_at, self._ttl) > now]
        held.clear()
        for entry in keep:
            held.add(entry)
        self._expired.inc(len(entries) - len(keep))
        if keep:
            expiry.set(_expiry(min(e.held_at for e in keep), self._ttl))


class _GatherFn(beam.DoFn):
    """Streaming, per doc_id: wait for the article and the report of each of its bands, then emit
    it as its own canonical (no link) or send it with its links to the resolver."""

    ARTICLE = userstate.BagStateSpec("article", beam.coders.registry.get_coder(Article))
    REPORTS = userstate.BagStateSpec("reports", beam.coders.registry.get_coder(BandReport))
    FLUSH = userstate.TimerSpec("flush", TimeDomain.WATERMARK)

    def __init__(self, bands, ttl):
        self._bands, self._ttl = bands, ttl
        self._incomplete = Metrics.counter(_NAMESPACE, "incomplete")

    def process(self, element, ts=beam.DoFn.TimestampParam,
                article=beam.DoFn.StateParam(ARTICLE), reports=beam.DoFn.StateParam(REPORTS),
                flush=beam.DoFn.TimerParam(FLUSH)):
        _, value = element
        if isinstance(value, BandReport):
            reports.add(value)
        else:
            article.add(value)
        articles, got = list(article.read()), list(reports.read())
        if articles and len({r.band for r in got}) >= self._bands:
            article.clear()
            reports.clear()
            yield from self._emit(articles, got)
        else:
            flush.set(ts + self._ttl)

    @userstate.on_timer(FLUSH)
    def flush(self, article=beam.DoFn.StateParam(ARTICLE), reports=beam.DoFn.StateParam(REPORTS)):
        articles, got = list(article.read()), list(reports.read())
        article.clear()
        reports.clear()
        if articles or got:
            self._incomplete.inc()
        yield from self._emit(articles, got)

    @staticmethod
    def _emit(articles, reports):
        links = [link for report in reports for link in report.links]
        for art in articles:
            if links:
                yield pvalue.TaggedOutput(_LINKED_TAG, (art, links))
            else:
                yield apply_assignment(art, None)


class _ResolveFn(beam.DoFn):
    """Streaming, one key: decide each linked article on arrival (``assign_on_arrival``) and remember
    the decisions for the TTL."""

    DECIDED = userstate.BagStateSpec("decided", beam.coders.registry.get_coder(_Decided))
    EXPIRY = userstate.TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, ttl):
        self._ttl = ttl

    def process(self, element, held_at=beam.DoFn.TimestampParam,
                decided=beam.DoFn.StateParam(DECIDED), expiry=beam.DoFn.TimerParam(EXPIRY)):
        _, (article, links) = element
        entries = list(decided.read())
        canonical_of = {e.doc_id: e.canonical_id for e in entries}
        cluster_of = {e.doc_id: e.cluster_id for e in entries}
        doc = links[0].doc
        assignment = assign_on_arrival(doc, links, canonical_of, cluster_of)
        decided.add(_Decided(held_at, doc.doc_id, assignment.dup_of or doc.doc_id,
                             assignment.cluster_id))
        expiry.set(_expiry(min([e.held_at for e in entries] + [held_at]), self._ttl))
        if assignment.dup_of is not None:
            _COPIES.inc()
        yield apply_assignment(article, assignment)

    @userstate.on_timer(EXPIRY)
    def expire(self, now=beam.DoFn.TimestampParam, decided=beam.DoFn.StateParam(DECIDED),
               expiry=beam.DoFn.TimerParam(EXPIRY)):
        keep = [e for e in decided.read() if _expiry(e.held_at, self._ttl) > now]
        decided.clear()
        for entry in keep:
            decided.add(entry)
        if keep:
            expiry.set(_expiry(min(e.held_at for e in keep), self._ttl))


def _known_unless_read_again(element) -> list:
    _, found = element
    if any(True for _ in found["current"]):
        return []
    return list(found["known"])[:1]


def _resolve_group(element) -> Iterable[tuple[str, Assignment]]:
    _, links = element
    return resolve_clusters(links).items()


def _apply_from(article: Article, assignments: Mapping[str, Assignment]) -> Article:
    assignment = assignments.get(article.doc_id)
    if assignment is not None and assignment.dup_of is not None:
        _COPIES.inc()
    return apply_assignment(article, assignment)


def _as_duration(ttl) -> Duration:
    if isinstance(ttl, datetime.timedelta):
        ttl = ttl.total_seconds()
    if isinstance(ttl, Duration):
        return ttl
    if isinstance(ttl, (int, float)) and not isinstance(ttl, bool):
        return Duration(seconds=ttl)
    raise ValueError(f"ttl must be a Duration, timedelta or seconds, got {ttl!r}")


class NearOptions(NamedTuple):
    """The knobs of near-duplicate detection, validated (see ``near_options``)."""

    threshold: float
    containment: float
    min_shared: int
    shingle_size: int
    num_perm: int
    bands: int
    rows: int
    sketch_size: int
    ttl: Duration
    max_bucket: int
    seed: int
    max_partners: int = MAX_PARTNERS
    max_candidates: int = MAX_CANDIDATES


def near_options(threshold: float = THRESHOLD, containment: float = CONTAINMENT,
                 min_shared: int = MIN_SHARED, shingle_size: int = SHINGLE_SIZE,
                 num_perm: int = NUM_PERM, bands: int = BANDS, rows: Optional[int] = None,
                 sketch_size: int = SKETCH_SIZE, ttl: Any = TTL, max_bucket: int = MAX_BUCKET,
                 seed: int = SEED, max_partners: int = MAX_PARTNERS,
                 max_candidates: int = MAX_CANDIDATES) -> NearOptions:
    """Return validated options; raise ValueError on a bad one. ``rows`` defaults to
    ``num_perm // bands``; ``ttl`` is a Duration, a timedelta or seconds."""
    for name, value in (("threshold", threshold), ("containment", containment)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise ValueError(f"{name} must be in (0, 1], got {value!r}")
    if rows is None and isinstance(num_perm, int) and isinstance(bands, int) and bands > 0:
        rows = num_perm // bands
    for name, value, low in (("min_shared", min_shared, 1), ("shingle_size", shingle_size, 1),
                             ("num_perm", num_perm, 1), ("bands", bands, 1), ("rows", rows, 1),
                             ("sketch_size", sketch_size, 1), ("max_bucket", max_bucket, 2),
                             ("max_partners", max_partners, 1),
                             ("max_candidates", max_candidates, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    if bands * rows > num_perm or bands > 65535:
        raise ValueError(f"bands x rows = {bands} x {rows} does not fit in num_perm={num_perm}")
    duration = _as_duration(ttl)
    if duration.micros <= 0:
        raise ValueError(f"ttl must be positive, got {ttl!r}")
    MinHasher(num_perm, seed)  # validates num_perm and seed
    return NearOptions(float(threshold), float(containment), min_shared, shingle_size, num_perm,
                       bands, rows, sketch_size, duration, max_bucket, seed, max_partners,
                       max_candidates)


@beam.typehints.with_input_types(Signature)
@beam.typehints.with_output_types(tuple[str, BandReport])
class FindLinks(beam.PTransform):
    """Signatures -> (doc_id, BandReport): key each signature by its LSH band keys, hold it per key
    for ``ttl`` (``_BucketFn``) and report the confirmed near-duplicate links of each new arrival.
    With ``report_empty`` every band reports, so a consumer knows when an article is complete."""

    def __init__(self, options: Optional[NearOptions] = None, report_empty: bool = False,
                 label: Optional[str] = None):
        super().__init__(label)
        self._options = options or near_options()
        self._report_empty = report_empty

    def expand(self, signatures):
        o = self._options
        return (
            signatures
            | "BandKeys" >> _band_keyed(o)
            | "Buckets" >> beam.ParDo(_BucketFn(o.threshold, o.containment, o.min_shared, o.bands,
                                                o.rows, o.ttl, o.max_bucket, self._report_empty,
                                                o.max_partners))
            .with_input_types(tuple[bytes, Signature]).with_output_types(tuple[str, BandReport]))


def bucket_candidates(band_key: bytes, signatures: Iterable[Signature], options: NearOptions,
                      stats: Optional[dict] = None) -> list[tuple[Signature, Signature]]:
    """The candidate pairs (later, earlier) among the signatures of one band key, in batch: every
    pair whose first shared band is this one, each article paired with at most the
    ``_window(options)`` before it in (publication time, doc_id) order -- what ``_BucketFn``
    compares when everything arrives before anything expires. Needs only the MinHash values, not
    the sketches. ``stats['cut']``: the articles paired with fewer than all before them."""
    band = band_of(band_key)
    unique = {sig.doc_id: sig for sig in signatures}
    ordered = sorted(unique.values(), key=lambda sig: (sig.published_at, sig.doc_id))
    minhashes = [np.frombuffer(sig.minhash, dtype="<u4") for sig in ordered]
    pairs = []
    window = _window(options)
    for j, sig in enumerate(ordered):
        for i in range(max(0, j - window), j):
            other = ordered[i]
            if first_shared_band(minhashes[j], minhashes[i], options.bands, options.rows) != band:
                continue
            pairs.append((sig, other))
    if stats is not None:
        stats["candidates"] = stats.get("candidates", 0) + len(pairs)
        stats["size"] = len(ordered)
        stats["cut"] = stats.get("cut", 0) + max(0, len(ordered) - window - 1)
    return pairs


def _window(options: NearOptions) -> int:
    "How many articles before it in a bucket an article is compared with."
    return min(options.max_bucket, options.max_partners)


_PAIR_CHUNK = 1 << 15


def candidate_pairs(minhashes: np.ndarray, published_us: np.ndarray, doc_ids: Sequence[str],
                    options: NearOptions, stats: Optional[dict] = None) -> np.ndarray:
    """Every band's ``bucket_candidates`` at once, as row indices: the (later, earlier) pairs of a
    batch of signatures with distinct doc_ids, given as an (articles x num_perm) uint32 array of
    MinHash values and their publication times in microseconds. The same pairs in the same order
    (band by band, buckets by band hash, then by position in the bucket), with numpy doing per band
    what ``bucket_candidates`` does per pair: the per-pair loop was most of the batch resolver's time.
    Except that an article keeps its first ``max_candidates`` pairs in that order (a template's items
    meet different neighbours in each band). ``stats['cut']``: the articles paired with fewer than
    all the articles before them in some bucket, or past ``max_candidates``."""
    n = len(doc_ids)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    bands, rows = options.bands, options.rows
    table = np.ascontiguousarray(minhashes[:, :bands * rows], dtype=np.uint32).reshape(n, bands, rows)
    hashes = _hash_rows(table)
    published_us = np.asarray(published_us, dtype=np.int64)
    # Position in (publication time, doc_id) order: the order of a bucket.
    by_time = sorted(range(n), key=lambda k: (int(published_us[k]), doc_ids[k]))
    rank = np.empty(n, dtype=np.int64)
    rank[by_time] = np.arange(n)
    window = _window(options)
    cut = np.zeros(n, dtype=bool)
    out = []
    for band in range(bands):
        order = np.lexsort((rank, hashes[:, band]))
        column = hashes[order, band]
        new_bucket = np.empty(n, dtype=bool)
        new_bucket[0] = True
        np.not_equal(column[1:], column[:-1], out=new_bucket[1:])
        starts = np.flatnonzero(new_bucket)
        position = np.arange(n) - starts[np.cumsum(new_bucket) - 1]
        cut[order[position > window]] = True
        later, earlier = [], []
        for back in range(1, min(window, int(position.max())) + 1):
            at = np.flatnonzero(position >= back)
            later.append(at)
            earlier.append(at - back)
        if not later:
            continue
        later_at, earlier_at = np.concatenate(later), np.concatenate(earlier)
        sequence = np.lexsort((earlier_at, later_at))
        a, b = order[later_at[sequence]], order[earlier_at[sequence]]
        # The first band on which the two agree entirely must be this one. In chunks: the rows
        # compared are copied out of the table (a few MB a chunk, not the band's every pair).
        for at in range(0, a.size, _PAIR_CHUNK):
            ca, cb = a[at:at + _PAIR_CHUNK], b[at:at + _PAIR_CHUNK]
            agree = (table[ca, :band + 1] == table[cb, :band + 1]).all(axis=2)
            keep = agree[:, band] & ~agree[:, :band].any(axis=1)
            out.append(np.stack([ca[keep], cb[keep]], axis=1))
    pairs = np.concatenate(out) if out else np.empty((0, 2), dtype=np.int64)
    if pairs.size:
        # Each pair's rank among its later article's pairs, in output order.
        by_later = np.argsort(pairs[:, 0], kind="stable")
        grouped = pairs[by_later, 0]
        first = np.empty(grouped.size, dtype=bool)
        first[0] = True
        np.not_equal(grouped[1:], grouped[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        nth = np.empty(grouped.size, dtype=np.int64)
        nth[by_later] = np.arange(grouped.size) - starts[np.cumsum(first) - 1]
        over = nth >= options.max_candidates
        if over.any():
            cut[pairs[over, 0]] = True
            pairs = pairs[~over]
    if stats is not None:
        stats["cut"] = stats.get("cut", 0) + int(np.count_nonzero(cut))
    return pairs


# A key (a figure, a lead sentence) held by more articles than this is an official figure every
# report repeats, a boilerplate sentence or a template, not a trace of one story: it proposes no
# pairs. Bounds the work per key. (Measured on the 1k bench corpus: 64 keys / 32 partners gave
# 2,882 more candidates than LSH and no more links than 32 / 8, at 3x the confirmation time; the
# realdev figures are the same with either.)
MAX_KEY_BUCKET = 32
# Candidates proposed by keys per article, those sharing the most keys first: bounds the work per
# article.
MAX_KEY_PARTNERS = 8
# Distinct figures two articles must share to be compared as a possible rewrite.
MIN_SHARED_FIGURES = 2


def key_pairs(keys: Sequence[Sequence[int]], order: Sequence[tuple],
              min_shared: int = 1) -> list[tuple[int, int]]:
    """Candidate (later, earlier) index pairs of articles that share at least `min_shared` keys.
    `order` holds each article's canonical key (earlier sorts first). A key held by more than
    ``MAX_KEY_BUCKET`` articles proposes nothing, and each article keeps its ``MAX_KEY_PARTNERS``
    partners sharing the most keys (then the earliest in canonical order), so the work grows
    linearly with the articles."""
    by_key: dict[int, list[int]] = defaultdict(list)
    for i, values in enumerate(keys):
        for value in set(values):
            by_key[value].append(i)
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for members in by_key.values():
        if 2 <= len(members) <= MAX_KEY_BUCKET:
            for x, y in itertools.combinations(members, 2):
                shared[(x, y) if x < y else (y, x)] += 1
    partners: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for (x, y), n in shared.items():
        if n >= min_shared:
            partners[x].append((n, y))
            partners[y].append((n, x))
    kept = set()
    for i, found in partners.items():
        found.sort(key=lambda item: (-item[0], order[item[1]]))
        for _, j in found[:MAX_KEY_PARTNERS]:
            kept.add((i, j) if order[i] > order[j] else (j, i))
    return sorted(kept)


def story_pairs(signatures: Sequence[Signature]) -> list[tuple[int, int]]:
    """The candidate (later, earlier) index pairs LSH may miss: articles that share figures (what
    a rewrite or a translation keeps) or a lead sentence (what a short copy among page furniture
    keeps)."""
    order = [canonical_key(sig) for sig in signatures]
    return sorted(set(key_pairs([sig.figures for sig in signatures], order, MIN_SHARED_FIGURES))
                  | set(key_pairs([sig.leads for sig in signatures], order)))


def bucket_links(band_key: bytes, signatures: Iterable[Signature], options: NearOptions,
                 stats: Optional[dict] = None) -> list[Link]:
    """The confirmed links among the signatures of one band key, in batch (``bucket_candidates``,
    each pair confirmed on the shingle sketches)."""
    rule = (options.threshold, options.containment, options.min_shared)
    links = (compare(sig, other, *rule) for sig, other in bucket_candidates(band_key, signatures, options, stats))
    return [link for link in links if link is not None]


@beam.typehints.with_input_types(Signature)
@beam.typehints.with_output_types(Link)
class GroupLinks(beam.PTransform):
    """Batch: Signatures -> confirmed Links, through one GroupByKey on the band keys.

    The same pairs as ``FindLinks`` in batch, without per-key state: a bag state that grows one
    signature at a time costs the SDK's state cache a deep size of the whole bag at every write
    (measured: a third of a local run's CPU)."""

    def __init__(self, options: Optional[NearOptions] = None, label: Optional[str] = None):
        super().__init__(label)
        self._options = options or near_options()

    def expand(self, signatures):
        o = self._options
        return (
            signatures
            | "BandKeys" >> _band_keyed(o)
            | "ByBand" >> beam.GroupByKey()
            | "Compare" >> beam.ParDo(_CompareBucketFn(o)).with_output_types(Link))


class _CompareBucketFn(beam.DoFn):
    """``bucket_links`` with the counters ``_BucketFn`` keeps."""

    def __init__(self, options: NearOptions):
        self._options = options
        self._candidates = Metrics.counter(_NAMESPACE, "candidates")
        self._confirmed = Metrics.counter(_NAMESPACE, "confirmed")
        self._size = Metrics.distribution(_NAMESPACE, "bucket_size")
        self._cut = Metrics.counter(_NAMESPACE, "partners_cut")

    def process(self, element):
        key, signatures = element
        stats: dict = {}
        links = bucket_links(key, signatures, self._options, stats)
        self._candidates.inc(stats["candidates"])
        self._cut.inc(stats["cut"])
        self._confirmed.inc(len(links))
        self._size.update(stats["size"])
        yield from links


@beam.typehints.with_output_types(Article)
class MarkNearDuplicates(beam.PTransform):
    """Mark near-duplicate copies: ``dup_kind='near'``, ``dup_of`` the canonical, ``dup_similarity``,
    a shared ``dup_cluster_id`` and ``is_canonical``. See the module docstring for what is exact in
    batch and approximate in streaming; ``near_options`` for the knobs (validated here, at
    construction). ``streaming=None`` picks the mode from whether the input is bounded.

    The input is a PCollection of Articles, or a tuple (articles, known) where `known` holds the
    Signatures of canonical articles of earlier runs to link new copies to (see continuation.py).

    >>> marked = articles | MarkNearDuplicates(ttl=datetime.timedelta(days=1))  # doctest: +SKIP
    """

    def __init__(self, threshold: float = THRESHOLD, containment: float = CONTAINMENT,
                 min_shared: int = MIN_SHARED, shingle_size: int = SHINGLE_SIZE,
                 num_perm: int = NUM_PERM, bands: int = BANDS, rows: Optional[int] = None,
                 sketch_size: int = SKETCH_SIZE, ttl: Any = TTL, max_bucket: int = MAX_BUCKET,
                 seed: int = SEED, streaming: Optional[bool] = None, label: Optional[str] = None,
                 max_partners: int = MAX_PARTNERS, max_candidates: int = MAX_CANDIDATES):
        super().__init__(label)
        self._options = near_options(threshold, containment, min_shared, shingle_size, num_perm,
                                     bands, rows, sketch_size, ttl, max_bucket, seed,
                                     max_partners, max_candidates)
        if streaming is not None and not isinstance(streaming, bool):
            raise ValueError(f"streaming must be None, True or False, got {streaming!r}")
        self._streaming = streaming
        self.dead_letters = None

    def expand(self, pcolls):
        # (articles, known): `known` are Signatures of canonical articles of earlier runs (the
        # output folder's state). They are compared with, never emitted.
        articles, known = pcolls if isinstance(pcolls, tuple) else (pcolls, None)
        o = self._options
        streaming = (not articles.is_bounded) if self._streaming is None else self._streaming
        signed = (
            articles
            | "GlobalWindow" >> beam.WindowInto(window.GlobalWindows())
            | "Sign" >> beam.ParDo(_SignFn(o.num_perm, o.seed, o.shingle_size, o.sketch_size))
            .with_outputs(_SIGNATURES_TAG, _ALONE_TAG, _DEAD_LETTERS_TAG, main="compared"))
        # The articles signing failed on, as DeadLetters (ExtractClaims' convention).
        self.dead_letters = signed[_DEAD_LETTERS_TAG] | "DeadLetters" >> beam.Map(
            lambda d: d).with_output_types(DeadLetter)
        signatures = signed[_SIGNATURES_TAG]
        if known is not None:
            # An article this run reads again (edited since) is compared by its new text, not by
            # the signature an earlier run stored for it.
            known = (
                {"known": known | "KeyKnown" >> beam.Map(lambda sig: (sig.doc_id, sig)),
                 "current": signatures | "KeyCurrent" >> beam.Map(lambda sig: (sig.doc_id, 1))}
                | "KnownById" >> beam.CoGroupByKey()
                | "NotReadAgain" >> beam.FlatMap(_known_unless_read_again)
                .with_output_types(Signature))
            signatures = (
                (signatures,
                 known
                 | "KnownAtPublication" >> beam.Map(
                     lambda sig: window.TimestampedValue(sig, sig.published_at)).with_output_types(Signature)
                 | "KnownGlobalWindow" >> beam.WindowInto(window.GlobalWindows()))
                | "WithKnown" >> beam.Flatten().with_output_types(Signature))
        if streaming:
            reports = signatures | "Links" >> FindLinks(o, report_empty=True)
            gathered = (
                (signed.compared
                 | "KeyById" >> beam.Map(lambda a: (a.doc_id, a)).with_output_types(
                     tuple[str, Article]),
                 reports)
                | "Meet" >> beam.Flatten().with_output_types(tuple[str, Any])
                | "Gather" >> beam.ParDo(_GatherFn(o.bands, o.ttl))
                .with_input_types(tuple[str, Any]).with_outputs(_LINKED_TAG, main="alone"))
            decided = (
                gathered[_LINKED_TAG]
                | "OneKey" >> beam.Map(lambda linked: ("", linked)).with_output_types(
                    tuple[str, Any])
                | "Resolve" >> beam.ParDo(_ResolveFn(o.ttl))
                .with_input_types(tuple[str, Any]).with_output_types(Article))
            marked = [gathered.alone, decided]
        else:
            assignments = (
                signatures
                | "Links" >> GroupLinks(o)
                | "OneKey" >> beam.Map(lambda link: (0, link)).with_output_types(tuple[int, Link])
                | "Group" >> beam.GroupByKey()
                | "Clusters" >> beam.FlatMap(_resolve_group)
                .with_output_types(tuple[str, Assignment]))
            marked = [
                signed.compared
                | "Mark" >> beam.Map(_apply_from, pvalue.AsDict(assignments))
                .with_output_types(Article)]
        return (marked + [signed[_ALONE_TAG]]) | "Merge" >> beam.Flatten()
