"""Benchmark the claims stage alone: documents per second of `extract_claims`.

    .venv/bin/python benchmarks/bench_claims.py --n 10000

The documents are the five seed articles (`../shared/seeds`, date marker stripped) repeated to `--n`
documents, each copy with its numbers shifted so no cache can help; one process, one core. It also
runs the `ExtractClaims` PTransform over the same documents on the local FnApiRunner, so the cost
Beam adds around the pure function shows. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import time
from pathlib import Path

SHARED = Path(os.environ.get("TOLLWATCH_SHARED", Path(__file__).resolve().parents[2] / "shared"))
_MARKER = re.compile(r"^\s*date \d{4}-\d{2}-\d{2}\s*")
_NUMBER = re.compile(r"\b\d{2,}\b")


def documents(n: int) -> list[str]:
    seeds = [_MARKER.sub("", p.read_text(encoding="utf-8")) for p in sorted((SHARED / "seeds").glob("*.txt"))]
    if not seeds:
        raise SystemExit(f"no seeds under {SHARED / 'seeds'} (set TOLLWATCH_SHARED)")
    out = []
    for i in range(n):
        shift = i // len(seeds)
        out.append(_NUMBER.sub(lambda m: str(int(m.group()) + shift), seeds[i % len(seeds)]))
    return out


def bench_pure(texts: list[str]) -> tuple[float, int]:
    from tollwatch.transforms.claims import extract_claims, load_sources

    sources = load_sources()
    extract_claims(texts[0], None, sources)  # warm the compiled patterns
    start = time.perf_counter()
    n_claims = sum(len(extract_claims(t, None, sources)) for t in texts)
    return time.perf_counter() - start, n_claims


def bench_beam(texts: list[str]) -> tuple[float, int]:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.pipeline.runner import local_runner
    from tollwatch.schemas import Article
    from tollwatch.transforms.claims import ExtractClaims

    now = Timestamp.now()
    articles = [Article(f"d{i}", f"/seed/{i}", None, "outlet", None, now, "metadata", now, t, None,
                        ["seeds"], 0, None, None, None, None, True) for i, t in enumerate(texts)]
    from apache_beam.metrics.metric import MetricsFilter

    options = PipelineOptions([])
    start = time.perf_counter()
    pipeline = beam.Pipeline(runner=local_runner(options), options=options)
    _ = pipeline | beam.Create(articles) | ExtractClaims()
    result = pipeline.run()
    result.wait_until_finish()
    seconds = time.perf_counter() - start
    counters = result.metrics().query(MetricsFilter().with_name("claims"))["counters"]
    return seconds, sum(c.committed for c in counters)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="documents (default 10000)")
    parser.add_argument("--no-beam", action="store_true", help="only the pure function")
    args = parser.parse_args()
    texts = documents(args.n)
    chars = sum(map(len, texts)) / len(texts)
    rows = [("extract_claims (pure)", *bench_pure(texts))]
    if not args.no_beam:
        rows.append(("ExtractClaims on FnApiRunner", *bench_beam(texts)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.n} documents (the 5 seeds repeated, {chars:.0f} characters on average), one core\n")
    print("| stage | seconds | documents/s | claims |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds, claims in rows:
        print(f"| {name} | {seconds:.1f} | {args.n / seconds:,.0f} | {claims:,} |")
    print(f"\npeak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
