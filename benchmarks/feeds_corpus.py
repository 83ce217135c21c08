"""Feed ingestion on the shared feed corpus: how many files, entries and labels match.

    .venv/bin/python benchmarks/feeds_corpus.py [--corpus ../shared/corpora/feeds] [--misses]

Prints the figures of `tollwatch.pipeline.feeds_eval.corpus_report` (see its docstring for what
is compared and how) and, with --misses, every label and entry that does not match.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tollwatch.pipeline.feeds_eval import corpus_report

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "feeds"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--misses", action="store_true", help="list every miss")
    args = parser.parse_args()
    started = time.perf_counter()
    report = corpus_report(args.corpus)
    seconds = time.perf_counter() - started
    s = report.summary()
    print(f"corpus: {args.corpus} ({s['files']} feed files, {seconds:.1f} s)")
    print(f"labels (feedparser's expectations): {s['labels_matched']}/{s['labels']} met by "
          f"ingestion's parse; {s['labels_matched_by_plain_feedparser']}/{s['labels']} by plain "
          "feedparser.parse")
    print(f"expected entries (rss-parser, feed-rs): {s['expected_files_same_count']}/"
          f"{s['expected_files']} files with the same entry count; "
          f"titles {s['titles_matched']}/{s['entries_compared']} "
          f"({s['title_misses_garbled_expected']} misses: the expected title holds U+FFFD), "
          f"links {s['links_matched']}/{s['entries_compared']}, "
          f"dates {s['dates_matched']}/{s['dated_entries']}")
    print(f"poll (no page fetched): {s['poll_raw_docs']} entries carried as articles "
          f"({s['poll_articles']} articles after ExtractArticles), {s['poll_pages']} entries "
          f"whose page would be fetched, dead letters {dict(s['poll_dead_letters'])}")
    print(f"batch path (feed files): {s['batch_articles']} articles, dead letters "
          f"{dict(s['batch_dead_letters'])}")
    print(f"exceptions: {s['errors']}")
    if args.misses:
        for label in report.labels:
            if not label.matched:
                print(f"label miss: {label.file}: {label.expect} ({label.detail}; plain feedparser "
                      f"{'meets' if label.feedparser_matched else 'misses'} it too)"
                      if not label.feedparser_matched else
                      f"label miss: {label.file}: {label.expect} ({label.detail})")
        for compared in report.entries:
            for miss in compared.misses:
                print(f"entry miss: {compared.file}: {miss}"[:300])
        for outcome in report.outcomes:
            if outcome.error:
                print(f"exception: {outcome.file}: {outcome.error}")


if __name__ == "__main__":
    main()
