"""`tollwatch run` over a folder of what a drop-folder writer can put there besides files (issue
17): the unit tests of each kind are in tests/unit/test_special_files.py; this is the whole run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import duckdb

ARTICLE = ("The death toll from the landslide in the hill town of Orvel rose to 23 on Wednesday, "
           "the regional civil protection agency said, as rescuers dug through mud for a second day. "
           "Another 40 people were injured and taken to hospitals in the valley, officials added.")


def test_a_run_over_a_folder_of_special_files_finishes_and_accounts_for_each(tmp_path):
    """`tollwatch run` over a FIFO, a socket, dangling and looping links and a name that is not
    UTF-8, beside a good file: it ends (a FIFO blocked it forever), and count in = articles out +
    dead letters out."""
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    (src / "good.txt").write_text(f" date 2026-05-13 {ARTICLE}")
    (src / os.fsdecode(b"caf\xe9.txt")).write_text(f" date 2026-05-13 {ARTICLE} Brisca too.")
    os.mkfifo(src / "evil.txt")
    (src / "gone.txt").symlink_to(src / "nothing.txt")
    (src / "loop_a.txt").symlink_to(src / "loop_b.txt")
    (src / "loop_b.txt").symlink_to(src / "loop_a.txt")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(src / "sock.txt"))
        argv = [str(Path(sys.executable).parent / "tollwatch"), "run", "--input", str(src),
                "--output", str(out), "-q"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    con = duckdb.connect()
    articles = [Path(u).name for (u,) in con.execute(
        f"SELECT uri FROM read_parquet('{out}/articles/*/*.parquet')").fetchall()]
    dead = {Path(u).name: kind for u, kind in con.execute(
        f"SELECT uri, error_type FROM read_parquet('{out}/dead_letters/*/*.parquet')").fetchall()}
    assert articles == ["good.txt"]
    assert dead == {"caf\\xe9.txt": "undecodable_name", "evil.txt": "not_a_file",
                    "sock.txt": "not_a_file", "gone.txt": "dangling_link",
                    "loop_a.txt": "link_loop", "loop_b.txt": "link_loop"}
    assert len(os.listdir(src)) == len(articles) + len(dead)
