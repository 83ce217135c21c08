"""Who states a figure: an article's context (its source mentions, places and attributions) and the
attribution patterns of news copy ("according to X", "X said", "X told Reuters"), normalised to one
name per body."""

from __future__ import annotations

import bisect
import re
from typing import Callable, NamedTuple, Sequence

from tollwatch.transforms.text import finditer_from
from .vocabulary import (
    AUX, COMMON_FIRST, COREF_KINDS, COUNTRIES, DETERMINERS, GENERIC_SOURCES, MAX_SOURCE_WORDS, MEASURE_WORDS, MONTHS,
    NOT_PLACES, OFFICES, OFFICE_OF_RE, ORG_KINDS, TITLE_WORDS, WEEKDAYS)
from .patterns import (
    ACCORDING_LOW_RE, ACCORDING_RE, ACCORDING_START_RE, ADJECTIVAL_BEFORE_RE, APPOSITIVE_NAME_RE,
    ATTRIBUTION_HINT_LOW_RE, ATTRIBUTION_HINT_RE, ATTRIBUTION_HINT_START_RE, CITING_LOW_RE, CITING_RE,
    CITING_START_RE, CLAIMED_THAT_RE, CLAIM_WORDS_LOW_RE, CLAIM_WORDS_RE, COREF_LOW_RE, COREF_RE, GAVE_FIGURE_RE,
    INVERTED_SUBJECT_RE, LEADING_ARTICLE_RE, LEADING_CONJ_RE, NAME_RE, NAME_SETTLEMENT, NOT_ATTRIBUTION_AFTER_RE,
    NOT_A_SPEAKER_RE, NP_END_RE, ORG_WORD_RE, PASSIVE_BEFORE_RE, PHRASE_TAIL_RE, PLACE_KEYS, PRONOUN_SOURCES,
    PUT_TOLL_RE, RELEASED_WHAT_RE, REPORTED_BY_LOW_RE, REPORTED_BY_RE, REPORTED_BY_START_RE, RESIDENTS_OF_RE,
    RESIDENTS_OF_START_RE, REVISED_IT_RE, SAID_TO_BE_RE, SEGMENT_SPLIT_RE, SETTLEMENT_OF_RE, SETTLEMENT_OF_START_RE,
    SPEECH_RE, SPEECH_START_RE, TAIL_NAME_RE, TOLL_CHANGE_VERBS, TOWN_APPOSITIVE, TRAILING_TIME_LOW_RE,
    TRAILING_TIME_RE, WORDS_RE, anchored_finditer, caseless_lower, finditer_at, literal_starts,
    search_from)
from .sources import SourceEntry, SourceHit, SourceTable
from .sentences import Sentence
from .grammar import Token, finite_verb


class Attribution(NamedTuple):
    """A phrase of a sentence that says who states its figures ("according to X", "X said")."""

    start: int  # absolute char span of the attribution phrase (source + verb)
    end: int
    source: str | None
    text: str
    media: bool
    person: bool


class ArticleContext:
    """What claim extraction knows about one article: its source mentions, places and attributions."""

    def __init__(self, text: str, sentences: Sequence[Sentence], table: SourceTable):
        self.text = text
        self.sentences = sentences
        self.table = table
        # The known sources the article names, in text order, found as far as asked (`find_sources_to`).
        self.hits: list[SourceHit] = []
        self.hit_starts: list[int] = []
        self.resolved_hits: list[SourceEntry | None] = []
        self._sources_found_to = 0
        # an ambiguous alias (a common noun: with its places) means the same all along
        self._chosen: dict[tuple[str | bool, ...], SourceEntry | None] = {}
        self.attributions: dict[int, list[Attribution]] = {}
        # Who spoke last ("it said", "he said"): what each sentence read leaves (see `read_in_order`).
        self.reading: Sentence | None = None  # the sentence find_attributions is reading
        self._in_order: list[Sentence] = []
        self._is_in_order: Callable[[Sentence], bool] = lambda sent: False
        self._in_order_of: dict[int, bool | None] = {}  # sentence start -> read in order (None: not asked yet)
        self._left: dict[int, list[str | None]] = {}  # sentence start -> [last source, last person] it leaves
        self._written: list[Sentence] = []  # the sentences of _left, in the order they were read
        self._places: list[tuple[int, str]] | None = None
        self._by_kind: dict[str, tuple[list[int], list[SourceEntry]]] | None = None
        self._place_names: set[str] | None = None
        self._units: list[tuple[int, str, str]] | None = None  # (position, name, unit noun) of admin units
        self._acronyms: dict[str, str] | None = None  # acronym -> the name the text introduces it with

    # -- who spoke last -------------------------------------------------------------------------
    def read_in_order(self, sentences: Sequence[Sentence], is_read: Callable[[Sentence], bool]) -> None:
        """The sentences (those of `sentences` that `is_read`) whose speakers "it said" or "the same source"
        can stand for, as if find_attributions read them all in text order before any other sentence.

        They are read only when asked: when a sentence's own speaker is one of those pronouns, every one of
        them before it is read first (most sentences of news copy say "said"; few hold a figure, and fewer
        still a figure whose speaker is a pronoun). Any other sentence read sees who spoke last in them all,
        then in the sentences read since, as it would after reading them in order."""
        self._in_order = list(sentences)
        self._is_in_order = is_read
        self._in_order_of = {sent.start: None for sent in sentences}

    def _read_in_order(self, sent: Sentence) -> bool:
        known = self._in_order_of.get(sent.start, False)
        if known is None:
            known = self._in_order_of[sent.start] = self._is_in_order(sent)
        return known

    def _last(self, field: int) -> str | None:
        """Who spoke last (0: any source, 1: a person) as the sentence being read sees it."""
        reading = self.reading
        ordered = reading is not None and self._read_in_order(reading)
        if not ordered:  # read after the sentences in order: the ones read since come first
            for sent in reversed(self._written):
                name = self._left[sent.start][field]
                if name is not None and not self._read_in_order(sent):
                    return name
        before = [s for s in self._in_order if (not ordered or s.start < reading.start) and self._read_in_order(s)]
        for sent in before:
            if sent.start not in self.attributions:
                find_attributions(self, sent)
        self.reading = reading
        for sent in reversed(before):
            name = self._left.get(sent.start, (None, None))[field]
            if name is not None:
                return name
        return None

    def _set_last(self, field: int, name: str | None) -> None:
        left = self._left.get(self.reading.start)
        if left is None:
            left = self._left[self.reading.start] = [None, None]
            self._written.append(self.reading)
        left[field] = name

    last_source = property(lambda self: self._last(0), lambda self, name: self._set_last(0, name))
    last_person = property(lambda self: self._last(1), lambda self, name: self._set_last(1, name))

    # -- sources ------------------------------------------------------------------------------
    def find_sources_to(self, end: int) -> None:
        """Every known source mentioned before `end` in self.hits, resolved (`SourceTable.find_part`)."""
        while self._sources_found_to < min(end, len(self.text)):
            self._sources_found_to, hits = self.table.find_part(self.text, self._sources_found_to, end)
            for hit in hits:
                self.hits.append(hit)
                self.hit_starts.append(hit.start)
                placed = self.table.common_noun(hit)
                if len(hit.entries) == 1 and not placed:
                    self.resolved_hits.append(hit.entries[0])
                    continue
                key = tuple(e.canonical for e in hit.entries) + (placed,)
                if key not in self._chosen:
                    self._chosen[key] = self.table.choose(hit.entries, self.text, placed)
                self.resolved_hits.append(self._chosen[key])

    def entry_in(self, start: int, end: int) -> tuple[SourceEntry, SourceHit] | None:
        """The first resolved known source mentioned inside [start, end)."""
        self.find_sources_to(end)
        k = bisect.bisect_left(self.hit_starts, start)
        while k < len(self.hits) and self.hits[k].start < end:
            if self.hits[k].end <= end and self.resolved_hits[k] is not None:
                return self.resolved_hits[k], self.hits[k]
            k += 1
        return None

    def head_entry_in(self, start: int, end: int) -> tuple[SourceEntry, SourceHit] | None:
        """`entry_in`, but of known names written one after the other the last: the head of the noun
        phrase, the others its modifiers ("the Taliban Ministry of Disaster Management" is the ministry)."""
        found = self.entry_in(start, end)  # (the hits before `end` found)
        if found is None:
            return None
        k = bisect.bisect_left(self.hit_starts, found[1].start)
        while k + 1 < len(self.hits) and self.hits[k + 1].end <= end and self.resolved_hits[k + 1] is not None \
                and not self.text[self.hits[k].end:self.hits[k + 1].start].strip():
            k += 1
        return self.resolved_hits[k], self.hits[k]

    def hit_in(self, start: int, end: int) -> SourceHit | None:
        """The first known-source mention inside [start, end), resolved or not."""
        self.find_sources_to(end)
        k = bisect.bisect_left(self.hit_starts, start)
        if k < len(self.hits) and self.hits[k].start < end and self.hits[k].end <= end:
            return self.hits[k]
        return None

    def known_name(self, name: str) -> str | None:
        """The canonical name of the known source a name made up from a phrase is ("health ministry"), chosen
        by the article's places as an alias in its text would be, or None."""
        hits = self.table.find(name)
        if len(hits) != 1 or hits[0].start != 0 or hits[0].end != len(name):
            return None
        entry = self.table.choose(hits[0].entries, self.text, self.table.common_noun(hits[0]))
        return entry.canonical if entry else None

    def spelt_out(self, phrase: str) -> str | None:
        """The name an acronym stands for where the article introduces it ("the Kenya Coast Guard Service
        (KCGS)"): for a phrase that is such an acronym, with or without "the", else None."""
        acronym = _THE_RE.sub("", phrase.strip())
        if not _ACRONYM_RE.fullmatch(acronym):
            return None
        if self._acronyms is None:
            self._acronyms = {}
            for m in _INTRODUCED_ACRONYM_RE.finditer(self.text):
                name = _spelt_name(self.text[max(0, m.start() - 120):m.start()], m.group(1))
                if name:
                    self._acronyms.setdefault(m.group(1), name)
        return self._acronyms.get(acronym)

    def by_kind(self, kinds: frozenset, pos: int, keyword: str | None = None) -> SourceEntry | None:
        """The known source of one of `kinds` named nearest before `pos` (else first after it)."""
        if self._by_kind is None:
            self.find_sources_to(len(self.text))
            self._by_kind = {}
            for hit, entry in zip(self.hits, self.resolved_hits):
                if entry is not None:
                    starts, entries = self._by_kind.setdefault(entry.kind, ([], []))
                    starts.append(hit.start)
                    entries.append(entry)
        best_before, best_after = None, None  # (position, entry)
        for kind in kinds:
            starts, entries = self._by_kind.get(kind, ((), ()))
            k = bisect.bisect_left(starts, pos)
            before = next((x for x in range(k - 1, -1, -1) if _has_keyword(entries[x], keyword)), None)
            after = next((x for x in range(k, len(starts)) if _has_keyword(entries[x], keyword)), None)
            if before is not None and (best_before is None or starts[before] > best_before[0]):
                best_before = (starts[before], entries[before])
            if after is not None and (best_after is None or starts[after] < best_after[0]):
                best_after = (starts[after], entries[after])
        best = best_before or best_after
        return best[1] if best else None

    def resolve_phrase(self, start: int, end: int) -> tuple[str | None, bool, bool]:
        """(canonical source, is media, is person) named by the phrase text[start:end]."""
        phrase = self.text[start:end].strip(" ,.;:'\"“”‘’")
        if not phrase:
            return None, False, False
        lead = _SUBORDINATE_LEAD_RE.match(phrase)
        if lead:  # "a day after authorities (say)", "where officials (confirmed)": the clause's own subject
            offset = self.text.find(phrase, start) + lead.end()
            return self.resolve_phrase(offset, end)
        if _NOT_A_SUBJECT_RE.match(phrase):
            return None, False, False  # "with a British man (now confirmed)", "later (said)", "Search and rescue efforts"
        unit = self.local_government(phrase, start)
        if unit:
            return unit, False, False
        body = _SPEAKS_FOR_RE.match(phrase)
        if body:  # "Abdul Rayan, spokesman at the Ministry of X", "Marie Drese, the aid group's secretary-general"
            org = body.group("org") or body.group("org2") or body.group("org3")
            org = _BODY_TAIL_RE.split(org, maxsplit=1)[0]
            known = self.known_name(org)
            if known:  # "the railway's spokesman" in an article about India
                return known, False, False
            kinds = _coref_kinds(" ".join(_THE_RE.sub("", org).split())) if org.islower() else frozenset()
            entry = self.by_kind(kinds, start) if kinds else None
            if entry is not None:  # "secretary general of aid group": the body of that kind the article named
                return entry.canonical, entry.kind == "media", False
            offset = self.text.find(org, start)
            if offset >= 0:
                resolved = self.resolve_phrase(offset, offset + len(org))
                if resolved[0]:
                    return resolved[0], resolved[1], False
        found = self.head_entry_in(start, end)
        if found:
            entry, hit = found
            is_person = any(hit.text.replace("’", "'").lower() == p.lower() for p in entry.people)
            return entry.canonical, entry.kind == "media", is_person
        officials_in = _OFFICIALS_IN_RE.fullmatch(phrase) if "fficials " in phrase or "uthorities " in phrase else None
        if officials_in:  # "Officials in neighbouring Castile and Aragon": that place's officials
            return f"{officials_in.group('place')} {officials_in.group('role').lower()}", False, False
        spelt_out = self.spelt_out(phrase) if phrase[-1:].isupper() else None
        if spelt_out:  # "the Kenya Coast Guard Service (KCGS) ... KCGS said": the name the acronym stands for
            offset = self.text.find(spelt_out)
            resolved = self.resolve_phrase(offset, offset + len(spelt_out)) if offset >= 0 else (None, False, False)
            return resolved[0] or spelt_out, resolved[1], False
        named = _BODY_ROLE_NAME_RE.fullmatch(phrase) if _ROLE_WORD_HINT_RE.search(phrase) else None
        org_words = named.group("org").split() if named else ()
        if named and not all(w.lower() not in _BODY_NOUNS and (w.lower() in TITLE_WORDS or w.lower() in COMMON_FIRST)
                             for w in org_words) and (
                len(org_words) > 1 or org_words[0].isupper() or org_words[0].lower() in _BODY_NOUNS
                or self.known_name(org_words[0])):  # (not a people's adjective: "Israeli official X")
            # "Police spokesman John Smith", "South Eastern Railway's chief public relations officer X"
            org = named.group("org")
            if org.lower() in _BODY_NOUNS:
                org = org.lower()
            elif org.split()[-1].lower() in _BODY_NOUNS:
                org = org.rsplit(None, 1)[0] + " " + org.split()[-1].lower()  # "Harbour police"
            return self.known_name(org) or org, False, False
        member = _BODYS_PERSON_RE.fullmatch(phrase) if "'" in phrase or "’" in phrase else None
        if member and (" " in member.group("org") or self.known_name(member.group("org"))):
            # "the Red Crescent's Kais Fhakeri": a person named as the body's is the body
            return self.known_name(member.group("org")) or member.group("org"), False, False
        plow = caseless_lower(phrase)
        if len(phrase.split()) > MAX_SOURCE_WORDS or (
                CLAIM_WORDS_RE.search(phrase) if plow is None else CLAIM_WORDS_LOW_RE.search(plow)):
            head_of = _HEAD_OF_RE.match(phrase)
            if head_of:  # "the head of the Red Crescent in Benghazi Kais Fhakeri": the body he heads
                org = _BODY_TAIL_RE.split(head_of.group(1), maxsplit=1)[0]
                offset = self.text.find(org, start)
                if offset >= 0 and len(org.split()) <= MAX_SOURCE_WORDS:
                    resolved = self.resolve_phrase(offset, offset + len(org))
                    if resolved[0]:
                        return resolved[0], resolved[1], False
            # A whole clause before "said" with no comma: only a name at its end can be the speaker.
            tail = TAIL_NAME_RE.search(phrase)
            if tail and len(tail.group(1).split()) <= 4 and not CLAIM_WORDS_RE.search(tail.group(1)):
                name = _person_or_org_name(tail.group(1))
                if name:
                    return name, False, " " in name
            generic = _GENERIC_BODY_TAIL_RE.search(phrase)
            if generic:  # "the dozens of people the authorities (believe are missing)"
                return generic.group(1).lower(), False, False
            return None, False, False
        low = " ".join(phrase.lower().split())
        if low in ("we", "i", "you", "us", "me", "one", "someone", "nobody", "everyone", "there"):
            return None, False, False
        adverb = _TRAILING_ADVERB_RE.search(phrase) if low.endswith(_TRAILING_ADVERBS) else None
        if adverb:  # "Residents there", "officials too": the adverb is no part of the name
            return self.resolve_phrase(start, self.text.rfind(adverb.group(), start, end))
        bare = LEADING_ARTICLE_RE.sub("", low)
        low = _DOCUMENT_ADJECTIVE_RE.sub("the ", low)  # "the updated report", "the latest statement": the report
        if low in PRONOUN_SOURCES or bare in ("same source", "source", "same sources", "sources") and low.startswith("the"):
            if low in ("he", "she"):
                return self.last_person, False, True
            return self.last_source, False, False
        if plow is None:
            coref = COREF_RE.search(phrase)
        else:  # the twin finds where; COREF_RE's match there is the one search gives
            at = COREF_LOW_RE.search(plow)
            coref = None if at is None else COREF_RE.match(phrase, at.start())
        if coref and coref.start() <= 2 and not phrase[coref.end():].strip(" '’s"):
            key = " ".join(coref.group("phrase").lower().replace(".", "").split())
            kinds = _coref_kinds(key)
            keyword = (coref.group("ministry_kind") or "").lower() or None
            if keyword in ("defense",):
                keyword = "defence"
            entry = self.by_kind(kinds, start, keyword) if kinds else None
            if entry is not None:
                return entry.canonical, entry.kind == "media", False
            hit = self.hit_in(start, end)
            if hit is not None:
                return _normalise_source(hit.text), False, False
            if (self.last_source and self.last_source[0].isupper() and self.last_source != self.last_person
                    and kinds & ORG_KINDS):
                return self.last_source, False, False  # "the aid group": the organisation last quoted
            return _normalise_source(coref.group("phrase")), False, False
        figures_by = _FIGURES_BY_RE.match(phrase)
        if figures_by:  # "estimates by monitoring groups" are the groups' figures
            offset = self.text.find(figures_by.group(1), start)
            if offset >= 0:
                return self.resolve_phrase(offset, offset + len(figures_by.group(1)))
        head_of = _HEAD_OF_RE.match(phrase)
        if head_of:  # "the head of the national disaster agency" speaks for the agency
            org = _BODY_TAIL_RE.split(head_of.group(1), maxsplit=1)[0]  # "the Red Crescent in Benghazi Kais F."
            offset = self.text.find(org, start)
            if offset >= 0:
                return self.resolve_phrase(offset, offset + len(org))
        hit = self.hit_in(start, end)
        if hit is not None:  # an ambiguous alias ("the health ministry") with no single owner here
            return _normalise_source(hit.text), False, False
        member = _MEMBER_OF_RE.match(phrase)
        if member:  # "Kais Fhakeri of the Red Crescent": a person named with the body he speaks for is the body
            offset = self.text.find(member.group("org"), start)
            if offset >= 0:
                resolved = self.resolve_phrase(offset, offset + len(member.group("org")))
                if resolved[0]:
                    return resolved[0], resolved[1], False
        role_of = _BODY_ROLE_RE.fullmatch(phrase) if phrase.endswith(_ROLE_ENDINGS) else None
        if role_of and role_of.group("org").lower() in _BODY_NOUNS:  # "a military spokesman": the military
            return self.known_name(role_of.group("org").lower()) or role_of.group("org").lower(), False, False
        if role_of:  # "Libyan National Army spokesman", "an NDRF official": the body speaks
            offset = self.text.find(role_of.group("org"), start)
            resolved = self.resolve_phrase(offset, offset + len(role_of.group("org"))) if offset >= 0 else (None,)
            return resolved[0] or role_of.group("org"), bool(resolved[0]) and resolved[1], False
        minister = _MINISTER_RE.fullmatch(phrase) if "Minister " in phrase else None
        if minister:  # "Ukrainian Interior Minister Ihor Klymenko" speaks for the interior ministry
            ministry = " ".join(filter(None, (minister.group("adj"), minister.group("dept").lower(), "ministry")))
            return self.known_name(ministry) or ministry, False, False
        name = _person_or_org_name(phrase)
        if name:
            return name, False, " " in name and not name.isupper()
        words = WORDS_RE.findall(low)
        if words and words[-1] in GENERIC_SOURCES and len(words) <= 4:
            return GENERIC_SOURCES[words[-1]], False, False
        head = PHRASE_TAIL_RE.split(phrase, maxsplit=1)[0]
        return _descriptive_source(head), False, False

    def local_government(self, phrase: str, pos: int) -> str | None:
        """One name for the government of an administrative unit the article names ("Ishikawa Prefecture"):
        "Ishikawa officials", "the prefectural government", "Ishikawa authorities" -> "Ishikawa prefecture"."""
        if not phrase.endswith(_GOVERNMENT_ENDINGS):
            return None
        by_adjective = _UNIT_GOVERNMENT_RE.match(phrase)
        by_name = None if by_adjective else _NAMED_GOVERNMENT_RE.match(phrase)
        if not (by_adjective or by_name):
            return None
        if self._units is None:
            self._units = []
            for m in _ADMIN_UNIT_RE.finditer(self.text):
                name = m.group("name") or m.group("name2")
                noun = (m.group("noun") or m.group("noun2")).lower().rstrip(".")
                noun = _UNIT_ABBREVIATIONS.get(noun, noun)
                if clean_place(name):
                    self._units.append((m.start(), clean_place(name), noun))
        if by_adjective:
            noun = _UNIT_ADJECTIVES[by_adjective.group("adj").lower()]
            named = [(p, name) for p, name, n in self._units if n == noun]
            if not named:
                return None
            before = [name for p, name in named if p < pos]
            return f"{(before or [named[0][1]])[-1]} {noun}"
        name = clean_place(by_name.group("name"))
        return next((f"{name} {n}" for _, unit, n in self._units if unit == name), None)

    # -- places ---------------------------------------------------------------------------------
    def places(self) -> list[tuple[int, str]]:
        """(position, name) of every settlement the article names as such, in text order."""
        if self._places is None:
            found: list[tuple[int, str]] = []
            text = self.text
            rev = text[::-1]
            # Where each pattern's first words or keyword match, from one list of where their nouns start.
            keys = literal_starts(PLACE_KEYS, text)
            for m in finditer_at(SETTLEMENT_OF_RE, [p for p in keys if SETTLEMENT_OF_START_RE.match(text, p)], text):
                found.append((m.start("name"), m.group("name")))
                for extra in NAME_RE.finditer(m.group("more") or ""):
                    found.append((m.start("more") + extra.start(), extra.group()))
            camp_keys = [p for p in keys if NAME_SETTLEMENT.keyword.match(text, p)]
            for m in anchored_finditer(NAME_SETTLEMENT, text, rev, camp_keys):
                found.append((m.start("name"), m.group("name")))
            for m in finditer_at(RESIDENTS_OF_RE, [p for p in keys if RESIDENTS_OF_START_RE.match(text, p)], text):
                found.append((m.start("name"), m.group("name")))
            town_keys = [p for p in keys if TOWN_APPOSITIVE.keyword.match(text, p)]
            for m in anchored_finditer(TOWN_APPOSITIVE, text, rev, town_keys):
                found.append((m.start("name"), m.group("name")))
            cleaned = []
            for pos, name in found:
                name = clean_place(name)
                if name:
                    cleaned.append((pos, name))
            cleaned.sort()
            self._places = cleaned
            self._place_names = {name for _, name in cleaned}
        return self._places

    def is_settlement(self, name: str) -> bool:
        """True when the article names `name` as a town, village, city or camp somewhere."""
        if name.endswith(" City"):  # (the places are not listed for it)
            return True
        self.places()
        return name in (self._place_names or set())

    def place_before(self, pos: int, para_start: int) -> str | None:
        """The last settlement named between the paragraph start and pos."""
        best = None
        for p, name in self.places():
            if para_start <= p < pos:
                best = name
            elif p >= pos:
                break
        return best


_ROLE = (r"(?:spokes(?:man|woman|person)|secretary[- ]general|head|chief|director(?:[- ]general)?|president|"
         r"chairman|chairwoman|chair|coordinator|commissioner|official|representative)")
# A person named with the body they speak for: the body is the source ("one body, one name").
_SPEAKS_FOR_RE = re.compile(
    rf"[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){{0,4}},\s+(?:(?:the|a|an|its)\s+)?(?:[\w-]+\s+){{0,2}}?{_ROLE}\s+"
    rf"(?:of|for|at|with)\s+(?P<org>(?:the\s+)?[\w'’ -]+)$"
    rf"|[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){{0,4}},\s+(?:the\s+|a\s+)?(?P<org2>[\w -]+?)['’]s?\s+(?:[\w-]+\s+)?{_ROLE}$"
    rf"|[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){{0,4}},\s+the\s+(?P<org3>[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)\s+{_ROLE}$",
    re.IGNORECASE)
_TRAILING_ADVERBS = (" there", " here", " too", " also", " themselves", " itself", " alone")
_TRAILING_ADVERB_RE = re.compile(r"(?<=\w)\s+(?:there|here|too|also|themselves|itself|alone)$", re.IGNORECASE)
# A person's name (two to four capitalised words that name no body) and the body after "of the".
_MEMBER_OF_RE = re.compile(
    r"(?!(?:[\w'’.-]+\s+){0,3}?(?i:ministry|department|office|agency|service|council|committee|authority|"
    r"organi[sz]ation|society|directorate|bureau|commission|institute|centre|center|government|republic)\b)"
    r"[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+){1,3}\s+(?:of|from|at)\s+(?P<org>the\s+[A-Z][\w'’ .-]*)$")
_BODY_TAIL_RE = re.compile(r"\s+(?:in|at|on|based|who|which)\s+|\s*,")
# A subordinate clause's opening before its subject: "a day after authorities say", "where officials confirmed".
_SUBORDINATE_LEAD_RE = re.compile(
    r"(?:(?:a|one|two|three|several|hours?|days?|weeks?|moments?|shortly|soon|just|even)\s+)*"
    r"(?:after|before|where|when|while|as|since|once|until|whereas)\s+(?=\S)", re.IGNORECASE)
# Phrases that cannot be the subject of a speech verb: a prepositional phrase, an adverb, an activity.
_NOT_A_SUBJECT_RE = re.compile(
    r"(?:with|among|amid|including|despite)\s"
    r"|(?:later|earlier|also|then|now|previously|separately|meanwhile|however|update|statement|statements|"
    r"citing|quoting|culture|search|usual|custom|tradition|plan|schedule|protocol|norms?|rules?)$"
    r"|(?:search|rescue|recovery|relief)\s+(?:and\s+\w+\s+)?(?:efforts?|operations?|work)\b", re.IGNORECASE)
# ("regional" and "district" are left alone: they as often mean the area a story covers as a named unit.)
_UNIT_ADJECTIVES = {"prefectural": "prefecture", "provincial": "province", "county": "county",
                    "oblast": "oblast", "governorate": "governorate"}
_UNIT_NOUNS = "prefecture|province|region|county|district|oblast|governorate"
_UNIT_ABBREVIATIONS = {"pref": "prefecture", "prov": "province"}
_GOVERNMENT_NOUNS = r"(?:government|authorities|officials|administration|office)"
_GOVERNMENT_ENDINGS = ("government", "authorities", "officials", "administration", "office")
_UNIT_GOVERNMENT_RE = re.compile(
    rf"(?:the\s+)?(?P<adj>{'|'.join(_UNIT_ADJECTIVES)})\s+{_GOVERNMENT_NOUNS}$", re.IGNORECASE)
_NAMED_GOVERNMENT_RE = re.compile(rf"(?:the\s+)?(?P<name>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?)\s+{_GOVERNMENT_NOUNS}$")
_ADMIN_UNIT_RE = re.compile(
    rf"(?P<name>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?)\s+(?P<noun>(?i:{_UNIT_NOUNS})\b|Pref\.|Prov\.)"
    rf"|\b(?P<noun2>(?i:{_UNIT_NOUNS}))\s+of\s+(?P<name2>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?)")
_GENERIC_BODY_TAIL_RE = re.compile(r"\s(?:the|local|regional)\s+(authorities|officials|police|rescuers)$", re.IGNORECASE)
_HEAD_OF_RE = re.compile(
    r"(?:the\s+|a\s+|an\s+)?(?:head|chief|director|director-general|spokes(?:man|woman|person)|president|"
    r"secretary[- ]general|founder|commissioner|coordinator|leader|chairman)\s+(?:of|for|at)\s+(.+)$", re.IGNORECASE)


_OFFICIALS_IN_RE = re.compile(
    r"(?:[Tt]he\s+)?(?P<role>(?i:officials|authorities))\s+(?:in|of|from)\s+(?:neighbou?ring\s+|the\s+)?"
    r"(?P<place>[A-Z][\w'’-]*(?:(?:\s+|\s+(?:and|of|la|de|del|el)\s+)[A-Z][\w'’-]*)*)"
    r"(?:\s+in\s+the\s+(?:north|south|east|west)\w*)?")
_ACRONYM_RE = re.compile(r"[A-Z][A-Z&]{1,7}")
_THE_RE = re.compile(r"^(?:the|an?)\s+", re.IGNORECASE)
_INTRODUCED_ACRONYM_RE = re.compile(r"\s\(([A-Z][A-Z&]{1,7})\)")
_ACRONYM_SKIPS = frozenset({"of", "for", "and", "the", "on", "in", "de", "du", "des", "la", "&"})


def _spelt_name(before: str, acronym: str) -> str | None:
    """The capitalised words at the end of `before` whose initials spell the acronym ("Kenya Coast Guard
    Service" for KCGS; "of", "for", "and" and "the" inside the name skipped), or None."""
    words = before.split()
    letters = list(acronym.replace("&", ""))
    k = len(words)
    while letters and k:
        k -= 1
        word = words[k].strip(",;:")
        if word.lower() in _ACRONYM_SKIPS and letters != list(acronym.replace("&", "")):
            continue
        if not word[:1].isupper() or word[0] != letters[-1]:
            return None
        letters.pop()
    return " ".join(w.strip(",;:") for w in words[k:]) if not letters else None


# A body named by its proper name or acronym with the role of who speaks for it.
_BODY_ROLE_RE = re.compile(
    r"(?:the\s+|a\s+|an\s+)?(?P<org>[A-Z][\w'’-]*(?:\s+(?:(?:of|for|and|the)\s+)*[A-Z][\w'’-]*)+|[A-Z][A-Z&]{1,7}"
    r"|(?:[A-Z][\w-]*\s+){0,3}(?i:police|army|military|navy|coast\s+guard|fire\s+service|fire\s+brigade))"
    r"\s+(?:spokes(?:man|woman|person)|officials?|head|chief|director|secretary[- ]general)")
_DOCUMENT_ADJECTIVE_RE = re.compile(r"^the\s+(?:latest|updated|new|last|official|same|daily)\s+(?=(?:report|statement|"
                                    r"update|document|bulletin)$)")
# Cheap tests that say where the patterns below can match at all (resolve_phrase runs on every speaker).
_ROLE_WORD_HINT_RE = re.compile(r"spokes|official|director|chief|secretary|officer")
_ROLE_ENDINGS = ("spokesman", "spokeswoman", "spokesperson", "official", "officials", "head", "chief", "director",
                 "general")
_BODYS_PERSON_RE = re.compile(
    r"(?:the\s+)?(?P<org>[A-Z][\w-]*(?:\s+(?:of\s+|for\s+|and\s+)?[A-Z][\w-]*)*)['’]s?\s+[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){1,3}")
_BODY_NOUNS = frozenset({"police", "army", "military", "hospital", "railway", "railways", "navy", "coast guard",
                         "fire service", "fire brigade", "ambulance service"})
_BODY_ROLE_NAME_RE = re.compile(
    r"(?:the\s+|a\s+|an\s+)?(?P<org>(?:[A-Z][\w-]*\s+){0,3}(?i:police|army|military|hospital|railways?|navy"
    r"|coast\s+guard|fire\s+service|fire\s+brigade|ambulance\s+service)|[A-Z][\w-]*(?:\s+(?:of\s+|for\s+|and\s+)?[A-Z][\w-]*)*?)(?:['’]s)?"
    r"\s+(?:[a-z-]+\s+){0,3}?(?:spokes(?:man|woman|person)|official|director|chief|secretary"
    r"|(?:public\s+relations|press|information|media)\s+officer)"
    r"\s+[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){1,3}")
_MINISTER_RE = re.compile(
    r"(?:the\s+)?(?:(?P<adj>[A-Z][\w'’-]+)\s+)?(?P<dept>Interior|Health|Defen[cs]e|Foreign|Home|Emergencies|Emergency"
    r"|Information|Disaster\s+Management|Refugees|Disaster)\s+Minister(?:\s+[A-Z][\w'’.-]+){1,4}")


_FIGURES_FROM_RE = re.compile(r"\s(?:from|by|of|compiled\s+by)\s")
_FIGURES_BY_RE = re.compile(
    r"(?:the\s+|an?\s+)?(?:[\w-]+\s+){0,2}?(?:estimates?|figures?|data|"
    r"tally|tallies|count|statistics|numbers|reports?|records?|documentation|statements?|updates?|releases?|"
    r"bulletins?|communiqu[eé]s?|announcements?|briefings?)\s+(?:by|from|of|compiled\s+by|issued\s+by)\s+(.+)$",
    re.IGNORECASE)


def _has_keyword(entry: SourceEntry, keyword: str | None) -> bool:
    """True when the entry's names contain the keyword ("health" for "the health ministry"), or no keyword."""
    return keyword is None or keyword in (entry.name + " " + " ".join(entry.aliases)).lower()


def _coref_kinds(key: str) -> frozenset:
    """The source kinds a generic phrase ("war monitor", "the NGO") may refer to."""
    if key in COREF_KINDS:
        return COREF_KINDS[key]
    if "monitor" in key:
        return COREF_KINDS["monitor"]
    if key.endswith("ministry"):
        return COREF_KINDS["ministry"]
    if "civil defen" in key or key.startswith(("rescue", "emergency")):
        return COREF_KINDS["civil defence"]
    if key.endswith(("agency", "body", "office")) and key.startswith(("un ", "united nations")):
        return COREF_KINDS["un agency"]
    if key.endswith("agency"):
        return COREF_KINDS["agency"]
    if "rights group" in key:
        return COREF_KINDS["rights group"]
    if key.endswith("charity"):
        return COREF_KINDS["charity"]
    if key.startswith("non-governmental"):
        return COREF_KINDS["ngo"]
    for word, kinds in COREF_KINDS.items():
        if key.endswith(word):
            return kinds
    return frozenset()


def _normalise_source(phrase: str) -> str:
    """A generic phrase as a source name: no article, lower-case common words ("war monitor")."""
    words = phrase.replace("’", "'").split()
    while words and words[0].lower() in ("the", "a", "an", "another", "that", "this"):
        words = words[1:]
    out = [w.lower() if w.lower() in COMMON_FIRST or w.islower() or (i == 0 and w.lower() in GENERIC_SOURCES)
           else w for i, w in enumerate(words)]
    if out and out[0][0].isupper() and words[0].lower() in COMMON_FIRST:
        out[0] = out[0].lower()
    return " ".join(out)


_NAME_WORD_RE = re.compile(r"^(?:[A-Z][\w'’.-]*|(?:al|el|bin|ibn|abu|de|van|von|der|da|di|le|la)(?:-[A-Z][\w'’-]*)?|of|for|and|the|&)$")


def _person_or_org_name(phrase: str) -> str | None:
    """The proper name in a source phrase ("regional governor Serhiy Lysak" -> "Serhiy Lysak"), or None."""
    office = OFFICE_OF_RE.match(phrase)
    if office:  # "the mayor of the city Vitaliy Klychko" -> "mayor"
        title = office.group("office").lower()
        return f"{office.group('place')} {title}" if office.group("place") else title
    words = phrase.replace("’", "'").split()
    while words and words[0].lower() in ("the", "a", "an"):
        words = words[1:]
    if not words or any(ch.isdigit() for ch in phrase):
        return None
    titled = [k for k, w in enumerate(words) if w.lower().strip(",") in TITLE_WORDS and w[0].isupper()]
    if titled and len(words) - titled[-1] - 1 >= 2 and all(_NAME_WORD_RE.match(w) for w in words[titled[-1] + 1:]):
        if words[titled[-1]].lower() in OFFICES:  # "Kyiv Mayor Vitali Klitschko" -> "Kyiv mayor", however spelt
            return " ".join(words[:titled[-1]] + [words[titled[-1]].lower()])
        words = words[titled[-1] + 1:]  # "regional governor Serhiy Lysak" -> the name
    if all(_NAME_WORD_RE.match(w) for w in words) and words[0][0].isupper() and words[-1][0].isupper():
        if (words[0].lower() in COMMON_FIRST or words[0].lower() in GENERIC_SOURCES) and (
                len(words) < 2 or not all(w[0].isupper() for w in words if w.lower() not in ("of", "for", "and", "the"))):
            return None
        if words[-1].endswith("'s"):
            return None
        return " ".join(words)
    # A title before a name: "police officer Abdikadir Hassan".
    tail = []
    for w in reversed(words):
        if _NAME_WORD_RE.match(w) and w[0].isupper():
            tail.append(w)
        else:
            break
    tail.reverse()
    if len(tail) >= 2 and len(tail) < len(words):
        before = words[len(words) - len(tail) - 1].lower().strip(",")
        if before in TITLE_WORDS or before.endswith("'s") is False and before in TITLE_WORDS:
            return " ".join(tail)
        if before in TITLE_WORDS or before.endswith(("man", "woman", "person", "or", "er", "ist", "ent")):
            return " ".join(tail)
    return None


_ANAPHORIC_POSSESSIVES = {"country's", "city's", "enclave's", "territory's", "region's", "state's",
                          "province's", "town's", "nation's", "island's", "area's", "kingdom's"}


def _descriptive_source(phrase: str) -> str | None:
    """A source phrase that names no one in particular, normalised ("Other Syrian sources" -> "other Syrian sources")."""
    words = phrase.replace("’", "'").split()
    while words and (words[0].lower() in ("the", "a", "an", "some", "one", "two", "three", "several")
                     or words[0].lower() in _ANAPHORIC_POSSESSIVES):
        words = words[1:]
    if not words or len(words) > MAX_SOURCE_WORDS or any(ch.isdigit() for ch in phrase):
        return None
    if any(w.lower().strip(",.") in MEASURE_WORDS or w.lower() in AUX for w in words):
        return None
    if words[-1].lower() in DETERMINERS or words[-1].lower() in ("and", "of", "to", "in"):
        return None
    if words[0].lower().endswith("ing") or any(
            finite_verb(Token(0, 0, w, w.lower().strip(",.'’"), -1)) for w in words):
        return None  # a clause ("reducing the world population"), not a name
    if words[0].lower() in COMMON_FIRST:
        words[0] = words[0].lower()
    return " ".join(words)


def clean_place(name: str) -> str | None:
    """A place name trimmed of leading articles, or None if it is no settlement (a country, a weekday)."""
    words = name.split()
    while words and words[0].lower() in NOT_PLACES:
        words = words[1:]
    if not words:
        return None
    if words[0].lower() in WEEKDAYS or words[0].lower() in MONTHS:
        return None
    if words[-1].endswith(("'s", "’s")):
        return None
    joined = " ".join(words)
    if joined.lower() in COUNTRIES:
        return None
    return joined


def find_attributions(ctx: ArticleContext, sent: Sentence) -> list[Attribution]:
    """Who the sentence says is speaking: "according to X", "X said", "said X", "reported by X"."""
    cached = ctx.attributions.get(sent.start)
    if cached is not None:
        return cached
    ctx.reading = sent
    text, base = sent.text, sent.start
    found: list[Attribution] = []
    low = caseless_lower(text)  # None: the IGNORECASE patterns run on the text itself
    if not (ATTRIBUTION_HINT_RE.search(text) if low is None
            else search_from(ATTRIBUTION_HINT_LOW_RE, ATTRIBUTION_HINT_START_RE, low)):
        ctx.attributions[sent.start] = found
        return found

    def add(np_start: int, np_end: int, verb_start: int, verb_end: int) -> bool:
        if np_end <= np_start:
            return False
        source, media, person = ctx.resolve_phrase(base + np_start, base + np_end)
        if source:
            span = (min(np_start, verb_start), max(np_end, verb_end))
            raw = text[np_start:np_end].strip(" ,.;:")
            found.append(Attribution(base + span[0], base + span[1], source, raw, media, person))
        return bool(source)

    taken: list[tuple[int, int]] = []
    for regex, twin, first in ((ACCORDING_RE, ACCORDING_LOW_RE, ACCORDING_START_RE),
                               (REPORTED_BY_RE, REPORTED_BY_LOW_RE, REPORTED_BY_START_RE)):
        for m in (regex.finditer(text) if low is None else finditer_from(twin, first, low)):  # only offsets are read
            np_start = m.end()
            np_end = _np_end(text, np_start)
            more = _FIGURES_FROM_RE.match(text, np_end)
            if more and _FIGURES_BY_RE.match(text[np_start:np_end] + " of x"):
                np_end = _np_end(text, more.end())  # "according to the latest figures from the ministry"
            np_start, np_end = _appositive_after(text, np_start, np_end)
            role = _ROLE_APPOSITIVE_RE.match(text, np_end)
            if role and _looks_like_name(text[np_start:np_end].strip()):
                np_end = role.end()  # "according to Ali Rahimi, spokesman for the Ministry of X": the ministry
            add(np_start, np_end, m.start(), m.end())
            taken.append((m.start(), np_end))
    cited_at: list[int] = []
    for m in (CITING_RE.finditer(text) if low is None else finditer_from(CITING_LOW_RE, CITING_START_RE, low)):
        np_start = m.end()
        np_end = _np_end(text, np_start)
        more = _FIGURES_FROM_RE.match(text, np_end)
        if more and _FIGURES_BY_RE.match(text[np_start:np_end] + " of x"):
            np_end = _np_end(text, more.end())  # "citing a statement from the interior ministry"
        phrase = text[np_start:np_end]
        if ctx.entry_in(base + np_start, base + np_end) or _FIGURES_BY_RE.match(phrase) or _looks_like_name(phrase):
            if add(np_start, np_end, m.start(), m.end()):
                cited_at.append(m.start())
    for m in finditer_from(SPEECH_RE, SPEECH_START_RE, text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        verb = m.group()
        after = text[m.end():m.end() + 40]
        before = text[max(0, m.start() - 20):m.start()].lower()
        if verb in ("reported", "reports", "claimed", "claims", "put", "puts", "confirmed", "counted", "recorded",
                    "estimated", "documented") and NOT_ATTRIBUTION_AFTER_RE.match(after):
            continue
        if verb in ("claimed", "claims") and not CLAIMED_THAT_RE.match(after):
            continue  # "claimed 18 lives", "claimed responsibility"
        if verb in ("put", "puts") and not PUT_TOLL_RE.match(after):
            continue
        if verb in TOLL_CHANGE_VERBS and not (PUT_TOLL_RE.match(after) or REVISED_IT_RE.match(after)):
            continue
        if verb in ("gave", "gives") and not GAVE_FIGURE_RE.match(text, m.end()):
            continue
        if verb in ("released", "releases") and not RELEASED_WHAT_RE.match(text, m.end()):
            continue
        if PASSIVE_BEFORE_RE.search(before) and verb != "told":
            continue
        if ADJECTIVAL_BEFORE_RE.search(before) or before.rstrip()[-1:].isdigit():
            continue  # "an estimated 450 million", "the reported toll", "139 reported cases"
        if verb == "said" and SAID_TO_BE_RE.match(after):
            continue
        if verb in ("quoted", "cited"):
            relayed = _QUOTED_AS_RE.match(text, m.end())
            if relayed and add(relayed.start(1), relayed.end(1), m.start(), relayed.end()):
                continue  # "X quoted a spokesman for Y as saying": Y's figure, X relays it
        subject = _subject_before(text, m.start())
        if subject and add(subject[0], subject[1], m.start(), m.end()):
            continue
        inverted = _subject_after(text, m.end())
        if inverted:
            add(inverted[0], inverted[1], m.start(), m.end())
    found.sort(key=lambda a: a.start)
    for at in cited_at:  # "Moroccan state TV said citing a statement from X", "Paralel.Az reports citing Y": a relay
        found = [a._replace(media=True) if a.end <= base + at and base + at - a.end <= 3 else a for a in found]
    for att in found:
        if att.source and not att.media:
            ctx.last_source = att.source
            if att.person or _HUMAN_ROLE_RE.search(att.text):  # "a railway official said ... he said": the body
                ctx.last_person = att.source
    ctx.attributions[sent.start] = found
    return found


def _np_end(text: str, start: int) -> int:
    """Where the noun phrase starting at `start` ends (a comma, a time phrase, a clause)."""
    m = NP_END_RE.search(text, start)
    return m.start() if m else len(text)


def _appositive_after(text: str, start: int, end: int) -> tuple[int, int]:
    """For "the U.S. envoy for Sudan, Tom Perriello": the span of the name that follows, if one does."""
    rest = text[end:]
    m = APPOSITIVE_NAME_RE.match(rest)
    if m and len(m.group(1).split()) >= 2 and not m.group(1).split()[0] in ("The", "A", "An"):
        phrase = text[start:end].lower()
        if any(w in phrase.split() for w in TITLE_WORDS) or phrase.split()[-1:] and phrase.split()[-1] in TITLE_WORDS:
            return end + m.start(1), end + m.end(1)
    return start, end


def _subject_before(text: str, verb_start: int) -> tuple[int, int] | None:
    """The span of the speaker before a speech verb ("Rami Abdulrahman of SOHR told"), or None."""
    segments = []
    pos = 0
    for brk in SEGMENT_SPLIT_RE.finditer(text, 0, verb_start):
        segments.append((pos, brk.start()))
        pos = brk.end()
    segments.append((pos, verb_start))
    direct = bool(text[pos:verb_start].strip())  # no comma or bracket between the last words and the verb
    # Only the last three segments that are not blank are read.
    kept: list[tuple[int, int]] = []
    for a, b in reversed(segments):
        if text[a:b].strip() and not (not kept and _AUXILIARY_ONLY_RE.fullmatch(text[a:b].strip())):
            kept.append((a, b))  # (", has reported", ", in a statement, said": the subject is before the commas)
            if len(kept) == 3:
                break
    segments = kept[::-1]
    # "the Libyan National Army (LNA), its spokesman, Ahmad Mismari, said": the body "its" stands for.
    if len(segments) == 3 and _ITS_ROLE_RE.fullmatch(text[segments[1][0]:segments[1][1]].strip()) \
            and _looks_like_name(text[segments[2][0]:segments[2][1]].strip()):
        pa, pb = _trim_span(text, *segments[0])
        tail = TAIL_NAME_RE.search(text[pa:pb])
        if tail:
            return pa + tail.start(1), pa + tail.end(1)
    segments = segments[-2:]
    if not segments:
        return None
    a, b = _trim_span(text, *segments[-1])
    if b <= a:
        return None
    seg = text[a:b]
    # "the Observatory, which said": a relative pronoun speaks for the noun phrase before it.
    relative = _RELATIVE_RE.match(seg)
    rest = seg[relative.end():] if relative else ""
    if direct and _RELATIVE_SUBJECT_RE.fullmatch(rest) and not SPEECH_RE.search(rest):
        return a + relative.end() + len(rest) - len(rest.lstrip()), b  # "..., which the regional government revised"
    if len(segments) >= 2 and relative:
        pa, pb = _trim_span(text, *segments[-2])
        return (pa, pb) if pb > pa else None
    # "A spokesman for the Kurdish Red Crescent, Jamal Ahmed, said": the organisation speaks.
    if len(segments) >= 2 and _looks_like_name(seg):
        pa, pb = _trim_span(text, *segments[-2])
        head = _HEAD_OF_RE.search(text, pa, pb)
        if head and (head.start() == pa or text[head.start() - 1].isspace()):
            return head.start(), b
    # "Ali Sheha, a 57-year-old resident of Baniyas ..., said": the name before the appositive.
    if len(segments) >= 2 and _APPOSITIVE_RE.match(seg):
        pa, pb = _trim_span(text, *segments[-2])
        prev = text[pa:pb]
        if prev and _looks_like_name(prev):
            return pa, b if _has_org_word(seg) else pb
    return a, b


# A speaker named by a person's role: "he" or "she" after it stands for the same source.
_HUMAN_ROLE_RE = re.compile(r"\b(?:official|spokes(?:man|woman|person)|minister|director|chief|head|secretary"
                            r"|governor|mayor|president|commissioner|coordinator|officer|commander)\b", re.IGNORECASE)
_AUXILIARY_ONLY_RE = re.compile(r"(?:has|have|had)(?:\s+(?:also|now|already|since))?|(?:in|on|at|late|early|earlier|later)"
                                r"(?:\s+[\w'’-]+){0,4}", re.IGNORECASE)
_QUOTED_AS_RE = re.compile(r"\s+((?:the\s+|a\s+|an\s+)?[\w'’.-]+(?:\s+[\w'’.-]+){0,9}?)\s+as\s+(?:saying|stating|telling)\b")
# The subject of a relative clause whose pronoun is its object: "which the state government (revised)".
_RELATIVE_SUBJECT_RE = re.compile(r"\s+(?:(?:the|a|an|its|their)\s+[\w'’-]+|[A-Z][\w'’-]*)(?:\s+[\w'’-]+){0,5}")
_RELATIVE_RE = re.compile(r"(?:which|who)\b", re.IGNORECASE)
_ITS_ROLE_RE = re.compile(r"(?:its|their)\s+(?:[\w-]+\s+)?(?:spokes(?:man|woman|person)|head|chief|director|president|"
                          r"secretary[- ]general|chairman|commander|official)", re.IGNORECASE)
_ROLE_APPOSITIVE_RE = re.compile(
    r",\s+(?:the\s+|a\s+|an\s+)?(?:[\w-]+\s+){0,2}?(?:spokes(?:man|woman|person)|secretary[- ]general|head|chief|"
    r"director|president|chairman|chairwoman|coordinator|commissioner|official|representative)\s+(?:of|for|at)\s+"
    r"(?:the\s+)?[A-Z][\w'’-]*(?:\s+(?:(?:of|for|and|the)\s+)*[A-Z][\w'’-]*)*"
    # "..., the Interior Ministry spokesman", "..., the ministry's spokeswoman"
    r"|,\s+the\s+(?:[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*|[a-z]+['’]s?)\s+(?:spokes(?:man|woman|person)|secretary[- ]general"
    r"|director|chief|head)\b")
_APPOSITIVE_RE = re.compile(
    r"(?:(?:a|an|the)\s+[a-z0-9]|(?:who|whose|which|based|speaking|citing|quoted|himself|herself)\b"
    r"|(?:[a-z-]+\s+){1,3}(?:of|for|at|in)\b|[a-z]+-based\b|[\w]+-year-old\b)")


# Words after "said" that do not start its speaker ("said on Monday", "said that", "told reporters").
_NOT_INVERTED_SUBJECTS = {
    "that", "on", "in", "by", "for", "with", "at", "it", "they", "he", "she", "there", "to", "this", "we", "i",
    "you", "so", "earlier", "later", "late", "early", "last", "yesterday", "today", "reporters", "journalists",
    "him", "her", "them", "us", "me", *WEEKDAYS}


def _subject_after(text: str, verb_end: int) -> tuple[int, int] | None:
    """The span of the speaker after an inverted speech verb ("..., said the ministry"), or None."""
    m = INVERTED_SUBJECT_RE.match(text, verb_end)
    if not m:
        return None
    phrase = m.group(1)
    if phrase.split()[0].lower() in _NOT_INVERTED_SUBJECTS or NOT_A_SPEAKER_RE.search(phrase):
        return None
    role = _ROLE_APPOSITIVE_RE.match(text, m.end(1))
    if role and _looks_like_name(phrase):  # "said Abdul Rayan, a spokesman at the Ministry of X": the ministry
        return m.start(1), role.end()
    return m.start(1), m.end(1)


def _trim_span(text: str, a: int, b: int) -> tuple[int, int]:
    """A segment without surrounding space, leading conjunctions and trailing times or auxiliaries."""
    seg = text[a:b]
    lead = LEADING_CONJ_RE.match(seg)
    a += lead.end()
    seg = text[a:b]
    low = caseless_lower(seg)
    trail = TRAILING_TIME_RE.search(seg) if low is None else TRAILING_TIME_LOW_RE.search(low)
    if trail:
        b = a + trail.start()
    seg = text[a:b]
    b = a + len(seg.rstrip())
    return a, b


def _looks_like_name(phrase: str) -> bool:
    """True for a short capitalised name ("Ali Sheha", "The Syrian Observatory for Human Rights")."""
    words = phrase.split()
    if not words or len(words) > 8 or words[0].lower() in NOT_PLACES:
        return words[:1] == ["The"] and 1 < len(words) <= 8 and _looks_like_name(" ".join(words[1:]))
    return bool(words) and all(_NAME_WORD_RE.match(w) for w in words) and words[0][0].isupper()


def _has_org_word(phrase: str) -> bool:
    """True when an appositive names the organisation a person speaks for."""
    return bool(ORG_WORD_RE.search(phrase))
