"""Reruns and backfills: the same input twice, or overlapping inputs, never count an article, a
claim or a toll figure twice; what the views show equals one run over the union of the inputs."""

from __future__ import annotations

import pytest

from outputs import copy_output, small_corpus, stored_rows, view_digest
from tollwatch.pipeline.cli import main


def run(out, *inputs) -> None:
    assert main(["run", "--input", *map(str, inputs), "--output", str(out), "-q"]) == 0


def test_the_same_input_twice_gives_the_same_rows_once(small_inputs, run_over_ab, tmp_path):
    a, b = small_inputs
    out = copy_output(run_over_ab, tmp_path / "out")  # a run over A and B
    once = view_digest(out)
    stored = {t: stored_rows(out, t) for t in ("articles", "claims", "toll", "dead_letters")}
    run(out, a, b)
    assert view_digest(out) == once
    # Not only the views: the second run replaced the files instead of adding rows beside them.
    assert {t: stored_rows(out, t) for t in stored} == stored
    assert once["articles"][0] == 6 and once["dead_letters"][0] == 1
    assert once["claims"][0] >= 10 and once["toll_now"][0] > 0


def test_a_backfill_over_overlapping_input_equals_one_run_over_the_union(small_inputs, run_over_a,
                                                                        run_over_ab, tmp_path):
    a, b = small_inputs
    backfilled, fresh = copy_output(run_over_a, tmp_path / "backfilled"), run_over_ab
    run(backfilled, a, b)      # A again, with B: A's articles are stored twice, the views keep one
    assert stored_rows(backfilled, "articles") > stored_rows(fresh, "articles")
    assert view_digest(backfilled) == view_digest(fresh)


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    """A run over A; then one article of A is edited and a run over A+B follows, into the same
    output (backfilled) and into a fresh one."""
    tmp_path = tmp_path_factory.mktemp("edited")
    small_corpus(tmp_path / "A", tmp_path / "B")
    a, b = tmp_path / "A", tmp_path / "B"
    backfilled, fresh = tmp_path / "backfilled", tmp_path / "fresh"
    run(backfilled, a)
    edited = a / "orvel_agency.txt"
    edited.write_text(edited.read_text().replace(
        "Landslide in Orvel: toll rises\n\n", "Landslide in Orvel: toll rises\n\nUpdated with "
        "the figures of the evening briefing, as the search went on in the rain.\n\n"))
    run(backfilled, a, b)
    run(fresh, a, b)
    return backfilled, fresh


CLAIM_FIGURES = ("SELECT doc_id, claim_id, measure, \"group\", value_low, value_high, source, sentence "
                 "FROM claims ORDER BY ALL")


def test_an_article_edited_between_runs_keeps_only_its_new_claims(edited):
    """Found by this test: the claims view kept one row per claim_id, and a claim's id holds its
    character offsets, so an article edited between a run over A and a run over A+B showed its
    old claims beside its new ones."""
    from tollwatch.pipeline.query import connect

    backfilled, fresh = edited
    got = connect(str(backfilled)).execute(CLAIM_FIGURES).fetchall()
    assert got == connect(str(fresh)).execute(CLAIM_FIGURES).fetchall()
    assert stored_rows(backfilled, "claims") > len(got)


def test_an_article_edited_between_runs_is_deduplicated_by_its_new_text(edited):
    backfilled, fresh = edited
    assert view_digest(backfilled)["articles"] == view_digest(fresh)["articles"]


def test_a_rerun_on_a_later_day_lists_a_failing_file_once(small_inputs, run_over_ab, tmp_path):
    """Dead letters are partitioned by ingestion date, so a rerun on another day stores the same
    failure again under another partition; the view keeps the latest."""
    import datetime as dt

    import pyarrow.parquet as pq

    a, b = small_inputs
    out = copy_output(run_over_ab, tmp_path / "out")  # a run over A and B
    (partition,) = (out / "dead_letters").iterdir()
    day = dt.date.fromisoformat(partition.name.split("=")[1])
    yesterday = partition.with_name(f"ingested_date={day - dt.timedelta(days=1)}")
    partition.rename(yesterday)  # as if the first run had been yesterday
    for path in yesterday.glob("*.parquet"):
        table = pq.read_table(path)
        shifted = table.set_column(table.schema.get_field_index("ingested_at"), "ingested_at",
                                   [[t.as_py() - dt.timedelta(days=1) for t in table["ingested_at"]]])
        pq.write_table(shifted.cast(table.schema), path)
    run(out, a, b)
    assert stored_rows(out, "dead_letters") == 2
    assert view_digest(out)["dead_letters"][0] == 1


def test_a_rerun_with_other_windows_replaces_the_toll_instead_of_adding_to_it(small_inputs, run_over_ab,
                                                                             tmp_path):
    """issue 17, item 14: a rerun with --window_hours 12 left the 24-hour windows of the first run
    beside its own in toll_latest. The toll is recomputed from every claim; a run with another
    windowing replaces it, and the output equals one run with that windowing."""
    from tollwatch.pipeline.query import connect

    a, b = small_inputs
    rerun, fresh = copy_output(run_over_ab, tmp_path / "rerun"), tmp_path / "fresh"
    assert main(["run", "--input", str(a), str(b), "--output", str(rerun), "--window_hours", "12",
                 "-q"]) == 0
    assert main(["run", "--input", str(a), str(b), "--output", str(fresh), "--window_hours", "12",
                 "-q"]) == 0
    hours = connect(str(rerun)).execute(
        "SELECT DISTINCT epoch(window_end - window_start) / 3600 FROM toll_latest "
        "WHERE series = 'window'").fetchall()
    assert hours == [(12.0,)]
    assert view_digest(rerun) == view_digest(fresh)
