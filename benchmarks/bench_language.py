"""The cost of article language detection per article, on the texts of a `tollwatch run` output.

    .venv/bin/python benchmarks/bench_language.py OUT [--rounds 3]

Times, in one process (CPU seconds, best of `--rounds` interleaved rounds: the machine is shared),
`language.detect` as the pipeline calls it (a fresh cache each round, the articles in file-name
order, as one worker and split over two) against what it did before 6a04d71 (every letter of the
sample counted, then the detector on every sample), and prints how many samples the cache
answered.
"""

from __future__ import annotations

import argparse
import time

import pyarrow.dataset as ds

from tollwatch.transforms import language


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    rows = ds.dataset(f"{args.output}/articles", format="parquet", partitioning="hive").to_table(
        columns=["uri", "text"]).to_pylist()
    texts = [r["text"] for r in sorted(rows, key=lambda r: r["uri"])]
    detector = language.identifier()

    def before(text: str) -> None:
        sample = (text or "")[:language.SAMPLE_CHARS]
        if sum(c.isalpha() for c in sample) >= language.MIN_LETTERS:
            detector.classify(sample)

    def cached(part: list) -> float:
        language.detect_sample.cache_clear()
        started = time.process_time()
        for text in part:
            language.detect(text)
        return time.process_time() - started

    def timed(fn, part: list) -> float:
        started = time.process_time()
        for text in part:
            fn(text)
        return time.process_time() - started

    times: dict[str, list[float]] = {"before: every letter, every sample": [], "one worker": [], "two workers": []}
    for _ in range(args.rounds):
        times["before: every letter, every sample"].append(timed(before, texts))
        times["one worker"].append(cached(texts))
        hits_one = language.detect_sample.cache_info().hits
        times["two workers"].append(cached(texts[0::2]) + cached(texts[1::2]))
    for name, values in times.items():
        print(f"{name}: {min(values) * 1000 / len(texts):.3f} ms an article (best of {args.rounds}; "
              f"{', '.join(f'{v:.2f}' for v in values)} s for {len(texts)})")
    print(f"cache hits: {hits_one} of {len(texts)} in one worker")


if __name__ == "__main__":
    main()
