"""Passages repeated inside one article: a scraper that captured the lead twice, a teaser block
re-rendered at the foot of the page. The repeat is dropped, so a figure it carries is not counted
twice; the first occurrence is kept.

The unit is the sentence, not the paragraph: a repeat is often glued together without paragraph
breaks (``...an NGO."You have attacked...``) and cut off with an ellipsis, so it matches no paragraph
of the original but every one of its sentences matches one. Sentences are compared on their words
only (case, punctuation and spacing ignored); a final sentence cut off with "..." matches an earlier
sentence it is the beginning of.

A passage is a maximal run of consecutive sentences that each occurred earlier in the document.
It is removed only if it has at least ``min_chars`` characters of words (default ``MIN_CHARS``
= 100): the median sentence of news prose in the html corpus (``corpora/html/*.expected.txt``)
is 100 characters, while lines that legitimately repeat are short -- menu items ("Search"), section
labels, and the longest in that corpus, an embedded tweet's attribution line, has 50. So one
sentence of ordinary length or more goes; a short line repeated stays.

Sentences are cut by ``text.line_sentences`` and compared by their ``text.words``.

``strip_repeated_passages`` is the pure function; ``StripRepeatedPassages`` at the bottom maps it over
a PCollection of articles.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from tollwatch.schemas.records import Article, DeadLetter
from tollwatch.transforms.guard import article_failure
from tollwatch.transforms.text import blank_non_word_bytes, line_sentences, words
from tollwatch.transforms import METRICS_NAMESPACE

__all__ = ["MIN_CHARS", "StripRepeatedPassages", "strip_repeated_passages"]

MIN_CHARS = 100
# A cut-off sentence must keep at least this many words to count as the start of an earlier one.
_MIN_PREFIX_WORDS = 4

_ELLIPSIS = re.compile(r"""(?:\.\.\.|\u2026)["'\u201d\u2019)\]]*\s*$""")
_SPACES = re.compile(r"[ \t]{2,}")
_BLANK_LINES = re.compile(r"\n{3,}")


class KeyedSentence(NamedTuple):
    """A sentence of the text: its line, its span in that line, its words and whether it is cut off."""

    line: int
    start: int
    end: int
    # The sentence's words, lower-cased and joined by single spaces.
    key: str
    truncated: bool


def keyed_sentences(text: str) -> tuple[list[str], list[KeyedSentence]]:
    """The text's lines and its sentences, each with its line, span in the line, words (the key it
    is compared by) and whether it is cut off with an ellipsis."""
    lines = text.split("\n")
    # An ASCII text's words are its runs of non-spaces once every non-word character is a space:
    # one translation of the whole text instead of a regex per sentence (positions are kept).
    blanked = (blank_non_word_bytes(text.lower().encode("ascii")).decode("ascii")
               if text.isascii() else None)
    found = []
    offset = 0
    for number, line in enumerate(lines):
        if not line:  # a blank line between paragraphs: no sentence
            offset += 1
            continue
        for start, end in line_sentences(line):
            piece = line[start:end]
            key = (" ".join(blanked[offset + start:offset + end].split()) if blanked is not None
                   else " ".join(words(piece.lower())))
            truncated = ("..." in piece or "\u2026" in piece) and bool(_ELLIPSIS.search(piece))
            found.append(KeyedSentence(number, start, end, key, truncated))
        offset += len(line) + 1
    return lines, found


def _repeated(found: list[KeyedSentence]) -> list[bool]:
    "Return, per sentence, whether it (or, if cut off, a sentence it begins) occurred earlier."
    seen: set[str] = set()
    earlier: list[str] = []
    out = []
    for sentence in found:
        key = sentence.key
        hit = bool(key) and key in seen
        if not hit and key and sentence.truncated and len(key.split()) >= _MIN_PREFIX_WORDS:
            hit = any(k.startswith(key + " ") or k.startswith(key) and len(k) > len(key)
                      for k in earlier)
        out.append(hit)
        if key and key not in seen:
            seen.add(key)
            earlier.append(key)
    return out


def strip_repeated_passages(text: str, min_chars: int = MIN_CHARS) -> tuple[str, int]:
    """Return the text without passages that repeat earlier ones, and the number of passages removed.

    The text comes back unchanged (same object) when nothing is removed.

    >>> lead = "The first sentence of the story is here. The second sentence adds the detail."
    >>> strip_repeated_passages(lead + "\\n\\nMore news.\\n\\n" + lead, min_chars=40)
    ('The first sentence of the story is here. The second sentence adds the detail.\\n\\nMore news.', 1)
    """
    if min_chars < 1:
        raise ValueError(f"min_chars must be >= 1, got {min_chars!r}")
    lines, found = keyed_sentences(text)
    repeated = _repeated(found)
    drop: list[KeyedSentence] = []
    passages = 0
    i = 0
    while i < len(found):
        if not repeated[i]:
            i += 1
            continue
        j = i
        while j < len(found) and repeated[j]:
            j += 1
        run = found[i:j]
        if sum(len(s.key) for s in run) >= min_chars:
            drop.extend(run)
            passages += 1
        i = j
    if not passages:
        return text, 0
    cuts: dict[int, list[tuple[int, int]]] = {}
    for sentence in drop:
        cuts.setdefault(sentence.line, []).append((sentence.start, sentence.end))
    out_lines = []
    for number, line in enumerate(lines):
        if number not in cuts:
            out_lines.append(line)
            continue
        kept, position = [], 0
        for start, end in sorted(cuts[number]):
            kept.append(line[position:start])
            position = end
        kept.append(line[position:])
        cleaned = _SPACES.sub(" ", "".join(kept)).strip()
        if cleaned:
            out_lines.append(cleaned)
    cleaned_text = _BLANK_LINES.sub("\n\n", "\n".join(out_lines))
    return cleaned_text.strip("\n") if not text.endswith("\n") else cleaned_text, passages


@beam.typehints.with_input_types(Article)
@beam.typehints.with_output_types(Article)
class StripRepeatedPassages(beam.PTransform):
    """Remove passages repeated inside each article; set ``n_repeats_removed`` (added to what an
    earlier pass counted, so re-running is harmless)."""

    def __init__(self, min_chars: int = MIN_CHARS, label=None):
        super().__init__(label)
        self.dead_letters = None
        if isinstance(min_chars, bool) or not isinstance(min_chars, int) or min_chars < 1:
            raise ValueError(f"min_chars must be an int >= 1, got {min_chars!r}")
        self._min_chars = min_chars

    def expand(self, articles):
        results = articles | "Strip" >> beam.ParDo(StripRepeatedPassagesFn(self._min_chars)).with_outputs(
            StripRepeatedPassagesFn.DEAD_LETTERS, main="articles")
        # The articles it failed on, as DeadLetters (ExtractClaims' convention).
        self.dead_letters = results[StripRepeatedPassagesFn.DEAD_LETTERS] | "DeadLetters" >> beam.Map(
            lambda d: d).with_output_types(DeadLetter)
        return results.articles


class StripRepeatedPassagesFn(beam.DoFn):
    """StripRepeatedPassages' step over one article (driven alone by the hostile-input harness)."""

    DEAD_LETTERS = "dead_letters"

    def __init__(self, min_chars: int):
        self._min_chars = min_chars
        self._removed = Metrics.counter(METRICS_NAMESPACE, "passages_removed")
        self._articles = Metrics.counter(METRICS_NAMESPACE, "articles_with_repeats")

    def process(self, article: Article):
        try:
            text, removed = strip_repeated_passages(article.text or "", self._min_chars)
        except Exception as err:  # noqa: BLE001 - one article's failure is its dead letter
            yield beam.pvalue.TaggedOutput(self.DEAD_LETTERS, article_failure(article, "repeats", err))
            return
        if not removed:
            yield article
            return
        self._removed.inc(removed)
        self._articles.inc()
        yield article._replace(
            text=text, n_repeats_removed=(article.n_repeats_removed or 0) + removed)
