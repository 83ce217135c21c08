"""What a drop-folder writer can put in a folder besides files: a link swapped while it is read,
a FIFO, a socket, dangling and looping links, names that are not UTF-8 (issue 17, items 3, 5, 6).
Each is read or becomes a dead letter; none stops or hangs a run, none leaks a file outside."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

from apache_beam.io.filesystem import FileMetadata
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas import DeadLetter, RawDoc
from tollwatch.transforms.inputs.files import input_pattern, input_root, match_files, read_file

ARTICLE = ("The death toll from the landslide in the hill town of Orvel rose to 23 on Wednesday, "
           "the regional civil protection agency said, as rescuers dug through mud for a second day. "
           "Another 40 people were injured and taken to hospitals in the valley, officials added.")
SECRET = "TOLLWATCH-SECRET-race-51c2"
NOW = Timestamp(1_780_000_000)


def test_a_link_swapped_while_it_is_read_never_leaks_the_file_outside(tmp_path):
    """A racer swaps a link between a file inside the inputs and a secret outside, as fast as it
    can, while the reader reads it: the check must hold for what was opened, not for what the path
    named a moment before."""
    drop, outside = tmp_path / "drop", tmp_path / "outside"
    drop.mkdir()
    outside.mkdir()
    inside = drop / "inside.txt"
    inside.write_text(f" date 2026-05-13 {ARTICLE}")
    secret = outside / "secret.txt"
    secret.write_text(f" date 2026-05-13 {SECRET} {ARTICLE}")
    link = drop / "race.txt"
    link.symlink_to(inside)
    roots = [input_root(input_pattern(str(drop)))]
    stop = threading.Event()

    def racer():
        spare = drop / ".race.tmp"
        while not stop.is_set():
            for target in (secret, inside):
                try:
                    os.unlink(spare)
                except FileNotFoundError:
                    pass
                os.symlink(target, spare)
                os.replace(spare, link)  # atomic: the link always exists

    thread = threading.Thread(target=racer, daemon=True)
    thread.start()
    kinds: dict[str, int] = {}
    deadline = time.monotonic() + 4.0
    try:
        while time.monotonic() < deadline:
            result = read_file(FileMetadata(str(link), 100, 0.0), 1 << 20, NOW, roots)
            if isinstance(result, RawDoc):
                assert SECRET.encode() not in result.content
                kinds["read"] = kinds.get("read", 0) + 1
            else:
                kinds[result.error_type] = kinds.get(result.error_type, 0) + 1
    finally:
        stop.set()
        thread.join()
    # Both sides of the race were met: reads of the inside file and refusals of the secret.
    assert kinds.get("read", 0) > 0 and kinds.get("outside_input", 0) > 0, kinds


def _read_in_time(path: Path, seconds: float = 20.0):
    found = []
    thread = threading.Thread(target=lambda: found.append(
        read_file(FileMetadata(str(path), 0, 0.0), 1 << 20, NOW, [str(path.parent.resolve())])),
        daemon=True)
    thread.start()
    thread.join(seconds)
    assert found, f"reading {path.name} did not return in {seconds} s"
    return found[0]


def test_a_fifo_or_socket_is_a_dead_letter_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "evil.txt")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock.txt"))
        for name in ("evil.txt", "sock.txt"):
            result = _read_in_time(tmp_path / name)
            assert isinstance(result, DeadLetter) and result.error_type == "not_a_file", result


def test_dangling_and_looping_links_are_listed_and_become_dead_letters(tmp_path):
    (tmp_path / "gone.txt").symlink_to(tmp_path / "nothing.txt")
    (tmp_path / "loop_a.txt").symlink_to(tmp_path / "loop_b.txt")
    (tmp_path / "loop_b.txt").symlink_to(tmp_path / "loop_a.txt")
    listed = sorted(Path(p).name for p, _, _ in match_files([input_pattern(str(tmp_path))]))
    assert listed == ["gone.txt", "loop_a.txt", "loop_b.txt"]
    assert _read_in_time(tmp_path / "gone.txt").error_type == "dangling_link"
    assert _read_in_time(tmp_path / "loop_a.txt").error_type == "link_loop"


def test_a_name_that_is_not_utf8_is_a_dead_letter_naming_its_bytes():
    result = read_file(FileMetadata(os.fsdecode(b"/drop/caf\xe9.txt"), 10, 0.0), 1 << 20, NOW)
    assert isinstance(result, DeadLetter) and result.error_type == "undecodable_name"
    assert result.uri == "/drop/caf\\xe9.txt"
    result.uri.encode("utf-8")  # a record can hold it
