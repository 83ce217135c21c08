"""Rewrites: link a story rewritten in other words to the wire story it retells.

A rewrite shares almost no word sequences with its original (seeds 000 and 004: 5-word-shingle
Jaccard 0.000), so shingles cannot find it. What a rewrite keeps is what an outlet may not change:

- the **figures** (a casualty number it repeats: "more than 340"),
- the **credit** of the agency whose reporting it retells, in a credit context — "told Reuters",
  "Reuters could not independently verify", "verified by Reuters", "(Reuters)", "in an interview
  with Reuters", "as reported by the AP" — not a mere mention (a state news agency quoted as a
  source is no credit), and
- its **time**: a rewrite follows the wire within hours.

Two articles are a rewrite pair when they share a credit and the figures of one are all figures of
the other (`MIN_FIGURE_OVERLAP` of the smaller set: a rewrite retells *the* figures and adds none,
while a page whose "related stories" teaser quotes another story's lead shares one figure among
many of its own, and an agency's sidebar feature that repeats one figure and one quote of its news
story states figures of its own: realdev part_c's Reuters feature) and, if both
publication times are known (not a file-time fallback), were published within `max_gap` (24 h) of
each other. Independent reports of the same figures (seeds 001 and 002: the same SOHR numbers in
The National and in AP copy) carry different credits; an agency's follow-up story two days later
repeats the old figure under the same credit but is not close in time. Named people and places
were measured and left out: in one event every report names the same people and places (the seed
rewrite shares fewer names with its original than two independent reports do).

Stories are compared, not pages: the traits of a cluster of copies are the figures and credits
that more than half of its members state (both, for two), so what one copy adds -- its own
introduction, a "related stories" block quoting other stories' leads -- does not count, and a
page that embeds the story and happens to be its canonical (the longest, on a tie of dates) speaks
for the story. A lone article's traits are its own. Only clusters are linked (copies are already
linked to their canonical); the later of a pair (earliest published, ties the longest, is canonical) gets `copy_kind = 'rewrite'`, `copy_of`, and
`copy_similarity` = the share of its figures found in the original here; the batch resolver
(``resolve._rewrites``) replaces it with ``alignment.aligned_share`` of the two texts, what the
similarity of every copy found by its sentences means. Pairs are compared among the clusters that
share a (credit, figure) key (``resolve._rewrites``).
"""

from __future__ import annotations

import collections
import itertools
import re
from typing import Iterable, Optional, Sequence

from apache_beam.utils.timestamp import Duration

from tollwatch.schemas import Article
from tollwatch.schemas.duplicates import DocRef, Link, StoryTraits
from tollwatch.transforms.claims import figure_value
from tollwatch.transforms.duplicates.stories import canonical_key

MAX_GAP = Duration(seconds=24 * 3600)
MIN_FIGURE_OVERLAP = 1.0
MAX_GROUP = 200          # articles sharing one (credit, figure) key that are compared pairwise
DATED = ("metadata", "feed", "text")
CREDIT_KINDS = ("media",)

# A number of two or more digits, "1,234" or "1234", shortly before a casualty word. Written as
# `\b(\d{1,3}(?:,\d{3})+|\d{2,})\b(?=...)` with the first digit taken out in front (the same
# matches, tried in the same order): a pattern that starts with a character class lets the regex
# engine skip to the next digit, where one that starts with `\b` tries every position.
_FIGURE = re.compile(
    r"(\d(?<=\b\d)(?:\d{0,2}(?:,\d{3})+|\d+))\b(?=[^.\n]{0,60}?\b(?:killed|dead|died|deaths?|wounded|"
    r"injured|bodies|casualties|missing|victims|people|civilians)\b)", re.I)
CREDIT_CONTEXTS = (
    r"\btold\s+{X}",
    r"\b{X}\s+(?:could\s+not|couldn't|cannot|was\s+unable\s+to|were\s+unable\s+to|was\s+not\s+able\s+to"
    r"|did\s+not|has\s+not\s+been\s+able\s+to)\s+(?:independently\s+)?(?:verify|confirm)",
    r"\b(?:verified|confirmed)\s+by\s+{X}",
    r"\(\s*{X}\s*\)",
    r"\bas\s+reported\s+by\s+{X}",
    r"\bcontacted\s+by\s+{X}",
    r"\b(?:interview|speaking|spoke|talking)\s+(?:by\s+(?:phone|telephone)\s+)?(?:with|to)\s+{X}",
    r"\b{X}\s+(?:reporter|correspondent|journalist)s?\b",
)
_WHITESPACE_RUN = re.compile(r"\s+")


class CreditFinder:
    """Finds the news organisations an article credits, from the sources table's media entries."""

    def __init__(self, names: dict[str, str]):
        alternatives = "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True))
        x = rf"(?:the\s+)?({alternatives})(?!\w)"
        self._canonical = names
        self._patterns = [re.compile(p.replace("{X}", x)) for p in CREDIT_CONTEXTS] if names else []
        # Every credit context holds a name: the contexts are scanned only in windows around the
        # names found, not over the whole text eight times.
        self._any_name = re.compile(rf"({alternatives})(?!\w)") if names else None
        # A window reaches as many whitespace-separated tokens before and after a name as a context
        # can span: each `\s` of a context matches at most one run of white space (`\s+` or `\s*`,
        # and nothing else in a context matches white space: tests/unit/test_rewrites.py checks), and
        # so do the `the\s+` before a name and each run inside a name.
        name_runs = max((len(_WHITESPACE_RUN.findall(n)) for n in names), default=0)
        before = 1 + max(c.partition("{X}")[0].count(r"\s") for c in CREDIT_CONTEXTS)
        after = name_runs + max(c.partition("{X}")[2].count(r"\s") for c in CREDIT_CONTEXTS)
        # Matched forwards from a name's end, and on the reversed text from its start: the rest of
        # the token, then the given number of tokens.
        self._after = re.compile(rf"\S*(?:\s+\S+){{0,{after}}}")
        self._before = re.compile(rf"\S*(?:\s+\S+){{0,{before}}}")

    @classmethod
    def from_sources(cls, source_files: Sequence[str] = ()) -> "CreditFinder":
        from tollwatch.transforms.claims import load_sources

        table = load_sources(source_files)
        names = {}
        for entry in table.entries.values():
            if entry.kind in CREDIT_KINDS:
                for alias in (entry.name, *entry.aliases):
                    names[alias] = entry.canonical
        return cls(names)

    def credits(self, text: str) -> list[str]:
        """The canonical names of the organisations the text credits, sorted."""
        if self._any_name is None:
            return []
        return sorted({self._canonical[m.group(1)] for start, end in self.windows(text)
                       for p in self._patterns for m in p.finditer(text, start, end)})

    def windows(self, text: str) -> list[tuple[int, int]]:
        """The (start, end) spans of the text that hold every credit context it has: each name
        with the tokens a context may put around it, merged where they touch.

        Scanning the windows finds what scanning the whole text finds: a context's name starts
        inside one of the names found here (the scan for names skips only positions inside a name
        it found), so the context lies in that name's window; and a window starts after white
        space and ends before it, where a regex sees the same word boundaries as in the whole text."""
        spans: list[tuple[int, int]] = []
        reverse = ""
        for name in self._any_name.finditer(text):
            if not reverse:
                reverse = text[::-1]
            start = len(text) - self._before.match(reverse, len(text) - name.start()).end()
            end = self._after.match(text, name.end()).end()
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
        return spans


def figures(text: str) -> list[int]:
    """Casualty-like figures of a text, sorted: numbers of two or more digits shortly before a
    casualty word, up to MAX_FIGURE as for claims."""
    found = {m.group(1).replace(",", "") for m in _FIGURE.finditer(text)}
    return sorted(n for n in map(figure_value, found) if n is not None)


def story_traits(article: Article, finder: CreditFinder) -> StoryTraits:
    """The traits of an article."""
    return StoryTraits(article.doc_id, article.published_at, article.date_source in DATED,
                       len(article.text), article.story_id, figures(article.text),
                       finder.credits(article.text))


def cluster_traits(members: Sequence[tuple[StoryTraits, bool]]) -> Optional[StoryTraits]:
    """The traits of one cluster from its members' (traits, is_canonical): the canonical's, with
    the figures and credits that more than half of the members state. None if the canonical is
    not among them (it came from an earlier run)."""
    canonical = next((t for t, is_canonical in members if is_canonical), None)
    if canonical is None:
        return None
    need = len(members) // 2 + 1

    def agreed(values: Iterable[Sequence]) -> list:
        counts = collections.Counter(v for vs in values for v in set(vs))
        return sorted(v for v, n in counts.items() if n >= need)

    return canonical._replace(figures=agreed(t.figures for t, _ in members),
                              credits=agreed(t.credits for t, _ in members))


def rewrite_similarity(a: StoryTraits, b: StoryTraits, max_gap: Duration = MAX_GAP) -> Optional[float]:
    """The share of the later article's figures found in the earlier one if the two are a rewrite
    pair, else None."""
    shared = set(a.figures) & set(b.figures)
    if a.doc_id == b.doc_id or not shared or not set(a.credits) & set(b.credits):
        return None
    if len(shared) < MIN_FIGURE_OVERLAP * min(len(a.figures), len(b.figures)):
        return None
    if a.dated and b.dated and abs(a.published_at.micros - b.published_at.micros) > max_gap.micros:
        return None
    later = max(a, b, key=canonical_key)
    return round(len(shared) / len(later.figures), 4)


def _ref(t: StoryTraits) -> DocRef:
    return DocRef(t.doc_id, t.published_at, t.length, t.story_id)


def rewrite_links(traits: Sequence[StoryTraits], max_gap: Duration = MAX_GAP) -> list[Link]:
    """The rewrite links among articles that share a (credit, figure) key."""
    links = []
    for a, b in itertools.combinations(traits[:MAX_GROUP], 2):
        similarity = rewrite_similarity(a, b, max_gap)
        if similarity is not None:
            links.append(Link(_ref(a), _ref(b), 0.0, 0.0, similarity))
    return links


def mark_rewrite(article: Article, story_id: str, copy_of: Optional[str],
                 similarity: Optional[float]) -> Article:
    """The article marked as a rewrite of `copy_of` (or left a canonical of `story_id`)."""
    if copy_of is None:
        return article
    return article._replace(copy_kind="rewrite", copy_of=copy_of, story_id=story_id,
                            copy_similarity=similarity, is_canonical=False)
