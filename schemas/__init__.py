"""Record types and the Arrow schemas derived from them (one source of truth)."""

from tollwatch.schemas.arrow import arrow_schema, from_row, to_arrow_table
from tollwatch.schemas.tables import TABLES, Table
from tollwatch.schemas.records import (
    DATE_SOURCES, COPY_KINDS, GROUPS, MEASURES, PANE_TIMINGS, QUALIFIERS, SCOPES, STAGES,
    Article, Claim, DeadLetter, RawDoc, SourceFigure, TollWindow, register_row_coder)

__all__ = [
    "Article", "Claim", "DeadLetter", "RawDoc", "SourceFigure", "TollWindow",
    "TABLES", "Table", "arrow_schema", "from_row", "register_row_coder", "to_arrow_table",
    "DATE_SOURCES", "COPY_KINDS", "GROUPS", "MEASURES", "PANE_TIMINGS", "QUALIFIERS", "SCOPES", "STAGES",
]
