"""Hostile feeds: plain feedparser.parse against tollwatch's parse_feed, one process per case so that
time and peak memory are each its own (peak memory added by the parse, over the process after its
imports).

    .venv/bin/python benchmarks/feeds_hostile.py

Cases: nested entities (billion laughs), one 100 kB entity used 20,000 times (quadratic blowup:
feedparser keeps such "safe" entities and its lenient parser expands them without limit), an
external entity, a 10 MB title, a 10 MB title of escaped HTML (some 20 s in feedparser's HTML
sanitizer). parse_feed turns the first three and the last two away before feedparser runs.
"""

from __future__ import annotations

import json
import subprocess
import sys

LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE rss [\n <!ENTITY l0 "lol">\n' + "".join(
    f' <!ENTITY l{i} "' + f"&l{i - 1};" * 10 + '">\n' for i in range(1, 10)) +
    ']>\n<rss version="2.0"><channel><title>t</title><item><title>&l9;</title>'
    "<link>http://x.example/1</link></item></channel></rss>")
QUADRATIC = ('<?xml version="1.0"?>\n<!DOCTYPE rss [\n <!ENTITY a "' + "A" * 100_000 + '">\n]>\n'
             '<rss version="2.0"><channel><title>t</title><item><title>' + "&a;" * 20_000 +
             "</title><link>http://x.example/1</link></item></channel></rss>")
XXE = ('<?xml version="1.0"?>\n<!DOCTYPE rss [\n <!ENTITY x SYSTEM "file:///etc/passwd">\n]>\n'
       '<rss version="2.0"><channel><title>t</title><item><title>&x;</title>'
       "<link>http://x.example/1</link></item></channel></rss>")
TITLE = ('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>' +
         "W " * 5_000_000 + "</title><link>http://x.example/1</link></item></channel></rss>")
HTML_TITLE = ('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>' +
              "&lt;b&gt;x&lt;/b&gt; " * 500_000 +
              "</title><link>http://x.example/1</link></item></channel></rss>")
CASES = {"billion laughs": LAUGHS, "quadratic blowup": QUADRATIC, "external entity": XXE,
         "10 MB title": TITLE, "10 MB escaped-HTML title": HTML_TITLE}

CHILD = r"""
import json, resource, sys, time
name, how = sys.argv[1], sys.argv[2]
sys.path.insert(0, "benchmarks")
from feeds_hostile import CASES
import feedparser
from tollwatch.transforms.inputs.feeds import FeedError, parse_feed
data = CASES[name].encode()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
try:
    if how == "feedparser":
        parsed = feedparser.parse(data)
    else:
        parsed = parse_feed(data, "http://x.example/feed", "application/rss+xml")
    title = parsed.entries[0].get("title", "") if parsed.entries else ""
    outcome = f"{len(parsed.entries)} entries, title of {len(title)} chars"
except FeedError as err:
    outcome = f"dead letter {err.kind}"
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "added_mb": peak - before,
                  "outcome": outcome}))
"""


def run(name: str, how: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, name, how], capture_output=True, text=True,
                         timeout=600)
    if out.returncode:
        return {"seconds": float("nan"), "added_mb": float("nan"),
                "outcome": f"failed: {out.stderr.strip().splitlines()[-1:]}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print(f"{'case':26} {'parser':11} {'bytes':>10} {'seconds':>8} {'+MB peak':>8}  outcome")
    for name, text in CASES.items():
        for how in ("feedparser", "parse_feed"):
            r = run(name, how)
            print(f"{name:26} {how:11} {len(text.encode()):>10} {r['seconds']:>8.2f} "
                  f"{r['added_mb']:>8.0f}  {r['outcome']}")


if __name__ == "__main__":
    main()
