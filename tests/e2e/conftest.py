"""tests/e2e/: the CLI, whole runs, subprocesses. Every test here is marked `e2e` and `slow`, so a new
file in this folder is left out of the inner loop (`pytest -m "not slow"`) without anyone
remembering to mark it."""

from pathlib import Path

import pytest

from support import mark_group


def pytest_collection_modifyitems(items):
    mark_group(items, Path(__file__).resolve().parent, pytest.mark.e2e, pytest.mark.slow)
