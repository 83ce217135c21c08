"""`tollwatch follow` polling a feed on a real loopback server that changes between ticks: each
entry becomes one article once, and every failure one dead letter."""

from __future__ import annotations

import json

import pytest

from feed_server import TEXT, FeedServer, Reply, article_page, full_item, rss, teaser_item
from tollwatch.pipeline.cli import main
from tollwatch.pipeline.follow import STATE_FILE
from tollwatch.pipeline.query import connect


@pytest.fixture()
def server():
    with FeedServer() as running:
        yield running


def tick(out, feeds_file) -> None:
    assert main(["follow", "-q", "--feeds", str(feeds_file), "--output", str(out),
                 "--allow-private-hosts", "--fetch-timeout-seconds", "1", "--ticks", "1",
                 "--tick-seconds", "0"]) == 0


def test_follow_polls_a_changing_feed(server, tmp_path):
    url = server.url("/valdoria.xml")
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feed]]\nurl = "{url}"\nname = "Valdoria Post"\npoll_seconds = 0.001\n')
    out = tmp_path / "out"
    page = server.url("/pages/bridge.html")
    server.routes["/pages/bridge.html"] = Reply(body=article_page("Bridge inspected"),
                                                content_type="text/html")
    server.routes["/pages/gone.html"] = Reply(status=404)
    v1 = rss(full_item("b-1", "Flood waters fall"), teaser_item("b-2", "Bridge", page))
    v2 = rss(full_item("b-1", "Flood waters fall further"), teaser_item("b-2", "Bridge", page),
             full_item("b-3", "Schools reopen"))
    v3 = rss(full_item("b-1", "Flood waters fall further"), full_item("b-3", "Schools reopen"),
             teaser_item("b-4", "Gone", server.url("/pages/gone.html")))
    ticks = [
        Reply(body=v1, etag='"v1"'),             # two new entries: one carried, one linked page
        Reply(body=v1, etag='"v1"'),             # unchanged: a 304
        Reply(body=v2, etag='"v2"'),             # an edited entry (not again) and a new one
        Reply(status=500, body=b"oops"),         # dead letter: http_status
        Reply(body=v2, delay=3.0),               # slower than the 1 s deadline: timeout
        Reply(body=b"<rss><channel><item><title>cut</ti"),  # malformed_feed
        Reply(body=v3, etag='"v3"'),             # the new entry's page is gone: http_status
    ]
    for reply in ticks:
        server.routes["/valdoria.xml"] = reply
        tick(out, feeds)
    con = connect(str(out))
    titles = sorted(r[0] for r in con.execute("SELECT title FROM articles").fetchall())
    assert titles == ["Bridge inspected", "Flood waters fall", "Schools reopen"]
    letters = sorted(con.execute("SELECT stage, error_type, uri FROM dead_letters").fetchall())
    assert letters == sorted([("fetch", "http_status", url), ("fetch", "timeout", url),
                              ("extract", "malformed_feed", url),
                              ("fetch", "http_status", server.url("/pages/gone.html"))])
    conditional = [r.get("If-None-Match") for r in server.requests_for("/valdoria.xml")]
    assert conditional[:3] == [None, '"v1"', '"v1"']
    state = json.loads((out / STATE_FILE).read_text())
    assert state["tick"] == 7
    assert set(state["feeds"][url]["seen"]) == {"b-1", "b-2", "b-3", "b-4"}


def follow(capsys, *args) -> str:
    assert main(["follow", "--fetch-timeout-seconds", "1", "--tick-seconds", "0", *args]) == 0
    return capsys.readouterr().err


def test_follow_says_per_feed_what_happened(server, tmp_path, capsys):
    ok, down = server.url("/ok.xml"), server.url("/down.xml")
    gone = server.url("/gone.html")  # answers 404: its entry is kept from its summary
    summary_item = (f'<item><title>Three</title><link>{gone}</link><guid isPermaLink="false">o-3'
                    f"</guid><description><![CDATA[<p>{TEXT}</p>]]></description></item>")
    server.routes["/ok.xml"] = Reply(body=rss(full_item("o-1", "One"), full_item("o-2", "Two"),
                                              summary_item))
    server.routes["/down.xml"] = Reply(status=500)
    out = tmp_path / "out"
    missing = tmp_path / "no-such-folder"
    # A private host refused, whatever else is asked: the line says so.
    err = follow(capsys, "--feed", ok, "--output", str(out), "--ticks", "1")
    assert f"{ok}: refused: " in err and "1 feed(s) polled" not in err
    # Allowed by its network: one feed read, one down; the second tick has nothing due.
    err = follow(capsys, "--feed", ok, down, "--allow-network", "127.0.0.0/8", "--output",
                 str(tmp_path / "out2"), "--watch", str(missing), "--ticks", "2")
    assert f"the watched folder {missing} does not exist" in err
    assert f"{ok}: fetched 3 entries: 3 new, 1 dead letter(s)" in err
    assert f"{down}: down: HTTP 500" in err
    assert err.rstrip().splitlines()[-2].endswith("nothing new")
    # The README's query for the articles read from a summary.
    from_summary = connect(str(tmp_path / "out2")).execute(
        "SELECT a.title FROM articles a JOIN dead_letters d ON d.uri = a.url "
        "AND d.stage = 'fetch'").fetchall()
    assert from_summary == [("Three",)]


def test_an_allowed_network_does_not_open_the_others(server, tmp_path):
    server.routes["/to-metadata"] = Reply(status=302,
                                          headers={"Location": "http://169.254.169.254/latest/"})
    url = server.url("/intranet.xml")
    server.routes["/intranet.xml"] = Reply(body=rss(teaser_item("i-1", "Innocent",
                                                                server.url("/to-metadata"))))
    out = tmp_path / "out"
    assert main(["follow", "-q", "--feed", url, "--allow-network", "127.0.0.1/32", "--output",
                 str(out), "--ticks", "1", "--tick-seconds", "0",
                 "--fetch-timeout-seconds", "1"]) == 0
    letters = connect(str(out)).execute("SELECT uri, error_type FROM dead_letters").fetchall()
    assert letters == [(server.url("/to-metadata"), "refused_address")]
    assert main(["follow", "-q", "--feed", url, "--allow-network", "10.1.2.3/24", "--output",
                 str(out), "--ticks", "1"]) == 2  # host bits set: not a network


def test_a_tick_killed_after_its_poll_keeps_its_entries_when_the_feed_rotates(server, tmp_path):
    url = server.url("/rotating.xml")
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feed]]\nurl = "{url}"\npoll_seconds = 0.001\n')
    out = tmp_path / "out"
    server.routes["/rotating.xml"] = Reply(body=rss(full_item("r-1", "First"),
                                                    full_item("r-2", "Second")))
    tick(out, feeds)
    # Killed before its state was saved: the tick's files are in place, its cursor is not.
    (out / STATE_FILE).unlink()
    # Meanwhile the feed rotated: the first two entries are gone from it.
    server.routes["/rotating.xml"] = Reply(body=rss(full_item("r-3", "Third"),
                                                    full_item("r-4", "Fourth")))
    tick(out, feeds)  # tick 1 again, under its number
    tick(out, feeds)  # tick 2
    con = connect(str(out))
    titles = sorted(r[0] for r in con.execute("SELECT title FROM articles").fetchall())
    assert titles == ["First", "Fourth", "Second", "Third"]
    assert json.loads((out / STATE_FILE).read_text())["tick"] == 2
    assert [p.name for p in (out / "_state" / ".ticks").iterdir()] == ["t0000002"]
