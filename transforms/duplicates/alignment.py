"""Sentence alignment: the evidence a copy keeps when its wording does not.

Real copies are trimmed, carry captions and credit lines, get a new lead in a write-through, or are
reworded sentence by sentence by paraphrase sites; translations keep only the figures. What survives
all of it is the story told **sentence by sentence, in the same order**. So an article's ``Outline``
keeps, per sentence, the hashes of its content words (stop words dropped, words cut to their first
six letters so "injured"/"injuries" meet, numbers without their thousands separators so "2,012",
"2.012" and "2012" meet), and the ordered figures of the text.

``aligned_weight`` pairs each sentence of the shorter outline with its most similar sentence of the
longer one (weighted Dice of the content words, numbers counting double, at least ``MIN_SHARED_TERMS``
words shared) and keeps the heaviest chain of pairs in increasing order in both texts: the sum of
their similarities is how much of the story the two tell alike, in the same order. One shared
boilerplate closing, one recycled background paragraph or one quote is one sentence; a copy or a
rewrite retells several, in order.

``copy_kind`` decides a candidate pair from its outlines and its shingle overlap (``dedup.Overlap``).
Dates play no part: a copy is a copy whatever the dates on the pages.
"""

from __future__ import annotations

import array
import functools
import itertools
import re
import struct
import unicodedata
import zlib
from typing import NamedTuple, Optional, Sequence

import numpy as np

from tollwatch.transforms.claims import figure_value
from tollwatch.transforms.text import FIGURE_WORD as _WORD, LOOSE_SENTENCE_END as _SENTENCE_END

__all__ = ["Outline", "aligned_share", "aligned_weight", "copy_kind", "figures_in_order",
           "lead_keys", "outline", "pack_outline", "unpack_outline"]

# A sentence pair counts in the alignment from this similarity (weighted Dice of content words).
MIN_SENTENCE_SIMILARITY = 0.4
# ... and with at least this many content words in common (a short line of three names is not a sentence).
MIN_SHARED_TERMS = 3
# Sentences with fewer content words are furniture (a credit line, "Read more", a date).
MIN_SENTENCE_TERMS = 4
# A copy or rewrite: the aligned sentences weigh at least this much (about three closely retold
# sentences, or five loosely) ...
MIN_ALIGNED_WEIGHT = 2.2
# ... and that is at least this share of the shorter text's sentences (a long page that shares a
# few sentences with a long story is not its copy).
MIN_ALIGNED_SHARE = 0.25
# A short copy among its furniture: this much of the shorter text's shingles shared ...
SHORT_CONTAINMENT = 0.35
# ... in at least this many sentences that are nearly verbatim (one shared boilerplate sentence
# never links two stories).
VERBATIM_SIMILARITY = 0.7
MIN_VERBATIM_SENTENCES = 2
# A statement quoted word for word is in every report that quotes it, independent or not: as
# evidence it weighs at most this, and is not a verbatim sentence of the rule above.
QUOTE_WEIGHT = 0.5
# ... one of them in the shorter text's lead: editors cut a wire copy from the bottom, and a shared
# closing or footer sits at the end.
LEAD_SENTENCES = 3
# Below this shingle containment an aligned pair is a rewrite, not a near copy.
REWRITE_CONTAINMENT = 0.15
# A translation keeps the figures in order: at least this many distinct figures shared in the
# same order, and this share of the shorter text's figures.
MIN_TRANSLATED_FIGURES = 5
MIN_TRANSLATED_SHARE = 0.8
# Figures below this are days, ages and counts of everything; a figure is a key of candidates.
MIN_FIGURE = 10
# A text is English when this share of its words are the commonest English words (the 90 realdev
# articles in English: 0.16-0.4; the one in Portuguese: 0.013).
ENGLISH_SHARE = 0.08
_ENGLISH_WORD = re.compile(
    r"\b(?:the|of|and|to|in|is|that|for|on|was|with|as|by|at|from|said|were|has|have)\b")
_ENGLISH_CHUNK = 1024
# Sentences of the lead that propose candidates: a trimmed copy keeps the top of the story.
LEAD_KEYS = 6
# Most sentences kept per outline (bounds the alignment at 64 x 64 comparisons).
MAX_SENTENCES = 64

_NUMBER_BIT = np.uint32(1 << 31)
_STOP = frozenset("""
a about after against all also an and any are as at be been before being between both but by can
could did do does during each few for from had has have he her his how i if in into is it its just
many may might more most much new no not of on only or other our out over own per said same says
say she should since so some such than that the their them then there these they this those
through to under until up very was we were what when where which while who whom whose will with
would you your
""".split())
_SEPARATOR = re.compile(r"[.,]")
_QUOTE_OPEN = re.compile(r"\s*[\"“”„«]")
# (?=\d) in front: a figure starts with a digit, and the engine then skips to digits (2x faster).
_FIGURE = re.compile(r"(?=\d)(?<![\w.,])(?:\d{1,3}(?:[.,]\d{3})+|\d+)(?![\w]|[.,]\d)")


class Outline(NamedTuple):
    """What sentence alignment needs of a text: per sentence, its content-word hashes (sorted,
    distinct uint32; the top bit marks a number), the text's distinct figures in order, whether
    it reads as English (its wording is comparable with English texts), and which sentences are
    quotations."""

    sentences: tuple
    figures: tuple
    english: bool = True
    quoted: frozenset = frozenset()
    # What the similarities read of the sentences, kept with an unpacked outline (``SentenceIndex``).
    index: Optional["SentenceIndex"] = None


class SentenceIndex:
    """An outline's sentences as ``_similarities`` reads them: all their terms in one array sorted
    by term (``terms``), the sentence of each (``rows``) and its weight (``term_weights``: 2 for a
    number), and each sentence's ``_weight`` (``weights``). An article is compared with each of its
    candidates: building these for every pair was a quarter of the similarities' time. (Held in
    memory with an unpacked outline, never stored.)"""

    __slots__ = ("terms", "rows", "term_weights", "weights")

    def __init__(self, terms: np.ndarray, rows: np.ndarray, term_weights: np.ndarray,
                 weights: np.ndarray):
        self.terms, self.rows, self.term_weights, self.weights = terms, rows, term_weights, weights


def sentence_index(sentences: tuple, terms: Optional[np.ndarray] = None) -> SentenceIndex:
    """The SentenceIndex of `sentences` (`terms`: their concatenation, if at hand)."""
    if terms is None:
        terms = np.concatenate(sentences) if sentences else np.empty(0, dtype=np.uint32)
    sizes = [s.size for s in sentences]
    # int16 rows: at most MAX_SENTENCES sentences, and the index is cached with its outline.
    rows = np.repeat(np.arange(len(sentences), dtype=np.int16), sizes)
    order = terms.argsort()
    ordered, rows = terms[order], rows[order]
    term_weights = np.where(ordered & _NUMBER_BIT, 2, 1).astype(np.uint8)
    weights = np.bincount(rows, weights=term_weights, minlength=len(sentences))
    return SentenceIndex(ordered, rows, term_weights, weights)


class _Terms(dict):
    """A lower-cased word -> the 32-bit hash of its term (top bit set for a number), 0 for a stop
    word or a word of one or two letters. A word is hashed once per process (the cache is emptied
    past ``_MAX_CACHED_TERMS`` words), and looked up from C (``map(terms.__getitem__, words)``)."""

    def __missing__(self, word: str) -> int:
        if word[0].isdigit():
            value = zlib.crc32(_SEPARATOR.sub("", word).encode()) | 0x80000000
        elif len(word) >= 3 and word not in _STOP:
            value = (zlib.crc32(word[:6].encode("utf-8", "surrogatepass")) & 0x7FFFFFFF) or 1
        else:
            value = 0
        if len(self) >= _MAX_CACHED_TERMS:
            self.clear()
        self[word] = value
        return value


_MAX_CACHED_TERMS = 1 << 18
_TERMS = _Terms()


class _FigureValues(dict):
    """A figure as written ("2,012") -> its value (``claims.figure_value``), None if it has none."""

    def __missing__(self, written: str) -> Optional[int]:
        value = figure_value(_SEPARATOR.sub("", written))
        if len(self) >= _MAX_CACHED_TERMS:
            self.clear()
        self[written] = value
        return value


_FIGURE_VALUES = _FigureValues()

# UTF-8 bytes.translate table: ASCII bytes that no word can hold (``_WORD``: word characters, and
# "." or "," inside a number) to a space, every other byte kept. A text's words never cross such a
# byte, and ``_WORD`` has no lookaround: the words of the runs of other bytes ("chunks") are the
# words of the text.
_CHUNK_TABLE = bytes(b if b >= 0x80 or chr(b).isalnum() or chr(b) in "_.," else 0x20
                     for b in range(256))
_TERM_BITS = 32


class _ChunkTerms(dict):
    """A chunk of a lower-cased text (bytes between ``_CHUNK_TABLE``'s spaces: "said," "2,012"
    "u.s." "it’s") -> the term of its words (``_Terms``): 0 if none counts, the term if one does,
    else the distinct terms packed into one int above 32 bits (term i at bits 32 i), which
    ``_SentenceKeys`` unpacks. Most chunks are one plain word, hashed here as ``_Terms`` hashes it;
    the others are cut by ``_WORD``, once per distinct chunk instead of in every sentence."""

    def __missing__(self, chunk: bytes) -> int:
        # A "." or "," at either end is in no word ("said," "u.s."): the chunk without them has
        # the same words, and a plain word's term is then most likely known.
        core = chunk.strip(b".,")
        if len(core) < len(chunk) and core.isalnum():
            value = self[core]
        elif chunk.isalnum():  # ASCII letters and digits: one word, its UTF-8 bytes
            if chunk[0] <= 0x39:  # a digit
                value = zlib.crc32(chunk) | 0x80000000
            elif len(chunk) >= 3 and chunk not in _STOP_BYTES:
                value = (zlib.crc32(chunk[:6]) & 0x7FFFFFFF) or 1
            else:
                value = 0
        else:
            terms = set(map(_TERMS.__getitem__,
                            _WORD.findall(chunk.decode("utf-8", "surrogatepass"))))
            terms.discard(0)
            value = terms.pop() if len(terms) == 1 else 0
            for i, term in enumerate(sorted(terms), 1):
                value |= term << (_TERM_BITS * i)
        if len(self) >= _MAX_CACHED_TERMS:
            self.clear()
        self[chunk] = value
        return value


_CHUNK_TERMS = _ChunkTerms()
_STOP_BYTES = frozenset(word.encode() for word in _STOP)
_TERM_MASK = (1 << _TERM_BITS) - 1
assert array.array("I").itemsize == np.dtype(np.uint32).itemsize


class _ChunkEnglish(dict):
    """A chunk (``_ChunkTerms``) -> how many of the commonest English words (``_ENGLISH_WORD``) it
    holds: the chunks of a text hold all of its words, so their sum is the text's count."""

    def __missing__(self, chunk: bytes) -> int:
        if chunk.isalnum():
            count = int(chunk in _ENGLISH_TOKENS)
        else:
            count = len(_ENGLISH_WORD.findall(chunk.decode("utf-8", "surrogatepass")))
        if len(self) >= _MAX_CACHED_TERMS:
            self.clear()
        self[chunk] = count
        return count


_CHUNK_ENGLISH = _ChunkEnglish()
_ENGLISH_TOKENS = frozenset(
    b"the of and to in is that for on was with as by at from said were has have".split())


class _SentenceKeys(dict):
    """A sentence (as ``_SENTENCE_END`` cuts the NFKC text) -> what the outline reads of it:
    (its distinct terms (``_Terms``) sorted, as the bytes of a uint32 array, b"" if it has fewer
    than ``MIN_SENTENCE_TERMS``; how many of the commonest English words it holds; the values of
    its figures of at least ``MIN_FIGURE``, in order). A sentence holds
    its words and figures whole (the cuts are white space, quotes, brackets and dashes, in no word
    or figure, and look-arounds see them as they see a text's ends), so the outline is read
    sentence by sentence. Copies share sentences: a sentence met again is one lookup. At most
    ``_MAX_CACHED_SENTENCES`` (~20 MB; on the 10k bench corpus, half of its articles in one
    process as one of two workers sees them, 38% of the sentences were met before; 28% with half
    as many kept)."""

    def __missing__(self, sentence: str) -> tuple[bytes, int, tuple]:
        lowered = sentence.lower()
        if not lowered.isascii():
            # The commonest non-ASCII characters that are in no word, glued to words (“said”):
            # cut there, the chunks are words met before.
            for char in _NON_WORD_PUNCTUATION:
                lowered = lowered.replace(char, " ")
        chunks = lowered.encode("utf-8", "surrogatepass").translate(_CHUNK_TABLE).split()
        terms = set(map(_CHUNK_TERMS.__getitem__, chunks))
        terms.discard(0)
        ordered = sorted(terms)
        if ordered and ordered[-1] > _TERM_MASK:  # chunks of several words
            for packed in ordered:
                if packed > _TERM_MASK:
                    terms.discard(packed)
                    while packed:
                        packed >>= _TERM_BITS
                        terms.add(packed & _TERM_MASK)
            terms.discard(0)
            ordered = sorted(terms)
        # array("I"): the bytes of np.uint32 values (4-byte unsigned, native order), made faster.
        key = array.array("I", ordered).tobytes() if len(ordered) >= MIN_SENTENCE_TERMS else b""
        written = _FIGURE.findall(sentence)
        found = (key, sum(map(_CHUNK_ENGLISH.__getitem__, chunks)),
                 _figure_values(written) if written else ())
        if len(self) >= _MAX_CACHED_SENTENCES:
            # The older half goes (a dict keeps its insertion order): a story's copies come
            # close together, so the sentences met lately are the likeliest to come again.
            # (pop: another thread of the worker may be emptying it too)
            for old in list(itertools.islice(self, _MAX_CACHED_SENTENCES // 2)):
                self.pop(old, None)
        self[sentence] = found
        return found


def _figure_values(written: list[str]) -> tuple:
    "The values of at least ``MIN_FIGURE`` of figures as written (``_FIGURE``), in order."
    return tuple(v for v in map(_FIGURE_VALUES.__getitem__, written)
                 if v is not None and v >= MIN_FIGURE)


_NON_WORD_PUNCTUATION = "\u2018\u2019\u201c\u201d\u2013\u2014"
_MAX_CACHED_SENTENCES = 1 << 16
_SENTENCE_KEYS = _SentenceKeys()


def _reads_as_english(lowered: str, chunk: int = _ENGLISH_CHUNK) -> bool:
    """Whether at least ``ENGLISH_SHARE`` of the text's words are the commonest English words.
    Counted chunk by chunk, each cut at a space (no word spans two chunks, so the count is the
    whole text's), and stopped once the share is reached: an English text reaches it in its first
    third, and counting the rest was a fifth of the outline's time."""
    n_words = len(lowered.split())
    if not n_words:
        return True
    need, found, start, end = ENGLISH_SHARE * n_words, 0, 0, len(lowered)
    while start < end:
        stop = lowered.find(" ", start + chunk)
        stop = end if stop < 0 else stop
        found += len(_ENGLISH_WORD.findall(lowered, start, stop))
        if found >= need:
            return True
        start = stop
    return False


# Where a sentence end (``_SENTENCE_END``) can start: after ". ! ?", at a line break, or in the
# white space before a dash.
_END_CUES = re.compile(r"[.!?\n\-\u2013\u2014]")


def _sentences(text: str) -> list[str]:
    """``_SENTENCE_END.split(text)``, the regex tried only where a sentence end can start (found
    by a scan for one character, 2x faster): the first of those places where it matches is where
    the whole scan would have found its next match."""
    starts = []
    for at in map(re.Match.start, _END_CUES.finditer(text)):
        char = text[at]
        if char in ".!?":
            starts.append(at + 1)
        elif char == "\n":
            starts.append(at)
        else:
            space = at
            while space and text[space - 1].isspace():  # str.isspace is the regex's \s
                space -= 1
            starts.extend(range(space, at))
    starts.sort()
    pieces, end, match = [], 0, _SENTENCE_END.match
    for at in starts:
        if at >= end:
            found = match(text, at)
            if found is not None:
                pieces.append(text[end:at])
                end = found.end()
    pieces.append(text[end:])
    return pieces


def outline(text: str) -> Outline:
    """The Outline of a text: its sentences with enough content words, each once, in order."""
    text = unicodedata.normalize("NFKC", text)
    lowered = text.lower()
    kept, seen, quoted, figures, english = [], set(), set(), [], 0
    need = ENGLISH_SHARE * len(lowered.split())
    pieces = _sentences(text)
    for at, (key, english_words, sentence_figures) in enumerate(
            map(_SENTENCE_KEYS.__getitem__, pieces)):
        english += english_words
        for value in sentence_figures:
            if value not in figures:
                figures.append(value)
        if key and key not in seen:
            seen.add(key)
            if _QUOTE_OPEN.match(pieces[at]):
                quoted.add(len(kept))
            kept.append(key)
            if len(kept) == MAX_SENTENCES:
                # The sentences after these are not outlined: only their figures, and their
                # words if the count of English words is short.
                for rest in pieces[at + 1:]:
                    for value in _figure_values(_FIGURE.findall(rest)):
                        if value not in figures:
                            figures.append(value)
                if english < need and _reads_as_english(lowered):
                    english = need
                break
    english = english >= need
    # One array for all sentences, each a view of it: an array per sentence built from a list
    # was a quarter of the outline's time.
    ends = [end // 4 for end in itertools.accumulate(map(len, kept))]
    flat = np.frombuffer(bytearray(b"".join(kept)), dtype=np.uint32)
    sentences = [flat[start:end] for start, end in zip([0] + ends, ends)]
    return Outline(tuple(sentences), tuple(figures), english, frozenset(quoted))


def lead_keys(o: Outline, n: int = LEAD_KEYS) -> tuple[int, ...]:
    """A 32-bit hash of the content words of each of the first `n` sentences: two texts that
    share one share a sentence, word for word."""
    return tuple(zlib.crc32(terms.astype("<u4").tobytes()) for terms in o.sentences[:n])


def pack_outline(o: Outline) -> bytes:
    """The outline as bytes (little-endian): sentence count, each sentence's length, the hashes,
    then the figures (uint64)."""
    # A sentence's length, with the top bit set for a quotation (at most MAX_SENTENCES x a few
    # dozen words: far below 2**15).
    counts = [s.size | (0x8000 if i in o.quoted else 0) for i, s in enumerate(o.sentences)]
    head = struct.pack(f"<BH{len(counts)}H", int(o.english), len(counts), *counts)
    body = np.concatenate(o.sentences).astype("<u4").tobytes() if o.sentences else b""
    return head + body + np.array(o.figures, dtype="<u8").tobytes()


@functools.lru_cache(maxsize=4096)
def unpack_outline(data: bytes) -> Outline:
    """The outline packed by ``pack_outline`` (empty bytes: an empty outline). Cached: an article
    is compared with each of its candidates."""
    if not data:
        return Outline((), ())
    english, n = struct.unpack_from("<BH", data)
    counts = struct.unpack_from(f"<{n}H", data, 3)
    start = at = 3 + 2 * n
    sentences, quoted = [], set()
    for i, count in enumerate(counts):
        if count & 0x8000:
            quoted.add(i)
            count &= 0x7FFF
        sentences.append(np.frombuffer(data, dtype="<u4", count=count, offset=at))
        at += 4 * count
    figures = tuple(int(v) for v in np.frombuffer(data[at:], dtype="<u8"))
    terms = np.frombuffer(data, dtype="<u4", count=(at - start) // 4, offset=start)
    sentences = tuple(sentences)
    return Outline(sentences, figures, bool(english), frozenset(quoted),
                   sentence_index(sentences, terms))


def _weight(terms: np.ndarray) -> float:
    return float(terms.size + np.count_nonzero(terms & _NUMBER_BIT))


def sentence_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Weighted Dice of two sentences' content words (numbers count double); 0 below
    MIN_SHARED_TERMS shared words."""
    shared = np.intersect1d(a, b, assume_unique=True)
    if shared.size < MIN_SHARED_TERMS:
        return 0.0
    return 2.0 * _weight(shared) / (_weight(a) + _weight(b))


def _similarities(short: Outline, long_: Outline) -> np.ndarray:
    """``sentence_similarity`` of every sentence of `short` with every sentence of `long_`, at
    once: each term of `short` meets the same term's sentences in `long_` (the two indexes are
    sorted by term), and the meetings are counted per pair of sentences, once plain and once
    weighted. (Dense incidence matrices over the shared terms, multiplied, cost three times as
    much: the shared terms were sorted out for every pair.)"""
    n, m = len(short.sentences), len(long_.sentences)
    out = np.zeros((n, m))
    if not n or not m:
        return out
    a = short.index or sentence_index(short.sentences)
    b = long_.index or sentence_index(long_.sentences)
    first = b.terms.searchsorted(a.terms, "left")
    count = b.terms.searchsorted(a.terms, "right") - first
    ends = count.cumsum()
    meetings = int(ends[-1]) if ends.size else 0
    if meetings < MIN_SHARED_TERMS:
        return out
    # The meeting's position in `b`: the first of its term's run, plus its rank in that run.
    at = np.arange(meetings) + (first - (ends - count)).repeat(count)
    cell = np.multiply(a.rows.repeat(count), m, dtype=np.intp) + b.rows[at]
    shared = np.bincount(cell, minlength=n * m).reshape(n, m)
    weighted = np.bincount(cell, weights=a.term_weights.repeat(count),
                           minlength=n * m).reshape(n, m)
    out = 2.0 * weighted / np.add.outer(a.weights, b.weights)
    out[shared < MIN_SHARED_TERMS] = 0.0
    return out


def alignment_chain(a: Outline, b: Outline, floor: float,
               similarity: Optional[np.ndarray] = None) -> list[tuple[int, int, float]]:
    """(sentence of the shorter outline, its match in the longer, similarity) of the heaviest
    in-order chain of best sentence matches of the shorter outline in the longer. `similarity`:
    their ``_similarities``, if already computed."""
    short, long_ = (a, b) if len(a.sentences) <= len(b.sentences) else (b, a)
    matches = []  # (sentence of the shorter, its best match in the longer, similarity)
    if similarity is None:
        similarity = _similarities(short, long_)
    if similarity.size:
        # The last best of each row, as a scan that keeps ties for the later sentence would.
        best_at = similarity.shape[1] - 1 - np.argmax(similarity[:, ::-1], axis=1)
        best = similarity[np.arange(similarity.shape[0]), best_at]
        for i in np.flatnonzero((best >= floor) & (best > 0)).tolist():
            matches.append((i, int(best_at[i]), float(best[i])))
    if not matches:
        return []
    # Heaviest increasing chain (a few dozen sentences: quadratic is fine).
    total = [value for _, _, value in matches]
    back = [-1] * len(matches)
    for i, (_, at, value) in enumerate(matches):
        for k in range(i):
            if matches[k][1] < at and total[k] + value > total[i]:
                total[i], back[i] = total[k] + value, k
    i = max(range(len(matches)), key=total.__getitem__)
    chain = []
    while i >= 0:
        chain.append(matches[i])
        i = back[i]
    return chain[::-1]


def aligned_weight(a: Outline, b: Outline,
                   floor: float = MIN_SENTENCE_SIMILARITY) -> tuple[float, int]:
    """(summed similarity of the in-order aligned sentences, sentences of the shorter outline)."""
    chain = alignment_chain(a, b, floor)
    return sum(value for _, _, value in chain), min(len(a.sentences), len(b.sentences))


def figures_in_order(a: Sequence[int], b: Sequence[int]) -> int:
    """How many distinct figures the two sequences share in the same order (longest chain)."""
    import bisect

    position = {v: i for i, v in enumerate(b)}
    tails: list[int] = []
    for v in a:
        if v in position:
            k = bisect.bisect_left(tails, position[v])
            tails[k:k + 1] = [position[v]]
    return len(tails)


def without_common_tail(chain: list[tuple[int, int, float]], a: Outline,
                         b: Outline) -> list[tuple[int, int, float]]:
    """The chain without the verbatim block it ends with when that block closes both texts: a
    footer, an about-us paragraph or a boilerplate closing that two outlets append to different
    stories. (A copy cut from the bottom ends inside the longer text; a whole copy is found by its
    shingles; a rewrite's closing is reworded.)"""
    short, long_ = sorted((len(a.sentences), len(b.sentences)))
    k = 0
    while (k < len(chain) and chain[-1 - k][0] == short - 1 - k
           and chain[-1 - k][1] == long_ - 1 - k and chain[-1 - k][2] >= VERBATIM_SIMILARITY):
        k += 1
    return chain[:len(chain) - k]


def _shorter(a: Outline, b: Outline) -> Outline:
    return a if len(a.sentences) <= len(b.sentences) else b


def _longer(a: Outline, b: Outline) -> Outline:
    return b if len(a.sentences) <= len(b.sentences) else a


def _evidence(chain: list[tuple[int, int, float]], a: Outline, b: Outline) -> float:
    """The weight of the aligned sentences as evidence of one story: each counts its similarity,
    except a quotation in both texts, which counts at most ``QUOTE_WEIGHT``."""
    short, long_ = _shorter(a, b), _longer(a, b)
    return sum(min(value, QUOTE_WEIGHT) if i in short.quoted and j in long_.quoted else value
               for i, j, value in chain)


# Sums of the same similarities in another order differ by far less than this.
_ROUNDING = 1e-9


def _most_evidence(similarity: np.ndarray) -> float:
    """The most evidence any alignment chain of these similarities can hold (``aligned_evidence``
    is at most this): a chain counts a sentence of the shorter text at most once, by its best
    match from ``MIN_SENTENCE_SIMILARITY`` on, and a quotation or a common tail less or not at all.
    Nearly every candidate pair that is not a near copy falls short of the cut by it (23,114 of
    the 10k benchmark's 23,118): the chain, a loop over the sentences, is then not built."""
    best = similarity.max(axis=1)
    return float(best[best >= MIN_SENTENCE_SIMILARITY].sum())


def copy_kind(a: Outline, b: Outline, containment: float) -> Optional[tuple[str, float]]:
    """('aligned' or 'rewrite', the evidence) if the two outlines tell one story as a copy does,
    given the shingle containment of the shorter text in the longer; else None. 'aligned': a near
    copy found by its sentences (a short copy among page furniture whose lead is verbatim, or a
    write-through that keeps the wire's sentences); 'rewrite': the story retold in other words, or
    translated (different languages: the figures in the same order)."""
    if a.english != b.english:
        shared = figures_in_order(a.figures, b.figures)
        fewest = min(len(a.figures), len(b.figures))
        if shared >= MIN_TRANSLATED_FIGURES and shared >= MIN_TRANSLATED_SHARE * fewest:
            return "rewrite", round(shared / fewest, 4)
        return None
    # Both rules align the same sentences: their similarities are computed once.
    similarity = _similarities(_shorter(a, b), _longer(a, b))
    if containment >= SHORT_CONTAINMENT:
        short, long_ = _shorter(a, b), _longer(a, b)
        verbatim = [m for m in without_common_tail(
                        alignment_chain(a, b, VERBATIM_SIMILARITY, similarity), a, b)
                    if not (m[0] in short.quoted and m[1] in long_.quoted)]
        if (len(verbatim) >= MIN_VERBATIM_SENTENCES and verbatim[0][0] < LEAD_SENTENCES
                and verbatim[0][1] < LEAD_SENTENCES):
            return "aligned", round(containment, 4)
    n = min(len(a.sentences), len(b.sentences))
    if not n or _most_evidence(similarity) < max(MIN_ALIGNED_WEIGHT, MIN_ALIGNED_SHARE * n) - _ROUNDING:
        return None
    weight, n = aligned_evidence(a, b, similarity)
    if not (n and weight >= MIN_ALIGNED_WEIGHT and weight >= MIN_ALIGNED_SHARE * n):
        return None
    kind = "aligned" if containment >= REWRITE_CONTAINMENT else "rewrite"
    return kind, round(min(1.0, weight / n), 4)


def aligned_evidence(a: Outline, b: Outline,
                      similarity: Optional[np.ndarray] = None) -> tuple[float, int]:
    "(the evidence of the in-order aligned sentences, sentences of the shorter outline)."
    chain = without_common_tail(alignment_chain(a, b, MIN_SENTENCE_SIMILARITY, similarity), a, b)
    return _evidence(chain, a, b), min(len(a.sentences), len(b.sentences))


def aligned_share(a: Outline, b: Outline) -> float:
    """How much of the shorter text the longer retells, sentence by sentence in the same order
    (0-1): the ``copy_similarity`` of a copy found by its sentences, whatever found it."""
    weight, n = aligned_evidence(a, b)
    return round(min(1.0, weight / n), 4) if n else 0.0
