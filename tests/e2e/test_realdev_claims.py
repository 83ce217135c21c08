"""`tollwatch eval-claims` over the real articles of ../shared/realdev (90 articles, three parts).

The floors sit just under what the extractor reached when they were set (2026-12-05, all parts:
killed F1 0.942, all measures F1 0.954, source right 0.802, no labelled non-claim extracted); they
catch regressions on real news copy, which the fictional examples cannot.
"""

from __future__ import annotations

import pytest

from support import SHARED
from tollwatch.pipeline.cli import main
from tollwatch.pipeline.evaluate import evaluate_claims

REALDEV = SHARED / "realdev"
needs_realdev = pytest.mark.skipif(not (REALDEV / "part_a" / "gold" / "claims.jsonl").is_file(),
                                   reason="../shared/realdev is not beside the checkout")


@pytest.fixture(scope="module")
def results():
    return {name: ev for name, ev, _ in evaluate_claims([str(REALDEV)])}


@needs_realdev
def test_all_parts_meet_the_floors(results):
    ev = results["all"]
    assert set(results) == {"part_a", "part_b", "part_c", "all"}
    assert ev.by_measure["killed"].f1 >= 0.93
    assert ev.overall.f1 >= 0.94
    assert ev.overall.accuracy["source"] >= 0.795
    assert ev.nonclaims_taken == []


@needs_realdev
def test_each_part_keeps_its_level(results):
    """Per part, so a rule that helps one and breaks another shows."""
    floors = {"part_a": (0.94, 0.87), "part_b": (0.94, 0.87), "part_c": (0.95, 0.64)}
    for part, (f1, source) in floors.items():
        ev = results[part]
        assert ev.overall.f1 >= f1, part
        assert ev.overall.accuracy["source"] >= source, part
        assert ev.nonclaims_taken == [], part


@needs_realdev
def test_the_command_reports_each_part_and_every_miss(capsys):
    assert main(["eval-claims", str(REALDEV / "part_a"), str(REALDEV / "part_b")]) == 0
    out = capsys.readouterr().out
    for part in ("== part_a", "== part_b", "== all", "per measure:", "  killed ", "per group",
                 "source right over matched claims:", "per source", "non-claims extracted: 0",
                 "missed gold claims (", "quote: ", "false claims (", "attribute mismatches ("):
        assert part in out
