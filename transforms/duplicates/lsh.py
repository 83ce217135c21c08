"""LSH banding: a MinHash signature cut into ``bands`` bands of ``rows`` values; articles that agree
on a whole band share its key and are candidates. ``scurve`` and ``lsh_error`` say how likely a
pair of a given Jaccard similarity is to become a candidate (the defaults' reasons are in
``settings``)."""

from __future__ import annotations

import struct
from typing import Optional, Union

import numpy as np

from tollwatch.transforms.duplicates.settings import BANDS
from tollwatch.transforms.duplicates.shingles import as_u32, fmix64

_BAND_MULT = np.uint64(0xC2B2AE3D27D4EB4F)


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
    sig = as_u32(signature)
    if bands * rows > sig.size:
        raise ValueError(f"{bands} bands x {rows} rows need {bands * rows} values, got {sig.size}")
    return hash_rows(sig[:bands * rows].reshape(bands, rows))


def hash_rows(table: np.ndarray) -> np.ndarray:
    "One 64-bit hash per band of (..., bands, rows) MinHash values: the band hash of band_hashes."
    h = table[..., 0].astype(np.uint64)
    for j in range(1, table.shape[-1]):
        h *= _BAND_MULT
        h += table[..., j]
    return fmix64(h)


def band_keys(signature: np.ndarray, bands: int = BANDS, rows: Optional[int] = None) -> list[bytes]:
    """Return the LSH keys of a signature: 10 bytes each, the band index (big-endian uint16) then
    the band's 64-bit hash. Two signatures share a key when they agree on a whole band (or, with
    probability 2**-64, by a hash collision that ``first_shared_band`` weeds out)."""
    rows = rows or as_u32(signature).size // bands
    return [struct.pack(">HQ", i, int(h)) for i, h in enumerate(band_hashes(signature, bands, rows))]


def band_of(key: bytes) -> int:
    "Return the band index of a key made by ``band_keys``."
    return struct.unpack_from(">H", key)[0]


def first_shared_band(sig_a: np.ndarray, sig_b: np.ndarray, bands: int, rows: int) -> int:
    "Return the index of the first band on which the two signatures agree entirely, or -1."
    a, b = as_u32(sig_a), as_u32(sig_b)
    n = bands * rows
    equal = (a[:n] == b[:n]).reshape(bands, rows).all(axis=1)
    hits = np.flatnonzero(equal)
    return int(hits[0]) if hits.size else -1
