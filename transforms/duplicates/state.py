"""State: a run into an output folder that already holds articles links its copies to the
canonical articles already there.

The state is the output folder's own, and small: the near-duplicate Signature (MinHash values and
a bottom-k shingle sketch, ~2.3 KB, never the text) of every canonical article, written as Parquet
in `OUT/_state/signatures/published_date=.../` beside the tables (DuckDB's views never read it). A
run reads the signatures of the last `lookback_days` of partitions before the newest one, and
rewrites the partitions it produces, like every other table. A stream writes the signatures of
its canonical articles there too, window by window (``build._Stream``).

A (re)started stream seeds its copy state from it (``StoredSeeds``): the canonical articles
that arrived within the streaming TTL before it starts, as the stream would still hold them had it
never stopped. Arrival is read from ``OUT/articles`` (``ingested_at``, or the date if later:
``streaming.at_arrival``'s clock), since the signatures carry none; at most ``max_seeded`` of them,
the latest arrivals, are loaded (a memory budget: every worker process holds them, see
``MAX_SEEDED``), and the rest are counted (gauge ``seeds_left_out``) and logged. What is not
seeded: the copies the stream had held (a new article like only an old copy links to nothing).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Iterator, Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.io.parquetio import ReadAllFromParquet
from apache_beam.utils.timestamp import Duration, Timestamp

from tollwatch.schemas.duplicates import Signature
from tollwatch.schemas.tables import STATE_DIR, STATE_TABLES
from tollwatch.transforms.duplicates.streaming import HeldSignature
from tollwatch.transforms.parquet import WriteParquet, file_rows, table_files

SIGNATURES = STATE_TABLES["signatures"]
DEFAULT_LOOKBACK_DAYS = 14
# Each worker process holds the seeds and their band keys: ~9.5 KB a seed (measured, 45 MB for the
# 4,764 canonicals of the 10k bench output), so at most ~190 MB. A live stream holds whatever arrived
# within its TTL (~46 KB an article, once per band); a restarted one, at most this many of them.
MAX_SEEDED = 20_000
_LOG = logging.getLogger("tollwatch")
_PARTITION = re.compile(r"published_date=(\d{4}-\d{2}-\d{2})")


def signature_files(output: str, lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> list[str]:
    """The state files of the newest `lookback_days` days of partitions in `output` (none: [])."""
    files = table_files(FileSystems.join(output, STATE_DIR), SIGNATURES.name)
    dated = [(dt.date.fromisoformat(m.group(1)), f) for f in files
             if (m := _PARTITION.search(f))]
    if not dated:
        return []
    newest = max(d for d, _ in dated)
    return sorted(f for d, f in dated if d >= newest - dt.timedelta(days=lookback_days))


def signature_row(row: dict) -> Signature:
    published = row["published_at"].astimezone(dt.timezone.utc)  # pyarrow gives a zoneinfo UTC
    # State written before outlines were kept has neither column: such an article links by its
    # shingles only.
    return Signature(row["doc_id"], Timestamp.from_utc_datetime(published), row["length"],
                     row["n_shingles"], row["minhash"], row["sketch"], row["story_id"],
                     tuple(row.get("figures") or ()), row.get("outline") or b"",
                     tuple(row.get("leads") or ()))


class ReadSignatures(beam.PTransform):
    """Signatures of earlier runs from the given state files."""

    def __init__(self, files: list[str]):
        super().__init__()
        self._files = list(files)

    def expand(self, pbegin):
        return (pbegin
                | "StateFiles" >> beam.Create(self._files)
                | "ReadState" >> ReadAllFromParquet()
                | "AsSignatures" >> beam.Map(signature_row).with_output_types(Signature))


class WriteSignatures(beam.PTransform):
    """Writes the Signatures of the canonical articles (resolve.ResolveDuplicates makes them) into
    the output folder's state."""

    def __init__(self, output: str, shards: int = 1, run_key: str = ""):
        super().__init__()
        self._output = output
        self._shards = shards
        self._run_key = run_key

    def expand(self, signatures):
        return (signatures
                | "WriteState" >> WriteParquet(FileSystems.join(self._output, STATE_DIR),
                                               SIGNATURES.name, SIGNATURES.record_type,
                                               SIGNATURES.partition_by, SIGNATURES.partition_column,
                                               shards=self._shards, run_key=self._run_key))


def known_signatures(pipeline: beam.Pipeline, output: str,
                     lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> Optional[beam.PCollection]:
    """The PCollection of the output folder's signatures, or None for a fresh output folder."""
    files = signature_files(output, lookback_days)
    return pipeline | "KnownSignatures" >> ReadSignatures(files) if files else None


def _utc(value: Optional[dt.datetime]) -> Optional[Timestamp]:
    return None if value is None else Timestamp.from_utc_datetime(value.astimezone(dt.timezone.utc))


def canonical_arrivals(output: str, ttl: Duration, now: Timestamp,
                       max_seeded: int = MAX_SEEDED) -> tuple[dict[str, Timestamp], dict[str, int]]:
    """The canonical articles of `output` that a stream would still hold at `now`: by doc_id, when
    each arrived (``streaming.at_arrival``'s clock: ``ingested_at``, or the date if later), for
    those that arrived within `ttl` before `now`, the latest `max_seeded` of them. An article's
    latest version (by ``ingested_at``) decides whether it is canonical. Also the counts:
    ``canonical`` (within the TTL), ``left_out`` (over the budget)."""
    since = now - ttl
    latest: dict[str, tuple] = {}
    for path in table_files(output, "articles"):
        try:
            rows = list(file_rows(path, ["doc_id", "ingested_at", "published_at",
                                             "is_canonical", "copy_kind"]))
        except Exception as err:  # noqa: BLE001 - a damaged file must not stop the start
            _LOG.warning("copy state not seeded from %s (%s)", path, err)
            continue
        for row in rows:
            ingested, published = _utc(row.get("ingested_at")), _utc(row.get("published_at"))
            arrived = ingested if published is None or (
                ingested is not None and ingested >= published) else published
            if arrived is None:
                continue
            known = latest.get(row["doc_id"])
            if known is None or (ingested or arrived) > known[0]:
                canonical = bool(row.get("is_canonical")) and row.get("copy_kind") is None
                latest[row["doc_id"]] = (ingested or arrived, arrived, canonical)
    held = sorted(((arrived, doc_id) for doc_id, (_, arrived, canonical) in latest.items()
                   if canonical and arrived >= since), reverse=True)
    kept = held[:max(max_seeded, 0)]
    return ({doc_id: arrived for arrived, doc_id in kept},
            {"canonical": len(held), "left_out": len(held) - len(kept)})


def held_signatures(output: str, arrivals: dict[str, Timestamp]) -> Iterator[HeldSignature]:
    """The stored signatures of the articles in `arrivals`, each held from its arrival, once (every
    partition is read: a page's date says nothing of when it arrived)."""
    if not arrivals:
        return
    seen = set()
    for path in table_files(FileSystems.join(output, STATE_DIR), SIGNATURES.name):
        try:
            ids = [r["doc_id"] for r in file_rows(path, ["doc_id"])]
            if not any(i in arrivals and i not in seen for i in ids):
                continue
            rows = list(file_rows(path, list(Signature._fields)))
        except Exception as err:  # noqa: BLE001 - a damaged file must not stop the start
            _LOG.warning("copy state not seeded from %s (%s)", path, err)
            continue
        for row in rows:
            doc_id = row["doc_id"]
            if doc_id in arrivals and doc_id not in seen:
                seen.add(doc_id)
                yield HeldSignature(arrivals[doc_id], signature_row(row))


class StoredSeeds:
    """The loader of a stream's seeds (``streaming.SeedLoader``): called once per worker process
    (``streaming.BucketFn.setup``), it reads `output` and returns the HeldSignatures of the
    canonical articles that arrived within `ttl` before `now` (at most `max_seeded`) and how many
    were left out over that budget. It is what the graph carries (a path and three numbers), not
    the signatures; a failure to read leaves the stream unseeded, not stopped."""

    def __init__(self, output: str, ttl: Duration, now: Timestamp, max_seeded: int = MAX_SEEDED):
        self._output, self._ttl, self._now, self._max = output, ttl, now, max_seeded

    def __call__(self) -> tuple[list[HeldSignature], int, str]:
        try:
            arrivals, counts = canonical_arrivals(self._output, self._ttl, self._now, self._max)
            held = list(held_signatures(self._output, arrivals))
        except Exception as err:  # noqa: BLE001 - the stream runs, unseeded, rather than not at all
            return [], 0, f"copy state not seeded from {self._output} ({err})"
        return held, counts["left_out"], (
            f"copy state seeded with {len(held)} signatures of the {counts['canonical']} canonical "
            f"articles that arrived within the TTL; {counts['left_out']} left out (over the "
            f"budget of {self._max}), {len(arrivals) - len(held)} without a signature")


def stored_seeds(output: str, ttl: Duration, now: Timestamp,
                 max_seeded: int = MAX_SEEDED) -> Optional[StoredSeeds]:
    """The loader of the seeds of a stream starting on `output` at `now`, or None for an output
    folder that keeps no signatures."""
    if not table_files(FileSystems.join(output, STATE_DIR), SIGNATURES.name):
        return None
    return StoredSeeds(output, ttl, now, max_seeded)
