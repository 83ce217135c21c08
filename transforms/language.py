"""The language of an article: the declared tag normalised ("en-GB" -> "en"), checked against the
text with py3langid (offline, a model shipped with the package).

Why both: claims are read in English only, so a user must be able to see which articles were not
read for claims, and declared tags are often raw ("en-US", "pt_PT"), missing (plain text, most
pages) or a template's default. The text decides when the detector is sure of it; otherwise the
declared tag stands; a text too short or too mixed to tell, with no tag, has no language (null).
"""

from __future__ import annotations

import functools
import re
from typing import Optional

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier

# Enough text to decide (the detector's cost grows with what it reads): no article of the real
# sets (realdev, corpora/html and feeds, the seeds: 336 articles, 9 languages) changes language
# between 4,000 and 750 characters, one does at 500; 1,000 reads a quarter of the time of 4,000
# (benchmarks/language_sample.py).
SAMPLE_CHARS = 1000
# Probability (normalised over the model's 97 languages) above which the text overrides a tag.
SURE = 0.9
# Below this the detector abstains.
MIN_CONFIDENCE = 0.5
# Fewer letters than this: nothing to read.
MIN_LETTERS = 20
_PRIMARY = re.compile(r"^([a-z]{2,3})(?:[-_].*)?$")


def normalise_tag(tag: Optional[str]) -> Optional[str]:
    """A language tag's primary subtag in lower case ("en-GB" -> "en", "pt_PT" -> "pt"), or None
    when it is not a tag."""
    if not tag:
        return None
    match = _PRIMARY.match(tag.strip().lower())
    return match.group(1) if match else None


@functools.lru_cache(maxsize=1)
def identifier() -> "WalkAtOnceIdentifier":
    return WalkAtOnceIdentifier.from_model_file(MODEL_FILE, norm_probs=True,
                                                min_confidence=MIN_CONFIDENCE)


class WalkAtOnceIdentifier(LanguageIdentifier):
    """py3langid's identifier with its DFA walk done by numpy over all the bytes at once: the same
    model, the same features counted in the same order, the same float32 sums, so the same
    languages and probabilities to the last bit (tests/unit/test_language.py pins it to
    py3langid's classify; benchmarks/language_walk.py proves the property below on the installed
    model and compares every real set).

    py3langid walks the text's UTF-8 bytes through an Aho-Corasick DFA one byte at a time in
    Python (~70% of its time) and counts the feature each state emits. In that automaton the
    state after a byte is the one of the longest suffix of the text read so far that is a string
    of the trie, and no string is longer than the trie's depth D (6 bytes here): the state after
    byte i is the state the root reaches by walking bytes i-D+1..i alone, and those D steps run
    for every byte in parallel."""

    __slots__ = ("_moves", "_rows", "_outputs", "_depth")

    def __init__(self, nb_ptc, *args, **kwargs):
        # The model stores float16 and numpy converted the rows each text uses, slowly (a third
        # of the time left); float32 once at load gives the same products, ~28 MB more a worker.
        super().__init__(np.asarray(nb_ptc, dtype=np.float32), *args, **kwargs)
        self._moves = np.frombuffer(self.tk_nextmove, dtype=self.tk_nextmove.typecode)
        self._rows = np.asarray(self._rowbase, dtype=np.intp)
        self._outputs = np.asarray(self.tk_output, dtype=np.intp)
        self._depth = trie_depth(self._moves, self._rows)

    def _raw_score(self, text: bytes) -> np.ndarray:
        data = np.frombuffer(text, dtype=np.uint8).astype(np.intp)
        n = len(data)
        states = np.zeros(n, dtype=np.intp)
        for back in range(min(self._depth, n) - 1, -1, -1):
            at = self._rows[states[back:]]
            at += data[:n - back]
            states[back:] = self._moves[at]
        # Counted in the order of their first occurrence, as py3langid's Counter does: the order
        # of a float32 sum changes its last bits. A key sorts by feature, then by position; the
        # states that emit none (-1) sort first.
        shift = n.bit_length()
        keys = self._outputs[states] << shift
        keys |= np.arange(n)
        keys.sort()
        features = keys >> shift
        bounds = np.empty(n + 1, dtype=bool)
        bounds[0] = bounds[n] = True
        np.not_equal(features[1:], features[:-1], out=bounds[1:n])
        bounds = bounds.nonzero()[0]
        if n and features[0] < 0:
            bounds = bounds[1:]
        if len(bounds) < 2:
            return super()._raw_score(text)
        starts = bounds[:-1]
        order = (keys[starts] & ((1 << shift) - 1)).argsort()
        counts = (bounds[1:] - starts)[order].astype(np.float32)
        return np.log1p(counts) @ self.nb_ptc[features[starts[order]]] + self.nb_pc


def trie_depth(moves: np.ndarray, rows: np.ndarray) -> int:
    """The length of the longest string that leads from the DFA's root to a state first reached
    by it: breadth first over the transitions (state s, byte b -> moves[rows[s] + b]), each row of
    transitions once however many states share it, a few thousand rows at a time (~0.1 s)."""
    seen = np.zeros(len(rows), dtype=bool)
    seen[0] = True
    reached = np.zeros(len(rows), dtype=bool)
    frontier, depth = np.zeros(1, dtype=np.intp), 0
    every_byte = np.arange(256, dtype=np.intp)
    while True:
        reached[:] = False
        starts = np.unique(rows[frontier])
        for at in range(0, len(starts), 2048):
            reached[moves[starts[at:at + 2048, None] + every_byte]] = True
        frontier = np.flatnonzero(reached & ~seen)
        if not len(frontier):
            return depth
        seen[frontier] = True
        depth += 1


def has_letters(text: str, n: int = MIN_LETTERS) -> bool:
    """Whether the text holds at least `n` letters: read up to the n-th only (counting every
    letter of the sample was a tenth of the detection's time)."""
    if n <= 0:
        return True
    for char in text:
        if char.isalpha():
            n -= 1
            if not n:
                return True
    return False


def detect(text: str) -> tuple[Optional[str], float]:
    """(language, probability) of a text, language None when the detector cannot tell."""
    return detect_sample((text or "")[:SAMPLE_CHARS])


# Copies of one wire story carry the same text, and a worker meets many of them: each sample is
# read once (~0.2 ms).
@functools.lru_cache(maxsize=1024)
def detect_sample(sample: str) -> tuple[Optional[str], float]:
    if not has_letters(sample):
        return None, 0.0
    language, probability = identifier().classify(sample)
    return (None if language == "und" else language), probability


def article_language(declared: Optional[str], text: str) -> Optional[str]:
    """The language of an article from its declared tag and its text."""
    tag = normalise_tag(declared)
    detected, probability = detect(text)
    if detected and (probability >= SURE or tag is None):
        return detected
    return tag
