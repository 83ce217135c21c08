"""The regular expressions of the claims stage and their fast paths: number phrases, the casualty and
attribution hints, settlements and periods; the lower-case twins and the anchored searches that only try a
pattern where its first word occurs."""

from __future__ import annotations

import re
from typing import NamedTuple, Sequence

from .vocabulary import MONTHS, SETTLEMENT_NOUNS, WEEKDAYS


_UNIT_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
               "fifteen sixteen seventeen eighteen nineteen").split()
_TENS_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
WORD_VALUES = {w: i for i, w in enumerate(_UNIT_WORDS)} | {w: 20 + 10 * i for i, w in enumerate(_TENS_WORDS)}
SCALE_VALUES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_NW = r"(?:" + "|".join(sorted(list(WORD_VALUES) + list(SCALE_VALUES) + ["dozen"], key=len, reverse=True)) + r")"
_WORDS = (rf"(?:(?:half\s+a|a|an)\s+(?=(?:hundred|thousand|million|billion|dozen)\b))?\b{_NW}\b"
          rf"(?:(?:[ \t]*-[ \t]*|[ \t]+|(?<=hundred)\s+and\s+|(?<=thousand)\s+and\s+|(?<=million)\s+and\s+){_NW}\b)*")
_DIGITS = r"\d{1,3}(?:(?:,\d{3})+|(?:\.\d{3})+|(?:[\u00a0\u202f\u2009']\d{3})+)(?!\d)|\d+(?:[.,]\d+)?"
_MULT = r"(?:[ \t\u00a0]*(?:million|billion|thousand|mln|bn)\b)"
_CORE = rf"(?:(?:{_DIGITS}){_MULT}?|{_WORDS})"
_VAGUE = (r"(?:(?:tens|hundreds)\s+of\s+(?:thousands|millions)|(?:tens|hundreds|thousands|millions|dozens|scores)"
          r"|(?:several|a\s+few|few)\s+(?:dozen|hundred|thousand)|many\s+(?:dozens|hundreds|thousands))\b")
QUALIFIER_PHRASES = {
    "more than": ("more_than", False), "over": ("more_than", False), "in excess of": ("more_than", False),
    "just over": ("more_than", False), "well over": ("more_than", False), "above": ("more_than", False),
    "greater than": ("more_than", False), "just more than": ("more_than", False),
    "well above": ("more_than", False), "upwards of": ("at_least", False), "upward of": ("at_least", False),
    "at least": ("at_least", False), "no fewer than": ("at_least", False), "no less than": ("at_least", False),
    "not less than": ("at_least", False), "a minimum of": ("at_least", False), "at minimum": ("at_least", False),
    "about": ("about", False), "around": ("about", False), "some": ("about", False), "roughly": ("about", False),
    "approximately": ("about", False), "approx.": ("about", False), "nearly": ("about", False),
    "almost": ("about", False), "close to": ("about", False), "an estimated": ("about", False),
    "estimated": ("about", False), "more or less": ("about", False), "circa": ("about", False),
    "just under": ("about", False), "just shy of": ("about", False), "an approximate": ("about", False),
    "up to": ("up_to", False), "as many as": ("up_to", False), "as much as": ("up_to", False),
    "at most": ("up_to", False), "no more than": ("up_to", False), "not more than": ("up_to", False),
    "a maximum of": ("up_to", False), "fewer than": ("up_to", True), "less than": ("up_to", True),
    "under": ("up_to", True), "below": ("up_to", True),
}
_QUALS = "|".join(re.escape(q).replace(r"\ ", r"\s+") for q in sorted(QUALIFIER_PHRASES, key=len, reverse=True))
_NUMBER_PATTERN = rf"""
    (?<![\w$€£¥₹])
    (?:
        (?P<between>(?:somewhere\s+)?between)\s+(?P<b1>{_CORE})\s*(?:and|-|–|to)\s*(?P<b2>{_CORE})
      | (?P<from>from)\s+(?P<f1>{_CORE})\s*(?:to|-|–)\s*(?P<f2>{_CORE})
      | (?:(?P<qual>{_QUALS})\s+)?
        (?: (?P<vague>{_VAGUE})
          | (?P<n1>{_CORE})(?:\s*(?:-|–|\bto\b|\bor\b)\s*(?P<n2>{_CORE}))? )
        (?P<post>\s+or\s+more\b|\s+or\s+so\b|-plus\b|\s*\+|-odd\b)?
    )
    (?![\w])
"""
NUMBER_RE = re.compile(_NUMBER_PATTERN, re.IGNORECASE | re.VERBOSE)


def _lower_case_twin(regex: re.Pattern) -> re.Pattern:
    """An IGNORECASE pattern without the flag, for text lower-cased by `caseless_lower`: there it matches at
    the offsets where `regex` matches the original text (its letters are all lower-case), several times faster."""
    return re.compile(regex.pattern, regex.flags & ~re.IGNORECASE)


_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")


def caseless_lower(text: str) -> str | None:
    """`text.lower()` if it holds no cased letter but ASCII ones (so lower-casing keeps every offset, and an
    IGNORECASE match is a plain match of the lower-cased text: no Unicode case folding is involved), else None."""
    if not text.isascii():
        for char in set(_NON_ASCII_RE.findall(text)):
            if char.lower() != char or char.upper() != char:
                return None
    return text.lower()


def finditer_at(regex: re.Pattern, starts: Sequence[int], text: str) -> list[re.Match]:
    """The matches of `regex.finditer(text)` for a pattern that can match only at the sorted positions
    `starts` (all of them, maybe more): tried there only, from the end of the match before, as finditer."""
    found: list[re.Match] = []
    pos = 0
    for at in starts:
        if at < pos:
            continue
        m = regex.match(text, at)
        if m is not None:
            found.append(m)
            pos = m.end()
    return found


def literal_starts(literals: Sequence[str], text: str) -> list[int]:
    """Every position where one of the literals occurs in the text (overlapping ones too), in order."""
    starts = []
    for literal in literals:
        at = text.find(literal)
        while at >= 0:
            starts.append(at)
            at = text.find(literal, at + 1)
    return sorted(set(starts))


def search_from(regex: re.Pattern, start: re.Pattern, text: str, pos: int = 0,
                 endpos: int | None = None) -> re.Match | None:
    """`regex.search(text, pos, endpos)` for a pattern that matches only where `start` does (as in
    `finditer_from`): it is tried only there."""
    endpos = len(text) if endpos is None else endpos
    key = start.search(text, pos, endpos)
    while key is not None:
        m = regex.match(text, key.start(), endpos)
        if m is not None:
            return m
        key = start.search(text, key.start() + 1, endpos)
    return None


def literal_alternation(items: dict[str, str], guard: str = "") -> str:
    """A pattern that matches where one of the literals, followed by its suffix pattern, does: the literals
    are factored by their characters, so the engine tests the next character once instead of every literal,
    and skips by a fast scan to the characters a literal starts with. `guard` is tried after the first one."""
    tree: dict = {}
    for literal, suffix in items.items():
        node = tree
        for char in literal:
            node = node.setdefault(char, {})
        node.setdefault(None, set()).add(suffix)

    def emit(node: dict, after: str) -> str:
        alts = []
        for char, child in node.items():
            if char is None:
                alts.extend(sorted(child))
            else:
                alts.append(re.escape(char) + after + emit(child, ""))
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    return emit(tree, guard)


def word_starts(words: str) -> re.Pattern:
    """A pattern that matches where a word starts with one of the |-separated `words` (no boundary after it):
    where a pattern that begins with a boundary and one of them can match, found without trying the pattern
    at every character. The boundary is tested after the first letter, so the engine can skip to the letters."""
    return re.compile(literal_alternation(dict.fromkeys(words.split("|"), ""), r"(?<!\w.)"))


NUMBER_LOW_RE = _lower_case_twin(NUMBER_RE)
POST_QUALIFIERS = {"or more": "at_least", "or so": "about", "-plus": "more_than", "+": "more_than",
                    "-odd": "about"}

# Cheap pre-filters: a sentence without a casualty word (or a number) is never parsed.
# Both run on the lower-cased text: a case-sensitive pattern that starts at a word boundary is several
# times faster than an IGNORECASE one, and the pre-filter runs on every sentence of every article.
# A sentence after a figure that gives a part of it: "12 of them were children", "Twelve were children".
_PART_GROUPS = "children|child|minors|women|woman|civilians|soldiers|girls|boys|babies|infants|teenagers|foreigners"
SUBCOUNT_HINT_RE = re.compile(r"\b(?:of them|of whom|among them|among whom|including|included)\b", re.IGNORECASE)
PART_GROUP_HINT_RE = re.compile(rf"\b(?:were|was|are)\s+(?:(?:all|also|mostly)\s+)?(?:{_PART_GROUPS})\b", re.IGNORECASE)
CASUALTY_HINT_RE = re.compile(
    r"\b(?:kill|dead|death|died|die|wound|injur|hurt|missing|casualt|bodies|corpses|slain|execut|toll|victim|"
    r"fatalit|lives\b|perish|drown|massacr|unaccounted|murder|slaughter|shot|stab|hospitali|lost\b|losing\b|"
    r"accounted|admitted|unconfirmed|whereabouts)")
# CASUALTY_HINT_RE's alternatives: the stems, and the words it wants a word boundary after.
CASUALTY_STEMS = ("kill", "dead", "death", "died", "die", "wound", "injur", "hurt", "missing", "casualt", "bodies",
                   "corpses", "slain", "execut", "toll", "victim", "fatalit", "perish", "drown", "massacr",
                   "unaccounted", "murder", "slaughter", "shot", "stab", "hospitali",
                   # "not accounted for", "admitted to hospital", "safety unconfirmed", "whereabouts unknown"
                   "accounted", "admitted", "unconfirmed", "whereabouts")
CASUALTY_WORDS = ("lives", "lost", "losing")
NUMBER_HINT_RE = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|dozen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|"
    r"million|scores|tens)")
TOKEN_RE = re.compile(r"[A-Za-z\u00C0-\u024F]+(?:[-'’][A-Za-z\u00C0-\u024F]+)*(?:['’]s?)?|\d+(?:[.,:]\d+)*|[^\s\w]|_")
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
MONTH_BEFORE_RE = re.compile(rf"\b(?:{_MONTH_NAMES})\.?\s*$", re.IGNORECASE)
MONTH_AFTER_RE = re.compile(rf"^\s*(?:{_MONTH_NAMES})\b", re.IGNORECASE)
CURRENCY_BEFORE_RE = re.compile(r"(?:[$€£¥₹]|\b(?:US|USD|EUR|Rs|GBP)\.?)\s*$")
TIME_AFTER_RE = re.compile(r"^(?::\d|\s*(?:a\.m\.|p\.m\.|am\b|pm\b|GMT\b|UTC\b|BST\b|EST\b|hrs\b|local time))", re.IGNORECASE)
COMPOUND_AFTER_RE = re.compile(r"^-(?!plus\b|odd\b)[A-Za-z]")
PERCENT_AFTER_RE = re.compile(r"^\s*(?:%|percent\b|per\s*cent\b|pct\b)", re.IGNORECASE)
AGE_BEFORE_RE = re.compile(r"\b(?:aged|ages|age\s+of|ages\s+of|age)\s*$", re.IGNORECASE)
LIST_GAP_RE = re.compile(r"\s*(?:,|and|or|to|-|–)\s*")
AGE_APPOSITION_BEFORE_RE = re.compile(r"\b[A-Z][\w'’-]+,\s*$")
LABEL_BEFORE_RE = re.compile(r"([A-Za-z][A-Za-z.]*)[\s-]*$")

# Small helpers of the number and attribution code.
WORD_SPLIT_RE = re.compile(r"[\s\-]+")
DIGIT_PHRASE_RE = re.compile(r"([\d.,\u00a0\u202f\u2009']+)\s*(million|billion|thousand|mln|bn)?", re.IGNORECASE)
THIN_SEPARATORS_RE = re.compile(r"[\u00a0\u202f\u2009']")
COMMA_THOUSANDS_RE = re.compile(r"\d{1,3}(?:,\d{3})+")
DOT_THOUSANDS_RE = re.compile(r"\d{1,3}(?:\.\d{3})+")
DECIMAL_RE = re.compile(r"\d+[.,]\d+")
DOTTED_ACRONYM_RE = re.compile(r"(?:[A-Za-z]\.){2,}")
YEAR_RE = re.compile(r"(?:1[89]|20)\d\d")
PEOPLE_AFTER_RE = re.compile(r"\s+(?:people|civilians|persons|bodies|dead|deaths)\b")
NOT_ATTRIBUTION_AFTER_RE = re.compile(r"\s+(?:killed|dead|missing|wounded|injured|hurt|by|to\s+(?:be|have)|the\s+lives|lives)\b")
PUT_TOLL_RE = re.compile(r"\s+(?:the\s+)?(?:\w+\s+)?(?:death\s+|casualty\s+)?(?:toll|number|figure|count)")
REVISED_IT_RE = re.compile(r"\s+(?:it|them|the\s+figures?)?\s*(?:to|down|up)\b")
# A numbered provision of a law, and the numbers listed after it.
LEGAL_LABEL_BEFORE_RE = re.compile(
    r"\b(?:sections?|articles?|clauses?|paragraphs?|subsections?|chapters?|provisions?)\s+(?:like\s+|such\s+as\s+|no\.?\s+)?"
    r"(?:\d+[A-Za-z]?(?:\s*\([^)]{0,80}\))?\s*(?:,|and|or|&)\s*)*$", re.IGNORECASE)
PASSIVE_BEFORE_RE = re.compile(r"\b(?:were|was|is|are|been|being|be)\s+$")
ADJECTIVAL_BEFORE_RE = re.compile(r"\b(?:an|the|a|its|their|his|her|of)\s+$")
SAID_TO_BE_RE = re.compile(r"\s+to\s+(?:be|have)\b")
LEADING_CONJ_RE = re.compile(r"\s*(?:(?:and|but|while|as|so|then|also|yet|that)\s+)*")

# Attribution.
SPEECH_VERBS = ("said|says|say|told|tells|reported|reports|report|stated|states|added|adds|noted|notes|announced|"
                 "estimate|confirm|warned|warns|revealed|acknowledged|indicated|explained|insisted|stressed|"
                 "disclosed|specified|asserted|alleged|"
                 "announces|confirmed|confirms|estimated|estimates|counted|counts|documented|documents|recorded|"
                 "records|tallied|cited|quoted|wrote|writes|posted|tweeted|put|puts|claimed|claims|informed|"
                 "raised|raises|revised|revises|lowered|lowers|updated|updates|increased|believe|believes|gave|gives|"
                 "released|releases")
# "the prefectural government has released information on ...": who releases figures gives them.
RELEASED_WHAT_RE = re.compile(r"\s+(?:(?:its|the|new|updated|latest|an?)\s+)*(?:information|figures|data|numbers|"
                               r"statistics|statement|list|update|toll|tally)\b", re.IGNORECASE)
# "the authorities believe (are missing)", "the UN gave a preliminary figure of 320"
_BELIEF_VERBS = frozenset({"believe", "believes"})
GAVE_FIGURE_RE = re.compile(r"\s+(?:an?\s+|the\s+|its\s+)?(?:[\w-]+\s+){0,2}?(?:figure|toll|tally|count|estimate|number)s?\b")
# "raised the death toll to 205", "revised it to 275": the subject of a verb that changes a toll gives it.
TOLL_CHANGE_VERBS = frozenset({"raised", "raises", "revised", "revises", "lowered", "lowers", "updated", "updates",
                               "increased"})
SPEECH_RE = re.compile(rf"\b(?:{SPEECH_VERBS})\b")
# ("as per", Indian English, with one space: its fast path looks for the two words as written)
ACCORDING_RE = re.compile(r"\b(?:according\s+to|as per)\s+", re.IGNORECASE)
# ("The toll has been revised to 3,958 by OCHA": who changes a toll to a figure gives it.)
REPORTED_BY_RE = re.compile(
    r"\b(?:reported|stated|announced|confirmed|released|published|compiled|quoted|cited|mentioned"
    r"|(?:revised|raised|updated|lowered|increased|put)(?:\s+(?:up|down))?\s+to\s+\d[\d,]*"
    r"(?:\s+(?:people|dead|deaths|victims))?)\s+by\s+", re.IGNORECASE)
CITING_RE = re.compile(r"\b(?:citing|quoting)\s+", re.IGNORECASE)
ATTRIBUTION_HINT_RE = re.compile(rf"\b(?:{SPEECH_VERBS}|according|as per|citing|quoting|reported|stated|mentioned)\b",
                                 re.IGNORECASE)
ACCORDING_LOW_RE = _lower_case_twin(ACCORDING_RE)
REPORTED_BY_LOW_RE = _lower_case_twin(REPORTED_BY_RE)
CITING_LOW_RE = _lower_case_twin(CITING_RE)
ATTRIBUTION_HINT_LOW_RE = _lower_case_twin(ATTRIBUTION_HINT_RE)
# Where the attribution patterns can match: the words they begin with (for the twins, lower-case).
ACCORDING_START_RE = word_starts("according|as per")
REPORTED_BY_START_RE = word_starts("reported|stated|announced|confirmed|released|published|compiled|quoted|cited|mentioned"
                                   "|revised|raised|updated|lowered|increased|put")
CITING_START_RE = word_starts("citing|quoting")
ATTRIBUTION_HINT_START_RE = word_starts(f"{SPEECH_VERBS}|according|as per|citing|quoting|reported|stated|mentioned")
SPEECH_START_RE = word_starts(SPEECH_VERBS)
NP_END_RE = re.compile(r"""[,;:!?()"“”]|(?<![A-Z])\.(?=\s|$)|\s[-–—]\s|\s(?:on|in|at|late|early|last|this|who|which|that|as|after|before|when|while|because|and\s+(?:said|added)|said|told|from|citing|quoting|during|since|until|over)\s""")
SEGMENT_SPLIT_RE = re.compile(r"""[,;:“”"()\[\]—–]|\s-\s""")
TRAILING_TIME_RE = re.compile(
    r"(?:\s+(?:on|early|late|last|this)\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"(?:\s+(?:morning|afternoon|evening|night))?|\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"|\s+(?:on\s+)?(?:yesterday|today|earlier|later|previously|also|again|now|already|have|has|had|had\s+earlier|"
    r"in\s+a\s+statement|in\s+a\s+report|in\s+an\s+update|separately|initially|first)|\s+on\s+\w+\s+\d+)+\s*$",
    re.IGNORECASE)
CLAIM_WORDS_RE = re.compile(r"\d|\b(?:killed|died|wounded|injured|dead|killing|deaths|toll)\b", re.IGNORECASE)
TRAILING_TIME_LOW_RE = _lower_case_twin(TRAILING_TIME_RE)
CLAIM_WORDS_LOW_RE = _lower_case_twin(CLAIM_WORDS_RE)
# Words that stand for the source named last: pronouns, and a definite role or document that names no one
# ("a railway official said ... The official said", "according to the document").
PRONOUN_SOURCES = {"it", "they", "he", "she", "the source", "the same source", "this source", "that source",
                    "the sources", "the same sources", "the report", "the statement", "the document",
                    "the official", "the same official", "the spokesman", "the spokeswoman", "the spokesperson"}
COREF_RE = re.compile(
    r"\b(?:the|a|an|another|that|this)\s+(?:[\w.-]+[-\s]based\s+|[\w-]+-run\s+|local\s+|main\s+|independent\s+|"
    r"leading\s+|prominent\s+|british\s+|uk\s+)*(?P<phrase>"
    r"(?:war\s+|conflict\s+|rights\s+|human\s+rights\s+)?monitor(?:ing)?(?:\s+(?:group|organi[sz]ation|body|network))?"
    r"|watchdog|observatory|ngo|non-governmental\s+organi[sz]ation|(?:human\s+)?rights\s+group|(?:medical\s+)?charity"
    r"|organi[sz]ation|group|(?:u\.?n\.?|united\s+nations)\s+(?:agency|body|office)|world\s+body|mission"
    r"|(?:(?P<ministry_kind>health|interior|defen[cs]e|home|foreign|emergencies|emergency)\s+)?ministry"
    r"|civil\s+defen[cs]e(?:\s+(?:agency|service|force))?|(?:rescue|emergency)\s+services?|rescue\s+(?:group|agency)"
    r"|(?:disaster\s+|humanitarian\s+|aid\s+|relief\s+)?agency|hospital|military|army)\b",
    re.IGNORECASE)
COREF_LOW_RE = _lower_case_twin(COREF_RE)

# Places.
_CAP = r"[A-Z][A-Za-z\u00C0-\u024F'’]*(?:-[A-Za-z\u00C0-\u024F]+)*"
_CONNECT = r"(?:al|el|as|ad|ar|ash|at|az|an|ad|de|del|la|le|bin|ibn|abu|um|umm)[-\s]"
NAME = rf"(?:(?:al|el)-)?{_CAP}(?:\s+(?:{_CONNECT})?{_CAP})*"
_CAMP_NOUNS = r"(?:camp|village|town|neighbou?rhood|suburb)"
_RESIDENT_NOUNS = r"(?:residents|inhabitants|villagers|people|families)"
_TOWN_NOUNS = r"(?:towns?|villages?|cities|city|neighbou?rhoods?)"
SETTLEMENT_OF_RE = re.compile(rf"\b{SETTLEMENT_NOUNS}s?\s+of\s+(?P<name>{NAME})(?P<more>(?:\s*(?:,|and)\s+{NAME})*)")
NAME_SETTLEMENT_RE = re.compile(
    rf"(?P<name>{NAME})\s+(?:refugee\s+|displacement\s+|displaced\s+|IDP\s+)?{_CAMP_NOUNS}\b(?!\s+of\b)")
RESIDENTS_OF_RE = re.compile(
    rf"\b{_RESIDENT_NOUNS}\s+of\s+(?P<name>{NAME})(?!\s+(?:villages|towns|cities|areas|communities|families|sect|minority|majority|people|men|women|children|residents|forces|fighters)\b)")
TOWN_APPOSITIVE_RE = re.compile(
    rf"(?P<name>{NAME}),\s+(?:one\s+of\s+the|a|an|the)\s+(?:[\w-]+\s+){{0,3}}?{_TOWN_NOUNS}\b")


class _Anchored(NamedTuple):
    """A pattern whose every match holds a match of `keyword` and is made of `run` characters only (so
    are the characters its look-aheads read before the first one after the match)."""

    regex: re.Pattern
    keyword: re.Pattern
    run: re.Pattern


_NAME_RUN = r"A-Za-z\u00C0-\u024F'’\s-"  # the characters of NAME and of the spaces between its words
NAME_SETTLEMENT = _Anchored(NAME_SETTLEMENT_RE, re.compile(_CAMP_NOUNS), re.compile(rf"[{_NAME_RUN}]*"))
TOWN_APPOSITIVE = _Anchored(TOWN_APPOSITIVE_RE, re.compile(_TOWN_NOUNS), re.compile(rf"[\w,{_NAME_RUN}]*"))


def anchored_finditer(spec: _Anchored, text: str, rev: str, keys: Sequence[int] | None = None) -> list[re.Match]:
    """The matches of `spec.regex.finditer(text)`, looked for only in the runs of `spec.run` characters that
    hold a keyword (`rev` is text[::-1], to find where a run starts).

    A match lies inside one such run, and what the whole-text search reads there stays inside the run and
    the one character after it: searching that stretch finds the same matches, and the rest of the text
    (most of it: a name pattern is tried at every capital letter) is not searched at all.
    `keys`: every place where the keyword matches, in order, if already known (overlapping ones too: one
    inside a keyword lies in the run of that keyword, which is searched once).
    """
    n = len(text)
    found: list[re.Match] = []
    done = 0  # end of the last run searched
    for at in (key.start() for key in spec.keyword.finditer(text)) if keys is None else keys:
        if at < done:
            continue
        start = at - (spec.run.match(rev, n - at).end() - (n - at))
        done = spec.run.match(text, at).end()
        found.extend(spec.regex.finditer(text, start, min(n, done + 1)))
    return found


# Where SETTLEMENT_OF_RE and RESIDENTS_OF_RE can match: their first words.
SETTLEMENT_OF_START_RE = re.compile(rf"{SETTLEMENT_NOUNS}s?\s+of\s")
RESIDENTS_OF_START_RE = re.compile(rf"{_RESIDENT_NOUNS}\s+of\s")
# Words that start each of the nouns of the four place patterns' keywords and first words (SETTLEMENT_NOUNS,
# _CAMP_NOUNS, _TOWN_NOUNS, _RESIDENT_NOUNS): where they occur is all the places these can start from.
PLACE_KEYS = ("village", "town", "city", "cities", "neighbo", "suburb", "hamlet", "quarter", "camp", "settlement",
               "kibbutz", "locality", "municipality", "commune", "residents", "inhabitants", "people", "families")

PLACE_PREP_RE = re.compile(
    rf"\b(?i:in|at|near|outside|inside|on|from)\s+(?:(?:northern|southern|eastern|western|central|north-eastern|"
    rf"north-western|south-eastern|south-western|northeastern|northwestern|southeastern|southwestern|downtown|"
    rf"greater)\s+)?(?P<name>{NAME})(?P<alone>\s+alone)?")
INCIDENT_MARKER_RE = re.compile(
    r"\b(?:in|at)\s+(?:one|a\s+single|the\s+same)\s+(?:village|town|neighbou?rhood|house|home|building|attack|strike|family|incident)\b"
    r"|\ba\s+single\s+(?:strike|attack|airstrike|blast|explosion|incident)\b", re.IGNORECASE)
TAIL_NAME_RE = re.compile(rf"(?:^|\s)({NAME})\s*$")
LEADING_ARTICLE_RE = re.compile(r"^(?:the|a|an)\s+")
WORDS_RE = re.compile(r"[\w'’-]+")
PHRASE_TAIL_RE = re.compile(r"\s+(?:in|at|from|on|for|and|or)\s+")
NAME_RE = re.compile(NAME)
CLAIMED_THAT_RE = re.compile(r"\s*(?:that\b|,)")
APPOSITIVE_NAME_RE = re.compile(rf",\s+({NAME})\s*(?:[.,;]|$)")
INVERTED_SUBJECT_RE = re.compile(r"\s+((?:the\s+|a\s+|an\s+)?[A-Za-z][\w'’.-]*(?:\s+[A-Za-z][\w'’.-]*){0,6}?)\s*(?=[,.;]|$)")
NOT_A_SPEAKER_RE = re.compile(r"\b(?:killed|died|wounded|injured|dead|had|have|has|was|were|is|are)\b")
ORG_WORD_RE = re.compile(r"\b(?:head|chief|director|spokes\w+|founder|secretary|president|chair\w*|coordinator"
                          r"|of\s+the\s+[A-Z]|(?:of|for|at)\s+(?:the\s+)?(?:[\w-]+\s+){0,2}(?:group|agency|"
                          r"organi[sz]ation|society|ministry|department|authority|service|administration)\b)")
BACK_REFERENCE_RE = re.compile(r"\b(?:in|at|near|outside)\s+the\s+(?:city|town|village|camp)\b(?!\s+of\b)")
NEIGHBOUR_RE = re.compile(r"\bneighbou?rs?\b", re.IGNORECASE)

# Periods.
_WD = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_NUMW = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|twenty|few|several)"
PERIOD_RE = re.compile(rf"""
    (?P<since_wd>\bsince\s+(?:last\s+)?(?P<wd1>{_WD})\b(?:\s+(?:morning|afternoon|evening|night))?)
  | (?P<since_date>\bsince\s+(?:(?P<m1>{_MONTH_NAMES})\.?\s+(?P<d1>\d{{1,2}})(?:,?\s+(?P<y1>\d{{4}}))?
                              |(?P<d2>\d{{1,2}})\s+(?P<m2>{_MONTH_NAMES})\.?(?:\s+(?P<y2>\d{{4}}))?
                              |(?P<m3>{_MONTH_NAMES})\.?\s+(?P<y3>\d{{4}})|(?P<y4>(?:19|20)\d\d)\b|(?P<m4>{_MONTH_NAMES})\b))
  | (?P<last_n>\b(?:over|in|during|within|for)\s+the\s+(?:last|past|previous)\s+(?P<n>{_NUMW})\s+(?P<unit>hours|days|weeks|months)\b)
  | (?P<last_unit>\b(?:over|in|during|within)\s+the\s+(?:last|past|previous)\s+(?P<unit1>day|week|month|year)\b)
  | (?P<on_date>\bon\s+(?P<m5>{_MONTH_NAMES})\.?\s+(?P<d5>\d{{1,2}})\b)
  | (?P<on_wd>\b(?:on|early|late|last)\s+(?P<wd2>{_WD})(?:\s+(?:morning|afternoon|evening|night))?\b
             |\b(?P<wd3>{_WD})(?:['’]s|\s+(?:morning|afternoon|evening|night))\b|\b(?P<wd4>{_WD})\b)
  | (?P<rel>\b(?:yesterday|today|overnight|this\s+morning|last\s+night|the\s+previous\s+day|the\s+day\s+before|
              last\s+week|this\s+week|last\s+month|earlier\s+this\s+week|the\s+past\s+week)\b)
  | (?P<since_start>\bsince\s+the\s+(?:start|beginning|outbreak|onset)\s+of\s+(?:the\s+)?[\w-]+)
""", re.VERBOSE | re.IGNORECASE)
# The twin of PERIOD_RE: the weekdays are its only capitalised words.
PERIOD_LOW_RE = re.compile(PERIOD_RE.pattern.replace(_WD, _WD.lower()), re.VERBOSE)
# Where the twin can match: the words its branches begin with.
PERIOD_START_RE = word_starts("since|over|in|during|within|for|on|early|late|last|" + "|".join(WEEKDAYS)
                                + "|yesterday|today|overnight|this|the|earlier")
WORD_NUMBERS_SMALL = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                       "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "twenty": 20,
                       "few": 3, "several": 3}
