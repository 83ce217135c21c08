"""The settings of duplicate detection: every tunable in one place, and ``near_options``, which
validates a set of them.

Defaults, and why (the numbers come from ``lsh.scurve`` and ``lsh.lsh_error``; see
``tests/unit/test_dedup.py``):

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
"""

from __future__ import annotations

import datetime
from typing import Any, NamedTuple, Optional

from apache_beam.utils.timestamp import Duration

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

MAX_KEY_BUCKET = 32
# Candidates proposed by keys per article, those sharing the most keys first: bounds the work per
# article.
MAX_KEY_PARTNERS = 8
# Distinct figures two articles must share to be compared as a possible rewrite.
MIN_SHARED_FIGURES = 2


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

    @property
    def window(self) -> int:
        "How many articles before it in a band key's bucket an article is compared with."
        return min(self.max_bucket, self.max_partners)


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
    if num_perm > 65535:
        raise ValueError(f"num_perm must be an int in [1, 65535], got {num_perm!r}")
    if not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    return NearOptions(float(threshold), float(containment), min_shared, shingle_size, num_perm,
                       bands, rows, sketch_size, duration, max_bucket, seed, max_partners,
                       max_candidates)

