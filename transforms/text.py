"""Words and sentences: how every stage cuts an article's text into words and into sentences.

Every fold of words into tokens and every sentence splitter of tollwatch is here, written once. The
stages do not all cut alike, and where they differ the difference is needed; each cut has a name
that says which one it is.

Words
- ``words``, ``joined_words``, ``ascii_words``, ``blank_non_word_bytes``: a word is a run of word
  characters (``\\w+``: letters, digits, ``_``). Exact copies (``extract.normalized_text_hash``,
  after NFKC and case folding), repeated passages (``repeats``: the words of a sentence) and event
  terms (``events``) read words so. ``joined_words`` and ``ascii_words`` are the same words
  computed from the UTF-8 bytes with one byte table: the regex tests every character one by one.
- ``shingle_fold``, ``shingle_fold_bytes``, ``shingle_words``: near copies' shingles (``dedup``)
  cut at the Unicode separators instead (punctuation, symbols, spaces, controls) and drop format
  characters. That is not ``\\w+``: a combining mark (the vowel signs of Devanagari, Bengali, Thai)
  stays in its word where ``\\w+`` cuts the word there, a soft hyphen or zero-width joiner inside
  a word is removed where ``\\w+`` cuts there too, and ``_`` separates. The shingles, the MinHash
  sketches and the signatures a run keeps in ``OUT/_state/signatures`` all hash these words:
  another fold would find other copies and make earlier runs' signatures incomparable.
- ``lower_words``: the lower-case words of a text as written (no folding): a gazetteer name that
  the text also uses as an ordinary word ("Police", "Mercy") is not read as a place (``infer_events``).
- ``FIGURE_WORD``: sentence alignment's words (``alignment.outline``): a number keeps its thousands
  separators ("2,012", "2.012"), so it can be read as one figure.

Sentences
- ``split_sentences`` (the claims grammar): a sentence's absolute span in the text, its paragraph,
  whether it is a headline (a short line without final punctuation) or repeats an earlier one,
  no break after an abbreviation ("Gen.", "U.S.") or an initial, overlong pieces (tables) cut.
  A claim's ``char_start``/``char_end`` index the text and its attribution reads the sentence
  whole, so these rules matter.
- ``line_sentences`` (repeated passages): the sentences of one line, ending at terminal
  punctuation before a space and anything but a lower-case letter, or before a capitalised word
  glued to it (a repeat glued on without a space). No abbreviation rule: both occurrences of a
  passage split the same way, which is all that stage needs.
- ``LOOSE_SENTENCE_END`` (sentence alignment, split on it): a sentence end before a capital or a
  digit, any line break, or a dash that ends a dateline ("ALFAFAR, Spain (Reuters) -- "). Again
  both texts compared split alike; a line break always ends the unit because captions and credit
  lines stand on lines of their own.

The claims grammar goes on to cut a sentence into its own tokens (``claims.patterns.TOKEN_RE``,
``claims.sources.SRC_TOKEN_RE``): parsing a sentence, not folding words, and kept with the grammar
and its fast-path twins.

The three splitters mostly agree, not wholly: on realdev's 90 articles the claims splitter finds
1,354 distinct sentences, ``line_sentences`` 1,376 (1,335 of them the same) and
``LOOSE_SENTENCE_END`` 1,415 (1,270 the same). One splitter for all would change what those stages
find, so each is kept as its stage was measured with.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple, Optional

__all__ = [
    "ABBREVIATIONS", "FIGURE_WORD", "LOOSE_SENTENCE_END", "MAX_HEADLINE_WORDS", "MAX_SENTENCE_CHARS",
    "Sentence", "ascii_words", "blank_non_word_bytes", "finditer_from", "joined_words", "line_sentences",
    "lower_words",
    "shingle_fold", "shingle_fold_bytes", "shingle_words", "split_sentences", "words",
]


# ---- Words: runs of word characters (\w+) ------------------------------------------------------
_WORD = re.compile(r"\w+")
_NON_WORD = re.compile(r"[^\w]+")
_SPACES = re.compile(rb"  +")
# ASCII bytes that are not word characters (\w) map to a space; the others, and every byte of a
# multi-byte UTF-8 sequence, to themselves.
_ASCII_NON_WORD_TO_SPACE = bytes(
    b if chr(b).isalnum() or b == ord("_") else ord(" ") for b in range(128)) + bytes(range(128, 256))


def words(text: str) -> list[str]:
    """The words of the text (its runs of word characters, ``\\w+``), in order."""
    return _WORD.findall(text)


def blank_non_word_bytes(data: bytes) -> bytes:
    """The bytes with each ASCII byte that is no word character made a space, every other byte
    kept: offsets stay, and in ASCII text the words are then the runs of non-spaces."""
    return data.translate(_ASCII_NON_WORD_TO_SPACE)


def ascii_words(text: str) -> list[bytes]:
    """The words of an ASCII text, as bytes (UnicodeEncodeError for any other text)."""
    return text.encode("ascii").translate(_ASCII_NON_WORD_TO_SPACE).split()


def joined_words(text: str) -> bytes:
    """The text's words joined by single spaces, as UTF-8 (``" ".join(words(text))``), computed
    faster: a byte table does the ASCII characters at once and leaves the regex only the tokens
    that hold other characters."""
    try:
        data = text.encode("utf-8").translate(_ASCII_NON_WORD_TO_SPACE)
    except UnicodeEncodeError:  # a lone surrogate: UTF-8 has no bytes for it, the regex drops it
        return _NON_WORD.sub(" ", text).strip().encode("utf-8")
    if data.isascii():
        return _SPACES.sub(b" ", data).strip()
    found = []
    for token in data.split():
        if token.isascii():
            found.append(token)
        else:
            found.extend(word.encode("utf-8") for word in _WORD.findall(token.decode("utf-8")))
    return b" ".join(found)


# A number with its thousands separators is one word ("2,012", "2.012").
_LOWER_WORD = re.compile(r"\b[a-z][a-z'’-]*\b")


def lower_words(text: str) -> set[str]:
    "The distinct words of the text written in lower case (hyphens and apostrophes kept)."
    return set(_LOWER_WORD.findall(text))


FIGURE_WORD = re.compile(r"\w+(?:[.,]\d{3})*")


# ---- Words of near copies' shingles: cut at Unicode separators -------------------------------
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


def shingle_fold_bytes(text: str) -> bytes:
    """Return ``shingle_fold(text)`` as UTF-8. The few distinct non-ASCII separators are replaced one
    by one and ASCII ones by ``bytes.translate``: ``str.translate`` leaves its fast path as soon as a
    text holds one curly quote, and is then 6x slower than all of this."""
    text = unicodedata.normalize("NFKC", text).lower()
    if not text.isascii():
        for char in set(_NON_ASCII.findall(text)):
            replacement = _separator(char)
            if replacement is not None:
                text = text.replace(char, replacement)
    # surrogatepass: a lone surrogate left by a lossy decode is hashed, not an error.
    return text.encode("utf-8", "surrogatepass").translate(_ascii_separator_bytes())


def shingle_fold(text: str) -> str:
    """Return the text in NFKC, lower case, with punctuation, symbols and any whitespace replaced by
    a space: words are then exactly the runs of non-space characters."""
    return shingle_fold_bytes(text).decode("utf-8", "surrogatepass")


def shingle_words(text: str) -> list[str]:
    "Return the words of the shingle-folded text."
    return shingle_fold(text).split()


# ---- Sentences for the claims grammar -----------------------------------------------------------
MAX_HEADLINE_WORDS = 25  # a line without final punctuation and at most this long is a headline
MAX_SENTENCE_CHARS = 1000  # longer "sentences" (tables, lists) are cut, keeping the grammar's work linear
ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "gen", "lt", "col", "sgt", "capt", "maj", "rep", "sen", "gov",
                 "pres", "st", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
                 "nov", "dec", "no", "vs", "etc", "inc", "co", "corp", "ltd", "jr", "sr", "u.s", "u.n",
                 "u.k", "e.u", "a.m", "p.m", "approx", "est", "fig", "al", "mt", "ft", "prof", "rev",
                 "adm", "brig", "cpl", "pvt", "hon", "messrs", "govt", "dept", "univ", "assn", "bros"}
# (The last branch: sentences a page ran together, "... urgent help.The country's ...": a full stop between
# a lower-case word and a capitalised one, each of three letters or more, not a name such as "Paralel.Az".)
SENT_BREAK_RE = re.compile(r"""[.!?]+(?=["“][A-Z])|(?:[.!?]+|…)["”’'\)\]]*(?=\s+["“‘(\[]?[A-Z0-9])"""
                           r"""|(?<=[a-z]{3})\.(?=[A-Z][a-z]{2,}\b)""")
SENT_BREAK_START_RE = re.compile(r"[.!?…]")  # where a sentence break can start
LAST_WORD_RE = re.compile(r"([A-Za-z][A-Za-z.]*)$")  # the word before a full stop (`_last_word`, faster)
_WORD_OR_DOT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz."
PARA_RE = re.compile(r"[^\n]+")
SENTENCE_FINAL = tuple('.!?:;"”’)…')


def finditer_from(regex: re.Pattern, start: re.Pattern, text: str, start_text: str | None = None) -> list[re.Match]:
    """The matches of `regex.finditer(text)` for a pattern that matches only where `start` does (in
    `start_text`, default `text`, with the same offsets): it is tried there only, in text order and from the
    end of the match before, as finditer tries it. `start` is the faster to search: it begins with plain
    words or characters, which the engine finds by a fast scan, or it is a lower-case twin."""
    found: list[re.Match] = []
    within = text if start_text is None else start_text
    key = start.search(within)
    while key is not None:
        m = regex.match(text, key.start())
        if m is not None:
            found.append(m)
            key = start.search(within, m.end())
        else:
            key = start.search(within, key.start() + 1)
    return found


class Sentence(NamedTuple):
    """A sentence (or headline) of an article, its span absolute in the article's text."""

    start: int
    end: int
    text: str
    para: int
    headline: bool
    repeated: bool
    truncated: bool


_new_tuple = tuple.__new__  # a Sentence without NamedTuple's __new__, a Python function


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
                word = _last_word(body, max(0, at - 12), at)
                if word:
                    last = word.lower().rstrip(".")
                    if last in ABBREVIATIONS or (len(last) == 1 and word.isupper()):
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
            # The sentence's words joined by single spaces: the sentence itself when its only blanks are single
            # ASCII spaces (every other blank is a control or separator character, which is not printable).
            key = sent if "  " not in sent and sent.isprintable() else " ".join(sent.split())
            headline = (last_span == 0 and pi < last_para and not sent.endswith(SENTENCE_FINAL)
                        and len(sent.split()) <= MAX_HEADLINE_WORDS)
            truncated = si == last_span and sent.endswith(("...", "…"))
            sentences.append(_new_tuple(Sentence, (a, b, sent, pi, headline, key in seen, truncated)))
            seen.add(key)
    return sentences


def _last_word(body: str, start: int, end: int) -> str:
    """`LAST_WORD_RE.search(body, start, end).group(1)` ("" for no match) without the regex, which tries every
    start in the window: the letters and dots that end at `end`, from the first letter among them."""
    window = body[start:end]
    return window[len(window.rstrip(_WORD_OR_DOT)):].lstrip(".")


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


# ---- Sentences for comparing texts: repeated passages, sentence alignment ---------------------
# A sentence ends at terminal punctuation (and any closing quotes or brackets) followed by space and
# something other than a lower-case letter, by a capitalised word directly (a glued repeat), or by
# the end of the line. "U.N. envoy" stays one sentence; "Dec. 8" splits, harmlessly: both copies of
# a passage split the same way.
_LINE_SENTENCE_END = re.compile(r"""[.!?\u2026]+["'\u201d\u2019\u00bb)\]]*"""
                                r"""(?=\s+[^a-z\s]|["\u201c\u2018\u00ab(]?[A-Z][a-z]|\s*$)""")


def line_sentences(line: str) -> list[tuple[int, int]]:
    "Return the (start, end) character spans of the sentences of one line."
    spans, start = [], 0
    for match in _LINE_SENTENCE_END.finditer(line):
        spans.append((start, match.end()))
        start = match.end()
    if line[start:].strip():
        spans.append((start, len(line)))
    out = []
    for s, e in spans:
        while s < e and line[s].isspace():
            s += 1
        if s < e:
            out.append((s, e))
    return out


# Sentence ends: . ! ? (and a closing quote) before a capital or a digit, a line break, or a
# dash used as a dateline separator ("ALFAFAR, Spain (Reuters) -- ").
# Every end starts with white space or a closing quote or bracket: the lookahead in front says so,
# and lets the regex engine skip to such characters (2x faster, the same splits).
LOOSE_SENTENCE_END = re.compile(
    r"(?=[\s\"'”’)\]])(?:(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])|\n+|\s+[-–—]{1,2}\s+)")
