"""CPU seconds of the run's small steps beside trafilatura, two checkouts alternated in one run.

    .venv/bin/python benchmarks/bench_small_steps.py OUT CORPUS [--rounds 5] [--against /tmp/main]

OUT is a finished `tollwatch run`'s output (its articles, claims and toll rows are the steps'
inputs: the 10k benchmark's is /work/scratch/out-10k), CORPUS the corpus folder it ran on (its
input files for the reads, its events.toml). Each round runs every step once for this checkout and
once for each `--against` checkout, each in a fresh subprocess that imports that checkout's code;
a step's time is `time.process_time` of its loop. Prints, per step, the best of `--rounds` per
checkout, the ratio to the first checkout, and whether the outputs are the same (a hash of every
output, in order).

The steps (each as the pipeline runs it, on every record of OUT):
- read: `ReadFileFn` over the corpus's files, confined to the input folder as `ReadFiles` does
  (the page cache warm after the first round);
- clean_text: `extract._clean_text` over the articles' texts (trafilatura's text, already clean);
- strip_repeats: `StripRepeatedPassagesFn` over the articles;
- assign_events: `AssignEventsFn` over the articles (the corpus's events.toml);
- stage_write: the articles and claims to `RecordFile`s, as `StageArticlesFn` writes them;
- apply_verdicts: `ApplyVerdictsFn` reading them back (a verdict per article);
- toll: the batch toll sweep over the claims (pipeline_steps.py's);
- parquet_write: `partition_value` and `ParquetSink` over the articles, claims and toll rows.

2026-12-05, OUT the 10k benchmark's (9,950 articles, 38,233 claims, 12,579 toll rows), machine load
4-7 on its 2 cores, u5 against main (`--against` a `git archive` of main), CPU s best of 5 (of 3 in
an earlier run): read 0.92 vs 1.21 (0.89 vs 1.03), assign_events 1.01 vs 1.24 (1.01 vs 1.23),
parquet_write 1.97 vs 2.85 (2.07 vs 2.45); the steps u5 left alone within 3-8% of each other both
ways (strip_repeats 1.64 vs 1.58, apply_verdicts 1.33 vs 1.38, toll 1.19 vs 1.24, stage_write 0.51
vs 0.55, clean_text 0.08 vs 0.08): the noise floor. Every output hash the same.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from checkouts import import_checkout

HERE = Path(__file__).resolve().parents[1]


def _import_checkout(checkout: str) -> None:
    import_checkout(checkout, "bench-steps-")
    import tollwatch.transforms.extract as extract

    assert Path(extract.__file__).resolve().is_relative_to(Path(checkout).resolve())


def _records(out: Path, table: str, record_type: type) -> list:
    import pyarrow.dataset as ds

    from tollwatch.schemas import from_row

    rows = ds.dataset(str(out / table), format="parquet", partitioning="hive").to_table().to_pylist()
    records = [from_row(row, record_type) for row in rows]
    return sorted(records, key=lambda r: (r[0], repr(r)))


def _unwrapped(output):
    """A DoFn's output without its TaggedOutput and TimestampedValue wrappers (whose repr is an
    address), with the timestamp."""
    tag = getattr(output, "tag", None)
    value = output.value if tag is not None else output
    return (value.value, value.timestamp) if hasattr(value, "timestamp") else value


def child(checkout: str, out: str, corpus: str) -> None:
    """In a fresh process: each step of `checkout` over OUT's records; a JSON line per step."""
    _import_checkout(checkout)
    import logging

    import apache_beam as beam
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.schemas import Article, Claim, TollWindow
    from tollwatch.schemas.duplicates import Verdict
    from tollwatch.transforms import extract
    from tollwatch.transforms.events import AssignEventsFn, load_events
    from tollwatch.transforms.inputs.files import (
        DEFAULT_MAX_FILE_BYTES, ReadFileFn, input_root, match_largest_first, resolve_inputs)
    from tollwatch.transforms.parquet import ParquetSink, partition_value
    from tollwatch.transforms.repeats import MIN_CHARS, StripRepeatedPassagesFn
    from tollwatch.transforms.staging import (
        ARTICLES, CLAIMS, VERDICTS, ApplyVerdictsFn, RecordFile)
    from tollwatch.transforms.toll import bounded_toll

    logging.getLogger().setLevel(logging.ERROR)
    out_dir, corpus_dir = Path(out), Path(corpus)
    articles = _records(out_dir, "articles", Article)
    claims = _records(out_dir, "claims", Claim)
    tolls = _records(out_dir, "toll", TollWindow)
    now = Timestamp(1_800_000_000)
    results: dict[str, dict] = {}

    def step(name: str, fn, outputs) -> None:
        started = time.process_time()
        made = fn()
        seconds = time.process_time() - started
        digest = hashlib.sha256()
        for item in outputs(made):
            digest.update(repr(item).encode())
        results[name] = {"seconds": seconds, "digest": digest.hexdigest()[:16]}

    def values(outputs) -> list:
        return [x for x in outputs if not isinstance(x, beam.pvalue.TaggedOutput)]

    patterns = resolve_inputs([str(corpus_dir / "input")])
    refs = match_largest_first(patterns)
    read = ReadFileFn(DEFAULT_MAX_FILE_BYTES, now, sorted({input_root(p) for p in patterns}))
    step("read", lambda: [r for ref in refs for r in read.process(ref)],
         lambda made: (r._replace(content=hashlib.blake2b(r.content).hexdigest())
                       if hasattr(r, "content") else r.value for r in made))
    texts = [a.text for a in articles]
    step("clean_text", lambda: [extract._clean_text(t) for t in texts], lambda made: made)
    strip = StripRepeatedPassagesFn(MIN_CHARS)
    step("strip_repeats", lambda: [x for a in articles for x in values(strip.process(a))],
         lambda made: ((a.text, a.n_repeats_removed) for a in made))
    assign = AssignEventsFn(load_events(str(corpus_dir / "events.toml")))
    assign.setup()
    step("assign_events", lambda: [x for a in articles for x in values(assign.process(a))],
         lambda made: (a.event_ids for a in made))

    folder = tempfile.mkdtemp(prefix="bench-steps-")
    try:
        base = f"{folder}/staged"

        def stage_write() -> None:
            files = {ARTICLES: RecordFile(base + ARTICLES, Article),
                     CLAIMS: RecordFile(base + CLAIMS, Claim)}
            for a in articles:
                files[ARTICLES].write(a)
            for c in claims:
                files[CLAIMS].write(c)
            for f in files.values():
                f.close()

        step("stage_write", stage_write,
             lambda _: (Path(base + s).read_bytes() for s in (ARTICLES, CLAIMS)))
        verdicts = RecordFile(base + VERDICTS, Verdict)
        for a in articles:
            verdicts.write(Verdict(doc_id=a.doc_id, staged=base, story_id=a.story_id,
                                   copy_of=a.copy_of, copy_kind=a.copy_kind,
                                   copy_similarity=a.copy_similarity, is_canonical=a.is_canonical,
                                   canonical_figures=None))
        verdicts.close()
        apply = ApplyVerdictsFn()
        step("apply_verdicts", lambda: list(apply.process(base)),
             lambda made: ((getattr(x, "tag", None), _unwrapped(x)) for x in made))

        step("toll", lambda: bounded_toll(claims, now), lambda made: made)

        def write() -> list[str]:
            names = []
            for records, record_type, field in ((articles, Article, "published_at"),
                                                (claims, Claim, "published_at"),
                                                (tolls, TollWindow, "window_end")):
                sinks: dict[str, ParquetSink] = {}
                for record in records:
                    partition = partition_value(getattr(record, field))
                    if partition not in sinks:
                        sinks[partition] = ParquetSink(record_type)
                        name = f"{folder}/{record_type.__name__}-{partition}.parquet"
                        names.append(name)
                        sinks[partition].open(open(name, "wb"))
                    sinks[partition].write((partition, record))
                for sink in sinks.values():
                    sink.flush()
            return names

        def tables(names: list[str]):
            import pyarrow.parquet as pq

            for name in names:
                yield Path(name).name, pq.read_table(name).to_pylist()

        step("parquet_write", write, tables)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(results))


def main(argv=None) -> None:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="a finished tollwatch run's output folder")
    parser.add_argument("corpus", type=Path, help="the corpus folder it ran on (input/, events.toml)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", action="append", default=[], help="another checkout")
    args = parser.parse_args(argv)
    checkouts = [str(HERE), *args.against]
    runs: dict[str, list[dict]] = {c: [] for c in checkouts}
    for _ in range(args.rounds):
        for checkout in checkouts:
            done = subprocess.run([sys.executable, __file__, "--child", checkout, str(args.out),
                                   str(args.corpus)], check=True, capture_output=True, text=True)
            runs[checkout].append(json.loads(done.stdout.splitlines()[-1]))
    steps = list(runs[checkouts[0]][0])
    for name in steps:
        best = {c: min(r[name]["seconds"] for r in results) for c, results in runs.items()}
        first = best[checkouts[0]]
        for checkout, results in runs.items():
            digests = sorted({r[name]["digest"] for r in results})
            print(f"{name:15} {checkout:24} {best[checkout]:7.3f} CPU s (best of {len(results)}) "
                  f"{best[checkout] / first if first else 0:5.2f}x  output {','.join(digests)}")
    print("totals:", {c: round(sum(min(r[n]["seconds"] for r in res) for n in steps), 3)
                      for c, res in runs.items()})


if __name__ == "__main__":
    main()
