"""Feed polling: RSS/Atom feeds to RawDoc records, each entry once.

A poll (`poll_feed`) makes a conditional GET of the feed (inputs/fetch.py: address checks,
deadline, size cap), parses it with feedparser after a check for hostile entity declarations, and
turns each entry not seen before into a RawDoc:

- an entry that carries the article (content:encoded, Atom content with at least
  MIN_ARTICLE_CHARS of text) becomes a one-entry Atom document (`entry_document`) holding the
  entry's id, title, link, dates, content and the feed's title and language, so that
  ExtractArticles reads it through the same feed-entry path as a feed file: same title, url,
  outlet, language and publication date (date_source 'feed');
- any other entry's link is fetched with the same limits and the page becomes a RawDoc
  (uri = the link, feed_url and entry_id set, content_type from the response). A page that fails
  transiently is fetched again at the next polls (`PollLimits.max_attempts` in all); one that
  cannot be fetched leaves its entry to be read from the feed's summary, when that holds article
  text. A poll's fetching ends at a deadline: the pages not reached wait for the next poll.

Whatever fails becomes a DeadLetter, never an exception: the feed fetch or a page fetch (stage
'fetch', error_type = FetchError.kind), a malformed or hostile document, an entry with an oversized
title or without text (stage 'extract').

An entry is identified by its id, else its link (`entry_key`); it is emitted once: an edited entry
keeps its id and is not emitted again. The seen keys live in a FeedCursor with the feed's ETag and
Last-Modified. The cursor is bounded: a key is forgotten `seen_ttl_seconds` after the feed last
listed it (an entry still in the feed is never forgotten) and beyond `max_seen` keys the ones
listed longest ago go first.

Interface for the two ways of running it:

- Streaming (Dataflow, Flink, Prism): `ReadFeeds(feeds, ...)` polls on a PeriodicImpulse; the cursor
  of each feed lives in keyed state with an event-time expiry timer (the pattern of Beam's
  DeduplicatePerKey), so state stays bounded. Give a stop timestamp to run it bounded.
- `tollwatch follow` (repeated bounded pipelines, cursors carried in files)::

      feeds = merge_feeds(load_feeds(path), urls)           # --feeds FILE and --feed URL
      cursors = load_cursors(text)                          # {url: FeedCursor}, from the last tick
      out = (p | beam.Create([(f, cursors.get(f.url)) for f in feeds])
               | PollFeeds(policy, limits))
      out["raw_docs"] | ExtractArticles() ...; out["dead_letters"]; out["cursors"] -> dump_cursors

  PollFeeds polls only the feeds that are due (`FeedCursor.due`) and passes the others' cursors
  through unchanged, so it can be run on every tick.

Both call the same pure `poll_feed(feed, cursor, now, policy, limits)`.
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import json
import re
import time
import tomllib
from typing import Iterable, Mapping, NamedTuple, Optional, Sequence
from urllib.parse import urljoin, urlsplit
from xml.sax.saxutils import escape, quoteattr

import apache_beam as beam
from apache_beam.coders import Coder
from apache_beam.transforms.periodicsequence import PeriodicImpulse
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.utils.timestamp import MAX_TIMESTAMP, Duration, Timestamp

from tollwatch.schemas import DeadLetter, RawDoc
from tollwatch.schemas.intermediate import DEFAULT_POLL_SECONDS, Feed
from tollwatch.transforms.extract import MIN_ARTICLE_CHARS, check_content, entry_html_to_text
from tollwatch.transforms.inputs.entities import FeedError, check_entities
from tollwatch.transforms.inputs.fetch import FetchError, FetchPolicy, FetchResult, fetch
from tollwatch.transforms import METRICS_NAMESPACE

# Tunables.
DEFAULT_SEEN_TTL_SECONDS = 14 * 24 * 3600.0
DEFAULT_MAX_SEEN = 10_000
DEFAULT_MAX_ENTRIES = 5_000            # entries read per poll (extract.MAX_FEED_ENTRIES for files)
DEFAULT_MAX_PAGES_PER_POLL = 50        # linked pages fetched per poll; the rest wait for the next
DEFAULT_MAX_FETCH_SECONDS = 120.0      # a poll's fetching in total; the pages not reached wait
DEFAULT_MAX_ATTEMPTS = 3               # fetches of a linked page that fails transiently
MAX_RETRY_AFTER_SECONDS = 24 * 3600.0  # a feed's Retry-After is honoured up to this
DEFAULT_MAX_TITLE_CHARS = 2_000
MAX_KEY_CHARS = 2_048                  # longer ids and links are kept as a hash
# Bytes between two '<': a text longer than this is no feed field, and feedparser's sanitizer
# takes some 20 s over 10 MB of escaped HTML.
MAX_TEXT_RUN_BYTES = 1024 * 1024

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
               "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
ENTRY_CONTENT_TYPE = "application/atom+xml"

_MICROS = 1_000_000


class FeedsFileError(ValueError):
    """A --feeds file that cannot be read as a list of feeds."""


def check_feed(feed: Feed) -> Feed:
    """The feed itself; ValueError for a URL that is not http(s) or a poll interval <= 0."""
    parts = urlsplit(feed.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"feed URL must be http(s)://host/...: {feed.url!r}")
    if not feed.poll_seconds > 0:
        raise ValueError(f"poll_seconds must be positive for {feed.url}: {feed.poll_seconds}")
    return feed


def load_feeds(path: str) -> list[Feed]:
    """The feeds of a TOML file of `[[feed]]` tables (url, optional name and poll_seconds)."""
    try:
        with open(path, "rb") as handle:
            doc = tomllib.load(handle)
    except OSError as err:
        raise FeedsFileError(f"{path}: cannot read it: {err}") from err
    except tomllib.TOMLDecodeError as err:
        raise FeedsFileError(f"{path}: not valid TOML: {err}") from err
    unknown = set(doc) - {"feed"}
    if unknown:
        raise FeedsFileError(f"{path}: unknown top-level key(s) {sorted(unknown)}; "
                             "write each feed as a [[feed]] table")
    tables = doc.get("feed", [])
    if not isinstance(tables, list) or not tables:
        raise FeedsFileError(f"{path}: no [[feed]] table")
    feeds, urls = [], set()
    for number, table in enumerate(tables, 1):
        where = f"{path}: feed #{number}"
        extra = set(table) - {"url", "name", "poll_seconds"}
        if extra:
            raise FeedsFileError(f"{where}: unknown key(s) {sorted(extra)} "
                                 "(allowed: url, name, poll_seconds)")
        url, name = table.get("url"), table.get("name")
        poll = table.get("poll_seconds", DEFAULT_POLL_SECONDS)
        if not isinstance(url, str):
            raise FeedsFileError(f"{where}: 'url' is missing or not a string")
        if name is not None and not isinstance(name, str):
            raise FeedsFileError(f"{where}: 'name' must be a string")
        if isinstance(poll, bool) or not isinstance(poll, (int, float)):
            raise FeedsFileError(f"{where}: 'poll_seconds' must be a number")
        try:
            feed = check_feed(Feed(url, name, float(poll)))
        except ValueError as err:
            raise FeedsFileError(f"{where}: {err}") from err
        if url in urls:
            raise FeedsFileError(f"{where}: {url} is listed twice")
        urls.add(url)
        feeds.append(feed)
    return feeds


def merge_feeds(feeds: Sequence[Feed], urls: Sequence[str],
                poll_seconds: float = DEFAULT_POLL_SECONDS) -> list[Feed]:
    """The feeds of a --feeds file followed by repeatable --feed URLs not already in it."""
    merged, known = list(feeds), {feed.url for feed in feeds}
    for url in urls:
        if url not in known:
            merged.append(check_feed(Feed(url, None, poll_seconds)))
            known.add(url)
    return merged


class PollLimits(NamedTuple):
    """The bounds of a poll and of the seen-entry state."""

    seen_ttl_seconds: float = DEFAULT_SEEN_TTL_SECONDS
    max_seen: int = DEFAULT_MAX_SEEN
    max_entries: int = DEFAULT_MAX_ENTRIES
    max_pages_per_poll: int = DEFAULT_MAX_PAGES_PER_POLL
    max_title_chars: int = DEFAULT_MAX_TITLE_CHARS
    max_fetch_seconds: float = DEFAULT_MAX_FETCH_SECONDS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    def validate(self) -> "PollLimits":
        """The limits themselves; ValueError for a bad value."""
        if not self.seen_ttl_seconds > 0:
            raise ValueError(f"seen_ttl_seconds must be positive, got {self.seen_ttl_seconds}")
        if self.max_entries <= 0 or self.max_title_chars <= 0 or self.max_pages_per_poll < 0 \
                or not self.max_fetch_seconds > 0 or self.max_attempts < 1:
            raise ValueError(f"bad poll limits: {self}")
        if self.max_seen < self.max_entries:
            # Otherwise the entries of one poll would push each other out and come back as new.
            raise ValueError(f"max_seen ({self.max_seen}) must be >= max_entries "
                             f"({self.max_entries})")
        return self


@dataclasses.dataclass(frozen=True)
class FeedCursor:
    """What a feed's next poll needs: its validators and the entries already emitted.

    `seen` maps an entry key to (first seen, last listed), in microseconds since the epoch.
    `listed_at` is the time of the last full (200) response: on a 304, the keys listed then are
    still listed. `pending` holds the linked pages still to fetch, key -> (page URL, failed
    attempts): pages left for a later poll or to be retried (their entries are not seen yet; they
    are fetched even if the feed stops listing them); `retry_at` is when the feed's Retry-After lets it be polled
    again; `outcome` says what the last poll did, in a line for a person.
    """

    url: str
    etag: Optional[str] = None
    last_modified: Optional[str] = None
    polled_at: Optional[int] = None
    listed_at: Optional[int] = None
    seen: Mapping[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    pending: Mapping[str, tuple[str, int]] = dataclasses.field(default_factory=dict)
    retry_at: Optional[int] = None
    outcome: Optional[str] = None

    def due(self, feed: Feed, now: Timestamp) -> bool:
        """True if the feed has never been polled or its poll interval (and any Retry-After) has
        passed."""
        if self.retry_at is not None and now.micros < self.retry_at:
            return False
        return self.polled_at is None or \
            now.micros >= self.polled_at + int(feed.poll_seconds * _MICROS)

    def is_seen(self, key: str) -> bool:
        return key in self.seen

    def listed(self, keys: Iterable[str], now: Timestamp) -> "FeedCursor":
        """The cursor after a full response listing `keys` at `now`."""
        seen = dict(self.seen)
        for key in keys:
            first = seen[key][0] if key in seen else now.micros
            seen[key] = (first, now.micros)
        return dataclasses.replace(self, seen=seen, listed_at=now.micros, polled_at=now.micros)

    def not_modified(self, now: Timestamp) -> "FeedCursor":
        """The cursor after a 304: what was listed at the last full response still is."""
        seen = {key: (first, now.micros if last == self.listed_at else last)
                for key, (first, last) in self.seen.items()}
        return dataclasses.replace(self, seen=seen, polled_at=now.micros,
                                   listed_at=now.micros if self.listed_at is not None else None)

    def expire(self, now: Timestamp, limits: PollLimits) -> "FeedCursor":
        """The cursor without the keys not listed for `seen_ttl_seconds`, and without the keys
        listed longest ago beyond `max_seen`."""
        horizon = now.micros - int(limits.seen_ttl_seconds * _MICROS)
        kept = [(last, first, key) for key, (first, last) in self.seen.items() if last > horizon]
        if len(kept) > limits.max_seen:
            kept = sorted(kept)[len(kept) - limits.max_seen:]
        if len(kept) == len(self.seen):
            return self
        return dataclasses.replace(self, seen={key: (first, last) for last, first, key in kept})

    def next_expiry(self, limits: PollLimits) -> Optional[Timestamp]:
        """When the next key expires, if nothing lists it again; None when nothing is seen."""
        if not self.seen:
            return None
        oldest = min(last for _, last in self.seen.values())
        return Timestamp(micros=oldest + int(limits.seen_ttl_seconds * _MICROS))

    def to_json(self) -> dict:
        """A JSON-able dict; times as RFC 3339 strings."""
        def iso(micros):
            return None if micros is None else Timestamp(micros=micros).to_rfc3339()
        return {
            "url": self.url, "etag": self.etag, "last_modified": self.last_modified,
            "polled_at": iso(self.polled_at), "listed_at": iso(self.listed_at),
            "seen": {key: [iso(first), iso(last)] for key, (first, last) in self.seen.items()},
            "pending": {key: [url, tries] for key, (url, tries) in self.pending.items()},
            "retry_at": iso(self.retry_at),
            "outcome": self.outcome,
        }

    @classmethod
    def from_json(cls, doc: Mapping) -> "FeedCursor":
        """The cursor that to_json gave; ValueError for anything else."""
        def micros(text):
            return None if text is None else Timestamp.from_rfc3339(text).micros
        try:
            return cls(url=doc["url"], etag=doc.get("etag"), last_modified=doc.get("last_modified"),
                       polled_at=micros(doc.get("polled_at")),
                       listed_at=micros(doc.get("listed_at")),
                       seen={str(k): (micros(v[0]), micros(v[1]))
                             for k, v in (doc.get("seen") or {}).items()},
                       pending={str(k): (str(v[0]), int(v[1]))
                                for k, v in (doc.get("pending") or {}).items()},
                       retry_at=micros(doc.get("retry_at")), outcome=doc.get("outcome"))
        except (KeyError, TypeError, IndexError, ValueError, AttributeError) as err:
            raise ValueError(f"not a feed cursor: {err!r}") from err


def dump_cursors(cursors: Iterable[FeedCursor]) -> str:
    """The cursors as one JSON document (for `follow`'s state file)."""
    return json.dumps({"version": 1, "cursors": [c.to_json() for c in
                                                  sorted(cursors, key=lambda c: c.url)]},
                      indent=1, ensure_ascii=False)


def load_cursors(text: str) -> dict[str, FeedCursor]:
    """{feed url: cursor} from dump_cursors' output; ValueError for anything else."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"feed cursors are not JSON: {err}") from err
    if not isinstance(doc, dict) or doc.get("version") != 1:
        raise ValueError("feed cursors: unknown format (expected version 1)")
    cursors = [FeedCursor.from_json(item) for item in doc.get("cursors", [])]
    return {cursor.url: cursor for cursor in cursors}


class FeedCursorCoder(Coder):
    """FeedCursor as its JSON, for Beam state and PCollections."""

    def encode(self, value: FeedCursor) -> bytes:
        return json.dumps(value.to_json(), ensure_ascii=False).encode("utf-8")

    def decode(self, encoded: bytes) -> FeedCursor:
        return FeedCursor.from_json(json.loads(encoded.decode("utf-8")))

    def is_deterministic(self) -> bool:
        return False

    def to_type_hint(self):
        return FeedCursor


beam.coders.registry.register_coder(FeedCursor, FeedCursorCoder)


# ---- parsing, with hostile documents turned away ----

def parse_feed(content: bytes, url: str, content_type: Optional[str] = None):
    """feedparser's result for a fetched feed; FeedError for an empty, binary, hostile (entity
    declarations, a text of megabytes) or unreadable document. A well-formed feed without entries
    is not an error."""
    import feedparser
    from feedparser.encodings import convert_to_utf8
    from feedparser.exceptions import NonXMLContentType

    try:
        check_content(content)
    except Exception as err:
        raise FeedError(getattr(err, "kind", "malformed_feed"), str(err)) from err
    longest = max(len(run) for run in content.split(b"<"))
    if longest > MAX_TEXT_RUN_BYTES:
        raise FeedError("oversized_field", f"a text of {longest} bytes without markup "
                        f"(> {MAX_TEXT_RUN_BYTES}): no feed field is that long")
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    if not _declares_encoding(content, content_type) and not _is_utf8(content):
        # XML without a declaration is UTF-8; bytes that are not were written in a legacy encoding
        # nobody named, which feedparser would read as iso-8859-1 or cp1252 (mojibake).
        detected = detect_encoding(content)
        if detected is None:
            raise FeedError("unknown_encoding", "the feed declares no encoding, is not UTF-8, "
                            "and no encoding could be detected")
        media_type = (content_type or "application/xml").split(";")[0].strip()
        headers["content-type"] = f"{media_type}; charset={detected}"
    check_entities(convert_to_utf8(dict(headers), content, {}))
    try:
        parsed = feedparser.parse(content, response_headers=headers)
    except Exception as err:  # feedparser is lenient, but has crashed on odd encodings before
        raise FeedError("malformed_feed", f"feedparser failed: {type(err).__name__}: {err}") from err
    if content_type is None and isinstance(parsed.get("bozo_exception"), NonXMLContentType):
        # feedparser flags a response without Content-Type: a fault of the server (or of no
        # server at all, for a file), not of the document.
        parsed["bozo"] = False
        del parsed["bozo_exception"]
    usable = any(entry_html(e) or e.get("link") for e in parsed.entries)
    if (not parsed.entries and not parsed.get("version")) or (parsed.get("bozo") and not usable):
        # Nothing, or only fragments the lenient parser salvaged: no entry to read or follow.
        reason = parsed.get("bozo_exception")
        raise FeedError("malformed_feed", f"not a readable feed: {type(reason).__name__}: {reason}")
    return parsed


_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*?\sencoding\s*=\s*["'][A-Za-z][\w.:-]*["']""")
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE,
         codecs.BOM_UTF16_BE)


def _declares_encoding(content: bytes, content_type: Optional[str]) -> bool:
    """Whether a byte order mark, the XML declaration or the HTTP charset names the encoding."""
    if content.startswith(_BOMS) or "charset=" in (content_type or "").lower():
        return True
    return bool(_XML_ENCODING.match(content[:1024].lstrip()))


def _is_utf8(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(content: bytes) -> Optional[str]:
    """The encoding charset-normalizer finds for bytes that declare none (or a wrong one): the
    legacy 8-bit and CJK encodings of older feeds (KOI8-R, Shift JIS, Big5, windows-1255...)."""
    from charset_normalizer import from_bytes

    best = from_bytes(content).best()
    return best.encoding if best is not None else None


# ---- entries ----

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _hashed(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def entry_key(entry) -> str:
    """What identifies an entry across polls: its id, else its link, else a hash of its title
    and text."""
    key = entry.get("id") or entry.get("link")
    if not key:
        body = "".join(part.get("value", "") for part in entry.get("content") or ())
        return _hashed(f"{entry.get('title', '')}\n{body or entry.get('summary', '')}")
    return key if len(key) <= MAX_KEY_CHARS else _hashed(key)


def entry_html(entry) -> Optional[str]:
    """The article the entry carries itself (content:encoded, Atom content), when its text has at
    least MIN_ARTICLE_CHARS characters; else None (a summary is a teaser: the page is fetched)."""
    best = ""
    for part in entry.get("content") or ():
        if len(part.get("value", "")) > len(best):
            best = part["value"]
    if best and len(entry_html_to_text(best)) >= MIN_ARTICLE_CHARS:
        return best
    return None


def _xml_text(value: str) -> str:
    return escape(_XML_INVALID.sub("", value))


def _xml_attr(value: str) -> str:
    return quoteattr(_XML_INVALID.sub("", value))


def _iso(stamp) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", tuple(stamp))


def entry_document(feed_meta, entry, key: str, html: str) -> bytes:
    """A one-entry Atom document for an entry that carries its article: ExtractArticles reads it
    as it reads a feed file, keeping the entry's title, link and dates and the feed's title,
    link and language."""
    parts = ['<?xml version="1.0" encoding="utf-8"?>']
    language = feed_meta.get("language")
    lang = f" xml:lang={_xml_attr(language)}" if language else ""
    parts.append(f'<feed xmlns="http://www.w3.org/2005/Atom"{lang}>')
    if feed_meta.get("title"):
        parts.append(f"<title>{_xml_text(feed_meta['title'])}</title>")
    if feed_meta.get("link"):
        parts.append(f"<link href={_xml_attr(feed_meta['link'])}/>")
    # isPermaLink="false": feedparser would otherwise take the id for a link when there is none.
    parts.append(f'<entry><id isPermaLink="false">{_xml_text(key)}</id>')
    title = entry.get("title")
    if title:
        kind = "html" if entry.get("title_detail", {}).get("type") == "text/html" else "text"
        parts.append(f'<title type="{kind}">{_xml_text(title)}</title>')
    if entry.get("link"):
        parts.append(f'<link rel="alternate" href={_xml_attr(entry["link"])}/>')
    if entry.get("published_parsed"):
        parts.append(f"<published>{_iso(entry['published_parsed'])}</published>")
    elif entry.get("updated_parsed"):
        parts.append(f"<updated>{_iso(entry['updated_parsed'])}</updated>")
    parts.append(f'<content type="html">{_xml_text(html)}</content></entry></feed>')
    return "\n".join(parts).encode("utf-8")


# ---- one poll ----

def _malformed_note(parsed) -> str:
    if not parsed.get("bozo"):
        return ""
    reason = parsed.get("bozo_exception")
    return f" (the feed is malformed: {type(reason).__name__}: {reason})"


def _letter(uri: str, stage: str, kind: str, message: str, now: Timestamp,
            size: Optional[int] = None) -> DeadLetter:
    return DeadLetter(uri=uri, stage=stage, error_type=kind, message=message[:2000],
                      size_bytes=size, ingested_at=now)


# Fetch failures that are tollwatch refusing the feed's address, not the feed failing.
_REFUSED_KINDS = ("refused_address", "bad_scheme", "bad_url")


def _failed_outcome(err: FetchError) -> str:
    return f"{'refused' if err.kind in _REFUSED_KINDS else 'down'}: {err}"


def poll_feed(feed: Feed, cursor: Optional[FeedCursor], now: Timestamp,
              policy: FetchPolicy = FetchPolicy(), limits: PollLimits = PollLimits(),
              deadline: Optional[float] = None,
              ) -> tuple[list[RawDoc], list[DeadLetter], FeedCursor]:
    """One poll of `feed`: the RawDocs of the entries not seen before, the DeadLetters, and the
    cursor for the next poll. Never raises for anything the network or the feed does.

    Its fetching ends by `deadline` (time.time() seconds; a tick's) and within
    `limits.max_fetch_seconds`: a feed not reached is polled next time, as are the linked pages not
    reached (`read_response`)."""
    cursor = (cursor or FeedCursor(feed.url)).expire(now, limits)
    deadline = min(time.time() + limits.max_fetch_seconds,
                   deadline if deadline is not None else float("inf"))
    remaining = deadline - time.time()
    if remaining <= 0:
        return [], [], dataclasses.replace(
            cursor, outcome="not polled: the tick's fetching time was spent (next tick)")
    try:
        response = fetch(feed.url, policy._replace(timeout=min(policy.timeout, remaining)),
                         etag=cursor.etag, last_modified=cursor.last_modified, accept=FEED_ACCEPT)
    except FetchError as err:
        retry_at = None
        if err.retry_after is not None:
            retry_at = now.micros + int(min(err.retry_after, MAX_RETRY_AFTER_SECONDS) * _MICROS)
        polled = dataclasses.replace(cursor, polled_at=now.micros, retry_at=retry_at,
                                     outcome=_failed_outcome(err))
        return [], [_letter(feed.url, "fetch", err.kind, str(err), now)], polled
    return read_response(feed, cursor, response, now, policy, limits, deadline)


def _summary_doc(feed: Feed, feed_meta, entry, key: str, now: Timestamp) -> Optional[RawDoc]:
    """The entry as an article from its summary, when the summary holds article text."""
    summary_html = entry.get("summary") or ""
    if len(entry_html_to_text(summary_html)) < MIN_ARTICLE_CHARS:
        return None
    return RawDoc(uri=feed.url, feed_url=feed.url, entry_id=key, fetched_at=now,
                  content=entry_document(feed_meta, entry, key, summary_html),
                  content_type=ENTRY_CONTENT_TYPE, modified_at=None)


def read_response(feed: Feed, cursor: FeedCursor, response: FetchResult, now: Timestamp,
                  policy: FetchPolicy = FetchPolicy(), limits: PollLimits = PollLimits(),
                  deadline: Optional[float] = None,
                  ) -> tuple[list[RawDoc], list[DeadLetter], FeedCursor]:
    """The second half of a poll: the new entries of a fetched feed, the DeadLetters and the next
    cursor.

    Linked pages are fetched until `limits.max_pages_per_poll` pages or the `deadline` (time.time()
    seconds); the entries not reached are left unseen, for the next poll. A page that fails
    transiently (5xx, 429, timeout, connection) is left unseen too, up to `limits.max_attempts`
    fetches; a page that cannot be fetched is a DeadLetter, and its entry is kept from the feed's
    summary when the summary holds article text. Entries past `limits.max_entries` are one
    DeadLetter that counts them."""
    deadline = deadline if deadline is not None else time.time() + limits.max_fetch_seconds
    if response.not_modified:
        return [], [], dataclasses.replace(cursor.not_modified(now), retry_at=None,
                                           outcome="not modified")
    try:
        parsed = parse_feed(response.content, response.url, response.content_type)
    except FeedError as err:
        # The validators are kept: the same broken document is answered with a 304 and not
        # dead-lettered at every poll; a fixed one comes with new validators.
        failed = dataclasses.replace(cursor, polled_at=now.micros, etag=response.etag,
                                     last_modified=response.last_modified, retry_at=None,
                                     outcome=f"unreadable: {err}")
        return [], [_letter(feed.url, "extract", err.kind, str(err), now,
                            len(response.content))], failed

    raw_docs, dead_letters, listed, in_this_poll, listed_now = [], [], [], set(), set()
    pending: dict[str, tuple[str, int]] = {}
    left = {"pages": limits.max_pages_per_poll, "deferred": 0, "retry": 0}

    def page_done(key: str, page_url: str, entry) -> bool:
        """Fetches the linked page of an entry (None: an entry the feed no longer lists): True
        when the entry is done with (read, kept from its summary or dead-lettered), False when
        it stays pending."""
        attempts = cursor.pending.get(key, (page_url, 0))[1]
        remaining = deadline - time.time()
        if left["pages"] <= 0 or remaining <= 0:
            left["deferred"] += 1
            pending[key] = (page_url, attempts)
            return False
        left["pages"] -= 1
        timeout = min(policy.timeout, remaining)
        try:
            page = fetch(page_url, policy._replace(timeout=timeout), accept=PAGE_ACCEPT)
        except FetchError as err:
            if err.kind == "timeout" and timeout < policy.timeout:
                left["deferred"] += 1  # cut by the poll's deadline, not by the page: no attempt
                pending[key] = (page_url, attempts)
                return False
            attempts += 1
            if err.transient and attempts < limits.max_attempts:
                left["retry"] += 1
                pending[key] = (page_url, attempts)
                return False
            kept = _summary_doc(feed, parsed.feed, entry, key, now) if entry is not None else None
            tried = f" ({attempts} attempts)" if err.transient else ""
            note = ("; the entry is kept from its feed summary" if kept else
                    "; its feed summary holds no article text to keep" if entry is not None else
                    "; the feed no longer lists the entry")
            dead_letters.append(_letter(page_url, "fetch", err.kind, f"{err}{tried}{note}", now))
            if kept:
                raw_docs.append(kept)
            return True
        raw_docs.append(RawDoc(uri=page_url, feed_url=feed.url, entry_id=key, fetched_at=now,
                               content=page.content, content_type=page.content_type,
                               modified_at=None))
        return True

    entries = parsed.entries[:limits.max_entries]
    for entry in entries:
        key = entry_key(entry)
        listed_now.add(key)
        if cursor.is_seen(key) or key in in_this_poll:
            listed.append(key)
            continue
        in_this_poll.add(key)
        uri = f"{feed.url}#{key}"
        html = entry_html(entry)
        title = entry.get("title") or ""
        link = entry.get("link")
        if len(title) > limits.max_title_chars:
            dead_letters.append(_letter(uri, "extract", "oversized_title",
                                        f"entry title of {len(title)} characters "
                                        f"(> {limits.max_title_chars})", now))
        elif html is not None:
            raw_docs.append(RawDoc(uri=feed.url, feed_url=feed.url, entry_id=key, fetched_at=now,
                                   content=entry_document(parsed.feed, entry, key, html),
                                   content_type=ENTRY_CONTENT_TYPE, modified_at=None))
        elif link:
            if not page_done(key, urljoin(response.url, link), entry):
                in_this_poll.discard(key)  # neither listed nor seen: pending
                continue
        else:
            kept = _summary_doc(feed, parsed.feed, entry, key, now)
            if kept:
                raw_docs.append(kept)
            else:
                dead_letters.append(_letter(uri, "extract", "no_article_text",
                                            "entry without a link and without article text"
                                            + _malformed_note(parsed), now))
        listed.append(key)
    # Pages left pending by earlier polls whose entries the feed has rotated out meanwhile.
    for key, (page_url, _) in cursor.pending.items():
        if key not in listed_now and not cursor.is_seen(key) and page_done(key, page_url, None):
            listed.append(key)
    if len(pending) > limits.max_entries:
        dropped = list(pending)[limits.max_entries:]
        for key in dropped:
            del pending[key]
        dead_letters.append(_letter(f"{feed.url}#pending-{limits.max_entries}-", "fetch",
                                    "too_many_pending",
                                    f"{len(dropped)} linked pages left for later polls were "
                                    f"dropped (over {limits.max_entries})", now))
    cut = len(parsed.entries) - len(entries)
    if cut > 0:
        dead_letters.append(_letter(f"{feed.url}#entries-{limits.max_entries}-", "extract",
                                    "too_many_entries",
                                    f"{cut} entries past the first {limits.max_entries} of the "
                                    "feed were not read", now))

    new_cursor = dataclasses.replace(cursor.listed(listed, now).expire(now, limits),
                                     pending=pending, retry_at=None)
    if pending:  # a 304 next time would hide the entries left for later
        new_cursor = dataclasses.replace(new_cursor, etag=None, last_modified=None)
    else:
        new_cursor = dataclasses.replace(new_cursor, etag=response.etag,
                                         last_modified=response.last_modified)
    listed_entries = len(parsed.entries)
    outcome = (f"fetched {listed_entries} entr{'y' if listed_entries == 1 else 'ies'}: "
               f"{len(raw_docs)} new, "
               f"{len(dead_letters)} dead letter(s)")
    if left["deferred"]:
        outcome += f", {left['deferred']} page(s) left for the next poll"
    if left["retry"]:
        outcome += f", {left['retry']} page(s) to retry"
    return raw_docs, dead_letters, dataclasses.replace(new_cursor, outcome=outcome)


# ---- Beam ----

RAW_DOCS, DEAD_LETTERS, CURSORS = "raw_docs", "dead_letters", "cursors"


class _Counters:
    def __init__(self):
        self.polls = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "feed_polls")
        self.entries = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "feed_entries_new")
        self.dead_letters = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "feed_dead_letters")

    def outputs(self, raw_docs: list[RawDoc], dead_letters: list[DeadLetter]):
        """The poll's records as a DoFn's outputs, counted."""
        self.polls.inc()
        self.entries.inc(len(raw_docs))
        self.dead_letters.inc(len(dead_letters))
        yield from raw_docs
        for letter in dead_letters:
            yield beam.pvalue.TaggedOutput(DEAD_LETTERS, letter)


class PollFeedFn(beam.DoFn):
    """Polls the feed of a (url, Feed) element when it is due; the cursor lives in keyed state and
    an event-time timer drops the seen keys as they expire, clearing the state of a feed that is
    no longer polled (as in Beam's DeduplicatePerKey)."""

    CURSOR = ReadModifyWriteStateSpec("cursor", FeedCursorCoder())
    EXPIRY = TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, policy: FetchPolicy, limits: PollLimits):
        self._policy = policy
        self._limits = limits

    def setup(self):
        self._counters = _Counters()

    def process(self, element: tuple[str, Feed], timestamp=beam.DoFn.TimestampParam,
                cursor_state=beam.DoFn.StateParam(CURSOR),
                expiry=beam.DoFn.TimerParam(EXPIRY)):
        url, feed = element
        now = Timestamp.of(timestamp)
        cursor = cursor_state.read() or FeedCursor(url)
        if not cursor.due(feed, now):
            return
        raw_docs, dead_letters, new_cursor = poll_feed(feed, cursor, now, self._policy,
                                                       self._limits)
        cursor_state.write(new_cursor)
        expiry.set(self._next_timer(new_cursor))
        yield from self._counters.outputs(raw_docs, dead_letters)

    @on_timer(EXPIRY)
    def expire(self, fired=beam.DoFn.TimestampParam, cursor_state=beam.DoFn.StateParam(CURSOR),
               expiry=beam.DoFn.TimerParam(EXPIRY)):
        if Timestamp.of(fired) > Timestamp.now():
            # The watermark ran ahead of the clock, which ticks never do: the runner fires timers
            # early (the FnApiRunner does after every bundle; any runner at the end of a bounded
            # run). Clearing now would forget entries that the next tick still lists.
            return
        cursor = cursor_state.read()
        if cursor is None:
            return
        cursor = cursor.expire(Timestamp.of(fired), self._limits)
        idle = cursor.polled_at is None or \
            Timestamp.of(fired).micros - cursor.polled_at >= \
            int(self._limits.seen_ttl_seconds * _MICROS)
        if not cursor.seen and idle:
            cursor_state.clear()  # a feed not polled for the TTL: nothing of it stays
            return
        cursor_state.write(cursor)
        expiry.set(max(self._next_timer(cursor), Timestamp.of(fired) + Duration(micros=1000)))

    def _next_timer(self, cursor: FeedCursor) -> Timestamp:
        # Keys are listed only by polls, so the next key expiry is never after polled_at + TTL;
        # with no key left, the timer comes back then to clear the state of an idle feed.
        at = cursor.next_expiry(self._limits)
        if at is None:
            at = Timestamp(micros=cursor.polled_at + int(self._limits.seen_ttl_seconds * _MICROS))
        # Timers keep milliseconds: rounded down, the timer would fire just before the expiry it
        # is for, find nothing expired and set itself again, for ever.
        return Timestamp(micros=-(-at.micros // 1000) * 1000)


class ReadFeeds(beam.PTransform):
    """PBegin -> {'raw_docs': PCollection[RawDoc], 'dead_letters': PCollection[DeadLetter]}.

    Polls `feeds` on a PeriodicImpulse every `tick_seconds` (default: the shortest poll interval);
    each feed is fetched when its own `poll_seconds` has passed. Unbounded unless
    `stop_timestamp` is given. For --streaming on Dataflow, Flink or Prism.
    """

    def __init__(self, feeds: Sequence[Feed], policy: FetchPolicy = FetchPolicy(),
                 limits: PollLimits = PollLimits(), start_timestamp: Optional[Timestamp] = None,
                 stop_timestamp: Timestamp = MAX_TIMESTAMP,
                 tick_seconds: Optional[float] = None):
        super().__init__()
        if not feeds:
            raise ValueError("ReadFeeds needs at least one feed")
        self._feeds = [check_feed(feed) for feed in feeds]
        if len({feed.url for feed in self._feeds}) != len(self._feeds):
            raise ValueError("ReadFeeds: a feed URL is listed twice")
        self._policy = policy.validate()
        self._limits = limits.validate()
        self._tick = tick_seconds or min(feed.poll_seconds for feed in self._feeds)
        if not self._tick > 0:
            raise ValueError(f"tick_seconds must be positive, got {tick_seconds}")
        self._start = start_timestamp
        self._stop = stop_timestamp

    def expand(self, pbegin):
        feeds = self._feeds
        start = self._start if self._start is not None else Timestamp.now()
        polled = (
            pbegin
            | "Tick" >> PeriodicImpulse(start_timestamp=start, stop_timestamp=self._stop,
                                        fire_interval=self._tick)
            | "EachFeed" >> beam.FlatMap(lambda _: [(feed.url, feed) for feed in feeds])
            .with_output_types(tuple[str, Feed])
            | "Poll" >> beam.ParDo(PollFeedFn(self._policy, self._limits))
            .with_input_types(tuple[str, Feed])
            .with_output_types(RawDoc, dead_letters=DeadLetter)
            .with_outputs(DEAD_LETTERS, main=RAW_DOCS)
        )
        return {RAW_DOCS: polled[RAW_DOCS], DEAD_LETTERS: polled[DEAD_LETTERS]}


class _PollOnceFn(beam.DoFn):
    def __init__(self, policy: FetchPolicy, limits: PollLimits, now: Optional[Timestamp],
                 deadline: Optional[float]):
        self._policy = policy
        self._limits = limits
        self._now = now
        self._deadline = deadline

    def setup(self):
        self._counters = _Counters()

    def process(self, element: tuple[Feed, Optional[FeedCursor]]):
        feed, cursor = element
        cursor = cursor or FeedCursor(feed.url)
        now = self._now or Timestamp.now()
        if not cursor.due(feed, now):
            yield beam.pvalue.TaggedOutput(CURSORS, cursor)
            return
        raw_docs, dead_letters, new_cursor = poll_feed(feed, cursor, now, self._policy,
                                                       self._limits, self._deadline)
        yield from self._counters.outputs(raw_docs, dead_letters)
        yield beam.pvalue.TaggedOutput(CURSORS, new_cursor)


class PollFeeds(beam.PTransform):
    """PCollection[(Feed, FeedCursor or None)] -> {'raw_docs', 'dead_letters', 'cursors'}: one
    bounded poll of the feeds that are due; the others' cursors come out unchanged. For
    `tollwatch follow`, which carries the cursors from one run to the next. `now` fixes the poll
    time (default: the clock, per feed); `deadline` (time.time() seconds) ends the fetching of
    every feed, the tick's bound (what is not fetched by then waits for the next tick)."""

    def __init__(self, policy: FetchPolicy = FetchPolicy(), limits: PollLimits = PollLimits(),
                 now: Optional[Timestamp] = None, deadline: Optional[float] = None):
        super().__init__()
        self._policy = policy.validate()
        self._limits = limits.validate()
        self._now = now
        self._deadline = deadline

    def expand(self, feeds_and_cursors):
        polled = (
            feeds_and_cursors
            # One feed per worker: a poll may fetch dozens of pages.
            | "Spread" >> beam.Reshuffle()
            | "Poll" >> beam.ParDo(_PollOnceFn(self._policy, self._limits, self._now,
                                               self._deadline))
            .with_output_types(RawDoc, dead_letters=DeadLetter, cursors=FeedCursor)
            .with_outputs(DEAD_LETTERS, CURSORS, main=RAW_DOCS)
        )
        return {RAW_DOCS: polled[RAW_DOCS], DEAD_LETTERS: polled[DEAD_LETTERS],
                CURSORS: polled[CURSORS]}
