"""A progress line for long runs: each worker logs how many documents it has read, every few
seconds, to the `tollwatch` logger (stderr locally, the job log on Dataflow)."""

from __future__ import annotations

import logging
import time
from typing import Optional

import apache_beam as beam

LOG = logging.getLogger("tollwatch")
REPORT_EVERY_SECONDS = 3.0


class _ProgressFn(beam.DoFn):
    def __init__(self, what: str, total: Optional[int]):
        self._what = what
        self._total = total

    def setup(self):
        self._count = 0
        self._started = time.monotonic()
        self._last = self._started

    def process(self, element):
        self._count += 1
        now = time.monotonic()
        if now - self._last >= REPORT_EVERY_SECONDS:
            self._last = now
            rate = self._count / (now - self._started)
            of_total = f"/{self._total:,}" if self._total else ""
            LOG.info("%s%s %s (%.0f/s)", f"{self._count:,}", of_total, self._what, rate)
        yield element


class ReportProgress(beam.PTransform):
    """Passes elements through, logging a progress line every few seconds."""

    def __init__(self, what: str, total: Optional[int] = None):
        super().__init__()
        self._what = what
        self._total = total

    def expand(self, pcoll):
        return pcoll | "Count" >> beam.ParDo(_ProgressFn(self._what, self._total)).with_output_types(
            pcoll.element_type)
