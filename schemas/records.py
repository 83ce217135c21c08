"""The record types of tollwatch: one definition each, from which Beam's coders and the Parquet
(Arrow) schemas are derived.

Each record is a ``typing.NamedTuple`` registered with Beam's ``RowCoder``, so PCollections of them are
schema'd rows (cheap, deterministic coding) rather than pickled objects. Times are Beam
``Timestamp`` values (microseconds since the epoch, UTC by definition) and become
``timestamp[us, tz=UTC]`` columns. Field names are a contract with users' SQL: keep them.
"""

from __future__ import annotations

import typing
from typing import NamedTuple, Optional, Sequence

import apache_beam as beam
from apache_beam.utils.timestamp import Timestamp

# Enumerations: these words and nothing else appear in the output.
DATE_SOURCES = ("metadata", "feed", "text", "file_mtime", "ingested")
COPY_KINDS = ("exact", "near", "rewrite")
MEASURES = ("killed", "injured", "casualties", "missing")
QUALIFIERS = ("exact", "at_least", "more_than", "range", "about", "up_to", "vague")
GROUPS = ("total", "civilians", "security_forces", "combatants", "children", "women", "unspecified")
SCOPES = ("overall", "incident")
PANE_TIMINGS = ("early", "on_time", "late", "unknown")
TOLL_SERIES = ("window", "as_of")
# DeadLetter.stage: the step that gave up on the input (`earlier_output`: a damaged file of OUT set
# aside before the run, transforms/quarantine.py).
STAGES = ("read", "fetch", "extract", "repeats", "events", "stage", "sign", "claims", "earlier_output")


class RawDoc(NamedTuple):
    """Bytes as they were read from a file or fetched from a feed, before any parsing."""

    uri: str
    feed_url: Optional[str]
    entry_id: Optional[str]
    fetched_at: Timestamp
    content: bytes
    content_type: Optional[str]
    # The file's own modification time: the last fallback for a publication date.
    modified_at: Optional[Timestamp]


class Article(NamedTuple):
    """One news article: its text, where it came from, when it was published, and whether it is a
    copy of another article."""

    doc_id: str
    uri: str
    url: Optional[str]
    outlet: Optional[str]
    title: Optional[str]
    published_at: Timestamp
    date_source: str
    ingested_at: Timestamp
    text: str
    language: Optional[str]
    event_ids: Sequence[str]
    n_repeats_removed: int
    story_id: Optional[str]
    copy_of: Optional[str]
    copy_kind: Optional[str]
    copy_similarity: Optional[float]
    is_canonical: bool


class Claim(NamedTuple):
    """One casualty figure stated in an article, with who states it, about whom, where and when."""

    claim_id: str
    claim_key: str
    doc_id: str
    event_id: Optional[str]
    outlet: Optional[str]
    published_at: Timestamp
    # The article's: 'file_mtime' or 'ingested' mean the time is a guess.
    date_source: str
    measure: str
    number: Optional[int]
    number_high: Optional[int]
    qualifier: str
    value_low: Optional[int]
    value_high: Optional[int]
    group: str
    group_text: Optional[str]
    source: Optional[str]
    source_text: Optional[str]
    scope: str
    location: Optional[str]
    period_text: Optional[str]
    period_start: Optional[Timestamp]
    sentence: str
    char_start: int
    char_end: int
    is_copy: bool
    canonical_id: str


class SourceFigure(NamedTuple):
    """A source's latest figure inside one toll window."""

    source: str
    value_low: Optional[int]
    value_high: Optional[int]
    claim_id: str
    published_at: Timestamp


class TollWindow(NamedTuple):
    """The toll for one (event, measure, group) in one event-time window, as of one pane."""

    event_id: str
    measure: str
    group: str
    # 'window': what was reported in the window; 'as_of': the toll as known at window_end.
    series: str
    window_start: Timestamp
    window_end: Timestamp
    pane_timing: str
    pane_index: int
    best: Optional[int]
    low: Optional[int]
    high: Optional[int]
    n_claims: int
    n_docs: int
    n_outlets: int
    n_independent_sources: int
    sources: Sequence[SourceFigure]
    latest_claim_id: Optional[str]
    computed_at: Timestamp


class DeadLetter(NamedTuple):
    """Input that could not become an article (or a stage that failed on one): nothing is dropped
    silently."""

    uri: str
    stage: str
    error_type: str
    message: str
    size_bytes: Optional[int]
    ingested_at: Timestamp


RECORD_TYPES = (RawDoc, Article, Claim, SourceFigure, TollWindow, DeadLetter)


def register_row_coder(*record_types: type) -> None:
    """Registers Beam's RowCoder for NamedTuple record types, their field types resolved first.

    Why: under `from __future__ import annotations` a class's `__annotations__` are strings, which
    Beam's schema inference takes for Any: every field is then coded by FastPrimitivesCoder, with a
    type tag, and a Timestamp is pickled. Resolved, each field gets the coder of its type (a
    Timestamp is `micros_instant`)."""
    for record_type in record_types:
        record_type.__annotations__ = typing.get_type_hints(record_type)
    for record_type in record_types:
        beam.coders.registry.register_coder(record_type, beam.coders.RowCoder)


register_row_coder(*RECORD_TYPES)
