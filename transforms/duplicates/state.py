"""State: a run into an output folder that already holds articles links its copies to the
canonical articles already there.

The state is the output folder's own, and small: the near-duplicate Signature (MinHash values and
a bottom-k shingle sketch, ~2.3 KB, never the text) of every canonical article, written as Parquet
in `OUT/_state/signatures/published_date=.../` beside the tables (DuckDB's views never read it). A
run reads the signatures of the last `lookback_days` of partitions before the newest one, and
rewrites the partitions it produces, like every other table.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.io.parquetio import ReadAllFromParquet
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas.duplicates import Signature
from tollwatch.schemas.tables import STATE_DIR, STATE_TABLES
from tollwatch.transforms.parquet import WriteParquet, table_files

SIGNATURES = STATE_TABLES["signatures"]
DEFAULT_LOOKBACK_DAYS = 14
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


def _to_signature(row: dict) -> Signature:
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
                | "AsSignatures" >> beam.Map(_to_signature).with_output_types(Signature))


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
