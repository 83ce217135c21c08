"""DuckDB over an output folder: the views of schemas/views.sql, the default summary, and the
sandbox that users' SQL runs in.

User SQL (`tollwatch query OUT "SQL"`) runs on a connection locked down after the views exist:
only SELECT and EXPLAIN statements, file access only below the output's table folders (which the
views read), no extension installs or loads, no network, and the configuration locked so the SQL
cannot undo any of it. `--unsafe-sql` gives DuckDB's full access, for SQL one trusts.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
from importlib import resources

import duckdb
import pyarrow as pa

from tollwatch.schemas import TABLES, arrow_schema

_VIEW = re.compile(r"CREATE OR REPLACE (?:VIEW|MACRO) (\w+)", re.I)


def view_statements() -> list[tuple[str, str]]:
    """(view or macro name, CREATE statement) for each view and macro in views.sql, in file order."""
    sql = resources.files("tollwatch.schemas").joinpath("views.sql").read_text()
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    statements = [s.strip() for s in body.split(";") if s.strip()]
    return [(_VIEW.search(s).group(1), s) for s in statements]


# The tables a view reads besides its own: claims are kept as the run of their article found them.
_READS = {"claims": ("claims", "articles")}


def _has_files(output: str, table: str) -> bool:
    return bool(glob.glob(os.path.join(glob.escape(output), table, "*", "*.parquet")))


def _empty_view(con: duckdb.DuckDBPyConnection, name: str) -> None:
    table = TABLES[name]
    schema = arrow_schema(table.record_type).append(pa.field(table.partition_column, pa.date32()))
    con.register(f"_empty_{name}", schema.empty_table())
    con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM _empty_{name}")


class UnsafeSQL(ValueError):
    """SQL that the sandbox does not run: a statement other than SELECT or EXPLAIN."""


SAFE_STATEMENTS = (duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN)


def check_statements(sql: str) -> None:
    """Raise UnsafeSQL unless every statement of `sql` is a SELECT or an EXPLAIN (COPY, ATTACH,
    INSTALL, LOAD, SET, PRAGMA, CREATE, EXPORT ... are refused). DuckDB's own parser decides."""
    for statement in duckdb.extract_statements(sql):
        if statement.type not in SAFE_STATEMENTS:
            kind = statement.type.name if hasattr(statement.type, "name") else str(statement.type)
            raise UnsafeSQL(f"only SELECT queries over the views run here, not {kind} "
                            "(--unsafe-sql runs any SQL with DuckDB's full access)")


def lock_down(con: duckdb.DuckDBPyConnection, output: str, spill_dir: str) -> None:
    """Confine `con` to reading the output's tables: what the views read, nothing else."""
    output = os.path.abspath(output)
    readable = [os.path.join(output, name) + os.sep for name in TABLES]
    con.execute("SET temp_directory = ?", [spill_dir])  # DuckDB may spill there; ours, and private
    con.execute("SET allowed_directories = ?", [readable])
    con.execute("SET enable_external_access = false")
    for setting in ("autoinstall_known_extensions", "autoload_known_extensions",
                    "allow_community_extensions"):
        con.execute(f"SET {setting} = false")
    con.execute("SET lock_configuration = true")


def run_sql(output: str, sql: str, unsafe: bool = False, show=None):
    """Runs user SQL over the views of `output` and passes each statement's result relation (or
    None) to `show`; sandboxed unless `unsafe`. Without `show`, returns the last statement's
    result. Raises UnsafeSQL or duckdb.Error."""
    if unsafe:
        con = connect(output)
        relations = [con.sql(statement) for statement in duckdb.extract_statements(sql)]
        return [show(r) for r in relations] if show else relations[-1]
    check_statements(sql)
    spill_dir = tempfile.mkdtemp(prefix="tollwatch-query-")
    try:
        con = connect(output)
        lock_down(con, output, spill_dir)
        results = []
        for statement in duckdb.extract_statements(sql):  # each statement's result, in order
            relation = con.sql(statement)
            results.append(show(relation) if show else
                           (relation.fetchall() if relation is not None else None))
        con.close()
        return results if show else results[-1]
    finally:
        shutil.rmtree(spill_dir, ignore_errors=True)


def connect(output: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the views over `output` (empty views for tables that
    have no files yet, so queries work on a fresh or partial output)."""
    if not os.path.isdir(output):
        raise FileNotFoundError(f"no output folder at {output!r}: run `tollwatch run` first")
    con = duckdb.connect()
    con.execute("SET VARIABLE tollwatch_output = ?", [os.path.abspath(output)])
    for name, statement in view_statements():
        if name in TABLES and not all(_has_files(output, t) for t in _READS.get(name, (name,))):
            _empty_view(con, name)
        else:
            con.execute(statement)
    return con


SUMMARY_QUERIES = {
    "Toll as known now (overall claims; best = highest lower bound of independent sources, as "
    "its source said it)": """
        SELECT event_id, measure, "group", best_text AS best, low, high, n_independent_sources AS sources, n_claims AS claims,
               (SELECT string_agg(s.source || ' ' || coalesce(figure_text(c.qualifier, c.number,
                                  c.number_high, c.value_low, c.value_high), ''), ', ')
                FROM unnest(t.sources) AS u(s) LEFT JOIN claims AS c ON c.claim_id = s.claim_id)
                   AS latest_by_source
        FROM toll_now AS t ORDER BY event_id, measure, t.best DESC""",
    "Claims outside the toll (see the outside_toll view)": """
        SELECT event_id, reason, count(*) AS claims, count(DISTINCT doc_id) AS articles
        FROM outside_toll GROUP BY ALL ORDER BY event_id, claims DESC""",
    "Articles by publication date": """
        SELECT published_date,
               count(*) AS articles,
               count(*) FILTER (WHERE is_canonical) AS stories,
               count(*) FILTER (WHERE dup_kind = 'exact') AS exact_copies,
               count(*) FILTER (WHERE dup_kind = 'near') AS near_copies,
               count(*) FILTER (WHERE dup_kind = 'rewrite') AS rewrites,
               string_agg(DISTINCT date_source, ', ' ORDER BY date_source) AS dated_by
        FROM articles GROUP BY ALL ORDER BY published_date""",
    "Dead letters": """
        SELECT stage, error_type, count(*) AS n, any_value(uri) AS example
        FROM dead_letters GROUP BY ALL ORDER BY n DESC, stage, error_type""",
}


def _table(relation, width: int = 160) -> str:
    """A relation as DuckDB draws it, at a width that shows the summary's columns (str() elides
    middle columns to fit 80-odd characters)."""
    import contextlib
    import io

    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        relation.show(max_width=width)
    return text.getvalue().rstrip("\n")


def summary(output: str) -> str:
    """A short text report of what the output folder holds."""
    con = connect(output)
    parts = []
    for title, sql in SUMMARY_QUERIES.items():
        relation = con.sql(sql)
        rows = relation.fetchall()
        parts.append(f"{title}: {'none' if not rows else ''}")
        if rows:
            parts.append(_table(relation))
    return "\n".join(parts)
