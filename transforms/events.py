"""AssignEvents: which events an article is about, from an events file (TOML).

```toml
[[event]]
id = "serrano-clashes-2026"
name = "Clashes on the Serrano Coast"
keywords = ["Serrano Coast", "reprisal killings"]   # words or phrases; any one marks an article
places = ["Trastel", "Mirocca"]                     # optional: places that also mark it
start = "2026-05-11"                                # optional: articles published before are not
```

An article's evidence for an event is the number of its distinct keywords and places that the
article mentions (whole words, case-insensitive; a mention in the title counts twice). It belongs to
every event with evidence of at least `MIN_EVIDENCE` and at least `RELATIVE_EVIDENCE` of the best
event's, among events that had started by its publication date (one day of slack for time zones);
when no event reaches `MIN_EVIDENCE`, to the best one with any evidence. So a story about a bus
crash that mentions in passing the province where fighting goes on is not counted in the fighting.
With no events file, every article belongs to one event named after the input, which a batch run
then replaces by the events it infers from places and dates (infer_events.py).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from typing import NamedTuple, Optional, Sequence

import apache_beam as beam

from tollwatch.schemas import Article, DeadLetter
from tollwatch.transforms.guard import article_failure
from tollwatch.transforms.text import ascii_words
from tollwatch.transforms import METRICS_NAMESPACE

START_SLACK = dt.timedelta(days=1)
MIN_EVIDENCE = 2
RELATIVE_EVIDENCE = 0.34
_SLUG = re.compile(r"[^a-z0-9]+")


class Event(NamedTuple):
    id: str
    name: str
    keywords: tuple[str, ...]
    places: tuple[str, ...]
    start: Optional[dt.datetime]


def slug(text: str) -> str:
    """A lower-case id made of letters, digits and dashes."""
    return _SLUG.sub("-", text.lower()).strip("-") or "event"


def default_event(name: str) -> Event:
    """The single event of a run without an events file."""
    return Event(slug(name), name, (), (), None)


def load_events(path: str) -> list[Event]:
    """The events of a TOML file; raises ValueError naming the problem."""
    with open(path, "rb") as handle:
        try:
            data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path}: not valid TOML: {err}") from err
    events = []
    for i, entry in enumerate(data.get("event", [])):
        where = f"{path}: event #{i + 1}"
        if not entry.get("id"):
            raise ValueError(f"{where} has no id")
        keywords = tuple(entry.get("keywords", ()))
        places = tuple(entry.get("places", ()))
        if not keywords and not places:
            raise ValueError(f"{where} ({entry['id']}) needs keywords or places")
        start = entry.get("start")
        if isinstance(start, str):
            start = dt.date.fromisoformat(start)
        if isinstance(start, dt.date) and not isinstance(start, dt.datetime):
            start = dt.datetime(start.year, start.month, start.day, tzinfo=dt.timezone.utc)
        events.append(Event(str(entry["id"]), entry.get("name", entry["id"]), keywords, places, start))
    if not events:
        raise ValueError(f"{path}: no [[event]] entries")
    if len({e.id for e in events}) != len(events):
        raise ValueError(f"{path}: event ids must be unique")
    return events


class EventMatcher:
    """Compiled keyword patterns of a list of events."""

    def __init__(self, events: Sequence[Event]):
        self.events = list(events)
        self._patterns = [
            re.compile(r"(?<!\w)(" + "|".join(re.escape(t) for t in e.keywords + e.places) + r")(?!\w)",
                       re.I) if (e.keywords or e.places) else None
            for e in self.events]
        # Per event, its terms lower-cased with the words each holds, when all are ASCII (where
        # case-insensitive matching is plain lower-casing) and each holds a word; else None.
        self._terms = [
            tuple((t.lower(), frozenset(ascii_words(t.lower()))) for t in e.keywords + e.places)
            if all(t.isascii() and ascii_words(t) for t in e.keywords + e.places) else None
            for e in self.events]
        self._any_words = [frozenset().union(*(w for _, w in terms)) if terms else None
                           for terms in self._terms]
        # Every word of those terms: of a text's words, only these are looked up.
        self._vocabulary = frozenset().union(*(w for w in self._any_words if w is not None))

    def evidence(self, title: Optional[str], text: str, published: dt.datetime) -> dict[str, int]:
        """Each started event's evidence score in an article (distinct terms; title counts twice)."""
        scores = {}
        title = title or ""
        in_text, in_title = _Terms(text, self._vocabulary), _Terms(title, self._vocabulary)
        for event, pattern, terms, any_words in zip(self.events, self._patterns, self._terms,
                                                     self._any_words):
            if event.start is not None and published < event.start - START_SLACK:
                continue
            if pattern is None:
                scores[event.id] = MIN_EVIDENCE
                continue
            found_in_title = in_title.found(pattern, terms, any_words)
            scores[event.id] = (len(in_text.found(pattern, terms, any_words) | found_in_title)
                                + len(found_in_title))
        return scores

    def event_ids(self, title: Optional[str], text: str, published: dt.datetime) -> list[str]:
        """The ids of the events an article is about."""
        scores = self.evidence(title, text, published)
        best = max(scores.values(), default=0)
        if best == 0:
            return []
        if best < MIN_EVIDENCE:
            return [next(e for e, s in scores.items() if s == best)]
        return [e for e, s in scores.items() if s >= MIN_EVIDENCE and s >= RELATIVE_EVIDENCE * best]


class _Terms:
    """The terms of events that one text mentions."""

    def __init__(self, text: str, vocabulary: frozenset):
        self.text = text
        self._lowered = text.lower() if text.isascii() else None
        self._vocabulary = vocabulary
        self._words: Optional[frozenset[bytes]] = None  # the text's words among the vocabulary

    def found(self, pattern: re.Pattern, terms: Optional[tuple[tuple[str, frozenset], ...]],
              any_words: Optional[frozenset]) -> set[str]:
        """`{m.casefold() for m in pattern.findall(text)}` for the pattern of an event's terms
        (and the words of its terms, all together).

        In an ASCII text the pattern is tried only where one of the terms occurs, lower-cased: a
        match starts at such a place, and each word of its term is a whole word of the text (the
        pattern wants no word character around the term), so a term with a word the text lacks
        is not looked for. Tried from left to right, each after the end of the last match, as
        findall does."""
        if terms is None or self._lowered is None:
            return {m.casefold() for m in pattern.findall(self.text)}
        if self._words is None:
            # Only the words of the terms are ever looked up: a set of all the text's words cost
            # 1.6x this intersection (the 10k benchmark's texts).
            self._words = self._vocabulary.intersection(ascii_words(self._lowered))
        if any_words.isdisjoint(self._words):
            return set()
        starts = set()
        for needle, words in terms:
            if words <= self._words:
                at = self._lowered.find(needle)
                while at >= 0:
                    starts.add(at)
                    at = self._lowered.find(needle, at + 1)
        found, end = set(), 0
        for start in sorted(starts):
            if start >= end and (match := pattern.match(self.text, start)):
                found.add(match.group(1).casefold())
                end = match.end()
        return found


class AssignEvents(beam.PTransform):
    """PCollection[Article] -> PCollection[Article] with `event_ids` set."""

    def __init__(self, events: Sequence[Event]):
        super().__init__()
        if not events:
            raise ValueError("AssignEvents needs at least one event")
        self._events = list(events)
        self.dead_letters = None

    def expand(self, articles):
        results = articles | "Assign" >> beam.ParDo(AssignEventsFn(self._events)).with_output_types(
            Article).with_outputs(AssignEventsFn.DEAD_LETTERS, main="articles")
        # The articles it failed on, as DeadLetters (ExtractClaims' convention).
        self.dead_letters = results[AssignEventsFn.DEAD_LETTERS] | "DeadLetters" >> beam.Map(
            lambda d: d).with_output_types(DeadLetter)
        return results.articles


class AssignEventsFn(beam.DoFn):
    """AssignEvents' step over one article (driven alone by the hostile-input harness)."""

    DEAD_LETTERS = "dead_letters"

    def __init__(self, events: Sequence[Event]):
        self._events = events
        self.unassigned = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "articles_without_event")

    def setup(self):
        self._matcher = EventMatcher(self._events)

    def process(self, article: Article):
        try:
            published = article.published_at.to_utc_datetime(has_tz=True)
            ids = self._matcher.event_ids(article.title, article.text, published)
        except Exception as err:  # noqa: BLE001 - one article's failure is its dead letter
            yield beam.pvalue.TaggedOutput(self.DEAD_LETTERS, article_failure(article, "events", err))
            return
        if not ids:
            self.unassigned.inc()
        yield article._replace(event_ids=ids)
