"""A run into an output folder that already holds articles: nothing is lost, copies link to the
canonical articles already there, and a rerun still replaces rather than adds."""

import shutil

import duckdb

from support import EXAMPLES
from tollwatch.pipeline.cli import main
from tollwatch.pipeline.query import connect

WIRE = "day1_meridian_wire_original.txt"
LATER = ["day1_meridian_wire_lantern_trimmed.html", "day1_meridian_wire_coastalherald.html",
         "day2_vocr_update.txt"]


def test_a_second_run_adds_links_to_the_first_and_loses_nothing(tmp_path):
    out = tmp_path / "out"
    assert main(["run", "-q", "--input", str(EXAMPLES / WIRE), "--output", str(out)]) == 0
    for _ in range(2):  # the second time: a rerun of the same input
        assert main(["run", "-q", "--input", *[str(EXAMPLES / f) for f in LATER],
                     "--output", str(out)]) == 0
    rows = connect(str(out)).execute(
        "SELECT regexp_extract(uri, '[^/]*$'), doc_id, copy_kind, copy_of FROM articles").fetchall()
    by_name = {name: rest for name, *rest in rows}
    assert set(by_name) == {WIRE, *LATER}
    wire_id = by_name[WIRE][0]
    assert by_name[LATER[0]][1:] == ["near", wire_id]
    assert by_name[LATER[1]][1:] == ["near", wire_id]
    assert by_name[LATER[2]][1:] == [None, None]
    raw = duckdb.connect().execute(
        f"SELECT count(*) FROM read_parquet('{out}/articles/*/*.parquet')").fetchall()
    assert raw == [(4,)], "the rerun replaced its own files"
    assert (out / "_state" / "signatures").is_dir()
