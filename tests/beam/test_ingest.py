"""ReadFiles: every matched file read once, however many --input patterns match it."""

from __future__ import annotations

import os

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tollwatch.transforms.inputs.files import ReadFiles, input_pattern, match_files, match_largest_first


def _tree(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.txt").write_text("one")
    (tmp_path / "a" / "two.html").write_text("<p>two</p>")
    (tmp_path / "b.txt").write_text("b")
    os.utime(tmp_path / "b.txt", (1_700_000_000, 1_700_000_000))
    return tmp_path


def test_overlapping_patterns_match_each_file_once_with_its_size_and_time(tmp_path):
    root = _tree(tmp_path)
    patterns = [input_pattern(str(root)), str(root / "a" / "*.txt"), str(root / "b.txt")]
    refs = list(match_files(patterns))
    assert sorted(path for path, _, _ in refs) == sorted(
        str(p) for p in (root / "a" / "one.txt", root / "a" / "two.html", root / "b.txt"))
    by_path = {path: (size, mtime) for path, size, mtime in refs}
    assert by_path[str(root / "b.txt")] == (1, 1_700_000_000.0)


def test_the_read_order_is_the_largest_files_first(tmp_path):
    root = _tree(tmp_path)
    (root / "a" / "big.txt").write_text("x" * 100)
    refs = match_largest_first([input_pattern(str(root))])
    assert [os.path.basename(path) for path, _, _ in refs] == ["big.txt", "two.html", "one.txt", "b.txt"]


def test_read_files_reads_a_file_matched_twice_once(tmp_path):
    root = _tree(tmp_path)
    with TestPipeline() as p:
        read = p | ReadFiles([input_pattern(str(root)), str(root / "a" / "*")])
        assert_that(read["raw_docs"] | beam.Map(lambda doc: (os.path.basename(doc.uri), doc.content)),
                    equal_to([("one.txt", b"one"), ("two.html", b"<p>two</p>"), ("b.txt", b"b")]))
        assert_that(read["dead_letters"], equal_to([]), label="no dead letters")
