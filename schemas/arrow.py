"""Arrow schemas derived from the record NamedTuples, and the conversion of records to Arrow tables.

The records' type hints are the one source of truth: a field added to a record appears in its Parquet
files without being written a second time here.
"""

from __future__ import annotations

import datetime as dt
import functools
import typing
from typing import Any, Iterable, Sequence

import pyarrow as pa
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas.versions import version_metadata

_SCALARS: dict[Any, pa.DataType] = {
    str: pa.string(),
    bytes: pa.binary(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    Timestamp: pa.timestamp("us", tz="UTC"),
}


def _is_record(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, tuple) and hasattr(tp, "_fields")


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def _arrow_type(tp: Any) -> pa.DataType:
    if tp in _SCALARS:
        return _SCALARS[tp]
    if _is_record(tp):
        return pa.struct(list(_fields(tp)))
    origin = typing.get_origin(tp)
    if origin in (list, Sequence, typing.Sequence, Iterable) or origin is getattr(
            __import__("collections.abc").abc, "Sequence"):
        (item,) = typing.get_args(tp)
        item, _ = _unwrap_optional(item)
        return pa.list_(_arrow_type(item))
    raise TypeError(f"no Arrow type for {tp!r}")


def _fields(record_type: type) -> Iterable[pa.Field]:
    hints = typing.get_type_hints(record_type)
    for name in record_type._fields:
        tp, nullable = _unwrap_optional(hints[name])
        yield pa.field(name, _arrow_type(tp), nullable=nullable)


@functools.lru_cache(maxsize=None)
def arrow_schema(record_type: type) -> pa.Schema:
    """The Arrow schema of a record type, derived from its type hints. It carries the stored
    format's version (versions.py), which every file written with it records."""
    return pa.schema(list(_fields(record_type)), metadata=version_metadata())


def _to_python(value: Any) -> Any:
    if isinstance(value, Timestamp):
        return value.micros
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {k: _to_python(v) for k, v in zip(value._fields, value)}
    if isinstance(value, (list, tuple)):
        return [_to_python(v) for v in value]
    return value


def to_arrow_table(records: Sequence[tuple], record_type: type) -> pa.Table:
    """Records of one type as an Arrow table with that type's schema, column by column."""
    schema = arrow_schema(record_type)
    columns = []
    for i, field in enumerate(schema):
        values = [r[i] for r in records]
        if pa.types.is_timestamp(field.type):
            values = [None if v is None else v.micros for v in values]
        elif pa.types.is_nested(field.type):
            values = [_to_python(v) for v in values]
        columns.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _from_python(value: Any, tp: Any) -> Any:
    tp, _ = _unwrap_optional(tp)
    if value is None:
        return None
    if tp is Timestamp:
        if isinstance(value, int):
            return Timestamp(micros=value)
        return Timestamp.from_utc_datetime(value.astimezone(dt.timezone.utc))
    if _is_record(tp):
        return from_row(value, tp)
    if typing.get_origin(tp) is not None and typing.get_args(tp) and isinstance(value, (list, tuple)):
        (item,) = typing.get_args(tp)
        return [_from_python(v, item) for v in value]
    return value


def from_row(row: dict, record_type: type) -> tuple:
    """A record from one row as pyarrow or Beam's Parquet reader give it (a dict; timestamps as
    datetimes or microseconds). Columns the record does not have (a Hive partition) are ignored;
    fields a file written before them lacks are None."""
    hints = typing.get_type_hints(record_type)
    return record_type(*(_from_python(row.get(name), hints[name]) for name in record_type._fields))
