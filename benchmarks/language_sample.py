"""How long a sample language detection needs: the articles whose language changes, and the CPU
saved, when the detector reads only the first N characters of the text.

    .venv/bin/python benchmarks/language_sample.py [FOLDER ...] [--sizes 4000 2000 1500 1000]
        [--rounds 3] [--time FOLDER]

Each FOLDER is read and extracted as `tollwatch run` does it (ReadFileFn, extract_articles); the
declared tag and the text of every article are kept, and `language.article_language` (the value
stored) is computed again with each sample size, against the first size. Without FOLDER, the
shared real sets: realdev's three parts, corpora/html, corpora/feeds and the seeds. `--time`
also times `language.detect` over that folder's articles for each size (CPU seconds, a fresh cache
each round, the sizes alternated, best of `--rounds`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REAL_SETS = [SHARED / "realdev" / "part_a", SHARED / "realdev" / "part_b",
             SHARED / "realdev" / "part_c", SHARED / "corpora" / "html",
             SHARED / "corpora" / "feeds", SHARED / "seeds"]


def declared_and_texts(folder: Path) -> list[tuple]:
    """(declared tag, text, uri) of every article extracted from the files below `folder`."""
    import apache_beam as beam
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.transforms import extract
    from tollwatch.transforms.inputs.files import ReadFileFn, match_largest_first, resolve_inputs

    seen: list[tuple] = []
    real = extract.article_language

    def recording(declared, text):
        seen.append((declared, text))
        return real(declared, text)

    read = ReadFileFn(256 << 20, Timestamp.now())
    extract.article_language = recording
    try:
        out = []
        for ref in match_largest_first(resolve_inputs([str(folder)])):
            for raw in read.process(ref):
                if isinstance(raw, beam.pvalue.TaggedOutput):
                    continue
                del seen[:]
                extract.extract_articles(raw)
                out += [(declared, text, raw.uri) for declared, text in seen]
        return out
    finally:
        extract.article_language = real


def languages(articles: list[tuple], size: int) -> list:
    from tollwatch.transforms import language

    kept = language.SAMPLE_CHARS
    language.SAMPLE_CHARS = size
    language.detect_sample.cache_clear()
    try:
        return [language.article_language(declared, text) for declared, text, _ in articles]
    finally:
        language.SAMPLE_CHARS = kept


def compare(name: str, articles: list[tuple], sizes: list[int]) -> None:
    base = languages(articles, sizes[0])
    longer = {size: sum(len(text or "") > size for _, text, _ in articles) for size in sizes}
    print(f"{name}: {len(articles)} articles, languages at {sizes[0]}: "
          f"{dict(sorted(_count(base).items(), key=str))}")
    for size in sizes[1:]:
        found = languages(articles, size)
        changed = [(a[2], b, f) for a, b, f in zip(articles, base, found) if b != f]
        print(f"  {size}: {len(changed)} changed of {longer[size]} texts longer than {size}")
        for uri, before, after in changed:
            print(f"    {uri}: {before} -> {after}")


def _count(values: list) -> dict:
    counts: dict = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


def timing(articles: list[tuple], sizes: list[int], rounds: int) -> None:
    from tollwatch.transforms import language

    texts = [text for _, text, _ in articles]
    times: dict[int, list[float]] = {size: [] for size in sizes}
    kept = language.SAMPLE_CHARS
    try:
        for _ in range(rounds):
            for size in sizes:
                language.SAMPLE_CHARS = size
                language.detect_sample.cache_clear()
                started = time.process_time()
                for text in texts:
                    language.detect(text)
                times[size].append(time.process_time() - started)
    finally:
        language.SAMPLE_CHARS = kept
    for size, values in times.items():
        print(f"  detect at {size}: {min(values):.2f} CPU s for {len(texts)} articles, "
              f"{min(values) * 1000 / len(texts):.3f} ms an article (best of {rounds}: "
              f"{', '.join(f'{v:.2f}' for v in values)}); ratio to {sizes[0]}: "
              f"{min(values) / min(times[sizes[0]]):.2f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000, 2000, 1500, 1000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--time", type=Path, help="time the sizes over this folder's articles")
    args = parser.parse_args(argv)
    for folder in args.folders or REAL_SETS:
        if not folder.exists():
            print(f"{folder}: missing", file=sys.stderr)
            continue
        compare(str(folder), declared_and_texts(folder), args.sizes)
    if args.time:
        print(f"timing over {args.time}:")
        timing(declared_and_texts(args.time), args.sizes, args.rounds)


if __name__ == "__main__":
    main()
