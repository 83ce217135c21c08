"""tollwatch's benchmark suite: one run, one report (`make bench`, or `make bench-quick` for a check).

    .venv/bin/python benchmarks/bench.py [--quick] [--sizes 1000,10000,100000] [--budget-minutes 20]

For each size it generates a corpus (benchmarks/corpus.py: seeded, so every run reads the same bytes)
and measures, in this one run and on the same documents:

- **end to end**: `tollwatch run` on DirectRunner's FnApiRunner in multi-process mode with 2 workers
  (`--direct_running_mode=multi_processing --direct_num_workers=2`): wall time, documents per second,
  peak memory as the sum of the resident set sizes of the whole process tree (driver and worker
  subprocesses, sampled every 0.2 s with psutil), CPU seconds per process, and the rows written;
- **the floor**: a plain loop over the same files that does only what no pipeline can skip: read each
  file, `trafilatura.bare_extraction` on each HTML page (with the arguments the pipeline uses), feedparser
  on each feed, decoding each text file. Once spread over 2 processes (the pipeline's parallelism)
  and once in one process (the floor per core). A floor runs on every file, or on a sample
  (`sample_files`: formats and sizes in proportion) scaled to all files, and the report says which:
  the 1-process floor on `--floor1-files` files, the 2-process floor on `--floor2-files` files above
  `--sample-floors-above` documents (the 100k corpus: its full floors would not fit in 20 minutes).
  The 2-process floor runs half its files just before the end-to-end run and half just after, and
  adds the two, so that the two measurements a ratio divides see the same machine: its speed drifts
  over minutes, and each side reads half the files from disk (the first half cold, the end-to-end
  run the other half; the second half finds them cached);
- **the ratios**: end-to-end wall time / floor wall time in 2 processes (same cores, same parallelism:
  the target is at most 1.5; the headline is the largest size whose floor ran on every file), and
  growth between the two largest sizes (time per document and peak memory; linear time gives a
  time-per-document ratio of 1.0, flat memory a memory ratio near 1.0).

Right after the headline size, on its corpus, **each stage alone** (extract, strip repeats, assign
events, exact duplicates, near duplicates, claims, toll, Parquet write; the first `--stage-files`
files, in one process) in documents per second, and the **peer** for the near-duplicate stage:
datasketch MinHash + LSH on the same texts (benchmarks/bench_dedup.py's engines, each in a fresh
process). Larger sizes come after them, so a larger size skipped, failed or interrupted (Ctrl-C)
still leaves a complete report of the smaller ones.

A size whose floors and end-to-end run would not fit in what is left of `--budget-minutes` (projected
from the size before it, step by step) is not run, and the report says so with the projection.
Generating a corpus is not counted in the budget (corpora are cached in `--work`).

Writes BENCHMARKS.md and BENCHMARKS.json at the top of the repository (`--report` to change).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402  (benchmarks/ is not a package)

EXTRAS_S = 75  # kept for the stages alone and the peers while they are ahead (~50 s at 10k)
END_S = 10  # kept for the report
E2E_FIXED_S = 8  # start-up of an end-to-end run (workers, imports), not proportional to its size
E2E_FLAGS = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
TARGETS = {"end_to_end_over_floor": 1.5, "dedup_speedup_over_datasketch": 3.0,
           "memory_growth": 1.5}


# ---- machine ------------------------------------------------------------------------------------
def machine() -> dict:
    import psutil

    model = platform.processor()
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": model,
            "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "os": platform.platform(), "python": platform.python_version()}


def versions() -> dict:
    from importlib.metadata import version

    out = {}
    for name in ("apache-beam", "trafilatura", "pyarrow", "lxml", "numpy", "feedparser", "duckdb",
                 "datasketch", "psutil"):
        try:
            out[name] = version(name)
        except Exception:  # not installed
            out[name] = None
    try:
        out["tollwatch_commit"] = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
            text=True, check=True).stdout.strip()
    except Exception:
        out["tollwatch_commit"] = None
    return out


# ---- process-tree sampling ----------------------------------------------------------------------

def tree_pids(root: int) -> list[int]:
    """`root` and its descendants, from each thread's /proc children list (psutil's children()
    reads the stat file of every process on the machine: ~4 ms a sample; it is the fallback on a
    kernel without the children list)."""
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                    todo.extend(int(x) for x in handle.read().split())
            except FileNotFoundError:
                if not os.path.exists(f"/proc/{pid}/task/{task}/children"):  # kernel without it
                    import psutil

                    return [root] + [p.pid for p in psutil.Process(root).children(recursive=True)]
            except OSError:
                pass
    return pids


class TreeSampler(threading.Thread):
    """Samples a process and all its descendants every `interval` seconds: the peak of their summed
    RSS, and each process's last seen CPU time (user + system). Its own CPU time is kept
    (`cpu_s`): it is paid on the same cores as the run it measures."""

    def __init__(self, pid: int, interval: float = 0.2):
        import psutil

        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_rss = 0
        self.peak_processes = 0
        self.samples = 0
        self.cpu_s = 0.0
        self.cpu: dict[int, tuple[str, float]] = {}
        self._procs: dict = {}  # pid -> (psutil.Process, role once known): command lines read once
        self._halt = threading.Event()

    def _role(self, proc) -> str:
        if proc.pid == self.root.pid:
            return "driver"
        return "worker" if "sdk_worker" in " ".join(proc.cmdline()) else proc.name()

    def _tree(self) -> list[int]:
        return tree_pids(self.root.pid)

    def run(self) -> None:
        import psutil

        pids: list[int] = []
        while not self._halt.is_set():
            t0 = time.thread_time()
            if self.samples % 5 == 0:  # the tree changes rarely (the workers start once): every 1 s
                pids = self._tree()
            total, n = 0, 0
            for pid in pids:
                try:
                    proc, role = self._procs.get(pid) or (psutil.Process(pid), None)
                    if role is None:  # a child seen between fork and exec has its parent's name: ask again
                        role = self._role(proc)
                        self._procs[pid] = (proc, role if role in ("driver", "worker") else None)
                    with proc.oneshot():
                        total += proc.memory_info().rss
                        times = proc.cpu_times()
                    self.cpu[proc.pid] = (role, times.user + times.system)
                    n += 1
                except psutil.Error:
                    pass
            if not self.root.is_running():
                return
            if total > self.peak_rss:
                self.peak_rss, self.peak_processes = total, n
            self.samples += 1
            self.cpu_s += time.thread_time() - t0
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def cpu_by_role(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for role, seconds in self.cpu.values():
            out[role] = round(out.get(role, 0.0) + seconds, 1)
        return out


# ---- end to end ---------------------------------------------------------------------------------
def table_rows(output: Path) -> dict[str, int]:
    import pyarrow.dataset as ds

    rows = {}
    for table in ("articles", "claims", "toll", "dead_letters"):
        folder = output / table
        rows[table] = ds.dataset(str(folder), format="parquet", partitioning="hive").count_rows() \
            if folder.is_dir() else 0
    return rows


def end_to_end(corpus_dir: Path, output: Path) -> dict:
    if output.exists():
        shutil.rmtree(output)
    command = [str(Path(sys.executable).parent / "tollwatch"), "-q", "run",
               "--input", str(corpus_dir / "input"), "--output", str(output),
               "--events", str(corpus_dir / "events.toml"),
               "--sources", str(corpus_dir / "sources.toml"), *E2E_FLAGS]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    try:
        out, err = proc.communicate()
    except BaseException:  # interrupted: leave no worker behind
        _kill_tree(proc.pid)
        raise
    finally:
        wall = time.perf_counter() - started
        sampler.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"tollwatch run failed ({proc.returncode}): {err[-3000:]}")
    return {"command": " ".join(command), "wall_s": round(wall, 2),
            "peak_rss_mb": round(sampler.peak_rss / 2**20), "processes_at_peak": sampler.peak_processes,
            "cpu_s": sampler.cpu_by_role(), "rows": table_rows(output), "summary": out.strip(),
            "sampler": {"interval_s": sampler.interval, "samples": sampler.samples,
                        "cpu_s": round(sampler.cpu_s, 2)}}


def _kill_tree(pid: int) -> None:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = root.children(recursive=True) + [root]
    except psutil.NoSuchProcess:
        return
    for proc in procs:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=10)


# ---- the floor ----------------------------------------------------------------------------------
def _floor_chunk(paths: list[str]) -> dict[str, list[float]]:
    """Read and parse each file as the floor does; (count, seconds) per format."""
    import feedparser
    from trafilatura import bare_extraction

    from tollwatch.transforms.extract import HTMLDATE_PARAMS

    out: dict[str, list[float]] = {}
    for path in paths:
        t0 = time.perf_counter()
        with open(path, "rb") as handle:
            data = handle.read()
        ext = os.path.splitext(path)[1]
        try:
            if ext == ".html":
                bare_extraction(data, with_metadata=True, include_comments=False, include_tables=False,
                                date_extraction_params=HTMLDATE_PARAMS)
                kind = "html"
            elif ext == ".xml":
                feedparser.parse(data)
                kind = "feed"
            elif ext == ".txt":
                data.decode("utf-8")
                kind = "text"
            else:
                kind = "other"
        except Exception:  # hostile files: the floor pays for the attempt, like the pipeline
            kind = "hostile"
        entry = out.setdefault(kind, [0, 0.0])
        entry[0] += 1
        entry[1] += time.perf_counter() - t0
    return out


def _warm(_=None) -> bool:
    import logging

    logging.getLogger().setLevel(logging.ERROR)  # Beam's import-time notes about optional clients
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)  # hostile files are expected to fail
    _floor_chunk([])
    import trafilatura  # noqa: F401  (imports are not the floor's work)

    return True


def corpus_files(corpus_dir: Path) -> list[str]:
    return sorted(str(p) for p in (corpus_dir / "input").rglob("*") if p.is_file())


def sample_files(files: list[tuple[str, int]], n: int) -> list[str]:
    """`n` of the `files` (path, bytes), each format (extension) and each size in proportion: the
    files ordered by extension, then size, then path, and one taken from the middle of every
    len(files)/n of them. The same files whatever order they are given in."""
    ordered = sorted(files, key=lambda f: (os.path.splitext(f[0])[1], f[1], f[0]))
    if n >= len(ordered):
        return [path for path, _ in ordered]
    step = len(ordered) / n
    return [ordered[int((j + 0.5) * step)][0] for j in range(n)]


def _floor_run(files: list[str], size_of: dict[str, int], processes: int) -> tuple[float, list]:
    """The wall time of `files` read and parsed in `processes` fresh, warmed processes (largest files
    dealt out first, alternately, so all get the same work), and each process's result."""
    files = sorted(files, key=lambda p: -size_of[p])
    chunks = [files[i::processes] for i in range(processes)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes) as pool:
        pool.map(_warm, range(processes))
        started = time.perf_counter()
        results = pool.map(_floor_chunk, chunks, chunksize=1)
        return time.perf_counter() - started, results


def floor(corpus_dir: Path, processes: int, sample: Optional[int] = None,
          between: Optional[Callable[[], None]] = None) -> dict:
    """The floor over every file of the corpus in `processes` processes. With `sample` (fewer than
    the corpus's files), over that many files (`sample_files`: formats and sizes in proportion), the
    wall time scaled up to all files: `sampled` in the result says so.

    With `between`, the files run in two halves (every other file in `sample_files`' order, so each
    half has the formats and sizes in proportion), and `between()` runs after the first: the wall
    time is the sum of the halves' (`halves_s`). Why: a floor measured on both sides of the run it
    is compared with sees the same machine. Its speed drifts over minutes, and the page cache
    favours whatever runs second: the first half reads its files from disk, the run in between
    reads the other half from disk, and the second half finds them cached."""
    every = [(path, os.path.getsize(path)) for path in corpus_files(corpus_dir)]
    chosen = sample_files(every, sample if sample and sample < len(every) else len(every))
    size_of = dict(every)
    parts = [chosen] if between is None else [chosen[0::2], chosen[1::2]]
    walls, results = [], []
    for i, part in enumerate(parts):
        if i:
            between()
        wall, part_results = _floor_run(part, size_of, processes)
        walls.append(wall)
        results += part_results
    wall = sum(walls)
    by_format: dict[str, list[float]] = {}
    for result in results:
        for kind, (n, seconds) in result.items():
            entry = by_format.setdefault(kind, [0, 0.0])
            entry[0] += n
            entry[1] += seconds
    html_n, html_s = by_format.get("html", (0, 0.0))
    sampled = None
    if len(chosen) < len(every):
        sampled = {"files_measured": len(chosen), "wall_s_measured": round(wall, 2),
                   "bytes_share": round(sum(size_of[p] for p in chosen) / sum(size_of.values()), 4)}
        wall *= len(every) / len(chosen)
    return {"processes": processes, "wall_s": round(wall, 2), "files": len(every), "sampled": sampled,
            "halves_s": [round(w, 2) for w in walls] if between else None,
            "by_format": {k: {"files": n, "cpu_s": round(s, 2)} for k, (n, s) in by_format.items()},
            "html_pages_per_s_per_process": round(html_n / html_s, 1) if html_s else None}


# ---- stages alone -------------------------------------------------------------------------------
def _stages_child(corpus_dir: str, limit: int, conn) -> None:
    _warm()
    conn.send(stages(Path(corpus_dir), limit))
    conn.close()


def stages(corpus_dir: Path, limit: int) -> dict:
    """Each stage's pure function over the articles of the corpus's first `limit` files, in this
    process: documents (articles) per second, fed stage to stage as in the pipeline."""
    import tempfile
    from collections import defaultdict

    import numpy as np
    import pyarrow.parquet as pq
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.schemas import Article, Claim, DeadLetter, RawDoc, to_arrow_table
    from tollwatch.transforms.duplicates.lsh import band_keys, first_shared_band
    from tollwatch.transforms.duplicates.minhash import MinHasher
    from tollwatch.transforms.duplicates.settings import BANDS, MIN_SHINGLES, NUM_PERM, TTL
    from tollwatch.transforms.duplicates.similarity import compare, make_signature, signature_of
    from tollwatch.transforms.duplicates.stories import apply_assignment, resolve_clusters
    from tollwatch.transforms.claims import extract_claims, load_sources, to_claim
    from tollwatch.transforms.events import EventMatcher, load_events
    from tollwatch.transforms.duplicates.exact import mark_exact_duplicates
    from tollwatch.transforms.extract import extract_articles
    from tollwatch.transforms.repeats import strip_repeated_passages
    from tollwatch.transforms.toll import bounded_toll

    now = Timestamp.now()
    files = corpus_files(corpus_dir)[:limit]
    raws = []
    for path in files:
        with open(path, "rb") as handle:
            raws.append(RawDoc(path, None, None, now, handle.read(), None,
                               Timestamp(os.path.getmtime(path))))
    out: dict[str, dict] = {}

    def timed(name: str, n: int, fn):
        t0 = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t0
        out[name] = {"documents": n, "seconds": round(seconds, 3),
                     "documents_per_s": round(n / seconds, 1) if seconds else None}
        return result

    extract_articles(raws[0])  # imports trafilatura and feedparser: not the stage's work
    results = timed("extract", len(raws), lambda: [r for raw in raws for r in extract_articles(raw)])
    articles = [a for a in results if isinstance(a, Article)]
    out["extract"]["articles"] = len(articles)
    out["extract"]["dead_letters"] = sum(isinstance(r, DeadLetter) for r in results)

    def strip():
        stripped = []
        for a in articles:
            text, removed = strip_repeated_passages(a.text)
            stripped.append(a if not removed else a._replace(text=text, n_repeats_removed=removed))
        return stripped

    articles = timed("strip_repeats", len(articles), strip)
    matcher = EventMatcher(load_events(str(corpus_dir / "events.toml")))
    articles = timed("assign_events", len(articles), lambda: [
        a._replace(event_ids=matcher.event_ids(a.title, a.text, a.published_at.to_utc_datetime(has_tz=True)))
        for a in articles])
    articles = timed("exact_duplicates", len(articles), lambda: mark_exact_duplicates(articles))

    hasher = MinHasher()
    make_signature("warm", Timestamp(0), "warm up the tables", hasher)

    def near():
        index: dict[bytes, list] = defaultdict(list)
        links = []
        for a in articles:
            if a.copy_kind == "exact":
                continue
            sig = signature_of(a, hasher)
            if sig.n_shingles < MIN_SHINGLES:
                continue
            mine = np.frombuffer(sig.minhash, dtype="<u4")
            for band, key in enumerate(band_keys(mine, BANDS)):
                for other in index[key]:
                    theirs = np.frombuffer(other.minhash, dtype="<u4")
                    if first_shared_band(mine, theirs, BANDS, NUM_PERM // BANDS) != band:
                        continue
                    if abs(other.published_at.micros - sig.published_at.micros) > TTL.micros:
                        continue
                    link = compare(sig, other)
                    if link is not None:
                        links.append(link)
                index[key].append(sig)
        assignments = resolve_clusters(links)
        return [apply_assignment(a, assignments.get(a.doc_id)) if a.copy_kind != "exact" else a
                for a in articles]

    articles = timed("near_duplicates", len(articles), near)
    sources = load_sources([str(corpus_dir / "sources.toml")])
    extract_claims(articles[0].text, None, sources)

    def claims():
        found = []
        for a in articles:
            for mention in extract_claims(a.text, a.published_at.to_utc_datetime(has_tz=True), sources, a.title):
                found.append(to_claim(a, mention))
        return found

    claim_rows = timed("claims", len(articles), claims)
    out["claims"]["claims"] = len(claim_rows)

    toll_rows = timed("toll", len(articles), lambda: bounded_toll(claim_rows, now))
    out["toll"]["rows"] = len(toll_rows)

    def write():
        with tempfile.TemporaryDirectory() as folder:
            pq.write_table(to_arrow_table(articles, Article), f"{folder}/a.parquet", compression="zstd")
            pq.write_table(to_arrow_table(claim_rows, Claim), f"{folder}/c.parquet", compression="zstd")

    timed("parquet_write", len(articles), write)
    return out


def in_child(fn, *args):
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=fn, args=(*args, child))
    proc.start()
    result = parent.recv()
    proc.join()
    return result


# ---- peers --------------------------------------------------------------------------------------
def article_texts(output: Path, limit: int) -> list[str]:
    """The texts of the articles an end-to-end run wrote (the pipeline's own extraction), in
    publication order."""
    import pyarrow.dataset as ds

    table = ds.dataset(str(output / "articles"), format="parquet", partitioning="hive").to_table(
        columns=["published_at", "doc_id", "text"])
    table = table.sort_by([("published_at", "ascending"), ("doc_id", "ascending")])
    return table.column("text").to_pylist()[:limit]


def peers(output: Path, limit: int) -> dict:
    """tollwatch's near-duplicate core against datasketch MinHash + LSH on the same article texts
    (those an end-to-end run extracted; signature + LSH index; each engine in a fresh process)."""
    import bench_dedup
    from tollwatch.transforms.duplicates.settings import BANDS, NUM_PERM, SKETCH_SIZE

    texts = article_texts(output, limit)
    rows = NUM_PERM // BANDS
    ours = bench_dedup.in_child(bench_dedup.run_tollwatch, texts, NUM_PERM, BANDS, rows,
                                SKETCH_SIZE)
    same = bench_dedup.in_child(bench_dedup.run_datasketch, texts, NUM_PERM, 1 / 3, (0.1, 0.9))
    common = bench_dedup.in_child(bench_dedup.run_datasketch, texts, 128, 0.5, (0.5, 0.5))
    out = {"documents": len(texts)}
    for name, r in (("tollwatch", ours), ("datasketch_same_banding", same),
                    ("datasketch_128_perm", common)):
        out[name] = {"num_perm": r["num_perm"], "bands": r["bands"], "rows": r["rows"],
                     "seconds": round(r["elapsed"], 3), "documents_per_s": round(len(texts) / r["elapsed"], 1),
                     "candidates": len(r["candidates"]), "peak_rss_mb": round(r["peak_rss_mb"])}
    out["speedup_same_banding"] = round(same["elapsed"] / ours["elapsed"], 2)
    out["speedup_128_perm"] = round(common["elapsed"] / ours["elapsed"], 2)
    return out


# ---- the run ------------------------------------------------------------------------------------
def projection(entry: dict, size: int, new_size: int, args: argparse.Namespace) -> dict[str, float]:
    """Seconds each step of the `new_size` run should take, from the measurements at `size`: each
    floor per file it will run on (a sample above --sample-floors-above), the end to end per
    document past its start-up, and each step's own start-up (pools, imports, row counts) as
    measured at `size`."""
    scale = new_size / size
    files = entry["floor_1"]["files"] * scale
    out = {}
    for key, sample in (("floor_1", args.floor1_files),
                        ("floor_2", args.floor2_files if new_size > args.sample_floors_above else None)):
        f = entry[key]
        measured_files = f["sampled"]["files_measured"] if f["sampled"] else f["files"]
        measured_wall = f["sampled"]["wall_s_measured"] if f["sampled"] else f["wall_s"]
        runs_on = min(files, sample) if sample else files
        out[key] = entry["step_s"][key] - measured_wall + measured_wall / measured_files * runs_on
    e2e = entry["e2e"]["wall_s"]
    out["e2e"] = entry["step_s"]["e2e"] - e2e + E2E_FIXED_S + (e2e - E2E_FIXED_S) * scale
    return {k: round(x, 1) for k, x in out.items()}


def ensure_corpus(spec: corpus.CorpusSpec, folder: Path) -> tuple[dict, float]:
    """The corpus for `spec` in `folder`, generated unless an identical one is there already."""
    manifest_path = folder / "manifest.json"
    fingerprint = corpus.fingerprint(spec)
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("fingerprint") == fingerprint:
            return manifest, 0.0
    if folder.exists():
        shutil.rmtree(folder)
    started = time.perf_counter()
    manifest = corpus.write(spec, folder)
    return manifest, round(time.perf_counter() - started, 1)


def measure(size: int, folder: Path, manifest: dict, args: argparse.Namespace) -> dict:
    """The floors and the end-to-end run on one corpus."""
    entry: dict = {"corpus": {k: v for k, v in manifest.items() if k not in ("spec",)}, "step_s": {}}

    def step(name: str, fn):
        t0 = time.monotonic()
        entry[name] = fn()
        entry["step_s"][name] = round(time.monotonic() - t0, 1)

    sampled = size > args.sample_floors_above
    print(f"[bench] floors {size:,}"
          + (f" (2 processes: {args.floor2_files:,} files, scaled)" if sampled else "")
          + "; the 2-process floor's second half after the end to end", flush=True)
    step("floor_1", lambda: floor(folder, 1, args.floor1_files))

    def run_end_to_end() -> None:
        print(f"[bench] end to end {size:,}", flush=True)
        step("e2e", lambda: end_to_end(folder, args.work / f"out-{size}"))

    step("floor_2", lambda: floor(folder, 2, args.floor2_files if sampled else None, between=run_end_to_end))
    entry["step_s"]["floor_2"] = round(entry["step_s"]["floor_2"] - entry["step_s"]["e2e"], 1)
    e2e = entry["e2e"]
    docs = manifest["documents"]
    e2e["documents_per_s"] = round(docs / e2e["wall_s"], 1)
    e2e["documents_per_s_per_core"] = round(docs / e2e["wall_s"] / 2, 1)
    entry["ratio_e2e_over_floor_2"] = round(e2e["wall_s"] / entry["floor_2"]["wall_s"], 2)
    entry["ratio_e2e_cores_over_floor_1"] = round(2 * e2e["wall_s"] / entry["floor_1"]["wall_s"], 2)
    return entry


def extras(report: dict, size: int, args: argparse.Namespace) -> None:
    """The stages alone and the dedup peers, on the corpus and the end-to-end output of `size`."""
    t0 = time.monotonic()
    print(f"[bench] stages alone ({args.stage_files} files of the {size:,} corpus)", flush=True)
    report["stages"] = {"corpus": size, "files": args.stage_files,
                        "results": in_child(_stages_child, str(args.work / f"corpus-{size}"), args.stage_files)}
    print(f"[bench] dedup peers ({args.peer_articles} articles of the {size:,} run)", flush=True)
    report["peers"] = peers(args.work / f"out-{size}", args.peer_articles)
    report["extras_s"] = round(time.monotonic() - t0, 1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a ~2-minute check: sizes 200 and 1000, small stage and peer samples")
    parser.add_argument("--sizes", default=None, help="documents per corpus, comma-separated "
                        "(default 1000,10000,100000; --quick: 200,1000)")
    parser.add_argument("--budget-minutes", type=float, default=20.0,
                        help="skip a size whose projected floors and end-to-end run do not fit in "
                             "what is left (default 20; corpus generation is not counted)")
    parser.add_argument("--stage-files", type=int, default=None,
                        help="files of the headline corpus for the stages alone (default 500)")
    parser.add_argument("--peer-articles", type=int, default=None,
                        help="articles the dedup peers compare (default 10000)")
    parser.add_argument("--floor1-files", type=int, default=500,
                        help="the 1-process floor runs on this many files (formats and sizes in "
                             "proportion) when the corpus has more, scaled to all files (default 500)")
    parser.add_argument("--sample-floors-above", type=int, default=10000,
                        help="sizes above this run the 2-process floor (the ratio's) on a sample of "
                             "--floor2-files files, scaled to all files; sizes up to it run it on "
                             "every file, and the largest of them is the headline (default 10000)")
    parser.add_argument("--floor2-files", type=int, default=2000,
                        help="files of the 2-process floor's sample above --sample-floors-above "
                             "(default 2000)")
    parser.add_argument("--work", type=Path, default=ROOT / ".bench", help="corpora and outputs")
    parser.add_argument("--report", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--from-json", type=Path, default=None,
                        help="only render the report again from a run's JSON (no measurement)")
    args = parser.parse_args(argv)
    if args.from_json:
        report = json.loads(args.from_json.read_text())
        for key in ("sizes", "skipped", "failed"):
            report[key] = {int(k): v for k, v in report.get(key, {}).items()}
        args.report.write_text(render(report), encoding="utf-8")
        return 0
    sizes = sorted(int(s) for s in (args.sizes or ("200,1000" if args.quick else "1000,10000,100000")).split(","))
    args.stage_files = args.stage_files or (300 if args.quick else 500)
    args.peer_articles = args.peer_articles or (1000 if args.quick else 10000)
    # The headline: the largest size whose floors run on every file. The stages alone and the peers
    # run right after it, before any larger size, so that a larger size skipped, failed or
    # interrupted still leaves a complete report.
    headline = max((x for x in sizes if x <= args.sample_floors_above), default=sizes[0])
    started = time.monotonic()
    generating = 0.0  # corpus generation: a fresh machine pays it once, the budget does not
    args.work.mkdir(parents=True, exist_ok=True)

    report: dict = {"command": " ".join([Path(sys.executable).name, *sys.argv]),
                    "machine": machine(), "versions": versions(),
                    "load_average_start": [round(x, 2) for x in os.getloadavg()],
                    "started_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                    "e2e_flags": E2E_FLAGS, "budget_minutes": args.budget_minutes, "headline": headline,
                    "floor_samples": {"floor1_files": args.floor1_files, "floor2_files": args.floor2_files,
                                      "sample_floors_above": args.sample_floors_above},
                    "sizes": {}, "skipped": {}, "failed": {}}
    measured: list[int] = []
    try:
        for size in sizes:
            spent = time.monotonic() - started - generating
            reserve = END_S + (0 if "stages" in report else EXTRAS_S)
            left = args.budget_minutes * 60 - spent - reserve
            projected = projection(report["sizes"][measured[-1]], measured[-1], size, args) if measured else None
            if projected and sum(projected.values()) > left:
                report["skipped"][size] = (
                    f"projected {sum(projected.values()):.0f} s (floors {projected['floor_1'] + projected['floor_2']:.0f}, "
                    f"end to end {projected['e2e']:.0f}, from the {measured[-1]:,}-document run); "
                    f"{max(0, left):.0f} s of the {args.budget_minutes:g}-minute budget left"
                    + (" (after the stages alone and the peers)" if "stages" not in report else ""))
                print(f"[bench] skip {size:,}: {report['skipped'][size]}", flush=True)
                continue
            folder = args.work / f"corpus-{size}"
            print(f"[bench] corpus {size:,}", flush=True)
            t0 = time.monotonic()
            manifest, generated = ensure_corpus(corpus.CorpusSpec(size), folder)
            generating += time.monotonic() - t0 if generated else 0.0
            try:
                entry = measure(size, folder, manifest, args)
            except Exception as exc:  # a larger size failing must not cost the smaller ones' report
                report["failed"][size] = f"{type(exc).__name__}: {str(exc)[-500:]}"
                print(f"[bench] {size:,} failed: {report['failed'][size]}", flush=True)
                continue
            entry["generated_s"] = generated
            entry["projected_s"] = projected and {"from": measured[-1], **projected}
            report["sizes"][size] = entry
            measured.append(size)
            print(f"[bench] {size:,}: e2e {entry['e2e']['wall_s']} s, floor(2) {entry['floor_2']['wall_s']} s, "
                  f"peak {entry['e2e']['peak_rss_mb']} MB; steps {entry['step_s']}"
                  + (f", projected {projected}" if projected else ""), flush=True)
            if "stages" not in report and size >= headline:
                extras(report, size, args)
    except KeyboardInterrupt:
        size = next(x for x in sizes if x not in report["sizes"] and x not in report["skipped"])
        report["failed"][size] = "interrupted"
        print(f"[bench] interrupted during {size:,}: writing the report of the sizes done", flush=True)
    if not measured:
        print("[bench] no size measured: no report", flush=True)
        return 1
    if "stages" not in report:
        extras(report, measured[-1], args)

    if len(measured) >= 2:
        a, b = report["sizes"][measured[-2]], report["sizes"][measured[-1]]
        report["growth"] = {
            "from": measured[-2], "to": measured[-1],
            "documents_ratio": round(measured[-1] / measured[-2], 2),
            "time_per_document_ratio": round((b["e2e"]["wall_s"] / measured[-1]) /
                                             (a["e2e"]["wall_s"] / measured[-2]), 2),
            "memory_ratio": round(b["e2e"]["peak_rss_mb"] / a["e2e"]["peak_rss_mb"], 2)}
    report["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    report["generation_s"] = round(generating, 1)
    report["total_s"] = round(time.monotonic() - started - generating, 1)

    args.report.write_text(render(report), encoding="utf-8")
    args.report.with_suffix(".json").write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    print(f"[bench] wrote {args.report} and {args.report.with_suffix('.json')}: measured in "
          f"{report['total_s']} s, corpora generated in {report['generation_s']} s")
    return 0


# ---- the report ---------------------------------------------------------------------------------
def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def render(r: dict) -> str:
    m, v = r["machine"], r["versions"]
    lines = ["# tollwatch benchmarks", "",
             "Generated by `make bench` (benchmarks/bench.py) in one run; every figure below comes from "
             "that run. Do not edit by hand: rerun. How to read it and what the profile says: "
             "[benchmarks/README.md](benchmarks/README.md).", "",
             f"- command: `{r['command']}`, started {r['started_at']}, measured in {r['total_s']} s "
             f"(budget {r.get('budget_minutes', 20):g} minutes)"
             + (f"; corpora generated first in {r['generation_s']} s (not counted: cached in the work "
                "folder after the first run)" if r.get("generation_s") else "; corpora cached from an earlier run"),
             f"- machine: {m['cores']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, {m['os']}; "
             f"load average at start {r['load_average_start']}, at end {r['load_average_end']} "
             "(the cores are shared with other work: compare ratios within this run)",
             f"- versions: Python {m['python']}, " + ", ".join(f"{k} {x}" for k, x in v.items() if x),
             f"- end to end: `tollwatch run ... {' '.join(r['e2e_flags'])}`", ""]
    sizes = r["sizes"]
    lines += ["## Corpora", "",
              "| documents | files | HTML pages (avg KiB) | text files | feed entries | hostile | stories | copies | MiB |",
              "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for size, e in sizes.items():
        c = e["corpus"]
        f = c["by_format"]
        html_kib = c["html_bytes"] / max(1, c["html_files"]) / 1024
        lines.append(f"| {c['documents']:,} | {c['files']:,} | {f.get('html', 0):,} ({html_kib:.0f}) | "
                     f"{f.get('text', 0):,} | {f.get('feed', 0):,} | {f.get('hostile', 0):,} | "
                     f"{c['stories']:,} | {c['by_kind'].get('copy', 0):,} | {c['bytes'] / 2**20:,.0f} |")
    lines += ["", "## End to end, and the floor", "",
              "Floor: the same files read and parsed by a plain loop (trafilatura `bare_extraction` for "
              "HTML, feedparser for feeds, UTF-8 decoding for text), in 1 process and spread over 2. "
              "**Ratio** = end-to-end wall time / floor wall time in 2 processes (both use the 2 cores; "
              f"target <= {TARGETS['end_to_end_over_floor']}). Per core = 2 x end-to-end wall time / floor "
              "wall time in 1 process.", "",
              "| documents | e2e s | docs/s | docs/s per core | peak RSS MB (processes) | CPU s | floor 1 proc s | floor 2 proc s | HTML pages/s per core (floor) | ratio | per core | rows: articles, claims, toll, dead letters |",
              "| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for size, e in sizes.items():
        x = e["e2e"]
        rows = x["rows"]
        cpu = ", ".join(f"{k} {s}" for k, s in x["cpu_s"].items() if s)
        lines.append(
            f"| {size:,} | {x['wall_s']} | {x['documents_per_s']} | {x['documents_per_s_per_core']} | "
            f"{x['peak_rss_mb']:,} ({x['processes_at_peak']}) | {cpu} | {e['floor_1']['wall_s']}"
            f"{'*' if e['floor_1'].get('sampled') else ''} | "
            f"{e['floor_2']['wall_s']}{'*' if e['floor_2'].get('sampled') else ''} | "
            f"{e['floor_1']['html_pages_per_s_per_process']} | "
            + (f"**{e['ratio_e2e_over_floor_2']}** | " if not e["floor_2"].get("sampled") else
               f"{e['ratio_e2e_over_floor_2']}* (scaled floor) | ")
            + f"{e['ratio_e2e_cores_over_floor_1']} | "
            f"{rows['articles']:,}, {rows['claims']:,}, {rows['toll']:,}, {rows['dead_letters']:,} |")
    for size, why in r["skipped"].items():
        lines.append(f"| {int(size):,} | not run: {why} | | | | | | | | | | |")
    for size, why in r.get("failed", {}).items():
        lines.append(f"| {int(size):,} | failed: {why} | | | | | | | | | | |")
    notes = []
    for size, e in sizes.items():
        for key, what in (("floor_1", "the 1-process floor"), ("floor_2", "the 2-process floor (the ratio's)")):
            x = e[key].get("sampled")
            if x:
                notes.append(f"{size:,} documents: {what} ran on a sample of {x['files_measured']:,} of "
                             f"{e[key]['files']:,} files ({100 * x['bytes_share']:.1f}% of the bytes; formats "
                             f"and sizes in proportion), {x['wall_s_measured']} s, scaled to all files")
        halves = e["floor_2"].get("halves_s")
        when = (f" in two halves, one just before the end-to-end run ({halves[0]} s) and one just after "
                f"it ({halves[1]} s)" if halves else "")
        if not e["floor_2"].get("sampled"):
            notes.append(f"{size:,} documents: the 2-process floor ran on every file"
                         + (f",{when}" if when else ""))
        elif when:
            notes.append(f"{size:,} documents: the 2-process floor's sample ran{when}")
    if notes:
        lines += ["", "\\* " + "; ".join(notes) + ". A ratio marked * divides by a scaled floor; the "
                  f"headline ratio is that of {r.get('headline', 0):,} documents, whose 2-process floor "
                  "ran on every file."]
    g = r.get("growth")
    if g:
        lines += ["", f"Growth from {g['from']:,} to {g['to']:,} documents ({g['documents_ratio']}x): time per "
                  f"document x{g['time_per_document_ratio']} (linear time: 1.0), peak memory "
                  f"x{g['memory_ratio']} (target <= {TARGETS['memory_growth']})."]
    b = [f"| {size:,} | {e['generated_s'] or 'cached'} | "
         + (f"{sum(v for k, v in e['projected_s'].items() if k != 'from'):.0f} (from {e['projected_s']['from']:,}) | "
            if e.get("projected_s") else "| ")
         + f"{sum(e['step_s'].values()):.0f} | {e['step_s']['floor_1']} | {e['step_s']['floor_2']} | "
         f"{e['step_s']['e2e']} | {e['e2e'].get('sampler', {}).get('cpu_s', '')} |"
         for size, e in sizes.items() if "step_s" in e]
    if b:
        lines += ["", "## Budget", "",
                  f"What each size cost in this run, against the projection that let it run (from the size "
                  f"before it; a size is run only if the projection fits in what is left of the "
                  f"{r.get('budget_minutes', 20):g} minutes). Corpus generation is not counted. The stages "
                  f"alone and the peers took {r.get('extras_s', '?')} s. The memory sampler (every 0.2 s, "
                  "the whole process tree) costs the CPU seconds in the last column.", "",
                  "| documents | corpus generated s | projected s | measured s | floor 1 proc s | floor 2 proc s | end to end s | sampler CPU s |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", *b]
    s = r["stages"]
    results = s["results"]
    slowest = min((k for k in results if results[k]["documents_per_s"]), key=lambda k: results[k]["documents_per_s"])
    total = sum(x["seconds"] for x in results.values())
    lines += ["", f"## Each stage alone", "",
              f"The pure function of each stage over the articles of the first "
              f"{results['extract']['documents']:,} files of "
              f"the {s['corpus']:,}-document corpus, one process, stage to stage as in the pipeline "
              "(extract counts files, the others articles). No Beam: what a stage costs before "
              "the runner moves its data.", "",
              "| stage | documents | seconds | documents/s | share |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, x in results.items():
        mark = " (slowest)" if name == slowest else ""
        lines.append(f"| {name}{mark} | {x['documents']:,} | {x['seconds']} | {x['documents_per_s']:,} | "
                     f"{100 * x['seconds'] / total:.0f}% |")
    p = r["peers"]
    lines += ["", "## Near duplicates against datasketch", "",
              f"Signature + LSH index over the same {p['documents']:,} article texts (the end-to-end run's), each engine in a "
              "fresh process (benchmarks/bench_dedup.py's engines; candidate confirmation excluded).", "",
              "| engine | num_perm | bands x rows | seconds | documents/s | candidates | peak RSS MB |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name in ("tollwatch", "datasketch_same_banding", "datasketch_128_perm"):
        x = p[name]
        lines.append(f"| {name} | {x['num_perm']} | {x['bands']} x {x['rows']} | {x['seconds']} | "
                     f"{x['documents_per_s']:,} | {x['candidates']:,} | {x['peak_rss_mb']} |")
    lines += ["", f"Speed-up: {p['speedup_same_banding']}x over datasketch with the same banding, "
              f"{p['speedup_128_perm']}x over datasketch's common setting (128 permutations)."]

    last = sizes[max(sizes, key=int)] if sizes else None
    lines += ["", "## Targets", "", "| target | measured | verdict |", "| --- | --- | --- |"]
    if last:
        head = r.get("headline", max(sizes))
        head = head if head in sizes else max(sizes)
        ratios = ", ".join(f"{size:,}: {e['ratio_e2e_over_floor_2']}" + ("*" if e["floor_2"].get("sampled") else "")
                           for size, e in sizes.items())
        ratio = sizes[head]["ratio_e2e_over_floor_2"]
        lines.append(f"| end to end <= {TARGETS['end_to_end_over_floor']}x the floor (2 processes), "
                     f"at {head:,} documents (floor on every file) | {ratios} | "
                     f"{_verdict(ratio <= TARGETS['end_to_end_over_floor'])} |")
    lines.append(f"| dedup >= {TARGETS['dedup_speedup_over_datasketch']}x faster than datasketch | "
                 f"{p['speedup_same_banding']}x (same banding), {p['speedup_128_perm']}x (128 perm) | "
                 f"{_verdict(p['speedup_same_banding'] >= TARGETS['dedup_speedup_over_datasketch'])} |")
    if g:
        big = g["to"] >= 100_000 and g["from"] >= 10_000
        note = "" if big else f" (measured {g['from']:,} -> {g['to']:,}, not 10k -> 100k)"
        lines.append(f"| peak memory at 100k <= {TARGETS['memory_growth']}x that at 10k | x{g['memory_ratio']}{note} | "
                     f"{_verdict(big and g['memory_ratio'] <= TARGETS['memory_growth'])} |")
    else:
        lines.append(f"| peak memory at 100k <= {TARGETS['memory_growth']}x that at 10k | not measured | **not met** |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
