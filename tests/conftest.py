"""Outputs that tests of several files only read, made once per session: a run costs seconds of
Beam start-up and graph building whatever its input, so tests that read the same output share it,
and a test that runs into an output or changes one works on a copy (outputs.copy_output). A shared
output found changed when the session ends is an error: a test wrote where it should have copied."""

import pytest

from outputs import read_only, run_once
from support import SEEDS


@pytest.fixture(scope="session")
def seeds_run(tmp_path_factory):
    """outputs.Run of one run over the shared seeds (5 articles)."""
    if not SEEDS.is_dir():
        pytest.skip(f"the shared seeds are not at {SEEDS}")
    with read_only(run_once(tmp_path_factory.mktemp("seeds") / "out", SEEDS)) as run:
        yield run
