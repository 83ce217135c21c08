"""Ingestion of dropped files: input paths to RawDoc records, through Beam's FileSystems.

`--input` takes folders, globs or files, local or on any filesystem Beam knows (`gs://` on Dataflow).
A folder means every file below it. Files over the size cap, unreadable files and files of a type
tollwatch does not read become DeadLetters here; nothing is skipped silently.
"""

from __future__ import annotations

import posixpath
from typing import Iterable, Iterator, Optional, Sequence

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes, FileMetadata
from apache_beam.io.filesystems import FileSystems
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas import DeadLetter, RawDoc
from tollwatch.transforms.extract import FEED_EXTENSIONS, HTML_EXTENSIONS, TEXT_EXTENSIONS

DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024
SUPPORTED_EXTENSIONS = HTML_EXTENSIONS + TEXT_EXTENSIONS + FEED_EXTENSIONS
_GLOB_CHARS = set("*?[")
_READ_CHUNK = 1 << 20


class InputError(ValueError):
    """An --input that names nothing readable."""


def is_glob(path: str) -> bool:
    return any(c in _GLOB_CHARS for c in path)


def input_pattern(path: str) -> str:
    """The glob for one --input: a folder becomes every file below it, a glob or file stays."""
    if is_glob(path):
        return path
    if path.endswith("/") or _is_local_dir(path):
        return posixpath.join(path.rstrip("/"), "**") if "://" in path else _local_join(path, "**")
    return path


def _is_local_dir(path: str) -> bool:
    import os

    return "://" not in path and os.path.isdir(path)


def _local_join(path: str, name: str) -> str:
    import os

    return os.path.join(os.path.abspath(path), name)


def resolve_inputs(paths: Sequence[str]) -> list[str]:
    """The match patterns for the given --input paths; raises InputError for one that matches no
    file, so a typo is reported before a pipeline starts."""
    if not paths:
        raise InputError("no --input given")
    patterns = []
    for path in paths:
        pattern = input_pattern(path)
        if "://" not in pattern and not pattern.startswith("/"):
            import os

            pattern = os.path.abspath(pattern)
        try:
            matched = FileSystems.match([pattern])[0].metadata_list
        except Exception as err:  # Beam raises BeamIOError with the filesystem's reason inside
            raise InputError(f"--input {path!r}: cannot list it: {err}") from err
        if not matched:
            raise InputError(f"--input {path!r} matches no file")
        patterns.append(pattern)
    return patterns


def file_kind(path: str) -> Optional[str]:
    """None for a path tollwatch reads, else why it does not ('unsupported_type', 'hidden')."""
    name = posixpath.basename(path.replace("\\", "/"))
    if name.startswith("."):
        return "hidden"
    ext = posixpath.splitext(name)[1].lower()
    if ext and ext not in SUPPORTED_EXTENSIONS:
        return "unsupported_type"
    return None


def input_root(pattern: str) -> Optional[str]:
    """The real local folder a match pattern reads below (a file's: its folder); None on other
    filesystems. For a file named outright it is the folder too: `follow` names every new file of
    a watched folder, and a link among them must not lead out of it."""
    import os

    if "://" in pattern:
        return None
    cut = min((pattern.index(c) for c in _GLOB_CHARS if c in pattern), default=len(pattern))
    return os.path.realpath(os.path.dirname(pattern[:cut]))


def outside_roots(path: str, roots: Sequence[str]) -> bool:
    """True if a local file resolves (through symbolic links) outside every input root: a link
    dropped into an input folder must not make tollwatch read /etc/passwd or a secret."""
    import os

    if not roots or "://" in path:
        return False
    real = os.path.realpath(path)
    return not any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def read_file(meta: FileMetadata, max_bytes: int, now: Timestamp,
              roots: Sequence[str] = ()) -> RawDoc | DeadLetter:
    """The file's bytes as a RawDoc, or a DeadLetter if it is too large, unsupported, unreadable
    or (for local files, given the real input roots) a link leading outside the inputs."""
    path, size = meta.path, meta.size_in_bytes
    reason = file_kind(path)
    if reason == "unsupported_type":
        return DeadLetter(path, "read", reason,
                          f"tollwatch reads {', '.join(SUPPORTED_EXTENSIONS)} files", size, now)
    if outside_roots(path, roots):
        return DeadLetter(path, "read", "outside_input",
                          "a symbolic link leading outside the input folders: not read", size, now)
    if size is not None and size > max_bytes:
        return DeadLetter(path, "read", "too_large",
                          f"{size} bytes is over the {max_bytes}-byte cap (--max_file_bytes)", size, now)
    try:
        # UNCOMPRESSED: a .gz name must not make Beam inflate an unbounded stream.
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            chunks, total = [], 0
            while total <= max_bytes:
                chunk = handle.read(min(_READ_CHUNK, max_bytes + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
    except Exception as err:  # a vanished or unreadable file is a dead letter, not a failed run
        return DeadLetter(path, "read", type(err).__name__, str(err)[:2000], size, now)
    if total > max_bytes:
        return DeadLetter(path, "read", "too_large",
                          f"over the {max_bytes}-byte cap (--max_file_bytes)", total, now)
    mtime = meta.last_updated_in_seconds
    return RawDoc(uri=path, feed_url=None, entry_id=None, fetched_at=now, content=b"".join(chunks),
                  content_type=None, modified_at=Timestamp(mtime) if mtime else None)


# (path, size in bytes, last updated in seconds): what a read needs of a matched file, as a tuple
# of primitives (FileMetadata has no coder: it is pickled, and a runner that holds a shuffle in
# memory holds it decoded, ~360 B beside its path).
FileRef = tuple[str, int, float]


# Files per element between the match and the reads: few enough that the workers get the same
# number of files (+-16), many enough that the runner moves a few thousand elements, not one per
# file (the local runner holds a shuffle's elements decoded in its driver, ~1.5 KB each).
FILES_PER_BATCH = 16


def file_ref(meta: FileMetadata) -> FileRef:
    return meta.path, int(meta.size_in_bytes), float(meta.last_updated_in_seconds or 0.0)


def match_files(patterns: Sequence[str]) -> Iterator[FileRef]:
    """Each file the patterns match, once even if several patterns match it."""
    seen: set[str] = set()
    for pattern in patterns:
        for meta in FileSystems.match([pattern])[0].metadata_list:
            if meta.path not in seen:
                seen.add(meta.path)
                yield file_ref(meta)


def match_largest_first(patterns: Sequence[str]) -> list[FileRef]:
    """`match_files`, the largest files first. Why: the local runner deals a shuffle's keys out to
    its workers in turn, in the order they came (ReadFiles' batches have one random key each), so
    largest first each worker gets the same bytes to within a batch and the last batches read are
    the smallest files. In random order one worker read alone for the last ~2.5 s of the 10k
    benchmark."""
    return sorted(match_files(patterns), key=lambda ref: (-ref[1], ref[0]))


class _ReadFileFn(beam.DoFn):
    DEAD_LETTERS = "dead_letters"

    def __init__(self, max_bytes: int, now: Optional[Timestamp], roots: Sequence[str] = ()):
        self._max_bytes = max_bytes
        self._now = now
        self._roots = tuple(roots)
        self.read = beam.metrics.Metrics.counter("tollwatch", "files_read")
        self.failed = beam.metrics.Metrics.counter("tollwatch", "read_dead_letters")

    def process(self, ref: FileRef) -> Iterable:
        if file_kind(ref[0]) == "hidden":
            return
        result = read_file(FileMetadata(*ref), self._max_bytes, self._now or Timestamp.now(),
                           self._roots)
        if isinstance(result, DeadLetter):
            self.failed.inc()
            yield beam.pvalue.TaggedOutput(self.DEAD_LETTERS, result)
        else:
            self.read.inc()
            yield result


class ReadFiles(beam.PTransform):
    """Match patterns -> {'raw_docs': PCollection[RawDoc], 'dead_letters': PCollection[DeadLetter]}.

    Each file is read once even when several patterns match it. `now` fixes the ingestion time of a
    batch run (one time for the whole run); None takes the clock per file.
    """

    def __init__(self, patterns: Sequence[str], max_bytes: int = DEFAULT_MAX_FILE_BYTES,
                 now: Optional[Timestamp] = None):
        super().__init__()
        if not patterns:
            raise ValueError("ReadFiles needs at least one pattern")
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self._patterns = list(patterns)
        self._max_bytes = max_bytes
        self._now = now

    def expand(self, pbegin):
        files = (
            pbegin
            | "Patterns" >> beam.Create([self._patterns])
            | "Match" >> beam.FlatMap(match_largest_first).with_output_types(FileRef)
            | "Batch" >> beam.BatchElements(min_batch_size=FILES_PER_BATCH,
                                            max_batch_size=FILES_PER_BATCH)
            .with_output_types(list[FileRef])
            # Spread the reads over workers: one pattern may match millions of files.
            | "Spread" >> beam.Reshuffle()
            | "Files" >> beam.FlatMap(lambda batch: batch).with_output_types(FileRef)
        )
        roots = [r for r in map(input_root, self._patterns) if r is not None]
        results = files | "Read" >> beam.ParDo(_ReadFileFn(self._max_bytes, self._now, roots)).with_output_types(
            RawDoc, dead_letters=DeadLetter).with_outputs(_ReadFileFn.DEAD_LETTERS, main="raw_docs")
        return {"raw_docs": results.raw_docs, "dead_letters": results[_ReadFileFn.DEAD_LETTERS]}
