"""A real HTTP server on loopback for the fetch and feed tests, scripted per path.

`FeedServer.routes[path] = Reply(...)` sets what a path answers; change it between polls to make a
feed gain entries, edit one, start failing or slow down. A list of replies is answered one per
request, the last one repeating: a feed that changes from one request to the next whatever the
timing (for pipelines, whose polls the test cannot interleave with). Every request is recorded (path and
headers) so tests can check conditional GETs and the User-Agent.
"""

from __future__ import annotations

import gzip
import ssl
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional, Union


@dataclass
class Reply:
    """What one path answers."""

    status: int = 200
    body: bytes = b""
    content_type: Optional[str] = "application/xml"
    headers: dict = field(default_factory=dict)
    # With an etag and/or last_modified, a request carrying the matching validator gets a 304.
    etag: Optional[str] = None
    last_modified: Optional[str] = None
    delay: float = 0.0                 # seconds before the status line
    trickle: Optional[float] = None    # send the body one byte at a time, this many seconds apart
    endless: bool = False              # stream zeros until the client hangs up (no Content-Length)
    declared_length: Optional[int] = None  # a Content-Length to announce instead of len(body)


@lru_cache(maxsize=None)
def gzip_bomb(decoded_bytes: int = 64 * 1024 * 1024) -> bytes:
    """`decoded_bytes` zeros, gzipped: about a thousand times smaller on the wire."""
    return gzip.compress(b"\0" * decoded_bytes, compresslevel=9)


class FeedServer:
    """A ThreadingHTTPServer on 127.0.0.1 with a random port; use as a context manager."""

    def __init__(self, tls: Optional[ssl.SSLContext] = None):
        self.scheme = "https" if tls else "http"
        self.routes: dict[str, Union[Reply, list[Reply]]] = {}
        self.fallback: Optional[Reply] = None  # what any other path answers (default: 404)
        self.requests: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # close-delimited bodies are allowed

            def log_message(self, *args):
                pass

            def do_GET(self):
                with server._lock:
                    server.requests.append((self.path, dict(self.headers)))
                    reply = server.routes.get(self.path, server.fallback)
                    if isinstance(reply, list):
                        reply = reply.pop(0) if len(reply) > 1 else reply[0]
                try:
                    self._answer(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should on a capped or slow response

            def _answer(self, reply: Optional[Reply]):
                if reply is None:
                    self.send_error(404)
                    return
                if reply.delay:
                    time.sleep(reply.delay)
                if self._not_modified(reply):
                    self.send_response(304)
                    self._validators(reply)
                    self.end_headers()
                    return
                self.send_response(reply.status)
                if reply.content_type:
                    self.send_header("Content-Type", reply.content_type)
                self._validators(reply)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.declared_length is not None:
                    self.send_header("Content-Length", str(reply.declared_length))
                elif not reply.endless:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.endless:
                    chunk = b"\0" * 65536
                    while True:
                        self.wfile.write(chunk)
                elif reply.trickle is not None:
                    for i in range(len(reply.body)):
                        self.wfile.write(reply.body[i:i + 1])
                        self.wfile.flush()
                        time.sleep(reply.trickle)
                else:
                    self.wfile.write(reply.body)

            def _not_modified(self, reply: Reply) -> bool:
                if reply.status != 200:
                    return False
                if reply.etag and self.headers.get("If-None-Match") == reply.etag:
                    return True
                return bool(reply.last_modified and not reply.etag
                            and self.headers.get("If-Modified-Since") == reply.last_modified)

            def _validators(self, reply: Reply):
                if reply.etag:
                    self.send_header("ETag", reply.etag)
                if reply.last_modified:
                    self.send_header("Last-Modified", reply.last_modified)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def host_url(self, host: str, path: str) -> str:
        """The URL of `path` under another host name for the same server (e.g. 'localhost')."""
        return f"{self.scheme}://{host}:{self._httpd.server_address[1]}{path}"

    def requests_for(self, path: str) -> list[dict]:
        """The headers of every request made for `path`, oldest first."""
        with self._lock:
            return [headers for p, headers in self.requests if p == path]

    def __enter__(self) -> "FeedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


# Documents the feed tests serve: an article page, an RSS feed, a full entry and a teaser entry.
TEXT = ("Rescue crews in the valley town of Brenn said on Sunday that the river had fallen below "
        "the flood mark for the first time in a week, and that families could return to the "
        "lower streets once engineers had checked the bridge and the water supply.")


def article_page(title: str) -> bytes:
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>{TEXT}</p><p>{TEXT}</p></article></body></html>").encode()


def rss(*items: str, title: str = "Brenn Evening Post") -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>{title}</title><link>http://brenn-post.example/</link>"
            f"<description>News</description>{''.join(items)}</channel></rss>").encode()


def full_item(guid: str, title: str, pub: str = "Sun, 09 Mar 2025 10:00:00 GMT") -> str:
    return (f'<item><title>{title}</title><link>http://brenn-post.example/{guid}</link>'
            f'<guid isPermaLink="false">{guid}</guid><pubDate>{pub}</pubDate>'
            f"<content:encoded><![CDATA[<p>{title}. {TEXT}</p>]]></content:encoded></item>")


def teaser_item(guid: str, title: str, link: str) -> str:
    return (f'<item><title>{title}</title><link>{link}</link><guid isPermaLink="false">{guid}</guid>'
            "<description>Read more.</description></item>")
