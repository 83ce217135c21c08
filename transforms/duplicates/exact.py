"""Exact copies: articles with the same normalised text are one story and its exact copies.

The canonical article of a group is its first in canonical order (``stories.canonical_key``: the
earliest published, ties the longest, then the smallest doc_id); the others get
`copy_kind = 'exact'`, `copy_of` the canonical doc_id and `copy_similarity = 1.0`, and all share
`story_id` (the canonical doc_id).
Normalisation folds case, punctuation and white space, so the same wire text in two page templates
is one story.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from tollwatch.schemas import Article
from tollwatch.transforms.duplicates.stories import canonical_key
from tollwatch.transforms.extract import normalized_text_hash


def mark_exact_copies(articles: Iterable[Article]) -> list[Article]:
    """The articles (or ArticleDigests) of one exact-text group, the canonical first, the copies
    marked."""
    ordered = sorted(articles, key=canonical_key)
    if len(ordered) == 1:
        return ordered
    canonical = ordered[0]
    cluster = canonical.doc_id
    marked = [canonical._replace(story_id=cluster, is_canonical=True)]
    for copy in ordered[1:]:
        marked.append(copy._replace(story_id=cluster, copy_of=canonical.doc_id, copy_kind="exact",
                                    copy_similarity=1.0, is_canonical=False))
    return marked


def mark_exact_duplicates(articles: Sequence[Article]) -> list[Article]:
    """All articles, with exact copies marked, grouped by normalised-text hash."""
    groups: dict[str, list[Article]] = {}
    for article in articles:
        groups.setdefault(normalized_text_hash(article.text), []).append(article)
    return [a for group in groups.values() for a in mark_exact_copies(group)]


def repoint_copies(canonical: Article, copies: Iterable[Article]) -> list[Article]:
    """The copies of `canonical`, pointing where it points if it has itself become a copy (an
    exact group whose earliest member is a near copy of an earlier story, or near copies of a
    story that turned out to be a rewrite)."""
    if canonical.is_canonical:
        return [c._replace(story_id=canonical.story_id) for c in copies]
    return [c._replace(copy_of=canonical.copy_of, story_id=canonical.story_id)
            for c in copies]
