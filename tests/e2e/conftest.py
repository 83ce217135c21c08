"""tests/e2e/: the CLI, whole runs, subprocesses. Every test here is marked `e2e` and `slow`, so a new
file in this folder is left out of the inner loop (`pytest -m "not slow"`) without anyone
remembering to mark it.

The runs over outputs.small_corpus that several files read are made once per session here (see
tests/conftest.py)."""

from pathlib import Path

import pytest

from outputs import read_only, run_once, small_corpus
from support import mark_group


def pytest_collection_modifyitems(items):
    mark_group(items, Path(__file__).resolve().parent, pytest.mark.e2e, pytest.mark.slow)


@pytest.fixture(scope="session")
def small_inputs(tmp_path_factory) -> tuple[Path, Path]:
    """outputs.small_corpus's two folders, A and B, written once: no test may edit them."""
    folder = tmp_path_factory.mktemp("small_corpus")
    small_corpus(folder / "A", folder / "B")
    return folder / "A", folder / "B"


@pytest.fixture(scope="session")
def run_over_a(small_inputs, tmp_path_factory):
    """One run over A: read it, or copy it (outputs.copy_output) to run into it."""
    with read_only(run_once(tmp_path_factory.mktemp("over_a") / "out", small_inputs[0])) as run:
        yield run.output


@pytest.fixture(scope="session")
def run_over_ab(small_inputs, tmp_path_factory):
    """One run over A and B: read it, or copy it (outputs.copy_output) to run into it."""
    with read_only(run_once(tmp_path_factory.mktemp("over_ab") / "out", *small_inputs)) as run:
        yield run.output
