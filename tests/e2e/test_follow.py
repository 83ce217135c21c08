"""`tollwatch follow`: the tick loop and its state (without Beam), and the real command watching a
folder while files are dropped into it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import EXAMPLES
from tollwatch.pipeline.follow import STATE_FILE, Follower, FollowState


def drop(folder: Path, name: str, text: str, age: float = 5.0) -> Path:
    path = folder / name
    temp = folder / f".{name}.part"  # hidden while written, as a careful writer does
    temp.write_text(text, encoding="utf-8")
    past = time.time() - age
    os.utime(temp, (past, past))
    temp.rename(path)
    return path


def test_ticks_take_new_and_changed_files_once(tmp_path):
    folder, out = tmp_path / "drop", tmp_path / "out"
    folder.mkdir()
    out.mkdir()
    calls = []

    def run_tick(state, new_files, due, key):
        calls.append((key, sorted(Path(v.path).name for v in new_files)))
        return {}

    follower = Follower(str(out), [str(folder / "*")], run_tick)
    assert follower.tick() is None  # nothing yet: no pipeline run
    drop(folder, "a.txt", "one")
    drop(folder, "b.txt", "two")
    assert follower.tick().files == 2
    assert follower.tick() is None
    drop(folder, "b.txt", "two, corrected")
    drop(folder, "c.txt", "three")
    assert follower.tick().files == 2
    assert calls == [("t0000001", ["a.txt", "b.txt"]), ("t0000002", ["b.txt", "c.txt"])]
    state = json.loads((out / STATE_FILE).read_text())
    assert state["tick"] == 2 and len(state["files"]) == 3


def test_a_failed_tick_saves_nothing_and_runs_again_under_its_number(tmp_path):
    folder, out = tmp_path / "drop", tmp_path / "out"
    folder.mkdir()
    out.mkdir()
    drop(folder, "a.txt", "one")
    keys = []

    def failing(state, new_files, due, key):
        keys.append(key)
        raise RuntimeError("worker died")

    with pytest.raises(RuntimeError):
        Follower(str(out), [str(folder / "*")], failing).tick()
    assert FollowState.load(str(out)).tick == 0
    Follower(str(out), [str(folder / "*")], lambda s, f, d, key: keys.append(key) or {}).tick()
    assert keys == ["t0000001", "t0000001"]
    assert FollowState.load(str(out)).tick == 1


def test_the_loop_stops_when_asked(tmp_path):
    follower = Follower(str(tmp_path), [str(tmp_path / "*")], lambda *a: {})
    follower.stop.set()
    assert follower.run(0.01) == 0
    assert Follower(str(tmp_path), [], lambda *a: {}).run(0.01, max_ticks=3) == 3


def count_articles(out: Path) -> int:
    from tollwatch.pipeline.query import connect

    if not (out / "articles").is_dir():
        return 0
    return connect(str(out)).execute("SELECT count(*) FROM articles").fetchall()[0][0]


def wait_for(predicate, timeout: float) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if predicate():
            return time.monotonic() - began
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s")


def test_follow_finds_dropped_files_in_duckdb(tmp_path):
    folder, out = tmp_path / "drop", tmp_path / "out"
    folder.mkdir()
    command = [sys.executable, "-m", "tollwatch.pipeline.cli", "follow", "--watch", str(folder),
               "--output", str(out), "--tick-seconds", "1",
               "--events", str(EXAMPLES / "events.toml")]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        first = (EXAMPLES / "day1_meridian_wire_original.txt").read_text(encoding="utf-8")
        drop(folder, "wire.txt", first)
        delay = wait_for(lambda: count_articles(out) == 1, timeout=120)
        second = (EXAMPLES / "day3_radioserrano_bulletin.txt").read_text(encoding="utf-8")
        drop(folder, "bulletin.txt", second)
        wait_for(lambda: count_articles(out) == 2, timeout=120)
        print(f"first file readable in DuckDB {delay:.1f} s after the drop")
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "stopped after" in err
    assert not list(out.rglob("*.parquet.tmp")) and not (out / ".tmp").exists()
    state = json.loads((out / STATE_FILE).read_text())
    assert sorted(Path(p).name for p in state["files"]) == ["bulletin.txt", "wire.txt"]
    assert count_articles(out) == 2  # each file once, however many ticks listed it


def test_the_state_keeps_only_files_still_there_and_is_not_rewritten_when_nothing_changed(tmp_path):
    """follow.json once kept every file ever seen, after the files were gone, and was rewritten
    with fsync every tick."""
    folder, out = tmp_path / "drop", tmp_path / "out"
    folder.mkdir()
    out.mkdir()
    follower = Follower(str(out), [str(folder / "*")], lambda s, f, d, key: {})
    drop(folder, "a.txt", "one")
    drop(folder, "b.txt", "two")
    assert follower.tick().files == 2
    state_file = out / STATE_FILE
    written = state_file.stat().st_mtime_ns, state_file.stat().st_ino
    assert follower.tick() is None
    assert (state_file.stat().st_mtime_ns, state_file.stat().st_ino) == written  # not rewritten
    (folder / "a.txt").unlink()
    assert follower.tick() is None
    state = FollowState.load(str(out))
    assert sorted(Path(p).name for p in state.files) == ["b.txt"] and state.tick == 1


def test_cursors_of_feeds_removed_from_the_config_expire(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    FollowState(3, {}, {"https://a.example/feed": {"url": "a"},
                        "https://gone.example/feed": {"url": "gone"}}).save(str(out))
    follower = Follower(str(out), [], lambda s, f, d, key: {}, feed_urls={"https://a.example/feed"})
    assert follower.tick() is None
    assert FollowState.load(str(out)).feeds == {"https://a.example/feed": {"url": "a"}}


def test_a_tick_over_names_that_are_not_utf8_and_a_fifo_finishes_and_remembers_them(tmp_path):
    """A file name that is not UTF-8 failed every tick, so every restart; a FIFO blocked it."""
    folder, out = tmp_path / "drop", tmp_path / "out"
    folder.mkdir()
    drop(folder, "wire.txt", (EXAMPLES / "day1_meridian_wire_original.txt").read_text(encoding="utf-8"))
    odd = folder / os.fsdecode(b"bulletin-\xe9.txt")
    odd.write_text((EXAMPLES / "day3_radioserrano_bulletin.txt").read_text(encoding="utf-8"))
    os.mkfifo(folder / "evil.txt")
    past = time.time() - 5
    for path in (odd, folder / "evil.txt"):
        os.utime(path, (past, past))
    command = [sys.executable, "-m", "tollwatch.pipeline.cli", "-q", "follow", "--watch", str(folder),
               "--output", str(out), "--ticks", "1", "--events", str(EXAMPLES / "events.toml")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert count_articles(out) == 1
    from tollwatch.pipeline.query import connect

    dead = dict(connect(str(out)).execute("SELECT uri, error_type FROM dead_letters").fetchall())
    assert {Path(u).name: k for u, k in dead.items()} == {
        "bulletin-\\xe9.txt": "undecodable_name", "evil.txt": "not_a_file"}
    # Remembered: the next tick has nothing new (it does not fail, nor read them again).
    assert len(FollowState.load(str(out)).files) == 3


def test_a_second_ctrl_c_stops_follow_at_once_with_one_line(tmp_path):
    folder, out = tmp_path / "drop", tmp_path / "out"
    folder.mkdir()
    for name in ("day1_meridian_wire_original.txt", "day3_radioserrano_bulletin.txt"):
        drop(folder, name, (EXAMPLES / name).read_text(encoding="utf-8"))
    command = [sys.executable, "-m", "tollwatch.pipeline.cli", "follow", "--watch", str(folder),
               "--output", str(out), "--tick-seconds", "1"]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: (out / ".tmp").exists(), timeout=120)  # the first tick is running
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        began = time.monotonic()
        _, err = proc.communicate(timeout=30)
        stopped_in = time.monotonic() - began
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert stopped_in < 5, stopped_in
    assert "Traceback" not in err
    assert "stopping after the current tick" in err
    assert [line for line in err.splitlines() if "interrupted" in line] == [
        "tollwatch: interrupted during a tick; it runs again at the next start "
        "(nothing half-written is kept)"]
    # The tick cut short is not recorded: the next start runs it again.
    assert not (out / STATE_FILE).exists() or FollowState.load(str(out)).tick == 0


def test_a_first_ctrl_c_lets_the_tick_finish_without_a_traceback(tmp_path):
    follower = Follower(str(tmp_path), [], lambda *a: {})
    from tollwatch.pipeline.follow import stop_on_signals

    exits = []
    previous = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        stop_on_signals(follower, exit_now=exits.append)
        follower.in_tick = True
        os.kill(os.getpid(), signal.SIGINT)
        assert follower.stop.is_set() and exits == []
        os.kill(os.getpid(), signal.SIGINT)
        assert exits == [130]
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
