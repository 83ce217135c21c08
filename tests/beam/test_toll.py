"""TollStats: the best-estimate rule (pure) and the windows, panes and late data (Beam)."""

import datetime as dt

import apache_beam as beam
import pytest
from hypothesis import given, settings, strategies as st
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that
from apache_beam.transforms import window
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas import Claim
from tollwatch.transforms.toll import (
    ArticleVersion, TollKey, TollStats, bounded_toll, bounds, counts_toward_toll, current_claims,
    last_window_end,
    latest_by_source, toll_series, toll_window)

DAY = 86400
T0 = Timestamp.from_utc_datetime(dt.datetime(2026, 5, 12, tzinfo=dt.timezone.utc))


def claim(n, at=0, source="VOCR", qualifier="exact", group="total", is_copy=False, doc="d1",
          scope="overall", high=None, cid=None, event="ev", date_source="metadata"):
    low = {"more_than": n + 1, "up_to": None}.get(qualifier, n)
    value_high = {"more_than": None, "at_least": None, "up_to": n, "range": high}.get(qualifier, n)
    return Claim(cid or f"c{n}-{source}-{at}-{doc}", "k", doc, event, f"outlet-{doc}", T0 + at,
                 date_source, "killed", n, high, qualifier, low, value_high, group, None, source, None, scope,
                 None, None, None, "s", 0, 1, is_copy, doc)


def test_bounds_fill_an_open_side_with_the_other():
    assert bounds(claim(340, qualifier="more_than")) == (341, 341)
    assert bounds(claim(15, qualifier="up_to")) == (15, 15)
    assert bounds(claim(180, qualifier="range", high=200)) == (180, 200)


def test_best_is_the_highest_lower_bound_of_independent_sources_latest_figures():
    claims = [claim(100, at=0, source="ministry"), claim(140, at=3600, source="ministry"),
              claim(300, at=0, source="VOCR", qualifier="more_than"),
              claim(900, at=7200, source="VOCR", is_copy=True, doc="copy")]
    row = toll_window(TollKey("ev", "killed", "total"), claims, T0, T0 + DAY, "window", "on_time",
                      0, T0)
    assert (row.best, row.low, row.high) == (301, 140, 301)
    assert row.n_claims == 4 and row.n_docs == 2 and row.n_independent_sources == 2
    assert [(s.source, s.value_low) for s in row.sources] == [("VOCR", 301), ("ministry", 140)]
    assert row.latest_claim_id == claims[-1].claim_id


def test_a_window_of_copies_only_still_has_a_figure():
    row = toll_window(TollKey("ev", "killed", "total"), [claim(50, is_copy=True)], T0, T0 + DAY,
                      "window", "on_time", 0, T0)
    assert row.best == 50 and row.n_independent_sources == 0


def test_figures_without_a_source_are_no_independent_source():
    claims = [claim(100, source=None, doc="a"), claim(120, source=None, doc="b"), claim(110, source="ministry")]
    row = toll_window(TollKey("ev", "killed", "total"), claims, T0, T0 + DAY, "window", "on_time", 0, T0)
    assert row.best == 120 and row.n_independent_sources == 1


def test_one_body_named_several_ways_is_one_source_of_the_toll():
    claims = [claim(140, at=0, source="Health Ministry", doc="a"), claim(146, at=3600, source="health ministry", doc="b"),
              claim(150, at=0, source="Red Crescent", doc="c"), claim(155, at=60, source="Libyan Red Crescent", doc="d")]
    key = TollKey("ev", "killed", "total")
    row = toll_window(key, claims, T0, T0 + DAY, "window", "on_time", 0, T0)
    assert row.n_independent_sources == 2
    assert [(s.source, s.value_low) for s in row.sources] == [("Health Ministry", 146), ("Libyan Red Crescent", 155)]
    swept = [r for r in toll_series(key, claims, DAY, DAY, "window", T0) if r.window_start <= T0 < r.window_end]
    assert [(r.n_independent_sources, r.sources) for r in swept] == [(row.n_independent_sources, row.sources)]


def test_incident_vague_and_eventless_claims_do_not_count():
    assert counts_toward_toll(claim(5))
    assert not counts_toward_toll(claim(5, scope="incident"))
    assert not counts_toward_toll(claim(5, event=None))
    assert not counts_toward_toll(claim(5, date_source="file_mtime"))
    assert not counts_toward_toll(claim(5, date_source="ingested"))
    assert counts_toward_toll(claim(5, date_source="text"))
    assert not counts_toward_toll(claim(24, qualifier="vague"))  # "dozens": a floor, not a toll
    assert not counts_toward_toll(claim(5)._replace(value_low=None, value_high=None, qualifier="vague"))


def test_invalid_windows_are_rejected_when_the_pipeline_is_built():
    with pytest.raises(ValueError):
        TollStats(window_seconds=DAY, period_seconds=7 * 3600)
    with pytest.raises(ValueError):
        TollStats(as_of_days=0)


def _summary(rows):
    return sorted((r.series, r.group, str(r.window_start.to_utc_datetime()), r.pane_timing, r.best)
                  for r in rows)


def test_batch_windows_and_as_of_series():
    claims = [claim(100, at=2 * 3600), claim(150, at=DAY + 3600, source="ministry"),
              claim(40, at=3600, group="civilians")]
    with TestPipeline(runner="BundleBasedDirectRunner") as p:
        rows = p | beam.Create(claims) | TollStats(as_of_days=2)

        def check(rows):
            windows = [r for r in rows if r.series == "window" and r.group == "total"]
            # 24 h windows every 6 h: each claim is in four of them.
            assert len(windows) == 8, _summary(rows)
            covering_day2 = [r for r in windows if r.window_start == T0 + DAY]
            assert [r.best for r in covering_day2] == [150]
            as_of = sorted((r for r in rows if r.series == "as_of" and r.group == "total"),
                           key=lambda r: r.window_end)
            assert [r.best for r in as_of][:4] == [100] * 4
            assert max(r.best for r in as_of) == 150
            assert all(r.pane_timing == "on_time" for r in rows)
        assert_that(rows, check)


def test_bounded_toll_gives_the_rows_of_the_batch_pipeline():
    # The benchmarks time the toll stage with bounded_toll: it must be the stage they time.
    claims = [claim(100, at=2 * 3600), claim(150, at=DAY + 3600, source="ministry"),
              claim(40, at=3600, group="civilians"), claim(7, at=3600, scope="incident")]
    alone = bounded_toll(claims, T0, as_of=2 * DAY)
    assert {r.group for r in alone} == {"total", "civilians"}
    with TestPipeline(runner="BundleBasedDirectRunner") as p:
        rows = p | beam.Create(claims) | TollStats(as_of_days=2)
        assert_that(rows, lambda rows: _same(_summary(rows), _summary(alone)))


def _same(found, expected):
    assert found == expected


def test_a_late_copy_with_a_higher_figure_revises_the_window_in_a_late_pane():
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    stream = (TestStream()
              .add_elements([window.TimestampedValue(claim(100, at=3600), T0 + 3600)])
              .advance_watermark_to(T0 + 3 * DAY)
              .add_elements([window.TimestampedValue(
                  claim(120, at=7200, source="ministry", doc="late"), T0 + 7200)])
              .advance_watermark_to_infinity())
    with TestPipeline(runner="BundleBasedDirectRunner", options=options) as p:
        rows = (p | stream | TollStats(as_of_days=1, allowed_lateness_seconds=7 * DAY,
                                       early_firing_seconds=0, clock=lambda: T0 + 3 * DAY)
                | beam.Filter(lambda r: r.series == "window" and r.window_start == T0))

        def check(rows):
            panes = sorted((r.pane_index, r.pane_timing, r.best, r.n_claims) for r in rows)
            assert panes == [(0, "on_time", 100, 1), (1, "late", 120, 2)], panes
        assert_that(rows, check)


def test_the_last_window_of_a_claim_ends_a_window_after_its_period():
    assert last_window_end(T0 + 3600, DAY, 6 * 3600) == T0 + DAY
    assert last_window_end(T0 + 6 * 3600, DAY, 6 * 3600) == T0 + 30 * 3600


def test_toll_latest_view_shows_the_late_revision(tmp_path):
    """The panes of the late-copy test, written as the toll table: toll_latest keeps the late one."""
    import pyarrow.parquet as pq

    from tollwatch.pipeline.query import connect
    from tollwatch.schemas import TollWindow, to_arrow_table
    on_time = toll_window(TollKey("ev", "killed", "total"), [claim(100, at=3600)], T0, T0 + DAY,
                          "window", "on_time", 0, T0 + DAY)
    late = toll_window(TollKey("ev", "killed", "total"),
                       [claim(100, at=3600), claim(120, at=7200, source="ministry", doc="late")],
                       T0, T0 + DAY, "window", "late", 1, T0 + 3 * DAY)
    folder = tmp_path / "toll" / "window_date=2026-05-12"
    folder.mkdir(parents=True)
    pq.write_table(to_arrow_table([on_time], TollWindow), folder / "part-a.parquet")
    pq.write_table(to_arrow_table([late], TollWindow), folder / "part-b.parquet")
    con = connect(str(tmp_path))
    assert con.execute("SELECT count(*) FROM toll").fetchall() == [(2,)]
    assert con.execute("SELECT pane_timing, best, n_claims FROM toll_latest").fetchall() == \
        [("late", 120, 2)]


def test_streaming_fires_an_early_pane_on_processing_time_before_the_watermark():
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    stream = (TestStream()
              .add_elements([window.TimestampedValue(claim(100, at=3600), T0 + 3600)])
              .advance_processing_time(120)
              .add_elements([window.TimestampedValue(claim(130, at=5400, source="ministry"),
                                                     T0 + 5400)])
              .advance_watermark_to(T0 + 3 * DAY)
              .advance_watermark_to_infinity())
    with TestPipeline(runner="BundleBasedDirectRunner", options=options) as p:
        rows = (p | stream | TollStats(as_of_days=1, early_firing_seconds=60, streaming=True,
                                       clock=lambda: T0 + 3 * DAY)
                | beam.Filter(lambda r: r.series == "window" and r.window_start == T0))

        def check(rows):
            panes = sorted((r.pane_index, r.pane_timing, r.best, r.n_claims) for r in rows)
            assert panes[0] == (0, "early", 100, 1), panes
            assert panes[-1][1:] == ("on_time", 130, 2), panes
        assert_that(rows, check)


def test_a_copy_that_changes_a_figure_is_independent_for_that_figure():
    from tollwatch.transforms.claims import unmark_new_figures
    origin = claim(45, doc="wire")._replace(canonical_id="wire")
    same = claim(45, doc="copy", is_copy=True)._replace(canonical_id="wire")
    update = claim(52, doc="copy", is_copy=True)._replace(canonical_id="wire")
    out = {(c.doc_id, c.number): c.is_copy for c in unmark_new_figures([origin, same, update])}
    assert out == {("wire", 45): False, ("copy", 45): True, ("copy", 52): False}
    # Without the origin in this run, copies stay copies.
    assert [c.is_copy for c in unmark_new_figures([same, update])] == [True, True]


def _windowed_rows(key, claims, size, period, series):
    """The reference: every claim assigned to its windows by Beam's SlidingWindows, then each window's
    row by toll_window (what the windowed GroupByKey computes in batch)."""
    from apache_beam.transforms.window import SlidingWindows, WindowFn

    windows = {}
    for c in claims:
        for w in SlidingWindows(size, period).assign(WindowFn.AssignContext(c.published_at)):
            windows.setdefault((w.start, w.end), []).append(c)
    return {(start, end): toll_window(key, group, start, end, series, "on_time", 0, T0)
            for (start, end), group in windows.items()}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(-3 * DAY, 6 * DAY), st.sampled_from(["A", "B", "C", None]),
                          st.booleans(), st.integers(1, 400), st.integers(0, 5), st.sampled_from(
                              ["exact", "more_than", "up_to", "range"])), max_size=40),
       st.sampled_from([(DAY, 6 * 3600), (2 * DAY, 6 * 3600), (6 * 3600, 6 * 3600), (DAY, DAY)]))
def test_the_batch_sweep_gives_the_rows_of_windowed_grouping(specs, sizes):
    from tollwatch.transforms.toll import toll_series

    size, period = sizes
    claims = [claim(n, at=at, source=source, is_copy=copy, doc=f"d{doc}", qualifier=qualifier, high=n + 7)
              for at, source, copy, n, doc, qualifier in specs]
    key = TollKey("ev", "killed", "total")
    swept = {(r.window_start, r.window_end): r for r in toll_series(key, claims, size, period, "window", T0)}
    assert swept == _windowed_rows(key, claims, size, period, "window")


def test_packed_toll_claims_come_back_whole_through_compaction_and_merging(monkeypatch):
    """PackTollClaims' accumulators are blocks of records, open (bytearray) or compressed (bytes):
    a block is compressed when it fills and when the accumulator is compacted, and every method
    takes any mix. The claims come back equal, in order, each once."""
    from tollwatch.transforms import toll
    from tollwatch.transforms.toll import PackTollClaims, toll_claim

    monkeypatch.setattr(toll, "BLOCK_BYTES", 300)  # a few claims per block
    fn = PackTollClaims()
    claims = [toll_claim(claim(n, at=n * 60, source=s, doc=f"d{n % 3}", is_copy=n % 2 == 0))
              for n, s in zip(range(1, 31), ["A", "B", None] * 10)]
    parts = []
    for chunk in (claims[:10], claims[10:25], claims[25:]):
        acc = fn.create_accumulator()
        for c in chunk:
            acc = fn.add_input(acc, c)
        parts.append(acc)
    # Full blocks were compressed as they filled; the last one is still open.
    assert any(isinstance(b, bytes) for b in parts[1]) and isinstance(parts[1][-1], bytearray)
    assert sum(map(len, parts[1])) < sum(len(fn._coder.encode(c)) for c in claims[10:25])
    compact = fn.compact(parts[0])
    assert compact and all(isinstance(b, bytes) for b in compact)
    # Adding to a compacted accumulator opens a block after its compressed ones.
    reopened = fn.add_input(fn.compact(parts[2]), claims[0])
    merged = fn.merge_accumulators([compact, parts[1], reopened])
    assert fn.extract_output(merged) == claims + [claims[0]]
    assert fn.extract_output(fn.compact(merged)) == claims + [claims[0]]
    assert fn.extract_output(fn.create_accumulator()) == []
    assert fn.extract_output(fn.compact(fn.create_accumulator())) == []


def test_one_sources_figures_at_the_same_time_go_to_the_higher_not_to_the_claim_id():
    # Two figures of one source published at the same moment: the higher one is its latest,
    # whichever claim_id sorts first.
    for ids in (("a", "z"), ("z", "a")):
        lower, higher = claim(30, cid=ids[0]), claim(45, cid=ids[1])
        row = toll_window(TollKey("ev", "killed", "total"), [higher, lower], T0, T0 + DAY,
                          "window", "on_time", 0, T0)
        assert row.best == 45 and [s.value_low for s in row.sources] == [45]
        assert latest_by_source([lower, higher])["VOCR"].claim_id == ids[1]


def version(doc, at, key):
    return ArticleVersion(doc, T0 + at, key, T0)


def test_a_corrected_article_replaces_its_claims():
    # Run r1 read "50 dead" at offset 10; the corrected text, read by r2, says "25 dead" at 12.
    retracted = claim(50, doc="d1", cid="c-50-at-10")
    corrected = claim(25, doc="d1", cid="c-25-at-12")
    # This run read the article again: its claims only, even none.
    assert current_claims([corrected], True, [("r1", retracted)], []) == [corrected]
    assert current_claims([], True, [("r1", retracted)], []) == []
    # A later run that does not read it: the claims of the run of its latest read.
    earlier = [("r1", retracted), ("r2", corrected)]
    versions = [version("d1", 0, "r1"), version("d1", 60, "r2")]
    assert current_claims([], False, earlier, versions) == [corrected]
    # The same claim written by two runs of the same text counts once.
    assert current_claims([], False, [("r1", retracted), ("r1", retracted)], []) == [retracted]


def blast_page(figure: str, day: int, title: str) -> str:
    """One report of a blast, as a page published on 2026-05-`day`, stating `figure` killed."""
    return (f'<html><head><title>{title}</title><meta property="article:published_time" '
            f'content="2026-05-{day}T08:00:00Z"></head><body><article><p>The health ministry said '
            f"{figure} people were killed in the blast in the capital on Tuesday, and rescue teams "
            "were still searching the rubble of the market for survivors late into the night.</p>"
            "<p>Hospitals across the city appealed for blood donors as the wounded arrived through "
            "the evening.</p></article></body></html>")


@pytest.mark.slow  # a whole `tollwatch run`
def test_a_corrected_article_leaves_only_its_new_figure_in_the_toll(tmp_path):
    from tollwatch.pipeline.cli import main
    from tollwatch.pipeline.query import connect

    page = tmp_path / "in" / "report.html"
    page.parent.mkdir()
    out = tmp_path / "out"

    def publish(figure: str, day: int = 12) -> list:
        page.write_text(blast_page(figure, day, "Blast in the capital"), encoding="utf-8")
        assert main(["run", "-q", "--input", str(page.parent), "--output", str(out)]) == 0
        return connect(str(out)).execute(
            "SELECT DISTINCT best, n_claims FROM toll_latest WHERE measure = 'killed' "
            "AND series = 'as_of'").fetchall()

    assert publish("50") == [(50, 1)]
    assert publish("twenty-five") == [(25, 1)]  # the retracted 50 is gone, not beside it
    # Corrected again and dated two days later: the windows only the earlier version was in are
    # emptied, not left saying 25; and the claims view holds only the new claim, though the old
    # one stays stored under the day it was dated before.
    assert publish("twenty", day=14) == [(20, 1)]
    assert connect(str(out)).execute(
        "SELECT number FROM claims WHERE measure = 'killed'").fetchall() == [(20,)]
    emptied = connect(str(out)).execute(
        "SELECT count(*) FROM toll WHERE n_claims = 0 AND best IS NULL").fetchall()
    assert emptied[0][0] > 0
    other = tmp_path / "in2"
    other.mkdir()
    (other / "note.txt").write_text("Unrelated note without figures.", encoding="utf-8")
    assert main(["run", "-q", "--input", str(other), "--output", str(out)]) == 0
    assert connect(str(out)).execute(
        "SELECT DISTINCT best FROM toll_latest WHERE measure = 'killed'").fetchall() == [(20,)]


def test_incidents_view_takes_a_sources_higher_figure_at_the_same_time(tmp_path):
    import pyarrow.parquet as pq

    from tollwatch.pipeline.query import connect
    from tollwatch.schemas import Article
    from tollwatch.schemas.arrow import to_arrow_table

    for ids in (("a", "z"), ("z", "a")):
        out = tmp_path / "-".join(ids)
        lower = claim(3, cid=ids[0], scope="incident")._replace(location="Brenn")
        higher = claim(7, cid=ids[1], scope="incident")._replace(location="Brenn")
        article = Article("d1", "u", None, None, None, T0, "metadata", T0, "text", None, ["ev"], 0,
                          None, None, None, None, True)
        for table, rows, record_type in (("claims", [lower, higher], Claim),
                                         ("articles", [article], Article)):
            folder = out / table / "published_date=2026-05-12"
            folder.mkdir(parents=True)
            pq.write_table(to_arrow_table(rows, record_type),
                           folder / "part-k-00000-of-00001.parquet")
        assert connect(str(out)).execute("SELECT value_low FROM incidents").fetchall() == [(7,)]


def test_a_window_no_claim_is_in_any_more_gets_an_empty_pane_once():
    from tollwatch.schemas import SourceFigure, TollWindow
    from tollwatch.transforms.toll import revise

    earlier = TollWindow("ev", "killed", "total", "window", T0, T0 + DAY, "on_time", 0, 50, 50, 50,
                         1, 1, 1, 1, [SourceFigure("VOCR", 50, 50, "c", T0)], "c", T0)
    (row,) = revise([], [earlier])
    assert (row.best, row.n_claims, row.sources, row.pane_index) == (None, 0, [], 1)
    assert revise([], [earlier, row]) == []  # emptied already: nothing more
    assert revise([], []) == []
