"""An article's text as sentences and headlines, each with its absolute character span."""

from __future__ import annotations

from typing import NamedTuple

from .vocabulary import ABBREVIATIONS, MAX_HEADLINE_WORDS, MAX_SENTENCE_CHARS
from .patterns import LAST_WORD_RE, PARA_RE, SENTENCE_FINAL, SENT_BREAK_RE, SENT_BREAK_START_RE, finditer_from


class Sentence(NamedTuple):
    """A sentence (or headline) of an article, its span absolute in the article's text."""

    start: int
    end: int
    text: str
    para: int
    headline: bool
    repeated: bool
    truncated: bool


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of a text with their offsets, paragraph numbers and headline flags."""
    paragraphs: list[list[tuple[int, int]]] = []
    for para in PARA_RE.finditer(text):
        p0, body = para.start(), para.group()
        if not body.strip():
            continue
        spans, s = [], 0
        for brk in finditer_from(SENT_BREAK_RE, SENT_BREAK_START_RE, body):
            at = brk.start()
            if body[at] == ".":
                word = LAST_WORD_RE.search(body, max(0, at - 12), at)
                if word:
                    last = word.group(1).lower().rstrip(".")
                    if last in ABBREVIATIONS or (len(last) == 1 and word.group(1).isupper()):
                        continue
            spans.append((s, brk.end()))
            s = brk.end()
        spans.append((s, len(body)))
        cleaned = []
        for a, b in spans:
            for a, b in (_cut_long(body, a, b) if b - a > MAX_SENTENCE_CHARS else ((a, b),)):
                chunk = body[a:b]
                lead = len(chunk) - len(chunk.lstrip())
                trail = len(chunk.rstrip())
                if trail > lead:
                    cleaned.append((p0 + a + lead, p0 + a + trail))
        if cleaned:
            paragraphs.append(cleaned)
    sentences: list[Sentence] = []
    seen: set[str] = set()
    last_para = len(paragraphs) - 1
    for pi, spans in enumerate(paragraphs):
        last_span = len(spans) - 1
        for si, (a, b) in enumerate(spans):
            sent = text[a:b]
            words = sent.split()
            headline = (last_span == 0 and pi < last_para and not sent.endswith(SENTENCE_FINAL)
                        and len(words) <= MAX_HEADLINE_WORDS)
            key = " ".join(words)
            truncated = si == last_span and sent.endswith(("...", "…"))
            sentences.append(Sentence(a, b, sent, pi, headline, key in seen, truncated))
            seen.add(key)
    return sentences


def _cut_long(body: str, a: int, b: int) -> list[tuple[int, int]]:
    """The span [a, b) of a paragraph cut at commas or spaces into pieces of at most MAX_SENTENCE_CHARS."""
    pieces = []
    while b - a > MAX_SENTENCE_CHARS:
        limit = a + MAX_SENTENCE_CHARS
        cut = max(body.rfind(", ", a, limit), body.rfind("; ", a, limit))
        if cut <= a + MAX_SENTENCE_CHARS // 2:
            cut = body.rfind(" ", a, limit)
        if cut <= a:
            cut = limit
        pieces.append((a, cut + 1))
        a = cut + 1
    pieces.append((a, b))
    return pieces
