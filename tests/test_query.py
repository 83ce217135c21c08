"""The DuckDB views and the query CLI."""

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
