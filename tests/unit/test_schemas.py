import typing

import apache_beam as beam
import pyarrow as pa
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas import (TABLES, Article, Claim, DeadLetter, RawDoc, SourceFigure, TollWindow,
                               arrow_schema, to_arrow_table)


def test_arrow_schema_has_every_field_in_order_with_nullability_from_optional():
    for record_type in (RawDoc, Article, Claim, TollWindow, DeadLetter):
        schema = arrow_schema(record_type)
        assert schema.names == list(record_type._fields)
        hints = typing.get_type_hints(record_type)
        for field in schema:
            optional = type(None) in typing.get_args(hints[field.name])
            assert field.nullable == optional, (record_type.__name__, field.name)


def test_times_are_utc_microsecond_timestamps_and_lists_are_lists():
    schema = arrow_schema(TollWindow)
    assert schema.field("window_start").type == pa.timestamp("us", tz="UTC")
    assert pa.types.is_list(schema.field("sources").type)
    assert schema.field("sources").type.value_type.names == list(SourceFigure._fields)
    assert arrow_schema(Article).field("event_ids").type == pa.list_(pa.string())


def test_records_round_trip_through_row_coder_and_arrow():
    window = TollWindow("e", "killed", "total", "window", Timestamp(0), Timestamp(86400), "on_time", 0, 10, 10,
                        12, 2, 2, 2, 1, [SourceFigure("SOHR", 10, 12, "c1", Timestamp(5))], "c1",
                        Timestamp(100))
    coder = beam.coders.registry.get_coder(TollWindow)
    assert isinstance(coder, beam.coders.RowCoder)
    assert coder.decode(coder.encode(window)) == window
    row = to_arrow_table([window], TollWindow).to_pylist()[0]
    assert row["sources"][0]["source"] == "SOHR"
    assert row["window_end"].isoformat() == "1970-01-02T00:00:00+00:00"


def test_every_record_coder_codes_each_field_by_its_type():
    """A RowCoder field of type Any (what Beam infers from a string annotation) codes its value as a
    tagged Python object and pickles a Timestamp; every field must have a real type, and a time
    must keep its microseconds."""
    from tollwatch.schemas.duplicates import ArticleDigest, Signature, StoryTraits, Verdict
    from tollwatch.schemas.intermediate import ArticleVersion, EventSpan, Feed, TollClaim

    for record_type in (RawDoc, Article, Claim, SourceFigure, TollWindow, DeadLetter, Signature,
                        ArticleDigest, Verdict, StoryTraits, TollClaim, Feed, ArticleVersion, EventSpan):
        coder = beam.coders.registry.get_coder(record_type)
        for field in coder.schema.fields:
            assert field.type.logical_type.urn != "beam:logical:pythonsdk_any:v1", (
                record_type.__name__, field.name)
    letter = DeadLetter("file:///x", "read", "io", "gone", None, Timestamp(micros=1_700_000_000_123_457))
    coder = beam.coders.registry.get_coder(DeadLetter)
    assert coder.decode(coder.encode(letter)).ingested_at.micros == 1_700_000_000_123_457


def test_every_table_partitions_by_a_timestamp_field_of_its_record():
    for table in TABLES.values():
        assert typing.get_type_hints(table.record_type)[table.partition_by] is Timestamp
        assert table.partition_column not in table.record_type._fields
