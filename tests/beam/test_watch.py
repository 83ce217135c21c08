"""WatchFolder and the file cursor of `follow`: each new or changed file once, state bounded."""

from __future__ import annotations

import os
import time

import apache_beam as beam
from apache_beam.io.filesystem import FileMetadata
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Duration, Timestamp

from tollwatch.pipeline.runner import make_pipeline
from apache_beam.options.pipeline_options import PipelineOptions
from tollwatch.transforms.inputs.files import file_ref
from tollwatch.transforms.inputs.watch import FileVersion, WatchFolder, NewFilesFn, changed_files


def test_changed_files_takes_new_and_changed_settled_files():
    listing = [FileVersion("/d/a.html", 100.0, 10), FileVersion("/d/b.txt", 100.0, 5),
               FileVersion("/d/.c.txt.part", 100.0, 5), FileVersion("/d/fresh.txt", 199.5, 5),
               FileVersion("/d/old.txt", 1.0, 5)]
    seen = {"/d/a.html": (100.0, 10), "/d/b.txt": (90.0, 5)}
    assert [v.path for v in changed_files(listing, seen, now=200.0)] == [
        "/d/b.txt", "/d/old.txt"]
    assert [v.path for v in changed_files(listing, seen, now=200.0, ttl_seconds=150)] == [
        "/d/b.txt"]


def test_watch_folder_reads_each_file_once_while_polling(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    past = time.time() - 60
    for name, text in (("a.txt", "First report. 12 people were killed."), ("b.txt", "Second.")):
        (folder / name).write_text(text)
        os.utime(folder / name, (past, past))
    (folder / ".hidden.txt").write_text("skipped")
    start = Timestamp.now()
    with make_pipeline(PipelineOptions()) as p:
        read = p | WatchFolder([str(folder / "*")], interval_seconds=0.5, start=start,
                               stop=start + Duration(seconds=2))
        assert_that(read["raw_docs"] | beam.Map(lambda d: os.path.basename(d.uri)),
                    equal_to(["a.txt", "b.txt"]), label="once")


def test_watch_folder_confines_links_and_makes_a_name_that_is_not_utf8_a_dead_letter_once(tmp_path):
    """WatchFolder read a link leading out of the folder, skipped a dangling link without a word,
    and a name that is not UTF-8 failed the stream (no coder can carry it as a key)."""
    folder, outside = tmp_path / "drop", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("a secret")
    past = time.time() - 60
    (folder / "a.txt").write_text("First report. 12 people were killed.")
    (folder / os.fsdecode(b"caf\xe9.txt")).write_text("Second.")
    (folder / "link.txt").symlink_to(outside / "secret.txt")
    (folder / "gone.txt").symlink_to(folder / "nothing.txt")
    for name in os.listdir(folder):
        os.utime(folder / name, (past, past), follow_symlinks=False)
    start = Timestamp.now()
    with make_pipeline(PipelineOptions()) as p:
        read = p | WatchFolder([str(folder / "*")], interval_seconds=0.5, start=start,
                               stop=start + Duration(seconds=2))
        assert_that(read["raw_docs"] | beam.Map(lambda d: os.path.basename(d.uri)),
                    equal_to(["a.txt"]), label="read")
        assert_that(read["dead_letters"] | beam.Map(lambda d: (os.path.basename(d.uri), d.error_type)),
                    equal_to([("caf\\xe9.txt", "undecodable_name"), ("link.txt", "outside_input"),
                             ("gone.txt", "dangling_link")]),
                    label="dead letters, once each")


def meta(path, mtime, size=10):
    return FileMetadata(path, size, last_updated_in_seconds=mtime)


def test_seen_paths_are_forgotten_after_the_ttl():
    """TestStream: a path is emitted once per version; after the TTL its state is cleared (a
    file still listed then is older than the TTL and is not read again)."""
    ttl = Duration(seconds=100)
    stream = (TestStream()
              .advance_watermark_to(1000)
              .add_elements([TimestampedValue(("/d/a", meta("/d/a", 990.0)), 1000)])
              .add_elements([TimestampedValue(("/d/a", meta("/d/a", 990.0)), 1001)])
              .add_elements([TimestampedValue(("/d/a", meta("/d/a", 995.0, 11)), 1002)])
              .advance_watermark_to(1200)
              # After the TTL: forgotten, and too old to be taken again.
              .add_elements([TimestampedValue(("/d/a", meta("/d/a", 995.0, 11)), 1200)])
              .add_elements([TimestampedValue(("/d/a", meta("/d/a", 1150.0, 12)), 1201)])
              .advance_watermark_to_infinity())
    with TestPipeline(runner="BundleBasedDirectRunner") as p:
        out = (p | stream
               | beam.ParDo(NewFilesFn(ttl, settle_seconds=1.0)).with_input_types(
                   tuple[str, FileMetadata])
               | beam.Map(file_ref))
        # (path, size, mtime): the file references the reads take.
        assert_that(out, equal_to([("/d/a", 10, 990.0), ("/d/a", 11, 995.0),
                                   ("/d/a", 12, 1150.0)]))
