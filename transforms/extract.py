"""ExtractArticle: raw bytes (an HTML page, a text file, a feed file) to Article records.

HTML goes through trafilatura, feeds through feedparser (each entry becomes an article), text files
are read as UTF-8 with an optional ` date YYYY-MM-DD` marker and `url:` line at the top. Whatever
cannot become an article becomes a DeadLetter with the reason; nothing raises out of this stage.

Publication date, first that applies: the page's or entry's metadata (`metadata`, `feed`), a dateline
at the top of the text (`text`), the file's modification time (`file_mtime`), the ingestion time
(`ingested`). A date merely mentioned in the prose ("in an interview on Feb. 3") is not a dateline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from html import unescape as html_unescape
from typing import Iterable, Iterator, NamedTuple, Optional, Union
from urllib.parse import urlparse

import apache_beam as beam
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas import Article, DeadLetter, RawDoc
from tollwatch.transforms.inputs.entities import FeedError, check_entities
from tollwatch.transforms.language import article_language
from tollwatch.transforms.text import joined_words
from tollwatch.transforms.tuning import freeze_heap, unfreeze_heap
from tollwatch.transforms import METRICS_NAMESPACE

# Tunables.
MIN_ARTICLE_CHARS = 200          # shorter extracted text is a menu or a teaser, not an article
BINARY_SNIFF_BYTES = 8192
DATELINE_SEARCH_LINES = 4
MAX_FEED_ENTRIES = 5000
# A publication date later than this after the document was read is not believed (time zones and
# clock skew stay well inside it): a future date would open toll windows no watermark reaches and
# take over `toll_now`, the toll as known now.
MAX_FUTURE_SECONDS = 24 * 3600
# Nor a date before this: no news tollwatch reads is older, and a year-1 date sent the toll's
# as-of windows before the calendar's first day.
EARLIEST_PUBLISHED = Timestamp.from_utc_datetime(dt.datetime(1800, 1, 1, tzinfo=dt.timezone.utc))
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

HTML_EXTENSIONS = (".html", ".htm", ".xhtml")
TEXT_EXTENSIONS = (".txt", ".text")
FEED_EXTENSIONS = (".xml", ".rss", ".atom")

HTMLDATE_PARAMS = {
    # Only dates the page states in its markup count as metadata: htmldate's extensive search
    # would also take any date mentioned in the prose.
    "extensive_search": False,
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}

_MARKER = re.compile(r"\A\ufeff?[ \t]*date[ \t]+(\d{4}-\d{2}-\d{2}|unknown)\b[ \t]*(\r?\n)?", re.I)
_URL_LINE = re.compile(r"\A[ \t]*url:[ \t]*(\S+)[ \t]*(?:\r?\n|\Z)", re.I)
_MONTHS = ("january february march april may june july august september october november "
           "december").split()
_MONTH_RE = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE_PATTERNS = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[T ](?P<H>\d{1,2}):(?P<M>\d{2}))?"),
    re.compile(rf"(?P<d>\d{{1,2}})\s+(?P<mon>{_MONTH_RE})\s+(?P<y>\d{{4}})", re.I),
    re.compile(rf"(?P<mon>{_MONTH_RE})\s+(?P<d>\d{{1,2}}),?\s+(?P<y>\d{{4}})", re.I),
)
_DATELINE_CUE = re.compile(r"^\W*(published|posted|updated|date|last updated)\b", re.I)
_WS = re.compile(r"\s+")


class Extracted(NamedTuple):
    """What a parser found in one document, before identity and dates are settled."""

    text: str
    title: Optional[str]
    url: Optional[str]
    outlet: Optional[str]
    published: Optional[dt.datetime]
    date_source: Optional[str]
    language: Optional[str]
    entry_id: Optional[str] = None


class ExtractError(Exception):
    """A document that cannot become an article; `kind` becomes the DeadLetter's error_type."""

    def __init__(self, kind: str, message: str, entry_id: Optional[str] = None):
        super().__init__(message)
        self.kind = kind
        self.entry_id = entry_id


def doc_id_for(uri: str, entry_id: Optional[str] = None) -> str:
    """A stable id for a document: the same uri (and feed entry) always gives the same id."""
    key = uri if entry_id is None else f"{uri}#{entry_id}"
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest()


def normalized_text_hash(text: str) -> str:
    """A hash of the text with case, punctuation and white space folded: equal for exact copies."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return hashlib.blake2b(joined_words(folded), digest_size=12).hexdigest()


def detect_format(uri: str, content: bytes, content_type: Optional[str] = None) -> str:
    """'html', 'text' or 'feed': from the content type when it names HTML or a feed (a fetched
    document: https://example.org/news.xml may well serve HTML), else the extension, else the
    bytes."""
    ct = (content_type or "").lower()
    if "html" in ct:
        return "html"
    if any(t in ct for t in ("rss", "atom", "xml")):
        return "feed"
    path = urlparse(uri).path.lower() if "://" in uri else uri.lower()
    if path.endswith(HTML_EXTENSIONS):
        return "html"
    if path.endswith(TEXT_EXTENSIONS):
        return "text"
    if path.endswith(FEED_EXTENSIONS):
        return "feed"
    head = content[:2048].lstrip().lower()
    if head.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf")) or b"<rss" in head or b"<feed" in head:
        return "feed"
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head:
        return "html"
    return "text"


_WIDE_ENCODINGS = ("utf-32", "utf-16", "utf-32-le", "utf-32-be", "utf-16-le", "utf-16-be")


def _is_wide_text(head: bytes) -> bool:
    """True if bytes with NULs are text in a UTF-16/32 encoding (with or without a BOM)."""
    for encoding in _WIDE_ENCODINGS:
        width = 4 if "32" in encoding else 2
        sample = head[: len(head) // width * width]
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Letters, digits, spaces and ASCII punctuation: binary data decodes to combining marks,
        # symbols and unassigned code points instead.
        plain = sum(c.isalnum() or c.isspace() or (c.isascii() and c.isprintable()) for c in text)
        if text and plain / len(text) > 0.9:
            return True
    return False


def check_content(content: bytes) -> None:
    """Raise ExtractError for an empty or binary document."""
    if not content.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise ExtractError("empty", "the document is empty")
    head = content[:BINARY_SNIFF_BYTES]
    if b"\x00" in head and not _is_wide_text(head):
        raise ExtractError("binary", "the document holds NUL bytes: binary, not text")


def _to_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def parse_date(text: str) -> Optional[dt.datetime]:
    """The first date in `text` (ISO, '8 March 2025' or 'March 8, 2025') as UTC, else None."""
    for pattern in _DATE_PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        groups = m.groupdict()
        month = int(groups["m"]) if groups.get("m") else _MONTHS.index(
            next(name for name in _MONTHS if name.startswith(groups["mon"][:3].lower()))) + 1
        try:
            return dt.datetime(int(groups["y"]), month, int(groups["d"]), int(groups.get("H") or 0),
                               int(groups.get("M") or 0), tzinfo=dt.timezone.utc)
        except ValueError:
            continue
    return None


def dateline_date(text: str) -> Optional[dt.datetime]:
    """A publication date stated at the top of the text, on a line of its own or after a cue
    such as 'Published:'; a date inside a sentence of prose does not count."""
    for line in text.lstrip().splitlines()[:DATELINE_SEARCH_LINES]:
        line = line.strip()
        if not line:
            continue
        if len(line) <= 60 or _DATELINE_CUE.match(line):
            found = parse_date(line if len(line) <= 60 else line[:80])
            if found is not None:
                return found
    return None


def decode_text(content: bytes) -> str:
    """Text file bytes as str: UTF-8 (with or without BOM) or UTF-16 with a BOM."""
    try:
        if content.startswith((b"\xff\xfe", b"\xfe\xff")):
            return content.decode("utf-16")
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ExtractError(
            "undecodable", f"not valid UTF-8 at byte {err.start}: {content[err.start:err.start + 8]!r}")


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(map(str.rstrip, text.split("\n"))).strip()


def _require_text(text: str, what: str) -> str:
    if len(text) < MIN_ARTICLE_CHARS:
        raise ExtractError("no_article_text",
                           f"{what}: {len(text)} characters of article text (< {MIN_ARTICLE_CHARS})")
    return text


def _marker_date(value: str) -> dt.datetime:
    """The marker's YYYY-MM-DD as a UTC datetime; ValueError for a day the calendar lacks."""
    if value.isascii():  # strptime's answer for ASCII digits, at a tenth of its cost
        return dt.datetime(int(value[:4]), int(value[5:7]), int(value[8:10]), tzinfo=dt.timezone.utc)
    return dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)


def extract_text_file(content: bytes) -> Extracted:
    """A plain text article: optional ` date YYYY-MM-DD|unknown` marker, optional `url:` line."""
    raw = decode_text(content)
    published, date_source, url = None, None, None
    marker = _MARKER.match(raw)
    if marker:
        if marker.group(1).lower() != "unknown":
            try:
                published = _marker_date(marker.group(1))
                date_source = "metadata"
            except ValueError:
                pass
        raw = raw[marker.end():]
        url_line = _URL_LINE.match(raw)
        if url_line:
            url = url_line.group(1)
            raw = raw[url_line.end():]
    text = _require_text(_clean_text(raw), "text file")
    if published is None and not marker:
        published = dateline_date(text)
        date_source = "text" if published else None
    return Extracted(text, headline(text), url, _host(url), published, date_source, None)


def headline(text: str) -> Optional[str]:
    """The headline of a plain text article: an early short line of several words that is not a
    sentence of the body (no final full stop), else None."""
    # Among the first 11 lines, and never the text's last line. One line at a time: splitting the
    # whole text copied all of it.
    start = 0
    for _ in range(11):
        end = text.find("\n", start)
        if end < 0:
            break
        line = text[start:end].strip()
        if len(line) > 200:
            break
        if 4 <= len(line.split()) <= 30 and not line.endswith((".", '"', "”")):
            return line
        start = end + 1
    return None


def _host(url: Optional[str]) -> Optional[str]:
    if not url:
        return None
    host = urlparse(url).hostname
    return host[4:] if host and host.startswith("www.") else host


def _parse_iso(value: Optional[str]) -> Optional[dt.datetime]:
    if not value:
        return None
    try:
        return _to_utc(dt.datetime.fromisoformat(value))
    except ValueError:
        return parse_date(value)


def extract_html(content: Union[bytes, str], url: Optional[str] = None) -> Extracted:
    """The main text and metadata of an HTML page, via trafilatura."""
    from trafilatura import bare_extraction  # heavy import, deferred to the workers that need it

    doc = bare_extraction(content, url=url, with_metadata=True, include_comments=False,
                          include_tables=False, date_extraction_params=HTMLDATE_PARAMS)
    if doc is None or not doc.text:
        raise ExtractError("no_article_text", "trafilatura found no article text in the page")
    text = _require_text(strip_headline(_clean_text(doc.text), doc.title), "HTML page")
    published = _parse_iso(doc.date)
    date_source = "metadata" if published else None
    if published is None:
        published = dateline_date(text)
        date_source = "text" if published else None
    page_url = doc.url or url
    return Extracted(text, page_title(doc.title, content), page_url,
                     clean_outlet(doc.sitename, page_url), published, date_source, doc.language)


# Site names that are a platform's word, not an outlet's name (AP's hosted pages say "Hosted").
GENERIC_SITE_NAMES = frozenset({"hosted", "home", "homepage", "news", "index", "article",
                                "untitled", "website", "site"})
_HANDLE = re.compile(r"^@?\w*_\w*$")  # "Wday_": a Twitter handle, names have no underscore
_META_TITLE = re.compile(
    rb"""<meta\s[^>]*?(?:property|name)\s*=\s*["'](?:og|twitter):title["'][^>]*?"""
    rb"""content\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)


def clean_outlet(name: Optional[str], url: Optional[str]) -> Optional[str]:
    """The outlet's name from a page's site name, or its host when the name is an address
    ("https://www.hawaiinewsnow.com"), a social-media handle ("Wday_") or a platform's word
    ("Hosted")."""
    name = " ".join((name or "").split())
    if name.lower().startswith(("http://", "https://", "www.")):
        return _host(name if "://" in name else f"https://{name}") or _host(url)
    if not name or name.lower() in GENERIC_SITE_NAMES or _HANDLE.match(name):
        return _host(url) or (name.strip("@_") or None)
    return name


def page_title(title: Optional[str], content: Union[bytes, str]) -> Optional[str]:
    """The page's title, or its og:/twitter: title when the title is one lower-case word (a CMS's
    name such as "escenic", not a headline)."""
    if title and not re.fullmatch(r"[a-z0-9_-]+", title.strip()):
        return title
    raw = content.encode("utf-8", "replace") if isinstance(content, str) else content
    for match in _META_TITLE.finditer(raw[:200_000]):
        meta = (match.group(1) or match.group(2) or b"").decode("utf-8", "replace")
        meta = html_unescape(" ".join(meta.split()))
        if meta:
            return meta
    return title


def strip_headline(text: str, title: Optional[str]) -> str:
    """The text without a first line that repeats the title: some page templates put the headline
    inside the article body and others do not, and the same story must read the same."""
    first, _, rest = text.partition("\n")
    head = " ".join(first.split()).casefold()  # white space folded, as _WS.sub(" ", first).strip()
    if title and rest and 3 <= len(head) <= 300 and head in _WS.sub(" ", title).casefold():
        return rest.lstrip("\n")
    return text


def entry_html_to_text(html: str) -> str:
    """The text of a feed entry's HTML: its paragraphs, headings, list items and quotes, a block
    each (scripts and styles dropped); plain text as it is, a fragment lxml cannot parse without
    its tags."""
    from lxml import html as lxml_html

    if "<" not in html:
        return _clean_text(html)
    try:
        root = lxml_html.fromstring(html)
    except Exception:  # lxml raises several types on broken fragments
        return _clean_text(re.sub(r"<[^>]+>", " ", html))
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    blocks = []
    for el in root.iter("p", "h1", "h2", "h3", "h4", "li", "blockquote"):
        part = " ".join(el.text_content().split())  # as _WS.sub(" ", ...).strip(), faster
        if part:
            blocks.append(part)
    if not blocks:
        return " ".join(root.text_content().split())
    return "\n\n".join(blocks)


def extract_feed(content: bytes, feed_url: Optional[str] = None) -> Iterator[Union[Extracted, ExtractError]]:
    """Each feed entry as Extracted (or ExtractError for an entry without usable text)."""
    import feedparser
    from feedparser.encodings import convert_to_utf8

    # Relative links resolve against the feed's own address, when it has one on the web.
    base = feed_url if feed_url and feed_url.startswith(("http://", "https://")) else ""
    headers = {"content-location": base} if base else {}
    try:
        # The rule for polled feeds holds for feed files too: feedparser's XML parser expands a
        # flat entity up to 100 times the document's size (a 10 MB file made a 500 MB title).
        check_entities(convert_to_utf8(dict(headers), content, {}))
    except FeedError as err:
        raise ExtractError(err.kind, str(err)) from err
    parsed = feedparser.parse(content, response_headers=headers or None)
    reason = parsed.get("bozo_exception")
    malformed = ExtractError("malformed_feed",
                             f"not a readable feed: {type(reason).__name__}: {reason}")
    if not parsed.entries:
        if parsed.get("version") and not parsed.get("bozo"):
            raise ExtractError("empty_feed", "the feed holds no entries")
        raise malformed
    results = list(_feed_entries(parsed))
    if parsed.get("bozo") and not any(isinstance(r, Extracted) for r in results):
        raise malformed  # the lenient parser salvaged fragments, but no article
    yield from results


def _feed_entries(parsed) -> Iterator[Union[Extracted, ExtractError]]:
    outlet = parsed.feed.get("title") or _host(parsed.feed.get("link"))
    language = parsed.feed.get("language")
    seen: set = set()  # entry ids, and (entry id, text hash) pairs
    for index, entry in enumerate(parsed.entries[:MAX_FEED_ENTRIES]):
        entry_id = str(entry.get("id") or entry.get("link") or f"entry-{index}")
        html = ""
        for content_part in entry.get("content") or ():
            if len(content_part.get("value", "")) > len(html):
                html = content_part["value"]
        if len(html) < len(entry.get("summary", "")):
            html = entry["summary"]
        text = entry_html_to_text(html)
        # The entry id makes the doc_id: two entries under one id would be two articles under one
        # doc_id, and the views would keep only one. Another text gets an id of its own (stable:
        # the same text, the same id); the same text again is a duplicate.
        text_hash = normalized_text_hash(text)[:12]
        if (entry_id, text_hash) in seen:
            yield ExtractError("duplicate_entry", f"feed entry {index} repeats an earlier entry",
                               entry_id=f"{entry_id}#{text_hash}")
            continue
        seen.add((entry_id, text_hash))
        if entry_id in seen:
            entry_id = f"{entry_id}#{text_hash}"
        seen.add(entry_id)
        if len(text) < MIN_ARTICLE_CHARS:
            yield ExtractError("no_article_text",
                               f"feed entry: {len(text)} characters of text (< {MIN_ARTICLE_CHARS}); "
                               "the linked page is fetched only in live mode", entry_id=str(entry_id))
            continue
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = dt.datetime(*stamp[:6], tzinfo=dt.timezone.utc) if stamp else None
        date_source = "feed" if published else None
        if published is None:
            published = dateline_date(text)
            date_source = "text" if published else None
        yield Extracted(text, entry.get("title"), entry.get("link"), outlet, published, date_source,
                        language, entry_id=str(entry_id))
    if len(parsed.entries) > MAX_FEED_ENTRIES:
        extra = len(parsed.entries) - MAX_FEED_ENTRIES
        yield ExtractError("too_many_entries", f"{extra} entries past the first {MAX_FEED_ENTRIES} "
                           "of the feed were not read", entry_id=f"entries-{MAX_FEED_ENTRIES}-")


def _timestamp(value: dt.datetime) -> Timestamp:
    # _whole_second(Timestamp.from_utc_datetime(_to_utc(value))) without Beam's pytz epoch.
    since = _to_utc(value) - _EPOCH
    return Timestamp(micros=(since.days * 86400 + since.seconds) * 1_000_000)


def _whole_second(ts: Timestamp) -> Timestamp:
    # Publication times are stated to the second at best; Beam's timers and windows work in
    # milliseconds, so microseconds would only make equal times differ.
    return Timestamp(micros=ts.micros - ts.micros % 1_000_000)


def to_article(raw: RawDoc, found: Extracted, ingested_at: Timestamp) -> Article:
    """An Article from what a parser found, with the date fallbacks applied."""
    entry_id = found.entry_id or raw.entry_id
    published, date_source = found.published, found.date_source
    latest = ingested_at + MAX_FUTURE_SECONDS
    stamp = _timestamp(published) if published is not None else None
    if stamp is not None and not EARLIEST_PUBLISHED <= stamp <= latest:
        stamp = None  # "published in 9999" (or in year 1): no date, the fallbacks below apply
    if stamp is not None:
        published_at = stamp
    elif raw.modified_at is not None and Timestamp(0) <= raw.modified_at <= latest:
        # Whoever drops a file sets its mtime: one in the future or before 1970 says nothing.
        published_at, date_source = _whole_second(raw.modified_at), "file_mtime"
    else:
        published_at, date_source = _whole_second(ingested_at), "ingested"
    uri = raw.uri if found.entry_id is None else f"{raw.uri}#{found.entry_id}"
    return Article(
        doc_id=doc_id_for(raw.uri, entry_id),
        uri=uri,
        url=found.url,
        outlet=found.outlet,
        title=found.title,
        published_at=published_at,
        date_source=date_source,
        ingested_at=ingested_at,
        text=found.text,
        language=article_language(found.language, found.text),
        event_ids=[],
        n_repeats_removed=0,
        story_id=None,
        copy_of=None,
        copy_kind=None,
        copy_similarity=None,
        is_canonical=True,
    )


def dead_letter(uri: str, stage: str, error: BaseException, size: Optional[int],
                at: Timestamp) -> DeadLetter:
    """A DeadLetter for an error raised while handling `uri`."""
    kind = error.kind if isinstance(error, ExtractError) else type(error).__name__
    return DeadLetter(uri=uri, stage=stage, error_type=kind, message=str(error)[:2000],
                      size_bytes=size, ingested_at=at)


def extract_articles(raw: RawDoc, ingested_at: Optional[Timestamp] = None) -> Iterable[Union[Article, DeadLetter]]:
    """Articles (or DeadLetters) from one raw document; never raises."""
    at = ingested_at or raw.fetched_at
    size = len(raw.content)
    try:
        check_content(raw.content)
        fmt = detect_format(raw.uri, raw.content, raw.content_type)
        if fmt == "feed":
            results = []
            for found in extract_feed(raw.content, raw.feed_url or raw.uri):
                if isinstance(found, ExtractError):
                    results.append(dead_letter(f"{raw.uri}#{found.entry_id}", "extract", found, None, at))
                else:
                    results.append(to_article(raw, found, at))
            return results
        # A fetched page's address is its url when the page does not state one.
        page_url = raw.uri if raw.uri.startswith(("http://", "https://")) else None
        found = extract_html(raw.content, page_url) if fmt == "html" else \
            extract_text_file(raw.content)
        return [to_article(raw, found, at)]
    except Exception as error:  # any parser failure is a dead letter, never a crashed run
        return [dead_letter(raw.uri, "extract", error, size, at)]


class ExtractArticles(beam.PTransform):
    """PCollection[RawDoc] -> {'articles': PCollection[Article], 'dead_letters': PCollection[DeadLetter]}.

    Articles come out at their publication time: event time everywhere downstream is `published_at`.
    """

    DEAD_LETTERS = "dead_letters"

    def expand(self, raw_docs):
        results = raw_docs | "Extract" >> beam.ParDo(ExtractArticlesFn()).with_output_types(
            Article, dead_letters=DeadLetter).with_outputs(self.DEAD_LETTERS, main="articles")
        return {"articles": results.articles, "dead_letters": results[self.DEAD_LETTERS]}


class ExtractArticlesFn(beam.DoFn):
    """ExtractArticles' step over one RawDoc (driven alone by the hostile-input harness)."""

    def __init__(self):
        self.articles = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "articles_extracted")
        self.failures = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "extract_dead_letters")

    def setup(self):
        import feedparser  # noqa: F401  (loaded here, before the freeze)
        import trafilatura  # noqa: F401

        freeze_heap()

    def teardown(self):
        unfreeze_heap()

    def process(self, raw: RawDoc):
        for result in extract_articles(raw):
            if isinstance(result, DeadLetter):
                self.failures.inc()
                yield beam.pvalue.TaggedOutput(ExtractArticles.DEAD_LETTERS, result)
            else:
                self.articles.inc()
                yield beam.window.TimestampedValue(result, result.published_at)
