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
def identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True,
                                              min_confidence=MIN_CONFIDENCE)


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
# read once (the detector reads it byte by byte in Python, ~1.5 ms).
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
