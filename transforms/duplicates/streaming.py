"""Near copies in a stream: ``MarkNearDuplicates``, the duplicate stage of ``tollwatch run
--streaming`` (``build.build_streaming``). Exact copies are near copies of similarity 1.0 here;
rewrites need the whole batch (``resolve.ResolveDuplicates``, which a batch run uses instead).

Each article's ``Signature`` (``similarity.signature_of``) is keyed by its LSH band keys and held
per band key in one stateful DoFn (``FindLinks`` / ``BucketFn``: a ``BagState`` of signatures and
an event-time expiry timer that drops entries once the watermark is ``ttl`` past them, the
``DeduplicatePerKey`` pattern). A pair is compared in the first band it shares only, so each pair
is confirmed once (``similarity.compare``). A band key holding more than ``max_bucket`` signatures
evicts the oldest (counter ``bucket_overflow``), and an article is compared with at most
``max_partners`` (32) articles held before it: a bucket bigger than a story's copies is a template
(one bulletin with the place and the figure changed), whose items then chain to their neighbours
in linear work (counter ``partners_cut``).

A (re)started stream is seeded with the canonical articles the output folder holds that arrived
within ``ttl`` before it started (``seeds``: a loader, ``state.StoredSeeds``, of ``HeldSignature``s
held from their arrival). They are held, not decided: each worker process loads them once, in the
buckets' ``setup`` (``shared.Shared``: one ``SeedIndex`` per process), before any article is
compared, and ``BucketFn`` compares a new article with the seeds of its band key as with the
signatures it holds (within the TTL from their arrival, the same partner window), never emitting
them: a copy of a stored canonical gets its ``copy_of`` and ``story_id``. (Measured against a
side input of the seeds: the SDK sized each band key's lookup in its state cache, ~3.5 ms, 20 per
article; benchmarks/bench_seeded_restart.py.)

An article is decided once, when all its bands have reported (``_GatherFn``), and never revised: it
is compared with the articles that *arrived* before it and are still within ``ttl``; a single
``_ResolveFn`` (one key; it only sees articles that matched something) makes it a copy of the
earliest canonical it is linked to, or, linked only to copies, of their canonical
(``stories.assign_on_arrival``). Approximations: an earlier-published article that arrives after
its copy becomes a copy of the cluster already emitted (the emitted canonical is not retracted); an
article decided before one of its partners was resolved may point to a partner that became a copy;
state is held by arrival (``at_arrival``: the time an article was read, not its page's date) and
expires once the watermark is ``ttl`` past it, so an article meets what was read in the ``ttl``
before it whatever dates the pages carry (a scraper's date a year off included).

Output contract: copies get ``copy_kind='near'``, ``copy_of`` = the canonical's ``doc_id``,
``copy_similarity`` (the Jaccard to the canonical if it reaches ``threshold``, else the containment
that linked them) and ``is_canonical=False``. Every article this stage decides gets
``story_id`` = its canonical's cluster: the canonical's existing ``story_id`` or its
``doc_id`` -- also for articles without copies, so that a canonical emitted before its first copy
arrived carries the same id as in batch. Articles marked ``copy_kind='exact'`` upstream pass through
untouched; articles with fewer than ``MIN_SHINGLES`` shingles are not compared (counter
``too_short``). The output is in the global window. ``MarkNearDuplicates.signatures`` are the
signatures of the canonical articles it decided (cluster id set), which the stream keeps in
``OUT/_state/signatures`` as a batch run does.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, Callable, Iterable, NamedTuple, Optional

import numpy as np

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics
from apache_beam.transforms import userstate, window
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils import shared
from apache_beam.utils.timestamp import Duration, Timestamp

from tollwatch.schemas.duplicates import BandReport, Signature
from tollwatch.schemas.records import Article, DeadLetter, register_row_coder
from tollwatch.transforms.duplicates.lsh import band_keys, band_of, first_shared_band
from tollwatch.transforms.duplicates.minhash import MinHasher
from tollwatch.transforms.duplicates.settings import (
    BANDS, CONTAINMENT, MAX_BUCKET, MAX_CANDIDATES, MAX_PARTNERS, MIN_SHARED, MIN_SHINGLES,
    NUM_PERM, SEED, SHINGLE_SIZE, SKETCH_SIZE, THRESHOLD, TTL, NearOptions,
    near_options)
from tollwatch.transforms.duplicates.similarity import compare, signature_of
from tollwatch.transforms.duplicates.stories import apply_assignment, assign_on_arrival
from tollwatch.transforms.guard import article_failure
from tollwatch.transforms import METRICS_NAMESPACE

__all__ = ["FindLinks", "MarkNearDuplicates"]


class HeldSignature(NamedTuple):
    # Element timestamp (the arrival, at_arrival): the clock the expiry timer runs on. Also the
    # record of a seeded signature (state.StoredSeeds), held from when its article arrived.
    held_at: Timestamp
    signature: Signature


class DecidedArticle(NamedTuple):
    held_at: Timestamp
    doc_id: str
    canonical_id: str
    story_id: str


register_row_coder(HeldSignature, DecidedArticle)


_SIGNATURES_TAG = "signatures"
_ALONE_TAG = "alone"
_LINKED_TAG = "linked"
_DEAD_LETTERS_TAG = "dead_letters"
_KEPT_TAG = "kept"
_COPIES = Metrics.counter(METRICS_NAMESPACE, "near_copies")
_LOG = logging.getLogger("tollwatch")


def at_arrival(article: Article) -> TimestampedValue:
    """The article stamped with when it was read (``ingested_at``; its date if that is later), the
    clock the held state's TTL runs on: how long state is kept is a memory budget counted from
    arrival, not a similarity rule. Stamped with its page's date (as ExtractArticles stamps it), a
    copy whose page carries a date older than the TTL (a scraper's, an archive's) was held for no
    time at all and linked to nothing that came after it."""
    arrived = article.ingested_at
    if arrived is None or (article.published_at is not None and article.published_at > arrived):
        arrived = article.published_at
    return TimestampedValue(article, arrived)


def at_publication(article: Article) -> TimestampedValue:
    "The article stamped with its date again, as the stages after this one expect it."
    return article if article.published_at is None else TimestampedValue(article, article.published_at)


class SignFn(beam.DoFn):
    """Article -> the article itself for the articles to compare, their Signature on 'signatures',
    and on 'alone' the articles not compared (exact copies untouched, too-short ones as their own
    canonical)."""

    def __init__(self, num_perm, seed, shingle_size, sketch_size):
        self._args = (num_perm, seed)
        self._shingle_size, self._sketch_size = shingle_size, sketch_size
        self._exact = Metrics.counter(METRICS_NAMESPACE, "exact_kept")
        self._short = Metrics.counter(METRICS_NAMESPACE, "too_short_to_compare")
        self._undated = Metrics.counter(METRICS_NAMESPACE, "undated_not_compared")

    def setup(self):
        self._hasher = MinHasher(*self._args)

    def process(self, article: Article):
        if article.copy_kind == "exact":
            self._exact.inc()
            yield pvalue.TaggedOutput(_ALONE_TAG, article)
            return
        if article.published_at is None:  # no time, no canonical order: not compared
            self._undated.inc()
            yield pvalue.TaggedOutput(_ALONE_TAG, apply_assignment(article, None))
            return
        try:
            sig = signature_of(article, self._hasher, self._shingle_size, self._sketch_size)
        except Exception as err:  # noqa: BLE001 - one article's failure is its dead letter
            yield pvalue.TaggedOutput(_DEAD_LETTERS_TAG, article_failure(article, "sign", err))
            return
        if sig.n_shingles < MIN_SHINGLES:
            self._short.inc()
            yield pvalue.TaggedOutput(_ALONE_TAG, apply_assignment(article, None))
            return
        yield article
        yield pvalue.TaggedOutput(_SIGNATURES_TAG, sig)


def expiry_time(held_at: Timestamp, ttl: Duration) -> Timestamp:
    """When an entry held at `held_at` expires, in whole milliseconds: portable runners keep timers
    at millisecond precision, so an expiry with microseconds would fire just before itself and
    re-arm forever."""
    micros = (held_at + ttl).micros
    return Timestamp(micros=-(-micros // 1000) * 1000)


def _band_entries(sig: Signature, bands: int, rows: int) -> list[tuple[bytes, Signature]]:
    return [(key, sig) for key in band_keys(np.frombuffer(sig.minhash, dtype="<u4"), bands, rows)]


def _band_keyed(options: NearOptions) -> beam.PTransform:
    "Each Signature once per LSH band key: the key of the buckets."
    return beam.FlatMap(_band_entries, options.bands, options.rows).with_output_types(
        tuple[bytes, Signature])


# Loads the seeds of a (re)started stream: (the HeldSignatures, how many were left out, a line
# that says so).
SeedLoader = Callable[[], tuple[Iterable[HeldSignature], int, str]]


class SeedIndex:
    """The seeded signatures of one worker process: by doc_id, and (arrival micros, doc_id) by
    band key; ``until``: when the last of them expires; ``summary``: what was loaded, said once
    per process (``reported``)."""

    def __init__(self, held: Iterable[HeldSignature], left_out: int, summary: str, bands: int,
                 rows: int, ttl: Duration):
        self.by_id: dict[str, HeldSignature] = {}
        self.by_band: dict[bytes, list[tuple[int, str]]] = defaultdict(list)
        for h in held:
            self.by_id[h.signature.doc_id] = h
            for key, _ in _band_entries(h.signature, bands, rows):
                self.by_band[key].append((h.held_at.micros, h.signature.doc_id))
        self.left_out, self.summary, self.reported = left_out, summary, False
        self.until = max((expiry_time(h.held_at, ttl) for h in self.by_id.values()),
                         default=Timestamp(0))

    def release(self) -> None:
        "Every seed has expired: the process's memory goes back (other DoFn instances share it)."
        self.by_id.clear()
        self.by_band.clear()


def seeds_to_compare(entries, doc_id: str, now: Timestamp, ttl: Duration, window: int,
                     held_ids: set) -> list[str]:
    """The seeded doc_ids of one band key (`entries`: (arrival micros, doc_id)) a new article
    `doc_id` arriving at `now` is compared with: not itself nor one held anew (an edited article
    read again is compared by its new text), not expired, the latest `window` by arrival."""
    live = sorted((micros, d) for micros, d in entries
                  if d != doc_id and d not in held_ids
                  and expiry_time(Timestamp(micros=micros), ttl) > now)
    return [d for _, d in live[-window:]]


class BucketFn(beam.DoFn):
    """Per band key: compare each new signature with those held, emit the confirmed links as a
    BandReport, hold it, and drop what is older than the TTL when the watermark passes it."""

    HELD = userstate.BagStateSpec("held", beam.coders.registry.get_coder(HeldSignature))
    EXPIRY = userstate.TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, threshold, containment, min_shared, bands, rows, ttl, max_bucket,
                 report_empty, max_partners=MAX_PARTNERS, seeds: Optional[SeedLoader] = None):
        self._rule = (threshold, containment, min_shared)
        self._bands, self._rows = bands, rows
        self._ttl, self._max_bucket, self._report_empty = ttl, max_bucket, report_empty
        self._window = min(max_bucket, max_partners)  # NearOptions.window
        self._candidates = Metrics.counter(METRICS_NAMESPACE, "near_candidates")
        self._confirmed = Metrics.counter(METRICS_NAMESPACE, "near_confirmed")
        self._expired = Metrics.counter(METRICS_NAMESPACE, "near_expired")
        self._overflow = Metrics.counter(METRICS_NAMESPACE, "bucket_overflow")
        self._size = Metrics.distribution(METRICS_NAMESPACE, "bucket_size")
        self._cut = Metrics.counter(METRICS_NAMESPACE, "partners_cut")
        self._seeds, self._shared = seeds, shared.Shared() if seeds is not None else None
        self._index: Optional[SeedIndex] = None  # setup's
        self._seeded = Metrics.gauge(METRICS_NAMESPACE, "seeded_signatures")
        self._left_out = Metrics.gauge(METRICS_NAMESPACE, "seeds_left_out")

    def setup(self):
        self._index = None
        if self._seeds is not None:  # once per worker process, before any article is compared
            load, args = self._seeds, (self._bands, self._rows, self._ttl)
            self._index = self._shared.acquire(lambda: SeedIndex(*load(), *args))

    def process(self, element, held_at=beam.DoFn.TimestampParam,
                held=beam.DoFn.StateParam(HELD), expiry=beam.DoFn.TimerParam(EXPIRY)):
        key, sig = element
        band = band_of(key)
        entries = list(held.read())
        mine = np.frombuffer(sig.minhash, dtype="<u4")
        others = [e for e in entries if e.signature.doc_id != sig.doc_id]
        seen = len(others) < len(entries)
        seeds = self._index
        if seeds is not None and held_at >= seeds.until:
            seeds.release()
        elif seeds is not None:  # a seeded stream (module docstring)
            if not seeds.reported:  # here: on Prism, a line logged in setup never reached the log
                seeds.reported = True
                self._seeded.set(len(seeds.by_id))
                self._left_out.set(seeds.left_out)
                _LOG.info("%s", seeds.summary)
            chosen = seeds_to_compare(seeds.by_band.get(key, ()), sig.doc_id, held_at, self._ttl,
                                      self._window, {e.signature.doc_id for e in others})
            others.extend(seeds.by_id[d] for d in chosen)
        if len(others) > self._window:  # a template's bucket: the latest neighbours only
            self._cut.inc()
            others.sort(key=lambda e: (e.held_at, e.signature.doc_id))
            others = others[-self._window:]
        links = []
        for entry in others:
            other = entry.signature
            theirs = np.frombuffer(other.minhash, dtype="<u4")
            if first_shared_band(mine, theirs, self._bands, self._rows) != band:
                continue  # compared in an earlier band (or a key collision)
            self._candidates.inc()
            link = compare(sig, other, *self._rule)
            if link is not None:
                self._confirmed.inc()
                links.append(link)
        if not seen:
            entries.append(HeldSignature(held_at, sig))
            if len(entries) > self._max_bucket:
                self._overflow.inc()
                entries.sort(key=lambda e: (e.held_at, e.signature.doc_id))
                entries = entries[-self._max_bucket:]
                held.clear()
                for entry in entries:
                    held.add(entry)
            else:
                held.add(entries[-1])
        self._size.update(len(entries))
        expiry.set(expiry_time(min(e.held_at for e in entries), self._ttl))
        if links or self._report_empty:
            yield sig.doc_id, BandReport(sig.doc_id, band, len(entries), links)

    @userstate.on_timer(EXPIRY)
    def expire(self, now=beam.DoFn.TimestampParam, held=beam.DoFn.StateParam(HELD),
               expiry=beam.DoFn.TimerParam(EXPIRY)):
        entries = list(held.read())
        keep = [e for e in entries if expiry_time(e.held_at, self._ttl) > now]
        held.clear()
        for entry in keep:
            held.add(entry)
        self._expired.inc(len(entries) - len(keep))
        if keep:
            expiry.set(expiry_time(min(e.held_at for e in keep), self._ttl))


class _GatherFn(beam.DoFn):
    """Streaming, per doc_id: wait for the article and the report of each of its bands, then emit
    it as its own canonical (no link) or send it with its links to the resolver."""

    ARTICLE = userstate.BagStateSpec("article", beam.coders.registry.get_coder(Article))
    REPORTS = userstate.BagStateSpec("reports", beam.coders.registry.get_coder(BandReport))
    FLUSH = userstate.TimerSpec("flush", TimeDomain.WATERMARK)

    SIGNATURE = userstate.BagStateSpec("signature", beam.coders.registry.get_coder(Signature))

    def __init__(self, bands, ttl):
        self._bands, self._ttl = bands, ttl
        self._incomplete = Metrics.counter(METRICS_NAMESPACE, "near_incomplete")

    def process(self, element, ts=beam.DoFn.TimestampParam,
                article=beam.DoFn.StateParam(ARTICLE), reports=beam.DoFn.StateParam(REPORTS),
                signature=beam.DoFn.StateParam(SIGNATURE), flush=beam.DoFn.TimerParam(FLUSH)):
        _, value = element
        if isinstance(value, BandReport):
            reports.add(value)
        elif isinstance(value, Signature):
            signature.add(value)
        else:
            article.add(value)
        articles, got, sigs = list(article.read()), list(reports.read()), list(signature.read())
        if articles and sigs and len({r.band for r in got}) >= self._bands:
            article.clear()
            reports.clear()
            signature.clear()
            yield from self._emit(articles, got, sigs)
        else:
            flush.set(ts + self._ttl)

    @userstate.on_timer(FLUSH)
    def flush(self, article=beam.DoFn.StateParam(ARTICLE), reports=beam.DoFn.StateParam(REPORTS),
              signature=beam.DoFn.StateParam(SIGNATURE)):
        articles, got, sigs = list(article.read()), list(reports.read()), list(signature.read())
        article.clear()
        reports.clear()
        signature.clear()
        if articles or got:
            self._incomplete.inc()
        yield from self._emit(articles, got, sigs)

    @staticmethod
    def _emit(articles, reports, sigs):
        links = [link for report in reports for link in report.links]
        for art in articles:
            if links:
                yield pvalue.TaggedOutput(_LINKED_TAG, (art, links))
            else:
                canonical = apply_assignment(art, None)
                yield canonical
                # What later runs and a restarted stream link to (state.py), as batch keeps it.
                for sig in sigs[:1]:
                    yield pvalue.TaggedOutput(_KEPT_TAG,
                                              sig._replace(story_id=canonical.story_id))


class _ResolveFn(beam.DoFn):
    """Streaming, one key: decide each linked article on arrival (``assign_on_arrival``) and remember
    the decisions for the TTL."""

    DECIDED = userstate.BagStateSpec("decided", beam.coders.registry.get_coder(DecidedArticle))
    EXPIRY = userstate.TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, ttl):
        self._ttl = ttl

    def process(self, element, held_at=beam.DoFn.TimestampParam,
                decided=beam.DoFn.StateParam(DECIDED), expiry=beam.DoFn.TimerParam(EXPIRY)):
        _, (article, links) = element
        entries = list(decided.read())
        canonical_of = {e.doc_id: e.canonical_id for e in entries}
        cluster_of = {e.doc_id: e.story_id for e in entries}
        doc = links[0].doc
        assignment = assign_on_arrival(doc, links, canonical_of, cluster_of)
        decided.add(DecidedArticle(held_at, doc.doc_id, assignment.copy_of or doc.doc_id,
                             assignment.story_id))
        expiry.set(expiry_time(min([e.held_at for e in entries] + [held_at]), self._ttl))
        if assignment.copy_of is not None:
            _COPIES.inc()
        yield apply_assignment(article, assignment)

    @userstate.on_timer(EXPIRY)
    def expire(self, now=beam.DoFn.TimestampParam, decided=beam.DoFn.StateParam(DECIDED),
               expiry=beam.DoFn.TimerParam(EXPIRY)):
        keep = [e for e in decided.read() if expiry_time(e.held_at, self._ttl) > now]
        decided.clear()
        for entry in keep:
            decided.add(entry)
        if keep:
            expiry.set(expiry_time(min(e.held_at for e in keep), self._ttl))


@beam.typehints.with_input_types(Signature)
@beam.typehints.with_output_types(tuple[str, BandReport])
class FindLinks(beam.PTransform):
    """Signatures -> (doc_id, BandReport): key each signature by its LSH band keys, hold it per key
    for ``ttl`` (``BucketFn``) and report the confirmed near-duplicate links of each new arrival.
    With ``report_empty`` every band reports, so a consumer knows when an article is complete."""

    def __init__(self, options: Optional[NearOptions] = None, report_empty: bool = False,
                 label: Optional[str] = None, seeds: Optional[SeedLoader] = None):
        super().__init__(label)
        self._options = options or near_options()
        self._report_empty = report_empty
        self._seeds = seeds

    def expand(self, signatures):
        o = self._options
        return (
            signatures
            | "BandKeys" >> _band_keyed(o)
            | "Buckets" >> beam.ParDo(BucketFn(o.threshold, o.containment, o.min_shared, o.bands,
                                                o.rows, o.ttl, o.max_bucket, self._report_empty,
                                                o.max_partners, self._seeds))
            .with_input_types(tuple[bytes, Signature]).with_output_types(tuple[str, BandReport]))


@beam.typehints.with_output_types(Article)
class MarkNearDuplicates(beam.PTransform):
    """Mark near-duplicate copies as they arrive: ``copy_kind='near'``, ``copy_of`` the canonical,
    ``copy_similarity``, a shared ``story_id`` and ``is_canonical`` (see the module docstring
    for what is approximate). ``near_options`` gives the knobs (validated here, at construction);
    ``seeds`` loads the signatures a stream started on an output folder holds (``state.StoredSeeds``).
    After expansion, ``signatures`` are the canonical articles' signatures, ``dead_letters`` the
    articles that failed.

    >>> marked = articles | MarkNearDuplicates(ttl=datetime.timedelta(days=1))  # doctest: +SKIP
    """

    def __init__(self, threshold: float = THRESHOLD, containment: float = CONTAINMENT,
                 min_shared: int = MIN_SHARED, shingle_size: int = SHINGLE_SIZE,
                 num_perm: int = NUM_PERM, bands: int = BANDS, rows: Optional[int] = None,
                 sketch_size: int = SKETCH_SIZE, ttl: Any = TTL, max_bucket: int = MAX_BUCKET,
                 seed: int = SEED, label: Optional[str] = None,
                 max_partners: int = MAX_PARTNERS, max_candidates: int = MAX_CANDIDATES,
                 seeds: Optional[SeedLoader] = None):
        super().__init__(label)
        self._options = near_options(threshold, containment, min_shared, shingle_size, num_perm,
                                     bands, rows, sketch_size, ttl, max_bucket, seed,
                                     max_partners, max_candidates)
        self._seeds = seeds
        self.dead_letters = None
        self.signatures = None

    def expand(self, articles):
        o = self._options
        signed = (
            articles
            | "AtArrival" >> beam.Map(at_arrival).with_output_types(Article)
            | "GlobalWindow" >> beam.WindowInto(window.GlobalWindows())
            | "Sign" >> beam.ParDo(SignFn(o.num_perm, o.seed, o.shingle_size, o.sketch_size))
            .with_outputs(_SIGNATURES_TAG, _ALONE_TAG, _DEAD_LETTERS_TAG, main="compared"))
        # The articles signing failed on, as DeadLetters (ExtractClaims' convention).
        self.dead_letters = signed[_DEAD_LETTERS_TAG] | "DeadLetters" >> beam.Map(
            lambda d: d).with_output_types(DeadLetter)
        reports = signed[_SIGNATURES_TAG] | "Links" >> FindLinks(o, report_empty=True, seeds=self._seeds)
        gathered = (
            (signed.compared
             | "KeyById" >> beam.Map(lambda a: (a.doc_id, a)).with_output_types(tuple[str, Article]),
             reports,
             signed[_SIGNATURES_TAG]
             | "SignatureById" >> beam.Map(lambda s: (s.doc_id, s))
             .with_output_types(tuple[str, Signature]))
            | "Meet" >> beam.Flatten().with_output_types(tuple[str, Any])
            | "Gather" >> beam.ParDo(_GatherFn(o.bands, o.ttl))
            .with_input_types(tuple[str, Any]).with_outputs(_LINKED_TAG, _KEPT_TAG, main="alone"))
        self.signatures = gathered[_KEPT_TAG] | "Kept" >> beam.Map(
            lambda s: s).with_output_types(Signature)
        decided = (
            gathered[_LINKED_TAG]
            | "OneKey" >> beam.Map(lambda linked: ("", linked)).with_output_types(tuple[str, Any])
            | "Resolve" >> beam.ParDo(_ResolveFn(o.ttl))
            .with_input_types(tuple[str, Any]).with_output_types(Article))
        return ([gathered.alone, decided, signed[_ALONE_TAG]] | "Merge" >> beam.Flatten()
                | "AtPublication" >> beam.Map(at_publication).with_output_types(Article))
