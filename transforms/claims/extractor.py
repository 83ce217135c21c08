"""`extract_claims`: an article's text to its casualty claims, in text order; candidates of each sentence
with their group, source, scope, place and period, breakdowns by place and earlier figures added, figures of
other events and years dropped."""

from __future__ import annotations

import bisect
import functools
import re
from datetime import datetime, timedelta, timezone
from typing import NamedTuple, Sequence

from tollwatch.transforms.text import SENTENCE_FINAL, finditer_from
from .vocabulary import (
    ACTIVE_BEFORE, ARTICLE_MEMORY, ATTACK_NOUNS, ATTRIBUTION_LOOKBACK, CANDIDATE_MEMORY, COUNTRIES, FACILITY_WORDS,
    GROUP_WORDS, LOCAL_SOURCES, MEASURE_WORDS, MONTHS, NOT_PLACES, REGION_NOUNS, SITE_NOUNS, SUBCOUNT_LOOKBACK, WEEKDAYS)
from .patterns import (
    ATTRIBUTION_HINT_LOW_RE, ATTRIBUTION_HINT_RE, ATTRIBUTION_HINT_START_RE, BACK_REFERENCE_RE, CASUALTY_HINT_RE,
    CASUALTY_STEMS, CASUALTY_WORDS, INCIDENT_MARKER_RE, NAME_SETTLEMENT, NEIGHBOUR_RE, NUMBER_HINT_RE, NUMBER_RE,
    PART_GROUP_HINT_RE, PLACE_PREP_RE, SETTLEMENT_OF_RE, SETTLEMENT_OF_START_RE, SUBCOUNT_HINT_RE, WORD_VALUES,
    anchored_finditer, search_from)
from .numbers import ParsedNumber, parse_match, parse_number, values
from .sources import SourceTable, default_sources, one_name_per_body
from .sentences import Sentence, split_sentences
from .grammar import Candidate, sentence_candidates
from .attribution import ArticleContext, Attribution, clean_place, find_attributions
from .periods import find_periods, resolve_period


class ClaimMention(NamedTuple):
    """One casualty figure found in an article, before the article's identity is attached."""

    measure: str
    number: int | None
    number_high: int | None
    qualifier: str
    value_low: int | None
    value_high: int | None
    group: str
    group_text: str | None
    source: str | None
    source_text: str | None
    scope: str
    location: str | None
    period_text: str | None
    period_start: datetime | None
    sentence: str
    char_start: int
    char_end: int


# ----------------------------------------------------------------------------------------------
# Extraction
# ----------------------------------------------------------------------------------------------
def extract_claims(text: str, published_at: datetime | None = None,
                   sources: SourceTable | None = None, title: str | None = None) -> list[ClaimMention]:
    """Every casualty claim in an article's text, in text order, after those of its title.

    A title is read only when the text does not already hold it (a page's headline is cut from its text,
    a feed entry's title is not in its summary) and states a number the text's claims do not (most
    headlines repeat the lead's figure); then a title's figure that the text states again (same measure,
    number and group) is the text's one claim. A claim of the title has the title as its
    sentence and negative offsets: the title read as the line before the text, so
    `(title + "\n")[char_start:char_end]` is its figure."""
    if not isinstance(text, str):
        return []
    sources = sources or default_sources()
    if (title is None or isinstance(title, str)) and (published_at is None or isinstance(published_at, datetime)):
        zone = published_at.tzinfo if published_at is not None else None
        return list(_article_claims(text, published_at, zone, sources, title))
    return _extract_claims(text, published_at, sources, title)


@functools.lru_cache(maxsize=ARTICLE_MEMORY)
def _article_claims(text: str, published_at: datetime | None, zone: object, sources: SourceTable,
                    title: str | None) -> tuple[ClaimMention, ...]:
    """`_extract_claims`, remembered for the last ARTICLE_MEMORY articles a process read: copies of a wire
    story often carry the same text (28 of the 597 articles of the bench's claims stage). (`zone`: one moment
    in two time zones is one key of `published_at` alone, but its dates can differ.)"""
    return tuple(_extract_claims(text, published_at, sources, title))


def _extract_claims(text: str, published_at: datetime | None, sources: SourceTable,
                    title: str | None) -> list[ClaimMention]:
    claims, ctx = _text_claims(text, published_at, sources)
    if isinstance(title, str) and title.strip():
        claims = _title_claims(title, text, published_at, sources, claims, ctx) + claims
    return _one_name_per_body(claims)


def _one_name_per_body(claims: list[ClaimMention]) -> list[ClaimMention]:
    """The claims with one name for each body the article names in several ways (`one_name_per_body`)."""
    if len(claims) < 2:
        return claims
    names = one_name_per_body(c.source for c in claims if c.source)
    if all(name == kept for name, kept in names.items()):
        return claims
    return [c._replace(source=names[c.source]) if c.source and names[c.source] != c.source else c for c in claims]


def _title_claims(title: str, text: str, published_at: datetime | None, sources: SourceTable,
                  body: Sequence[ClaimMention], ctx: "ArticleContext | None") -> list[ClaimMention]:
    """The claims of a title that the text does not state: its own figures, the source of a figure the
    title does not attribute taken as for a headline of the text (from the text's first lines, when the
    title is one sentence that does not end as a sentence does), offsets negative."""
    # The text holds the title's sentence, and its figures with it, in most articles: looked for first, as
    # written, then with white space and case folded once the title is known to state a figure.
    if title.strip() in text or _restates(title, body):
        return []
    found, _ = _text_claims(title, published_at, sources)
    if not found or " ".join(title.split()).casefold() in " ".join(text.split()).casefold():
        return []
    stated = {_same_figure(c) for c in body}
    shift = len(title) + 1
    out = []
    for claim in found:
        if _same_figure(claim) in stated:
            continue
        headline = claim.sentence == title.strip() and not claim.sentence.endswith(SENTENCE_FINAL)
        if claim.source is None and headline:  # a headline of one line, as in the text
            if ctx is None:
                ctx = ArticleContext(text, split_sentences(text), sources)
            claim = claim._replace(**_lead_source(ctx))
        out.append(claim._replace(char_start=claim.char_start - shift, char_end=claim.char_end - shift))
    return out


def _restates(title: str, body: Sequence[ClaimMention]) -> bool:
    """True when every number of the title is a figure the text states: the title's claims would all be the
    text's (read first, as the cheaper test: most headlines repeat the lead's figure)."""
    if not body:
        return False
    numbers = _TITLE_NUMBER_RE.findall(title)
    if not numbers or any("." in n for n in numbers) or _NUMBER_WORD_RE.search(title):
        return False  # (a decimal, a number in words: read the title)
    stated = {n for c in body for n in (c.number, c.number_high) if n is not None}
    return all(int(n.replace(",", "")) in stated for n in numbers)


_TITLE_NUMBER_RE = re.compile(r"\d+(?:[,.]\d+)*")
_NUMBER_WORD_RE = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|scores|"
                             r"hundreds?|thousands?|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)\b",
                             re.IGNORECASE)


def _same_figure(claim: ClaimMention) -> tuple:
    """What makes two mentions of an article one claim: measure, figure and group (a toll's `total` and
    `unspecified` read as one, as a headline's "146 dead" and the text's "146 people died")."""
    group = "total" if claim.group in ("total", "unspecified") else claim.group
    return claim.measure, claim.number, claim.number_high, group


def _lead_source(ctx: "ArticleContext") -> dict:
    """The source of a headline that names none: the first one the text's first two sentences name."""
    for sent in ctx.sentences[:2]:
        atts = find_attributions(ctx, sent)
        pool = [a for a in atts if not a.media] or atts
        if pool:
            return {"source": pool[0].source, "source_text": pool[0].text}
    return {}


def _text_claims(text: str, published_at: datetime | None,
                 sources: SourceTable) -> tuple[list[ClaimMention], "ArticleContext | None"]:
    """The claims of a text, in text order, and the context they were read in (None: no figure)."""
    low = text.lower()
    if NUMBER_HINT_RE.search(low) is None:
        return [], None
    # Casualty words are rarer than number hints: listed once for the whole article, they say which sentences
    # need the (slower) number hint looked for at all.
    casualty_at = casualty_starts(low)
    if not casualty_at:
        return [], None
    # The hints are looked for in the lower-cased article, one sentence at a time; a few characters change
    # length when lower-cased: then offsets differ and each sentence is lower-cased on its own.
    aligned = len(low) == len(text)
    if published_at is not None and published_at.tzinfo is None:
        published_at = published_at.replace(tzinfo=timezone.utc)
    sentences = split_sentences(text)

    def has(low_regex: re.Pattern, regex: re.Pattern, sent: Sentence, first: re.Pattern | None = None) -> bool:
        if not aligned:
            return regex.search(sent.text.lower()) is not None
        return hint_in(low_regex, low, sent.start, sent.end, first)

    with_casualty = set()  # (aligned) the sentences a casualty word starts in: each start looked up once
    if aligned:
        sentence_starts = [sent.start for sent in sentences]
        for at in casualty_at:
            k = bisect.bisect_right(sentence_starts, at) - 1
            if k >= 0 and at < sentences[k].end:
                with_casualty.add(k)

    def has_casualty(si: int, sent: Sentence) -> bool:
        if not aligned:
            return CASUALTY_HINT_RE.search(sent.text.lower()) is not None
        return si in with_casualty

    work: list[tuple[int, tuple[Candidate, ...]]] = []
    for si, sent in enumerate(sentences):
        if sent.repeated:
            continue
        if not has_casualty(si, sent):
            # "It said 12 of them were children": a part of the figure just given needs no casualty word.
            follows_claim = work and work[-1][0] == si - 1
            if not (follows_claim and (SUBCOUNT_HINT_RE.search(sent.text) or PART_GROUP_HINT_RE.search(sent.text))):
                continue
        if not has(NUMBER_HINT_RE, NUMBER_HINT_RE, sent):
            continue
        candidates = sentence_candidates_of(sent.text)
        if candidates:
            work.append((si, candidates))
    if not work:
        return [], None
    ctx = ArticleContext(text, sentences, sources or default_sources())
    # Attributions in text order (so "it said" finds its antecedent), from a few sentences before the
    # first claim to just after the last one: read when a sentence asks who spoke before it.
    first, last = max(0, work[0][0] - ATTRIBUTION_LOOKBACK), min(len(sentences), work[-1][0] + 3)
    ctx.read_in_order(sentences[first:last],
                      lambda sent: has(ATTRIBUTION_HINT_LOW_RE, ATTRIBUTION_HINT_RE, sent, ATTRIBUTION_HINT_START_RE))
    claims: list[ClaimMention] = []
    now_year: list[int | None] = []  # the article's year, worked out the first time a figure needs it
    sentence_of: list[int] = []  # the sentence index of each claim made so far
    para_start: dict[int, int] = {}
    for sent in sentences:
        para_start.setdefault(sent.para, sent.start)
    for si, candidates in work:
        sent = sentences[si]
        attributions = ctx.attributions.get(sent.start) or find_attributions(ctx, sent)
        periods = find_periods(sent.text)
        recent = []  # claims of the last few sentences, newest first: parents of "Among the dead were ..."
        for ci in range(len(claims) - 1, -1, -1):
            if si - sentence_of[ci] > SUBCOUNT_LOOKBACK or sentences[sentence_of[ci]].para < sent.para - 1:
                break
            recent.append(ci)
        made: list[ClaimMention | None] = [None] * len(candidates)
        adopted_from: dict[int, int] = {}  # candidate index -> index of the earlier claim it is part of
        for index in sorted(range(len(candidates)), key=lambda x: (candidates[x].parent >= 0, x)):  # parents first
            cand = candidates[index]
            parent = made[cand.parent] if 0 <= cand.parent < len(made) else None
            if cand.orphan and recent:
                ci = next((c for c in recent if claims[c].measure == cand.measure), recent[0])
                parent = claims[ci]
                whole = parent.value_high if parent.value_high is not None else parent.number
                if None not in (cand.parsed.number, whole) and cand.parsed.number > whole:
                    continue  # a part is no larger than the figure it is a part of ("5,000 are children")
                adopted_from[index] = ci
            if parent is None and "pending" in (cand.measure, cand.group):
                if cand.measure == "pending":
                    continue
                cand = cand._replace(group="unspecified")
            elif parent is not None:
                cand = cand._replace(measure=parent.measure if cand.measure == "pending" else cand.measure,
                                     group=parent.group if cand.group == "pending" else cand.group)
            sibling = made[cand.sibling] if 0 <= cand.sibling < len(made) else None
            claim = _build_claim(ctx, sent, si, cand, attributions, periods, parent, sibling, published_at,
                                 para_start[sent.para])
            if claim is not None and sent.truncated and _runs_into_end(sent, cand):
                claim = None
            if claim is not None and _of_an_earlier_year(sent.text, cand, now_year, text, published_at):
                claim = None  # "Floods in Portugal in 1967 killed nearly 500 people": another event
            made[index] = claim
        for index, claim in enumerate(made):
            if claim is None:
                continue
            ci = adopted_from.get(index)
            if ci is not None and claim.source and claims[ci].source is None and sentence_of[ci] == si - 1:
                # "... killed at least 30 people. Among the dead were 12 children, the ministry said."
                claims[ci] = claims[ci]._replace(source=claim.source, source_text=claim.source_text)
            claims.append(claim)
            sentence_of.append(si)
    return _add_breakdowns(ctx, claims, sentence_of), ctx


@functools.lru_cache(maxsize=CANDIDATE_MEMORY)
def sentence_candidates_of(text: str) -> tuple[Candidate, ...]:
    """`sentence_candidates` of a sentence's text, remembered for the last CANDIDATE_MEMORY texts a process
    read: wire copies repeat sentences word for word (30% of the sentences of the bench's claims stage, 47%
    over its first 3,000 files), and a sentence's candidates depend on its text alone."""
    return tuple(sentence_candidates(text)[0])


# ", at least 24 seriously" after a count of the injured: the seriously injured among them.
SEVERITY_SUBSET_RE = re.compile(
    r",\s*(?:(?:including|of\s+whom|with)\s+)?(?P<num>(?:(?:at\s+least|more\s+than|over|about|nearly|some)\s+)?"
    r"(?:\d{1,3}(?:,\d{3})+|\d+))\s+(?:of\s+them\s+)?(?:seriously|critically|severely|gravely|badly)\b"
    r"(?!\s+(?:injured|wounded|hurt|ill|damaged))", re.IGNORECASE)


def _severity_subsets(sent: Sentence, own: Sequence[ClaimMention], items: Sequence[ClaimMention]) -> list[ClaimMention]:
    """The seriously injured counted after a count of the injured, as a claim of the injured (unspecified)."""
    injured = [c for c in own if c.measure == "injured"]
    out: list[ClaimMention] = []
    if not injured:
        return out
    taken = {c.char_start for c in (*own, *items)}
    for m in SEVERITY_SUBSET_RE.finditer(sent.text):
        a, b = m.span("num")
        parent = next((c for c in reversed(injured) if c.char_end - sent.start <= m.start()), None)
        number = NUMBER_RE.fullmatch(m.group("num"))
        parsed = parse_match(number) if number else None
        if parent is None or parsed is None or sent.start + a in taken:
            continue
        low, high = values(parsed)
        out.append(parent._replace(number=parsed.number, number_high=parsed.number_high, qualifier=parsed.qualifier,
                                   value_low=low, value_high=high, group="unspecified", group_text=None,
                                   char_start=sent.start + a, char_end=sent.start + b))
    return out


# "raised to 94 from 92", "222, down from an earlier count of 242": the toll as it stood before.
EARLIER_FIGURE_RE = re.compile(
    r"[\s,]*(?:(?:up|down)\s+)?from\s+(?:(?:an?|the|its)\s+)?(?:(?:earlier|previous|initial|prior|first)\s+)?"
    r"(?:(?:count|figure|toll|tally|estimate|number|total)\s+(?:of\s+)?)?"
    r"(?P<num>(?:(?:at\s+least|more\s+than|about|nearly|some)\s+)?(?:\d{1,3}(?:,\d{3})+|\d+))(?![\w%]|[.,]\d)"
    r"(?!\s*(?:to|-|–)\s*\d)", re.IGNORECASE)
MAX_EARLIER_GAP = 40  # characters between a figure and the "from" of the figure it replaced


def _earlier_figures(sent: Sentence, own: Sequence[ClaimMention], items: Sequence[ClaimMention]) -> list[ClaimMention]:
    """The earlier figure a new one replaced ("raised to 94 from 92"), as a claim of the same measure and group."""
    out: list[ClaimMention] = []
    taken = {c.char_start for c in (*own, *items)}
    text = sent.text
    for claim in own:
        if claim.number is None:
            continue
        end = claim.char_end - sent.start
        stop = text.find("from", end, end + MAX_EARLIER_GAP)
        if stop < 0 or _BREAKDOWN_GAP_STOP_RE.search(text, end, stop):
            continue
        m = EARLIER_FIGURE_RE.match(text, stop - (1 if stop and text[stop - 1] == " " else 0)) if text[end:stop].strip(
            " ,") in ("", "down", "up") or text[end:stop].strip(" ,").split()[-1:] in (["down"], ["up"]) else None
        if m is None:
            continue
        a, b = m.span("num")
        number = NUMBER_RE.fullmatch(m.group("num"))
        parsed = parse_match(number) if number else None
        if parsed is None or sent.start + a in taken or parsed.number == claim.number:
            continue
        low, high = values(parsed)
        out.append(claim._replace(number=parsed.number, number_high=parsed.number_high, qualifier=parsed.qualifier,
                                  value_low=low, value_high=high, period_text=None, period_start=None,
                                  char_start=sent.start + a, char_end=sent.start + b))
    return out


def _add_breakdowns(ctx: "ArticleContext", claims: list[ClaimMention], sentence_of: list[int]) -> list[ClaimMention]:
    """The claims with the items of their sentences' place breakdowns (and of the next sentences' that
    open with "Of these," or "Of the deaths,"), in text order."""
    if not claims:
        return claims
    sentences = ctx.sentences
    own: dict[int, list[ClaimMention]] = {}
    for claim, si in zip(claims, sentence_of):
        own.setdefault(si, []).append(claim)
    extra: list[ClaimMention] = []
    fixed: dict[int, ClaimMention] = {}
    near = set(sentence_of) | {k + d for k in sentence_of for d in (1, 2)}
    for si, sent in enumerate(sentences):
        if sent.repeated:
            continue
        mine = own.get(si, [])
        if not mine:
            lead = BREAKDOWN_LEAD_RE.match(sent.text)
            if lead is None or not (si in near or lead.group("noun") or lead.group("noun2")):
                continue
        before = next((own[k][0] for k in (si - 1, si - 2) if k in own), None)
        items, corrected = _breakdowns(ctx, si, mine, before)
        extra += items + _severity_subsets(sentences[si], mine, items) + _earlier_figures(sentences[si], mine, items)
        fixed.update(corrected)
    if not extra and not fixed:
        return claims
    claims = [fixed.get(c.char_start, c) for c in claims]
    return sorted(claims + extra, key=lambda c: c.char_start)


# ----------------------------------------------------------------------------------------------
# Breakdowns by place: "killed 2,012 people, 1,293 in Al Haouz, 452 in Taroudant"
# ----------------------------------------------------------------------------------------------
_PLACE_WORD = r"[A-Z][\w'’]*(?:-[A-Za-z][\w'’]*)*"
_BREAKDOWN_PLACE = rf"{_PLACE_WORD}(?:\s+{_PLACE_WORD}){{0,3}}"
_SMALL_NUMBER_WORDS = "|".join(sorted([w for w in WORD_VALUES if w != "zero"], key=len, reverse=True))
# One item of a breakdown: a count, what links it to a place, the place ("two each in A and B" is two).
BREAKDOWN_ITEM_RE = re.compile(rf"""
    (?<![\w.,$€£])(?P<num>\d{{1,3}}(?:,\d{{3}})+|\d+|(?i:{_SMALL_NUMBER_WORDS}))(?![\w%]|[.,]\d)
    (?:\s+(?i:others?|more|people|persons|deaths|dead|victims|bodies))?
    (?:\s+(?i:of\s+(?:those|the\s+people)\s+who\s+(?P<verb>died|were\s+killed|were\s+injured|were\s+hurt
                                                         |were\s+wounded|are\s+missing|were\s+missing)))?
    (?P<each>\s+each)?
    (?:\s+(?i:were|was|are|is|have\s+been|had\s+been))?
    (?:\s+(?i:located|reported|recorded|registered|counted|confirmed))?
    \s+(?i:in|at)\s+(?:(?i:the)\s+)?
    (?:(?i:cities|city|towns|town|villages|village|provinces|province|regions|region|prefecture|districts
          |district|municipality|municipalities)\s+of\s+)?
    (?:(?i:(?:south|north)?(?:east|west)?(?:ern)?|central|neighbou?ring|nearby)\s+)?
    (?P<place>{_BREAKDOWN_PLACE})(?:\s+and\s+(?P<more>{_BREAKDOWN_PLACE}))?
""", re.VERBOSE)
# An item written as the place and its count in brackets: "..., followed by Taroudant (452)". (The groups the
# item pattern has and this one has not are there, never matching, so that an item reads the same.)
BREAKDOWN_BRACKET_RE = re.compile(rf"""
    (?<![\w'’-])(?!(?i:the|a|an|and|or|of|in)\b)(?P<place>{_BREAKDOWN_PLACE})\s*
    \((?P<num>\d{{1,3}}(?:,\d{{3}})+|\d+)\)(?P<verb>(?!))?(?P<each>(?!))?(?P<more>(?!))?
""", re.VERBOSE)
_BRACKETED_COUNT_RE = re.compile(r"\(\d[\d,]*\)")  # where BREAKDOWN_BRACKET_RE can match at all
# "Of these, 69 were in Wajima", "Of the 72 deaths, ...", "The missing people include 121 in Wajima".
BREAKDOWN_LEAD_RE = re.compile(r"""
    ^\W*(?:(?:of|among)\s+(?:these|them|those|the\s+(?:[\d,]+\s+)?(?P<noun>deaths|dead|victims|fatalities|missing
                                                                 |injured|wounded))
         |the\s+(?P<noun2>missing|dead|injured|wounded|victims|deaths)(?:\s+people)?\s+(?:include|included|were))\b
""", re.IGNORECASE | re.VERBOSE)
_PLACE_SUFFIXES = frozenset({"City", "Province", "Prefecture", "Region", "District", "Governorate", "Town"})
_NOT_BREAKDOWN_PLACES = frozenset({"total", "all", "hospital", "hospitals"})
MAX_BREAKDOWN_GAP = 110  # characters between a figure and the next item of its breakdown
_BREAKDOWN_GAP_STOP_RE = re.compile(r"[;:]|\d|\b(?:but|while|whereas|although|compared|since|than)\b", re.IGNORECASE)
_OWN_VERB_BEFORE_RE = re.compile(
    r"\b(?:" + "|".join(sorted(ACTIVE_BEFORE, key=len, reverse=True)) + r")\s+(?:(?:at\s+least|more\s+than|over|about|"
    r"nearly|almost|some|another|a\s+further|an\s+estimated)\s+)?$", re.IGNORECASE)
_LEAD_MEASURES = {"deaths": "killed", "dead": "killed", "victims": "killed", "fatalities": "killed",
                  "missing": "missing", "injured": "injured", "wounded": "injured"}


def _breakdown_place(name: str) -> str | None:
    """A place of a breakdown item without "City"/"Province" after it, or None (a month, "The")."""
    words = name.split()
    while words and words[0].lower() in NOT_PLACES:
        words = words[1:]
    while len(words) > 1 and words[-1] in _PLACE_SUFFIXES:
        words = words[:-1]
    if not words or words[0].lower() in WEEKDAYS or words[0].lower() in MONTHS:
        return None
    if words[0].lower() in _NOT_BREAKDOWN_PLACES or words[-1].endswith(("'s", "’s")):
        return None
    joined = " ".join(words)
    return None if joined.lower() in COUNTRIES else joined  # a country is no incident's place


def _breakdowns(ctx: "ArticleContext", si: int, own: Sequence[ClaimMention],
                before: ClaimMention | None) -> tuple[list[ClaimMention], dict[int, ClaimMention]]:
    """The items of the place breakdowns of a sentence: each a claim of the figure it breaks down (the
    sentence's figure before it, or for a lead such as "Of these," the previous sentence's), with its place.
    Also the sentence's claims corrected, by char_start: an item the grammar found takes its place, and the
    figure broken down loses a place it took from its items ("killed 500, 300 in A, 200 in B")."""
    sent = ctx.sentences[si]
    text = sent.text
    anchors = sorted(own, key=lambda c: c.char_start)
    lead = BREAKDOWN_LEAD_RE.match(text)
    lead_measure = None
    if lead:
        noun = (lead.group("noun") or lead.group("noun2") or "").lower()
        lead_measure = _LEAD_MEASURES.get(noun)
    out: list[ClaimMention] = []
    fixed: dict[int, ClaimMention] = {}
    broken_down: dict[int, tuple[ClaimMention, int, list[str]]] = {}  # figure -> (it, first item, places)
    last_end = None  # where the figure or item the next item continues ends (sentence offsets)
    parent: ClaimMention | None = None
    root: ClaimMention | None = None  # the figure the current list breaks down
    items_found: set[int] = set()
    k = 0
    items = list(BREAKDOWN_ITEM_RE.finditer(text))
    if "(" in text and _BRACKETED_COUNT_RE.search(text):  # "followed by Taroudant (452)": the place, its count
        items = sorted(items + list(BREAKDOWN_BRACKET_RE.finditer(text)), key=lambda m: m.start("num"))
    for m in items:
        a, b = m.span("num")
        while k < len(anchors) and anchors[k].char_end - sent.start <= a:
            if anchors[k].char_start not in items_found:  # (an item the grammar found continues its list)
                parent = root = anchors[k]
                last_end = anchors[k].char_end - sent.start
            k += 1
        if _OWN_VERB_BEFORE_RE.search(text, max(0, a - 40), a):
            continue  # "killed 12 and wounded 30 in A": a figure of its own, not a part of 12
        found = next((c for c in anchors if c.char_start - sent.start < b and a < c.char_end - sent.start), None)
        verb = (m.group("verb") or "").split()
        measure = None
        if parent is not None and last_end is not None and a - last_end <= MAX_BREAKDOWN_GAP \
                and not _BREAKDOWN_GAP_STOP_RE.search(text, last_end, a):
            template = parent
        elif lead is not None and last_end is None and (lead_measure or before is not None):
            template = before
            measure = lead_measure or (before.measure if before else None)
        elif verb:
            template = None
        else:
            continue  # (a figure the grammar found alone keeps the place the grammar gave it)
        places = [p for p in (_breakdown_place(x) for x in (m.group("place"),) + (
            (m.group("more"),) if m.group("each") and m.group("more") else ())) if p]
        if not places:
            continue
        if root is not None and template is parent:
            first = broken_down.get(root.char_start, (root, a, []))
            broken_down[root.char_start] = (root, first[1], first[2] + places)
        if found is not None:
            items_found.add(found.char_start)
            if found.location != places[0] and len(places) == 1:
                found = found._replace(scope="incident", location=places[0])
                fixed[found.char_start] = found
            parent, last_end = found, m.end()
            continue
        if verb:
            measure = MEASURE_WORDS.get(verb[-1], measure)
        measure = measure or (template.measure if template else None)
        parsed_value = parse_number(m.group("num"))
        if measure is None or parsed_value is None or parsed_value[0] is None:
            continue
        parsed = ParsedNumber(parsed_value[0], None, "exact", False, None)
        low, high = values(parsed)
        attributions = [x for x in (ctx.attributions.get(sent.start) or find_attributions(ctx, sent)) if not x.media]
        if attributions:
            source, source_text = attributions[0].source, attributions[0].text
        elif template is not None:
            source, source_text = template.source, template.source_text
        else:
            source, source_text = _inherited_source(ctx, si)
        for location in places:
            out.append(ClaimMention(
                measure=measure, number=parsed.number, number_high=None, qualifier="exact", value_low=low,
                value_high=high, group=template.group if template else "total",
                group_text=template.group_text if template else None, source=source, source_text=source_text,
                scope="incident", location=location,
                period_text=template.period_text if template else None,
                period_start=template.period_start if template else None,
                sentence=text, char_start=sent.start + a, char_end=sent.start + b))
        parent, last_end = out[-1], m.end()
    for figure, first, places in broken_down.values():
        figure = fixed.get(figure.char_start, figure)
        own_part = text[figure.char_end - sent.start:first]
        if figure.location in places and figure.location not in own_part:
            fixed[figure.char_start] = figure._replace(scope="overall", location=None)
    return out, fixed

# Every match of a hint pattern is one word of at most this many characters (and the character after it).
_HINT_REACH = 32


def hint_in(regex: re.Pattern, low: str, start: int, end: int, first: re.Pattern | None = None) -> bool:
    """True when a match of the hint pattern `regex` over the whole lower-cased article starts in [start, end).

    The search stops _HINT_REACH characters after `end`: far enough for any match that starts before
    `end` to end (and be checked for its word boundary) as in the whole text. A hint is one word, so no
    match starts inside another, and the first match from `start` is one the whole text has too. `first`:
    where `regex` can match, if it is faster to search (see `search_from`).
    """
    endpos = min(len(low), end + _HINT_REACH)
    m = regex.search(low, start, endpos) if first is None else search_from(regex, first, low, start, endpos)
    return m is not None and m.start() < end


def hint_starts(regex: re.Pattern, low: str) -> list[int]:
    """Where the hint pattern `regex` matches in the lower-cased article, in order: every place `hint_in`
    can find. A match is one word from its start (a hint begins at a word boundary and matches letters only),
    so one word holds at most one, and finditer, which goes on from the end of each match, misses none."""
    return [m.start() for m in regex.finditer(low)]


def casualty_starts(low: str) -> list[int]:
    """`hint_starts(CASUALTY_HINT_RE, low)` by str.find of its stems and words, each kept where a word
    starts (and, for the words, ends) as the pattern's boundaries want: the positions where it matches."""
    found = set()
    n = len(low)
    for stem in CASUALTY_STEMS:
        at = low.find(stem)
        while at >= 0:
            if at == 0 or not (low[at - 1].isalnum() or low[at - 1] == "_"):  # \b before a letter
                found.add(at)
            at = low.find(stem, at + 1)
    for word in CASUALTY_WORDS:
        at = low.find(word)
        while at >= 0:
            end = at + len(word)
            if (at == 0 or not (low[at - 1].isalnum() or low[at - 1] == "_")) and (
                    end == n or not (low[end].isalnum() or low[end] == "_")):
                found.add(at)
            at = low.find(word, at + 1)
    return sorted(found)


def starts_in(starts: Sequence[int], start: int, end: int) -> bool:
    """True when one of the sorted positions `starts` lies in [start, end)."""
    k = bisect.bisect_left(starts, start)
    return k < len(starts) and starts[k] < end


_CHANGES_A_TOLL_RE = re.compile(r"\b(?:raised|raises|revised|revises|lowered|lowers|updated|updates|increased)$")
_TIME_CLAUSE_RE = re.compile(r"\b(?:before|after|until|once)\s+(?:the|a|an|its|their)\b")
_CLAUSE_BREAK_RE = re.compile(r";|[”\"]|\b(?:while|but|whereas|although|though|and\s+\w+\s+(?:said|say|says))\b")


_YEAR_IN_TEXT_RE = re.compile(r"(?<![\w.,$€£-])(?:1[89]|20)\d\d(?![\w%]|[.,]\d)")
# A year that dates a toll still running is no other event: "since 2011", "the war that began in 2022".
_RUNNING_SINCE_RE = re.compile(
    r"(?:since|from|began|begun|started|starting|erupted|broke\s+out|launched)\s+(?:in\s+|early\s+|late\s+)?"
    r"(?:(?:january|february|march|april|may|june|july|august|september|october|november|december)\s+)?$", re.IGNORECASE)
_RUNNING_TOLL_RE = re.compile(
    r"\bsince\b|\b(?:has|have)\s+(?:now\s+|so\s+far\s+|also\s+)?(?:been\s+)?(?:killed|died|left|claimed|cost|wounded|"
    r"injured|risen|climbed|reached)\b", re.IGNORECASE)
OTHER_EVENT_REACH = 80  # characters around a figure in which an earlier year makes it another event's toll


def _article_year(text: str, published: datetime | None) -> int | None:
    """The year the article is written in: its publication's, else the latest year it mentions."""
    if published is not None:
        return published.year
    years = [int(m.group()) for m in _YEAR_IN_TEXT_RE.finditer(text)]
    return max(years) if years else None


def _of_an_earlier_year(sentence: str, cand: Candidate, now_year: list[int | None], text: str,
                        published: datetime | None) -> bool:
    """True when the figure's clause dates it to a year before the article's ("the 209 who died in floods
    in Romania in 1970", "Romania's 1970 floods, which left 209 dead"), unless the toll runs since then.
    `now_year` caches the article's year (empty until a clause names a year)."""
    lo = max(sentence.rfind(";", 0, cand.start) + 1, cand.start - OTHER_EVENT_REACH)
    hi = sentence.find(";", cand.end)
    hi = min(len(sentence) if hi < 0 else hi, cand.end + OTHER_EVENT_REACH)
    if not _YEAR_IN_TEXT_RE.search(sentence, lo, hi):
        return False
    if not now_year:
        now_year.append(_article_year(text, published))
    if now_year[0] is None or _RUNNING_TOLL_RE.search(sentence, lo, hi):
        return False  # "have been killed since ...", "the war that followed has killed": a toll up to now
    for m in _YEAR_IN_TEXT_RE.finditer(sentence, lo, hi):
        if cand.start <= m.start() < cand.end:
            continue
        if int(m.group()) < now_year[0] and not _RUNNING_SINCE_RE.search(sentence, max(0, m.start() - 40), m.start()):
            return True
    return False


def _runs_into_end(sent: Sentence, cand: Candidate) -> bool:
    """True when a truncated sentence cuts the claim's noun phrase ("more than 300 Alawite...")."""
    return len(sent.text) - cand.end <= 20 and sent.text.rstrip().endswith(("...", "…"))


def _build_claim(ctx: ArticleContext, sent: Sentence, si: int, cand: Candidate,
                 attributions: Sequence[Attribution], periods: Sequence[tuple[int, int, re.Match]],
                 parent: ClaimMention | None, sibling: ClaimMention | None, published: datetime | None,
                 para_start: int) -> ClaimMention | None:
    """A ClaimMention for one candidate: its source, scope, location and period."""
    base = sent.start
    abs_start, abs_end = base + cand.start, base + cand.end
    measure = cand.measure
    if measure == "pending":
        measure = parent.measure if parent else None
        if measure is None:
            return None
    # Source: the nearest attribution in the sentence (media only when no one else speaks).
    source, source_text = None, None
    pool = [a for a in attributions if not a.media] or list(attributions)
    # "X said on Thursday before the death toll spiked from 95": a figure in a time clause after the
    # speech is the article's, not X's.
    pool = [a for a in pool if not (a.end <= abs_start and _TIME_CLAUSE_RE.search(ctx.text, a.end, abs_start))]
    # "288, which the government revised to 275": who changes a toll gives the figure it changes it to.
    pool = [a for a in pool if not (a.start >= abs_end and _CHANGES_A_TOLL_RE.search(ctx.text, a.start, a.end))]
    if pool:
        def rank(a: Attribution) -> tuple[int, int]:
            if a.start <= abs_start < a.end:
                return 0, 0
            if a.end <= abs_start:  # "X said N were killed" is X's figure, unless a clause intervenes
                direct = not _CLAUSE_BREAK_RE.search(ctx.text, a.end, abs_start)
                return (0 if direct else 1), abs_start - a.end
            return 1, a.start - abs_end
        best = min(pool, key=rank)
        source, source_text = best.source, best.text
    elif parent is not None:
        source, source_text = parent.source, parent.source_text
    elif sibling is not None:
        source, source_text = sibling.source, sibling.source_text
    else:
        source, source_text = _inherited_source(ctx, si)
    # Scope and location.
    location = _location(ctx, sent, cand)
    scope = "overall" if location is None else "incident"
    location = location or None  # "" is a named building: an incident with no place name
    if scope == "overall":
        window = sent.text[max(0, cand.start - 60):cand.end + 80]
        local = source in LOCAL_SOURCES or bool(cand.group_text and NEIGHBOUR_RE.search(cand.group_text))
        if INCIDENT_MARKER_RE.search(window) or (local and not cand.toll):
            scope = "incident"
            location = ctx.place_before(abs_start, para_start)
    if parent is not None and scope == "overall":
        scope, location = parent.scope, parent.location
    elif sibling is not None and scope == "overall":
        scope, location = sibling.scope, sibling.location
    # Period: the time phrase nearest the figure that is not the time of the statement.
    period_text, period_start = None, None
    best_dist = None
    for p_start, p_end, m in periods:
        if any(a.start - base <= p_start <= a.end - base + 12 for a in attributions):
            continue
        dist = 0 if cand.start <= p_start < cand.end else min(abs(p_start - cand.end), abs(cand.start - p_end))
        if best_dist is None or dist < best_dist:
            best_dist, period_text, period_start = dist, m.group(), resolve_period(m, published)
            if m.group("rel") and m.group("rel").lower().split()[-1] in ("day", "before"):
                # "on Saturday ... killed the previous day": the day before the day the sentence names
                named = [resolve_period(o, published) for _, _, o in periods if o.group("on_wd") or o.group("on_date")]
                if named and named[0] is not None:
                    period_start = named[0] - timedelta(days=1)
    if period_text is None and parent is not None:
        period_text, period_start = parent.period_text, parent.period_start
    parsed = cand.parsed
    low, high = values(parsed)
    return ClaimMention(
        measure=measure, number=parsed.number, number_high=parsed.number_high, qualifier=parsed.qualifier,
        value_low=low, value_high=high, group=cand.group, group_text=cand.group_text, source=source,
        source_text=source_text, scope=scope, location=location, period_text=period_text,
        period_start=period_start, sentence=sent.text, char_start=abs_start, char_end=abs_end)


def _inherited_source(ctx: ArticleContext, si: int) -> tuple[str | None, str | None]:
    """The source of a sentence that names none: for a headline, the next lines'; any other sentence
    states its figure in the article's own voice (None), whoever the sentence before quoted."""
    sentences = ctx.sentences
    if not sentences[si].headline:
        return _speaker_of_quotation(ctx, si)
    for k in range(si + 1, min(si + 3, len(sentences))):
        atts = find_attributions(ctx, sentences[k])
        pool = [a for a in atts if not a.media] or atts
        if pool:
            return pool[0].source, pool[0].text
    return None, None


def _speaker_of_quotation(ctx: ArticleContext, si: int) -> tuple[str | None, str | None]:
    """For a sentence that opens a quotation it does not close ("We recorded 150 deaths. We expect ...,"
    X told Reuters): the speaker named where the quotation closes, in the same paragraph; else none."""
    sentences = ctx.sentences
    text = sentences[si].text.lstrip()
    if not text.startswith(_OPENING_QUOTES) or _quote_marks(text) % 2 == 0:
        return None, None
    for k in range(si + 1, min(si + 1 + QUOTATION_SENTENCES, len(sentences))):
        if sentences[k].para != sentences[si].para:
            break
        if _quote_marks(sentences[k].text) % 2:  # the quotation closes here: who says it follows
            atts = find_attributions(ctx, sentences[k])
            pool = [a for a in atts if not a.media] or atts
            return (pool[0].source, pool[0].text) if pool else (None, None)
    return None, None


_OPENING_QUOTES = ('"', "“")
QUOTATION_SENTENCES = 4  # sentences after its first in which a quotation must close


def _quote_marks(text: str) -> int:
    """The double quotation marks of a text (straight and curly)."""
    return text.count('"') + text.count("“") + text.count("”")


@functools.lru_cache(maxsize=CANDIDATE_MEMORY)
def clause_places(clause: str) -> tuple[tuple[re.Match, ...], tuple[re.Match, ...], re.Match | None]:
    """What `_location` looks for in a clause: settlements named as such, names after a preposition, a back
    reference ("in the city"). Remembered by the clause's text: figures of one clause share these searches,
    and copies of a wire story repeat sentences."""
    settlements = finditer_from(SETTLEMENT_OF_RE, SETTLEMENT_OF_START_RE, clause)
    settlements += anchored_finditer(NAME_SETTLEMENT, clause, clause[::-1])
    return tuple(settlements), tuple(PLACE_PREP_RE.finditer(clause)), BACK_REFERENCE_RE.search(clause)


def _location(ctx: ArticleContext, sent: Sentence, cand: Candidate) -> str | None:
    """The settlement or site a claim is tied to: the nearest one named in its clause of the sentence."""
    text = sent.text
    # The clause: between semicolons, without the attribution ("Rami Abdulrahman of the Observatory").
    lo = text.rfind(";", 0, cand.start) + 1
    hi = text.find(";", cand.end)
    hi = len(text) if hi < 0 else hi
    blanks = [(a.start - sent.start, a.end - sent.start) for a in ctx.attributions.get(sent.start) or []]
    best, best_dist = None, None

    def consider(pos: int, name: str | None) -> None:
        nonlocal best, best_dist
        if any(a <= pos < b for a, b in blanks):
            return
        name = clean_place(name) if name else None
        if not name:
            return
        if name.split()[-1].lower() in FACILITY_WORDS:
            name = ""  # "al-Ahli Arab Hospital": an incident, but the building is no place name
        dist = min(abs(pos - cand.start), abs(pos - cand.end))
        if best_dist is None or dist < best_dist:
            best, best_dist = name, dist

    def could_take(pos: int) -> bool:
        """False where consider(pos, ...) changes nothing: in an attribution, or no nearer than the best."""
        if any(a <= pos < b for a, b in blanks):
            return False
        return best_dist is None or min(abs(pos - cand.start), abs(pos - cand.end)) < best_dist

    stretch = text[lo:hi]
    settlements, after_prepositions, back = clause_places(stretch)
    for m in settlements:
        consider(lo + m.start("name"), m.group("name"))
    if cand.toll:
        return best  # a toll is the event's unless a settlement is named for it
    if best is None:
        if back and not any(a <= lo + back.start() < b for a, b in blanks):
            named = ctx.place_before(sent.start + lo + back.start(), 0)
            if named:
                consider(lo + back.start(), named)  # "buried in mass graves in the city": the city named before
    for m in after_prepositions:
        after = stretch[m.end():m.end() + 20].lower().split()
        if after and after[0].strip(",.") in REGION_NOUNS:
            continue
        clean = clean_place(m.group("name"))
        if not clean:
            continue
        before_words = [w.strip(",.").lower() for w in stretch[max(0, m.start() - 60):m.start()].split()[-6:]]
        next_word = after[0].strip(",.") if after else ""
        if next_word.isalpha() and next_word.islower() and (
                next_word in GROUP_WORDS or next_word in ATTACK_NOUNS
                or (next_word.endswith("s") and not next_word.endswith("ss") and next_word not in SITE_NOUNS)):
            continue  # "Israeli strikes", "southern Israeli towns": an adjective, not a place
        site_after = next_word in SITE_NOUNS - ATTACK_NOUNS - {"on", "hit", "struck", "fire"}
        pos = lo + m.start("name")
        # is_settlement lists the article's places (whole-text scans) on its first call: asked only where
        # consider could take the name.
        if m.group("alone") or site_after or any(w in SITE_NOUNS for w in before_words) or (
                could_take(pos) and ctx.is_settlement(clean)):
            consider(pos, clean)
    return best
