"""Text to shingles: a text normalised (NFKC, lower case, punctuation and symbols to spaces),
split into words, each word hashed once (a vectorised polynomial byte hash, avalanched with the
MurmurHash3 finaliser), and every run of ``shingle_size`` words combined into one 32-bit shingle
hash with NumPy. The distinct shingle hashes are the text's set, what near copies share."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tollwatch.transforms.duplicates.settings import MAX_TEXT_BYTES, SHINGLE_SIZE
from tollwatch.transforms.text import shingle_fold_bytes

U32_MAX = np.uint32(0xFFFFFFFF)
_U64 = np.uint64


def fmix64(h: np.ndarray) -> np.ndarray:
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


def word_hashes(normalised: bytes) -> np.ndarray:
    """Return one stable 64-bit hash (uint64) per word of a normalised text, for all words at once.

    A word's hash is its UTF-8 bytes read as a polynomial, sum(b[j] * B**(j - start)), avalanched by
    ``fmix64``. One prefix sum over the whole text gives every word's polynomial at its offset;
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
    return fmix64((prefix[ends] - prefix[starts]) * inverses[starts])


def token_hashes(words: Sequence[str]) -> np.ndarray:
    "Return one stable 64-bit hash (uint64) per word, computed for all words at once."
    return word_hashes(" ".join(words).encode("utf-8", "surrogatepass"))


def shingles(text: str, shingle_size: int = SHINGLE_SIZE) -> np.ndarray:
    """Return the sorted distinct 32-bit hashes (uint32) of the text's ``shingle_size``-word shingles.

    A text shorter than ``shingle_size`` words is one shingle; an empty text has none.
    """
    return _shingle_set(word_hashes(shingle_fold_bytes(text)), shingle_size)


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
    ordered = np.sort((fmix64(combined) >> _U64(32)).astype(np.uint32))
    distinct = np.empty(ordered.size, dtype=bool)
    distinct[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=distinct[1:])
    return ordered[distinct]


def as_u32(values) -> np.ndarray:
    "Little-endian uint32 bytes, or any sequence of values, as a uint32 array."
    if isinstance(values, (bytes, bytearray, memoryview)):
        return np.frombuffer(values, dtype="<u4")
    return np.asarray(values, dtype=np.uint32)
