"""Shared test helpers: paths to the shared seeds, gold and corpora, and the example corpus."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

# The test helpers and data files stay at tests/ whatever group (unit/, beam/, e2e/) a test is in.
TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SHARED = Path(os.environ.get("TOLLWATCH_SHARED", ROOT.parent / "shared"))
SEEDS = SHARED / "seeds"
GOLD = SHARED / "gold"
CORPORA = SHARED / "corpora"
EXAMPLES = ROOT / "examples"

needs_shared = pytest.mark.skipif(
    not SEEDS.is_dir(),
    reason=f"the shared real data is not at {SHARED}: set TOLLWATCH_SHARED to the folder holding "
           "seeds/, gold/ and corpora/")

_DATE_MARKER = re.compile(r"^\s*date \d{4}-\d{2}-\d{2}\s*")


def seed(prefix: str) -> str:
    """A seed article's text (e.g. prefix '003') without its ` date YYYY-MM-DD ` marker; skips the
    test when the seeds are not available."""
    paths = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not paths:
        pytest.skip(f"seed {prefix} not available at {SEEDS}")
    return _DATE_MARKER.sub("", paths[0].read_text(encoding="utf-8"))


def mark_group(items: list, folder: Path, *marks) -> None:
    """Marks the collected tests that live below `folder` (a group's conftest.py calls it: pytest
    hands every conftest all the session's tests)."""
    for item in items:
        if folder in item.path.parents:
            for mark in marks:
                item.add_marker(mark)
