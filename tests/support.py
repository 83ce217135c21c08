"""Shared test helpers: paths to the shared seeds, gold and corpora, and the example corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("TOLLWATCH_SHARED", Path(__file__).resolve().parents[2] / "shared"))
SEEDS = SHARED / "seeds"
GOLD = SHARED / "gold"
CORPORA = SHARED / "corpora"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

needs_shared = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared is not beside the checkout")
