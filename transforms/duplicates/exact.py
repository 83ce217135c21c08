"""MarkExactDuplicates: articles with the same normalised text are one story and its exact copies.

The canonical article of a group is the earliest published (ties: the longest, then the smallest
doc_id, so the choice is deterministic); the others get `dup_kind = 'exact'`, `dup_of` the canonical
doc_id and `dup_similarity = 1.0`, and all share `dup_cluster_id` (the canonical doc_id).
Normalisation folds case, punctuation and white space, so the same wire text in two page templates
is one story.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import apache_beam as beam

from tollwatch.schemas import Article
from tollwatch.transforms.extract import normalized_text_hash


def at_publication_time(article: Article) -> beam.window.TimestampedValue:
    """The article at its event time: a GroupByKey emits at the end of the window, and event time
    downstream is the publication time."""
    return beam.window.TimestampedValue(article, article.published_at)


def canonical_order(article) -> tuple:
    """Sort key: the canonical article of a group sorts first. Takes an Article, or a record with
    the text's `length` instead of its text (resolve.ArticleDigest)."""
    length = article.length if hasattr(article, "length") else len(article.text)
    return (article.published_at.micros, -length, article.doc_id)


def mark_exact_copies(articles: Iterable[Article]) -> list[Article]:
    """The articles of one exact-text group, the canonical first, the copies marked."""
    ordered = sorted(articles, key=canonical_order)
    if len(ordered) == 1:
        return ordered
    canonical = ordered[0]
    cluster = canonical.doc_id
    marked = [canonical._replace(dup_cluster_id=cluster, is_canonical=True)]
    for copy in ordered[1:]:
        marked.append(copy._replace(dup_cluster_id=cluster, dup_of=canonical.doc_id, dup_kind="exact",
                                    dup_similarity=1.0, is_canonical=False))
    return marked


def mark_exact_duplicates(articles: Sequence[Article]) -> list[Article]:
    """All articles, with exact copies marked (the pure form of MarkExactDuplicates)."""
    groups: dict[str, list[Article]] = {}
    for article in articles:
        groups.setdefault(normalized_text_hash(article.text), []).append(article)
    return [a for group in groups.values() for a in mark_exact_copies(group)]


class MarkExactDuplicates(beam.PTransform):
    """PCollection[Article] -> PCollection[Article] with exact copies marked (batch: all articles
    of a text hash meet in one group)."""

    def expand(self, articles):
        copies = beam.metrics.Metrics.counter("tollwatch", "exact_copies")

        def _mark(_key, group):
            marked = mark_exact_copies(group)
            copies.inc(len(marked) - 1)
            return [at_publication_time(a) for a in marked]

        return (
            articles
            | "KeyByTextHash" >> beam.Map(lambda a: (normalized_text_hash(a.text), a)).with_output_types(
                tuple[str, Article])
            | "GroupByText" >> beam.GroupByKey()
            | "MarkCopies" >> beam.FlatMapTuple(_mark).with_output_types(Article)
        )


def repoint_copies(canonical: Article, copies: Iterable[Article]) -> list[Article]:
    """The copies of `canonical`, pointing where it points if it has itself become a copy (an
    exact group whose earliest member is a near copy of an earlier story, or near copies of a
    story that turned out to be a rewrite)."""
    if canonical.is_canonical:
        return [c._replace(dup_cluster_id=canonical.dup_cluster_id) for c in copies]
    return [c._replace(dup_of=canonical.dup_of, dup_cluster_id=canonical.dup_cluster_id)
            for c in copies]


class RepointCopies(beam.PTransform):
    """Copies (`follow` kinds) follow their canonical into its cluster when a later stage made the
    canonical a copy itself (batch: a join of each copy with the article it copies)."""

    def __init__(self, follow: tuple[str, ...] = ("exact",)):
        super().__init__()
        self._follow = follow

    def expand(self, articles):
        follow = self._follow

        def key(article: Article) -> tuple[str, Article]:
            return (article.dup_of if article.dup_kind in follow else article.doc_id), article

        def join(_key, group: Iterable[Article]) -> list[Article]:
            group = list(group)
            copies = [a for a in group if a.dup_kind in follow]
            rest = [a for a in group if a.dup_kind not in follow]
            if not copies:
                return [at_publication_time(a) for a in rest]
            if len(rest) != 1:
                # The canonical is not in this run's output: leave the copies as they are.
                return [at_publication_time(a) for a in group]
            return [at_publication_time(a) for a in rest + repoint_copies(rest[0], copies)]

        return (articles
                | "KeyByCanonical" >> beam.Map(key).with_output_types(tuple[str, Article])
                | "GroupWithCanonical" >> beam.GroupByKey()
                | "Repoint" >> beam.FlatMapTuple(join).with_output_types(Article))
