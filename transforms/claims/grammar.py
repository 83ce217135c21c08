"""The claim grammar of one sentence: its tokens and number mentions, the noun phrase after a number, and the
verb, toll or subcount that ties a number to a casualty measure; the result is the sentence's candidates."""

from __future__ import annotations

import re
from typing import NamedTuple, Sequence

from .vocabulary import (
    ACTIVE_BEFORE, AUX, CHANGE_VERBS, COMBATANT_MARKERS, COPULA, DETERMINERS, ED_ADJECTIVES, GROUP_PRECEDENCE,
    GROUP_WORDS, INCREMENT_WORDS, IRREGULAR_PAST, LABEL_WORDS, LIFE_VERBS, MAX_FIGURE, MAX_NP_WORDS,
    MAX_RIGHT_TOKENS, MAX_TOLL_TOKENS, MEASURE_HEADS, MEASURE_WORDS, MONTHS, MORE_THAN_VERBS, NEGATIONS, NONPERSON,
    NOUN_BEFORE, NOUN_FILLERS, OBJECT_STARTS, PEOPLE_NOUNS, PEOPLE_WORDS, PREVERB, RELATIVES, SCAN_STOPS,
    SUBCOUNT_BEFORE, SUBCOUNT_NOUNS, SUBCOUNT_PAIRS, TOLL_LINKS, TOLL_MEASURES, TRANSITIVE, WEEKDAYS)
from .patterns import (
    AGE_APPOSITION_BEFORE_RE, AGE_BEFORE_RE, COMPOUND_AFTER_RE, CURRENCY_BEFORE_RE, LABEL_BEFORE_RE,
    LEGAL_LABEL_BEFORE_RE, LIST_GAP_RE, MONTH_AFTER_RE, MONTH_BEFORE_RE, NUMBER_LOW_RE, NUMBER_RE, PEOPLE_AFTER_RE,
    PERCENT_AFTER_RE, TIME_AFTER_RE, TOKEN_RE, YEAR_RE, caseless_lower)
from .numbers import ParsedNumber, parse_match


class Token(NamedTuple):
    """A word, number or punctuation mark of a sentence; a number mention is one token."""

    start: int
    end: int
    text: str
    low: str
    num: int  # index of the number mention this token is, else -1


class Mention(NamedTuple):
    """A number phrase of a sentence, parsed, and whether it can be a count of people at all."""

    start: int
    end: int
    parsed: ParsedNumber
    eligible: bool


_new_tuple = tuple.__new__


def tokenize(text: str, mentions: Sequence[Mention]) -> list[Token]:
    """Word and punctuation tokens of a sentence; each number mention becomes one token."""
    tokens: list[Token] = []
    append = tokens.append
    # Lower-casing ASCII keeps every offset (and holds no "’"): a token's lower form is a slice of the
    # lower-cased sentence. Tokens are built by tuple.__new__, which skips the NamedTuple's Python __new__.
    low = text.lower() if text.isascii() else None
    n = len(mentions)
    mi = 0
    for m in TOKEN_RE.finditer(text):
        s, e = m.span()
        while mi < n and mentions[mi].end <= s:
            mi += 1
        if mi < n and mentions[mi].start < e:  # (and s < its end, by the loop above)
            mention = mentions[mi]
            if not tokens or tokens[-1].num != mi:
                append(_new_tuple(Token, (mention.start, mention.end, text[mention.start:mention.end], "#num", mi)))
            continue
        word = text[s:e]
        append(_new_tuple(Token, (s, e, word, low[s:e] if low is not None else word.lower().replace("’", "'"), -1)))
    return tokens


def find_mentions(text: str) -> list[Mention]:
    """The number phrases of a sentence, each marked eligible or not as a count of people."""
    mentions = []
    pos = 0
    in_ages = False
    low = caseless_lower(text)
    while True:
        if low is None:
            match = NUMBER_RE.search(text, pos)
        else:  # the twin finds where the next number starts; NUMBER_RE's match there is the one search gives
            at = NUMBER_LOW_RE.search(low, pos)
            match = None if at is None else NUMBER_RE.match(text, at.start())
        if match is None:
            break
        pos = match.end()
        if match.group("n2") and MONTH_BEFORE_RE.search(text[max(0, match.start() - 12):match.start()]):
            pos = match.start("n2")  # "since Oct. 7 to 37,084": a date, then a figure, not a range
            match = NUMBER_RE.match(text, match.start("n1"), match.end("n1"))
            if match is None:
                continue
        parsed = parse_match(match)
        start, end = match.span()
        if parsed is None:
            continue
        if parsed.number == 0 and parsed.qualifier != "vague":
            continue
        eligible = _eligible(text, start, end, match, parsed)
        if mentions and LIST_GAP_RE.fullmatch(text[mentions[-1].end:start]) and (
                in_ages or AGE_BEFORE_RE.search(text[:mentions[-1].start])) and not mentions[-1].eligible:
            eligible, in_ages = False, True  # "aged 19, 20 and 21"
        else:
            in_ages = False
        mentions.append(Mention(start, end, parsed, eligible))
    return mentions


def _eligible(text: str, start: int, end: int, match: re.Match, parsed: ParsedNumber) -> bool:
    """False for numbers that are labels, dates, times, money, percentages, ages or compounds."""
    before, after = text[max(0, start - 25):start], text[end:end + 25]
    if CURRENCY_BEFORE_RE.search(before) or PERCENT_AFTER_RE.match(after) or TIME_AFTER_RE.match(after):
        return False
    if COMPOUND_AFTER_RE.match(after) or MONTH_AFTER_RE.match(after) or MONTH_BEFORE_RE.search(before):
        return False
    if AGE_BEFORE_RE.search(before):
        return False
    if before.endswith("-") and before[-2:-1].isalnum():
        return False  # "COVID-19", "F-16"
    if before.endswith(("^", "-", "\u2212", "+")) or after[:1] in ("^", "e", "E"):
        return False  # an exponent or a signed number ("10^30", "1e30", "-5"): no count of people
    if max(parsed.number or 0, parsed.number_high or 0) > MAX_FIGURE:
        return False
    if LEGAL_LABEL_BEFORE_RE.search(text, max(0, start - 60), start):
        return False  # "IPC sections 37 and 38", "under Article 5"
    label = LABEL_BEFORE_RE.search(before)
    if label and label.group(1).lower().rstrip(".") in LABEL_WORDS and label.group(1)[0].isupper():
        return False
    if AGE_APPOSITION_BEFORE_RE.search(before) and after.lstrip().startswith(",") and parsed.qualifier == "exact":
        return False  # "Gary McLaren, 50, was killed"
    if parsed.qualifier == "range" and all(YEAR_RE.fullmatch((g or "").strip())
                                           for g in (match.group("b1") or match.group("n1") or match.group("f1"),
                                                     match.group("b2") or match.group("n2") or match.group("f2"))):
        return False  # "between 2009 and 2018"
    core = match.group("n1") or ""
    if (parsed.qualifier == "exact" and YEAR_RE.fullmatch(core.strip())
            and not PEOPLE_AFTER_RE.match(after) and not _RAISED_TO_BEFORE_RE.search(before)):
        return False  # a year (not a figure a count went up to: "the number injured lifted to 2059")
    return True


_RAISED_TO_BEFORE_RE = re.compile(r"\b(?:rose|risen|climbed|lifted|increased|jumped|raised|revised|soared)\s+(?:up\s+)?to\s+$")


# ----------------------------------------------------------------------------------------------
# The claim grammar
# ----------------------------------------------------------------------------------------------
class _Phrase(NamedTuple):
    end: int  # token index after the noun phrase
    words: tuple[str, ...]
    text: str | None
    group: str | None
    measure: str | None  # from a measure noun heading the phrase ("47 dead")
    partitive: str | None  # "them" or a measure noun ("seven of the dead")
    nonperson: bool
    span_end: int  # char end of the phrase in the sentence
    part_of: int = -1  # mention index of the figure this one is a part of ("14 of the 35 victims")


_NP_STOP = (AUX | RELATIVES | NEGATIONS | SUBCOUNT_BEFORE | set(SCAN_STOPS) | set(MEASURE_WORDS) | {
    "in", "on", "at", "by", "from", "since", "during", "after", "before", "near", "across", "inside", "outside",
    "with", "without", "to", "into", "for", "under", "among", "between", "through", "amid", "following",
    "and", "or", "nor", "as", "than", "also", "still", "reportedly", "including", "they", "he", "she", "it",
    "we", "i", "you", "like", "such", "lost", "left", "found", "alone", "so", "far", "more", "less",
    "most", "many", "all", "both", "either", "each", "then", "later", "there", "here", "over",
    "about", "around", "almost", "nearly", "up", "out", "down", "off", "confirmed", "believed", "feared",
    "shot", "buried", "trapped", "arrested", "rescued", "evacuated", "detained", "displaced", "wounding",
    "yesterday", "today", "overnight", "this", "last", "whose", "upon", "against", "toward", "towards",
    "via", "per", "versus", "vs", "including", "apparently", "allegedly", "now", "already", "initially",
}) - {"dead", "deaths", "fatalities", "bodies", "corpses", "casualties", "victims", "wounded", "injured",
      "injuries", "missing"}


def _noun_phrase(tokens: Sequence[Token], i: int, mentions: Sequence[Mention], denominators: set[int]) -> _Phrase:
    """The noun phrase after the number at token i, with its group and measure noun."""
    n = len(tokens)
    j = i + 1
    partitive = None
    low = lambda k: tokens[k].low if k < n else ""  # noqa: E731
    if low(j) == "of":
        if low(j + 1) in ("them", "whom", "those"):
            partitive, j = "them", j + 2
        elif low(j + 1) == "the" and low(j + 2) in SUBCOUNT_NOUNS:
            partitive, j = low(j + 2), j + 3
        elif low(j + 1) in DETERMINERS:
            j += 1  # "20 of his neighbors" reads as "20 neighbors"
            if low(j + 1) == "#num" and mentions[tokens[i].num].eligible:
                m = j + 1
                following = [low(m + 1), low(m + 2)]
                if following[0] in AUX or following[0] in _NP_STOP - set(SUBCOUNT_NOUNS):
                    following = []  # "90 of its 200 residents were killed": the verb is the whole clause's
                elif following[1] in AUX:
                    following = following[:1]
                word = next((w for w in following if w in SUBCOUNT_NOUNS or w in ("died", "deaths")), None)
                if word is None:
                    denominators.add(tokens[m].num)  # "90 of its 200 residents": 200 is the base
                else:  # "14 of the 35 victims were women": a part of the figure 35
                    end = m + 1
                    while end < n and end < m + 4 and tokens[end].text[0].isalpha() and tokens[end].low not in COPULA:
                        end += 1
                    measure = SUBCOUNT_NOUNS.get(word) or ("killed" if word in ("died", "deaths") else None)
                    return _Phrase(end, (), None, None, measure, word, False, tokens[end - 1].end, tokens[m].num)
        elif low(j + 1) not in _NP_STOP and low(j + 1) != "#num":
            j += 1  # "dozens of people", "scores of bodies"
    words: list[str] = []
    first = j
    measure = None
    while j < n and len(words) < MAX_NP_WORDS:
        tok = tokens[j]
        if tok.num >= 0:
            if not mentions[tokens[i].num].eligible:
                break  # "Two-thirds of the 1,200 killed": the second number is the figure
            if words and (words[-1] in DETERMINERS or (words[-1] == "of" and len(words) >= 2)):
                denominators.add(tok.num)  # "members of one family": part of the phrase, not a figure
                j += 1
                continue
            if tok.num in denominators:
                j += 1
                continue
            break
        if not (tok.text[0].isalpha()):
            if tok.text == "’" or tok.text == "'":
                j += 1
                continue
            break
        if tok.low in MEASURE_HEADS:
            if tok.low in ("wounded", "injured", "missing", "dead") and words and words[-1] not in DETERMINERS:
                break  # "12 people dead" — predicative, read by the verb scan
            measure = MEASURE_HEADS[tok.low]
            words.append(tok.low)
            j += 1
            break
        if tok.low in _ATTRIBUTIVE and (low(j + 1) in _COUNTED_HEADS or (
                low(j + 2) in _COUNTED_HEADS and low(j + 1).isalpha() and low(j + 1) not in _NP_STOP)):
            words.append(tok.low)  # "202 confirmed deaths": the participle qualifies the noun after it
            j += 1
            continue
        if tok.low in _NP_STOP and not (tok.low == "of" and words):
            break
        if finite_verb(tok) or (tok.low in _FALL_VERBS and low(j + 1) in ("victim", "victims")):
            break  # "200 people attended the funeral of ...", "80 survived", "40 people falling victim"
        if tok.low == "of" and low(j + 1) in ("them", "whom"):
            break
        words.append(tok.low)
        j += 1
    while words and (words[-1] in DETERMINERS or words[-1] == "of"):
        words.pop()
        j -= 1
    span_end = tokens[j - 1].end if j > first else tokens[i].end
    text = None
    if j > first:
        text = " ".join(t.text for t in tokens[first:j] if t.num < 0) or None
    group = _group_of(words)
    if group is None and _CIVILIAN_DRESS_RE.match(" ".join(t.low for t in tokens[j:j + 4])):
        group = "civilians"  # "bodies in civilian clothes"
    nonperson = False
    # A capitalised word before the head is part of a name ("Two United States service members").
    for x, w in enumerate(words):
        if w == "of":
            break
        if w in GROUP_WORDS or w in PEOPLE_WORDS:
            break
        if w in NONPERSON or (w.endswith("s") and w[:-1] in NONPERSON):
            if x < len(words) - 1 and j - first == len(words) and tokens[first + x].text[:1].isupper():
                continue
            nonperson = True
            break
    return _Phrase(j, tuple(words), text, group, measure, partitive, nonperson, span_end)


_ATTRIBUTIVE = frozenset({"confirmed", "reported", "recorded", "registered", "known", "documented", "verified"})
_COUNTED_HEADS = frozenset({"deaths", "fatalities", "casualties", "injuries", "victims"})
_CIVILIAN_DRESS_RE = re.compile(r"(?:in|wearing) civilian (?:clothes|clothing|dress|attire)\b")


def _group_of(words: Sequence[str]) -> str | None:
    """The group a noun phrase names (children, women, combatants, ...), or None."""
    found = set()
    head_words = []
    for w in words:
        base = w[:-2] if w.endswith("'s") else w
        head_words.append(base)
        g = GROUP_WORDS.get(base)
        if g:
            found.add(g)
    if not found:
        return None
    if "children" in found and "women" in found:
        return "civilians"
    if "security_forces" in found and any(w in COMBATANT_MARKERS or w.startswith("pro-") for w in head_words):
        return "combatants"
    for g in GROUP_PRECEDENCE:
        if g in found:
            return g
    return None


class _Trigger(NamedTuple):
    kind: str  # active | noun | toll | sub | coord | right | head
    measure: str | None
    start: int  # char span of the casualty word(s) in the sentence
    end: int
    other: int = -1  # index of the related mention (coordination, parent)
    qualifier: str | None = None  # a toll verb can turn "exact" into "more_than"


def _is_active(tokens: Sequence[Token], j: int) -> bool:
    """True when the verb at j takes an object, so the number before it is the agent."""
    if j + 1 >= len(tokens):
        return False
    nxt = tokens[j + 1]
    if nxt.num >= 0 or nxt.low in OBJECT_STARTS or nxt.low in GROUP_WORDS or nxt.low in PEOPLE_WORDS:
        return True
    return nxt.text[0].isupper() and nxt.low not in WEEKDAYS and nxt.low not in MONTHS


MODALS = {"will", "would", "could", "may", "might", "can", "should", "must"}


def _measure_after_aux(tokens: Sequence[Token], j: int) -> tuple[str, int] | None | bool:
    """After an auxiliary at j: (measure, token index) of the participle, False if negated or a projection
    ("could die"), else None."""
    modal = 0 <= j < len(tokens) and tokens[j].low in MODALS
    k = j + 1
    for _ in range(5):
        if k >= len(tokens):
            return None
        low = tokens[k].low
        if low in NEGATIONS:
            if k + 1 < len(tokens) and tokens[k + 1].low == "accounted":
                return ("missing", k + 1)  # "are still not accounted for"
            return False
        other = _other_wording(tokens, k) if low in _OTHER_WORDING_VERBS else None
        if other:
            return other
        if low in ("among",) and k + 2 < len(tokens) and tokens[k + 1].low in ("the", "those") \
                and tokens[k + 2].low in SUBCOUNT_NOUNS:
            return (SUBCOUNT_NOUNS[tokens[k + 2].low] or "casualties", k + 2)
        if low in MEASURE_WORDS and low not in ("victims", "bodies", "deaths", "casualties", "fatalities"):
            if modal:
                return False  # "2.2 million could die": a projection, not a count
            if k + 2 < len(tokens) and tokens[k + 1].low in ("or", "and") and tokens[k + 2].num < 0 \
                    and MEASURE_WORDS.get(tokens[k + 2].low, MEASURE_WORDS[low]) != MEASURE_WORDS[low] \
                    and not (k + 3 < len(tokens) and tokens[k + 3].num >= 0):
                return ("casualties", k + 2)  # "were killed or wounded"
            return (MEASURE_WORDS[low], k)
        if low in ("have", "has", "had"):
            modal = False  # "may have died" reports deaths
        if low == "lost" and k + 2 < len(tokens) and tokens[k + 2].low == "lives":
            return ("killed", k + 2)
        if low in ("shot", "stabbed") and not (k + 1 < len(tokens) and tokens[k + 1].low in ("dead", "to", "and", "or")):
            return ("casualties", k)  # "14 people were stabbed": killed or hurt, the text does not say
        if low in PREVERB or low in AUX:
            k += 1
            continue
        return None
    return None


def _right_trigger(tokens: Sequence[Token], start: int, mentions: Sequence[Mention],
                   subcounts: set[int]) -> _Trigger | None:
    """The casualty verb after a number's noun phrase that makes it the victims' count, if any."""
    n = len(tokens)
    j, steps, in_rel = start, 0, False
    while j < n and steps < MAX_RIGHT_TOKENS:
        tok = tokens[j]
        low = tok.low
        if tok.num >= 0:
            mention = mentions[tok.num]
            prev = tokens[j - 1].low if j else ""
            prev2 = tokens[j - 2].low if j > 1 else ""
            if prev in ("whom", "them") and (prev2, prev) in SUBCOUNT_PAIRS:
                # "of whom 7,844 have died": the clause is the part's own; go on after it.
                j += 1
                while j < n and tokens[j].text not in (",", ";"):
                    j += 1
                continue
            if not mention.eligible or tok.num in subcounts or prev in SUBCOUNT_BEFORE \
                    or (prev2, prev) in SUBCOUNT_PAIRS:
                j += 1
                steps += 1
                continue
            if prev in ("and", ",", "or", "plus") and not in_rel:
                return _Trigger("coord", None, tok.start, tok.end, tok.num)
            return None
        if low in MEASURE_WORDS and low not in ("victims", "casualties"):
            if low in ("die", "dies") and j and tokens[j - 1].low in MODALS:
                return None
            if low in TRANSITIVE and (j == 0 or tokens[j - 1].low not in AUX | PREVERB) and _is_active(tokens, j):
                return None
            measure = MEASURE_WORDS[low]
            if j + 2 < n and tokens[j + 1].low in ("or", "and") and tokens[j + 2].low in MEASURE_WORDS \
                    and MEASURE_WORDS[tokens[j + 2].low] != measure and tokens[j + 2].num < 0:
                if not (j + 3 < n and tokens[j + 3].num >= 0):
                    return _Trigger("right", "casualties", tok.start, tokens[j + 2].end)
            return _Trigger("right", measure, tok.start, tok.end)
        if low == "among" and j + 2 < n and tokens[j + 1].low in ("the", "those") and tokens[j + 2].low in SUBCOUNT_NOUNS:
            return _Trigger("right", SUBCOUNT_NOUNS[tokens[j + 2].low] or "casualties", tok.start, tokens[j + 2].end)
        if low == "lost" and j + 2 < n and tokens[j + 2].low == "lives":
            return _Trigger("right", "killed", tok.start, tokens[j + 2].end)
        if low in SUFFER_VERBS:  # "56 suffered grievous injuries": the injured
            for k in range(j + 1, min(j + 4, n)):
                if tokens[k].low in INJURY_NOUNS:
                    return _Trigger("right", "injured", tok.start, tokens[k].end)
        if low == "to" and j + 1 < n and tokens[j + 1].low == "death":
            return _Trigger("right", "killed", tok.start, tokens[j + 1].end)
        other = _other_wording(tokens, j) if low in _OTHER_WORDING_VERBS else None
        if other is None and low in NEGATIONS and j + 1 < n and tokens[j + 1].low == "accounted":
            other = ("missing", j + 1)  # "dozens of people still not accounted for"
        if other:
            return _Trigger("right", other[0], tok.start, tokens[other[1]].end)
        if low in AUX or (low in PREVERB and low in ("reported", "confirmed", "feared", "believed", "presumed",
                                                        "said", "thought", "known", "found", "shot", "listed")):
            found = _measure_after_aux(tokens, j if low in AUX else j - 1)
            if found is False:
                return None
            if found:
                measure, k = found
                passive = any(tokens[x].low in ("been", "being", "be", "was", "were", "is", "are", "got", "get")
                              for x in range(j, k))
                if tokens[k].low in TRANSITIVE and not passive and _is_active(tokens, k):
                    return None
                return _Trigger("right", measure, tok.start, tokens[k].end)
            if not in_rel:
                return None
            while j < n and tokens[j].text != ",":
                j += 1
            in_rel = False
            continue
        if low in SCAN_STOPS:
            return None
        if low in RELATIVES:
            in_rel = True
        elif tok.text == ",":
            in_rel = False
        elif not in_rel and finite_verb(tok):
            return None
        j += 1
        steps += 1
    return None


def _other_wording(tokens: Sequence[Token], k: int) -> tuple[str, int] | None:
    """(measure, index of its last word) for verb phrases at k that say a measure without its words: "admitted
    (taken, rushed) to hospital" is injured, "fell (falling, fallen) victim" killed."""
    low = tokens[k].low
    n = len(tokens)
    if low in _TO_HOSPITAL_VERBS and k + 1 < n and tokens[k + 1].low == "to":
        for x in range(k + 2, min(k + 5, n)):
            if tokens[x].low in ("hospital", "hospitals"):
                for y in range(x + 1, n):  # "two villagers who had been taken to hospital ... died"
                    if tokens[y].low in MEASURE_WORDS:
                        return None
                    if not tokens[y].text[0].isalnum():
                        break
                return "injured", x
            if not tokens[x].text[0].isalpha():
                break
    if low in _FALL_VERBS and k + 1 < n and tokens[k + 1].low in ("victim", "victims"):
        return "killed", k + 1
    if low in _SUCCUMB_VERBS and k + 1 < n and tokens[k + 1].low == "to":
        for x in range(k + 2, min(k + 5, n)):  # "succumbed to their injuries": died of them
            if tokens[x].low in INJURY_NOUNS or tokens[x].low in ("wounds", "burns"):
                return "killed", x
    return None


_FATE_NOUNS = frozenset({"safety", "whereabouts", "fate"})
_TO_HOSPITAL_VERBS = frozenset({"admitted", "taken", "rushed", "brought", "airlifted", "hospitalized", "hospitalised"})
_SUCCUMB_VERBS = frozenset({"succumbed", "succumbing", "succumb", "succumbs"})
_FALL_VERBS = frozenset({"fell", "falling", "fallen", "fall", "falls"})
_OTHER_WORDING_VERBS = _TO_HOSPITAL_VERBS | _FALL_VERBS | _SUCCUMB_VERBS  # (the words _other_wording starts from)
SUFFER_VERBS = frozenset({"suffered", "suffer", "suffers", "suffering", "sustained", "sustain", "sustaining"})
INJURY_NOUNS = frozenset({"injuries", "injury", "wounds", "burns"})
# A count of a measure as the subject of a toll's verb: "Deaths had reached 100", "fatalities rose to 30".
TOLL_SUBJECTS = {"deaths": "killed", "fatalities": "killed", "casualties": "casualties", "injuries": "injured"}
TOLL_SUBJECT_VERBS = frozenset({"reached", "rose", "risen", "climbed", "stood", "topped", "surpassed", "exceeded",
                                "passed", "jumped", "increased", "hit", "crossed", "reach", "rise", "climb", "stand",
                                "top", "tops", "exceed", "exceeds", "surpass", "surpasses", "pass", "passes"})


def _revised_after(tokens: Sequence[Token], k: int, i: int) -> bool:
    """True when the figure at k is the toll that a relative clause changes to the figure at i ("put at 140,
    which the state revised to 131"): the toll named before both is the later one's too."""
    words = [t.low for t in tokens[k + 1:i]]
    return len(words) >= 3 and words[-1] == "to" and ("which" in words or "that" in words) and (
        words[-2] in _REVISE_VERBS or (words[-2] in ("up", "down") and words[-3] in _REVISE_VERBS))


_REVISE_VERBS = frozenset({"revised", "raised", "lowered", "increased", "updated", "reduced", "cut", "corrected"})


def finite_verb(tok: Token) -> bool:
    """A guess that a token is a past-tense verb other than a casualty verb ("fled", "arrested")."""
    low = tok.low
    if low in IRREGULAR_PAST:
        return True
    return (low.endswith("ed") and len(low) > 4 and "-" not in low and low not in ED_ADJECTIVES
            and low not in MEASURE_WORDS and low not in PREVERB and not tok.text[0].isupper())


def _left_trigger(tokens: Sequence[Token], i: int, mentions: Sequence[Mention],
                  phrases: dict[int, _Phrase], triggers: dict[int, _Trigger | None]) -> _Trigger | None:
    """What before the number at token i makes it a casualty figure: a verb, a noun, a toll, a part-of."""
    low = lambda k: tokens[k].low if 0 <= k < len(tokens) else ""  # noqa: E731
    p1, p2, p3 = low(i - 1), low(i - 2), low(i - 3)
    # Part of a figure already given.
    if p1 in SUBCOUNT_BEFORE or (p2, p1) in SUBCOUNT_PAIRS:
        measure = None
        if p1 in ("included", "include", "includes") and p2 in SUBCOUNT_NOUNS:
            measure = SUBCOUNT_NOUNS[p2]
        return _Trigger("sub", measure, tokens[i - 1].start, tokens[i - 1].end)
    if p1 in COPULA and p2 in SUBCOUNT_NOUNS and p3 in ("the", "those"):
        if low(i - 4) == "among" or p1 in ("included", "include", "includes"):
            return _Trigger("sub", SUBCOUNT_NOUNS[p2], tokens[i - 4].start if i >= 4 else tokens[i - 3].start,
                            tokens[i - 1].end)
    if p2 in SUBCOUNT_NOUNS and p3 == "the" and low(i - 4) == "among":
        return _Trigger("sub", SUBCOUNT_NOUNS[p2], tokens[i - 4].start, tokens[i - 2].end)
    # An active verb: "killed more than 340", "killed or wounded 50", "killed a combined 12,000".
    skip = i - 1
    while skip > 0 and skip >= i - 3 and low(skip) in _FILLER_BEFORE:
        skip -= 1
    if skip < i - 1 and low(skip) in ACTIVE_BEFORE:
        return _Trigger("active", ACTIVE_BEFORE[low(skip)], tokens[skip].start, tokens[skip].end)
    if p1 in ACTIVE_BEFORE:
        measure = ACTIVE_BEFORE[p1]
        if p2 in ("or", "and") and p3 in ACTIVE_BEFORE and ACTIVE_BEFORE[p3] != measure:
            return _Trigger("active", "casualties", tokens[i - 3].start, tokens[i - 1].end)
        return _Trigger("active", measure, tokens[i - 1].start, tokens[i - 1].end)
    if p1 == "of" and p2 in ("family", "total", "group", "minimum") and p3 in ("a", "an", "the") \
            and low(i - 4) in ACTIVE_BEFORE:
        return _Trigger("active", ACTIVE_BEFORE[low(i - 4)], tokens[i - 4].start, tokens[i - 4].end)
    if p1 == "of" and p2 == "lives" and p3 == "the" and low(i - 4) in ("claimed", "claiming", "took", "taking",
                                                                      "cost", "costing", "claim", "claims"):
        return _Trigger("active", "killed", tokens[i - 4].start, tokens[i - 1].end)
    # "The safety of 211 people remains unconfirmed", "the whereabouts of 12 are unknown": the missing.
    if p1 == "of" and p2 in _FATE_NOUNS:
        for x in range(i + 1, min(i + 10, len(tokens))):
            word = tokens[x].low
            if word in (";", ".") or tokens[x].num >= 0:
                break
            if word in ("unconfirmed", "unknown") or (word == "not" and low(x + 1) in ("confirmed", "known")):
                return _Trigger("noun", "missing", tokens[i - 2].start, tokens[i - 1].end)
    # A noun: "the deaths of 311", "casualties somewhere between 180-200".
    if p1 == "of" and p2 in NOUN_BEFORE:
        return _Trigger("noun", NOUN_BEFORE[p2], tokens[i - 2].start, tokens[i - 1].end)
    if p1 in NOUN_BEFORE and p1 not in ("killing", "death", "remains"):
        return _Trigger("noun", NOUN_BEFORE[p1], tokens[i - 1].start, tokens[i - 1].end)
    if p1 in NOUN_FILLERS and p2 in NOUN_BEFORE and p2 not in ("death", "remains", "killing"):
        return _Trigger("noun", NOUN_BEFORE[p2], tokens[i - 2].start, tokens[i - 1].end)
    # A toll named earlier in the sentence: "the death toll ... has surpassed 1,000".
    link = p1 if p1 not in ("now", "already", "officially") else p2
    if link in TOLL_LINKS:
        toll = _toll_before(tokens, i, mentions, phrases)
        if toll:
            qualifier = "more_than" if link in MORE_THAN_VERBS else None
            return toll._replace(qualifier=qualifier)
    # Coordination with the number before: "killed 10 soldiers and 5 civilians".
    if p1 in ("and", ",", "or", "plus") or (p1 == "as" and p2 == "well"):
        k = i - 2 if p1 != "as" else i - 4
        for prev_i in range(k, max(-1, k - MAX_NP_WORDS - 1), -1):
            if prev_i < 0:
                break
            if tokens[prev_i].num >= 0:
                phrase = phrases.get(prev_i)
                if phrase and phrase.end >= k and prev_i in triggers:
                    prev = triggers[prev_i]
                    if prev is not None and prev.kind in ("active", "noun", "sub", "toll", "coord_left"):
                        return _Trigger("coord_left", prev.measure, prev.start, prev.end, tokens[prev_i].num)
                break
        for back in range(i - 2, max(-1, i - 6), -1):
            word = tokens[back]
            if word.num >= 0 or not word.text[0].isalpha():
                break
            if word.low in ACTIVE_BEFORE and back < i - 2:
                return _Trigger("active", ACTIVE_BEFORE[word.low], word.start, word.end)
    return None


_FILLER_BEFORE = {"a", "an", "another", "combined", "further", "additional", "reported", "record", "staggering",
                  "confirmed", "total", "minimum", "whopping", "more"}


def _toll_before(tokens: Sequence[Token], i: int, mentions: Sequence[Mention],
                 phrases: dict[int, _Phrase]) -> _Trigger | None:
    """A "toll" (or "number of dead") before token i with no other figure between them."""
    for k in range(i - 1, max(-1, i - MAX_TOLL_TOKENS), -1):
        tok = tokens[k]
        if tok.num >= 0 and mentions[tok.num].eligible:
            phrase = phrases.get(k)
            if (phrase is None or not phrase.nonperson) and not _revised_after(tokens, k, i):
                return None
        if tok.low in (";", "said", "says", "told"):
            return None
        if tok.low in ("toll", "tally", "count") and (tok.low != "count" or (k and tokens[k - 1].low in ("death", "body", "casualty"))):
            prev = tokens[k - 1].low if k else ""
            measure = TOLL_MEASURES.get(prev, "killed")
            start = tokens[k - 1].start if prev in TOLL_MEASURES or prev in ("body",) else tok.start
            return _Trigger("toll", measure, start, tok.end)
        if tok.low in ("total", "figure", "figures") and k and tokens[k - 1].low in ("the", "overall", "cumulative"):
            return _Trigger("toll", None, tok.start, tok.end)  # its measure is that of the figure before it
        if tok.low == "number" and k + 2 < len(tokens) and tokens[k + 1].low == "of":
            # "the number of dead", "the number of people who were unaccounted for"
            for m in range(k + 2, min(k + (8 if k + 3 < i and tokens[k + 3].low in RELATIVES else 5), i)):
                word = tokens[m].low
                if word in MEASURE_WORDS or word in SUBCOUNT_NOUNS:
                    return _Trigger("toll", MEASURE_WORDS.get(word, "casualties") if word != "victims" else "killed",
                                    tok.start, tokens[m].end)
        if tok.low == "number" and k + 1 < i and tokens[k + 1].low in ("injured", "wounded", "dead", "killed", "missing"):
            # "the number injured also lifted to 2059"
            return _Trigger("toll", MEASURE_WORDS[tokens[k + 1].low], tok.start, tokens[k + 1].end)
        if tok.low in TOLL_SUBJECTS and k >= i - (8 if any(tokens[x].low in RELATIVES for x in range(k + 1, i)) else 5) and any(
                tokens[x].low in TOLL_SUBJECT_VERBS for x in range(k + 1, i)):
            return _Trigger("toll", TOLL_SUBJECTS[tok.low], tok.start, tok.end)
    return None


class Candidate(NamedTuple):
    """A number the grammar ties to a casualty measure: a claim before its source, scope and period."""

    token: int
    mention: int
    measure: str  # "pending": taken from the claim this one is a part of
    group: str  # "pending": the group of the claim this one is a part of ("23 of them")
    group_text: str | None
    parsed: ParsedNumber
    start: int  # char span in the sentence
    end: int
    parent: int  # candidate index of the claim this one is a part of, else -1
    sibling: int  # candidate index it is coordinated with, else -1
    toll: bool
    orphan: bool  # a part of a claim made in an earlier sentence ("Among the dead were ...")


def _object_of_other_verb(tokens: Sequence[Token], k: int) -> bool:
    """True when the number at k is the object of a verb that is not a casualty verb ("displaced 12 million")."""
    if k == 0:
        return False
    prev = tokens[k - 1]
    low = prev.low
    if low in ACTIVE_BEFORE or low in MEASURE_WORDS or low in TOLL_LINKS or low in SUBCOUNT_BEFORE or low in PREVERB:
        return False
    if prev.text[0].isupper():
        return False
    return low in IRREGULAR_PAST or (low.endswith("ed") and len(low) > 3 and "-" not in low)


def sentence_candidates(text: str) -> tuple[list[Candidate], list[Token], list[Mention]]:
    """The casualty figures of one sentence's text, before sources, scope and periods."""
    mentions = find_mentions(text)
    if not any(m.eligible for m in mentions):
        return [], [], mentions
    tokens = tokenize(text, mentions)
    num_tokens = [k for k, t in enumerate(tokens) if t.num >= 0]
    denominators: set[int] = set()
    phrases = {k: _noun_phrase(tokens, k, mentions, denominators) for k in num_tokens}
    # Not figures: base populations ("of its 200 residents"), counts of things, ages ("children under 18").
    for k in num_tokens:
        mi = tokens[k].num
        m = mentions[mi]
        prev = tokens[k - 1].low if k else ""
        phrase_text = text[m.start:m.end].lower()
        age = (prev in GROUP_WORDS or prev in PEOPLE_WORDS) and phrase_text.startswith(("under", "over", "below", "above"))
        one = phrase_text in ("one", "a single") and (
            prev in ("no", "the", "any", "every", "each", "one", "from", "in", "at", "of")
            or (k + 1 < len(tokens) and tokens[k + 1].low in ("of", "another", "by"))
            or (phrases[k].words and phrases[k].group is None
                and not any(w in PEOPLE_WORDS for w in phrases[k].words) and not phrases[k].measure))
        if mi in denominators or phrases[k].nonperson or age or one:
            mentions[mi] = m._replace(eligible=False)
    usable = [k for k in num_tokens if mentions[tokens[k].num].eligible]
    if not usable:
        return [], tokens, mentions
    lefts: dict[int, _Trigger | None] = {}
    for k in usable:  # in order: coordination borrows the trigger of the number before
        lefts[k] = _left_trigger(tokens, k, mentions, phrases, lefts)
    subcounts = {tokens[k].num for k, t in lefts.items() if t is not None and t.kind == "sub"}
    # Verbs after the number, from the last number back so coordination borrows the next one's verb.
    rights: dict[int, _Trigger | None] = {}
    token_of = {tokens[k].num: k for k in usable}
    for k in reversed(usable):
        trig = _right_trigger(tokens, phrases[k].end, mentions, subcounts)
        if trig is not None and trig.kind == "coord":
            borrowed = rights.get(token_of.get(trig.other, -1))
            trig = borrowed._replace(kind="coord", other=trig.other) if borrowed is not None else None
        if trig is not None and trig.kind == "right" and _object_of_other_verb(tokens, k) \
                and (phrases[k].end >= len(tokens) or trig.start > tokens[phrases[k].end].start):
            trig = None  # "has displaced 12 million people and left the dead uncounted"
        rights[k] = trig
    candidates: list[Candidate] = []
    by_token: dict[int, int] = {}
    for k in usable:
        mi = tokens[k].num
        mention, phrase, left, rt = mentions[mi], phrases[k], lefts.get(k), rights.get(k)
        parsed = mention.parsed
        measure, trig = None, None
        if phrase.measure and phrase.partitive is None:
            head = tokens[phrase.end - 1]
            measure, trig = phrase.measure, _Trigger("head", phrase.measure, head.start, head.end)
            if measure == "casualties" and left is not None and left.kind in ("active", "noun", "toll"):
                measure = left.measure or measure
        elif left is not None and left.kind in ("active", "noun", "toll"):
            measure, trig = left.measure, left
            if measure is None:  # "bringing the total to 37,084": the measure of the figure before
                measure = candidates[-1].measure if candidates and candidates[-1].measure != "pending" else None
                if measure is None:
                    continue
        elif phrase.words[-1:] == ("lives",) and k and (tokens[k - 1].low in LIFE_VERBS or (
                k >= 2 and tokens[k - 1].low == "of" and tokens[k - 2].low in ("loss", "losses"))):
            verb = tokens[k - 1] if tokens[k - 1].low in LIFE_VERBS else tokens[k - 2]  # "the loss of 2,012 lives"
            measure, trig = "killed", _Trigger("active", "killed", verb.start, verb.end)
        elif rt is not None:
            measure, trig = rt.measure, rt
        elif left is not None and left.kind in ("sub", "coord_left"):
            measure, trig = left.measure, left
        parent, sibling, orphan = -1, -1, False
        if left is not None and left.kind == "coord_left":
            sibling = by_token.get(token_of.get(left.other, -1), -1)
            if sibling < 0:
                continue  # coordinated with a number that is no claim ("five orangutans, two gorillas")
            parent, orphan = candidates[sibling].parent, candidates[sibling].orphan
            measure = measure or candidates[sibling].measure
        copula_group = None
        if phrase.partitive or not phrase.words:
            copula_group = _copula_group(tokens, phrase.end)
        is_part = (left is not None and left.kind == "sub") or (phrase.partitive is not None and not (
            left is not None and left.kind in ("active", "noun", "toll"))) or (copula_group is not None and measure is None)
        if is_part and parent < 0 and not orphan and phrase.part_of < 0:
            parent = _nearest_before(candidates, k)
            orphan = parent < 0
            earlier = [kk for kk in num_tokens if kk < k]
            if orphan and earlier and not mentions[tokens[earlier[-1]].num].eligible:
                continue  # a part of something that is not a count of people ("30 animals, including five ...")
        if phrase.partitive and phrase.partitive != "them" and measure is None:
            measure = SUBCOUNT_NOUNS.get(phrase.partitive)
        active_before = left is not None and left.kind in ("active", "noun", "toll")
        # "1,404 of those injured are in serious condition": the injured in that state, a part of their figure
        in_condition = bool(phrase.partitive) and phrase.measure == "injured" and _condition_after(tokens, phrase.end)
        if in_condition:
            measure = "injured"
        if phrase.partitive and not (phrase.group or copula_group) and rt is None and not active_before \
                and not in_condition:
            continue  # "two of them seriously": a severity, not a group
        if measure is None and parent >= 0:
            measure = candidates[parent].measure
        if measure is None and not orphan and phrase.part_of < 0:
            continue
        group = phrase.group or copula_group
        group_text = phrase.text
        if copula_group and not phrase.group:
            group_text = _copula_group_text(tokens, phrase.end)
        if group is None and phrase.partitive == "them":
            if parent >= 0:
                group = candidates[parent].group
            elif not orphan:  # "a bus carrying 40 passengers ..., killing 12 of them"
                before = [phrases[kk].group for kk in num_tokens if kk < k and phrases[kk].group]
                group = before[-1] if before else "unspecified"
            else:
                group = "pending"
        toll = trig is not None and trig.kind == "toll"
        if in_condition and not phrase.group:
            group = "unspecified"  # a part of the figure, not everyone it counts
        if group is None and not phrase.words and k + 1 < len(tokens) and tokens[k + 1].low in INCREMENT_WORDS \
                and not toll and not candidates and not (left is not None and left.kind == "active"):
            # "three more people died", "the bodies of 12 more": an increment of the toll; after another figure
            # ("22 were killed and 82 more wounded") or a verb ("killing four more"), others counted whole
            group = "unspecified"
        if group is None:
            if toll or not phrase.words or (phrase.measure and len(set(phrase.words) - _ATTRIBUTIVE) == 1) \
                    or "total" in phrase.words \
                    or phrase.words == ("lives",):
                group = "total"
            elif k >= 2 and tokens[k - 1].low == "of" and tokens[k - 2].low == "total":
                group = "total"  # "a total of 50 people"
            elif phrase.words and phrase.words[-1] in PEOPLE_NOUNS and not INCREMENT_WORDS.intersection(
                    phrase.words) and not (k and tokens[k - 1].low in INCREMENT_WORDS):
                group = "total"  # "146 people had died" counts everyone, as "the death toll rose to 146" does
            else:
                group = "unspecified"
        if toll and group_text is None:
            group_text = text[trig.start:trig.end]
        if trig is not None and trig.qualifier and parsed.qualifier == "exact":
            parsed = parsed._replace(qualifier=trig.qualifier)
        if parsed.qualifier == "range" and text[mention.start:mention.end].lower().startswith("from") \
                and k and tokens[k - 1].low in CHANGE_VERBS:
            parsed = ParsedNumber(parsed.number_high, None, "exact", False, None)  # "rose from 180 to 200"
        start, end = mention.start, mention.end
        if trig is not None and trig.kind in ("active", "noun", "head", "right"):
            start, end = min(start, trig.start), max(end, trig.end)
        elif trig is not None and trig.kind == "coord":
            end = max(end, phrase.span_end)
        by_token[k] = len(candidates)
        candidates.append(Candidate(k, mi, measure or "pending", group, group_text, parsed, start, end, parent,
                                     sibling, toll, orphan))
    # Parts of a figure given after them ("14 of the 35 victims"): point them at it.
    index_of_mention = {c.mention: idx for idx, c in enumerate(candidates)}
    for idx, cand in enumerate(candidates):
        part_of = phrases[cand.token].part_of
        if part_of >= 0 and part_of in index_of_mention:
            candidates[idx] = cand._replace(parent=index_of_mention[part_of], orphan=False)
    # A figure with parts counts everyone ("More than 1,000 people, including 745 civilians").
    for idx, cand in enumerate(candidates):
        if cand.group == "unspecified" and any(c.parent == idx for c in candidates):
            candidates[idx] = cand._replace(group="total")
    return candidates, tokens, mentions


def _condition_after(tokens: Sequence[Token], j: int) -> bool:
    """True when the words from j say a state of health: "are in serious condition", "were in critical condition"."""
    words = [t.low for t in tokens[j:j + 6]]
    return bool(words) and words[0] in COPULA and "condition" in words


def _nearest_before(candidates: Sequence[Candidate], token: int) -> int:
    """Index of the last non-part candidate before a token, or -1."""
    for idx in range(len(candidates) - 1, -1, -1):
        if candidates[idx].token < token and candidates[idx].parent < 0:
            return idx
    return -1


def _copula_group(tokens: Sequence[Token], j: int) -> str | None:
    """The group named right after "were"/"was" following a number ("31 were women"), if any."""
    if j < len(tokens) and tokens[j].low in COPULA:
        words = []
        for k in range(j + 1, min(j + 5, len(tokens))):
            tok = tokens[k]
            if not tok.text[0].isalpha() or (tok.low not in ("all", "mostly", "also") and finite_verb(tok)):
                break
            if tok.low in ("all", "mostly", "also") or tok.low in DETERMINERS:
                continue
            words.append(tok.low)
            if tok.low in GROUP_WORDS or len(words) == 2:
                break
        return _group_of(words)
    return None


def _copula_group_text(tokens: Sequence[Token], j: int) -> str | None:
    """The raw words after the copula that name the group."""
    words = []
    for k in range(j + 1, min(j + 5, len(tokens))):
        if not tokens[k].text[0].isalpha():
            break
        words.append(tokens[k].text)
        if tokens[k].low in GROUP_WORDS:
            break
    return " ".join(words) or None
