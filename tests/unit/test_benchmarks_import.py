"""Every benchmark script still imports: they are run by hand, not by the suite, and a module they
import from the project moves under them (bench_outline and bench_dedup named modules the
duplicates package had moved)."""

from __future__ import annotations

import importlib
import sys

import pytest

from support import ROOT

BENCHMARKS = sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("name", BENCHMARKS)
def test_the_benchmark_imports(name, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.setattr(sys, "argv", [name])
    importlib.import_module(name)
