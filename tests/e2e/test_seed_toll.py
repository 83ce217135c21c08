"""Issue 5 on the real seeds: the toll windows of 8 and 9 March 2025."""

import datetime as dt

from support import needs_shared
from tollwatch.pipeline.query import connect


@needs_shared
def test_seed_windows_give_the_sohr_figures(seeds_run):
    con = connect(str(seeds_run.output))  # `run --input SEEDS`

    def window(day: str) -> dict:
        start = dt.datetime.fromisoformat(f"{day}T00:00:00+00:00")
        rows = con.execute("""
            SELECT "group", best, list_transform(sources, lambda s: s.source)
            FROM toll_latest WHERE series = 'window' AND measure = 'killed' AND window_start = ?""",
                           [start]).fetchall()
        return {group: (best, sources) for group, best, sources in rows}

    ninth = window("2025-03-09")
    assert ninth["total"][0] >= 1001
    assert ninth["civilians"][0] == 745
    assert ninth["security_forces"][0] == 125
    assert ninth["combatants"][0] == 148
    assert all("SOHR" in sources for _, sources in ninth.values())
    assert window("2025-03-08")["civilians"][0] == 341
    # 003 and 004 have no date: dated by the file's time, they stay out of the toll.
    assert con.execute("SELECT count(*) FROM claims WHERE date_source = 'file_mtime'").fetchall()[0][0] > 0
