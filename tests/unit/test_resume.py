"""What a restarted stream has written already (transforms/resume.py): the keys read from OUT."""

from __future__ import annotations

import pyarrow.parquet as pq
from apache_beam.utils.timestamp import Duration, Timestamp

from tollwatch.schemas import Article, DeadLetter
from tollwatch.schemas.arrow import to_arrow_table
from tollwatch.transforms.resume import article_key, dead_letter_key, written_keys

NOW = Timestamp(1_790_000_000)
DAY = 86400


def article(doc_id: str, text: str, ingested: Timestamp) -> Article:
    return Article(doc_id, f"/drop/{doc_id}.txt", None, None, None, NOW - DAY, "metadata",
                   ingested, text, "en", [], 0, doc_id, None, None, None, True)


def write(folder, record_type, records) -> None:
    folder.mkdir(parents=True)
    pq.write_table(to_arrow_table(records, record_type), folder / "part-x-00000-of-00001.parquet")


def test_the_rows_written_within_the_ttl_are_known_by_their_text_and_failure(tmp_path):
    kept = article("a", "Ten people died in the flood.", NOW - 3600)
    forgotten = article("b", "Twenty were hurt.", NOW - 9 * DAY)  # past the watch TTL
    write(tmp_path / "articles" / "published_date=2026-09-20", Article, [kept, forgotten])
    unreadable = DeadLetter("/drop/x.jpg", "read", "unsupported_type", "no", 3, NOW - 60)
    fetch = DeadLetter("https://feed.example/x", "fetch", "timeout", "slow", None, NOW - 60)
    write(tmp_path / "dead_letters" / "ingested_date=2026-09-21", DeadLetter, [unreadable, fetch])
    keys = written_keys(str(tmp_path), Duration(seconds=7 * DAY), NOW)
    assert article_key(kept) in keys
    # The same file with another text is a new version; an article read long ago is not held.
    assert article_key(kept._replace(text="Eleven people died in the flood.")) not in keys
    assert article_key(forgotten) not in keys
    assert dead_letter_key(unreadable) in keys
    # A fetch that fails again is a new failure: written each time.
    assert dead_letter_key(fetch) is None
    assert len(keys) == 2


def test_an_output_folder_not_there_yet_holds_nothing(tmp_path):
    assert written_keys(str(tmp_path / "new"), Duration(seconds=DAY), NOW) == frozenset()


def test_a_damaged_file_is_passed_over(tmp_path):
    kept = article("a", "Ten people died in the flood.", NOW - 3600)
    write(tmp_path / "articles" / "published_date=2026-09-20", Article, [kept])
    (tmp_path / "articles" / "published_date=2026-09-20" / "part-y-00000-of-00001.parquet").write_bytes(
        b"PAR1 not a footer")
    assert written_keys(str(tmp_path), Duration(seconds=7 * DAY), NOW) == {article_key(kept)}
