"""issue 17, item 12: one damaged Parquet file of an output folder (a truncated claims, toll,
articles or signatures file) is named and set aside by the next run, which goes on; queries skip it
and name it."""

from __future__ import annotations

import pytest

from outputs import copy_output
from tollwatch.pipeline.cli import main
from tollwatch.pipeline.query import connect
from tollwatch.transforms.quarantine import quarantine_path


def _damage(path, how: str) -> None:
    if how == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])


@pytest.fixture(scope="module")
def damaged(small_inputs, run_over_a, tmp_path_factory):
    """A run over A; then one file each of claims, toll, articles and signatures cut short."""
    out = copy_output(run_over_a, tmp_path_factory.mktemp("damaged") / "out")
    files = {t: sorted(out.glob(f"{t}/*/*.parquet"))[0]
             for t in ("claims", "toll", "articles", "_state/signatures")}
    for n, path in enumerate(files.values()):
        _damage(path, "empty" if n % 2 else "truncated")
    return small_inputs, out, files


def test_a_query_skips_damaged_files_and_names_them(damaged, capsys):
    _inputs, out, files = damaged
    assert main(["query", str(out), "SELECT count(*) AS n FROM claims"]) == 0
    captured = capsys.readouterr()
    assert " n " in captured.out
    for table in ("claims", "toll", "articles"):
        assert str(files[table]) in captured.err


def test_a_run_sets_damaged_files_aside_as_dead_letters_and_goes_on(damaged, capsys):
    (a, b), out, files = damaged
    assert main(["run", "--input", str(a), str(b), "--output", str(out), "-q"]) == 0
    for path in files.values():
        assert not path.exists()
        assert (out / "_quarantine" / path.relative_to(out)).is_file()
    letters = connect(str(out)).execute(
        "SELECT uri, message FROM dead_letters WHERE stage = 'earlier_output' "
        "AND error_type = 'damaged_parquet'").fetchall()
    assert sorted(uri for uri, _ in letters) == sorted(map(str, files.values()))
    assert all("_quarantine" in message for _, message in letters)
    capsys.readouterr()
    # Nothing damaged is left: the next query names no file.
    assert main(["query", str(out), "SELECT count(*) FROM toll_now"]) == 0
    assert "damaged" not in capsys.readouterr().err


def test_a_quarantine_path_stays_below_the_output():
    assert quarantine_path("/out", "/out/claims/published_date=2026-05-12/part-1.parquet") == \
        "/out/_quarantine/claims/published_date=2026-05-12/part-1.parquet"
    with pytest.raises(ValueError):
        quarantine_path("/out", "/elsewhere/claims/x.parquet")
