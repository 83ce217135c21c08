"""Shared test helpers: paths to the shared seeds, gold and corpora, and the example corpus."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("TOLLWATCH_SHARED", Path(__file__).resolve().parents[2] / "shared"))
SEEDS = SHARED / "seeds"
GOLD = SHARED / "gold"
CORPORA = SHARED / "corpora"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

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
