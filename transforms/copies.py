"""FindCopies: which articles are copies of which, and every article's claims marked as a copy's
or not -- one step of the graph, in batch and in streaming.

The step is the same in both modes: Articles in (with, in batch, the signatures of the canonical
articles the output folder already holds); Articles marked (``copy_kind``, ``copy_of``,
``story_id``, ``is_canonical``), their Claims and the dead letters out. The rules are the
same pure functions (``dedup``, ``alignment``); the mode chooses how the step keeps what it
compares an article with:

- batch (``FindCopies(staging=...)``): the whole run. ``StageArticles`` extracts each article's
  claims and writes article, claims and digest to the run's staging files; ``ResolveDuplicates``
  decides every copy on one worker over the digests (exact copies, near copies, rewrites, the
  figures a copy states anew); ``ApplyVerdicts`` reads the staging files back with the verdicts.
  Also out: the canonical articles' signatures, kept in ``OUT/_state/signatures`` for later runs.
- streaming (``FindCopies()``): per LSH band, bag state with expiry timers
  (``MarkNearDuplicates()``): an article is decided when it arrives, against the
  articles held within the TTL (and, for a stream started on an output folder, the canonical
  articles it holds that arrived within the TTL: ``state.StoredSeeds``); then ``ExtractClaims``
  marks its claims as its copy's. Also out: the canonical articles' signatures, as in batch.

What a stream cannot decide, because it needs the articles that come after: rewrites (found
between whole stories), exact copies as a kind of their own (they are near copies of similarity
1.0), and the un-marking of a figure a copy states anew (its origin's figures are not held). A
batch `tollwatch run` over the stream's output decides them.
"""

from __future__ import annotations

from typing import Optional, Sequence

import apache_beam as beam

from tollwatch.schemas import DeadLetter
from tollwatch.transforms.claims import ExtractClaims
from tollwatch.transforms.duplicates.streaming import MarkNearDuplicates, SeedLoader
from tollwatch.transforms.duplicates.resolve import ResolveDuplicates
from tollwatch.transforms.staging import (
    ApplyVerdicts, StageArticles, read_digests, read_sketches, write_verdicts)

__all__ = ["FindCopies"]


class FindCopies(beam.PTransform):
    """PCollection[Article] (or (articles, known Signatures), batch) -> {'articles', 'claims',
    'dead_letters', 'signatures'} (the canonical articles' signatures, for the output's state).

    `staging`: the run's staging folder: the batch form; without it, the streaming form, whose
    copy state `seeds` loads (``streaming.SeedLoader``) at its start."""

    def __init__(self, source_files: Sequence[str] = (), staging: Optional[str] = None,
                 seeds: Optional[SeedLoader] = None):
        super().__init__()
        self._staging = staging
        # Built here: a bad sources file fails when the graph is built, not on a worker.
        if staging is not None:
            self._stage = StageArticles(staging, source_files)
        else:
            self._mark = MarkNearDuplicates(seeds=seeds)
            self._claims = ExtractClaims(source_files)

    @property
    def streaming(self) -> bool:
        return self._staging is None

    def expand(self, pcolls):
        articles, known = pcolls if isinstance(pcolls, tuple) else (pcolls, None)
        if self.streaming:
            if known is not None:
                raise ValueError("a stream loads what it knows of earlier runs itself (seeds)")
            return self._per_article(articles)
        return self._whole_run(articles, known)

    def _whole_run(self, articles, known) -> dict:
        staged = articles | "StageArticles" >> self._stage
        decided = (((staged["staged"], known) if known is not None else staged["staged"])
                   | "ResolveDuplicates" >> ResolveDuplicates(read_digests, read_sketches,
                                                              write_verdicts))
        final = decided | "ApplyVerdicts" >> ApplyVerdicts()
        return {**final, "dead_letters": staged["dead_letters"]}

    def _per_article(self, articles) -> dict:
        marked = articles | "MarkNearDuplicates" >> self._mark
        claims = marked | "ExtractClaims" >> self._claims
        dead_letters = ((self._mark.dead_letters, self._claims.dead_letters)
                        | "DeadLetters" >> beam.Flatten().with_output_types(DeadLetter))
        return {"articles": marked, "claims": claims, "dead_letters": dead_letters,
                "signatures": self._mark.signatures}
