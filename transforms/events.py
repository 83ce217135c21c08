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
With no events file, every article belongs to one event named after the input.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from typing import NamedTuple, Optional, Sequence

import apache_beam as beam

from tollwatch.schemas import Article

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
        # Lower-cased ASCII terms per event, for a substring test that skips the regex of an event
        # none of whose terms occurs (most events, in most articles); None when a term is not ASCII,
        # where case-insensitive matching is not plain lower-casing.
        self._needles = [
            tuple(t.lower() for t in e.keywords + e.places)
            if all(t.isascii() for t in e.keywords + e.places) else None
            for e in self.events]

    def _absent(self, needles: Optional[tuple[str, ...]], lowered: Optional[str]) -> bool:
        """True when no term can match: none occurs in the (ASCII, lower-cased) text."""
        return needles is not None and lowered is not None and not any(n in lowered for n in needles)

    def evidence(self, title: Optional[str], text: str, published: dt.datetime) -> dict[str, int]:
        """Each started event's evidence score in an article (distinct terms; title counts twice)."""
        scores = {}
        title = title or ""
        lowered_text = text.lower() if text.isascii() else None
        lowered_title = title.lower() if title.isascii() else None
        for event, pattern, needles in zip(self.events, self._patterns, self._needles):
            if event.start is not None and published < event.start - START_SLACK:
                continue
            if pattern is None:
                scores[event.id] = MIN_EVIDENCE
                continue
            in_text = set() if self._absent(needles, lowered_text) else {
                m.casefold() for m in pattern.findall(text)}
            in_title = set() if self._absent(needles, lowered_title) else {
                m.casefold() for m in pattern.findall(title)}
            scores[event.id] = len(in_text | in_title) + len(in_title)
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


class AssignEvents(beam.PTransform):
    """PCollection[Article] -> PCollection[Article] with `event_ids` set."""

    def __init__(self, events: Sequence[Event]):
        super().__init__()
        if not events:
            raise ValueError("AssignEvents needs at least one event")
        self._events = list(events)

    def expand(self, articles):
        return articles | "Assign" >> beam.ParDo(_AssignFn(self._events)).with_output_types(Article)


class _AssignFn(beam.DoFn):
    def __init__(self, events: Sequence[Event]):
        self._events = events
        self.unassigned = beam.metrics.Metrics.counter("tollwatch", "articles_without_event")

    def setup(self):
        self._matcher = EventMatcher(self._events)

    def process(self, article: Article):
        published = article.published_at.to_utc_datetime(has_tz=True)
        ids = self._matcher.event_ids(article.title, article.text, published)
        if not ids:
            self.unassigned.inc()
        yield article._replace(event_ids=ids)
