"""TollStats: the evolving death toll per (event, measure, group), in event-time windows.

Event time is the claim's publication time. Two series come out of the same code:

- `window`: sliding windows (default 24 h every 6 h): what was reported in that window;
- `as_of`: windows of a long horizon (default 30 days) ending at every period boundary: the toll as
  known at that moment, since tolls are cumulative (for an event shorter than the horizon this is
  everything reported since it began).

Only `scope = overall` claims with a figure and a known publication time count toward the toll;
incident claims (one village, one attack), vague amounts and claims of articles dated only by a
fallback (`date_source` file_mtime or ingested: when a file was copied says nothing of when its
figure was reported, and placing it there would stretch the series across months) stay in the
claims table.

The best estimate of a window is the highest lower bound among the latest figures of independent
sources (claims from articles that are not copies). Why: reported tolls only grow as bodies are
counted, monitors and ministries each undercount in their own way, and a figure repeated by copies
of an older wire story is old news, not confirmation; the highest figure an independent source
stands behind is the best lower bound of what is known. `low`/`high` are the spread of the sources'
latest figures (lowest lower bound, highest upper bound). When a window holds only copies, their
figures are used.

Batch and streaming compute the same rows. Streaming (or any unbounded input) windows the claims
and groups them per window and key, with the triggers below. A bounded input is grouped once per key
instead and each key's claims swept in time order (`toll_series`): every window that holds a claim
gets the row a windowed GroupByKey gives in batch (one on-time pane), without copying each claim into
the 124 windows (4 sliding + 120 as-of) it belongs to and running Beam's trigger machinery on each
copy, which made this stage the slowest of the pipeline by far.

Panes: the watermark fires each window once on time; claims that arrive later (copies published
long ago, delayed feeds) fire late panes up to the allowed lateness, accumulating, so the latest
pane of a window is its full revised answer. When streaming, early panes fire on a processing-time
delay too. Every row carries its pane timing and index.
"""

from __future__ import annotations

import io
import zlib
from collections import Counter
from typing import Iterable, Iterator, NamedTuple, Optional

import apache_beam as beam
from apache_beam.transforms import trigger, window
from apache_beam.utils.timestamp import Duration, Timestamp

from tollwatch.schemas import Claim, SourceFigure, TollWindow
from tollwatch.schemas.intermediate import ArticleVersion, TollClaim
from tollwatch.transforms.claims import one_name_per_body
from tollwatch.schemas.framing import LENGTH, framed
from tollwatch.transforms import METRICS_NAMESPACE

HOUR = 3600
DEFAULT_WINDOW_SECONDS = 24 * HOUR
DEFAULT_PERIOD_SECONDS = 6 * HOUR
DEFAULT_AS_OF_DAYS = 30
DEFAULT_ALLOWED_LATENESS_SECONDS = 7 * 24 * HOUR
DEFAULT_EARLY_FIRING_SECONDS = 60
UNATTRIBUTED = "unattributed"
DATED = ("metadata", "feed", "text")

_TIMINGS = {0: "early", 1: "on_time", 2: "late", 3: "unknown"}


class TollKey(NamedTuple):
    event_id: str
    measure: str
    group: str


def counts_toward_toll(claim: Claim) -> bool:
    """Overall claims of an event with a figure and a known time: the only ones that make the toll."""
    return (claim.scope == "overall" and claim.event_id is not None and claim.date_source in DATED
            and claim.qualifier != "vague"
            and (claim.value_low is not None or claim.value_high is not None))


def bounds(claim: Claim) -> tuple[int, int]:
    """(lower, upper) figure of a claim; an open side takes the other ('more than 340': 341, 341)."""
    low = claim.value_low if claim.value_low is not None else claim.value_high
    high = claim.value_high if claim.value_high is not None else claim.value_low
    return low, high


def _recency(claim: Claim) -> tuple:
    """The order in which a source's figures replace each other: the later publication time; at
    the same time, the higher figure (lower bound, then upper bound), since reported tolls grow as
    bodies are counted. Only figures equal in time and value are left to the claim_id, and which of
    them is kept changes no number."""
    low, high = bounds(claim)
    return (claim.published_at.micros, low, high, claim.claim_id)


def source_names(claims: Iterable[Claim]) -> dict[str, str]:
    """The name each source of these claims counts under: one per body, however the articles name it
    ("Health Ministry" and "health ministry", "Red Crescent" and "Libyan Red Crescent")."""
    return one_name_per_body(c.source for c in claims if c.source)


def latest_by_source(claims: Iterable[Claim], names: Optional[dict[str, str]] = None) -> dict[str, Claim]:
    """Each source's latest claim, in the order of `_recency`; a source under its name in `names`
    (by default `source_names` of the claims)."""
    claims = list(claims)
    names = source_names(claims) if names is None else names
    latest: dict[str, Claim] = {}
    for claim in claims:
        source = names.get(claim.source, claim.source) if claim.source else UNATTRIBUTED
        if source not in latest or _recency(claim) > _recency(latest[source]):
            latest[source] = claim
    return latest


def toll_claim(claim: Claim) -> TollClaim:
    return TollClaim(claim.claim_id, claim.doc_id, claim.outlet, claim.published_at, claim.source,
                     claim.value_low, claim.value_high, claim.is_copy)


# A key's open block is compressed once it holds this much. Why: the runner's precombine holds every
# key's accumulator until its bundle ends, and at 100k articles a worker's bundle packs ~190k claims
# (~84 B each open, ~23 B compressed).
BLOCK_BYTES = 256 << 10


class PackTollClaims(beam.CombineFn):
    """TollClaims -> the list of them, gathered per key as length-prefixed RowCoder records rather
    than objects, and compressed. Why: between the stage that makes a key's claims and the one that
    sweeps them, the runner holds them (the local runner in its driver, decoded: ~580 B per claim,
    against ~84 B packed and ~23 B compressed, on the benchmark's claims). A lifted combine sends
    one accumulator per key and bundle.

    An accumulator is a list of blocks of records, in order: compressed (bytes) or open (a
    bytearray). Records are added to the last block, opened if needed and compressed at
    `BLOCK_BYTES`; `compact` compresses every block for the wire. Every method takes any mix."""

    def __init__(self):
        self._coder = beam.coders.registry.get_coder(TollClaim)

    def create_accumulator(self) -> list:
        return []

    def add_input(self, blocks: list, claim: TollClaim) -> list:
        if not blocks or not isinstance(blocks[-1], bytearray):
            blocks = [*blocks, bytearray()]
        block = blocks[-1]
        data = self._coder.encode(claim)
        block += LENGTH.pack(len(data))
        block += data
        if len(block) >= BLOCK_BYTES:
            blocks[-1] = zlib.compress(block, 1)
        return blocks

    def merge_accumulators(self, accumulators: Iterable[list]) -> list:
        merged: list = []
        for blocks in accumulators:
            for block in blocks:
                if isinstance(block, bytearray) and merged and isinstance(merged[-1], bytearray):
                    merged[-1] += block
                else:
                    merged.append(bytearray(block) if isinstance(block, bytearray) else block)
        return merged

    def compact(self, blocks: list) -> list:
        return [zlib.compress(b, 1) if isinstance(b, bytearray) else b for b in blocks if b]

    def extract_output(self, blocks: list) -> list[TollClaim]:
        records = (block if isinstance(block, bytearray) else zlib.decompress(block) for block in blocks)
        return [self._coder.decode(data) for block in records for data in framed(io.BytesIO(block))]


def _row(key: TollKey, start: Timestamp, end: Timestamp, series: str, pane_timing: str,
         pane_index: int, computed_at: Timestamp, n_claims: int, n_docs: int, n_outlets: int,
         n_independent_sources: int, latest: dict[str, Claim], newest: Claim) -> TollWindow:
    figures = [bounds(c) for c in latest.values()]
    sources = sorted(
        (SourceFigure(source, *bounds(c), c.claim_id, c.published_at) for source, c in latest.items()),
        key=lambda s: s.source)
    return TollWindow(
        event_id=key.event_id, measure=key.measure, group=key.group, series=series,
        window_start=start, window_end=end, pane_timing=pane_timing, pane_index=pane_index,
        best=max(low for low, _ in figures),
        low=min(low for low, _ in figures),
        high=max(high for _, high in figures),
        n_claims=n_claims,
        n_docs=n_docs,
        n_outlets=n_outlets,
        n_independent_sources=n_independent_sources,
        sources=sources,
        latest_claim_id=newest.claim_id,
        computed_at=computed_at,
    )


def toll_window(key: TollKey, claims: list[Claim], start: Timestamp, end: Timestamp,
                series: str, pane_timing: str, pane_index: int,
                computed_at: Timestamp) -> TollWindow:
    """The TollWindow row of one key, window and pane, from the claims in it."""
    independent = [c for c in claims if not c.is_copy]
    names = source_names(claims)
    return _row(key, start, end, series, pane_timing, pane_index, computed_at,
                n_claims=len(claims),
                n_docs=len({c.doc_id for c in claims}),
                n_outlets=len({c.outlet or c.doc_id for c in claims}),
                n_independent_sources=len({names[c.source] for c in independent if c.source}),
                latest=latest_by_source(independent or claims, names),
                newest=max(claims, key=_recency))


def toll_series(key: TollKey, claims: Iterable[Claim], size: int, period: int, series: str,
                computed_at: Timestamp) -> Iterator[TollWindow]:
    """The rows of one key in sliding windows of `size` seconds starting every `period` seconds
    (Beam's SlidingWindows: [start, start + size), start a multiple of period), for every window that
    holds a claim, each as `toll_window` computes it, in one pass over the claims in time order.

    The window moves forward a period at a time; claims enter at its end and leave at its start in
    time order, so per-source counts and the last claim to enter from each source (its latest in the
    window, as long as the source has a claim there) are kept as it moves, and an empty stretch is
    jumped over.
    """
    ordered = sorted(claims, key=_recency)
    if not ordered:
        return
    names = source_names(ordered)
    named = [names[c.source] if c.source else UNATTRIBUTED for c in ordered]
    size_us, period_us = size * 1_000_000, period * 1_000_000
    recency = [_recency(c) for c in ordered]
    times = [r[0] for r in recency]
    docs: Counter = Counter()
    outlets: Counter = Counter()
    # independent, all: source -> [claims in the window, index of the last to enter]
    per_source = ({}, {})
    lo = hi = 0
    start = (times[0] - size_us) // period_us * period_us + period_us

    def enter(i: int) -> None:
        c = ordered[i]
        docs[c.doc_id] += 1
        outlets[c.outlet or c.doc_id] += 1
        for held in (per_source[1], per_source[0]) if not c.is_copy else (per_source[1],):
            entry = held.get(named[i])
            if entry is None:
                held[named[i]] = [1, i]
                continue
            entry[0] += 1
            # Claims enter in recency order: one of another recency is more recent. Ties keep
            # the first, as latest_by_source does.
            if recency[i] != recency[entry[1]]:
                entry[1] = i

    def leave(i: int) -> None:
        c = ordered[i]
        for counter, name in ((docs, c.doc_id), (outlets, c.outlet or c.doc_id)):
            counter[name] -= 1
            if not counter[name]:
                del counter[name]
        for held in (per_source[1], per_source[0]) if not c.is_copy else (per_source[1],):
            source = named[i]
            held[source][0] -= 1
            if not held[source][0]:
                del held[source]

    while lo < len(ordered):
        end = start + size_us
        while hi < len(ordered) and times[hi] < end:
            enter(hi)
            hi += 1
        while lo < hi and times[lo] < start:
            leave(lo)
            lo += 1
        if lo == hi:  # nothing in this window: jump to the first window of the next claim
            if lo == len(ordered):
                return
            start = max(start + period_us,
                        (times[lo] - size_us) // period_us * period_us + period_us)
            continue
        independent, every = per_source
        latest = {s: ordered[entry[1]] for s, entry in (independent or every).items()}
        yield _row(key, Timestamp(micros=start), Timestamp(micros=end), series, "on_time", 0,
                   computed_at, n_claims=hi - lo, n_docs=len(docs), n_outlets=len(outlets),
                   n_independent_sources=len(independent.keys() - {UNATTRIBUTED}), latest=latest,
                   newest=ordered[hi - 1])
        start += period_us


def bounded_toll(claims: Iterable[Claim], now: Timestamp,
                 window: int = DEFAULT_WINDOW_SECONDS, period: int = DEFAULT_PERIOD_SECONDS,
                 as_of: int = DEFAULT_AS_OF_DAYS * 86400) -> list[TollWindow]:
    """The toll rows of a bounded set of claims in one process: the claims that count, grouped by
    (event, measure, group) and swept as the batch ``TollStats`` sweeps them (the benchmarks time
    the toll stage with it)."""
    groups: dict[tuple[str, str, str], list[TollClaim]] = {}
    for c in claims:
        if counts_toward_toll(c):
            groups.setdefault((c.event_id, c.measure, c.group), []).append(toll_claim(c))
    return [row for key, group in groups.items()
            for size, series in ((window, "window"), (as_of, "as_of"))
            for row in toll_series(TollKey(*key), group, size, period, series, now)]


class _TollFn(beam.DoFn):
    def __init__(self, series: str):
        self._series = series

    def process(self, element, win=beam.DoFn.WindowParam, pane=beam.DoFn.PaneInfoParam):
        key, claims = element
        yield toll_window(TollKey(*key), list(claims), win.start, win.end, self._series,
                          _TIMINGS.get(pane.timing, "unknown"), pane.index, Timestamp.now())


def last_window_end(published_at: Timestamp, size: int, period: int) -> Timestamp:
    """The end of the last sliding window (`size` every `period` seconds) that holds this time."""
    return Timestamp(seconds=(published_at.micros // 1_000_000 // period) * period + size)


class _InTimeFn(beam.DoFn):
    """Leaves out, and counts, a claim whose every window of the series closed more than the
    allowed lateness ago by `clock`: Beam would drop it silently (a stream's watermark is never
    ahead of the clock, so this leaves out all that Beam would drop whole)."""

    def __init__(self, size: int, period: int, lateness: int, clock):
        self._size, self._period, self._lateness, self._clock = size, period, lateness, clock
        self._too_late = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "toll_claims_too_late")

    def process(self, element):
        _, claim = element
        if last_window_end(claim.published_at, self._size, self._period) + self._lateness < self._clock():
            self._too_late.inc()
            return
        yield element


class _WindowedToll(beam.PTransform):
    def __init__(self, size: int, period: int, series: str, allowed_lateness: int,
                 early_firing: Optional[int], clock):
        super().__init__()
        self._size, self._period = size, period
        self._series = series
        self._lateness = allowed_lateness
        self._early = early_firing
        self._clock = clock

    def expand(self, keyed_claims):
        early = trigger.AfterProcessingTime(self._early) if self._early else None
        return (
            keyed_claims
            | "InTime" >> beam.ParDo(_InTimeFn(self._size, self._period, self._lateness, self._clock))
            .with_output_types(keyed_claims.element_type)
            | "Window" >> beam.WindowInto(
                window.SlidingWindows(self._size, self._period),
                trigger=trigger.AfterWatermark(early=early, late=trigger.AfterCount(1)),
                accumulation_mode=trigger.AccumulationMode.ACCUMULATING,
                allowed_lateness=Duration(self._lateness))
            | "GroupByToll" >> beam.GroupByKey()
            | "Stats" >> beam.ParDo(_TollFn(self._series)).with_output_types(TollWindow)
            | "Unwindow" >> beam.WindowInto(window.GlobalWindows())
        )


class TollStats(beam.PTransform):
    """PCollection[Claim] -> PCollection[TollWindow]: the `window` and `as_of` series.

    `streaming` adds early (processing-time) panes; Beam's batch runners have no processing time
    to fire them on.
    """

    def __init__(self, window_seconds: int = DEFAULT_WINDOW_SECONDS,
                 period_seconds: int = DEFAULT_PERIOD_SECONDS,
                 as_of_days: int = DEFAULT_AS_OF_DAYS,
                 allowed_lateness_seconds: int = DEFAULT_ALLOWED_LATENESS_SECONDS,
                 early_firing_seconds: int = DEFAULT_EARLY_FIRING_SECONDS,
                 streaming: bool = False, clock=Timestamp.now):
        super().__init__()
        if period_seconds <= 0 or window_seconds <= 0:
            raise ValueError("window and period must be positive")
        if window_seconds % period_seconds:
            raise ValueError(f"the window ({window_seconds} s) must be a multiple of the period "
                             f"({period_seconds} s)")
        if as_of_days * 86400 < window_seconds:
            raise ValueError("the as-of horizon must be at least one window long")
        if allowed_lateness_seconds < 0 or early_firing_seconds < 0:
            raise ValueError("lateness and early firing delay cannot be negative")
        self._window = window_seconds
        self._period = period_seconds
        self._as_of = as_of_days * 86400
        self._lateness = allowed_lateness_seconds
        self._early = early_firing_seconds if streaming else None
        self._clock = clock

    def expand(self, claims):
        counted = claims | "OverallWithFigure" >> beam.Filter(counts_toward_toll)
        if claims.is_bounded and self._early is None:
            return self._batch(counted)
        keyed = (
            counted
            | "AtPublicationTime" >> beam.Map(
                lambda c: window.TimestampedValue(c, c.published_at)).with_output_types(Claim)
            | "KeyByToll" >> beam.Map(lambda c: ((c.event_id, c.measure, c.group), c)).with_output_types(
                tuple[tuple[str, str, str], Claim])
        )
        sliding = keyed | "Windows" >> _WindowedToll(
            self._window, self._period, "window", self._lateness, self._early, self._clock)
        as_of = keyed | "AsOf" >> _WindowedToll(
            self._as_of, self._period, "as_of", self._lateness, self._early, self._clock)
        return (sliding, as_of) | "BothSeries" >> beam.Flatten().with_output_types(TollWindow)

    def _batch(self, counted):
        sizes = ((self._window, "window"), (self._as_of, "as_of"))
        period = self._period

        def rows(key, claims):
            now = Timestamp.now()
            for size, series in sizes:
                yield from toll_series(TollKey(*key), claims, size, period, series, now)

        return (
            counted
            | "KeyByToll" >> beam.Map(lambda c: ((c.event_id, c.measure, c.group), toll_claim(c)))
            .with_output_types(tuple[tuple[str, str, str], TollClaim])
            | "GlobalWindow" >> beam.WindowInto(window.GlobalWindows())
            | "GroupByToll" >> beam.CombinePerKey(PackTollClaims())
            | "Series" >> beam.FlatMapTuple(rows).with_output_types(TollWindow))


def _window_key(row: TollWindow) -> tuple:
    return (row.event_id, row.measure, row.group, row.series, row.window_start.micros,
            row.window_end.micros)


def _answer(row: TollWindow) -> tuple:
    "What a toll row says, apart from when and in which pane it was computed."
    return (row.best, row.low, row.high, row.n_claims, row.n_docs, row.n_outlets,
            row.n_independent_sources, tuple(tuple(s) for s in row.sources), row.latest_claim_id)


def emptied(row: TollWindow, computed_at: Timestamp) -> TollWindow:
    """The next pane of a window that no claim is in any more (its articles were corrected): no
    figure, no claim. `toll_latest` leaves such windows out."""
    return row._replace(best=None, low=None, high=None, n_claims=0, n_docs=0, n_outlets=0,
                        n_independent_sources=0, sources=[], latest_claim_id=None,
                        pane_index=row.pane_index + 1, pane_timing="late",
                        computed_at=computed_at)


def revise(computed: Iterable[TollWindow], earlier: Iterable[TollWindow]) -> list[TollWindow]:
    """The rows of one toll window to write, given what an earlier run wrote for it: nothing if
    the latest earlier pane says the same, else the new answer as the next pane. The toll of a
    run over earlier output is computed from all the claims (`WithEarlierClaims`), so an earlier
    window that is not computed again holds no claim now: it gets an empty pane."""
    earlier = list(earlier)
    latest = max(earlier, key=lambda r: (r.computed_at, r.pane_index)) if earlier else None
    computed = list(computed)
    if not computed and latest is not None and latest.n_claims > 0:
        return [emptied(latest, Timestamp.now())]
    out = []
    for row in sorted(computed, key=lambda r: r.pane_index):
        if latest is not None:
            if _answer(row) == _answer(latest):
                continue
            row = row._replace(pane_index=latest.pane_index + 1, pane_timing="late")
        out.append(row)
        latest = row
    return out


class ReviseToll(beam.PTransform):
    """(computed, earlier) TollWindows -> the rows that revise the earlier output: a window whose
    answer changed gets a new pane (next pane_index, timing 'late'); an unchanged one gets none.
    Run after run into one output folder, the toll table is then a log of panes, and the
    `toll_latest` view its current state."""

    def expand(self, pcolls):
        computed, earlier = pcolls
        return (
            {"computed": computed | "KeyComputed" >> beam.Map(lambda r: (_window_key(r), r)),
             "earlier": earlier | "KeyEarlier" >> beam.Map(lambda r: (_window_key(r), r))}
            | "ByWindow" >> beam.CoGroupByKey()
            | "Revise" >> beam.FlatMap(lambda kv: revise(kv[1]["computed"], kv[1]["earlier"]))
            .with_output_types(TollWindow))


def current_claims(new: Iterable[Claim], in_this_run: bool, earlier: Iterable[tuple[str, Claim]],
                   versions: Iterable[ArticleVersion]) -> list[Claim]:
    """The claims of one article the toll counts: this run's, when this run read the article (a
    corrected article replaces its claims, even with none); else those written by the run of the
    article's current version, once per claim_id."""
    if in_this_run:
        chosen: Iterable[Claim] = new
    else:
        earlier = list(earlier)
        versions = list(versions)
        if versions:
            current = max(versions, key=lambda v: (v.ingested_at, v.run_key))
            # A run that read the article again under a new date wrote its claims to another date
            # partition, beside those of the older version: the date tells them apart.
            written = [c for key, c in earlier
                       if key == current.run_key and c.published_at == current.published_at]
            # Claims written before their article (files of a run killed half-way) still count.
            chosen = written or [c for _, c in earlier]
        else:
            chosen = [c for _, c in earlier]
    by_id: dict[str, Claim] = {}
    for claim in chosen:
        if claim.claim_id not in by_id or claim.char_start < by_id[claim.claim_id].char_start:
            by_id[claim.claim_id] = claim
    return [by_id[k] for k in sorted(by_id)]


def _current_claims(grouped: tuple) -> list[Claim]:
    _, found = grouped
    return current_claims(found["new"], bool(found["new"] or found["read"]), found["earlier"],
                          found["versions"])


class WithEarlierClaims(beam.PTransform):
    """(new claims, doc_ids of this run's articles, earlier (run key, claim), earlier
    ArticleVersions) -> the claims the toll of an incremental run is computed from: per article,
    the claims of its current version (`current_claims`). A claim_id holds character offsets, so
    claims of an edited text are not the same claims: matching them by id would keep a retracted
    figure beside its correction."""

    def expand(self, pcolls):
        new, read, earlier, versions = pcolls
        return (
            {"new": new | "KeyNew" >> beam.Map(lambda c: (c.doc_id, c)),
             "read": read | "KeyRead" >> beam.Map(lambda d: (d, True)),
             "earlier": earlier | "KeyEarlier" >> beam.Map(lambda kc: (kc[1].doc_id, kc)),
             "versions": versions | "KeyVersions" >> beam.Map(lambda v: (v.doc_id, v))}
            | "ByArticle" >> beam.CoGroupByKey()
            | "CurrentClaims" >> beam.FlatMap(_current_claims).with_output_types(Claim))
