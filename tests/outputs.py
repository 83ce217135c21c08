"""Helpers for tests that compare whole outputs: a small corpus, and a content digest of every view.

A digest leaves out the columns that say when and how a run happened: `ingested_at`,
`computed_at`, the file a claim row came from (`filename`: its name carries the run's key) and a
toll row's pane (`pane_timing`, `pane_index`: a later run that revises a window writes its answer
as the window's next pane, where one run over everything writes it on time). Two outputs holding
the same articles, claims and toll figures have the same digest whichever runs wrote them.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
from pathlib import Path
from typing import NamedTuple

from tollwatch.pipeline.query import connect

RUN_TIME_COLUMNS = {"articles": ("ingested_at",), "canonical_articles": ("ingested_at",),
                    "claims": ("filename",), "incidents": (),
                    "toll_latest": ("computed_at", "pane_timing", "pane_index"),
                    "toll_now": ("computed_at", "pane_timing", "pane_index"),
                    "dead_letters": ("ingested_at",)}


def view_digest(output: Path) -> dict[str, tuple[int, str]]:
    """view -> (rows, sha256 of the sorted rows without run-time columns)."""
    con = connect(str(output))
    found = {}
    for view, run_time in RUN_TIME_COLUMNS.items():
        exclude = f" EXCLUDE ({', '.join(run_time)})" if run_time else ""
        rows = con.execute(f"SELECT *{exclude} FROM {view} ORDER BY ALL").fetchall()
        found[view] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return found


def copy_output(output: Path, to: Path) -> Path:
    """A copy of an output folder, for a test that runs into an output or damages one: no file of an
    output holds the folder's own path, so the copy reads as the original and a rerun into it
    replaces its files as it would the original's."""
    shutil.copytree(output, to, symlinks=True)
    return to


def files_state(folder: Path) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime) of every file below `folder`: what a shared output must still be when
    the session ends."""
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


class Run(NamedTuple):
    output: Path
    printed: str  # what `tollwatch run -q` printed: its summary lines


def run_once(output: Path, *inputs: Path) -> Run:
    """`tollwatch run -q --input INPUTS --output OUTPUT`, in this process."""
    from tollwatch.pipeline.cli import main

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["run", "--input", *map(str, inputs), "--output", str(output), "-q"]) == 0
    return Run(output, printed.getvalue())


@contextlib.contextmanager
def read_only(run: Run):
    """Hands out a shared run; fails if its output changed meanwhile (a test wrote into it instead
    of into a copy)."""
    before = files_state(run.output)
    yield run
    assert files_state(run.output) == before, f"a test changed the shared output {run.output}"


def stored_rows(output: Path, table: str) -> int:
    """Rows in the table's Parquet files, before any view keeps one per key."""
    import duckdb

    if not list(output.glob(f"{table}/*/*.parquet")):
        return 0
    return duckdb.connect().execute(
        f"SELECT count(*) FROM read_parquet('{output}/{table}/*/*.parquet')").fetchall()[0][0]


def story(place: str, toll: int, injured: int, day: int, source: str = "the civil protection agency") -> str:
    return (f" date 2026-05-{day:02d}\nLandslide in {place}: toll rises\n\n"
            f"The death toll from the landslide in the hill town of {place} rose to {toll} on "
            f"Wednesday, {source} said, as rescuers dug through mud for a second day. Another "
            f"{injured} people were injured and taken to hospitals in the valley, officials added. "
            f"Roads into {place} remain closed and more rain is forecast for the weekend.")


def feed(entries: list[tuple[str, str, str]]) -> str:
    items = "".join(f"<item><title>{title}</title><guid>{guid}</guid><pubDate>{date}</pubDate>"
                    f"<description>{text}</description></item>" for guid, title, date, text in
                    ((g, t, "Wed, 13 May 2026 09:00:00 GMT", x) for g, t, x in entries))
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>Valley Wire</title>{items}</channel></rss>"


def small_corpus(a: Path, b: Path) -> None:
    """Two folders of a landslide story: A the first day (an original and an exact copy), B the
    next (an update, a feed, a bad file)."""
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    (a / "orvel_agency.txt").write_text(story("Orvel", 23, 40, 12))
    (a / "orvel_copy.txt").write_text(story("Orvel", 23, 40, 12).replace("2026-05-12", "2026-05-13"))
    (a / "brisca.txt").write_text(story("Brisca", 7, 12, 12, "the mayor"))
    (b / "orvel_update.txt").write_text(story("Orvel", 31, 52, 14))
    (b / "wire.xml").write_text(feed([
        ("w1", "Orvel toll", story("Orvel", 29, 45, 13, "the regional governor")[17:]),
        ("w2", "Brisca toll", story("Brisca", 9, 15, 13, "police")[17:]),
    ]))
    (b / "broken.txt").write_bytes(b" date 2026-05-14 caf\xe9 " + b"x" * 300)


# The tables of an output, and the temporary files a run leaves (the fault tests and
# benchmarks/kill_restart.py).
TABLES = ("articles", "claims", "toll", "dead_letters")


def temp_files(out: Path) -> list[Path]:
    return [p for p in (out / ".tmp").rglob("*") if p.is_file()] if (out / ".tmp").exists() else []


def many_dates_corpus(folder: Path, n: int = 60) -> None:
    """Enough small dated articles over enough days that writing takes a while: ~n/2 partitions
    per table."""
    folder.mkdir()
    places = ("Orvel", "Brisca", "Tamsk", "Lorn", "Vessa")
    for i in range(n):
        month, day = 3 + (i // 2) // 28, 1 + (i // 2) % 28
        text = story(f"{places[i % 5]} {i}", 10 + i, 20 + i, day).replace("2026-05-", f"2026-{month:02d}-")
        (folder / f"story_{i:03d}.txt").write_text(text)
