"""Staging: a batch run's articles and claims cross the runner once, as files, not as elements.

``StageArticles`` is fused with extraction: for each article it computes everything the duplicate
decisions need (``resolve.ArticleDigest``: text hash, MinHash signature and sketch, rewrite traits,
the figures of its claims), extracts its claims, and appends the article and its claims to this
bundle's staging files (``OUT/.tmp/staging/<run key>/<bundle>.articles``, ``.claims``, ``.digests``
and ``.sketches``, RowCoder records with a length prefix). Only each bundle's staging file name goes
on through the runner: ``ResolveDuplicates`` reads the digests from the files (``read_digests``)
and writes each file's verdicts beside it (``write_verdicts``, ``.verdicts``), and again only the
names go on. ``ApplyVerdicts`` reads each staging file back with its verdicts (one read per file,
no side input) and emits the final Articles and Claims. ``RemoveStaging`` deletes the folder after
the tables are written.

Why: the runner moves an element by encoding it, and the local runner holds every shuffle in
memory. Text that went through five joins cost a third of a run's CPU beyond parsing and grew the
run's memory with its size. The digests went through the runner too until the resolver's memory
was measured at 100k articles: the worker held them as one list of encoded bytes for the whole
decision (80 MB for 99,500 digests, beside the decoded digests), and the runner buffered them too.
The verdicts, grouped by file, were held decoded in the local runner's driver.
"""

from __future__ import annotations

import uuid
from typing import BinaryIO, Iterable, Iterator, Optional, Sequence

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from tollwatch.schemas import Article, Claim, DeadLetter
from tollwatch.schemas.duplicates import ArticleDigest, Signature, Verdict
from tollwatch.transforms.claims import article_claims, figure_key, sources_from_texts
from tollwatch.transforms.duplicates.minhash import MinHasher
from tollwatch.transforms.duplicates.rewrites import CreditFinder, story_traits
from tollwatch.transforms.duplicates.settings import MIN_SHINGLES, NearOptions, near_options
from tollwatch.transforms.duplicates.similarity import signature_of
from tollwatch.transforms.extract import normalized_text_hash
from tollwatch.schemas.framing import LENGTH, framed
from tollwatch.transforms.guard import article_failure
from tollwatch.transforms.tuning import exit_without_teardown
from tollwatch.transforms import METRICS_NAMESPACE

__all__ = ["ApplyVerdicts", "RemoveStaging", "StageArticles", "read_digests", "read_sketches",
           "staging_dir", "write_verdicts"]

ARTICLES, CLAIMS, DIGESTS, SKETCHES, VERDICTS = (
    ".articles", ".claims", ".digests", ".sketches", ".verdicts")


def staging_dir(output: str, key: str) -> str:
    """The staging folder of one run (below the output's `.tmp`, which DuckDB's globs never read)."""
    return FileSystems.join(output, ".tmp", "staging", key)


class RecordFile:
    """Length-prefixed records of one type, written through Beam's FileSystems (local or GCS)."""

    def __init__(self, path: str, record_type: type):
        self._coder = beam.coders.registry.get_coder(record_type)
        self._fh: BinaryIO = FileSystems.create(path)

    def write(self, record) -> None:
        data = self._coder.encode(record)
        self._fh.write(LENGTH.pack(len(data)))
        self._fh.write(data)

    def close(self) -> None:
        self._fh.close()


def read_records(path: str, record_type: type) -> Iterator:
    """The records of one staging file, in the order they were written."""
    decode = beam.coders.registry.get_coder(record_type).decode
    with FileSystems.open(path) as fh:
        for data in framed(fh):
            yield decode(data)


def _typed(record_type: type) -> beam.PTransform:
    "A tagged output, declared as the record type it holds (Beam types only the main output)."
    return beam.Map(lambda record: record).with_output_types(record_type)


class StageArticlesFn(beam.DoFn):
    """Article -> the article, its claims, its ArticleDigest and its signature's sketch to this
    bundle's staging files; the files' name once per bundle; a failed claim extraction to
    'dead_letters' (the article goes on without claims). A retried bundle writes new files, and
    only the name of the files of the bundle that succeeded goes on."""

    DEAD_LETTERS = "dead_letters"

    def __init__(self, folder: str, source_texts: Sequence[tuple[str, str]], finder: CreditFinder,
                 options: NearOptions):
        self._folder = folder
        self._source_texts = tuple(source_texts)
        self._finder = finder
        self._options = options
        self._claims = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "claims")
        self._errors = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "claim_errors")
        self._too_short = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "too_short_to_compare")
        self._failed = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "stage_dead_letters")

    def setup(self):
        self._table = sources_from_texts(self._source_texts)
        self._hasher = MinHasher(self._options.num_perm, self._options.seed)
        exit_without_teardown()
        try:
            FileSystems.mkdirs(self._folder)
        except IOError:
            pass  # made by another worker

    def start_bundle(self):
        self._base: Optional[str] = None
        self._files: dict[str, RecordFile] = {}

    def _file(self, suffix: str, record_type: type) -> RecordFile:
        if suffix not in self._files:
            self._files[suffix] = RecordFile(self._base + suffix, record_type)
        return self._files[suffix]

    def process(self, article: Article):
        try:
            claims, failure, signature, digest = self._stage(article)
        except Exception as err:  # noqa: BLE001 - one article's failure is its dead letter
            self._failed.inc()
            yield beam.pvalue.TaggedOutput(self.DEAD_LETTERS, article_failure(article, "stage", err))
            return
        if failure is not None:
            self._errors.inc()
            yield beam.pvalue.TaggedOutput(self.DEAD_LETTERS, failure)
        # Everything that may fail on this article is computed before any of it is written, so a
        # failed article leaves nothing half-staged.
        if self._base is None:
            self._base = FileSystems.join(self._folder, uuid.uuid4().hex)
            yield self._base
        self._file(ARTICLES, Article).write(article)
        if claims:
            out = self._file(CLAIMS, Claim)
            for claim in claims:
                out.write(claim)
            self._claims.inc(len(claims))
        if signature is not None:
            self._file(SKETCHES, Signature).write(signature)
        self._file(DIGESTS, ArticleDigest).write(digest._replace(staged=self._base))

    def _stage(self, article: Article):
        """(claims, claim failure, signature to keep, digest without its staging file name)."""
        claims, failure = article_claims(article, self._table)
        o = self._options
        signature = None
        if article.published_at is not None:
            signature = signature_of(article, self._hasher, o.shingle_size, o.sketch_size)
            if signature.n_shingles < MIN_SHINGLES:
                self._too_short.inc()
                signature = None
        digest = ArticleDigest(
            doc_id=article.doc_id, published_at=article.published_at, length=len(article.text),
            text_hash=normalized_text_hash(article.text),
            signature=(signature._replace(sketch=b"", outline=b"") if signature is not None
                       else None),
            traits=story_traits(article, self._finder),
            figures=sorted({figure_key(claim) for claim in claims}), staged="",
            story_id=article.story_id, copy_of=article.copy_of,
            copy_kind=article.copy_kind, copy_similarity=article.copy_similarity,
            is_canonical=article.is_canonical)
        return claims, failure, signature, digest

    def finish_bundle(self):
        for f in self._files.values():
            f.close()


class StageArticles(beam.PTransform):
    """PCollection[Article] -> {'staged': PCollection[str], 'dead_letters': ...}: the articles,
    their claims and digests go to the staging folder, and the names of its files (one per
    bundle, without suffix) go on."""

    def __init__(self, folder: str, source_files: Sequence[str] = (),
                 options: Optional[NearOptions] = None):
        super().__init__()
        from tollwatch.transforms.claims import read_source_files

        self._folder = folder
        self._source_texts = read_source_files(source_files)
        sources_from_texts(self._source_texts)  # a bad sources file fails here, not on a worker
        self._finder = CreditFinder.from_sources(source_files)
        self._options = options or near_options()

    def expand(self, articles):
        staged = articles | "Stage" >> beam.ParDo(
            StageArticlesFn(self._folder, self._source_texts, self._finder, self._options)
        ).with_output_types(str).with_outputs(StageArticlesFn.DEAD_LETTERS, main="staged")
        return {"staged": staged.staged,
                "dead_letters": staged[StageArticlesFn.DEAD_LETTERS] | "DeadLetters" >> _typed(DeadLetter)}


def read_digests(bases: Iterable[str]) -> Iterator[ArticleDigest]:
    """The staged digests of the staging files of `bases`."""
    for base in bases:
        yield from read_records(base + DIGESTS, ArticleDigest)


def read_sketches(bases: Iterable[str], doc_ids: set) -> Iterator[tuple[str, tuple[bytes, bytes]]]:
    """(doc id, (sketch, outline)) of the staged signatures of `doc_ids`, from the staging files of
    `bases`, one file after the other."""
    for base in bases:
        if FileSystems.exists(base + SKETCHES):
            for sig in read_records(base + SKETCHES, Signature):
                if sig.doc_id in doc_ids:
                    yield sig.doc_id, (sig.sketch, sig.outline)


def write_verdicts(verdicts: Iterable[Verdict]) -> Iterator[str]:
    """Writes verdicts, grouped by staging file, to the `.verdicts` file beside their staging
    files (one file open at a time); yields each staging file name once its verdicts are written."""
    base, out = None, None
    for v in verdicts:
        if v.staged != base:
            if out is not None:
                out.close()
                yield base
            base, out = v.staged, RecordFile(v.staged + VERDICTS, Verdict)
        out.write(v)
    if out is not None:
        out.close()
        yield base


def state_signature(sig: Signature, v: Verdict) -> Optional[Signature]:
    """What the output folder keeps of a canonical article for later runs (duplicates/state.py)."""
    if v.is_canonical and v.copy_kind is None:
        return sig._replace(story_id=v.story_id)
    return None


def apply_verdict(article: Article, v: Verdict) -> Article:
    return article._replace(story_id=v.story_id, copy_of=v.copy_of, copy_kind=v.copy_kind,
                            copy_similarity=v.copy_similarity, is_canonical=v.is_canonical)


def claim_verdict(claim: Claim, v: Verdict) -> Claim:
    """The claim as its article's verdict makes it: a copy's claim is a copy of its origin's,
    unless the origin does not state its figure (new information: unmark_new_figures)."""
    is_copy = v.copy_kind is not None and not v.is_canonical
    if is_copy and v.canonical_figures is not None and figure_key(claim) not in v.canonical_figures:
        is_copy = False
    return claim._replace(is_copy=is_copy, canonical_id=v.copy_of or v.doc_id)


class ApplyVerdictsFn(beam.DoFn):
    CLAIMS, SIGNATURES = "claims", "signatures"

    def process(self, base: str):
        by_id = {v.doc_id: v for v in read_records(base + VERDICTS, Verdict)}
        for article in read_records(base + ARTICLES, Article):
            v = by_id.get(article.doc_id)
            if v is not None:  # always, unless a bundle was retried and wrote a second file
                yield beam.window.TimestampedValue(apply_verdict(article, v), article.published_at)
        if FileSystems.exists(base + CLAIMS):
            for claim in read_records(base + CLAIMS, Claim):
                v = by_id.get(claim.doc_id)
                if v is not None:
                    yield beam.pvalue.TaggedOutput(self.CLAIMS, beam.window.TimestampedValue(
                        claim_verdict(claim, v), claim.published_at))
        if FileSystems.exists(base + SKETCHES):
            for sig in read_records(base + SKETCHES, Signature):
                v = by_id.get(sig.doc_id)
                kept = state_signature(sig, v) if v is not None else None
                if kept is not None:
                    yield beam.pvalue.TaggedOutput(self.SIGNATURES, kept)


class ApplyVerdicts(beam.PTransform):
    """PCollection[str] of staging file names whose verdicts are written (write_verdicts) ->
    {'articles', 'claims', 'signatures'}: the staged records with their verdicts, and the
    signatures of the canonical articles (the output folder's state)."""

    def expand(self, staged):
        applied = (staged
                   # The verdicts are written by one worker: spread the files over the workers.
                   | "Spread" >> beam.Reshuffle()
                   | "Apply" >> beam.ParDo(ApplyVerdictsFn()).with_output_types(Article)
                   .with_outputs(ApplyVerdictsFn.CLAIMS, ApplyVerdictsFn.SIGNATURES, main="articles"))
        return {"articles": applied.articles,
                "claims": applied[ApplyVerdictsFn.CLAIMS] | "Claims" >> _typed(Claim),
                "signatures": applied[ApplyVerdictsFn.SIGNATURES] | "Signatures" >> _typed(Signature)}


def _remove(folder: str, _written: Iterable) -> None:
    if FileSystems.exists(folder):
        FileSystems.delete([folder])


class RemoveStaging(beam.PTransform):
    """Deletes the staging folder once `after` (the tables' written files) is complete: a side
    input is not read before it is whole."""

    def __init__(self, folder: str):
        super().__init__()
        self._folder = folder

    def expand(self, after):
        return (after.pipeline
                | "Folder" >> beam.Create([self._folder])
                | "Remove" >> beam.Map(_remove, beam.pvalue.AsList(after)))
