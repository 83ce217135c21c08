"""Confinement: whatever a document says (its URL, title, outlet, id, dates), tollwatch writes only
below the output folder, in names it makes itself; and a link dropped into an input folder does not
make it read files outside the inputs."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import apache_beam as beam
import duckdb
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.utils.timestamp import Timestamp

from hostile import ARTICLE, SECRET
from tollwatch.pipeline.cli import main
from tollwatch.pipeline.runner import local_runner
from tollwatch.schemas import Article
from tollwatch.transforms.parquet import WriteParquet, partition_value, run_key, safe_component

HOSTILE_VALUES = ["../../etc", "../../../../../../etc/passwd", "/etc/passwd", "/", ".", "..", "",
                  "a\x00b", "C:\\Windows\\System32", "..\\..\\boot.ini", "%2e%2e%2fetc", "x" * 10_000,
                  "name/with/slashes", "~root", "$(reboot)", "\n", "ü/ö", "published_date=2026-01-01/../.."]
FILE_NAME = re.compile(r"part-[0-9a-f]{10}-\d{5}-of-\d{5}\.parquet")
PARTITION = re.compile(r"published_date=\d{4}-\d{2}-\d{2}")


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_a_safe_component_stays_in_its_folder(value):
    name = safe_component(value)
    assert re.fullmatch(r"[0-9A-Za-z_][0-9A-Za-z._-]{0,99}", name), name
    assert name not in (".", "..")


def test_write_parquet_refuses_unsafe_table_names_and_run_keys():
    for bad in ("../x", "a/b", ".hidden"):
        with pytest.raises(ValueError):
            WriteParquet("/out", bad, Article, "published_at", "published_date")
        with pytest.raises(ValueError):
            WriteParquet("/out", "articles", Article, "published_at", "published_date", run_key=bad)


@pytest.mark.parametrize("year", [1, 1900, 1970, 2026, 9999])
def test_partition_values_are_dates_whatever_the_year(year):
    ts = Timestamp.from_utc_datetime(dt.datetime(year, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc))
    assert partition_value(ts) == f"{year:04d}-12-31"


@pytest.mark.parametrize("when", ["1969-12-31T23:59:59.999999", "1970-01-01T00:00:00",
                                  "1899-12-31T23:59:59.999999", "2024-02-29T12:00:00",
                                  "2026-03-08T23:59:59.999999"])
def test_partition_is_the_utc_day_of_the_timestamp_to_the_microsecond(when):
    value = dt.datetime.fromisoformat(when).replace(tzinfo=dt.timezone.utc)
    assert partition_value(Timestamp.from_utc_datetime(value)) == value.date().isoformat()


def test_timestamps_beyond_the_calendar_still_get_a_partition():
    """Found by the year_0001.txt hostile case: the toll's as-of windows of an article dated
    0001-01-01 start in year 0, and their partition failed the whole run."""
    from apache_beam.utils.timestamp import MAX_TIMESTAMP, MIN_TIMESTAMP

    assert partition_value(MIN_TIMESTAMP) == "0001-01-01"
    assert partition_value(MAX_TIMESTAMP) == "9999-12-31"


def hostile_articles() -> list[Article]:
    years = (1, 1900, 2026, 9999)
    articles = []
    for i, value in enumerate(HOSTILE_VALUES):
        when = Timestamp.from_utc_datetime(dt.datetime(years[i % 4], 6, 1, tzinfo=dt.timezone.utc))
        articles.append(Article(
            doc_id=value or f"empty{i}", uri=value, url=f"file://{value}", outlet=value, title=value,
            published_at=when, date_source="metadata", ingested_at=when, text=ARTICLE + value,
            language=value, event_ids=[value], n_repeats_removed=0, story_id=value, copy_of=value,
            copy_kind=None, copy_similarity=None, is_canonical=True))
    return articles


def test_hostile_records_are_written_only_below_the_output_in_names_tollwatch_makes(tmp_path):
    out = tmp_path / "out"
    records = hostile_articles()
    with beam.Pipeline(runner=local_runner(PipelineOptions([])), options=PipelineOptions([])) as p:
        (p | beam.Create(records).with_output_types(Article)
           | WriteParquet(str(out), "articles", Article, "published_at", "published_date",
                          run_key=run_key(["hostile"])))
    written = [Path(folder, name) for folder, _, names in os.walk(tmp_path) for name in names]
    assert written and all(out in path.parents for path in written)
    for path in written:
        relative = path.relative_to(out)
        if relative.parts[0] == ".tmp":
            continue  # temporary files (none remain after a successful write)
        table, partition, name = relative.parts
        assert table == "articles" and PARTITION.fullmatch(partition) and FILE_NAME.fullmatch(name), relative
    rows = duckdb.connect().execute(
        f"SELECT uri, published_date FROM read_parquet('{out}/articles/*/*.parquet', hive_partitioning = true)"
    ).fetchall()
    assert sorted(u for u, _ in rows) == sorted(r.uri for r in records)
    assert {d.year for _, d in rows} == {1, 1900, 2026, 9999}


@pytest.mark.slow  # a whole `tollwatch run`
def test_links_in_an_input_folder_do_not_lead_outside_it(tmp_path):
    """A drop-folder writer who can create links must not make the pipeline read files it can read
    but they cannot (a secret, /etc/passwd) and store their text in the output."""
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text(f" date 2026-05-13 {SECRET} {ARTICLE}")
    (outside / "more.txt").write_text(f" date 2026-05-13 {SECRET} {ARTICLE}")
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.txt").write_text(f" date 2026-05-13 {ARTICLE}")
    (src / "secret_link.txt").symlink_to(secret)
    (src / "passwd.txt").symlink_to("/etc/passwd")
    (src / "dir_link").symlink_to(outside, target_is_directory=True)
    (src / "inside_link.txt").symlink_to(src / "good.txt")  # stays inside: read
    out = tmp_path / "out"
    assert main(["run", "--input", str(src), "--output", str(out), "-q"]) == 0
    con = duckdb.connect()
    read = con.execute(f"SELECT uri, text FROM read_parquet('{out}/articles/*/*.parquet')").fetchall()
    dead = con.execute(f"SELECT uri, error_type FROM read_parquet('{out}/dead_letters/*/*.parquet')").fetchall()
    assert sorted(Path(u).name for u, _ in read) == ["good.txt", "inside_link.txt"]
    assert not any(SECRET in text or "root:x:0:0" in text for _, text in read)
    # Links to files become dead letters; a link to a folder is not followed when matching.
    assert sorted((Path(u).name, kind) for u, kind in dead) == [
        ("passwd.txt", "outside_input"), ("secret_link.txt", "outside_input")]


def test_a_link_named_outright_is_confined_to_its_folder(tmp_path):
    """`follow` names each new file of a watched folder as an exact pattern ("[l]ink.txt" when the
    name holds glob characters); a link among them is checked against the folder, not itself."""
    from tollwatch.transforms.inputs.files import input_root, outside_roots

    (tmp_path / "drop").mkdir()
    link = tmp_path / "drop" / "li[n]k.txt"
    link.symlink_to("/etc/passwd")
    for pattern in (str(link), str(tmp_path / "drop" / "li[[]n]k.txt")):
        root = input_root(pattern)
        assert root == str((tmp_path / "drop").resolve())
        assert outside_roots(str(link), [root])
    assert not outside_roots(str(tmp_path / "drop" / "plain.txt"), [input_root(str(tmp_path / "drop" / "**"))])
