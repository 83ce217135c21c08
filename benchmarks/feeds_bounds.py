"""A poll's bounds at two sizes (issue 17, item 10): time and peak memory of one `poll_feed` against
a loopback server, one process per case so that each peak is its own.

    .venv/bin/python benchmarks/feeds_bounds.py

- a feed listing 10,000 and 20,000 entries (each carrying its article): 5,000 are read
  (`max_entries`), the rest counted in one `too_many_entries` dead letter;
- a feed linking 25 and 50 pages that trickle (one byte every 50 ms): each page's fetch is cut at
  the 1 s timeout, and the poll stops fetching at its `max_fetch_seconds` (3 s); the pages not
  reached wait for the next poll.
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, "tests")
kind, size = sys.argv[1], int(sys.argv[2])
from apache_beam.utils.timestamp import Timestamp
from feed_server import FeedServer, Reply
from tollwatch.transforms.inputs.feeds import Feed, PollLimits, poll_feed
from tollwatch.transforms.inputs.fetch import FetchPolicy

TEXT = ("Rescue crews said the river had fallen below the flood mark for the first time in a "
        "week, and that families could return once engineers had checked the bridge. ") * 2


def item(i, body):
    return (f'<item><title>Item {i}</title><guid isPermaLink="false">e-{i}</guid>{body}</item>')


with FeedServer() as server:
    if kind == "entries":
        body = "".join(item(i, f"<content:encoded><![CDATA[<p>{i}. {TEXT}</p>]]></content:encoded>")
                       for i in range(size))
        limits, policy = PollLimits(), FetchPolicy(timeout=20.0, allow_private_hosts=True)
    else:
        slow = Reply(body=b"<html><body><p>" + TEXT.encode() + b"</p></body></html>",
                     content_type="text/html", trickle=0.05)
        for i in range(size):
            server.routes[f"/p/{i}.html"] = slow
        body = "".join(item(i, f"<link>{server.url(f'/p/{i}.html')}</link>") for i in range(size))
        limits = PollLimits(max_fetch_seconds=3.0, max_pages_per_poll=size)
        policy = FetchPolicy(timeout=1.0, allow_private_hosts=True)
    server.routes["/feed.xml"] = Reply(body=(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>'
        f"{body}</channel></rss>").encode())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    raw_docs, dead, cursor = poll_feed(Feed(server.url("/feed.xml")), None,
                                       Timestamp.now(), policy, limits)
    seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "added_mb": peak - before, "raw_docs": len(raw_docs),
                  "dead": [(d.error_type, d.message[:60]) for d in dead],
                  "outcome": cursor.outcome}))
"""


def run(kind: str, size: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(size)], capture_output=True,
                         text=True, timeout=600)
    if out.returncode:
        raise RuntimeError(out.stderr.strip().splitlines()[-1:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print(f"{'case':24} {'size':>6} {'seconds':>8} {'+MB peak':>8}  outcome")
    for kind, sizes in (("entries", (10_000, 20_000)), ("trickling pages", (25, 50))):
        for size in sizes:
            r = run(kind.split()[0], size)
            print(f"{kind:24} {size:>6} {r['seconds']:>8.2f} {r['added_mb']:>8.0f}  "
                  f"{r['outcome']}; dead letters: {r['dead']}")


if __name__ == "__main__":
    main()
