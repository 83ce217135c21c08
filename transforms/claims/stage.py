"""The claims stage in Beam: claims with their article's identity and stable ids and keys, failures as
dead letters, and the marking of figures already seen."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Iterable, Sequence

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas.records import Article, Claim, DeadLetter

from .vocabulary import HASH_CHARS
from .sources import SourceTable, read_source_files, sources_from_texts
from .extractor import ClaimMention, extract_claims
from tollwatch.transforms import METRICS_NAMESPACE


_LOG = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------
# Keys
# ----------------------------------------------------------------------------------------------
def _digest(*parts: object) -> str:
    """A short stable hash of the parts."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:HASH_CHARS]


def claim_key(event_id: str | None, measure: str, group: str, qualifier: str, number: int | None,
              number_high: int | None, source: str | None) -> str:
    """A stable hash of what a claim says: the same figure from the same source gives the same key."""
    return _digest("claim", event_id, measure, group, qualifier, number, number_high, source)


def claim_id(doc_id: str, char_start: int, char_end: int, measure: str, group: str) -> str:
    """A stable hash identifying one claim mention in one article."""
    return _digest("mention", doc_id, char_start, char_end, measure, group)


# ----------------------------------------------------------------------------------------------
# Beam
# ----------------------------------------------------------------------------------------------
def to_claim(article: Article, mention: ClaimMention) -> Claim:
    """The Claim record of one mention in one article."""
    event_id = article.event_ids[0] if article.event_ids else None
    return Claim(
        claim_id=claim_id(article.doc_id, mention.char_start, mention.char_end, mention.measure, mention.group),
        claim_key=claim_key(event_id, mention.measure, mention.group, mention.qualifier, mention.number,
                            mention.number_high, mention.source),
        doc_id=article.doc_id, event_id=event_id, outlet=article.outlet, published_at=article.published_at,
        date_source=article.date_source, measure=mention.measure, number=mention.number, number_high=mention.number_high,
        qualifier=mention.qualifier, value_low=mention.value_low, value_high=mention.value_high,
        group=mention.group, group_text=mention.group_text, source=mention.source,
        source_text=mention.source_text, scope=mention.scope, location=mention.location,
        period_text=mention.period_text,
        period_start=Timestamp.from_utc_datetime(mention.period_start) if mention.period_start else None,
        sentence=mention.sentence, char_start=mention.char_start, char_end=mention.char_end,
        is_copy=article.copy_kind is not None and not article.is_canonical,
        canonical_id=article.copy_of or article.doc_id)


def article_claims(article: Article, table: SourceTable) -> tuple[list[Claim], DeadLetter | None]:
    """The Claims of one article, or none and the DeadLetter saying why extraction failed (a bad
    article must not stop the run)."""
    try:
        published = None
        if article.published_at is not None:
            published = article.published_at.to_utc_datetime(has_tz=True)
        return [to_claim(article, m) for m in extract_claims(article.text or "", published, table, article.title)], None
    except Exception as err:  # noqa: BLE001
        _LOG.exception("claim extraction failed for %s", article.doc_id)
        return [], DeadLetter(
            uri=article.uri, stage="claims", error_type=type(err).__name__, message=str(err)[:1000],
            size_bytes=len((article.text or "").encode("utf-8")), ingested_at=Timestamp.now())


class ExtractClaimsFn(beam.DoFn):
    """Article -> its Claims; a failure becomes a DeadLetter on the 'dead_letters' output."""

    DEAD_LETTERS = "dead_letters"

    def __init__(self, source_texts: Sequence[tuple[str, str]] = ()):
        self._source_texts = tuple(source_texts)  # the files' contents travel with the DoFn to the workers
        self._table: SourceTable | None = None
        self.articles = Metrics.counter(METRICS_NAMESPACE, "articles_scanned_for_claims")
        self.articles_with_claims = Metrics.counter(METRICS_NAMESPACE, "articles_with_claims")
        self.claims = Metrics.counter(METRICS_NAMESPACE, "claims")
        self.copies = Metrics.counter(METRICS_NAMESPACE, "claims_in_copies")
        self.errors = Metrics.counter(METRICS_NAMESPACE, "claim_errors")

    def setup(self):
        self._table = sources_from_texts(self._source_texts)

    def process(self, article: Article):
        self.articles.inc()
        records, failure = article_claims(article, self._table)
        if failure is not None:
            self.errors.inc()
            yield beam.pvalue.TaggedOutput(self.DEAD_LETTERS, failure)
            return
        if records:
            self.articles_with_claims.inc()
            self.claims.inc(len(records))
            if records[0].is_copy:
                self.copies.inc(len(records))
        yield from records


class ExtractClaims(beam.PTransform):
    """PCollection[Article] -> PCollection[Claim]: every casualty claim of every article.

    Articles whose extraction fails become DeadLetters; after the transform is applied they are in
    its `dead_letters` attribute (``t = ExtractClaims(); claims = articles | t; t.dead_letters``).

    Args:
      source_files: users' sources.toml files, added to the built-in table (same format). They are
        read and checked here, so a bad file fails at pipeline construction, and their contents go
        to the workers with the DoFn (the workers need not see the files).
    """

    def __init__(self, source_files: Sequence[str] = ()):
        super().__init__()
        if isinstance(source_files, (str, Path)):
            raise ValueError("source_files must be a list of paths, not one string")
        self._source_texts = read_source_files(source_files)
        sources_from_texts(self._source_texts)  # raises ValueError now rather than on the workers
        self.dead_letters = None

    def expand(self, articles):
        results = (articles
                   | "ExtractClaims" >> beam.ParDo(ExtractClaimsFn(self._source_texts))
                   .with_outputs(ExtractClaimsFn.DEAD_LETTERS, main="claims")
                   .with_input_types(Article)
                   .with_output_types(Claim))
        self.dead_letters = results[ExtractClaimsFn.DEAD_LETTERS]
        return results["claims"]


def figure_key(claim: Claim) -> str:
    """The figure a claim states, as a copy's claims are compared with its origin's: the number
    itself (a rewrite's other words may change the group or qualifier the extractor reads, not the
    figure it repeats). Kept as text in the batch digests and verdicts."""
    return f"{claim.measure}:{claim.number}:{claim.number_high}"


def unmark_new_figures(claims: Iterable[Claim]) -> list[Claim]:
    """The claims of one story (an origin article and its copies): a copy's claim stays `is_copy`
    only if the origin states the same figure; a figure the copy changed or added (a wire update:
    45 becomes 52) is new information and counts as independent. Without the origin among them
    (it is in an earlier run's output), the claims are left as they are."""
    claims = list(claims)
    origin = [c for c in claims if not c.is_copy and c.doc_id == c.canonical_id]
    if not origin:
        return claims
    stated = {figure_key(c) for c in origin}
    return [c._replace(is_copy=False) if c.is_copy and figure_key(c) not in stated else c
            for c in claims]


class UnmarkNewFigures(beam.PTransform):
    """PCollection[Claim] -> PCollection[Claim]: copies' figures that their origin does not state are
    not copies (batch: the claims of a story meet in a GroupByKey on canonical_id)."""

    def expand(self, claims):
        return (claims
                | "ByOrigin" >> beam.Map(lambda c: (c.canonical_id, c)).with_output_types(
                    tuple[str, Claim])
                | "GroupStory" >> beam.GroupByKey()
                | "Unmark" >> beam.FlatMapTuple(
                    lambda _origin, story: [beam.window.TimestampedValue(c, c.published_at)
                                            for c in unmark_new_figures(story)])
                .with_output_types(Claim))
