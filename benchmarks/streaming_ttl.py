"""How many labelled real copies the streaming state would lose: realdev's copy pairs published
further apart in time than ``MarkNearDuplicates`` keeps a signature.

    .venv/bin/python benchmarks/streaming_ttl.py [REALDEV] [--ttl-days D]

In streaming each band key holds a signature until the watermark is ``ttl`` past the article's
arrival (``streaming.at_arrival``: when it was read, not its page's date), so a pair is compared if
its two pages arrive within the TTL (``duplicates.settings.TTL``, 2 days). In a live stream a page
arrives about when it is published: a pair whose two pages are dated further apart than the TTL is
lost. The dates are the pipeline's own: each file is read and extracted as ``tollwatch run`` does
(``extract.extract_articles``). A pair with a page that shows no date is counted apart: when it
would arrive is not in the data. A replay of the files (all read together) loses no pair.
Figures only; nothing is written.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from pathlib import Path

from apache_beam.utils.timestamp import Duration, Timestamp

from tollwatch.schemas.records import Article, RawDoc
from tollwatch.transforms.duplicates.settings import TTL
from tollwatch.transforms.extract import extract_articles

DEFAULT_REALDEV = Path(__file__).resolve().parents[2] / "shared" / "realdev"
# A page's own date (the other sources are the file's time or the ingestion time: guesses).
DATED = ("metadata", "feed", "text")
COPY_RELATIONS = ("exact", "near", "rewrite")


def part_articles(part: Path, arrival: Timestamp) -> dict[str, Article]:
    "File name -> the Article the pipeline extracts from it, every file arriving at `arrival`."
    out = {}
    for path in sorted((part / "news_text").glob("*.txt")):
        raw = RawDoc(str(path), None, None, arrival, path.read_bytes(), None, arrival)
        for found in extract_articles(raw):
            if isinstance(found, Article):
                out[path.name] = found
    return out


def copy_pairs(part: Path) -> list[tuple[str, str, str]]:
    "(doc_a, doc_b, relation) of the labelled copy pairs of a part."
    with open(part / "gold" / "dedup.tsv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    return [(r[0], r[1], r[2]) for r in rows[1:] if len(r) >= 3 and r[2] in COPY_RELATIONS]


def measure(realdev: Path, ttl: Duration) -> dict:
    """Counts over every part: labelled copy pairs, those with both pages dated, of them the ones
    further apart than `ttl` (lost, with their gaps), and the pairs with an undated page."""
    arrival = Timestamp.from_utc_datetime(dt.datetime(2026, 12, 5, tzinfo=dt.timezone.utc))
    result = {"pairs": 0, "dated": 0, "lost": [], "undated": 0, "mixed": 0, "gaps_days": []}
    for part in sorted(p for p in realdev.iterdir() if (p / "gold" / "dedup.tsv").is_file()):
        articles = part_articles(part, arrival)
        for a, b, relation in copy_pairs(part):
            result["pairs"] += 1
            x, y = articles.get(a), articles.get(b)
            dated = [t is not None and t.date_source in DATED for t in (x, y)]
            if not all(dated):
                result["undated"] += 1
                result["mixed"] += any(dated)
                continue
            result["dated"] += 1
            gap = abs(x.published_at.micros - y.published_at.micros)
            result["gaps_days"].append(gap / 86_400e6)
            if gap > ttl.micros:
                result["lost"].append((part.name, a, b, relation, gap / 86_400e6))
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("realdev", nargs="?", default=str(DEFAULT_REALDEV))
    parser.add_argument("--ttl-days", type=float, default=TTL.micros / 86_400e6,
                        help="the streaming TTL to measure (default: duplicates.settings.TTL)")
    args = parser.parse_args(argv)
    ttl = Duration(seconds=args.ttl_days * 86_400)
    r = measure(Path(args.realdev), ttl)
    gaps = sorted(r["gaps_days"])
    print(f"TTL {args.ttl_days:g} day(s); labelled copy pairs {r['pairs']}")
    print(f"both pages dated: {r['dated']}; published further apart than the TTL (lost in a live "
          f"stream): {len(r['lost'])}")
    for part, a, b, relation, days in r["lost"]:
        print(f"  - {part}: {a} ~ {b} ({relation}) {days:.1f} days apart")
    if gaps:
        print(f"gaps of the dated pairs, days: max {gaps[-1]:.1f}; "
              f"within 1 day {sum(g <= 1 for g in gaps)}, 2 days {sum(g <= 2 for g in gaps)}, "
              f"7 days {sum(g <= 7 for g in gaps)}")
    print(f"a page undated: {r['undated']} ({r['mixed']} with the other page dated): kept if the two "
          f"arrive within the TTL; a replay of the files, all read together, loses no pair")
    return 0


if __name__ == "__main__":
    sys.exit(main())
