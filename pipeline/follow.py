"""`tollwatch follow`: the live mode on this machine's runner, as repeated bounded runs.

Beam 2.77's local runners cannot run an unbounded source as a stream (see the README), so every
tick (`--tick_seconds`, default 30) lists the watched folders and the due feeds, and runs the batch
flow of `tollwatch run` over what is new, into the same output folder. Between ticks the state
lives in the output folder:

- `_state/follow.json`: the tick number, the file cursor (path -> modification time and size of
  the version read, for the files still in the folders) and the cursors of the configured feeds
  (conditional-GET validators, seen entries), written atomically (a temporary file renamed over
  the old one), only after the tick's Parquet files are all in place, and only when it changed;
- the poll journal of the current tick (`_state/.ticks/<tick>/`: what its feeds gave), so that a
  tick killed after its poll runs again on the same entries;
- the near-duplicate signatures (`_state/signatures/`), so copies link to earlier ticks' stories;
- the toll, revised as a new pane when a tick changes a window's answer.

A tick's files are named after its number: a tick that is killed half-way runs again under the
same number and replaces what it had written. Ctrl-C (SIGINT) or SIGTERM ends the loop after
the current tick; a second Ctrl-C ends it at once.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from typing import Callable, Collection, NamedTuple, Optional, Sequence

from tollwatch.transforms.inputs.watch import FileVersion, changed_files

LOG = logging.getLogger("tollwatch")
STATE_FILE = os.path.join("_state", "follow.json")


class FollowState(NamedTuple):
    tick: int
    # path -> [mtime, size] of the version read
    files: dict
    # feed url -> FeedCursor JSON
    feeds: dict

    @classmethod
    def load(cls, output: str) -> "FollowState":
        path = os.path.join(output, STATE_FILE)
        if not os.path.exists(path):
            return cls(0, {}, {})
        with open(path, encoding="utf-8") as handle:
            doc = json.load(handle)
        return cls(int(doc["tick"]), dict(doc.get("files", {})), dict(doc.get("feeds", {})))

    def save(self, output: str) -> None:
        path = os.path.join(output, STATE_FILE)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temp = f"{path}.{os.getpid()}.tmp"
        with open(temp, "w", encoding="utf-8") as handle:
            # ASCII: a file name that is not UTF-8 is kept as its escaped surrogates.
            json.dump(self._asdict(), handle, separators=(",", ":"), sort_keys=True, ensure_ascii=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)

    def seen(self) -> dict[str, tuple[float, int]]:
        return {p: (float(v[0]), int(v[1])) for p, v in self.files.items()}


def list_files(patterns: Sequence[str]) -> list[FileVersion]:
    """The files the patterns match now (a missing folder matches nothing; dangling and looping
    links are listed, to become dead letters)."""
    from tollwatch.transforms.inputs.files import list_matches

    return [FileVersion.of(m) for m in list_matches(list(patterns))]


class TickResult(NamedTuple):
    tick: int
    files: int
    feeds: int
    seconds: float
    # feed url -> what its poll did ("fetched 12 entries: ...", "refused: ...", "down: ...")
    outcomes: dict = {}


class Follower:
    """Runs ticks. `run_tick(state, new_files, due_feeds, key)` runs the pipeline of one tick and
    returns the feed cursors after it (url -> JSON); `feeds_due(state, now)` returns the feeds to
    poll now. Both are injected so that the loop is tested without Beam."""

    def __init__(self, output: str, watch: Sequence[str],
                 run_tick: Callable[[FollowState, list, list, str], dict],
                 feeds_due: Callable[[FollowState, float], list] = lambda state, now: [],
                 settle_seconds: float = 1.0, clock: Callable[[], float] = time.time,
                 feed_urls: Optional[Collection[str]] = None):
        self._output = output
        self._feed_urls = None if feed_urls is None else frozenset(feed_urls)
        self._watch = list(watch)
        self._run_tick = run_tick
        self._feeds_due = feeds_due
        self._settle = settle_seconds
        self._clock = clock
        self.stop = threading.Event()
        self.in_tick = False  # what a Ctrl-C interrupts

    def tick(self) -> Optional[TickResult]:
        """One tick: None if there was nothing new."""
        state = FollowState.load(self._output)
        now = self._clock()
        listing = list_files(self._watch) if self._watch else []
        new_files = changed_files(listing, state.seen(), now, self._settle)
        due = self._feeds_due(state, now)
        # The state keeps the files still there and the feeds still configured, nothing more: it
        # is read and written every tick, so it must not grow with every file ever dropped.
        listed = {v.path for v in listing}
        files = {p: v for p, v in state.files.items() if p in listed}
        feeds = dict(state.feeds) if self._feed_urls is None else {
            url: cursor for url, cursor in state.feeds.items() if url in self._feed_urls}
        if not new_files and not due:
            if files != state.files or feeds != state.feeds:
                FollowState(state.tick, files, feeds).save(self._output)
            return None
        started = time.monotonic()
        number = state.tick + 1
        cursors = self._run_tick(state, new_files, due, f"t{number:07d}")
        files.update({v.path: [v.mtime, v.size] for v in new_files})
        feeds.update(cursors)
        FollowState(number, files, feeds).save(self._output)
        outcomes = {url: doc.get("outcome") or "polled" for url, doc in cursors.items()}
        return TickResult(number, len(new_files), len(due), round(time.monotonic() - started, 1),
                          outcomes)

    def run(self, tick_seconds: float, max_ticks: Optional[int] = None,
            report: Callable[[Optional[TickResult]], None] = lambda r: None) -> int:
        """Ticks until stopped (or `max_ticks` ticks, counting idle ones); returns the ticks run."""
        done = 0
        while not self.stop.is_set() and (max_ticks is None or done < max_ticks):
            began = time.monotonic()
            self.in_tick = True
            try:
                result = self.tick()
            finally:
                self.in_tick = False
            report(result)
            done += 1
            if max_ticks is not None and done >= max_ticks:
                break
            self.stop.wait(max(0.0, tick_seconds - (time.monotonic() - began)))
        return done


def stop_on_signals(follower: Follower, exit_now: Callable[[int], None] = os._exit) -> None:
    """SIGINT and SIGTERM end the loop after the current tick, saying so; a second SIGINT ends
    the process at once with one line. The tick cut short left whole files only (they are moved
    into place whole) and its state is not saved, so the next start runs it again under its
    number and replaces what it wrote."""

    def handler(signum, _frame):
        if follower.stop.is_set() and signum == signal.SIGINT:
            # Not KeyboardInterrupt: Beam's runner threads would print its traceback, or keep
            # the process alive until the stage ends.
            os.write(2, b"\ntollwatch: interrupted during a tick; it runs again at the next "
                        b"start (nothing half-written is kept)\n")
            exit_now(130)
            return
        if follower.in_tick:
            LOG.warning("stopping after the current tick (Ctrl-C again to stop at once)")
        follower.stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
