"""The fast paths of the claims extractor find exactly what the plain patterns find (transforms/claims/).

Each fast path stands in for a whole-text or IGNORECASE search: the per-sentence hint search and the hint
places listed once per article, the lower-case twins of the IGNORECASE patterns, the place patterns searched
near their keywords, the sentence breaks, places, periods and attributions tried where their first
characters or words occur, and the source finder's ASCII path (tokens read only where a name can start).
"""

from __future__ import annotations

import json
import re

import pytest

from support import EXAMPLES, TESTS
from tollwatch.transforms.claims.attribution import ArticleContext, clean_place
from tollwatch.transforms.claims.extractor import casualty_starts, extract_claims, hint_in, hint_starts, starts_in
from tollwatch.transforms.claims.grammar import Token, find_mentions, tokenize
from tollwatch.transforms.claims.patterns import (
    ACCORDING_LOW_RE, ACCORDING_RE, ACCORDING_START_RE, ATTRIBUTION_HINT_LOW_RE, ATTRIBUTION_HINT_RE,
    ATTRIBUTION_HINT_START_RE, CASUALTY_HINT_RE, CASUALTY_STEMS, CASUALTY_WORDS, CITING_LOW_RE, CITING_RE,
    CITING_START_RE, CLAIM_WORDS_LOW_RE, CLAIM_WORDS_RE, COREF_LOW_RE, COREF_RE, NAME_RE, NAME_SETTLEMENT,
    NAME_SETTLEMENT_RE, NUMBER_HINT_RE, NUMBER_LOW_RE, NUMBER_RE, PERIOD_LOW_RE, PERIOD_RE, PERIOD_START_RE,
    PLACE_KEYS, REPORTED_BY_LOW_RE, REPORTED_BY_RE, REPORTED_BY_START_RE, RESIDENTS_OF_RE, RESIDENTS_OF_START_RE,
    SCALE_VALUES, SETTLEMENT_OF_RE, SETTLEMENT_OF_START_RE, SPEECH_RE,
    SPEECH_START_RE, SPEECH_VERBS, TOKEN_RE, TOWN_APPOSITIVE, TOWN_APPOSITIVE_RE, TRAILING_TIME_LOW_RE,
    TRAILING_TIME_RE, WORD_VALUES, anchored_finditer, caseless_lower, finditer_at, literal_starts,
    search_from, word_starts)
from tollwatch.transforms.claims.sentences import split_sentences
from tollwatch.transforms.claims.sources import SRC_TOKEN_LOW_RE, SRC_TOKEN_RE, SourceTable, TokenRun, load_sources
from tollwatch.transforms.claims.vocabulary import ACTIVE_BEFORE, MEASURE_WORDS, NOUN_BEFORE, VAGUE_FLOORS
from tollwatch.transforms.text import SENT_BREAK_RE, SENT_BREAK_START_RE, finditer_from


PLACES = ("Residents of Tuwaym said 20 were killed. The village of Al-Mukhtariya, Baniyas and Jableh was hit; "
          "Nuseirat refugee camp, the Shati camp and al-Maghazi displacement camp were shelled. Deir al-Balah, "
          "one of the last towns in the south, and Khan Younis, a city of 400,000, took the wounded. "
          "People of Kherson Oblast and families of the missing in Antakya waited. Downtown, people of "
          "the city waited. It ended.… Then a townsman of Kafr Nabl spoke.")
# A paragraph longer than MAX_SENTENCE_CHARS with no space: it is cut inside a word (at 1001 characters).
LONG = "x" * 998 + "-thousands" + "killed" * 200 + "said" + "y" * 1200


def _texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.txt"))]
    texts += [json.loads(line)["text"] for line in open(TESTS / "claims_sentences.jsonl", encoding="utf-8")]
    texts += [PLACES, LONG]
    joined = "\n".join(texts)
    # Upper case, a caseless non-ASCII space, and cased non-ASCII letters that fold specially.
    return texts + [joined, joined.upper(), joined.replace(" ", "\u00a0"), "İSTANBUL " + joined.upper(),
                    "ſaid " + joined, "\u212aILLED " + joined]


TEXTS = _texts()

# The words the pre-filter must never miss: spelled-out counts ("zero" counts no one) and measure words.
SPELLED_OUT = [*(w for w, v in WORD_VALUES.items() if v), "dozen", "hundred", "thousand", "million", *VAGUE_FLOORS]
HINT_WORDS = {
    "number": (NUMBER_HINT_RE, [*SPELLED_OUT, *SCALE_VALUES, "7", "1,245"]),
    "casualty": (CASUALTY_HINT_RE, [*MEASURE_WORDS, *ACTIVE_BEFORE, *NOUN_BEFORE, "toll", "lives"]),
    "attribution": (ATTRIBUTION_HINT_LOW_RE, [*SPEECH_VERBS.split("|"), "according", "citing", "quoting"]),
}


def test_spelled_out_numbers_and_measure_words_are_hints():
    assert [w for w in SPELLED_OUT if not NUMBER_HINT_RE.search(w)] == []
    assert [w for w in MEASURE_WORDS if not CASUALTY_HINT_RE.search(w)] == []


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
        for sent in split_sentences(text):
            expected = any(sent.start <= s < sent.end for s in starts)
            assert hint_in(regex, low, sent.start, sent.end) == expected, (word, sent.text[:60])


@pytest.mark.parametrize("kind", ["casualty", "attribution"])
def test_the_listed_hint_places_answer_as_the_sentence_search(kind):
    """The casualty (and attribution) hints listed once per article: a sentence holds one of the listed
    places exactly when the bounded search finds a hint in it, for every sentence and for spans cut
    anywhere, inside a word too."""
    regex, words = HINT_WORDS[kind]
    texts = [f"{w} first. Then {w}. Ends {w}.\"Then\" {w.upper()}? x{w} {w}x.\n{LONG.replace('-thousands', '-' + w)}"
             for w in words] + TEXTS[:40]
    spans = 0
    for text in texts:
        low = text.lower()
        starts = hint_starts(regex, low)
        cuts = [(s.start, s.end) for s in split_sentences(text)]
        cuts += [(a, a + 7) for a in range(0, len(low), 5)]  # short spans that cut words
        for a, b in cuts:
            assert starts_in(starts, a, b) == hint_in(regex, low, a, b), (kind, low[a:b])
            spans += 1
    assert spans > 10_000


def test_a_sentence_without_a_casualty_word_after_a_claim_still_gives_its_parts():
    """The number hint is looked for after the casualty hint, also for a sentence that has none: a part of
    the figure before it ("12 of them were children") needs only a number."""
    claims = extract_claims("At least 40 people were killed, the ministry said. Twelve of them were children.")
    assert [(c.number, c.group) for c in claims] == [(40, "total"), (12, "children")]
    assert extract_claims("At least 40 people came. Twelve of them were children.") == []


TWINS = [
    (NUMBER_RE, NUMBER_LOW_RE), (ACCORDING_RE, ACCORDING_LOW_RE),
    (REPORTED_BY_RE, REPORTED_BY_LOW_RE), (CITING_RE, CITING_LOW_RE),
    (ATTRIBUTION_HINT_RE, ATTRIBUTION_HINT_LOW_RE), (TRAILING_TIME_RE, TRAILING_TIME_LOW_RE),
    (CLAIM_WORDS_RE, CLAIM_WORDS_LOW_RE), (COREF_RE, COREF_LOW_RE), (PERIOD_RE, PERIOD_LOW_RE),
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
        for sent in split_sentences(text):
            low = caseless_lower(sent.text)
            if low is None:
                continue
            checked += 1
            assert [m.span() for m in regex.finditer(sent.text)] == [m.span() for m in twin.finditer(low)]
    assert checked > 1000


# (pattern, where it can match, runs on lower-cased text): the searches tried only at the first words.
STARTS = [
    (PERIOD_LOW_RE, PERIOD_START_RE, True), (ACCORDING_LOW_RE, ACCORDING_START_RE, True),
    (REPORTED_BY_LOW_RE, REPORTED_BY_START_RE, True), (CITING_LOW_RE, CITING_START_RE, True),
    (ATTRIBUTION_HINT_LOW_RE, ATTRIBUTION_HINT_START_RE, True), (SPEECH_RE, SPEECH_START_RE, False),
]
_START_WORDS = ["since Monday", "over the past two days", "in the last week", "during the previous 24 hours",
                "within the past day", "for the last three weeks", "on March 3", "on Friday", "early Sunday",
                "late Tuesday night", "last Wednesday", "Thursday's", "Saturday morning", "yesterday", "today",
                "overnight", "this morning", "the previous day", "the day before", "earlier this week",
                "the past week", "since the start of the war", "since October 7, 2023", "since 2011",
                "according to the UN", "reported by AFP", "stated by", "announced by", "confirmed by",
                "released by", "published by", "compiled by", "quoted by", "cited by", "citing medics",
                "quoting officials", *SPEECH_VERBS.split("|")]


def _start_texts() -> list[str]:
    texts = [sent.text for text in TEXTS[:-6] for sent in split_sentences(text)]
    for k, words in enumerate(_START_WORDS):
        texts.append(f"{words}, x{words} {words}x, ({words}), “{words}” _{words} 9{words}. {words.upper()} "
                     f"{words.capitalize()} {_START_WORDS[(k * 5 + 1) % len(_START_WORDS)]}")
    return texts


@pytest.mark.parametrize("regex, start, lowered", STARTS, ids=lambda r: getattr(r, "pattern", "")[:24])
def test_a_pattern_tried_at_its_first_words_finds_what_finditer_and_search_find(regex, start, lowered):
    checked = 0
    for text in _start_texts():
        if lowered:
            text = caseless_lower(text)
            if text is None:
                continue
        spans = [m.span() for m in regex.finditer(text)]
        assert [m.span() for m in finditer_from(regex, start, text)] == spans, text
        checked += len(spans)
        for a in range(0, len(text), 17):  # searches bounded on both sides, cutting words
            b = min(len(text), a + 40)
            found, expected = search_from(regex, start, text, a, b), regex.search(text, a, b)
            assert (found and found.span()) == (expected and expected.span()), (text[a:b], a, b)
    assert checked > 10


def test_a_word_start_pattern_matches_only_at_the_start_of_a_word():
    start = word_starts("in|since|on")
    assert [m.start() for m in start.finditer("in, since on: within Sincere Begin _on 2on on")] == [0, 4, 10, 43]
    assert start.match("in") and not start.search("bin sin xon")


@pytest.mark.parametrize("text, caseless", [
    ("Killed 12, “the ministry” said — at 10\u00a0am; €5", True),
    ("İstanbul", False), ("ſaid", False), ("\u212aILLED", False), ("Élysée", False), ("straße", False),
])
def test_only_text_without_cased_non_ascii_letters_is_lowered_for_the_twins(text, caseless):
    assert (caseless_lower(text) == text.lower()) if caseless else caseless_lower(text) is None


def test_place_and_break_searches_find_what_finditer_finds():
    for text in TEXTS:
        rev = text[::-1]
        for spec in (NAME_SETTLEMENT, TOWN_APPOSITIVE):
            assert [m.span() for m in anchored_finditer(spec, text, rev)] == \
                   [m.span() for m in spec.regex.finditer(text)]
        for regex, start in ((SETTLEMENT_OF_RE, SETTLEMENT_OF_START_RE),
                             (RESIDENTS_OF_RE, RESIDENTS_OF_START_RE),
                             (SENT_BREAK_RE, SENT_BREAK_START_RE)):
            assert [m.span() for m in finditer_from(regex, start, text)] == \
                   [m.span() for m in regex.finditer(text)]
    assert NAME_SETTLEMENT_RE.search(PLACES) and TOWN_APPOSITIVE_RE.search(PLACES)


def test_the_ascii_source_finder_agrees_with_the_general_one():
    """A non-ASCII word at the end sends the same text down the general path: the same hits come back."""
    table = load_sources([str(EXAMPLES / "sources.toml")])
    found = 0
    for text in TEXTS:
        if not text.isascii():
            continue
        ascii_hits = table.find(text)
        found += len(ascii_hits)
        assert ascii_hits == table.find(text + " café")
    assert found > 50


# Names in the places the ASCII finder must judge: after ".", "'", "&", a digit or a letter, inside dotted
# acronyms and possessives, at the start and end of the text, split by punctuation.
_SPOTS = ["{n}", "{n} said", "x.{n}", "U.S.{n}", "u.s.a.{n}", "{n}'s", "x'{n}", "rock'n'{n}", "&{n}",
          "2{n}", "a{n}", "{n}2", "{n}&", "({n})", "the'{n}", "...{n}...", "'{n}'", "x.y.{n}.z", "A.{n}.B.",
          "{n}.{n}", "{n}'s'{n}", "_{n}", "-{n}-"]


def _alias_texts(table: SourceTable) -> list[str]:
    names = sorted({n for e in table.entries.values() for n in e.aliases + e.people})
    texts = []
    for k, name in enumerate(names):
        for spot in (_SPOTS[k % len(_SPOTS)], _SPOTS[(k * 7 + 3) % len(_SPOTS)]):
            for form in (name, name.upper(), name.lower(), name.replace(" ", ". "), name.replace(" ", "'")):
                texts.append(spot.format(n=form))
    texts = [t for t in texts if t.isascii()]
    return texts + [" ".join(texts)]


@pytest.mark.parametrize("sources", [[], [str(EXAMPLES / "sources.toml")]], ids=["builtin", "examples"])
def test_the_ascii_source_finder_agrees_with_the_general_one_where_names_are_hard_to_tell(sources):
    table = load_sources(sources)
    found = 0
    for text in _alias_texts(table):
        hits = table.find(text)
        found += len(hits)
        assert hits == table.find(text + " café"), text
    assert found > 1000


@pytest.mark.parametrize("sources", [[], [str(EXAMPLES / "sources.toml")]], ids=["builtin", "examples"])
def test_sources_found_part_by_part_are_the_ones_found_in_the_whole_text(sources):
    """An article's sources are looked for only as far as asked, in parts cut at line breaks that no name runs
    across: the same mentions come back, names split over lines included."""
    table = load_sources(sources)
    texts = _alias_texts(table)
    texts = ["\n".join(texts[k:k + 9]) for k in range(0, len(texts), 27)]
    texts += ["\n".join(text.split()) for text in TEXTS[:20] if text.isascii()]
    parts = 0
    for text in texts:
        found, at = [], 0
        while at < len(text):
            at, hits = table.find_part(text, at, at + 1)
            found += hits
            parts += 1
        assert found == table.find(text), text
    assert parts > 2 * len(texts)


def test_a_token_run_says_where_findall_starts_a_token():
    texts = ["u.n.'s un's u.s.a.b x.y z.", "rock'n'roll a.b.c.d.e.f'g h'i'j .a .'b '.c", "a" * 5 + ".a" * 9,
             *_SPOTS, *TEXTS[:30]]
    for text in texts:
        low = text.lower()
        if not low.isascii():
            continue
        starts = {m.start() for m in SRC_TOKEN_LOW_RE.finditer(low)}
        assert [m.group() for m in SRC_TOKEN_LOW_RE.finditer(low)] == SRC_TOKEN_RE.findall(low)
        run = TokenRun(low)
        for p in range(len(low)):
            if low[p].isalpha():
                assert run.token_starts_at(p) == (p in starts), (low[max(0, p - 10):p + 10], p)


def _plain_tokens(text: str, mentions) -> list[tuple]:
    """_tokenize as written before its ASCII path: each token lower-cased on its own."""
    tokens: list[tuple] = []
    mi = 0
    for m in TOKEN_RE.finditer(text):
        while mi < len(mentions) and mentions[mi].end <= m.start():
            mi += 1
        if mi < len(mentions) and mentions[mi].start < m.end() and m.start() < mentions[mi].end:
            mention = mentions[mi]
            if not tokens or tokens[-1][4] != mi:
                tokens.append((mention.start, mention.end, text[mention.start:mention.end], "#num", mi))
            continue
        tokens.append((m.start(), m.end(), m.group(), m.group().lower().replace("’", "'"), -1))
    return tokens


def test_tokens_of_ascii_sentences_are_lowered_as_the_words_one_by_one():
    sentences = [s.text for text in TEXTS for s in split_sentences(text)]
    sentences += ["Two-thirds of the 1,200 KILLED were O'Neill's men (aged 19, 20 and 21); 3.5 million fled_",
                  "Ministry’s figure: 40 dead", "İzmir: 12 killed", "Twelve"]
    ascii_seen = 0
    for sent in sentences:
        mentions = find_mentions(sent)
        tokens = tokenize(sent, mentions)
        assert [tuple(t) for t in tokens] == _plain_tokens(sent, mentions), sent
        assert all(type(t) is Token for t in tokens)
        ascii_seen += sent.isascii() and any(t.num >= 0 for t in tokens)
    assert ascii_seen > 50


def _plain_places(text: str) -> list[tuple[int, str]]:
    """The article's places as the four place patterns' finditer over the whole text find them."""
    found = []
    for m in SETTLEMENT_OF_RE.finditer(text):
        found.append((m.start("name"), m.group("name")))
        found += [(m.start("more") + x.start(), x.group()) for x in NAME_RE.finditer(m.group("more") or "")]
    for regex in (NAME_SETTLEMENT_RE, RESIDENTS_OF_RE, TOWN_APPOSITIVE_RE):
        found += [(m.start("name"), m.group("name")) for m in regex.finditer(text)]
    return sorted((pos, clean_place(name)) for pos, name in found if clean_place(name))


def test_places_are_found_from_where_their_nouns_start():
    # Nouns inside and next to other words ("townspeople", "villagers", "cityscape"), overlapping ones.
    crowded = ("Townspeople of Dara and villagers of Kafr Nabl, the city of Hama, the municipality of Ariha, "
               "Inhabitants of Idlib, residents of Saraqib; Maarat, one of the largest towns, and Binnish, a "
               "small town, took in families of Jisr. Shati camp, Jabalia refugee camp, a cityscape of Homs.")
    seen = 0
    for text in [*TEXTS, crowded, crowded.replace(" ", "\n"), crowded.lower()]:
        ctx = ArticleContext.__new__(ArticleContext)
        ctx.text, ctx._places = text, None
        assert ctx.places() == _plain_places(text), text[:80]
        seen += len(ctx.places())
        starts = literal_starts(PLACE_KEYS, text)
        assert starts == sorted({m.start() for k in PLACE_KEYS for m in re.finditer(f"(?={k})", text)})
        for regex, start in ((SETTLEMENT_OF_RE, SETTLEMENT_OF_START_RE),
                             (RESIDENTS_OF_RE, RESIDENTS_OF_START_RE)):
            assert [m.span() for m in finditer_at(regex, starts, text)] == \
                   [m.span() for m in regex.finditer(text)]
            # every place the first words start is one of the nouns' starts
            assert {m.start() for m in re.finditer(f"(?={start.pattern})", text)} <= set(starts)
        for spec in (NAME_SETTLEMENT, TOWN_APPOSITIVE):
            assert [m.span() for m in anchored_finditer(spec, text, text[::-1], starts)] == \
                   [m.span() for m in spec.regex.finditer(text)]
    assert seen > 20


def test_a_place_is_weighed_only_where_it_could_be_taken(monkeypatch):
    """_location asks is_settlement (which lists the article's places) only for a name it could take: not
    one farther from the figure than the settlement already found; a nearer name that is none is passed over."""
    asked = []
    is_settlement = ArticleContext.is_settlement
    monkeypatch.setattr(ArticleContext, "is_settlement",
                        lambda self, name: asked.append(name) or is_settlement(self, name))
    said = "the Syrian Observatory for Human Rights said.\n\nIn the town of Maarat, people fled."
    text = "At least 30 people were killed in Maarat and in Binnish, " + said
    assert [(c.number, c.location) for c in extract_claims(text)] == [(30, "Maarat")]
    assert asked == ["Maarat"]
    asked.clear()
    text = "At least 30 people were killed in Binnish and in Maarat, " + said
    assert [(c.number, c.location) for c in extract_claims(text)] == [(30, "Maarat")]
    assert asked == ["Binnish", "Maarat"]


def test_casualty_hint_places_found_by_their_words_are_the_patterns_matches():
    """_casualty_starts lists where CASUALTY_HINT_RE matches from str.find of its stems and words: the same
    alternatives, kept only where the pattern's word boundaries hold (inside and at the ends of words,
    before digits, underscores and non-ASCII letters)."""
    alternatives = CASUALTY_HINT_RE.pattern[len(r"\b(?:"):-1].split("|")
    assert set(alternatives) == set(CASUALTY_STEMS) | {w + r"\b" for w in CASUALTY_WORDS}
    words = [*CASUALTY_STEMS, *CASUALTY_WORDS]
    tricky = " ".join(f"{w} x{w} {w}s {w}_ _{w} {w}1 1{w} é{w} {w}é {w}ed,{w}.{w}" for w in words)
    texts = [tricky, tricky.replace(" ", ""), "livestock lostness losing lives. lost", *TEXTS]
    found = 0
    for text in texts:
        low = text.lower()
        assert casualty_starts(low) == hint_starts(CASUALTY_HINT_RE, low), low[:60]
        found += len(casualty_starts(low))
    assert found > 1000


def test_figures_of_one_clause_share_its_place_searches_and_other_clauses_search_their_own():
    text = ("Strikes killed 12 people and wounded 30 in the town of Maarat; in the village of Binnish, 5 were killed "
            "and 8 wounded. Shelling killed 4 people in the town of Ariha.")
    assert [(c.number, c.measure, c.location) for c in extract_claims(text)] == [
        (12, "killed", "Maarat"), (30, "injured", "Maarat"), (5, "killed", "Binnish"), (8, "injured", "Binnish"),
        (4, "killed", "Ariha")]
