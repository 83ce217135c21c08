"""The fast paths of the claims extractor find exactly what the plain patterns find (transforms/claims.py).

Each fast path stands in for a whole-text or IGNORECASE search: the per-sentence hint search, the
lower-case twins of the IGNORECASE patterns, the place patterns searched near their keywords, the sentence
breaks and places tried where their first characters occur, and the source finder's ASCII path.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from support import EXAMPLES
from tollwatch.transforms import claims as C

HERE = Path(__file__).resolve().parent

PLACES = ("Residents of Tuwaym said 20 were killed. The village of Al-Mukhtariya, Baniyas and Jableh was hit; "
          "Nuseirat refugee camp, the Shati camp and al-Maghazi displacement camp were shelled. Deir al-Balah, "
          "one of the last towns in the south, and Khan Younis, a city of 400,000, took the wounded. "
          "People of Kherson Oblast and families of the missing in Antakya waited. Downtown, people of "
          "the city waited. It ended.… Then a townsman of Kafr Nabl spoke.")
# A paragraph longer than MAX_SENTENCE_CHARS with no space: it is cut inside a word (at 1001 characters).
LONG = "x" * 998 + "-thousands" + "killed" * 200 + "said" + "y" * 1200


def _texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.txt"))]
    texts += [json.loads(line)["text"] for line in open(HERE / "claims_sentences.jsonl", encoding="utf-8")]
    texts += [PLACES, LONG]
    joined = "\n".join(texts)
    # Upper case, a caseless non-ASCII space, and cased non-ASCII letters that fold specially.
    return texts + [joined, joined.upper(), joined.replace(" ", "\u00a0"), "İSTANBUL " + joined.upper(),
                    "ſaid " + joined, "\u212aILLED " + joined]


TEXTS = _texts()

# The words the pre-filter must never miss: spelled-out counts ("zero" counts no one) and measure words.
SPELLED_OUT = [*(w for w, v in C.WORD_VALUES.items() if v), "dozen", "hundred", "thousand", "million", *C.VAGUE_FLOORS]
HINT_WORDS = {
    "number": (C.NUMBER_HINT_RE, [*SPELLED_OUT, *C.SCALE_VALUES, "7", "1,245"]),
    "casualty": (C.CASUALTY_HINT_RE, [*C.MEASURE_WORDS, *C.ACTIVE_BEFORE, *C.NOUN_BEFORE, "toll", "lives"]),
    "attribution": (C._ATTRIBUTION_HINT_LOW_RE, [*C._SPEECH_VERBS.split("|"), "according", "citing", "quoting"]),
}


def test_spelled_out_numbers_and_measure_words_are_hints():
    assert [w for w in SPELLED_OUT if not C.NUMBER_HINT_RE.search(w)] == []
    assert [w for w in C.MEASURE_WORDS if not C.CASUALTY_HINT_RE.search(w)] == []


@pytest.mark.parametrize("kind", sorted(HINT_WORDS))
def test_the_hint_search_of_a_sentence_agrees_with_the_whole_text(kind):
    """Every vocabulary word, wherever it stands in a sentence (first, last, glued to the stop, cut by a
    long-sentence cut), makes the per-sentence search answer as the whole-text scan does."""
    regex, words = HINT_WORDS[kind]
    for word in words:
        text = (f"{word} came first. Then the last word was {word}. It ended with {word}.\"Then\" "
                f"{word.upper()}? None here.\n{LONG.replace('-thousands', '-' + word)} tail {word}")
        low = text.lower()
        starts = [m.start() for m in regex.finditer(low)]
        for sent in C._split_sentences(text):
            expected = any(sent.start <= s < sent.end for s in starts)
            assert C._hint_in(regex, low, sent.start, sent.end) == expected, (word, sent.text[:60])


TWINS = [
    (C.NUMBER_RE, C._NUMBER_LOW_RE), (C.ACCORDING_RE, C._ACCORDING_LOW_RE),
    (C.REPORTED_BY_RE, C._REPORTED_BY_LOW_RE), (C.CITING_RE, C._CITING_LOW_RE),
    (C.ATTRIBUTION_HINT_RE, C._ATTRIBUTION_HINT_LOW_RE), (C._TRAILING_TIME_RE, C._TRAILING_TIME_LOW_RE),
    (C._CLAIM_WORDS_RE, C._CLAIM_WORDS_LOW_RE), (C._COREF_RE, C._COREF_LOW_RE), (C.PERIOD_RE, C._PERIOD_LOW_RE),
]


@pytest.mark.parametrize("regex, twin", TWINS, ids=lambda r: r.pattern[:24])
def test_a_lower_case_twin_is_its_pattern_without_ignorecase_and_capitals(regex, twin):
    assert regex.flags & re.IGNORECASE and not twin.flags & re.IGNORECASE
    literal = re.sub(r"\(\?P[<=]", "", re.sub(r"\\.", "", twin.pattern))  # without escapes and group syntax
    assert not re.search(r"[A-Z]", literal), "a capital in a twin would miss what IGNORECASE matches"


@pytest.mark.parametrize("regex, twin", TWINS, ids=lambda r: r.pattern[:24])
def test_a_lower_case_twin_matches_where_its_pattern_matches(regex, twin):
    checked = 0
    for text in TEXTS:
        for sent in C._split_sentences(text):
            low = C._caseless_lower(sent.text)
            if low is None:
                continue
            checked += 1
            assert [m.span() for m in regex.finditer(sent.text)] == [m.span() for m in twin.finditer(low)]
    assert checked > 1000


@pytest.mark.parametrize("text, caseless", [
    ("Killed 12, “the ministry” said — at 10\u00a0am; €5", True),
    ("İstanbul", False), ("ſaid", False), ("\u212aILLED", False), ("Élysée", False), ("straße", False),
])
def test_only_text_without_cased_non_ascii_letters_is_lowered_for_the_twins(text, caseless):
    assert (C._caseless_lower(text) == text.lower()) if caseless else C._caseless_lower(text) is None


def test_place_and_break_searches_find_what_finditer_finds():
    for text in TEXTS:
        rev = text[::-1]
        for spec in (C.NAME_SETTLEMENT, C.TOWN_APPOSITIVE):
            assert [m.span() for m in C._anchored_finditer(spec, text, rev)] == \
                   [m.span() for m in spec.regex.finditer(text)]
        for regex, start in ((C.SETTLEMENT_OF_RE, C._SETTLEMENT_OF_START_RE),
                             (C.RESIDENTS_OF_RE, C._RESIDENTS_OF_START_RE),
                             (C._SENT_BREAK_RE, C._SENT_BREAK_START_RE)):
            assert [m.span() for m in C._finditer_from(regex, start, text)] == \
                   [m.span() for m in regex.finditer(text)]
    assert C.NAME_SETTLEMENT_RE.search(PLACES) and C.TOWN_APPOSITIVE_RE.search(PLACES)


def test_the_ascii_source_finder_agrees_with_the_general_one():
    """A non-ASCII word at the end sends the same text down the general path: the same hits come back."""
    table = C.load_sources([str(EXAMPLES / "sources.toml")])
    found = 0
    for text in TEXTS:
        if not text.isascii():
            continue
        ascii_hits = table.find(text)
        found += len(ascii_hits)
        assert ascii_hits == table.find(text + " café")
    assert found > 50
