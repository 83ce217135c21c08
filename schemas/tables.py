"""The output tables: which record type each holds and which date partitions it.

`OUT/<name>/<partition_column>=YYYY-MM-DD/*.parquet`, the date being the UTC date of the record's
`partition_by` field. The DuckDB views in views.sql carry the same names. The state a run keeps for
later runs is stored the same way below `OUT/_state/` (`STATE_TABLES`), which the views never read.
"""

from __future__ import annotations

from typing import NamedTuple

from tollwatch.schemas.duplicates import Signature
from tollwatch.schemas.records import Article, Claim, DeadLetter, TollWindow


class Table(NamedTuple):
    name: str
    record_type: type
    partition_by: str
    partition_column: str


TABLES: dict[str, Table] = {t.name: t for t in (
    Table("articles", Article, "published_at", "published_date"),
    Table("claims", Claim, "published_at", "published_date"),
    Table("toll", TollWindow, "window_start", "window_date"),
    Table("dead_letters", DeadLetter, "ingested_at", "ingested_date"),
)}

STATE_DIR = "_state"
# `OUT/_state/<name>/...`: the canonical articles' Signatures, by which a later run links its copies
# to the stories already written (transforms/duplicates/state.py).
STATE_TABLES: dict[str, Table] = {t.name: t for t in (
    Table("signatures", Signature, "published_at", "published_date"),
)}
