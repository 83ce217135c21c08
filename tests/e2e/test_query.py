"""The DuckDB views and the query CLI."""

import os

import pytest

from tollwatch.pipeline.cli import main
from tollwatch.pipeline.query import connect, summary, view_statements
from tollwatch.schemas import TABLES


def test_every_table_has_a_view_in_views_sql():
    names = [name for name, _ in view_statements()]
    assert set(TABLES) - {"claims", "toll"} <= set(names)
    assert "canonical_articles" in names


def test_views_work_on_an_empty_output_with_the_right_columns(tmp_path):
    con = connect(str(tmp_path))
    assert con.execute("SELECT count(*) FROM articles").fetchall() == [(0,)]
    columns = [c[0] for c in con.sql("DESCRIBE articles").fetchall()]
    assert columns[:2] == ["doc_id", "uri"] and columns[-1] == "published_date"
    assert "none" in summary(str(tmp_path))


def test_query_cli_reports_sql_errors_and_missing_folders(tmp_path, capsys):
    assert main(["query", str(tmp_path), "SELECT * FROM no_such_view"]) == 2
    assert "no_such_view" in capsys.readouterr().err
    assert main(["query", str(tmp_path / "missing")]) == 2
    assert "no output folder" in capsys.readouterr().err


def test_query_cli_prints_rows(tmp_path, capsys):
    assert main(["query", str(tmp_path), "SELECT 41 + 1 AS answer"]) == 0
    assert "42" in capsys.readouterr().out


def test_help_explains_the_commands(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    assert "--input" in text and "--output" in text and "FnApiRunner" in text


# The sandbox of `tollwatch query`: user SQL reads the output's views and nothing else by default.
def _output_with_an_article(tmp_path):
    import pyarrow.parquet as pq
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.schemas import Article, to_arrow_table

    now = Timestamp(1_778_000_000)
    article = Article("d1", "/in/a.txt", None, "outlet", "title", now, "metadata", now, "text", None,
                      ["e"], 0, "d1", None, None, None, True)
    folder = tmp_path / "out" / "articles" / "published_date=2026-05-05"
    folder.mkdir(parents=True)
    pq.write_table(to_arrow_table([article], Article), folder / "part-00000-of-00001.parquet")
    (tmp_path / "secret.csv").write_text("secret\nTOLLWATCH-SECRET\n")
    return tmp_path / "out"


HOSTILE_SQL = {
    "read a file": "SELECT * FROM read_csv('{secret}')",
    "read /etc/passwd": "SELECT * FROM read_csv('/etc/passwd')",
    "read a file by its path": "SELECT * FROM '{secret}'",
    "list files": "SELECT * FROM glob('/etc/*')",
    "read the output's state": "SELECT * FROM read_parquet('{out}/_state/**/*.parquet')",
    "climb out of a table folder": "SELECT * FROM read_csv('{out}/articles/../../secret.csv')",
    "write a file": "COPY (SELECT 1) TO '{copy}'",
    "write into the output": "COPY (SELECT * FROM articles) TO '{out}/articles/evil.parquet'",
    "attach a database": "ATTACH '{copy}.db' AS other",
    "install an extension": "INSTALL httpfs",
    "load an extension": "LOAD httpfs",
    "fetch a URL": "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')",
    "lift the sandbox": "SET enable_external_access = true",
    "widen the folders": "SET allowed_directories = ['/']",
    "repoint the views": "SET VARIABLE tollwatch_output = '/etc'",
    "export": "EXPORT DATABASE '{copy}'",
    "a safe statement then an unsafe one": "SELECT 1; COPY (SELECT 1) TO '{copy}'",
    "a pragma": "PRAGMA enable_profiling",
}


@pytest.mark.parametrize("name", HOSTILE_SQL)
def test_query_refuses_sql_that_reaches_beyond_the_views(name, tmp_path, capsys):
    out = _output_with_an_article(tmp_path)
    copy = tmp_path / "copied.csv"
    sql = HOSTILE_SQL[name].format(secret=tmp_path / "secret.csv", out=out, copy=copy)
    assert main(["query", str(out), sql]) == 2
    assert "SECRET" not in capsys.readouterr().out
    assert not copy.exists() and not (out / "articles" / "evil.parquet").exists()
    assert not list(tmp_path.glob("copied*"))


def _files(root):
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_the_lock_holds_even_for_sql_the_statement_check_would_let_through(tmp_path):
    import duckdb

    from tollwatch.pipeline.query import connect, lock_down

    out = _output_with_an_article(tmp_path)
    (spill := tmp_path / "spill").mkdir()
    con = connect(str(out), read_only_in=str(spill))
    lock_down(con, str(spill))
    assert con.execute("SELECT title FROM articles").fetchall() == [("title",)]
    (article,) = out.glob("articles/*/*.parquet")
    before = _files(out)
    for sql in (f"SELECT * FROM read_csv('{tmp_path / 'secret.csv'}')",
                f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'",
                f"SELECT * FROM read_parquet('{article}')",
                # Statements an EXPLAIN ANALYZE runs: the engine refuses them, not the type check.
                f"EXPLAIN ANALYZE COPY (SELECT 1 AS best) TO '{article.parent}/part-ffffffffff-00000-of-00001.parquet'",
                f"EXPLAIN ANALYZE COPY (SELECT * FROM articles WHERE false) TO '{article}' "
                "(FORMAT parquet, USE_TMP_FILE false)",
                "EXPLAIN ANALYZE CREATE TABLE kept AS SELECT 1",
                "SET enable_external_access = true", "RESET lock_configuration", "LOAD httpfs"):
        with pytest.raises(duckdb.Error):
            con.execute(sql)
    assert not (tmp_path / "x.csv").exists()
    assert _files(out) == before


# issue 17, item 1: an EXPLAIN ANALYZE passes the statement-type check and runs what it wraps.
WRAPPED_WRITES = {
    "plant a file in a table folder": "EXPLAIN ANALYZE COPY (SELECT * FROM articles) TO "
                                      "'{article.parent}/part-ffffffffff-00000-of-00001.parquet' (FORMAT parquet)",
    "empty a table file in place": "EXPLAIN ANALYZE COPY (SELECT * FROM articles WHERE false) TO '{article}' "
                                   "(FORMAT parquet, USE_TMP_FILE false)",
    "write anywhere": "EXPLAIN ANALYZE COPY (SELECT 1) TO '{copy}'",
    "create a table": "EXPLAIN ANALYZE CREATE TABLE kept AS SELECT 1",
}


@pytest.mark.parametrize("name", WRAPPED_WRITES)
def test_the_sandbox_writes_nothing_whatever_an_explain_wraps(name, tmp_path, capsys):
    out = _output_with_an_article(tmp_path)
    (article,) = out.glob("articles/*/*.parquet")
    before = _files(tmp_path)
    sql = WRAPPED_WRITES[name].format(out=out, article=article, copy=tmp_path / "copied.csv")
    assert main(["query", str(out), sql]) == 2
    assert _files(tmp_path) == before
    assert main(["query", str(out), "SELECT count(*) AS n FROM articles"]) == 0
    assert " 1 " in capsys.readouterr().out


# issue 17, item 2: bounds of time, memory and spill space, each said in one line.
BOUNDED = {
    "time": ("SELECT count(*) FROM range(10000000000000)", ["--timeout-seconds", "1"],
             "time bound: stopped after 1 s"),
    "memory": ("SELECT length(string_agg(i::VARCHAR, ',')) FROM range(50000000) t(i)",
               ["--memory-limit", "64MB", "--threads", "1"], "memory bound: over 64MB"),
    "spill": ("SELECT count(*) FROM (SELECT i AS k, count(*) FROM range(20000000) t(i) GROUP BY k)",
              ["--memory-limit", "200MB", "--threads", "1", "--max-temp-size", "16MB"],
              "spill bound: over 16MB"),
}


@pytest.mark.parametrize("bound", BOUNDED)
def test_a_query_stops_at_its_bounds_and_says_which(bound, tmp_path, capsys, monkeypatch):
    import tempfile
    import time

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    sql, options, said = BOUNDED[bound]
    started = time.monotonic()
    assert main(["query", str(tmp_path), sql, *options]) == 2
    assert time.monotonic() - started < 30
    err = capsys.readouterr().err
    assert said in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.glob("tollwatch-query-*"))


def test_stale_spill_folders_of_dead_processes_are_removed_and_no_others(tmp_path):
    import os
    import subprocess
    import sys

    from tollwatch.pipeline.query import remove_stale_spill_dirs

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    names = {"dead": f"tollwatch-query-{dead}-x1", "alive": f"tollwatch-query-{os.getpid()}-x2",
             "unknown": "tollwatch-query-abc123", "other": "notes"}
    for name in names.values():
        (tmp_path / name).mkdir()
        (tmp_path / name / "spill.block").write_bytes(b"x")
    assert remove_stale_spill_dirs(str(tmp_path)) == [str(tmp_path / names["dead"])]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        n for k, n in names.items() if k != "dead")


def test_a_spill_folder_whose_lock_is_held_stays_whatever_its_process_id(tmp_path):
    """A process id can be reused, or belong to another PID namespace sharing /tmp: the lock that
    a running query holds on its folder is what keeps the folder."""
    import subprocess
    import sys

    from tollwatch.pipeline.query import lock_spill_folder, remove_stale_spill_dirs

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    folder = tmp_path / f"tollwatch-query-{dead}-x3"
    folder.mkdir()
    handle = lock_spill_folder(str(folder))
    try:
        assert remove_stale_spill_dirs(str(tmp_path)) == []
    finally:
        os.close(handle)
    assert remove_stale_spill_dirs(str(tmp_path)) == [str(folder)]


def test_a_query_ended_by_sigterm_removes_its_spill_folder(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    env = dict(os.environ, TMPDIR=str(tmp_path))
    query = subprocess.Popen([sys.executable, "-m", "tollwatch.pipeline.cli", "query", str(tmp_path),
                              "SELECT count(*) FROM range(10000000000000)"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("tollwatch-query-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(tmp_path.glob(f"tollwatch-query-{query.pid}-*")), "the query never started"
    time.sleep(0.5)
    query.send_signal(signal.SIGTERM)
    assert query.wait(timeout=30) != 0
    assert not list(tmp_path.glob("tollwatch-query-*"))


def test_sandboxed_queries_still_read_every_view(tmp_path, capsys):
    out = _output_with_an_article(tmp_path)
    for view in ("articles", "canonical_articles", "claims", "incidents", "toll", "toll_latest",
                 "toll_now", "dead_letters"):
        assert main(["query", str(out), f"SELECT count(*) AS n FROM {view}"]) == 0, view
    assert main(["query", str(out), "WITH a AS (SELECT title FROM articles) SELECT * FROM a"]) == 0
    assert main(["query", str(out), "EXPLAIN SELECT * FROM claims"]) == 0
    assert "title" in capsys.readouterr().out


def test_unsafe_sql_is_an_explicit_opt_in(tmp_path, capsys):
    out = _output_with_an_article(tmp_path)
    copy = tmp_path / "copied.csv"
    assert main(["query", str(out), f"SELECT * FROM read_csv('{tmp_path / 'secret.csv'}')",
                 "--unsafe-sql"]) == 0
    assert "TOLLWATCH-SECRET" in capsys.readouterr().out
    assert main(["query", str(out), f"COPY (SELECT title FROM articles) TO '{copy}'", "--unsafe-sql"]) == 0
    assert copy.read_text().splitlines() == ["title", "title"]


# Figures as people read them, and what the toll leaves out.
def _write(folder, records, record_type, run="k1"):
    import pyarrow.parquet as pq

    from tollwatch.schemas import to_arrow_table

    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(to_arrow_table(records, record_type), folder / f"part-{run}-00000-of-00001.parquet")


def _claim(claim_id, qualifier, number, low, high, date_source="metadata", scope="overall",
           number_high=None):
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.schemas import Claim

    return Claim(claim_id, claim_id, "d1", "e", "outlet", Timestamp(1_778_000_000), date_source,
                 "killed", number, number_high, qualifier, low, high, "total", None, "SOHR", "SOHR",
                 scope, None, None, None, "More than 1,000 people were killed.", 0, 10, False, "d1")


def test_figure_text_says_what_the_source_said(tmp_path):
    con = connect(str(tmp_path))
    said = con.execute("""SELECT figure_text('more_than', 1000, NULL, 1001, NULL),
                                 figure_text('at_least', 1000, NULL, 1000, NULL),
                                 figure_text('exact', 1383, NULL, 1383, 1383),
                                 figure_text('range', 180, 200, 180, 200),
                                 figure_text('up_to', 50, NULL, NULL, 50)""").fetchone()
    assert said == (">1,000", "1,000+", "1,383", "180–200", "up to 50")


def test_toll_now_and_summary_show_the_words_and_outside_toll_says_why(tmp_path):
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.schemas import Article, Claim, SourceFigure, TollWindow

    out = tmp_path / "out"
    t = Timestamp(1_778_000_000)
    article = Article("d1", "/in/a.txt", None, "outlet", "title", t, "metadata", t, "text", None,
                      ["e"], 0, "d1", None, None, None, True)
    _write(out / "articles" / "published_date=2026-05-05", [article], Article)
    claims = [_claim("c1", "more_than", 1000, 1001, None),
              _claim("c2", "exact", 524, 524, 524, date_source="file_mtime"),
              _claim("c3", "exact", 7, 7, 7, scope="incident")]
    _write(out / "claims" / "published_date=2026-05-05", claims, Claim)
    row = TollWindow("e", "killed", "total", "as_of", t - 3600, t + 3600, "on_time", 0, 1001, 1001,
                     1001, 1, 1, 1, 1, [SourceFigure("SOHR", 1001, None, "c1", t)], "c1", t)
    _write(out / "toll" / "window_date=2026-05-05", [row], TollWindow)
    con = connect(str(out))
    assert con.execute("SELECT best, best_text FROM toll_now").fetchall() == [(1001, ">1,000")]
    assert sorted(con.execute("SELECT claim_id, reason FROM outside_toll").fetchall()) == [
        ("c2", "undated: article dated by file_mtime"), ("c3", "incident figure")]
    text = summary(str(out))
    assert ">1,000" in text and "1,001" not in text.split("Claims outside")[0].split("SOHR")[-1]
    assert "undated: article dated by file_mtime" in text


def test_a_run_without_events_lists_the_events_it_inferred(tmp_path):
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.pipeline.cli import inferred_events_note, outside_toll_note
    from tollwatch.schemas import Article, Claim

    out = tmp_path / "out"
    articles = [Article(f"d{i}", f"/in/{i}.txt", None, "o", "t", Timestamp(at), "metadata",
                        Timestamp(at), "text", None, ["in"], 0, f"d{i}", None, None, None, True)
                for i, at in enumerate((1_500_000_000, 1_778_000_000))]
    _write(out / "articles" / "published_date=2026-05-05", articles, Article)
    _write(out / "claims" / "published_date=2026-05-05",
           [_claim("c2", "exact", 524, 524, 524, date_source="file_mtime")], Claim)
    con = connect(str(out))
    note = inferred_events_note(con)
    assert "1 event(s) inferred" in note and "in (2 article(s), 2017-07-14 to 2026-05-05)" in note
    assert "--events FILE" in note
    assert outside_toll_note(con).startswith("1 claim(s) are outside the toll: 1 undated")


def test_several_statements_show_every_result(tmp_path, capsys):
    assert main(["query", str(tmp_path), "SELECT 'first' AS a; SELECT 'second' AS b"]) == 0
    out = capsys.readouterr().out
    assert "first" in out and "second" in out


def test_export_without_unsafe_sql_to_the_named_file_only(tmp_path, capsys):
    import json

    import pyarrow.parquet as pq

    out = _output_with_an_article(tmp_path)
    sql = "SELECT doc_id, title FROM articles"
    assert main(["query", str(out), sql, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0]) == {"doc_id": "d1", "title": "title"}
    assert main(["query", str(out), sql, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["doc_id,title", "d1,title"]
    target = tmp_path / "it's here.parquet"
    assert main(["query", str(out), sql, "--to", str(target)]) == 0
    assert pq.read_table(target).to_pylist() == [{"doc_id": "d1", "title": "title"}]
    # The SQL itself stays sandboxed: it cannot write, whatever --to says.
    assert main(["query", str(out), f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'",
                 "--to", str(tmp_path / "y.csv")]) == 2
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "y.csv").exists()
    assert main(["query", str(out), sql, "--format", "parquet"]) == 2
    assert "needs --to FILE" in capsys.readouterr().err


def _shape_sql(name: str) -> str:
    """The typed shape macro of a table, from its record type's Arrow schema, in DuckDB's words."""
    import duckdb
    import pyarrow as pa

    from tollwatch.schemas import arrow_schema

    table = TABLES[name]
    schema = arrow_schema(table.record_type).append(pa.field(table.partition_column, pa.date32()))
    con = duckdb.connect()
    con.register("x", schema.empty_table())
    body = ",\n       ".join(f'NULL::{c[1]} AS "{c[0]}"' for c in con.execute("DESCRIBE x").fetchall())
    return f"CREATE OR REPLACE MACRO {name}_shape() AS TABLE\nSELECT {body}\nWHERE false;"


def test_views_sql_in_plain_duckdb_works_when_a_table_has_no_files_yet(tmp_path):
    import duckdb
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.schemas import Article

    from support import ROOT

    views = (ROOT / "schemas" / "views.sql").read_text()
    for name in TABLES:  # the shapes are the record types', not retyped by hand
        assert _shape_sql(name) in views
    t = Timestamp(1_778_000_000)
    out = tmp_path / "out"
    _write(out / "articles" / "published_date=2026-05-05",
           [Article("d1", "/in/a.txt", None, "o", "t", t, "metadata", t, "text", None, ["e"], 0,
                    "d1", None, None, None, True)], Article)
    for folder, articles in ((tmp_path / "nothing", 0), (out, 1)):
        con = duckdb.connect()
        con.execute("SET VARIABLE tollwatch_output = ?", [str(folder)])
        con.execute(views)
        counts = [con.execute(f"SELECT count(*) FROM {v}").fetchone()[0]
                  for v in ("articles", "claims", "toll_now", "dead_letters", "outside_toll")]
        assert counts == [articles, 0, 0, 0, 0]
        assert "ingested_at" in con.sql("SELECT * FROM dead_letters").columns
