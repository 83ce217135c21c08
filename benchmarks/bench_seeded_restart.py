"""What seeding a restarted stream's copy state costs and finds (duplicates/state.py SeedSignatures).

Given a batch output (e.g. the 10k bench's, read only) and its corpus, N files of the corpus are
read again under new names with a line of their own (new articles, copies of stories the output
holds) by the streaming graph on the local runner, bounded, into a copy of the output: with its
signatures (the seeded stream) and without them (the stream as it was). Rounds alternate; reported
per round: CPU seconds of the process and its workers, the articles marked copies, and how many of
them link to a stored canonical. With `--load-only`: what a worker process spends loading the
seeds (``StoredSeeds``) and indexing them (``SeedIndex``), CPU seconds per round, and the memory
they hold (tracemalloc, in a round of its own: it slows what it traces).

    .venv/bin/python benchmarks/bench_seeded_restart.py /work/wt-merge/.bench/out-10000 \\
        /work/wt-merge/.bench/corpus-10000/input --files 300 --rounds 2
    .venv/bin/python benchmarks/bench_seeded_restart.py /work/wt-merge/.bench/out-10000 - --load-only
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path


def cpu_seconds() -> float:
    own, children = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def copies_of(inputs: list[Path], folder: Path) -> list[Path]:
    folder.mkdir()
    out = []
    for i, path in enumerate(inputs):
        copy = folder / f"again_{i:05d}{path.suffix}"
        data = path.read_bytes()
        copy.write_bytes(data + b"\n\nRead more: other stories." if path.suffix == ".txt" else data)
        out.append(copy)
    return out


def run_stream(output: Path, files: list[Path], now) -> float:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from tollwatch.pipeline.build import build_streaming
    from tollwatch.pipeline.options import TollwatchOptions
    from tollwatch.pipeline.runner import make_pipeline
    from tollwatch.schemas import DeadLetter, RawDoc

    options = PipelineOptions(["--streaming"], output=str(output))
    pipeline = make_pipeline(options)
    raw = pipeline | "Files" >> beam.Create(
        [RawDoc(str(p), None, None, now, p.read_bytes(), None, None) for p in files]
    ).with_output_types(RawDoc)
    none = pipeline | "NoDeadLetters" >> beam.Create([]).with_output_types(DeadLetter)
    build_streaming(pipeline, options.view_as(TollwatchOptions),
                    extra_sources=[{"raw_docs": raw, "dead_letters": none}], clock=lambda: now)
    start = cpu_seconds()
    pipeline.run().wait_until_finish()
    return cpu_seconds() - start


def marks(output: Path, stored: set[str]) -> tuple[int, int, int]:
    import duckdb

    rows = duckdb.sql(f"SELECT doc_id, copy_of FROM read_parquet('{output}/articles/*/*.parquet') "
                      f"WHERE uri LIKE '%again_%'").fetchall()
    return len(rows), sum(d is not None for _, d in rows), sum(d in stored for _, d in rows)


def load_only(output: Path, rounds: int) -> None:
    import tracemalloc

    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.transforms.duplicates.settings import BANDS, NUM_PERM, TTL
    from tollwatch.transforms.duplicates.state import StoredSeeds
    from tollwatch.transforms.duplicates.streaming import SeedIndex

    loader = StoredSeeds(str(output), TTL, Timestamp.now())
    for r in range(rounds + 1):
        traced = r == rounds
        if traced:
            tracemalloc.start()
        start = time.process_time()
        held, left_out, summary = loader()
        loaded = time.process_time()
        index = SeedIndex(held, left_out, summary, BANDS, NUM_PERM // BANDS, TTL)
        indexed = time.process_time()
        if traced:
            print(f"held: {tracemalloc.get_traced_memory()[0] / 2**20:.0f} MB for "
                  f"{len(index.by_id)} seeds")
            tracemalloc.stop()
        else:
            print(f"round {r}: load {loaded - start:.2f} CPU-s, index {indexed - loaded:.2f} CPU-s; "
                  f"{summary}")
        del held, index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("input", type=Path)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--load-only", action="store_true")
    args = parser.parse_args()
    if args.load_only:
        load_only(args.output, args.rounds)
        return

    import duckdb
    from apache_beam.utils.timestamp import Timestamp

    stored = {d for (d,) in duckdb.sql(f"SELECT doc_id FROM read_parquet("
                                       f"'{args.output}/_state/signatures/*/*.parquet')").fetchall()}
    inputs = sorted(p for p in args.input.rglob("*") if p.is_file())[:args.files]
    now = Timestamp.now()
    with tempfile.TemporaryDirectory() as tmp:
        files = copies_of(inputs, Path(tmp) / "again")
        for r in range(args.rounds):
            for seeded in (True, False):
                out = Path(tmp) / f"out-{r}-{seeded}"
                shutil.copytree(args.output / "articles", out / "articles")
                if seeded:
                    shutil.copytree(args.output / "_state" / "signatures",
                                    out / "_state" / "signatures")
                wall = time.perf_counter()
                cpu = run_stream(out, files, now)
                wall = time.perf_counter() - wall
                n, copies, to_stored = marks(out, stored)
                print(f"round {r} {'seeded' if seeded else 'unseeded'}: {cpu:.1f} CPU-s "
                      f"({wall:.1f} s wall), {n} articles, {copies} copies, {to_stored} of them "
                      f"of a stored canonical", flush=True)
                shutil.rmtree(out)


if __name__ == "__main__":
    main()
