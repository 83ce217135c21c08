"""Records the stages pass each other through the runner (PCollection elements, side inputs) that are
not tables of the output: one definition each, beside the output records of `records.py`.

Those with only Beam-codable fields are registered with Beam's ``RowCoder`` here, as the output records
are; ``EventTraits`` holds a ``datetime`` (RowCoder has none), so Beam pickles it, as it did before it
moved here.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple, Optional, Sequence

from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas.records import register_row_coder

# A feed polled without its own interval: every five minutes.
DEFAULT_POLL_SECONDS = 300.0

# (path, size in bytes, last updated in seconds): what a read needs of a matched file, as a tuple
# of primitives (FileMetadata has no coder: it is pickled, and a runner that holds a shuffle in
# memory holds it decoded, ~360 B beside its path). ReadFiles' batches and reads carry these.
FileRef = tuple[str, int, float]


class Feed(NamedTuple):
    """One feed to poll (ReadFeeds, PollFeeds: keyed by its URL)."""

    url: str
    name: Optional[str] = None
    poll_seconds: float = DEFAULT_POLL_SECONDS


class EventSpan(NamedTuple):
    """What the output's `articles` tell of the events already there: one article's events and
    date (the columns read of earlier runs' files, InferEvents' input)."""

    event_ids: Optional[Sequence[str]]
    published_at: Optional[Timestamp]
    date_source: Optional[str]


class EventTraits(NamedTuple):
    """What event inference knows of one article (InferEvents gathers them into one list)."""

    doc_id: str
    published: Optional[dt.datetime]  # None unless the date came from the article itself
    places: tuple[str, ...]  # its heaviest places, heaviest first


class TollClaim(NamedTuple):
    """What the toll reads of a claim: the batch path groups these, not whole claims (a claim carries
    its sentence)."""

    claim_id: str
    doc_id: str
    outlet: Optional[str]
    published_at: Timestamp
    source: Optional[str]
    value_low: Optional[int]
    value_high: Optional[int]
    is_copy: bool


class ArticleVersion(NamedTuple):
    """Which run wrote an article's row, when it was read and its publication time: the current
    version of an article is its latest read (as the `articles` view keeps it). Read from the
    output's `articles` (these columns and the run key of the file) for WithEarlierClaims."""

    doc_id: str
    ingested_at: Timestamp
    run_key: str
    published_at: Timestamp


register_row_coder(Feed, EventSpan, TollClaim, ArticleVersion)
