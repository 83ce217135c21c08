"""One document's failure is that document's dead letter, never the run's.

Every stage that handles one document at a time (read, extract, repeats, events, staging, claims)
catches what its work on a document raises and emits a DeadLetter naming the document and the
stage instead: an exception escaping a DoFn fails the bundle, and Beam's local runner fails the
whole run (a poison document in a watched folder or feed would then fail every `follow` restart).
"""

from __future__ import annotations

from typing import Optional

from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas import Article, DeadLetter

MAX_MESSAGE_CHARS = 2000


def failure(uri: str, stage: str, error: BaseException, size: Optional[int],
            at: Timestamp) -> DeadLetter:
    """The DeadLetter of `error`, raised by `stage` on the document read from `uri`."""
    try:
        message = str(error)[:MAX_MESSAGE_CHARS]
    except Exception:  # noqa: BLE001 - an exception whose str() raises still names its type
        message = ""
    return DeadLetter(uri=uri, stage=stage, error_type=type(error).__name__, message=message,
                      size_bytes=size, ingested_at=at)


def article_failure(article: Article, stage: str, error: BaseException) -> DeadLetter:
    """The DeadLetter of an article a stage failed on: its uri, the size of its text, and its
    ingestion time (so a rerun writes the same row)."""
    text = article.text or ""
    return failure(article.uri, stage, error, len(text.encode("utf-8", "replace")),
                   article.ingested_at or Timestamp.now())
