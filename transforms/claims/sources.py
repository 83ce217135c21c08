"""Who a figure may come from: the known-sources table (built-in `data/sources.toml` plus users' files),
the search for its names, aliases and keywords in an article's text, and one name for each body however
an article or an event names it."""

from __future__ import annotations

import re
import tomllib
from difflib import SequenceMatcher
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

from tollwatch.transforms.text import finditer_from
from .vocabulary import BUILTIN_SOURCES, SOURCE_KINDS
from .patterns import DOTTED_ACRONYM_RE, literal_alternation


class SourceEntry(NamedTuple):
    """One known source of casualty figures (a row of sources.toml)."""

    canonical: str
    name: str
    kind: str
    aliases: tuple[str, ...]
    people: tuple[str, ...]
    places: tuple[str, ...]


SRC_TOKEN_RE = re.compile(r"(?:[A-Za-z]\.){2,}|[A-Za-z\u00C0-\u024F0-9&]+(?:['’][A-Za-z]+)?")
_SPELLINGS = {"defense": "defence", "organization": "organisation", "center": "centre", "u.n.": "un",
              "u.n": "un", "un's": "un's", "u.n.'s": "un's", "program": "programme", "medecins": "médecins",
              "frontieres": "frontières"}


def _source_key(token: str) -> str:
    """The normalised form of one word when matching source names."""
    low = token.lower().replace("’", "'")
    return _SPELLINGS.get(low, low)


def _exact_form(token: str) -> str:
    """One word as compared for exact-case aliases: curly quotes straightened, "U.N." as "UN"."""
    token = token.replace("’", "'")
    return token.replace(".", "") if DOTTED_ACRONYM_RE.fullmatch(token) else token


class SourceHit(NamedTuple):
    """A known source's name found in a text: its span and the table entries it names."""

    start: int
    end: int
    entries: tuple[SourceEntry, ...]
    text: str


# SRC_TOKEN_RE on lower-cased ASCII text (which has no capitals, curly quotes or accented letters).
SRC_TOKEN_LOW_RE = re.compile(r"(?:[a-z]\.){2,}|[a-z0-9&]+(?:'[a-z]+)?")
_NOT_SRC_TOKEN = "[^a-z0-9&]"  # where SRC_TOKEN_LOW_RE finds no token start (it matches at every other character)


_SRC_TOKEN_RUN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789&.'")  # the characters of lower-case tokens


class TokenRun:
    """Whether a token of `SRC_TOKEN_LOW_RE.findall(low)` starts at a position, asked in increasing order.

    A token is made of `_SRC_TOKEN_RUN` characters, and the pattern never matches at any other character:
    so a run of those characters is cut into the same tokens wherever findall comes from, and a letter after
    any other character starts a token. After "." or "'" (a letter of "u.n." or "un's"?) the run is read from
    its start, once for all the positions asked in it (so the work stays linear in the text).
    """

    __slots__ = ("low", "start", "end", "starts")

    def __init__(self, low: str):
        self.low = low
        self.start, self.end, self.starts = 0, 0, frozenset()

    def token_starts_at(self, p: int) -> bool:
        """For a letter at `p`."""
        low = self.low
        if p == 0 or low[p - 1] not in _SRC_TOKEN_RUN:
            return True
        if low[p - 1] not in ".'":
            return False  # the token of the letter or digit before goes on
        if not self.start <= p < self.end:
            s = p
            while s and low[s - 1] in _SRC_TOKEN_RUN:
                s -= 1
            starts = set()
            q, n = s, len(low)
            while q < n and low[q] in _SRC_TOKEN_RUN:
                tok = SRC_TOKEN_LOW_RE.match(low, q)
                if tok is None:
                    q += 1
                else:
                    starts.add(q)
                    q = tok.end()
            self.start, self.end, self.starts = s, q, starts
        return p in self.starts


def _later_words(trie: dict) -> set[str]:
    """The words of a trie's names after their first word."""
    words: set[str] = set()
    stack = [child for key, child in trie.items() if key is not None]
    while stack:
        node = stack.pop()
        for key, child in node.items():
            if key is not None:
                words.add(key)
                stack.append(child)
    return words


def _raw_trie(node: dict) -> dict:
    """A copy of a source trie whose edges are words as written, before spelling normalisation: each edge
    of the normalised trie appears once for every word that normalises to it."""
    out: dict = {}
    for key, child in node.items():
        if key is None:
            out[None] = child
            continue
        sub = _raw_trie(child)
        if _SPELLINGS.get(key, key) == key:
            out[key] = sub
        for raw, normal in _SPELLINGS.items():
            if normal == key and raw != key:
                out[raw] = sub
    return out


class SourceTable:
    """Known sources and the names articles give them; `find(text)` returns every mention in a text.

    >>> table = load_sources()
    >>> [h.entries[0].canonical for h in table.find("the Syrian Observatory for Human Rights said")]
    ['SOHR']
    """

    def __init__(self, entries: Iterable[SourceEntry], preferred: Iterable[str] = ()):
        self.entries: dict[str, SourceEntry] = {}
        for entry in entries:
            self.entries[entry.canonical] = entry  # a later file overrides an earlier one
        # The canonical names of the users' own files: they list the sources of the users' events.
        self.preferred = frozenset(preferred)
        # A trie over normalised words; a leaf lists (exact alias words or None, entry).
        self._trie: dict = {}
        for entry in self.entries.values():
            for alias in entry.aliases + entry.people:
                words = SRC_TOKEN_RE.findall(alias)
                if not words:
                    continue
                exact = len(words) == 1 or words[0] == "The"
                node = self._trie
                for word in words:
                    node = node.setdefault(_source_key(word), {})
                leaf = node.setdefault(None, [])
                forms = [tuple(_exact_form(w) for w in words)] if exact else [None]
                if exact and len(words) == 1 and words[0].isupper() and len(words[0]) >= 4:
                    forms.append((words[0].capitalize(),))  # "Unicef", "Unrwa" in British style
                for key in forms:
                    if (key, entry) not in leaf:
                        leaf.append((key, entry))
        self._raw_trie = _raw_trie(self._trie)
        # (canonical, words) of the aliases written in lower case of the sources that have places: common nouns
        # ("emergency services", "railway") that name the source only where the article names one of its places.
        self._common_nouns = {(entry.canonical, _alias_key(alias)) for entry in self.entries.values() if entry.places
                              for alias in entry.aliases if alias == alias.lower()}
        self._common_sources = {canonical for canonical, _ in self._common_nouns}
        self._name_start_res = self._name_start_patterns()
        # The words of the ASCII trie that continue a name after its first word: a name can run across a line
        # break only where the word after the break is one of them.
        self._later_words = frozenset(_later_words(self._raw_trie))
        self._place_res: dict[str, tuple[re.Pattern, re.Pattern]] = {}  # a word-bounded pattern, its start

    def __len__(self) -> int:
        return len(self.entries)

    def _name_start_patterns(self) -> tuple[re.Pattern, re.Pattern] | None:
        """Where a name can start in lower-cased ASCII text: (after a character no token starts with, at 0).

        A first word that is a name by itself is looked for alone; another with the second words that follow
        it in the trie ("the" only before "observatory", "health", ...). A token that starts with a letter
        follows a character no token starts with (or the start of the text): that character is looked for
        first, and the engine skips the letters in between by a fast scan. None when a first word starts
        with a digit or "&" (a token can start right after a letter there: "rock'n2").
        """
        items = {}
        for key, node in self._raw_trie.items():
            if key is None:
                continue
            if not key[0].isalpha():
                return None
            seconds = sorted((k for k in node if k is not None), key=len, reverse=True)
            if None in node or not seconds:
                items[key] = ""
            else:
                items[key] = _NOT_SRC_TOKEN + "*(?:" + "|".join(re.escape(k) for k in seconds) + ")"
        names = literal_alternation(items) if items else "(?!)"
        return re.compile(_NOT_SRC_TOKEN + names), re.compile(names)

    def find(self, text: str) -> list[SourceHit]:
        """Every mention of a known source in `text` (the longest where mentions overlap), in text order."""
        if text.isascii() and self._name_start_res is not None:
            found = self._find_ascii(text)
        else:
            found = self._find_general(text)
        hits: list[SourceHit] = []
        # Characters already inside a longer name: a name is short, so checking its own characters keeps
        # the work linear in the text however many names it holds ("(AFP)" on every line).
        taken = bytearray(len(text))
        # The longest names first; tokens do not overlap, so names share a token when their spans overlap.
        for start, end, _, entries in sorted(found, key=lambda f: (-f[2], f[0])):
            if 1 in taken[start:end]:
                continue
            taken[start:end] = b"\x01" * (end - start)
            hits.append(SourceHit(start, end, entries, text[start:end]))
        hits.sort(key=lambda h: h.start)
        return hits

    def find_part(self, text: str, start: int, want: int) -> tuple[int, list[SourceHit]]:
        """The mentions of `find(text)` that start in [start, end), and that end: the first line break at or
        after `want` that no name runs across (the word after it continues no name of the table), else the
        text's end. `start` is 0 or an end given before. An article whose figures are in its first paragraphs
        needs its sources looked for there only (the claims of the bench read 42% of a text, on average).

        No mention runs across such a break, so the mentions before it are the ones `find` gives the whole
        text: a name is looked for from a word, and its words are read up to the first that continues none.
        A text that is not ASCII is read whole (`_find_general`, from the start)."""
        end = len(text)
        if self._name_start_res is not None and text.isascii():
            at = text.find("\n", max(start, want))
            while at >= 0:
                word = SRC_TOKEN_RE.search(text, at)  # (on ASCII text: the span SRC_TOKEN_LOW_RE has lower-cased)
                if word is None or word.group().lower() not in self._later_words:
                    end = at
                    break
                at = text.find("\n", at + 1)
        elif start:
            raise ValueError("a text that is not ASCII is read whole, from its start")
        hits = self.find(text[start:end])
        return end, [h._replace(start=h.start + start, end=h.end + start) for h in hits] if start else hits

    def _find_general(self, text: str) -> list[tuple[int, int, int, tuple[SourceEntry, ...]]]:
        """(start, end, words, entries) of the longest name starting at each token that starts one."""
        spellings = _SPELLINGS
        trie = self._trie
        tokens = [(m.start(), m.end(), m.group()) for m in SRC_TOKEN_RE.finditer(text)]
        low = text.lower().replace("’", "'")
        if len(low) == len(text):
            keys = [spellings.get(k, k) for k in (low[a:b] for a, b, _ in tokens)]
        else:
            keys = [_source_key(t[2]) for t in tokens]
        found = []
        n = len(keys)
        for i in [i for i, key in enumerate(keys) if key in trie]:
            node = trie.get(keys[i])
            best = None
            j = i
            while node is not None:
                j += 1
                leaf = node.get(None)
                if leaf:
                    words = tuple(_exact_form(tokens[k][2]) for k in range(i, j))
                    entries = tuple(dict.fromkeys(e for exact, e in leaf if exact is None or exact == words))
                    if entries:
                        best = (tokens[i][0], tokens[j - 1][1], j - i, entries)
                node = node.get(keys[j]) if j < n else None
            if best:
                found.append(best)
        return found

    def _find_ascii(self, text: str) -> list[tuple[int, int, int, tuple[SourceEntry, ...]]]:
        """`_find_general` for ASCII text, reading tokens only where a name can start.

        Lower-casing ASCII changes no token boundary, so the trie of words as written is walked over the
        tokens of the lower-cased text, from each place `_name_start_patterns` finds that starts a token;
        from a token's end, the next token is the token pattern's next match, as findall goes on.
        """
        low = text.lower()
        trie = self._raw_trie
        after_gap, at_start = self._name_start_res
        token_re = SRC_TOKEN_LOW_RE
        found = []
        segment = TokenRun(low)
        m = after_gap.search(low)
        p = 0 if at_start.match(low) is not None else (-1 if m is None else m.start() + 1)
        while p >= 0:
            if segment.token_starts_at(p):
                tok = token_re.match(low, p)
                node = trie.get(tok.group())
                toks = [tok]
                best = None
                while node is not None:
                    leaf = node.get(None)
                    if leaf:
                        words = tuple(_exact_form(text[t.start():t.end()]) for t in toks)
                        entries = tuple(dict.fromkeys(e for exact, e in leaf if exact is None or exact == words))
                        if entries:
                            best = (p, toks[-1].end(), len(toks), entries)
                    nxt = token_re.search(low, toks[-1].end())
                    node = node.get(nxt.group()) if nxt is not None else None
                    toks.append(nxt)
                if best:
                    found.append(best)
            if m is not None and m.start() < p:
                m = after_gap.search(low, p)
            p = -1 if m is None else m.start() + 1
        return found

    def common_noun(self, hit: SourceHit) -> bool:
        """True when the mention is a lower-case alias of a source with places ("the emergency services")."""
        if not any(entry.canonical in self._common_sources for entry in hit.entries):
            return False  # (most mentions: of a source that has no common-noun alias)
        key = _alias_key(hit.text)
        return any((entry.canonical, key) in self._common_nouns for entry in hit.entries)

    def choose(self, entries: Sequence[SourceEntry], text: str, placed: bool = False) -> SourceEntry | None:
        """The one entry an ambiguous alias means in this article (by its places), or None. `placed`: a common
        noun, which names even a single entry only when the article names one of its places."""
        if len(entries) == 1 and not placed:
            return entries[0]
        scores = []
        for entry in entries:
            if not entry.places:
                scores.append(0)
                continue
            patterns = self._place_res.get(entry.canonical)
            if patterns is None:
                names = "(?:" + "|".join(re.escape(p) for p in entry.places) + ")"
                patterns = re.compile(rf"\b{names}\b"), re.compile(names)
                self._place_res[entry.canonical] = patterns
            scores.append(len(finditer_from(*patterns, text)))
        best = max(scores)
        if best == 0 or scores.count(best) > 1:
            # No place of the article decides: the users' own source, if one alone shares the alias.
            tied = [e for e, score in zip(entries, scores) if score == best and e.canonical in self.preferred]
            return tied[0] if len(tied) == 1 else None
        return entries[scores.index(best)]


def _alias_key(name: str) -> tuple[str, ...]:
    """A name's words as the table compares them (case and spelling folded)."""
    return tuple(_source_key(w) for w in SRC_TOKEN_RE.findall(name))


def _read_source_file(text: str, origin: str) -> list[SourceEntry]:
    """The entries of one sources.toml text; ValueError naming the file on a bad entry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{origin}: not valid TOML: {err}") from err
    rows = data.get("source", [])
    if not isinstance(rows, list):
        raise ValueError(f"{origin}: expected [[source]] tables")
    entries = []
    for i, row in enumerate(rows):
        where = f"{origin}: [[source]] #{i + 1}"
        if not isinstance(row, dict) or not isinstance(row.get("canonical"), str) or not row["canonical"].strip():
            raise ValueError(f"{where}: needs a non-empty 'canonical' string")
        kind = row.get("kind", "official")
        if kind not in SOURCE_KINDS:
            raise ValueError(f"{where}: kind {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
        lists = {}
        for key in ("aliases", "people", "places"):
            value = row.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{where}: '{key}' must be a list of strings")
            lists[key] = tuple(v for v in value if v.strip())
        canonical = row["canonical"].strip()
        entries.append(SourceEntry(canonical, str(row.get("name", canonical)), kind,
                                   lists["aliases"] or (canonical,), lists["people"], lists["places"]))
    return entries


def load_sources(extra_files: Sequence[str] = ()) -> SourceTable:
    """The built-in source table plus the users' files (same format; same canonical name replaces)."""
    return sources_from_texts(read_source_files(extra_files))


def read_source_files(paths: Sequence[str]) -> list[tuple[str, str]]:
    """(path, text) of users' source files; ValueError if one cannot be read."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    texts = []
    for path in paths:
        try:
            texts.append((str(path), Path(path).read_text(encoding="utf-8")))
        except OSError as err:
            raise ValueError(f"{path}: cannot read source file: {err}") from err
    return texts


def sources_from_texts(extra: Sequence[tuple[str, str]]) -> SourceTable:
    """The built-in table plus sources.toml texts given as (origin, text)."""
    builtin = resources.files("tollwatch.transforms").joinpath(BUILTIN_SOURCES).read_text(encoding="utf-8")
    entries = _read_source_file(builtin, BUILTIN_SOURCES)
    users = []
    for origin, text in extra:
        users.extend(_read_source_file(text, origin))
    return SourceTable(entries + users, preferred=(e.canonical for e in users))


_DEFAULT_TABLE: SourceTable | None = None


def default_sources() -> SourceTable:
    """The built-in table, loaded once per process."""
    global _DEFAULT_TABLE
    if _DEFAULT_TABLE is None:
        _DEFAULT_TABLE = load_sources()
    return _DEFAULT_TABLE


# ----------------------------------------------------------------------------------------------
# One body, one name
# ----------------------------------------------------------------------------------------------
_NAME_STOPWORDS = frozenset({"the", "of", "for", "and", "a", "an", "in", "at"})
# Two spellings of one person's name (a transliteration: "Vitali Klitschko", "Vitaliy Klychko"): every
# word begins alike and is this close (difflib's ratio), and the words are this close on average.
SPELLING_WORD_RATIO = 0.7
SPELLING_MEAN_RATIO = 0.8


def name_words(name: str) -> frozenset[str]:
    """The words that say which body a source name means: lower-cased, one spelling, no possessive and no
    "the", "of"... ("Ministry of Health" and "the health ministry" have the same)."""
    words = (_source_key(w) for w in SRC_TOKEN_RE.findall(name))
    return frozenset(w[:-2] if w.endswith("'s") else w for w in words if w not in _NAME_STOPWORDS)


def _is_proper(name: str) -> bool:
    words = [w for w in name.split() if w.lower() not in _NAME_STOPWORDS]
    return bool(words) and all(w[:1].isupper() for w in words)


def _spelt_alike(a: str, b: str) -> bool:
    """True for two spellings of one proper name of two or more words ("Vitali Klitschko", "Vitaliy Klychko")."""
    wa, wb = a.lower().split(), b.lower().split()
    if len(wa) != len(wb) or len(wa) < 2 or not (_is_proper(a) and _is_proper(b)):
        return False
    ratios = []
    for x, y in zip(wa, wb):
        if x[0] != y[0]:
            return False
        ratios.append(SequenceMatcher(None, x, y).ratio())
    return min(ratios) >= SPELLING_WORD_RATIO and sum(ratios) / len(ratios) >= SPELLING_MEAN_RATIO


def one_name_per_body(names: Iterable[str]) -> dict[str, str]:
    """Each of the source names given (those of one article, or of one event's toll) mapped to the one name
    of its body: names with the same words whatever their case and order ("Health Ministry", "health
    ministry", "Ministry of Health"); a short form and the one longer name that holds all its words ("Red
    Crescent", "Libyan Red Crescent"; not "authorities" when two bodies' names hold it), if the short form
    is a proper name or of two words or more; two spellings of a proper name of two words or more
    (a person's, transliterated). The name kept is the
    longest, then the one written with more capitals, then the most frequent, then the first in order."""
    counts: dict[str, int] = {}
    for name in names:
        if name:
            counts[name] = counts.get(name, 0) + 1
    if len(counts) < 2:
        return {name: name for name in counts}
    return dict(_one_name_per_body(tuple(counts.items())))


@lru_cache(maxsize=4096)  # the copies of a story, and the windows of a toll, name the same sources
def _one_name_per_body(counted: tuple[tuple[str, int], ...]) -> tuple[tuple[str, str], ...]:
    counts = dict(counted)
    words = {name: name_words(name) for name in counts}
    parent = {name: name for name in counts}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    def join(a: str, b: str) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    by_words: dict[frozenset, str] = {}
    for name in counts:
        if words[name]:
            join(name, by_words.setdefault(words[name], name))
    distinct = list(by_words)
    for short in distinct:
        named = by_words[short]
        if len(short) < 2 and not _is_proper(named):
            continue
        longer = [w for w in distinct if short < w]
        # the longest names that hold it: one body, or the short form is ambiguous
        widest = [w for w in longer if not any(w < o for o in longer)]
        if len(widest) == 1:
            join(named, by_words[widest[0]])
    proper = [by_words[w] for w in distinct if len(w) >= 2]
    for i, a in enumerate(proper):
        for b in proper[i + 1:]:
            if _spelt_alike(a, b):
                join(a, b)
    members: dict[str, list[str]] = {}
    for name in counts:
        members.setdefault(root(name), []).append(name)
    out = []
    for group in members.values():
        best = max(group, key=lambda n: (len(words[n]), sum(ch.isupper() for ch in n), counts[n], -group.index(n)))
        out.extend((name, best) for name in group)
    return tuple(out)
