"""fetch() against a real HTTP server on loopback: limits, redirects, conditional GET, refusals."""

from __future__ import annotations

import gzip
import socket
import ssl

import pytest

from feed_server import FeedServer, Reply, gzip_bomb
from tollwatch.transforms.inputs.fetch import (
    USER_AGENT, FetchError, FetchPolicy, address_is_public, fetch,
)

LOCAL = FetchPolicy(timeout=5.0, allow_private_hosts=True)
# Only the test server's own address: every other non-public address stays refused.
ONLY_SERVER = FetchPolicy(timeout=5.0, allowed_networks=("127.0.0.1/32",))


@pytest.fixture(scope="module")
def server():
    with FeedServer() as running:
        yield running


def kind_of(url: str, policy: FetchPolicy = LOCAL, **kwargs) -> str:
    with pytest.raises(FetchError) as caught:
        fetch(url, policy, **kwargs)
    return caught.value.kind


def test_ok_response_and_user_agent(server):
    server.routes["/ok"] = Reply(body=b"<rss/>", content_type="application/rss+xml", etag='"v1"',
                                 last_modified="Sat, 08 Mar 2025 10:00:00 GMT")
    result = fetch(server.url("/ok"), LOCAL)
    assert (result.status, result.content, result.content_type) == (200, b"<rss/>",
                                                                     "application/rss+xml")
    assert (result.etag, result.last_modified, result.not_modified) == (
        '"v1"', "Sat, 08 Mar 2025 10:00:00 GMT", False)
    assert result.url == server.url("/ok")
    sent = server.requests_for("/ok")[-1]
    assert sent["User-Agent"] == USER_AGENT and USER_AGENT.startswith("tollwatch/")
    assert sent["Host"] == server.base.removeprefix("http://")


def test_conditional_get_by_etag_and_by_date(server):
    server.routes["/etag"] = Reply(body=b"feed", etag='"abc"')
    assert fetch(server.url("/etag"), LOCAL, etag='"abc"') == (
        304, server.url("/etag"), b"", None, '"abc"', None, True)
    assert fetch(server.url("/etag"), LOCAL, etag='"old"').content == b"feed"
    assert server.requests_for("/etag")[0]["If-None-Match"] == '"abc"'

    stamp = "Sat, 08 Mar 2025 10:00:00 GMT"
    server.routes["/dated"] = Reply(body=b"feed", last_modified=stamp)
    result = fetch(server.url("/dated"), LOCAL, last_modified=stamp)
    assert result.not_modified and result.last_modified == stamp
    assert server.requests_for("/dated")[0]["If-Modified-Since"] == stamp


def test_error_status_is_http_status(server):
    server.routes["/fail"] = Reply(status=500, body=b"oops")
    with pytest.raises(FetchError) as caught:
        fetch(server.url("/fail"), LOCAL)
    assert (caught.value.kind, caught.value.status) == ("http_status", 500)
    assert kind_of(server.url("/no-such-path")) == "http_status"


def test_slow_headers_time_out(server):
    server.routes["/slow"] = Reply(body=b"late", delay=3.0)
    assert kind_of(server.url("/slow"), LOCAL._replace(timeout=0.5)) == "timeout"


def test_trickling_body_is_cut_at_the_deadline(server):
    # Each byte arrives well within any per-read timeout; only a total deadline stops it (the
    # whole body would take 60 s).
    server.routes["/trickle"] = Reply(body=b"x" * 600, trickle=0.1)
    assert kind_of(server.url("/trickle"), LOCAL._replace(timeout=1.0)) == "timeout"


def test_gzip_body_is_decoded(server):
    server.routes["/gz"] = Reply(body=gzip.compress(b"<rss>hello</rss>"),
                                 headers={"Content-Encoding": "gzip"})
    assert fetch(server.url("/gz"), LOCAL).content == b"<rss>hello</rss>"


def test_gzip_bomb_is_cut_at_the_decoded_cap(server):
    bomb = gzip_bomb()
    server.routes["/bomb"] = Reply(body=bomb, headers={"Content-Encoding": "gzip"})
    policy = LOCAL._replace(max_bytes=1024 * 1024)
    assert len(bomb) < policy.max_bytes  # small on the wire: only the decoded size is over
    assert kind_of(server.url("/bomb"), policy) == "too_large"


def test_huge_bodies_are_refused_or_cut(server):
    policy = LOCAL._replace(max_bytes=1024 * 1024)
    server.routes["/declared"] = Reply(body=b"", declared_length=1 << 30)
    assert kind_of(server.url("/declared"), policy) == "too_large"
    server.routes["/endless"] = Reply(endless=True)  # 1 GB and more, no Content-Length
    assert kind_of(server.url("/endless"), policy) == "too_large"
    server.routes["/at-cap"] = Reply(body=b"y" * policy.max_bytes)
    assert len(fetch(server.url("/at-cap"), policy).content) == policy.max_bytes


def test_redirects_are_followed_and_bounded(server):
    server.routes["/moved"] = Reply(status=301, headers={"Location": "/final"})
    server.routes["/final"] = Reply(body=b"here")
    result = fetch(server.url("/moved"), LOCAL)
    assert (result.content, result.url) == (b"here", server.url("/final"))

    server.routes["/loop-a"] = Reply(status=302, headers={"Location": "/loop-b"})
    server.routes["/loop-b"] = Reply(status=302, headers={"Location": server.url("/loop-a")})
    assert kind_of(server.url("/loop-a")) == "redirect_loop"

    for i in range(8):
        server.routes[f"/hop{i}"] = Reply(status=307, headers={"Location": f"/hop{i + 1}"})
    server.routes["/hop8"] = Reply(body=b"end")
    assert kind_of(server.url("/hop0")) == "too_many_redirects"
    assert fetch(server.url("/hop0"), LOCAL._replace(max_redirects=8)).content == b"end"


@pytest.mark.parametrize("location, kind", [
    ("http://169.254.169.254/latest/meta-data/", "refused_address"),  # cloud metadata service
    ("http://127.0.0.2/", "refused_address"),
    ("http://10.0.0.1/", "refused_address"),
    ("http://[::1]/", "refused_address"),
    ("http://0.0.0.0/", "refused_address"),
    ("file:///etc/passwd", "bad_scheme"),
    ("ftp://127.0.0.1/feed.xml", "bad_scheme"),
])
def test_each_redirect_hop_is_rechecked(server, location, kind):
    path = f"/to-{abs(hash(location))}"
    server.routes[path] = Reply(status=302, headers={"Location": location})
    assert kind_of(server.url(path), ONLY_SERVER) == kind


def test_private_hosts_are_refused_before_connecting(server):
    server.routes["/private"] = Reply(body=b"secret")
    assert kind_of(server.url("/private"), FetchPolicy(timeout=5.0)) == "refused_address"
    assert kind_of(server.url("/private").replace("127.0.0.1", "localhost"),
                   FetchPolicy(timeout=5.0)) == "refused_address"
    assert server.requests_for("/private") == []
    assert fetch(server.url("/private"), LOCAL).content == b"secret"


@pytest.mark.parametrize("url, kind", [
    ("ftp://example.org/feed.xml", "bad_scheme"),
    ("file:///etc/passwd", "bad_scheme"),
    ("javascript:alert(1)", "bad_scheme"),
    ("http:///no-host", "bad_url"),
    ("http://example.org:99999/", "bad_url"),
    ("http://name.invalid/feed.xml", "dns"),
])
def test_bad_urls(url, kind):
    assert kind_of(url, FetchPolicy(timeout=5.0)) == kind


def test_connection_refused():
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert kind_of(f"http://127.0.0.1:{port}/feed.xml") == "connection"


def test_non_ascii_path_is_percent_encoded(server):
    server.routes["/caf%C3%A9%20news"] = Reply(body=b"ok")
    assert fetch(server.url("/café news"), LOCAL).content == b"ok"


@pytest.mark.parametrize("address, public", [
    ("93.184.215.14", True), ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False),
    ("239.255.255.250", False), ("240.0.0.1", False), ("255.255.255.255", False),
    ("::1", False), ("::", False), ("fe80::1", False), ("fc00::1", False), ("ff02::1", False),
    ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False), ("2002:7f00:1::", False),
    ("::ffff:93.184.215.14", True),
])
def test_address_is_public(address, public):
    assert address_is_public(address) is public


def test_policy_rejects_bad_values():
    for bad in (FetchPolicy(timeout=0), FetchPolicy(max_bytes=0), FetchPolicy(max_redirects=-1),
                FetchPolicy(allowed_networks=("not-a-network",))):
        with pytest.raises(ValueError):
            bad.validate()


def test_https_verifies_the_host_name_while_connecting_to_the_checked_address(tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(tls)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with FeedServer(tls=tls) as secure:
        secure.routes["/feed"] = Reply(body=b"<rss/>")
        trusted = LOCAL._replace(ca_file=str(ca_file))
        # 'localhost' resolves to 127.0.0.1: the connection goes there, the certificate is checked
        # for 'localhost'.
        assert fetch(secure.host_url("localhost", "/feed"), trusted).content == b"<rss/>"
        assert secure.requests_for("/feed")[0]["Host"].startswith("localhost:")
        # The same server by address: the certificate does not name 127.0.0.1.
        assert kind_of(secure.url("/feed"), trusted) == "connection"
        # A CA we do not trust.
        assert kind_of(secure.host_url("localhost", "/feed"), LOCAL) == "connection"
