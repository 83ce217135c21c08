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
import shutil
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


# ----------------------------------------------------------------------------------------------
# The pipelines of a tick
# ----------------------------------------------------------------------------------------------
def tick_runner(output: str, roots: Sequence[str], options_of: Callable[[], object],
                poll_sources: Callable, after_tick: Callable[[str, float], None]):
    """The `run_tick` of a Follower: one tick's pipeline, `build` (the batch flow of `tollwatch
    run`) over the tick's new files and what its feed polls gave (`poll_sources`, from
    `feed_hooks`), keyed by the tick's number; `after_tick(output, started_at)` cleans up."""

    def run_tick(state: FollowState, new_files: list, due_feeds: list, key: str) -> dict:
        from apache_beam.utils.timestamp import Timestamp

        from tollwatch.pipeline.build import build
        from tollwatch.pipeline.options import TollwatchOptions
        from tollwatch.pipeline.runner import make_pipeline

        tick_started = time.time()
        options = options_of()
        pipeline = make_pipeline(options)
        extra, collect = poll_sources(pipeline, options, state, due_feeds, key)
        # The files as listed, confined to the watched folders: no match per file, no root per file.
        build(pipeline, options.view_as(TollwatchOptions), [], now=Timestamp.now(), key=key,
              expected_files=len(new_files), extra_sources=extra,
              files=[(v.path, v.size, v.mtime) for v in new_files], roots=roots)
        pipeline.run().wait_until_finish()
        after_tick(output, tick_started)
        return collect()

    return run_tick


def feeds_of(live) -> list:
    """The feeds of --feeds FILE and --feed URL (LiveOptions): the same for `follow` and for
    `run --streaming`."""
    from tollwatch.transforms.inputs.feeds import load_feeds, merge_feeds

    return merge_feeds(load_feeds(live.feeds) if live.feeds else [], live.feed or [])


def fetch_policy(live):
    from tollwatch.transforms.inputs.fetch import FetchPolicy

    return FetchPolicy(timeout=live.fetch_timeout_seconds,
                       allow_private_hosts=bool(live.allow_private_hosts),
                       allowed_networks=tuple(live.allow_network or ())).validate()


def poll_limits(live):
    from tollwatch.transforms.inputs.feeds import PollLimits

    return PollLimits(max_fetch_seconds=live.max_fetch_seconds).validate()


def feed_hooks(live, output: str):
    """(feeds_due, poll_sources) for follow: which feeds to poll in a tick, and the pipeline
    source that reads what they gave and hands their cursors back after the run.

    A tick polls first, in a pipeline of its own, into a journal (`_state/.ticks/<tick>/`: the raw
    documents, dead letters and cursors of the poll, then a `POLLED` mark), and its main pipeline
    reads the journal. A tick killed after its poll runs again from the journal: a feed that
    rotated its entries in between cannot replace what the killed tick had written with other
    entries. A journal is removed when a tick of another number starts (its own tick's state was
    saved, or it never will be)."""
    if not live.feeds and not live.feed:
        return (lambda state, now: []), (lambda pipeline, options, state, due, key: ([], dict))
    import glob

    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.pipeline.runner import make_pipeline
    from tollwatch.transforms.inputs.feeds import FeedCursor

    feeds, policy, limits = feeds_of(live), fetch_policy(live), poll_limits(live)
    ticks = os.path.join(output, "_state", ".ticks")

    def cursors_of(state) -> dict:
        return {url: FeedCursor.from_json(doc) for url, doc in state.feeds.items()}

    def feeds_due(state, now: float) -> list:
        cursors = cursors_of(state)
        return [f for f in feeds
                if (cursors.get(f.url) or FeedCursor(f.url)).due(f, Timestamp(now))]

    def poll_sources(pipeline, options, state, due, key):
        if not due:
            return [], dict
        for stale in glob.glob(os.path.join(ticks, "*")):
            if os.path.basename(stale) != key:
                shutil.rmtree(stale, ignore_errors=True)
        folder = os.path.join(ticks, key)
        polled_mark = os.path.join(folder, "POLLED")
        if os.path.exists(polled_mark):
            LOG.info("tick %s runs again from the poll journal of its killed run", key)
        else:
            shutil.rmtree(folder, ignore_errors=True)
            poll = make_pipeline(options)
            cursors = cursors_of(state)
            journal_poll(poll, [(f, cursors.get(f.url)) for f in due], policy, limits, folder)
            poll.run().wait_until_finish()
            with open(polled_mark + ".tmp", "w", encoding="utf-8") as handle:
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(polled_mark + ".tmp", polled_mark)

        def collect() -> dict:
            found = {}
            for path in sorted(glob.glob(os.path.join(folder, "cursors*.jsonl"))):
                with open(path, encoding="utf-8") as handle:
                    for line in handle:
                        doc = json.loads(line)
                        found[doc["url"]] = doc
            return found

        return [read_journal(pipeline, folder)], collect

    return feeds_due, poll_sources


def journal_poll(pipeline, due: list, policy, limits, folder: str) -> None:
    """Adds to `pipeline` the poll of the `due` (feed, cursor) pairs, written to `folder`: each
    record as its Beam coding in base64, one per line; the cursors as JSON lines."""
    import base64

    import apache_beam as beam

    from tollwatch.schemas import DeadLetter, RawDoc
    from tollwatch.transforms.inputs.feeds import PollFeeds

    polled = (pipeline
              | "FeedsDue" >> beam.Create(due)
              | "PollFeeds" >> PollFeeds(policy, limits,
                                         deadline=time.time() + limits.max_fetch_seconds))
    for name, record_type in (("raw_docs", RawDoc), ("dead_letters", DeadLetter)):
        coder = beam.coders.registry.get_coder(record_type)
        (polled[name]
         | f"Encode{name}" >> beam.Map(
             lambda r, c=coder: base64.b64encode(c.encode(r)).decode("ascii"))
         | f"Journal{name}" >> beam.io.WriteToText(os.path.join(folder, name),
                                                   file_name_suffix=".b64"))
    (polled["cursors"]
     | "CursorJson" >> beam.Map(lambda c: json.dumps(c.to_json(), ensure_ascii=False))
     | "KeepCursors" >> beam.io.WriteToText(os.path.join(folder, "cursors"),
                                            file_name_suffix=".jsonl"))


def read_journal(pipeline, folder: str) -> dict:
    """{'raw_docs', 'dead_letters'} of a tick's poll journal (see journal_poll)."""
    import base64
    import glob

    import apache_beam as beam

    from tollwatch.schemas import DeadLetter, RawDoc

    out = {}
    for name, record_type in (("raw_docs", RawDoc), ("dead_letters", DeadLetter)):
        coder = beam.coders.registry.get_coder(record_type)
        files = sorted(glob.glob(os.path.join(glob.escape(folder), f"{name}*.b64")))
        lines = (pipeline | f"Journaled{name}" >> beam.Create(files)
                 | f"Read{name}" >> beam.io.ReadAllFromText())
        out[name] = lines | f"Decode{name}" >> beam.Map(
            lambda line, c=coder: c.decode(base64.b64decode(line))).with_output_types(record_type)
    return out
