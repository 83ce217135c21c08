"""Ingestion of dropped files: input paths to RawDoc records, through Beam's FileSystems.

`--input` takes folders, globs or files, local or on any filesystem Beam knows (`gs://` on Dataflow).
A folder means every file below it. Files over the size cap, unreadable files and files of a type
tollwatch does not read become DeadLetters here; nothing is skipped silently.
"""

from __future__ import annotations

import errno
import os
import posixpath
import re
import stat
from typing import Collection, Iterable, Iterator, Optional, Sequence

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes, FileMetadata
from apache_beam.io.filesystems import FileSystems
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas import DeadLetter, RawDoc
from tollwatch.schemas.intermediate import FileRef
from tollwatch.transforms.extract import FEED_EXTENSIONS, HTML_EXTENSIONS, TEXT_EXTENSIONS
from tollwatch.transforms.guard import failure
from tollwatch.transforms import METRICS_NAMESPACE

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
            matched = list(list_matches([pattern]))
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


def inside_roots(real: str, roots: Collection[str]) -> bool:
    """True if the real path `real` is one of `roots` (real folders) or below one. It looks up
    each folder above the path, so a check costs the depth of the path, not the number of roots
    (`follow` once had a root per file and checked every file against every root)."""
    path = real
    while True:
        if path in roots:
            return True
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent


def root_set(roots: Iterable[str]) -> frozenset[str]:
    """Real input folders as `inside_roots` looks them up (built once per reader, not per file)."""
    if isinstance(roots, frozenset):
        return roots
    return frozenset(r.rstrip(os.sep) or os.sep for r in roots)


def outside_roots(path: str, roots: Collection[str]) -> bool:
    """True if a local file resolves (through symbolic links) outside every input root: a link
    dropped into an input folder must not make tollwatch read /etc/passwd or a secret."""
    if not roots or "://" in path:
        return False
    return not inside_roots(os.path.realpath(path), root_set(roots))


class Refused(Exception):
    """A local file tollwatch does not read; `kind` is the dead letter's error type."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


_NOT_FILES = ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
              (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "folder"))


def _not_a_file(mode: int) -> Refused:
    what = next((name for test, name in _NOT_FILES if test(mode)), "special file")
    return Refused("not_a_file", f"a {what}, not a regular file: not read")


def _unreachable(path: str, err: OSError) -> Refused | OSError:
    if err.errno == errno.ELOOP:
        return Refused("link_loop", "a symbolic link that leads to itself: not read")
    if err.errno == errno.ENOENT and os.path.islink(path):
        return Refused("dangling_link", "a symbolic link to nothing: not read")
    return err


def _opened_path(fd: int, path: str, opened: os.stat_result) -> str:
    """The real path of the file open on `fd`: what was opened, not what `path` names now."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # no /proc: the path's target now must be the very file that was opened
        real = os.path.realpath(path)
        try:
            now = os.stat(real)
        except OSError:
            now = None
        if now is None or (now.st_dev, now.st_ino) != (opened.st_dev, opened.st_ino):
            raise Refused("changed_while_read", "the file changed while it was opened: not read")
        return real


_OPEN_FLAGS = os.O_RDONLY | sum(getattr(os, flag, 0) for flag in ("O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC"))


def open_local(path: str, roots: Collection[str] = (), real: Optional[str] = None) -> int:
    """A descriptor open for reading on the regular local file `path`, inside `roots` (real
    folders; none: anywhere). Checked before opening, so a FIFO, socket or device is never opened
    (open() blocks on a FIFO without a writer), and again on the descriptor itself, so a link
    swapped between the check and the open cannot lead outside the inputs (O_NONBLOCK: a FIFO
    swapped in does not block the open). `real`: the path's real path, when the caller has it."""
    roots = root_set(roots)
    try:
        before = os.stat(path)
    except OSError as err:
        raise _unreachable(path, err) from None
    if not stat.S_ISREG(before.st_mode):
        raise _not_a_file(before.st_mode)
    if roots and not inside_roots(real or os.path.realpath(path), roots):
        raise Refused("outside_input", "a symbolic link leading outside the input folders: not read")
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as err:
        raise _unreachable(path, err) from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise _not_a_file(opened.st_mode)
        if roots and not inside_roots(_opened_path(fd, path, opened), roots):
            raise Refused("outside_input",
                          "opened outside the input folders (a link changed while it was read): not read")
    except BaseException:
        os.close(fd)
        raise
    return fd


def printable_path(path: str) -> str:
    """`path` as UTF-8 text: a name that is not UTF-8 (os gives its bytes as surrogates) with
    those bytes escaped as \\xNN."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")


def undecodable_name(path: str, size: Optional[int], now: Timestamp) -> Optional[DeadLetter]:
    """The DeadLetter of a file whose name is not UTF-8 (no record can hold it), else None."""
    named = printable_path(path)
    if named == path:
        return None
    return DeadLetter(named, "read", "undecodable_name",
                      "the file name is not UTF-8 (its bytes are escaped here): rename it to read it",
                      size, now)


def read_file(meta: FileMetadata, max_bytes: int, now: Timestamp,
              roots: Collection[str] = ()) -> RawDoc | DeadLetter:
    """The file's bytes as a RawDoc, or a DeadLetter if it is too large, unsupported, unreadable,
    not a regular file, or (for local files, given the real input roots) opened outside the inputs."""
    path, size = meta.path, meta.size_in_bytes
    named = undecodable_name(path, size, now)
    if named is not None:
        return named
    reason = file_kind(path)
    if reason == "unsupported_type":
        return DeadLetter(path, "read", reason,
                          f"tollwatch reads {', '.join(SUPPORTED_EXTENSIONS)} files", size, now)
    # The real path is looked up once (one lstat per folder of the path): open_local checks it again.
    real = os.path.realpath(path) if roots and "://" not in path else None
    if real is not None and not inside_roots(real, root_set(roots)):
        return DeadLetter(path, "read", "outside_input",
                          "a symbolic link leading outside the input folders: not read", size, now)
    if size is not None and size > max_bytes:
        return DeadLetter(path, "read", "too_large",
                          f"{size} bytes is over the {max_bytes}-byte cap (--max_file_bytes)", size, now)
    try:
        if "://" in path:
            # UNCOMPRESSED: a .gz name must not make Beam inflate an unbounded stream.
            handle = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
        else:
            handle = os.fdopen(open_local(path, roots, real), "rb")
        with handle:
            chunks, total = [], 0
            while total <= max_bytes:
                chunk = handle.read(min(_READ_CHUNK, max_bytes + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
    except Refused as err:
        return DeadLetter(path, "read", err.kind, str(err), size, now)
    except Exception as err:  # a vanished or unreadable file is a dead letter, not a failed run
        return DeadLetter(path, "read", type(err).__name__, str(err)[:2000], size, now)
    if total > max_bytes:
        return DeadLetter(path, "read", "too_large",
                          f"over the {max_bytes}-byte cap (--max_file_bytes)", total, now)
    mtime = meta.last_updated_in_seconds
    return RawDoc(uri=path, feed_url=None, entry_id=None, fetched_at=now, content=b"".join(chunks),
                  content_type=None, modified_at=Timestamp(mtime) if mtime else None)


# Files per element between the match and the reads: few enough that the workers get the same
# number of files (+-16), many enough that the runner moves a few thousand elements, not one per
# file (the local runner holds a shuffle's elements decoded in its driver, ~1.5 KB each).
FILES_PER_BATCH = 16


def file_ref(meta: FileMetadata) -> FileRef:
    return meta.path, int(meta.size_in_bytes), float(meta.last_updated_in_seconds or 0.0)


def _local_entry(path: str) -> Optional[FileMetadata]:
    try:
        found = os.stat(path)
    except OSError:
        try:  # a dangling or looping link: listed, so that it becomes a dead letter
            found = os.lstat(path)
        except OSError:
            return None  # gone since it was listed
        return FileMetadata(path, 0, found.st_mtime)
    return FileMetadata(path, found.st_size, found.st_mtime)


def list_local(pattern: str) -> Iterator[FileMetadata]:
    """What a local pattern matches, as Beam's LocalFileSystem matches it (links to folders are
    not followed), and also the dangling and looping links that Beam skips without a word."""
    if pattern.endswith(os.sep):
        pattern += "*"
    prefix = re.match(r"^[^[*?]*", pattern).group(0)
    if prefix == pattern:
        entry = _local_entry(pattern) if os.path.lexists(pattern) and not os.path.isdir(pattern) else None
        if entry is not None:
            yield entry
        return
    folder = os.path.dirname(prefix)
    if not os.path.isdir(folder):
        return
    match = re.compile(FileSystems.get_filesystem(pattern).translate_pattern(pattern)).match
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(dirpath, name)
            if match(path):
                entry = _local_entry(path)
                if entry is not None:
                    yield entry


def list_matches(patterns: Sequence[str]) -> Iterator[FileMetadata]:
    """What each pattern matches, in order (local patterns through `list_local`)."""
    for pattern in patterns:
        if "://" in pattern:
            yield from FileSystems.match([pattern])[0].metadata_list
        else:
            yield from list_local(pattern)


def match_files(patterns: Sequence[str]) -> Iterator[FileRef]:
    """Each file the patterns match, once even if several patterns match it."""
    seen: set[str] = set()
    for pattern in patterns:
        for meta in list_matches([pattern]):
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


class ReadFileFn(beam.DoFn):
    DEAD_LETTERS = "dead_letters"

    def __init__(self, max_bytes: int, now: Optional[Timestamp], roots: Sequence[str] = ()):
        self._max_bytes = max_bytes
        self._now = now
        self._roots = root_set(roots)
        self.read = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "files_read")
        self.failed = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "read_dead_letters")

    def process(self, ref: FileRef) -> Iterable:
        if file_kind(ref[0]) == "hidden":
            return
        now = self._now or Timestamp.now()
        try:
            result = read_file(FileMetadata(*ref), self._max_bytes, now, self._roots)
        except Exception as err:  # noqa: BLE001 - one file's failure is its dead letter
            result = failure(printable_path(ref[0]), "read", err, ref[1], now)
        if isinstance(result, DeadLetter):
            self.failed.inc()
            yield beam.pvalue.TaggedOutput(self.DEAD_LETTERS, result)
        else:
            self.read.inc()
            yield result


def split_named(refs: Iterable[FileRef], now: Timestamp) -> tuple[list[FileRef], list[DeadLetter]]:
    """(the files whose names records can hold, the DeadLetters of those whose names are not
    UTF-8); hidden files are not read, so they are in neither."""
    readable, named = [], []
    for ref in refs:
        if file_kind(ref[0]) == "hidden":
            continue
        dead = undecodable_name(ref[0], ref[1], now)
        if dead is None:
            readable.append(ref)
        else:
            named.append(dead)
    return readable, named


class _MatchFn(beam.DoFn):
    """Patterns -> each file they match, largest first; a name that is not UTF-8 (no coder can
    carry it) to 'dead_letters'."""

    def __init__(self, now: Optional[Timestamp]):
        self._now = now

    def process(self, patterns: Sequence[str]) -> Iterable:
        readable, named = split_named(match_largest_first(patterns), self._now or Timestamp.now())
        yield from readable
        for dead in named:
            yield beam.pvalue.TaggedOutput(ReadFileFn.DEAD_LETTERS, dead)


class ReadFiles(beam.PTransform):
    """Match patterns -> {'raw_docs': PCollection[RawDoc], 'dead_letters': PCollection[DeadLetter]}.

    Each file is read once even when several patterns match it. `now` fixes the ingestion time of a
    batch run (one time for the whole run); None takes the clock per file. `files` reads files
    already listed instead (`follow` lists its folders itself), confined to `roots` (the real
    folders they were listed in).
    """

    def __init__(self, patterns: Sequence[str] = (), max_bytes: int = DEFAULT_MAX_FILE_BYTES,
                 now: Optional[Timestamp] = None, files: Optional[Sequence[FileRef]] = None,
                 roots: Sequence[str] = ()):
        super().__init__()
        if not patterns and files is None:
            raise ValueError("ReadFiles needs at least one pattern, or the files to read")
        if patterns and files is not None:
            raise ValueError("ReadFiles reads patterns or files, not both")
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self._patterns = list(patterns)
        self._files = files
        self._roots = list(roots)
        self._max_bytes = max_bytes
        self._now = now

    def expand(self, pbegin):
        if self._files is None:
            matched = (
                pbegin
                | "Patterns" >> beam.Create([self._patterns])
                | "Match" >> beam.ParDo(_MatchFn(self._now)).with_output_types(FileRef)
                .with_outputs(ReadFileFn.DEAD_LETTERS, main="files"))
            files, named = matched.files, matched[ReadFileFn.DEAD_LETTERS]
            roots = {r for r in map(input_root, self._patterns) if r is not None}
        else:
            # Names that are not UTF-8 cannot even be put into the pipeline: they are split off here.
            readable, dead = split_named(self._files, self._now or Timestamp.now())
            files = (pbegin
                     | "Listed" >> beam.Create([sorted(readable, key=lambda ref: (-ref[1], ref[0]))])
                     | "Each" >> beam.FlatMap(lambda refs: refs).with_output_types(FileRef))
            named = pbegin | "NotUtf8Names" >> beam.Create(dead).with_output_types(DeadLetter)
            roots = set(self._roots)
        files = (
            files
            | "Batch" >> beam.BatchElements(min_batch_size=FILES_PER_BATCH,
                                            max_batch_size=FILES_PER_BATCH)
            .with_output_types(list[FileRef])
            # Spread the reads over workers: one pattern may match millions of files.
            | "Spread" >> beam.Reshuffle()
            | "Files" >> beam.FlatMap(lambda batch: batch).with_output_types(FileRef)
        )
        read = ReadFileFn(self._max_bytes, self._now, sorted(roots))
        results = files | "Read" >> beam.ParDo(read).with_output_types(
            RawDoc, dead_letters=DeadLetter).with_outputs(ReadFileFn.DEAD_LETTERS, main="raw_docs")
        dead_letters = ((results[ReadFileFn.DEAD_LETTERS], named)
                        | "DeadLetters" >> beam.Flatten().with_output_types(DeadLetter))
        return {"raw_docs": results.raw_docs, "dead_letters": dead_letters}
