"""Check that two output folders of `tollwatch run` hold the same rows: the guard of every optimisation.

    .venv/bin/python benchmarks/same_output.py OUT_BEFORE OUT_AFTER

Compares every table (and the near-duplicate state) row by row, in a canonical order, leaving out the
columns a run stamps with its own clock (`ingested_at`, `computed_at`, and the dead letters' partition
by `ingested_date`), the column names and the list of partition folders. Exits 1 and prints the first
differences if anything else differs. An output of an earlier format (other column names) is compared
after `tollwatch upgrade` of a copy of it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pyarrow.dataset as ds

TABLES = ("articles", "claims", "toll", "dead_letters", "_state/signatures")
CLOCK_COLUMNS = {"ingested_at", "computed_at"}
# Tables partitioned by a clock column: their partition folders (and column) are the run's date.
CLOCK_PARTITIONS = {"dead_letters": "ingested_date"}


def _data(output: Path, table: str):
    folder = output / table
    if not folder.is_dir():
        return None
    return ds.dataset(str(folder), format="parquet", partitioning="hive",
                      exclude_invalid_files=True).to_table()


def columns(output: Path, table: str) -> list[str]:
    data = _data(output, table)
    return [] if data is None else sorted(data.column_names)


def rows(output: Path, table: str) -> list[tuple]:
    """The table's rows without the clock columns, as sorted tuples of their repr."""
    data = _data(output, table)
    if data is None:
        return []
    names = [n for n in data.column_names
             if n not in CLOCK_COLUMNS and n != CLOCK_PARTITIONS.get(table)]
    columns = [data.column(n).to_pylist() for n in names]
    return sorted(tuple(repr(v) for v in row) for row in zip(*columns))


def partitions(output: Path, table: str) -> list[str]:
    folder = output / table
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def compare(before: Path, after: Path, show: int = 3) -> list[str]:
    """The differences between two output folders (empty: the same rows)."""
    problems = []
    for table in TABLES:
        if table not in CLOCK_PARTITIONS and partitions(before, table) != partitions(after, table):
            problems.append(f"{table}: partition folders differ")
        names_a, names_b = columns(before, table), columns(after, table)
        if names_a != names_b:
            problems.append(f"{table}: columns differ: only before {sorted(set(names_a) - set(names_b))}, "
                            f"only after {sorted(set(names_b) - set(names_a))}")
        a, b = rows(before, table), rows(after, table)
        if a != b:
            only_a = sorted(set(a) - set(b))
            only_b = sorted(set(b) - set(a))
            problems.append(f"{table}: {len(a)} vs {len(b)} rows, {len(only_a)} only before, "
                            f"{len(only_b)} only after")
            problems.extend(f"  before: {r}"[:600] for r in only_a[:show])
            problems.extend(f"  after:  {r}"[:600] for r in only_b[:show])
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    problems = compare(args.before, args.after)
    counts = {t: len(rows(args.after, t)) for t in TABLES}
    if problems:
        print("\n".join(problems))
        return 1
    print(f"same rows: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
