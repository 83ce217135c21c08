"""A tool deletes only what it wrote (issue 17, data loss): the clean-up after a run empties only
the folders tollwatch writes temporary files to."""

from __future__ import annotations

import os
import time

from tollwatch.transforms.parquet import remove_temp_files


def test_the_clean_up_after_a_run_leaves_files_it_did_not_write(tmp_path):
    out = tmp_path / "out"
    ours = [out / ".tmp" / "claims" / "0a1b" / "temp-file", out / ".tmp" / "staging" / "k" / "b.digests",
            out / "_state" / ".tmp" / "signatures" / "x" / "temp-file"]
    theirs = [out / ".tmp" / "notes.txt", out / ".tmp" / "drafts" / "draft.md",
              out / "_state" / ".tmp" / "mine.txt"]
    for path in ours + theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    remove_temp_files(str(out), time.time())
    assert [p for p in ours if p.exists()] == []
    assert [p for p in theirs if not p.exists()] == []
