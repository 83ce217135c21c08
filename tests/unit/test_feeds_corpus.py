"""Feed ingestion on the shared feed corpus (feedparser's test feeds with their expectations, real
feeds with other parsers' expected entries): floors at the measured figures
(`benchmarks/feeds_corpus.py` prints them)."""

from __future__ import annotations

import pytest

from support import CORPORA, needs_shared
from tollwatch.pipeline.feeds_eval import corpus_report

pytestmark = needs_shared


@pytest.fixture(scope="module")
def report():
    return corpus_report(CORPORA / "feeds")


def test_no_file_raises_and_every_file_is_read(report):
    summary = report.summary()
    assert summary["files"] >= 90 and summary["errors"] == 0


def test_feedparser_labels(report):
    summary = report.summary()
    assert summary["labels"] == 57 and summary["labels_matched"] >= 51
    # The hardening (entity checks, malformed-feed rule) loses none of what plain feedparser
    # meets, except one deliberate difference: ingestion knows the feed's address and resolves a
    # relative href inside a description against it.
    lost = {r.file for r in report.labels if r.feedparser_matched and not r.matched}
    assert lost == {"feedparser__wellformed__rss__item_description_not_a_doctype.xml"}


def test_expected_entries(report):
    summary = report.summary()
    assert summary["expected_files"] == 31
    assert summary["expected_files_same_count"] == 31
    assert summary["entries_compared"] == summary["expected_entries"] == 299
    assert summary["links_matched"] >= 299
    assert summary["titles_matched"] >= 288
    # Every title miss is the other parser's mis-decoding, not ours.
    assert summary["titles_matched"] + summary["title_misses_garbled_expected"] == 299
    assert summary["dates_matched"] >= 276 and summary["dated_entries"] == 277
