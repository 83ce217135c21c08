"""The wiring of tollwatch's stages: files in, partitioned Parquet out. No stage logic here."""

from __future__ import annotations

from typing import Optional

import apache_beam as beam
from apache_beam.utils.timestamp import Timestamp

from tollwatch.pipeline.options import TollwatchOptions
from tollwatch.pipeline.progress import ReportProgress
from tollwatch.schemas import TABLES, Claim, DeadLetter, TollWindow
from tollwatch.transforms.events import AssignEvents, Event, default_event, load_events
from tollwatch.transforms.claims import ExtractClaims, UnmarkNewFigures
from tollwatch.transforms.continuation import WriteSignatures, known_signatures
from tollwatch.transforms.dedup import MarkNearDuplicates
from tollwatch.transforms.exact_duplicates import MarkExactDuplicates, RepointCopies
from tollwatch.transforms.extract import ExtractArticles
from tollwatch.transforms.ingest import ReadFiles
from tollwatch.transforms.parquet import ReadParquetRecords, WriteParquet, run_key, table_files
from tollwatch.transforms.repeats import StripRepeatedPassages
from tollwatch.transforms.rewrites import MarkRewrites
from tollwatch.transforms.toll import ReviseToll, TollStats, WithEarlierClaims


def events_for(options: TollwatchOptions) -> list[Event]:
    """The events of --events, else one event named after the (first) input."""
    if options.events:
        return load_events(options.events)
    first = (options.input or ["input"])[0].rstrip("/")
    parts = [p for p in first.replace("\\", "/").split("/") if p and not any(c in p for c in "*?[")]
    return [default_event(parts[-1] if parts else "input")]


def build(pipeline: beam.Pipeline, options: TollwatchOptions, patterns: list[str],
          now: Optional[Timestamp] = None, expected_files: Optional[int] = None) -> dict:
    """Adds the batch flow to `pipeline`; returns its PCollections by name."""
    read = pipeline | "ReadFiles" >> ReadFiles(patterns, options.max_file_bytes, now)
    extracted = (read["raw_docs"]
                 | "Progress" >> ReportProgress("files read", expected_files)
                 | "ExtractArticles" >> ExtractArticles())
    articles = (extracted["articles"]
                | "StripRepeatedPassages" >> StripRepeatedPassages()
                | "AssignEvents" >> AssignEvents(events_for(options))
                | "MarkExactDuplicates" >> MarkExactDuplicates())
    known = known_signatures(pipeline, options.output)  # canonical articles of earlier runs
    articles = (((articles, known) if known is not None else articles)
                | "MarkNearDuplicates" >> MarkNearDuplicates()
                | "ExactCopiesFollow" >> RepointCopies(follow=("exact",))
                | "MarkRewrites" >> MarkRewrites(options.sources)
                | "CopiesFollowRewrites" >> RepointCopies(follow=("exact", "near")))
    extract_claims = ExtractClaims(options.sources)
    claims = (articles
              | "ExtractClaims" >> extract_claims
              | "UnmarkNewFigures" >> UnmarkNewFigures())
    # An output folder that already holds claims: the toll is recomputed over them and this run's
    # claims, and only windows whose answer changed are written, as a new pane.
    earlier_claims, earlier_toll = (table_files(options.output, t) for t in ("claims", "toll"))
    toll_claims = claims
    if earlier_claims:
        toll_claims = ((claims, pipeline | "EarlierClaims" >> ReadParquetRecords(earlier_claims, Claim))
                       | "WithEarlierClaims" >> WithEarlierClaims())
    toll = toll_claims | "TollStats" >> TollStats(
        window_seconds=round(options.window_hours * 3600),
        period_seconds=round(options.period_hours * 3600),
        as_of_days=options.as_of_days,
        allowed_lateness_seconds=round(options.allowed_lateness_hours * 3600))
    if earlier_toll:
        toll = ((toll, pipeline | "EarlierToll" >> ReadParquetRecords(earlier_toll, TollWindow))
                | "ReviseToll" >> ReviseToll())
    dead_letters = ((read["dead_letters"], extracted["dead_letters"], extract_claims.dead_letters)
                    | "AllDeadLetters" >> beam.Flatten().with_output_types(DeadLetter))
    key = run_key(patterns)
    articles | "KeepSignatures" >> WriteSignatures(options.output, options.parquet_shards, key)
    outputs = {"articles": articles, "claims": claims, "toll": toll, "dead_letters": dead_letters}
    # Toll panes are a log: each revision gets files of its own, named after the earlier toll files
    # it revised, so a rerun from the same state replaces its own files and nothing else.
    keys = {name: key for name in outputs}
    keys["toll"] = run_key([key, *earlier_toll])
    for name, pcoll in outputs.items():
        table = TABLES[name]
        pcoll | f"Write{table.record_type.__name__}s" >> WriteParquet(
            options.output, table.name, table.record_type, table.partition_by,
            table.partition_column, shards=options.parquet_shards, run_key=keys[name])
    return outputs
