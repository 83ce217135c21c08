"""Streaming writes with TestStream on the DirectRunner: records are written window by window of
arrival time, each window under its own file names, and a copy of an old story arriving late is
written, not dropped."""

from __future__ import annotations

import duckdb
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from support import needs_shared
from tollwatch.schemas import Article
from tollwatch.transforms.parquet import WindowByArrival, WriteParquet

DAY = 86400
NOW = 1_790_000_000  # 2026-09-21


def article(doc_id: str, published: float, ingested: float) -> Article:
    return Article(doc_id, f"/drop/{doc_id}.txt", None, None, None, Timestamp(published),
                   "metadata", Timestamp(ingested), "text", "en", [], 0, doc_id, None, None, None,
                   True)


def test_windowed_writes_by_arrival(tmp_path):
    fresh = article("fresh", NOW - 600, NOW + 5)
    second = article("second", NOW - 300, NOW + 70)
    # Published a week ago, event time far behind the watermark: still written, with its window.
    old_copy = article("old-copy", NOW - 7 * DAY, NOW + 75)
    stream = (TestStream()
              .advance_watermark_to(NOW)
              .add_elements([TimestampedValue(fresh, fresh.published_at)])
              .advance_watermark_to(NOW + 65)
              .add_elements([TimestampedValue(second, second.published_at),
                             TimestampedValue(old_copy, old_copy.published_at)])
              .advance_watermark_to_infinity())
    with TestPipeline(runner="BundleBasedDirectRunner", options=None) as p:
        (p | stream.with_output_types(Article)
         | WindowByArrival(60, clock=lambda: Timestamp(NOW + 10))
         | WriteParquet(str(tmp_path), "articles", Article, "published_at", "published_date"))
    files = sorted(str(f.relative_to(tmp_path)) for f in tmp_path.rglob("*.parquet"))
    assert len(files) == 3 and len({f.rsplit("/", 1)[1] for f in files}) == 2, files
    # Two windows of arrival time, named apart (NOW is 14:13:20 UTC).
    assert {f.rsplit("/", 1)[1].split("-")[1] for f in files} == {"20260921T141300", "20260921T141400"}, files
    rows = duckdb.sql(f"SELECT doc_id, published_date::VARCHAR FROM read_parquet("
                      f"'{tmp_path}/articles/*/*.parquet', hive_partitioning = true) "
                      f"ORDER BY 1").fetchall()
    assert rows == [("fresh", "2026-09-21"), ("old-copy", "2026-09-14"), ("second", "2026-09-21")]
    assert not list(tmp_path.rglob("*.tmp*")) or all(p.is_dir() for p in tmp_path.rglob("*.tmp*"))


def test_the_streaming_pipeline_is_built_from_the_same_stages(tmp_path):
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from tollwatch.pipeline.build import build_streaming
    from tollwatch.pipeline.options import TollwatchOptions

    options = PipelineOptions(["--streaming"], watch=[str(tmp_path / "drop")],
                              output=str(tmp_path / "out"))
    pipeline = beam.Pipeline(options=options)
    outputs = build_streaming(pipeline, options.view_as(TollwatchOptions))
    assert set(outputs) == {"articles", "claims", "toll", "dead_letters"}
    labels = {t.full_label for t in pipeline.transforms_stack[0].parts}
    assert {"WatchFolder", "ExtractArticles", "FindCopies", "TollStats",
            "WriteArticles", "WriteClaims", "WriteTollWindows", "WriteDeadLetters"} <= labels
    assert not outputs["articles"].is_bounded


def top_steps(pipeline) -> list[str]:
    return [t.full_label for t in pipeline.transforms_stack[0].parts]


def parts_of(pipeline, label: str) -> set[str]:
    (step,) = [t for t in pipeline.transforms_stack[0].parts if t.full_label == label]
    return {t.full_label for t in step.parts}


def test_batch_and_streaming_run_the_same_steps_after_their_sources(tmp_path):
    """One pipeline: after the sources, the same steps in the same order; the copies step holds
    the batch's staging and one-worker resolver, or the stream's per-key state."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from tollwatch.pipeline.build import build, build_streaming
    from tollwatch.pipeline.options import TollwatchOptions

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("Ten people died in the flood, officials said.")
    shared = ["AllRawDocs", "Progress", "ExtractArticles", "StripRepeatedPassages", "AssignEvents",
              "FindCopies", "TollStats", "AllDeadLetters"]
    graphs = {}
    for mode in ("batch", "streaming"):
        options = PipelineOptions(["--streaming"] if mode == "streaming" else [],
                                  watch=[str(tmp_path / "in")], output=str(tmp_path / mode))
        pipeline = beam.Pipeline(options=options)
        if mode == "batch":
            build(pipeline, options.view_as(TollwatchOptions), [str(tmp_path / "in" / "*")])
        else:
            build_streaming(pipeline, options.view_as(TollwatchOptions))
        graphs[mode] = pipeline
        steps = top_steps(pipeline)
        assert [s for s in steps if s in shared] == shared, (mode, steps)
        writes = [s for s in steps if s.startswith("Write")]
        assert writes == ["WriteArticles", "WriteClaims", "WriteTollWindows", "WriteDeadLetters"]
    inner = {mode: parts_of(pipeline, "FindCopies") for mode, pipeline in graphs.items()}
    assert inner["batch"] == {"FindCopies/StageArticles", "FindCopies/ResolveDuplicates",
                              "FindCopies/ApplyVerdicts"}
    assert inner["streaming"] >= {"FindCopies/MarkNearDuplicates", "FindCopies/ExtractClaims"}


def test_a_record_within_the_allowed_lateness_is_written_one_past_it_is_counted(tmp_path):
    on_time = article("on-time", NOW - 600, NOW + 5)
    late = article("late", NOW - 300, NOW + 10)  # reaches its window after the watermark passed it
    too_late = article("too-late", NOW - 300, NOW - 2 * DAY)  # past the allowed lateness (1 day)
    stream = (TestStream()
              .advance_watermark_to(NOW)
              .add_elements([TimestampedValue(on_time, on_time.published_at)])
              .advance_watermark_to(NOW + 120)
              .advance_processing_time(60)
              .advance_watermark_to(NOW + 180)
              .add_elements([TimestampedValue(late, late.published_at),
                             TimestampedValue(too_late, too_late.published_at)])
              .advance_watermark_to_infinity())
    with TestPipeline(runner="BundleBasedDirectRunner", options=None) as p:
        (p | stream.with_output_types(Article)
         | WindowByArrival(60, lateness_seconds=DAY, clock=lambda: Timestamp(NOW + 180))
         | WriteParquet(str(tmp_path), "articles", Article, "published_at", "published_date"))
    # (This runner reports no metrics from a TestStream pipeline: the drop's counter,
    # write_too_late, is read by the CLI from the runners that do.)
    rows = duckdb.sql(f"SELECT doc_id FROM read_parquet('{tmp_path}/articles/*/*.parquet') "
                      f"ORDER BY 1").fetchall()
    assert rows == [("late",), ("on-time",)]


def raw_doc(path, fetched: float):
    from tollwatch.schemas import RawDoc

    return RawDoc(str(path), None, None, Timestamp(fetched), path.read_bytes(), None, None)


@needs_shared
def test_a_stream_writes_every_record_type_on_time_and_late(tmp_path):
    """The seeds through the streaming pipeline in streaming mode: articles, claims, toll panes
    and dead letters are all written; a file that reaches a closed write window within the allowed
    lateness is written in a late pane; one past it is a counted drop."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    from support import SEEDS
    from tollwatch.pipeline.build import build_streaming
    from tollwatch.pipeline.options import TollwatchOptions
    from tollwatch.schemas import DeadLetter, RawDoc

    seeds = sorted(SEEDS.glob("*.txt"))
    # The stream runs a day after the seeds' latest date (2025-03-09): their claims are on time
    # for the toll. The clock the counted drops read follows the stream's processing time.
    start = 1_741_564_800 + DAY  # 2025-03-11 00:00 UTC
    clock_at = {"now": start}
    out = tmp_path / "out"
    late_file = tmp_path / "late.txt"
    late_file.write_text(seeds[0].read_text(encoding="utf-8").replace("Reuters", "AFP"))
    unsupported = tmp_path / "photo.jpg"
    unsupported.write_bytes(b"\xff\xd8\xff")
    stream = (TestStream()
              .advance_watermark_to(start)
              .add_elements([TimestampedValue(raw_doc(p, start + i), start + i)
                             for i, p in enumerate(seeds[1:])])
              .advance_processing_time(90)
              .advance_watermark_to(start + 150)
              # Its write window [start, start + 60) closed: late, within the allowed lateness.
              .add_elements([TimestampedValue(raw_doc(late_file, start + 30), start + 150)])
              # Read eight days ago: past the allowed lateness (7 days), a counted drop.
              .add_elements([TimestampedValue(raw_doc(seeds[0], start - 8 * DAY), start + 150)])
              .advance_processing_time(90)
              .advance_watermark_to_infinity())

    def dead_letter(doc):
        return DeadLetter(doc.uri, "read", "unsupported_type", "test", 3, doc.fetched_at)

    options = PipelineOptions(["--streaming"], output=str(out), window_hours=24.0, period_hours=6.0)
    options.view_as(StandardOptions).streaming = True
    pipeline = beam.Pipeline(runner="BundleBasedDirectRunner", options=options)
    raw = pipeline | stream.with_output_types(RawDoc)
    bad = (pipeline | "Unsupported" >> beam.Create([raw_doc(unsupported, start + 5)])
           | "AsDeadLetter" >> beam.Map(dead_letter).with_output_types(DeadLetter)
           | "AtRead" >> beam.Map(lambda d: TimestampedValue(d, d.ingested_at)))
    build_streaming(pipeline, options.view_as(TollwatchOptions),
                    extra_sources=[{"raw_docs": raw, "dead_letters": bad}],
                    clock=lambda: Timestamp(clock_at["now"] + 200), toll_by_processing_time=False)
    result = pipeline.run()
    result.wait_until_finish()

    def rows(table: str, sql: str = "count(*)"):
        return duckdb.sql(f"SELECT {sql} FROM read_parquet('{out}/{table}/*/*.parquet', "
                          f"hive_partitioning = true, union_by_name = true)").fetchall()

    assert rows("articles")[0][0] == len(seeds), "4 seeds on time and the late copy"
    assert rows("articles", "count(*) FILTER (WHERE uri LIKE '%late.txt')")[0][0] == 1
    # Every claim of every article is written (none dropped as late by its publication time).
    claims = rows("claims")[0][0]
    assert claims >= 20, claims
    assert rows("claims", "count(DISTINCT doc_id)")[0][0] >= 4
    toll = rows("toll", "count(*), count(DISTINCT pane_timing)")[0]
    assert toll[0] > 0, toll
    assert rows("dead_letters", "error_type")[0] == ("unsupported_type",)
    # The file read eight days ago is left out (a counted drop), its copy read on time is not.
    assert rows("articles", "count(*) FILTER (WHERE uri LIKE '%000_%')")[0][0] == 0


@needs_shared
def test_the_streaming_graph_runs_bounded_on_the_local_runner(tmp_path):
    """Without --runner (Beam's FnApiRunner, which has no processing time) the streaming graph runs
    over a bounded source and writes every table: the toll's early trigger used to crash it."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from support import SEEDS
    from tollwatch.pipeline.build import build_streaming
    from tollwatch.pipeline.options import TollwatchOptions
    from tollwatch.pipeline.runner import make_pipeline
    from tollwatch.schemas import DeadLetter, RawDoc

    seeds = sorted(SEEDS.glob("*.txt"))
    start = 1_741_564_800 + DAY  # 2025-03-11: the seeds' claims are on time for the toll
    out = tmp_path / "out"
    options = PipelineOptions(["--streaming"], output=str(out))
    pipeline = make_pipeline(options)
    raw = pipeline | "Seeds" >> beam.Create([raw_doc(p, start) for p in seeds]).with_output_types(RawDoc)
    none = pipeline | "NoDeadLetters" >> beam.Create([]).with_output_types(DeadLetter)
    build_streaming(pipeline, options.view_as(TollwatchOptions),
                    extra_sources=[{"raw_docs": raw, "dead_letters": none}],
                    clock=lambda: Timestamp(start + 60))
    pipeline.run().wait_until_finish()
    # And, as a batch run, the signatures of its canonical articles (what a restart links to).
    for table in ("articles", "claims", "toll", "_state/signatures"):
        assert list(out.glob(f"{table}/*/*.parquet")), table
