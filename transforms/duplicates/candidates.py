"""Which pairs of articles are compared: the pairs that share an LSH band key
(``candidate_pairs``, every band at once over an array of MinHash values), and the pairs LSH may
miss that share figures (what a rewrite or a translation keeps) or a lead sentence (what a short
copy among page furniture keeps): ``story_pairs``. Cheap, so that the expensive confirmation
(``similarity.compare``) runs on candidates only."""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Optional, Sequence

import numpy as np

from tollwatch.schemas.duplicates import Signature
from tollwatch.transforms.duplicates.lsh import hash_rows
from tollwatch.transforms.duplicates.settings import (
    MAX_KEY_BUCKET, MAX_KEY_PARTNERS, MIN_SHARED_FIGURES, NearOptions)
from tollwatch.transforms.duplicates.stories import canonical_key


_PAIR_CHUNK = 1 << 15


def candidate_pairs(minhashes: np.ndarray, published_us: np.ndarray, doc_ids: Sequence[str],
                    options: NearOptions, stats: Optional[dict] = None) -> np.ndarray:
    """The LSH candidates of every band at once, as row indices: the (later, earlier) pairs of a
    batch of signatures with distinct doc_ids, given as an (articles x num_perm) uint32 array of
    MinHash values and their publication times in microseconds. Per band key's bucket, in
    (publication time, doc_id) order, each article is paired with the ``options.window`` articles
    before it, and a pair only in the first band the two share entirely (what the streaming
    ``BucketFn`` compares when everything arrives before anything expires; the pair-by-pair
    reference is in tests/unit/test_dedup.py). The pairs come band by band, buckets by band hash,
    then by position in the bucket, with numpy doing per band what a per-pair loop did (that loop
    was most of the batch resolver's time).
    Except that an article keeps its first ``max_candidates`` pairs in that order (a template's items
    meet different neighbours in each band). ``stats['cut']``: the articles paired with fewer than
    all the articles before them in some bucket, or past ``max_candidates``."""
    n = len(doc_ids)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    bands, rows = options.bands, options.rows
    table = np.ascontiguousarray(minhashes[:, :bands * rows], dtype=np.uint32).reshape(n, bands, rows)
    hashes = hash_rows(table)
    published_us = np.asarray(published_us, dtype=np.int64)
    # Position in (publication time, doc_id) order: the order of a bucket.
    by_time = sorted(range(n), key=lambda k: (int(published_us[k]), doc_ids[k]))
    rank = np.empty(n, dtype=np.int64)
    rank[by_time] = np.arange(n)
    window = options.window
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
