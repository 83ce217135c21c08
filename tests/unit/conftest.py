"""tests/unit/: pure functions, no pipeline run. Every test here is marked `unit`."""

from pathlib import Path

import pytest

from support import mark_group


def pytest_collection_modifyitems(items):
    mark_group(items, Path(__file__).resolve().parent, pytest.mark.unit)
