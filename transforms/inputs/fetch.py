"""A safe HTTP GET for feeds and the pages they link to.

Everything tollwatch fetches from the network goes through `fetch()`, which guarantees:

- only `http` and `https` URLs;
- the host is resolved once, every address it resolves to is checked, and the connection goes to
  the checked address (so a DNS answer cannot change between check and connect); private,
  loopback, link-local, reserved, multicast and unspecified addresses are refused unless in
  `allowed_networks` (one intranet server) or `allow_private_hosts=True` (any);
- redirects are followed here, at most `max_redirects`, each hop re-checked (scheme and address);
- one deadline for the whole request, redirects included: a server that trickles bytes is cut at
  the deadline, not only when one read stalls;
- a cap on the decoded body: a gzip bomb is cut at the cap, a huge body is streamed and cut, never
  read whole;
- conditional GET (`etag`, `last_modified`) with 304 reported as `not_modified`;
- a User-Agent naming tollwatch and its version.

Failures raise `FetchError` whose `kind` is a short machine-readable word (`FETCH_ERROR_KINDS`); it
becomes a DeadLetter's `error_type`.
"""

from __future__ import annotations

import concurrent.futures
import email.utils
import ipaddress
import socket
import ssl
import threading
import time
from typing import NamedTuple, Optional
from urllib.parse import quote, urljoin, urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection

# Tunables.
DEFAULT_TIMEOUT_SECONDS = 20.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5
_READ_CHUNK = 64 * 1024
_REDIRECT_STATUSES = (301, 302, 303, 307, 308)

FETCH_ERROR_KINDS = (
    "bad_url",           # not a URL we can request (no host, bad port, control characters)
    "bad_scheme",        # not http or https
    "dns",               # the host does not resolve
    "refused_address",   # the host resolves to a private, loopback, link-local... address
    "timeout",           # the deadline passed (connect, headers or body)
    "connection",        # refused, reset, TLS failure, malformed HTTP
    "too_large",         # the decoded body is over the cap
    "http_status",       # a status other than 2xx, 304 or a followed redirect
    "redirect_loop",     # a redirect back to a URL already visited
    "too_many_redirects",
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tollwatch")
    except PackageNotFoundError:
        return "dev"


USER_AGENT = f"tollwatch/{_version()} (news feed reader; urllib3/{urllib3.__version__})"


# Statuses that say "later", not "never".
_TRANSIENT_STATUSES = (408, 425, 429, 500, 502, 503, 504)
# Retry-After is read on these (RFC 9110: 503 and 429; 3xx is followed here, not retried).
_RETRY_AFTER_STATUSES = (429, 503)


class FetchError(Exception):
    """A request that gave no usable response; `kind` is one of FETCH_ERROR_KINDS.
    `retry_after`: the seconds a 429 or 503 asked to wait (its Retry-After), else None."""

    def __init__(self, kind: str, message: str, url: str, status: Optional[int] = None,
                 retry_after: Optional[float] = None):
        super().__init__(message)
        self.kind = kind
        self.url = url
        self.status = status
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Whether the same request may succeed later: a timeout, a connection failure, a 5xx or
        a 429; not a refused address, a 404 or a body over the cap."""
        if self.kind in ("timeout", "connection"):
            return True
        return self.kind == "http_status" and self.status in _TRANSIENT_STATUSES


def retry_after_seconds(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """The wait a Retry-After header asks for, in seconds (delay-seconds or an HTTP date); None
    when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class FetchPolicy(NamedTuple):
    """The limits of every request: one value, passed whole to the transforms that fetch."""

    timeout: float = DEFAULT_TIMEOUT_SECONDS    # seconds for the whole request, redirects included
    max_bytes: int = DEFAULT_MAX_BYTES          # cap on the decoded body
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    allow_private_hosts: bool = False           # --allow-private-hosts: any address is fetched
    # Networks fetched from although not public (e.g. ("10.1.2.0/24",) for one intranet server).
    allowed_networks: tuple[str, ...] = ()
    ca_file: Optional[str] = None               # CA bundle for https; None: the system's

    def validate(self) -> "FetchPolicy":
        """The policy itself; ValueError for a bad value, so a bad option fails at construction."""
        if not self.timeout > 0:
            raise ValueError(f"timeout must be positive, got {self.timeout}")
        if self.max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {self.max_bytes}")
        if self.max_redirects < 0:
            raise ValueError(f"max_redirects must be >= 0, got {self.max_redirects}")
        for network in self.allowed_networks:
            ipaddress.ip_network(network)  # raises ValueError for a bad one
        return self

    def allows(self, address: str) -> bool:
        """True if a connection to this IP address is allowed."""
        if self.allow_private_hosts or address_is_public(address):
            return True
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        return any(ip in ipaddress.ip_network(n) for n in self.allowed_networks)


class FetchResult(NamedTuple):
    """The outcome of a successful request (2xx, or 304 when `not_modified`)."""

    status: int
    url: str                       # the final URL, after redirects
    content: bytes                 # the decoded body; b"" when not_modified
    content_type: Optional[str]
    etag: Optional[str]
    last_modified: Optional[str]
    not_modified: bool


def address_is_public(address: str) -> bool:
    """True if an IP address may be fetched from without --allow-private-hosts."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address carried inside IPv6 is judged as that IPv4 address.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return address_is_public(str(embedded))
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local
                                 or ip.is_reserved or ip.is_multicast or ip.is_unspecified)


# getaddrinfo has no timeout of its own; a small pool lets a request give up on a slow resolver.
_RESOLVER = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="tollwatch-dns")


def resolve(host: str, port: int, policy: FetchPolicy, url: str, timeout: float) -> str:
    """The address to connect to: the first one `host` resolves to, after checking all of them."""
    future = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(timeout, 0.001))
    except concurrent.futures.TimeoutError:
        raise FetchError("timeout", f"resolving {host!r} took longer than the deadline", url)
    except (socket.gaierror, UnicodeError, OSError) as err:
        raise FetchError("dns", f"cannot resolve {host!r}: {err}", url) from err
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise FetchError("dns", f"{host!r} resolves to no address", url)
    # Any refused answer refuses the host: a name that mixes public and private addresses is how
    # DNS rebinding reaches an internal service.
    bad = [a for a in addresses if not policy.allows(a)]
    if bad:
        raise FetchError("refused_address", f"{host!r} resolves to non-public address {bad[0]} "
                         "(allow its network with --allow-network CIDR)", url)
    return addresses[0]


_PATH_SAFE = "/%:@!$&'()*+,;=-._~?"


def _target(parts) -> str:
    """The request target (path and query), with spaces and non-ASCII percent-encoded."""
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    return f"{path}?{quote(parts.query, safe=_PATH_SAFE)}" if parts.query else path


def _host_header(host: str, port: Optional[int], scheme: str) -> str:
    name = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return name if port in (None, default) else f"{name}:{port}"


class _Watchdog:
    """Cuts a socket at the deadline, whatever the server trickles: per-read timeouts alone let a
    server that sends one byte a second hold a request open forever."""

    def __init__(self, sock: socket.socket, seconds: float):
        self.fired = False
        self._sock = sock  # held here: http.client drops conn.sock once a closing response starts
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        self._timer.cancel()


def _header(resp, name: str) -> Optional[str]:
    value = resp.headers.get(name)
    return value.strip() if value else None


def fetch(url: str, policy: FetchPolicy = FetchPolicy(), *, etag: Optional[str] = None,
          last_modified: Optional[str] = None, accept: str = "*/*") -> FetchResult:
    """GET `url` within the policy's limits; raises FetchError (see the module docstring)."""
    deadline = time.monotonic() + policy.timeout
    visited = [url]
    current = url
    while True:
        resp_or_result = _request_once(current, policy, etag, last_modified, deadline, accept)
        if isinstance(resp_or_result, FetchResult):
            return resp_or_result
        location = resp_or_result
        target = urljoin(current, location)
        if target in visited:
            raise FetchError("redirect_loop", f"redirect back to {target}", url)
        if len(visited) > policy.max_redirects:
            raise FetchError("too_many_redirects", f"more than {policy.max_redirects} redirects",
                             url)
        visited.append(target)
        current = target


def _request_once(url: str, policy: FetchPolicy, etag: Optional[str],
                  last_modified: Optional[str], deadline: float, accept: str):
    """A FetchResult, or the Location of a redirect to follow."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise FetchError("bad_url", f"not a valid URL: {err}", url) from err
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError("bad_scheme", f"only http and https are fetched, not {scheme or 'none'!r}",
                         url)
    host = parts.hostname
    if not host:
        raise FetchError("bad_url", "the URL has no host", url)
    port = port or (443 if scheme == "https" else 80)

    address = resolve(host, port, policy, url, deadline - time.monotonic())
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError("timeout", "the deadline passed while resolving the host", url)
    if scheme == "https":
        # Connect to the checked address, but verify the certificate for (and send SNI with) the
        # host name.
        conn = HTTPSConnection(address, port, timeout=remaining, server_hostname=host,
                               assert_hostname=host, cert_reqs="CERT_REQUIRED",
                               ssl_context=ssl.create_default_context(cafile=policy.ca_file))
    else:
        conn = HTTPConnection(address, port, timeout=remaining)
    headers = {
        "Host": _host_header(host, parts.port, scheme),
        "User-Agent": USER_AGENT,
        "Accept": accept,
        "Accept-Encoding": "gzip, deflate",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    watchdog = None
    try:
        conn.connect()
        watchdog = _Watchdog(conn.sock, deadline - time.monotonic())
        try:
            conn.request("GET", _target(parts), headers=headers, preload_content=False)
            resp = conn.getresponse()
        except ValueError as err:  # http.client rejects control characters in the target
            raise FetchError("bad_url", f"cannot request this URL: {err}", url) from err
        status = resp.status
        if status in _REDIRECT_STATUSES:
            location = resp.headers.get("Location")
            if not location:
                raise FetchError("http_status", f"HTTP {status} without a Location", url, status)
            return location
        if status == 304:
            return FetchResult(304, url, b"", _header(resp, "Content-Type"),
                               _header(resp, "ETag") or etag,
                               _header(resp, "Last-Modified") or last_modified, True)
        if not 200 <= status < 300:
            wait = retry_after_seconds(_header(resp, "Retry-After")) \
                if status in _RETRY_AFTER_STATUSES else None
            raise FetchError("http_status", f"HTTP {status} {resp.reason or ''}".strip()
                             + (f" (Retry-After: {wait:g} s)" if wait is not None else ""), url,
                             status, retry_after=wait)
        content = _read_capped(resp, policy.max_bytes, url)
        if watchdog.fired:
            raise FetchError("timeout", "the deadline passed while reading the body", url)
        return FetchResult(status, url, content, _header(resp, "Content-Type"),
                           _header(resp, "ETag"), _header(resp, "Last-Modified"), False)
    except FetchError:
        raise
    except Exception as err:  # urllib3, http.client, ssl and socket each raise their own types
        # urllib3's NewConnectionError subclasses its TimeoutError, but means refused or unreachable.
        timed_out = isinstance(err, (TimeoutError, urllib3.exceptions.TimeoutError)) and not \
            isinstance(err, urllib3.exceptions.NewConnectionError)
        if timed_out or (watchdog is not None and watchdog.fired):
            raise FetchError("timeout", f"no complete response within the deadline ({err})",
                             url) from err
        raise FetchError("connection", f"{type(err).__name__}: {err}"[:500], url) from err
    finally:
        if watchdog is not None:
            watchdog.cancel()
        conn.close()


def _read_capped(resp, max_bytes: int, url: str) -> bytes:
    """The decoded body, or FetchError('too_large') as soon as it passes `max_bytes`."""
    length = resp.headers.get("Content-Length")
    encoded = resp.headers.get("Content-Encoding", "identity").strip().lower() != "identity"
    if length and length.isdigit() and int(length) > max_bytes and not encoded:
        raise FetchError("too_large", f"Content-Length {length} is over the {max_bytes}-byte cap",
                         url)
    chunks, total = [], 0
    # urllib3 bounds each decompression step by the chunk size, so a bomb never inflates whole.
    for chunk in resp.stream(_READ_CHUNK, decode_content=True):
        total += len(chunk)
        if total > max_bytes:
            raise FetchError("too_large", f"the decoded body is over the {max_bytes}-byte cap", url)
        chunks.append(chunk)
    return b"".join(chunks)
