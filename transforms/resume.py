"""What a restarted stream has written already: it reads its sources again, and writes nothing twice.

A stream's sources keep what they have read in the runner's state (WatchFolder: each path's
version; ReadFeeds: each feed's seen entries), which a new job starts without: a restarted
`run --streaming --watch DIR` lists every file of DIR and polls every feed entry again. What the
output folder holds is the memory that survives the job, and the only one that is right after a
crash (a record is read when its row is written, not when it was handed to the runner). So when
the graph is built, the stream reads what OUT holds:

- the articles written within the watch TTL, as `(doc_id, text hash)`: an article read again
  with the same text is skipped, an edited file (same doc_id, another text) is a new version;
- the dead letters of reading and extracting (a file that fails again the same way is the same
  failure); the failures of fetching, which recur with time, are written each time;
- the claims of the current versions of those articles, which go into the toll only (its
  windows live in the runner too), so the toll after a restart counts them as before. A file
  edited while the stream was down is read as a new version, and until a batch run over the
  output, the toll of the restarted stream counts the claims of both versions.
"""

from __future__ import annotations

import logging
import os
from typing import Iterable, Iterator, Optional

import apache_beam as beam
from apache_beam.utils.timestamp import Duration, Timestamp

from tollwatch.schemas import Article, DeadLetter
from tollwatch.transforms.extract import normalized_text_hash
from tollwatch.transforms.parquet import file_rows, table_files
from tollwatch.transforms import METRICS_NAMESPACE

__all__ = ["SkipWritten", "article_key", "dead_letter_key", "written_keys"]

_LOG = logging.getLogger("tollwatch")

# The dead letters of a file read again; fetch failures happen again with time: each is written.
_REREAD_STAGES = frozenset({"read", "extract"})


def article_key(article: Article) -> str:
    return f"{article.doc_id}:{normalized_text_hash(article.text or '')}"


def dead_letter_key(letter: DeadLetter) -> Optional[str]:
    """The identity of a dead letter that reading the same file again gives again (None: any
    other, written each time)."""
    if letter.stage not in _REREAD_STAGES:
        return None
    return "\x1f".join(map(str, (letter.uri, letter.stage, letter.error_type, letter.size_bytes)))


def _rows(files: list[str], columns: list[str], since: Timestamp,
          clock_column: str) -> Iterator[dict]:
    """The rows of the Parquet `files` (local or a bucket) whose `clock_column` is at or after
    `since`, batch by batch. A file that cannot be read is passed over: its rows, if any, are
    written again rather than the stream not starting."""
    cut = since.to_utc_datetime(has_tz=True)
    for path in files:
        try:
            for row in file_rows(path, columns):
                if row.get(clock_column) is not None and row[clock_column] >= cut:
                    yield row
        except Exception as err:  # noqa: BLE001 - a damaged file must not stop the start
            _LOG.warning("read again, since unreadable: %s (%s)", path, err)


def written_keys(output: str, ttl: Duration, now: Optional[Timestamp] = None) -> frozenset[str]:
    """The keys (`article_key`, `dead_letter_key`) of the rows OUT holds that were ingested within
    `ttl` before `now`: what a stream starting now reads again and must not write again. A file
    last modified before that is not taken by WatchFolder at all."""
    if "://" not in output and not os.path.isdir(output):
        return frozenset()
    since = (now or Timestamp.now()) - ttl
    keys = set()
    for row in _rows(table_files(output, "articles"), ["doc_id", "text", "ingested_at"], since,
                     "ingested_at"):
        keys.add(f"{row['doc_id']}:{normalized_text_hash(row['text'] or '')}")
    for row in _rows(table_files(output, "dead_letters"),
                     ["uri", "stage", "error_type", "size_bytes", "ingested_at"], since, "ingested_at"):
        if row["stage"] in _REREAD_STAGES:
            keys.add("\x1f".join(map(str, (row["uri"], row["stage"], row["error_type"],
                                           row["size_bytes"]))))
    return frozenset(keys)


class _SkipFn(beam.DoFn):
    def __init__(self, keys: frozenset, key_of):
        self._keys = keys
        self._key_of = key_of
        self._skipped = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "written_before")

    def process(self, record) -> Iterable:
        if self._key_of(record) in self._keys:
            self._skipped.inc()
            return
        yield record


class SkipWritten(beam.PTransform):
    """Records whose key (`key_of`) is among `keys` (rows OUT already holds) are left out and
    counted (`written_before`)."""

    def __init__(self, keys: frozenset, key_of):
        super().__init__()
        self._keys = keys
        self._key_of = key_of

    def expand(self, records):
        return records | "Skip" >> beam.ParDo(_SkipFn(self._keys, self._key_of)).with_output_types(
            records.element_type)
