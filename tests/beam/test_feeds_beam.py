"""ReadFeeds and PollFeeds in pipelines, against a real loopback server: ReadFeeds bounded (a stop
timestamp) on the FnApiRunner, the code Dataflow and Flink run; seen-entry expiry by timer with
TestStream on the BundleBasedDirectRunner; PollFeeds run twice, carrying its cursors, as `follow`
does."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.utils.timestamp import Timestamp

from feed_server import FeedServer, Reply, article_page, full_item, rss, teaser_item
from tollwatch.pipeline.runner import make_pipeline
from tollwatch.transforms.extract import ExtractArticles
from tollwatch.transforms.inputs.feeds import (
    Feed, FeedCursor, PollFeeds, PollLimits, ReadFeeds, PollFeedFn,
)
from tollwatch.transforms.inputs.fetch import FetchPolicy

LOCAL = FetchPolicy(timeout=3.0, allow_private_hosts=True)


@pytest.fixture()
def server():
    with FeedServer() as running:
        yield running


def test_read_feeds_bounded_on_the_fn_api_runner(server):
    """Three ticks: the feed is new, then unchanged (304), then edited with one entry more; a second
    feed fails every time. Exactly one RawDoc per entry, one DeadLetter per failed poll."""
    page = server.url("/pages/relief.html")
    server.routes["/pages/relief.html"] = Reply(body=article_page("Relief convoy arrives"),
                                                content_type="text/html")
    v1 = rss(full_item("r-1", "River falls"), teaser_item("r-2", "Relief", page))
    v2 = rss(full_item("r-1", "River falls again (edited)"), teaser_item("r-2", "Relief", page),
             full_item("r-3", "Bridge reopens"))
    server.routes["/feed.xml"] = [Reply(body=v1, etag='"v1"'), Reply(body=v1, etag='"v1"'),
                                  Reply(body=v2, etag='"v2"')]
    server.routes["/broken.xml"] = Reply(status=503)
    feeds = [Feed(server.url("/feed.xml"), "river", 2.0), Feed(server.url("/broken.xml"), None, 2.0)]
    start = Timestamp.now()

    options = PipelineOptions(["--streaming"])
    assert options.view_as(StandardOptions).runner is None  # make_pipeline: the FnApiRunner
    with make_pipeline(options) as p:
        polled = p | ReadFeeds(feeds, LOCAL, start_timestamp=start, stop_timestamp=start + 5.5,
                               tick_seconds=2.0)
        extracted = polled["raw_docs"] | ExtractArticles()
        assert_that(polled["raw_docs"] | beam.Map(lambda d: (d.uri, d.entry_id)), equal_to([
            (feeds[0].url, "r-1"), (page, "r-2"), (feeds[0].url, "r-3")]), label="RawDocs")
        assert_that(polled["dead_letters"] | beam.Map(lambda d: (d.uri, d.stage, d.error_type)),
                    equal_to([(feeds[1].url, "fetch", "http_status")] * 3), label="DeadLetters")
        assert_that(extracted["articles"] | beam.Map(lambda a: a.title), equal_to(
            ["River falls", "Relief convoy arrives", "Bridge reopens"]), label="Articles")
    requests = server.requests_for("/feed.xml")
    assert len(requests) == 3
    assert [r.get("If-None-Match") for r in requests] == [None, '"v1"', '"v1"']


def streaming_pipeline() -> TestPipeline:
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    return TestPipeline(runner="BundleBasedDirectRunner", options=options)


def test_seen_entries_expire_by_timer(server):
    """TTL 100 s. Feed 'a' is polled at 0 and then not until 250: by then its timer has cleared
    its state (etag and seen keys), so the poll at 250 is a full GET and the entry comes out
    again. Feed 'b' lists its entry at every poll (0, 60, 120, 180): never forgotten, emitted once.
    Feed 'c' drops its entry after 0 and lists it again at 180: forgotten at 100, emitted again."""
    a_feed = rss(full_item("a-1", "Alpha"))
    server.routes["/a.xml"] = Reply(body=a_feed, etag='"a"')
    server.routes["/b.xml"] = Reply(body=rss(full_item("b-1", "Bravo")))
    server.routes["/c.xml"] = [Reply(body=rss(full_item("c-1", "Charlie"))),
                               Reply(body=rss(full_item("c-2", "Delta"))),
                               Reply(body=rss(full_item("c-2", "Delta"))),
                               Reply(body=rss(full_item("c-1", "Charlie"), full_item("c-2", "Delta")))]
    a, b, c = (Feed(server.url(f"/{n}.xml"), n, 30.0) for n in "abc")
    limits = PollLimits(seen_ttl_seconds=100, max_seen=10, max_entries=10)

    def polls(t, *feeds):
        return [beam.window.TimestampedValue((f.url, f), t) for f in feeds]

    stream = (TestStream()
              .add_elements(polls(0, a, b, c))
              .advance_watermark_to(60).add_elements(polls(60, b, c))
              .advance_watermark_to(120).add_elements(polls(120, b, c))
              .advance_watermark_to(180).add_elements(polls(180, b, c))
              .advance_watermark_to(250).add_elements(polls(250, a))
              .advance_watermark_to_infinity())
    with streaming_pipeline() as p:
        out = (p | stream
               | beam.ParDo(PollFeedFn(LOCAL, limits)).with_input_types(tuple[str, Feed])
               .with_outputs("dead_letters", main="raw_docs"))
        assert_that(out.raw_docs | beam.Map(lambda d: d.entry_id),
                    equal_to(["a-1", "b-1", "c-1", "c-2", "c-1", "a-1"]), label="RawDocs")
        assert_that(out.dead_letters, equal_to([]), label="DeadLetters")
    # Without the timer, the poll at 250 would have sent If-None-Match and got a 304.
    assert [r.get("If-None-Match") for r in server.requests_for("/a.xml")] == [None, None]


def test_poll_feeds_carries_cursors_from_run_to_run(server):
    server.routes["/f.xml"] = Reply(body=rss(full_item("f-1", "Foxtrot")), etag='"f"')
    due = Feed(server.url("/f.xml"), "f", 60.0)
    waiting = Feed(server.url("/never-fetched.xml"), "w", 3600.0)
    recent = FeedCursor(waiting.url, etag='"w"', polled_at=Timestamp(1_000).micros)
    t1, t2 = Timestamp(1_000), Timestamp(1_060)
    after_first = FeedCursor(due.url, etag='"f"', polled_at=t1.micros, listed_at=t1.micros,
                             seen={"f-1": (t1.micros, t1.micros)},
                             outcome="fetched 1 entry: 1 new, 0 dead letter(s)")
    # The second run gets a 304: the entry is still listed, nothing is emitted.
    after_second = FeedCursor(due.url, etag='"f"', polled_at=t2.micros, listed_at=t2.micros,
                              seen={"f-1": (t1.micros, t2.micros)}, outcome="not modified")

    for now, before, after, docs in ((t1, None, after_first, ["f-1"]),
                                     (t2, after_first, after_second, [])):
        with TestPipeline(runner="BundleBasedDirectRunner") as p:
            out = (p | beam.Create([(due, before), (waiting, recent)])
                   | PollFeeds(LOCAL, now=now))
            assert_that(out["raw_docs"] | beam.Map(lambda d: d.entry_id), equal_to(docs),
                        label="RawDocs")
            assert_that(out["dead_letters"], equal_to([]), label="DeadLetters")
            # The feed not due yet: its cursor passes through unchanged, nothing is fetched.
            assert_that(out["cursors"], equal_to([after, recent]), label="Cursors")
    assert server.requests_for("/f.xml")[-1]["If-None-Match"] == '"f"'
    assert server.requests_for("/never-fetched.xml") == []
