"""Runs into an output folder that already holds output: the toll is revised, not duplicated."""

from __future__ import annotations

import pytest
from apache_beam.utils.timestamp import Timestamp

from support import EXAMPLES
from tollwatch.pipeline.cli import main
from tollwatch.pipeline.query import connect
from tollwatch.schemas import SourceFigure, TollWindow
from tollwatch.transforms.toll import revise

CORPUS = ["--events", str(EXAMPLES / "events.toml"), "--sources", str(EXAMPLES / "sources.toml")]
ANSWER = ('event_id, measure, "group", series, window_start, window_end, best, low, high, '
          'n_claims, n_docs, n_outlets, n_independent_sources, sources::VARCHAR, latest_claim_id')


def run(out, *patterns):
    assert main(["run", "-q", "--output", str(out), "--input",
                 *(str(EXAMPLES / p) for p in patterns), *CORPUS]) == 0


def rows(out, sql):
    return connect(str(out)).execute(sql).fetchall()


@pytest.fixture(scope="module")
def day_by_day(tmp_path_factory):
    out = tmp_path_factory.mktemp("incremental")
    run(out, "day1*")
    first = rows(out, "SELECT count(*) FROM toll")[0][0]
    run(out, "day1*")
    again = rows(out, "SELECT count(*) FROM toll")[0][0]
    run(out, "day2*")
    return out, first, again


def test_a_rerun_adds_no_toll_rows(day_by_day):
    _, first, again = day_by_day
    assert first > 0 and again == first


def test_day_by_day_gives_the_toll_of_one_run(day_by_day, tmp_path):
    out, first, _ = day_by_day
    run(tmp_path, "day1*", "day2*")
    incremental = set(rows(out, f"SELECT {ANSWER} FROM toll_latest"))
    at_once = set(rows(tmp_path, f"SELECT {ANSWER} FROM toll_latest"))
    assert incremental == at_once
    # Windows the second day changed got a second pane; the others kept their one row.
    panes = dict(rows(out, "SELECT pane_index, count(*) FROM toll GROUP BY 1"))
    assert set(panes) == {0, 1} and 0 < panes[1] < len(at_once)
    assert sum(panes.values()) < 2 * len(at_once)


def window(best, pane=0, computed=1):
    return TollWindow("e", "killed", "civilians", "window", Timestamp(0), Timestamp(86400),
                      "on_time", pane, best, best, best, 1, 1, 1, 1,
                      [SourceFigure("SOHR", best, best, "c1", Timestamp(10))], "c1",
                      Timestamp(computed))


def test_revise_writes_a_new_pane_only_for_a_changed_answer():
    assert revise([window(10)], []) == [window(10)]
    assert revise([window(10, computed=5)], [window(10)]) == []
    revised = revise([window(12, computed=5)], [window(10), window(11, pane=1, computed=2)])
    assert [(r.best, r.pane_index, r.pane_timing) for r in revised] == [(12, 2, "late")]
