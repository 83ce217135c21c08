"""Feed polling: the feeds file, the cursor, one poll against a real loopback server (scripted to
change between polls), the hand-written feed cases of tests/data/feeds and their agreement with the
batch path for feed files."""

from __future__ import annotations

import json

import pytest
from apache_beam.utils.timestamp import Timestamp

from feed_server import TEXT, FeedServer, Reply, article_page, full_item, rss, teaser_item
from support import CORPORA, TESTS, needs_shared
from tollwatch.schemas import Article, DeadLetter, RawDoc
from tollwatch.transforms.extract import extract_articles
from tollwatch.transforms.inputs.feeds import (
    ENTRY_CONTENT_TYPE, Feed, FeedCursor, FeedError, FeedsFileError, PollLimits, check_entities,
    dump_cursors, load_cursors, load_feeds, merge_feeds, parse_feed, poll_feed,
)
from tollwatch.transforms.inputs.fetch import FetchPolicy

CASES = TESTS / "data" / "feeds"
EXPECTED = json.loads((CASES / "expected.json").read_text(encoding="utf-8"))
LOCAL = FetchPolicy(timeout=3.0, allow_private_hosts=True)
# After every entry of the cases: a poll never sees an entry published after it (extract does not
# believe a date more than a day after the read).
T0 = Timestamp(1_742_000_000)

PAGE = Reply(body=article_page("Linked page"), content_type="text/html; charset=utf-8")


@pytest.fixture(scope="module")
def server():
    with FeedServer() as running:
        running.fallback = PAGE
        yield running


def articles_of(raw_docs: list[RawDoc]) -> list[Article]:
    found = [result for doc in raw_docs for result in extract_articles(doc)]
    assert all(isinstance(a, Article) for a in found), found
    return found


# ---- the feeds file ----

def write(tmp_path, text: str) -> str:
    path = tmp_path / "feeds.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_load_feeds_and_merge(tmp_path):
    path = write(tmp_path, """
[[feed]]
url = "https://brenn-post.example/rss"
name = "Brenn Evening Post"
poll_seconds = 120

[[feed]]
url = "https://valley-news.example/atom.xml"
""")
    feeds = load_feeds(path)
    assert feeds == [Feed("https://brenn-post.example/rss", "Brenn Evening Post", 120.0),
                     Feed("https://valley-news.example/atom.xml", None, 300.0)]
    merged = merge_feeds(feeds, ["https://brenn-post.example/rss", "http://other.example/feed",
                                 "http://other.example/feed"], poll_seconds=60)
    assert [f.url for f in merged] == [f.url for f in feeds] + ["http://other.example/feed"]
    assert merged[-1].poll_seconds == 60
    with pytest.raises(ValueError):
        merge_feeds([], ["file:///etc/passwd"])


@pytest.mark.parametrize("text, message", [
    ('[[feed]]\nname = "x"\n', "'url' is missing"),
    ('[[feed]]\nurl = "ftp://a.example/f"\n', "must be http(s)"),
    ('[[feed]]\nurl = "https://a.example/f"\npoll_seconds = "often"\n', "must be a number"),
    ('[[feed]]\nurl = "https://a.example/f"\npoll_seconds = 0\n', "must be positive"),
    ('[[feed]]\nurl = "https://a.example/f"\ninterval = 3\n', "unknown key(s) ['interval']"),
    ('[[feed]]\nurl = "https://a.example/f"\n[[feed]]\nurl = "https://a.example/f"\n',
     "listed twice"),
    ('feeds = ["https://a.example/f"]\n', "unknown top-level key(s)"),
    ("", "no [[feed]] table"),
    ("[[feed]\nurl = 1", "not valid TOML"),
])
def test_load_feeds_reports_bad_files(tmp_path, text, message):
    with pytest.raises(FeedsFileError, match=None) as caught:
        load_feeds(write(tmp_path, text))
    assert message in str(caught.value) and "feeds.toml" in str(caught.value)


def test_load_feeds_missing_file(tmp_path):
    with pytest.raises(FeedsFileError, match="cannot read"):
        load_feeds(str(tmp_path / "absent.toml"))


# ---- the cursor ----

def at(seconds: float) -> Timestamp:
    return Timestamp(seconds)


def test_cursor_expires_keys_not_listed_for_the_ttl_and_keeps_listed_ones():
    limits = PollLimits(seen_ttl_seconds=100, max_seen=3, max_entries=3)
    cursor = FeedCursor("http://f.example/").listed(["a", "b"], at(0))
    cursor = cursor.listed(["b", "c"], at(50))          # 'a' left the feed at 50
    assert cursor.seen["b"] == (at(0).micros, at(50).micros)  # first seen, last listed
    assert cursor.next_expiry(limits) == at(100)
    assert set(cursor.expire(at(100), limits).seen) == {"b", "c"}
    assert set(cursor.expire(at(150), limits).seen) == set()
    # Still listed at 140: kept past the TTL counted from first seen.
    assert set(cursor.listed(["b"], at(140)).expire(at(200), limits).seen) == {"b"}


def test_cursor_bound_drops_the_keys_listed_longest_ago():
    limits = PollLimits(seen_ttl_seconds=1000, max_seen=2, max_entries=2)
    cursor = FeedCursor("http://f.example/").listed(["old"], at(0)).listed(["mid"], at(1))
    assert set(cursor.listed(["new"], at(2)).expire(at(2), limits).seen) == {"mid", "new"}


def test_a_304_keeps_what_was_listed_alive():
    limits = PollLimits(seen_ttl_seconds=100, max_seen=10, max_entries=10)
    cursor = FeedCursor("http://f.example/").listed(["gone"], at(0)).listed(["stays"], at(10))
    cursor = cursor.not_modified(at(90)).not_modified(at(180))
    assert set(cursor.expire(at(180), limits).seen) == {"stays"}


def test_cursor_json_round_trip():
    cursor = FeedCursor("http://f.example/", etag='"x"', last_modified="Sun, 09 Mar 2025 10:00:00 GMT")
    cursor = cursor.listed(["a", "b"], Timestamp(micros=1_741_500_000_123_456))
    assert load_cursors(dump_cursors([cursor])) == {cursor.url: cursor}
    assert FeedCursor.from_json(json.loads(json.dumps(cursor.to_json()))) == cursor
    for bad in ("not json", '{"version": 2}', '{"version": 1, "cursors": [{"etag": 1}]}'):
        with pytest.raises(ValueError):
            load_cursors(bad)


def test_poll_limits_are_checked():
    for bad in (PollLimits(seen_ttl_seconds=0), PollLimits(max_seen=10, max_entries=20),
                PollLimits(max_title_chars=0)):
        with pytest.raises(ValueError):
            bad.validate()


# ---- one poll, against the server ----

def test_polls_as_the_feed_changes(server):
    feed = Feed(server.url("/brenn.xml"), "Brenn", 60)
    page = server.url("/pages/bridge.html")
    server.routes["/pages/bridge.html"] = Reply(body=article_page("Bridge inspected"),
                                                content_type="text/html")
    v1 = rss(full_item("b-1", "Flood waters fall"), teaser_item("b-2", "Bridge", page))
    server.routes["/brenn.xml"] = Reply(body=v1, etag='"v1"')

    raw_docs, dead, cursor = poll_feed(feed, None, T0, LOCAL)
    assert dead == []
    assert [(d.uri, d.entry_id, d.content_type) for d in raw_docs] == [
        (feed.url, "b-1", ENTRY_CONTENT_TYPE), (page, "b-2", "text/html")]
    assert all(d.feed_url == feed.url and d.fetched_at == T0 for d in raw_docs)
    first, second = articles_of(raw_docs)
    assert (first.title, first.url, first.date_source) == (
        "Flood waters fall", "http://brenn-post.example/b-1", "feed")
    assert first.published_at == Timestamp.from_rfc3339("2025-03-09T10:00:00Z")
    # The page states no address of its own: its url is where it was fetched from.
    assert (second.title, second.uri, second.url) == ("Bridge inspected", page, page)

    # Unchanged: a conditional GET, a 304, nothing new.
    raw_docs, dead, cursor = poll_feed(feed, cursor, T0 + 60, LOCAL)
    assert (raw_docs, dead) == ([], [])
    assert server.requests_for("/brenn.xml")[-1]["If-None-Match"] == '"v1"'

    # An edited entry (same id, new title) is not emitted again; a new one is.
    v2 = rss(full_item("b-1", "Flood waters fall further"), teaser_item("b-2", "Bridge", page),
             full_item("b-3", "Schools reopen"))
    server.routes["/brenn.xml"] = Reply(body=v2, etag='"v2"')
    raw_docs, dead, cursor = poll_feed(feed, cursor, T0 + 120, LOCAL)
    assert ([d.entry_id for d in raw_docs], dead) == (["b-3"], [])

    # A server error, a response slower than the timeout, a malformed document: one DeadLetter
    # each, and the seen entries are kept.
    server.routes["/brenn.xml"] = Reply(status=500, body=b"oops")
    raw_docs, dead, cursor = poll_feed(feed, cursor, T0 + 180, LOCAL)
    assert raw_docs == [] and [(d.uri, d.stage, d.error_type) for d in dead] == [
        (feed.url, "fetch", "http_status")]
    server.routes["/brenn.xml"] = Reply(body=v2, delay=2.0)
    raw_docs, dead, cursor = poll_feed(feed, cursor, T0 + 240, LOCAL._replace(timeout=0.5))
    assert raw_docs == [] and [(d.stage, d.error_type) for d in dead] == [("fetch", "timeout")]
    server.routes["/brenn.xml"] = Reply(body=b"<rss><channel><item><title>cut</ti")
    raw_docs, dead, cursor = poll_feed(feed, cursor, T0 + 300, LOCAL)
    assert raw_docs == [] and [(d.stage, d.error_type) for d in dead] == [
        ("extract", "malformed_feed")]

    # Back to normal with one more entry: only that one; the linked page fails to load.
    server.routes["/pages/gone.html"] = Reply(status=404)
    v3 = rss(full_item("b-1", "Flood waters fall further"), teaser_item("b-2", "Bridge", page),
             full_item("b-3", "Schools reopen"),
             teaser_item("b-4", "Gone", server.url("/pages/gone.html")))
    server.routes["/brenn.xml"] = Reply(body=v3, etag='"v3"')
    raw_docs, dead, cursor = poll_feed(feed, cursor, T0 + 360, LOCAL)
    assert raw_docs == []
    assert [(d.uri, d.stage, d.error_type) for d in dead] == [
        (server.url("/pages/gone.html"), "fetch", "http_status")]
    assert set(cursor.seen) == {"b-1", "b-2", "b-3", "b-4"} and cursor.etag == '"v3"'


def test_malformed_document_is_one_dead_letter_until_it_changes(server):
    feed = Feed(server.url("/html-instead.xml"))
    server.routes["/html-instead.xml"] = Reply(body=b"<html><body><p>Moved</p></body></html>",
                                               content_type="text/html", etag='"html"')
    raw_docs, dead, cursor = poll_feed(feed, None, T0, LOCAL)
    assert raw_docs == [] and [(d.stage, d.error_type) for d in dead] == [
        ("extract", "malformed_feed")]
    assert (cursor.etag, cursor.polled_at) == ('"html"', T0.micros)
    assert poll_feed(feed, cursor, T0 + 300, LOCAL)[:2] == ([], [])  # a 304
    server.routes["/html-instead.xml"] = Reply(body=rss(full_item("m-1", "Fixed")), etag='"rss"')
    raw_docs, dead, _ = poll_feed(feed, cursor, T0 + 600, LOCAL)
    assert [d.entry_id for d in raw_docs] == ["m-1"] and dead == []


def test_ten_megabyte_title(server):
    body = rss(full_item("t-1", "W " * 5_000_000), full_item("t-2", "A normal title"))
    server.routes["/huge-title.xml"] = Reply(body=body)
    feed = Feed(server.url("/huge-title.xml"))
    # Over the default 10 MB cap: refused at the fetch.
    raw_docs, dead, _ = poll_feed(feed, None, T0, LOCAL)
    assert raw_docs == [] and [(d.stage, d.error_type) for d in dead] == [("fetch", "too_large")]
    # With room for it, refused before feedparser sees it.
    raw_docs, dead, _ = poll_feed(feed, None, T0, LOCAL._replace(max_bytes=64 << 20))
    assert raw_docs == [] and [(d.stage, d.error_type) for d in dead] == [
        ("extract", "oversized_field")]


def test_oversized_title_is_one_entry_dead_letter(server):
    body = rss(full_item("t-1", "W " * 50_000), full_item("t-2", "A normal title"))
    server.routes["/long-title.xml"] = Reply(body=body)
    feed = Feed(server.url("/long-title.xml"))
    raw_docs, dead, cursor = poll_feed(feed, None, T0, LOCAL)
    assert [d.entry_id for d in raw_docs] == ["t-2"]
    assert [(d.uri, d.error_type) for d in dead] == [(f"{feed.url}#t-1", "oversized_title")]
    assert set(cursor.seen) == {"t-1", "t-2"}  # the dead letter is not repeated next poll


def test_pages_beyond_the_per_poll_bound_wait_for_the_next_poll(server):
    items = [teaser_item(f"p-{i}", f"Page {i}", server.url(f"/bound/p{i}.html")) for i in range(3)]
    server.routes["/bound.xml"] = Reply(body=rss(*items), etag='"same"')
    feed = Feed(server.url("/bound.xml"))
    limits = PollLimits(max_pages_per_poll=2)
    raw_docs, dead, cursor = poll_feed(feed, None, T0, LOCAL, limits)
    assert [d.entry_id for d in raw_docs] == ["p-0", "p-1"] and dead == []
    assert cursor.etag is None  # so that the next poll is not answered with a 304
    raw_docs, dead, cursor = poll_feed(feed, cursor, T0 + 300, LOCAL, limits)
    assert [d.entry_id for d in raw_docs] == ["p-2"]
    assert "If-None-Match" not in server.requests_for("/bound.xml")[-1]
    assert cursor.etag == '"same"'


def test_linked_page_redirecting_to_a_private_address_is_refused(server):
    server.routes["/to-metadata"] = Reply(status=302,
                                          headers={"Location": "http://169.254.169.254/latest/"})
    server.routes["/ssrf.xml"] = Reply(body=rss(teaser_item("s-1", "Innocent",
                                                            server.url("/to-metadata"))))
    only_server = FetchPolicy(timeout=3.0, allowed_networks=("127.0.0.1/32",))
    raw_docs, dead, _ = poll_feed(Feed(server.url("/ssrf.xml")), None, T0, only_server)
    assert raw_docs == []
    assert [(d.uri, d.stage, d.error_type) for d in dead] == [
        (server.url("/to-metadata"), "fetch", "refused_address")]


# ---- the hand-written cases ----

def serve_case(server, name: str) -> Feed:
    spec = EXPECTED[name]
    server.routes[f"/cases/{name}"] = Reply(body=(CASES / name).read_bytes(),
                                            content_type=spec.get("content_type", "application/xml"))
    return Feed(server.url(f"/cases/{name}"))


def test_every_case_file_has_an_expectation():
    files = {p.name for p in CASES.iterdir() if p.name != "expected.json"}
    assert files == set(EXPECTED) - {"_format"} and len(files) >= 20


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - {"_format"}))
def test_feed_case(server, name):
    spec = EXPECTED[name]
    feed = serve_case(server, name)
    raw_docs, dead, cursor = poll_feed(feed, None, T0, LOCAL)
    if "dead_letter" in spec:
        assert raw_docs == []
        assert [(d.uri, d.error_type) for d in dead] == [(feed.url, spec["dead_letter"])]
        assert dead[0].message
        return
    sub = lambda value: value.replace("{base}", server.base) if isinstance(value, str) else value
    docs = iter(raw_docs)
    letters = iter(dead)
    for entry in spec["entries"]:
        key = sub(entry["key"])
        if "dead_letter" in entry:
            letter = next(letters)
            assert (letter.uri, letter.error_type) == (f"{feed.url}#{key}", entry["dead_letter"])
        elif "page" in entry and not entry["page"].startswith("{base}"):
            letter = next(letters)
            assert (letter.uri, letter.stage, letter.error_type) == (entry["page"], "fetch", "dns")
            if letter.message.endswith("kept from its feed summary"):
                doc = next(docs)  # the entry, from its summary, under the feed's uri
                assert (doc.uri, doc.entry_id, doc.content_type) == (feed.url, key,
                                                                      ENTRY_CONTENT_TYPE)
        elif "page" in entry:
            doc = next(docs)
            assert (doc.uri, doc.entry_id, doc.content_type) == (sub(entry["page"]), key,
                                                                  PAGE.content_type)
        else:
            doc = next(docs)
            assert (doc.uri, doc.entry_id) == (feed.url, key)
            (article,) = articles_of([doc])
            published = Timestamp.from_rfc3339(entry["published"]) if entry["published"] else T0
            assert (article.title, article.url, article.published_at) == (
                entry["title"], entry["url"], published)
            assert article.date_source == ("feed" if entry["published"] else "ingested")
            assert article.uri == f"{feed.url}#{key}"
    assert next(docs, None) is None and next(letters, None) is None
    assert set(cursor.seen) >= {sub(e["key"]) for e in spec["entries"]}


@pytest.mark.parametrize("name", sorted(
    name for name, spec in EXPECTED.items()
    if name != "_format" and any("title" in e for e in spec.get("entries", []))))
def test_entry_articles_read_as_the_same_feed_file_does(server, name):
    """An entry carried as a one-entry document gives the article a batch read of the feed file
    gives: same id, title, url, outlet, language, date and text. (Not for an entry with neither id
    nor link: a file read numbers it by position, a poll needs a key that survives the next poll.)"""
    feed = serve_case(server, name)
    raw_docs, _, _ = poll_feed(feed, None, T0, LOCAL)
    polled = {a.doc_id: a for a in articles_of([d for d in raw_docs if d.uri == feed.url
                                                and not d.entry_id.startswith("sha256:")])}
    batch = RawDoc(feed.url, None, None, T0, (CASES / name).read_bytes(),
                   EXPECTED[name].get("content_type"), None)
    read = {}
    for article in extract_articles(batch):  # a guid listed twice: the poll keeps the first
        if isinstance(article, Article):
            read.setdefault(article.doc_id, article)
    assert polled and set(polled) <= set(read)
    for doc_id, article in polled.items():
        assert article == read[doc_id]


@pytest.mark.parametrize("text, kind", [
    (b'<!DOCTYPE r [\n<!ENTITY a "&b;&b;">\n<!ENTITY b "x">\n]><r>&a;</r>', "entity_expansion"),
    (b'<!DOCTYPE r [<!ENTITY a SYSTEM "file:///etc/passwd">]><r>&a;</r>', "external_entity"),
    (b"<!DOCTYPE r [<!ENTITY a PUBLIC 'x' 'http://evil.example/x'>]><r>&a;</r>",
     "external_entity"),
    (b'<!DOCTYPE r [<!ENTITY % p "<!ENTITY q \'x\'>"> %p;]><r/>', "entity_declaration"),
    (b'<!DOCTYPE r [<!ENTITY % p "x">]><r/>', "entity_expansion"),
    (b'<!DOCTYPE r [<!ENTITY a "' + b"x" * 1000 + b'">]><r>' + b"&a;" * 1001 + b"</r>",
     "entity_expansion"),
])
def test_check_entities_refuses(text, kind):
    with pytest.raises(FeedError) as caught:
        check_entities(text)
    assert caught.value.kind == kind


def test_check_entities_allows_small_flat_entities():
    check_entities(b'<!DOCTYPE r [<!ENTITY a "x" ><!ENTITY c "&#169;">]><r>&a;&c;</r>')
    check_entities(b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
                   b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss/>')


def test_a_fetched_document_is_read_by_its_content_type_before_its_extension():
    from tollwatch.transforms.extract import detect_format

    feed_bytes = rss(full_item("c-1", "Typed"))
    assert detect_format("https://brenn-post.example/news.html", feed_bytes,
                         "application/rss+xml") == "feed"
    assert detect_format("https://brenn-post.example/feed.xml", article_page("x"),
                         "text/html; charset=utf-8") == "html"
    assert detect_format("/in/news.html", feed_bytes) == "html"  # files: the extension, as before


# ---- what a poll cuts, retries and bounds ----

def test_entries_past_the_bound_are_counted_in_a_dead_letter(server):
    server.routes["/many.xml"] = Reply(body=rss(*(full_item(f"m-{i}", f"Item {i}")
                                                  for i in range(8))))
    feed = Feed(server.url("/many.xml"))
    raw_docs, dead, cursor = poll_feed(feed, None, T0, LOCAL, PollLimits(max_entries=5,
                                                                         max_seen=10))
    assert len(raw_docs) == 5
    assert [(d.uri, d.error_type) for d in dead] == [(f"{feed.url}#entries-5-", "too_many_entries")]
    assert dead[0].message.startswith("3 entries past the first 5")
    assert cursor.outcome == "fetched 8 entries: 5 new, 1 dead letter(s)"


def test_a_page_that_fails_once_is_fetched_again_at_the_next_poll(server):
    server.routes["/flaky.html"] = [Reply(status=500), PAGE]
    server.routes["/flaky.xml"] = Reply(body=rss(teaser_item("f-1", "Flaky", server.url(
        "/flaky.html"))), etag='"f"')
    feed = Feed(server.url("/flaky.xml"))
    raw_docs, dead, cursor = poll_feed(feed, None, T0, LOCAL)
    assert (raw_docs, dead, dict(cursor.pending)) == ([], [], {"f-1": (server.url("/flaky.html"), 1)})
    assert not cursor.is_seen("f-1") and cursor.etag is None
    cursor = load_cursors(dump_cursors([cursor]))[feed.url]  # as follow keeps it between ticks
    raw_docs, dead, cursor = poll_feed(feed, cursor, T0 + 300, LOCAL)
    assert [d.uri for d in raw_docs] == [server.url("/flaky.html")] and dead == []
    assert cursor.is_seen("f-1") and not cursor.pending and cursor.etag == '"f"'


def test_a_page_that_keeps_failing_is_given_up_after_the_bounded_attempts(server):
    server.routes["/down.html"] = Reply(status=503)
    long_summary = f"<p>{TEXT}</p>"
    server.routes["/down.xml"] = Reply(body=rss(
        f'<item><title>Down</title><link>{server.url("/down.html")}</link>'
        f'<guid isPermaLink="false">d-1</guid><description><![CDATA[{long_summary}]]>'
        "</description></item>"))
    feed = Feed(server.url("/down.xml"))
    cursor = None
    for attempt in range(2):
        raw_docs, dead, cursor = poll_feed(feed, cursor, T0 + attempt, LOCAL)
        assert (raw_docs, dead) == ([], [])
    raw_docs, dead, cursor = poll_feed(feed, cursor, T0 + 2, LOCAL)
    assert [(d.uri, d.error_type) for d in dead] == [(server.url("/down.html"), "http_status")]
    assert "(3 attempts)" in dead[0].message and "kept from its feed summary" in dead[0].message
    # The entry is kept from its summary: the article says what the feed said.
    (article,) = articles_of(raw_docs)
    assert article.uri == f"{feed.url}#d-1" and article.url == server.url("/down.html")
    assert TEXT[:60] in article.text
    assert cursor.is_seen("d-1") and not cursor.pending
    assert len(server.requests_for("/down.html")) == 3


def test_a_poll_ends_its_fetching_at_its_deadline(server):
    import time

    slow = Reply(body=article_page("Slow"), content_type="text/html", trickle=0.05)
    items = []
    for i in range(6):
        server.routes[f"/slow/{i}.html"] = slow
        items.append(teaser_item(f"s-{i}", f"Slow {i}", server.url(f"/slow/{i}.html")))
    server.routes["/slow.xml"] = Reply(body=rss(*items))
    feed = Feed(server.url("/slow.xml"))
    started = time.monotonic()
    raw_docs, dead, cursor = poll_feed(feed, None, T0, FetchPolicy(timeout=1.0, allow_private_hosts=True),
                                       PollLimits(max_fetch_seconds=1.5))
    took = time.monotonic() - started
    # Six pages of one timeout each would take 6 s: the poll stops at its 1.5 s.
    assert 1.0 <= took < 2.5, took
    assert raw_docs == [] and dead == []
    # The page cut by its own timeout counts an attempt; the ones cut by the deadline do not.
    assert {k: n for k, (_, n) in cursor.pending.items()} == {"s-0": 1, **{f"s-{i}": 0 for i in range(1, 6)}}
    assert not any(cursor.is_seen(f"s-{i}") for i in range(6))
    assert "5 page(s) left for the next poll" in cursor.outcome
    # A deadline already passed: the feed is not fetched, and stays due.
    before = len(server.requests_for("/slow.xml"))
    _, _, idle = poll_feed(feed, cursor, T0 + 300, LOCAL, deadline=time.time() - 1)
    assert len(server.requests_for("/slow.xml")) == before
    assert idle.polled_at == cursor.polled_at and idle.due(feed, T0 + 300)
    assert idle.outcome.startswith("not polled")


def test_retry_after_is_honoured_within_a_bound(server):
    feed = Feed(server.url("/busy.xml"))
    server.routes["/busy.xml"] = Reply(status=503, headers={"Retry-After": "3600"})
    _, dead, cursor = poll_feed(feed, None, T0, LOCAL)
    assert dead[0].error_type == "http_status" and "Retry-After: 3600" in dead[0].message
    assert cursor.outcome.startswith("down: HTTP 503")
    assert not cursor.due(feed, T0 + 300) and cursor.due(feed, T0 + 3600)
    server.routes["/busy.xml"] = Reply(status=429, headers={"Retry-After": "99999999999"})
    _, _, cursor = poll_feed(feed, cursor, T0 + 3600, LOCAL)
    assert cursor.due(feed, T0 + 3600 + 24 * 3600)  # a year-long ask is cut to a day


def test_retry_after_reads_seconds_and_dates():
    from tollwatch.transforms.inputs.fetch import retry_after_seconds

    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412420.0) == 60
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


RUSSIAN = ("Спасатели сообщили в воскресенье, что вода в реке опустилась ниже отметки паводка "
           "впервые за неделю, и семьи смогут вернуться на нижние улицы города после того, как "
           "инженеры проверят мост и водопровод. Школа на Карьерной улице остаётся приютом.")


def test_a_feed_in_an_undeclared_legacy_encoding_is_read_in_it(server):
    # No XML encoding, no HTTP charset, not UTF-8: feedparser alone reads KOI8-R as cp1252.
    body = ('<rss version="2.0"><channel><title>Вечерние новости</title>'
            '<item><title>Вода отступает</title><guid isPermaLink="false">k-1</guid>'
            f"<description>{RUSSIAN}</description></item></channel></rss>").encode("koi8-r")
    server.routes["/koi8.xml"] = Reply(body=body, content_type="application/rss+xml")
    raw_docs, dead, _ = poll_feed(Feed(server.url("/koi8.xml")), None, T0, LOCAL)
    assert dead == []
    (article,) = articles_of(raw_docs)
    assert article.title == "Вода отступает" and RUSSIAN[:40] in article.text


@needs_shared
def test_the_corpus_koi8r_feed_is_not_mojibake():
    content = (CORPORA / "feeds" / "feedparser__illformed__chardet__koi8r.xml").read_bytes()
    parsed = parse_feed(content, "http://feeds.example/koi8r.xml")
    assert parsed.encoding == "koi8_r"
    title = parsed.entries[0].title
    assert all("\u0400" <= c <= "\u04ff" or not c.isalpha() for c in title), title


def test_a_feed_whose_encoding_cannot_be_found_is_a_dead_letter(server):
    noise = bytes(range(0xA0, 0xFF)) * 2000  # no language in any 8-bit encoding
    body = (b'<rss version="2.0"><channel><title>t</title><item><title>' + noise +
            b'</title><guid isPermaLink="false">n-1</guid></item></channel></rss>')
    server.routes["/noise.xml"] = Reply(body=body, content_type="application/rss+xml")
    raw_docs, dead, _ = poll_feed(Feed(server.url("/noise.xml")), None, T0, LOCAL)
    assert raw_docs == [] and [(d.stage, d.error_type) for d in dead] == [
        ("extract", "unknown_encoding")]


def test_pages_left_pending_are_fetched_after_the_feed_rotates_them_out(server):
    server.routes["/rot/a.html"] = [Reply(status=502), PAGE]   # fails once
    server.routes["/rot/b.html"] = PAGE                        # beyond the page bound
    server.routes["/rot.xml"] = Reply(body=rss(
        teaser_item("a", "A", server.url("/rot/a.html")),
        teaser_item("b", "B", server.url("/rot/b.html")),
        teaser_item("c", "C", server.url("/rot/b.html"))))
    feed = Feed(server.url("/rot.xml"))
    limits = PollLimits(max_pages_per_poll=1)
    raw_docs, dead, cursor = poll_feed(feed, None, T0, LOCAL, limits)
    assert (raw_docs, dead) == ([], []) and set(cursor.pending) == {"a", "b", "c"}
    assert cursor.outcome.endswith("2 page(s) left for the next poll, 1 page(s) to retry")
    # The feed rotates: none of the three is listed any more; their pages are still fetched.
    server.routes["/rot.xml"] = Reply(body=rss(full_item("d", "D")))
    done = []
    for poll in range(1, 4):
        raw_docs, dead, cursor = poll_feed(feed, load_cursors(dump_cursors([cursor]))[feed.url],
                                           T0 + 300 * poll, LOCAL, limits)
        assert dead == []
        done += [d.entry_id for d in raw_docs]
    assert sorted(done) == ["a", "b", "c", "d"] and not cursor.pending
    assert all(cursor.is_seen(k) for k in "abcd")
