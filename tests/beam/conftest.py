"""tests/beam/: pipelines run in this process (TestPipeline, TestStream). Every test here is marked
`beam`."""

from pathlib import Path

import pytest

from support import mark_group


def pytest_collection_modifyitems(items):
    mark_group(items, Path(__file__).resolve().parent, pytest.mark.beam)
