"""The sample the benchmark's floors run on when a corpus is too large to measure whole
(benchmarks/bench.py `sample_files`): the same files every run, and each format and size in
proportion, since the report scales the sample's time to the whole corpus. And the floor run in
two halves around the end-to-end run: every file once."""

from __future__ import annotations

import random
import sys

from support import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

from bench import floor, sample_files  # noqa: E402


def corpus(n: int) -> list[tuple[str, int]]:
    """A corpus like the generated ones: 40% pages of 100-200 KiB, 35% small text files, 25% feeds."""
    rng = random.Random(7)
    files = []
    for i in range(n):
        u = rng.random()
        ext, size = ((".html", rng.randint(100_000, 200_000)) if u < 0.4 else
                     (".txt", rng.randint(2_000, 8_000)) if u < 0.75 else (".xml", rng.randint(20_000, 90_000)))
        files.append((f"input/2026-03-{1 + i % 28:02d}/f{i:06d}{ext}", size))
    return files


def test_the_same_files_whatever_the_order():
    files = corpus(20_000)
    shuffled = files[:]
    random.Random(1).shuffle(shuffled)
    assert sorted(sample_files(files, 1000)) == sorted(sample_files(shuffled, 1000))


def test_formats_and_sizes_in_proportion():
    files = corpus(20_000)
    size_of = dict(files)
    chosen = sample_files(files, 1000)
    assert len(chosen) == len(set(chosen)) == 1000
    for ext in (".html", ".txt", ".xml"):
        share_all = sum(p.endswith(ext) for p, _ in files) / len(files)
        share_sample = sum(p.endswith(ext) for p in chosen) / len(chosen)
        assert abs(share_sample - share_all) <= 1 / len(chosen)
    bytes_share = sum(size_of[p] for p in chosen) / sum(size_of.values())
    assert abs(bytes_share - len(chosen) / len(files)) < 0.001  # 5% +- 0.1%
    # Not the first files of the listing (the first days): every day is represented.
    assert len({p.split("/")[1] for p in chosen}) == 28


def test_a_sample_as_large_as_the_corpus_is_the_corpus():
    files = corpus(300)
    assert sorted(sample_files(files, 300)) == sorted(p for p, _ in files)
    assert sorted(sample_files(files, 5000)) == sorted(p for p, _ in files)


def test_a_floor_in_two_halves_reads_every_file_once_and_runs_between_them(tmp_path):
    folder = tmp_path / "input"
    folder.mkdir()
    for i in range(7):
        (folder / f"a{i}.txt").write_text("Ten people were killed. " * (i + 1), encoding="utf-8")
    calls = []
    result = floor(tmp_path, 1, between=lambda: calls.append("between"))
    assert calls == ["between"]
    assert result["by_format"]["text"]["files"] == 7 and result["files"] == 7
    assert len(result["halves_s"]) == 2 and abs(result["wall_s"] - sum(result["halves_s"])) < 0.02
    assert floor(tmp_path, 1)["halves_s"] is None
