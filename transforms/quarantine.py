"""Damaged earlier output: a Parquet file of the output folder that has no valid footer (a
truncated, emptied or overwritten file: `parquet.unreadable`) is moved under `OUT/_quarantine/`
(its path below OUT kept) and told of as a dead letter, before a run reads anything of the output.

Why: a run reads earlier claims, toll panes and signatures, and one unreadable file failed every
later run without naming it. Set aside, the file is out of every glob the run and the views use
(`_quarantine` is no table folder), and kept for whoever wants to look at it.
"""

from __future__ import annotations

import logging
import posixpath
from typing import Optional

from apache_beam.io.filesystems import FileSystems
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas import TABLES, DeadLetter
from tollwatch.schemas.tables import STATE_DIR, STATE_TABLES
from tollwatch.transforms.parquet import table_files, unreadable

QUARANTINE_DIR = "_quarantine"
STAGE = "earlier_output"
ERROR_TYPE = "damaged_parquet"
LOG = logging.getLogger("tollwatch")


def output_files(output: str) -> list[str]:
    """Every finished Parquet file of `output` that a run or a view reads: the tables' and the
    signatures of `_state`."""
    found = [f for name in TABLES for f in table_files(output, name)]
    return found + [f for name in STATE_TABLES
                   for f in table_files(FileSystems.join(output, STATE_DIR), name)]


def quarantine_path(output: str, path: str) -> str:
    """Where a damaged file of `output` is set aside: its path below `output`, under `_quarantine`."""
    relative = posixpath.relpath(path.replace("\\", "/"), output.rstrip("/").replace("\\", "/"))
    if relative.startswith(".."):
        raise ValueError(f"{path!r} is not below {output!r}")
    return FileSystems.join(output, QUARANTINE_DIR, *relative.split("/"))


def _free(path: str) -> str:
    """`path`, or `path.1`, `path.2`, ...: the first that does not exist (a file set aside before
    under the same name stays)."""
    candidate, n = path, 0
    while FileSystems.exists(candidate):
        n += 1
        candidate = f"{path}.{n}"
    return candidate


def set_aside(output: str, path: str, reason: str, now: Timestamp) -> DeadLetter:
    """Moves one damaged file under `_quarantine`; returns its dead letter."""
    target = _free(quarantine_path(output, path))
    folder = target.rsplit("/", 1)[0]
    try:
        FileSystems.mkdirs(folder)
    except IOError:
        pass  # exists already
    size: Optional[int]
    try:
        size = FileSystems.match([path])[0].metadata_list[0].size_in_bytes
    except Exception:  # noqa: BLE001 - the size is told when known
        size = None
    FileSystems.rename([path], [target])
    return DeadLetter(uri=path, stage=STAGE, error_type=ERROR_TYPE,
                      message=f"{reason} (moved to {target})"[:1000], size_bytes=size,
                      ingested_at=now)


def set_aside_damaged(output: str, now: Optional[Timestamp] = None) -> list[DeadLetter]:
    """Sets aside every damaged Parquet file of `output`; returns their dead letters."""
    now = now or Timestamp.now()
    letters = []
    for path in output_files(output):
        reason = unreadable(path)
        if reason:
            letters.append(set_aside(output, path, reason, now))
            LOG.warning("set aside a damaged file: %s", letters[-1].message)
    return letters
