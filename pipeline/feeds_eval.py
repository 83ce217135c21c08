"""Feed ingestion measured on a labelled feed corpus (the shared `corpora/feeds/`).

Three measures, each over every file it applies to:

- labels (`feeds_labels.tsv`, feedparser's own test expectations, e.g. ``not bozo and
  entries[0]['link'] == '...'``): the document is parsed as a poll parses it (`parse_feed`, with the
  HTTP headers the label gives and the address feedparser's test server used); the expectation is
  evaluated on the result. A document that ingestion dead-letters (`FeedError`) matches when the
  expectation starts with ``bozo`` (a faulty document) and misses otherwise;
- expected entries (`*.expected.json`, from two other parsers' test suites): entry count, and per
  entry in order the title (HTML entities and tags removed, white space folded), the link (scheme
  and host compared without case; a relative expected link matches our resolved one when ours
  ends with it) and the date (to the second, UTC; entries without an expected date are not
  counted). Title misses where the expected title holds U+FFFD (the other parser mis-decoded the
  feed) are counted apart;
- outcomes: each file read by a poll (`read_response`, no page fetched) and by the batch path for
  feed files (`extract_articles`): RawDocs, articles, dead letters by error_type, and exceptions
  (there must be none).
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
import re
from collections import Counter
from pathlib import Path
from typing import NamedTuple, Optional
from urllib.parse import urljoin, urlsplit, urlunsplit

from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas import Article, DeadLetter, RawDoc
from tollwatch.transforms.extract import extract_articles
from tollwatch.transforms.inputs.feeds import (
    Feed, FeedCursor, FeedError, PollLimits, parse_feed, read_response,
)
from tollwatch.transforms.inputs.fetch import FetchResult

# The address feedparser's test suite serves its files from; its labels name it.
FEEDPARSER_TEST_ROOT = "http://127.0.0.1:8097/"
OTHER_ROOT = "http://corpus.invalid/"
NOW = Timestamp(1_800_000_000)
_TAG = re.compile(r"<[^>]+>")
_WS = re.compile(r"\s+")


class LabelResult(NamedTuple):
    file: str
    expect: str
    matched: bool             # by ingestion's parse
    feedparser_matched: bool  # by plain feedparser.parse with the same headers: the baseline
    detail: str


class EntryComparison(NamedTuple):
    file: str
    n_expected: int
    n_found: int
    titles: int           # entries (of the first min(n_expected, n_found)) with the same title
    links: int
    dates: int
    dated: int            # expected entries with a date
    garbled: int          # title misses where the expected title holds U+FFFD (a mis-decoding)
    misses: list[str]


class Outcome(NamedTuple):
    file: str
    entries: int
    raw_docs: int         # entries carried as articles by a poll
    pages: int            # entries whose linked page a poll would fetch
    poll_dead_letters: Counter
    articles: int         # articles from the poll's RawDocs
    batch_articles: int
    batch_dead_letters: Counter
    error: Optional[str]  # an exception: a bug


def _headers(text: str) -> dict[str, str]:
    headers = {}
    for part in filter(None, (text or "").split("|")):
        name, _, value = part.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


def read_labels(corpus: Path) -> list[dict]:
    """The rows of feeds_labels.tsv that carry a feedparser expectation."""
    with open(corpus / "feeds_labels.tsv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [row for row in rows if row["file"].startswith("feedparser__")]


def _meets(expect: str, parsed) -> bool:
    try:
        return bool(eval(expect, {"__builtins__": {"ord": ord, "len": len}}, parsed))
    except Exception:  # an expectation about a field the parse did not produce
        return False


def label_result(corpus: Path, row: dict) -> LabelResult:
    """Whether ingestion's parse of one labelled file meets feedparser's expectation, and whether
    plain feedparser does."""
    import feedparser

    headers = _headers(row.get("http_headers", ""))
    source_path = row["source"].split(":", 1)[1]
    url = urljoin(FEEDPARSER_TEST_ROOT + source_path, headers.get("content-location", ""))
    expect = row["expect"]
    content = (corpus / row["file"]).read_bytes()
    # A label with HTTP headers was served by feedparser's test server, which sends .xml files as
    # application/xml unless the label says otherwise; the others were parsed from a file.
    content_type = headers.get("content-type", "application/xml") if headers else None
    baseline = _meets(expect, feedparser.parse(content, response_headers={
        "content-location": url, "content-type": content_type}) if headers else
        feedparser.parse(content))
    try:
        parsed = parse_feed(content, url, content_type)
    except FeedError as err:
        # A dead letter is the right outcome for a faulty document ('bozo'), and is no crash ('1').
        matched = expect.startswith("bozo") or expect.strip() == "1"
        return LabelResult(row["file"], expect, matched, baseline, f"dead letter {err.kind}")
    matched = _meets(expect, parsed)
    return LabelResult(row["file"], expect, matched, baseline,
                       "" if matched else "expectation not met")


def _norm_title(value: Optional[str]) -> str:
    return _WS.sub(" ", _TAG.sub("", html.unescape(html.unescape(value or "")))).strip()


def _expected_entries(path: Path) -> list[dict]:
    raw = path.read_bytes()
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        doc = json.loads(raw.decode("latin-1"))
    if "feed" in doc:  # rss-parser
        return [{"title": item.get("title"), "link": item.get("link"),
                 "date": item.get("isoDate")} for item in doc["feed"].get("items", [])]
    entries = []  # feed-rs
    for entry in doc.get("entries", []):
        links = [link["href"] for link in entry.get("links", []) if link.get("rel") in
                 (None, "alternate")] or [link["href"] for link in entry.get("links", [])]
        entries.append({"title": (entry.get("title") or {}).get("content"),
                        "link": links[0] if links else None,
                        "date": entry.get("published") or entry.get("updated")})
    return entries


def _canonical_url(url: str) -> str:
    parts = urlsplit(url)  # scheme and host are case-insensitive
    return urlunsplit(parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()))


def _same_link(expected: Optional[str], found: Optional[str]) -> bool:
    if not expected:
        return True  # nothing expected: whatever we resolved is not a miss
    if found and _canonical_url(expected) == _canonical_url(found):
        return True
    # Another parser leaves a relative link as it is; ours resolves it.
    return bool(found) and "://" not in expected and found.endswith(expected)


def _same_date(expected: str, entry) -> bool:
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if not stamp:
        return False
    want = dt.datetime.fromisoformat(expected.replace("Z", "+00:00")).astimezone(dt.timezone.utc)
    return dt.datetime(*stamp[:6], tzinfo=dt.timezone.utc) == want.replace(microsecond=0)


def _feed_file(expected_json: Path) -> Path:
    stem = expected_json.name[:-len(".expected.json")]
    return next(p for p in expected_json.parent.glob(stem + ".*")
                if not p.name.endswith(".expected.json"))


def compare_entries(expected_json: Path) -> EntryComparison:
    """How the entries ingestion reads from one file compare with another parser's."""
    feed_file = _feed_file(expected_json)
    expected = _expected_entries(expected_json)
    try:
        found = list(parse_feed(feed_file.read_bytes(), OTHER_ROOT + feed_file.name).entries)
    except FeedError as err:
        return EntryComparison(feed_file.name, len(expected), 0, 0, 0, 0,
                               sum(1 for e in expected if e["date"]), 0,
                               [f"dead letter {err.kind}"])
    titles = links = dates = dated = garbled = 0
    misses = []
    for index, (want, got) in enumerate(zip(expected, found)):
        if _norm_title(want["title"]) == _norm_title(got.get("title")):
            titles += 1
        else:
            garbled += "\ufffd" in (want["title"] or "") and "\ufffd" not in got.get("title", "")
            misses.append(f"#{index} title {want['title']!r} != {got.get('title')!r}")
        if _same_link(want["link"], got.get("link")):
            links += 1
        else:
            misses.append(f"#{index} link {want['link']!r} != {got.get('link')!r}")
        if want["date"]:
            dated += 1
            if _same_date(want["date"], got):
                dates += 1
            else:
                misses.append(f"#{index} date {want['date']!r} != "
                              f"{got.get('published') or got.get('updated')!r}")
    if len(expected) != len(found):
        misses.append(f"{len(found)} entries, {len(expected)} expected")
    return EntryComparison(feed_file.name, len(expected), len(found), titles, links, dates,
                           dated, garbled, misses)


def outcome(path: Path) -> Outcome:
    """What a poll (no page fetched) and the batch path make of one feed file."""
    url = OTHER_ROOT + path.name
    content = path.read_bytes()
    try:
        try:
            entries = len(parse_feed(content, url).entries)
        except FeedError:
            entries = 0
        response = FetchResult(200, url, content, None, None, None, False)
        raw_docs, dead_letters, _ = read_response(Feed(url), FeedCursor(url), response, NOW,
                                                  limits=PollLimits(max_pages_per_poll=0))
        articles = [a for d in raw_docs for a in extract_articles(d) if isinstance(a, Article)]
        batch = extract_articles(RawDoc(url, None, None, NOW, content, None, None))
        return Outcome(path.name, entries, len(raw_docs), entries - len(raw_docs) - len(dead_letters)
                       if entries else 0,
                       Counter(d.error_type for d in dead_letters), len(articles),
                       sum(isinstance(a, Article) for a in batch),
                       Counter(d.error_type for d in batch if isinstance(d, DeadLetter)), None)
    except Exception as err:  # reported, never raised: the report must cover every file
        return Outcome(path.name, 0, 0, 0, Counter(), 0, 0, Counter(), f"{type(err).__name__}: {err}")


class CorpusReport(NamedTuple):
    labels: list[LabelResult]
    entries: list[EntryComparison]
    outcomes: list[Outcome]

    def summary(self) -> dict:
        """The figures, for a test's floor and the printed report."""
        compared = self.entries
        return {
            "labels": len(self.labels),
            "labels_matched": sum(r.matched for r in self.labels),
            "labels_matched_by_plain_feedparser": sum(r.feedparser_matched for r in self.labels),
            "expected_files": len(compared),
            "expected_files_same_count": sum(c.n_expected == c.n_found for c in compared),
            "expected_entries": sum(c.n_expected for c in compared),
            "entries_compared": sum(min(c.n_expected, c.n_found) for c in compared),
            "titles_matched": sum(c.titles for c in compared),
            "title_misses_garbled_expected": sum(c.garbled for c in compared),
            "links_matched": sum(c.links for c in compared),
            "dated_entries": sum(c.dated for c in compared),
            "dates_matched": sum(c.dates for c in compared),
            "files": len(self.outcomes),
            "errors": sum(o.error is not None for o in self.outcomes),
            "poll_raw_docs": sum(o.raw_docs for o in self.outcomes),
            "poll_pages": sum(o.pages for o in self.outcomes),
            "poll_articles": sum(o.articles for o in self.outcomes),
            "poll_dead_letters": sum((o.poll_dead_letters for o in self.outcomes), Counter()),
            "batch_articles": sum(o.batch_articles for o in self.outcomes),
            "batch_dead_letters": sum((o.batch_dead_letters for o in self.outcomes), Counter()),
        }


def corpus_report(corpus: Path) -> CorpusReport:
    """Every measure over every file of the corpus folder."""
    files = sorted(p for p in corpus.iterdir()
                   if p.suffix in (".xml", ".rss", ".atom") and not p.name.endswith(".json"))
    return CorpusReport(
        labels=[label_result(corpus, row) for row in read_labels(corpus)],
        entries=[compare_entries(p) for p in sorted(corpus.glob("*.expected.json"))],
        outcomes=[outcome(p) for p in files],
    )
