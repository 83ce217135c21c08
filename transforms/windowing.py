"""The windowing of an output's toll, and a run's ownership of the toll table.

A run recomputes the toll over every claim of the output (this run's and earlier runs'), so the
toll table holds nothing a run cannot rebuild. Run after run with the same windowing
(`--window_hours`, `--period_hours`, `--as_of_days`) it is a log of panes: a window whose answer
changed gets a new pane. A run with another windowing would leave the old windows beside the new
ones, and `toll_latest` would show both: windows of 24 h and of 12 h answer different questions,
and neither revises the other. So the output records the windowing its toll was computed with
(`OUT/_state/toll_windowing.json`), and a run whose windowing differs (or that finds toll files and
no record, as outputs written before the record have) replaces the whole toll table: its toll is
written as first panes, then the earlier toll files are deleted and the record updated. A run
killed in between leaves the record as it was, so the next run replaces again.
"""

from __future__ import annotations

import json
from typing import Iterable, Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from tollwatch.schemas.tables import STATE_DIR

RECORD = "toll_windowing.json"


def windowing(window_seconds: int, period_seconds: int, as_of_days: int) -> dict:
    """The settings that decide which windows a toll has."""
    return {"window_seconds": int(window_seconds), "period_seconds": int(period_seconds),
            "as_of_days": int(as_of_days)}


def record_path(output: str) -> str:
    return FileSystems.join(output, STATE_DIR, RECORD)


def recorded_windowing(output: str) -> Optional[dict]:
    """The windowing the output's toll was computed with, or None (no record, or unreadable)."""
    path = record_path(output)
    try:
        if not FileSystems.exists(path):
            return None
        with FileSystems.open(path) as handle:
            found = json.loads(handle.read().decode("utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def must_replace(earlier_toll: list[str], recorded: Optional[dict], current: dict) -> bool:
    """Whether this run's toll replaces the earlier toll files instead of revising them."""
    return bool(earlier_toll) and recorded != current


def _own(_, written: Iterable, output: str, replaced: list[str], current: dict) -> list[str]:
    """Deletes the replaced toll files this run did not write again, then records the windowing;
    returns the files deleted."""
    kept = {name for names in written for name in names}
    stale = sorted(set(replaced) - kept)
    if stale:
        FileSystems.delete(stale)
    folder = FileSystems.join(output, STATE_DIR)
    try:
        FileSystems.mkdirs(folder)
    except IOError:
        pass  # exists already
    with FileSystems.create(record_path(output)) as handle:
        handle.write(json.dumps(current, sort_keys=True).encode("utf-8"))
    return stale


class OwnToll(beam.PTransform):
    """Once the toll files of this run are written (`written`, what WriteParquet returns): deletes
    the `replaced` earlier toll files and records the windowing `current`."""

    def __init__(self, output: str, replaced: list[str], current: dict):
        super().__init__()
        self._output = output
        self._replaced = list(replaced)
        self._current = dict(current)

    def expand(self, written):
        return (written.pipeline
                | "Once" >> beam.Create([None])
                | "ReplaceAndRecord" >> beam.Map(_own, beam.pvalue.AsList(written), self._output,
                                                 self._replaced, self._current))
