"""benchmarks/streaming_ttl.py: a labelled copy pair is lost to a live stream when its two pages'
dates are further apart than the TTL (a page arrives when it is published); a pair with an undated
page is counted apart."""

from __future__ import annotations

import sys

from apache_beam.utils.timestamp import Duration

from support import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

from streaming_ttl import measure  # noqa: E402

STORY = ("Floodwaters swept through the northern valley overnight, killing at least 1,240 people "
         "and leaving 3,500 missing, the regional governor said on Monday. Rescue teams reached the "
         "village of Tarvo by boat and found 212 survivors sheltering on rooftops.")


def part(root, dates: dict[str, str], pairs: list[tuple[str, str, str]]) -> None:
    text = root / "part_x" / "news_text"
    text.mkdir(parents=True)
    for name, date in dates.items():
        (text / name).write_text(f" date {date}\nurl: https://example.org/{name}\n{STORY}\n",
                                 encoding="utf-8")
    gold = root / "part_x" / "gold"
    gold.mkdir()
    rows = ["doc_a\tdoc_b\trelation\treason"] + ["\t".join(p) + "\twhy" for p in pairs]
    (gold / "dedup.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_pairs_further_apart_than_the_ttl_are_lost(tmp_path):
    part(tmp_path, {"a.txt": "2023-09-10", "b.txt": "2023-09-11", "c.txt": "2023-09-20",
                    "d.txt": "unknown"},
         [("a.txt", "b.txt", "near"), ("a.txt", "c.txt", "near"), ("b.txt", "d.txt", "rewrite"),
          ("a.txt", "d.txt", "none")])
    found = measure(tmp_path, Duration(seconds=2 * 86_400))
    assert (found["pairs"], found["dated"], found["undated"], found["mixed"]) == (3, 2, 1, 1)
    assert [(a, b) for _, a, b, _, _ in found["lost"]] == [("a.txt", "c.txt")]
    assert measure(tmp_path, Duration(seconds=10 * 86_400))["lost"] == []
