"""DuckDB over an output folder: the views of schemas/views.sql, the default summary, and the
sandbox that users' SQL runs in.

The views read the tables' files through Arrow datasets registered on the connection, not through
DuckDB's own file access: a file whose footer does not read (a truncated or overwritten file) is
skipped and named, so one damaged file does not take every view down with it.

User SQL (`tollwatch query OUT "SQL"`) runs on a connection locked down after the views exist:
only SELECT and EXPLAIN statements, and DuckDB itself may open no file at all (the datasets were
registered before the lock), so no statement, however it is wrapped (`EXPLAIN ANALYZE COPY ...`),
can read or write a file; its database is opened read-only (`EXPLAIN ANALYZE CREATE TABLE` fails;
only temporary tables, in this process's memory, can be made); no extension installs or loads, no network, and the configuration locked
so the SQL cannot undo any of it. It runs within bounds of time, memory, threads and spill space
(`QueryLimits`). `--unsafe-sql` gives DuckDB's full access, for SQL one trusts.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import glob
import logging
import os
import re
import shutil
import stat
import tempfile
import threading
import time
from importlib import resources
from typing import NamedTuple, Optional

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from tollwatch.pipeline.upgrade import refuse_other_formats
from tollwatch.schemas import TABLES, arrow_schema

LOG = logging.getLogger("tollwatch")

_VIEW = re.compile(r"CREATE OR REPLACE (VIEW|MACRO) (\w+)", re.I)
# A view's read of one table: read_parquet(getvariable('tollwatch_output') || '/<table>/*/*.parquet', ...)
_READ = re.compile(r"read_parquet\(getvariable\('tollwatch_output'\) \|\| '/(\w+)/\*/\*\.parquet',"
                   r"(?P<options>[^()]*)\)")
_PARTITION = re.compile(r"^(\w+)=(\d{4}-\d{2}-\d{2})$")
SPILL_PREFIX = "tollwatch-query-"
LOCK = ".lock"


def view_statements() -> list[tuple[str, str]]:
    """(view or macro name, CREATE statement) for each view and macro in views.sql, in file order."""
    sql = resources.files("tollwatch.schemas").joinpath("views.sql").read_text()
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    statements = [s.strip() for s in body.split(";") if s.strip()]
    return [(_VIEW.search(s).group(2), s) for s in statements]


def readable_files(output: str) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """The files of each table of `output` that have a valid footer, and (path, reason) of those
    that do not or that lie in a folder that is not a partition of their table."""
    from tollwatch.transforms.parquet import unreadable

    files: dict[str, list[str]] = {}
    damaged = []
    for name, table in TABLES.items():
        files[name] = []
        for path in sorted(glob.glob(os.path.join(glob.escape(output), name, "*", "*.parquet"))):
            match = _PARTITION.match(os.path.basename(os.path.dirname(path)))
            reason = (unreadable(path) if match and match.group(1) == table.partition_column
                      else f"not in a {table.partition_column}=YYYY-MM-DD folder")
            if reason:
                damaged.append((path, reason))
            else:
                files[name].append(path)
    return files, damaged


def _dataset(name: str, files: list[str], with_filename: bool) -> ds.Dataset:
    """The rows of one table's files as DuckDB's read_parquet(hive_partitioning, union_by_name
    [, filename]) gives them: the record's columns (null where an older file lacks one), then
    `filename`, then the partition column."""
    table = TABLES[name]
    schema = arrow_schema(table.record_type)
    if with_filename:
        # Dictionary-encoded: one value per file, as DuckDB's own `filename` column is.
        schema = schema.append(pa.field("filename", pa.dictionary(pa.int32(), pa.string())))
    schema = schema.append(pa.field(table.partition_column, pa.date32()))
    partitions = []
    for path in files:
        day = dt.date.fromisoformat(_PARTITION.match(os.path.basename(os.path.dirname(path))).group(2))
        condition = ds.field(table.partition_column) == pa.scalar(day, pa.date32())
        if with_filename:
            condition = condition & (ds.field("filename") == path)
        partitions.append(condition)
    return ds.FileSystemDataset.from_paths(files, schema=schema, format=ds.ParquetFileFormat(),
                                           filesystem=pa.fs.LocalFileSystem(), partitions=partitions)


def _reads_datasets(statement: str) -> str:
    """A view statement with each read_parquet of a table replaced by its registered dataset."""
    def dataset_name(match: re.Match) -> str:
        with_filename = re.search(r"filename\s*=\s*true", match.group("options"), re.I)
        return f"_{match.group(1)}_files" + ("_named" if with_filename else "")

    return _READ.sub(dataset_name, statement)


class UnsafeSQL(ValueError):
    """SQL that the sandbox does not run: a statement other than SELECT or EXPLAIN."""


class QueryBound(RuntimeError):
    """A sandboxed query stopped at one of its bounds (time, memory, spill space)."""


class QueryLimits(NamedTuple):
    """The bounds of a sandboxed query. Memory and spill space are DuckDB sizes ('2GB')."""
    seconds: float = 120.0
    memory: str = "2GB"
    threads: int = 2
    temp_space: str = "4GB"


SAFE_STATEMENTS = (duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN)


def check_statements(sql: str) -> None:
    """Raise UnsafeSQL unless every statement of `sql` is a SELECT or an EXPLAIN (COPY, ATTACH,
    INSTALL, LOAD, SET, PRAGMA, CREATE, EXPORT ... are refused). DuckDB's own parser decides.
    This is the first fence; the lock (`lock_down`) holds whatever a statement wraps."""
    for statement in duckdb.extract_statements(sql):
        if statement.type not in SAFE_STATEMENTS:
            kind = statement.type.name if hasattr(statement.type, "name") else str(statement.type)
            raise UnsafeSQL(f"only SELECT queries over the views run here, not {kind} "
                            "(--unsafe-sql runs any SQL with DuckDB's full access)")


def lock_down(con: duckdb.DuckDBPyConnection, spill_dir: str,
              limits: QueryLimits = QueryLimits()) -> None:
    """Confine `con` to the datasets registered on it: DuckDB opens no file (reading or writing),
    loads no extension, and stays within `limits`; the configuration is then locked."""
    con.execute("SET temp_directory = ?", [spill_dir])  # DuckDB may spill there; ours, and private
    con.execute("SET max_temp_directory_size = ?", [limits.temp_space])
    con.execute("SET memory_limit = ?", [limits.memory])
    con.execute("SET threads = ?", [limits.threads])
    con.execute("SET allowed_directories = []")
    con.execute("SET allowed_paths = []")
    con.execute("SET enable_external_access = false")
    for setting in ("autoinstall_known_extensions", "autoload_known_extensions",
                    "allow_community_extensions"):
        con.execute(f"SET {setting} = false")
    con.execute("SET lock_configuration = true")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _held(folder: str) -> bool:
    """Whether a live query holds the lock of its spill folder (a process id may be reused, or
    belong to another PID namespace sharing this temporary folder; a lock does not lie)."""
    try:
        handle = os.open(os.path.join(folder, LOCK), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(handle)


def lock_spill_folder(folder: str) -> int:
    """Holds the lock of a query's spill folder for as long as the returned descriptor is open."""
    handle = os.open(os.path.join(folder, LOCK), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def remove_stale_spill_dirs(root: Optional[str] = None) -> list[str]:
    """Removes the spill folders that queries of processes no longer alive left behind (a query
    killed with SIGKILL cannot clean up): only folders of this user named by `run_sql`
    (tollwatch-query-<pid>-...) whose process is gone and whose lock nobody holds. Returns those
    removed."""
    removed = []
    for path in glob.glob(os.path.join(root or tempfile.gettempdir(), SPILL_PREFIX + "*")):
        match = re.fullmatch(re.escape(SPILL_PREFIX) + r"(\d+)-[^/]+", os.path.basename(path))
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if (match and stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
                and not _alive(int(match.group(1))) and not _held(path)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _within_deadline(con: duckdb.DuckDBPyConnection, work, seconds: float):
    """Runs `work()` in a thread and returns what it returns; interrupts the query at the deadline
    (QueryBound) or when this thread is interrupted (Ctrl-C, or SIGTERM made an exception), so
    that the caller's cleanup runs however the query ends. The caller's thread stays in Python,
    where signal handlers run; a thread blocked inside DuckDB would not run them."""
    outcome: dict = {}
    # The end is told by an Event, not Thread.join: a signal handler raising inside join() makes
    # Python 3.11 take the thread for ended while it still runs in DuckDB (bpo-45274).
    done = threading.Event()

    def target() -> None:
        try:
            outcome["result"] = work()
        except BaseException as err:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = err
        finally:
            done.set()

    def stop() -> None:
        while not done.is_set():  # an interrupt that comes before the query starts is lost
            con.interrupt()
            done.wait(0.1)

    deadline = time.monotonic() + seconds
    threading.Thread(target=target, name="tollwatch-query", daemon=True).start()
    try:
        while not done.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                stop()
                raise QueryBound(f"the query hit the time bound: stopped after {seconds:g} s "
                                 "(--timeout-seconds)")
            done.wait(min(remaining, 0.2))
    except BaseException:
        stop()
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def _bound_hit(err: duckdb.OutOfMemoryException, limits: QueryLimits) -> QueryBound:
    if "max_temp_directory_size" in str(err):
        return QueryBound(f"the query hit the spill bound: over {limits.temp_space} of temporary "
                          "files (--max-temp-size)")
    return QueryBound(f"the query hit the memory bound: over {limits.memory} (--memory-limit)")


def run_sql(output: str, sql: str, unsafe: bool = False, show=None,
            limits: QueryLimits = QueryLimits()):
    """Runs user SQL over the views of `output` and passes each statement's result relation (or
    None) to `show`; sandboxed and bounded by `limits` unless `unsafe`. Without `show`, returns the
    last statement's result. Raises UnsafeSQL, QueryBound or duckdb.Error. A sandboxed query's
    spill folder is removed however it ends."""
    if unsafe:
        con = connect(output)
        relations = [con.sql(statement) for statement in duckdb.extract_statements(sql)]
        return [show(r) for r in relations] if show else relations[-1]
    if not limits.seconds > 0 or limits.threads < 1:
        raise ValueError(f"a query needs a positive time bound and at least one thread: {limits}")
    check_statements(sql)
    remove_stale_spill_dirs()
    spill_dir = tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-")
    con, lock, arrow_threads = None, None, pa.cpu_count()
    try:
        lock = lock_spill_folder(spill_dir)
        con = connect(output, read_only_in=spill_dir)
        lock_down(con, spill_dir, limits)
        pa.set_cpu_count(limits.threads)  # the datasets are read by Arrow's threads, not DuckDB's

        def work():
            results = []
            for statement in duckdb.extract_statements(sql):  # each statement's result, in order
                relation = con.sql(statement)
                results.append(show(relation) if show else
                               (relation.fetchall() if relation is not None else None))
            return results if show else results[-1]

        return _within_deadline(con, work, limits.seconds)
    except duckdb.OutOfMemoryException as err:
        raise _bound_hit(err, limits) from err
    finally:
        if con is not None:
            con.close()
        shutil.rmtree(spill_dir, ignore_errors=True)
        if lock is not None:
            os.close(lock)
        pa.set_cpu_count(arrow_threads)


def connect(output: str, read_only_in: Optional[str] = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the views over `output` (empty views for tables that
    have no files yet, so queries work on a fresh or partial output). Damaged files are skipped,
    each named in a warning. With `read_only_in` (a private folder) the connection is to an empty
    database opened read-only there, the views temporary: no statement can create or change a
    table of it."""
    if not os.path.isdir(output):
        raise FileNotFoundError(f"no output folder at {output!r}: run `tollwatch run` first")
    output = os.path.abspath(output)
    refuse_other_formats(output)  # a column renamed since, or in a newer format, would read as null
    files, damaged = readable_files(output)
    for path, reason in damaged:
        LOG.warning("skipped a damaged file: %s (%s)", path, reason)
    if read_only_in:
        database = os.path.join(read_only_in, "empty.duckdb")
        duckdb.connect(database).close()
        con = duckdb.connect(database, read_only=True)
    else:
        con = duckdb.connect()
    con.execute("SET VARIABLE tollwatch_output = ?", [output])
    for name in TABLES:
        con.register(f"_{name}_files", _dataset(name, files[name], with_filename=False))
        con.register(f"_{name}_files_named", _dataset(name, files[name], with_filename=True))
    for _name, statement in view_statements():
        if read_only_in:
            statement = _VIEW.sub(r"CREATE OR REPLACE TEMP \1 \2", statement, count=1)
        con.execute(_reads_datasets(statement))
    return con


SUMMARY_QUERIES = {
    "Toll as known now (overall claims; best = highest lower bound of independent sources, as "
    "its source said it; 'no source named': the articles' own voice, not counted as a source)": """
        SELECT event_id, measure, "group", best_text AS best, low, high, n_independent_sources AS sources, n_claims AS claims,
               (SELECT string_agg(if(s.source = 'unattributed', 'no source named', s.source) || ' ' || coalesce(figure_text(c.qualifier, c.number,
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
               count(*) FILTER (WHERE copy_kind = 'exact') AS exact_copies,
               count(*) FILTER (WHERE copy_kind = 'near') AS near_copies,
               count(*) FILTER (WHERE copy_kind = 'rewrite') AS rewrites,
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
