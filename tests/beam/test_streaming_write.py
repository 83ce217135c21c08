"""Streaming writes with TestStream on the DirectRunner: records are written window by window of
arrival time, each window under its own file names, and a copy of an old story arriving late is
written, not dropped."""

from __future__ import annotations

import duckdb
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

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
         | WindowByArrival(60)
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
    assert {"WatchFolder", "ExtractArticles", "MarkNearDuplicates", "TollStats",
            "WriteArticles", "WriteClaims", "WriteTollWindows", "WriteDeadLetters"} <= labels
    assert not outputs["articles"].is_bounded
