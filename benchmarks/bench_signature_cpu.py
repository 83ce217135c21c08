"""CPU per article of the staging step's signature (``similarity.signature_of``) and story traits
(``rewrites.story_traits``), two checkouts alternated in one run, with a hash of every output.

    .venv/bin/python benchmarks/bench_signature_cpu.py [--rounds 5] [--against /tmp/main] [--articles N]

The articles (kept once in `.bench/signature-articles-<sets>.pickle`): every article that this
checkout's `extract_articles` and `strip_repeated_passages` make of realdev's texts
(`SHARED/realdev/*/news_text/*.txt`), of `SHARED/corpora/html/*.html` and of the 2k bench corpus
(`--corpus`), and the text column of a finished run's articles (`--output`, e.g. the 10k run). Each
round runs `signature_of` and `story_traits` over all of them once per checkout, each in a fresh
subprocess that imports that checkout's code (as `bench_claims_cpu.py` does); the time is
`time.process_time` of each loop after a warm-up on a text of its own (the caches start empty). Prints per set and
checkout the hash of every Signature and StoryTraits (field by field, in order), and the best of
`--rounds` CPU per article with its ratio to this checkout's.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

from checkouts import import_checkout

HERE = Path(__file__).resolve().parents[1]
SHARED = HERE.parent / "shared" if (HERE.parent / "shared").is_dir() else Path("/work/shared")
CORPUS_2K = Path("/work/wt-h1/.bench/corpus-2000/input")
OUTPUT_10K = Path("/work/scratch/out-10k")

# (doc_id, published_at micros, date_source, story_id, text)
Row = tuple


def _extracted(paths: list[str]) -> list[Row]:
    "The articles the pipeline's extract and repeated-passage steps make of the files."
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.schemas import Article, RawDoc
    from tollwatch.transforms.extract import extract_articles
    from tollwatch.transforms.repeats import strip_repeated_passages

    now = Timestamp.of(1_780_000_000)
    rows = []
    for path in paths:
        with open(path, "rb") as handle:
            raw = RawDoc(path, None, None, now, handle.read(), None, Timestamp(os.path.getmtime(path)))
        for a in extract_articles(raw):
            if isinstance(a, Article):
                text, _ = strip_repeated_passages(a.text)
                rows.append((a.doc_id, a.published_at.micros, a.date_source, a.story_id, text))
    return rows


def _output_rows(output: Path) -> list[Row]:
    "The articles a finished run wrote (its text column is the staged text)."
    import duckdb

    found = duckdb.connect().execute(
        "SELECT doc_id, epoch_us(published_at), date_source, story_id, text "
        f"FROM read_parquet('{output}/articles/*/*.parquet') ORDER BY doc_id").fetchall()
    return [tuple(r) for r in found]


def prepare(corpus: Path, output: Path) -> Path:
    "{set name: rows}, pickled once."
    cached = HERE / ".bench" / "signature-articles.pickle"
    if cached.exists():
        return cached
    sets = {
        "realdev": _extracted(sorted(glob.glob(str(SHARED / "realdev" / "*" / "news_text" / "*.txt")))),
        "html": _extracted(sorted(glob.glob(str(SHARED / "corpora" / "html" / "*.html")))),
        "corpus-2k": _extracted(sorted(str(p) for p in corpus.rglob("*") if p.is_file())),
        "out-10k": _output_rows(output),
    }
    cached.parent.mkdir(exist_ok=True)
    cached.write_bytes(pickle.dumps(sets))
    return cached


def child(checkout: str, articles: str, set_name: str, limit: str) -> None:
    """In a fresh process (what one set's words and sentences leave in the caches does not speed up
    the next): `signature_of` and `story_traits` of `checkout` over the set `set_name`; print a JSON line
    [signature seconds, traits seconds, articles, signature hash, traits hash]."""
    import_checkout(checkout, "bench-signature-")
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.schemas import Article
    from tollwatch.transforms.duplicates.minhash import MinHasher
    from tollwatch.transforms.duplicates.rewrites import CreditFinder, story_traits
    from tollwatch.transforms.duplicates.similarity import signature_of

    here = sys.modules["tollwatch.transforms.duplicates.similarity"].__file__
    assert Path(here).resolve().is_relative_to(Path(checkout).resolve()), here
    rows = pickle.loads(Path(articles).read_bytes())[set_name]
    hasher, finder = MinHasher(), CreditFinder.from_sources(())
    at = Timestamp.of(1_780_000_000)
    rows = rows[:int(limit)] if int(limit) else rows
    docs = [Article(doc_id=r[0], uri="", url=None, outlet=None, title=None,
                    published_at=Timestamp(micros=r[1]), date_source=r[2], ingested_at=at,
                    text=r[4], language=None, event_ids=[], n_repeats_removed=0, story_id=r[3],
                    copy_of=None, copy_kind=None, copy_similarity=None, is_canonical=True)
            for r in rows]
    # Warm (compiled patterns, lazy imports) on a text of none of the sets: the caches of words and
    # sentences start as empty as a worker's.
    warm = docs[0]._replace(text="Warm-up: 12 people were killed in the city on Monday, officials "
                                 "said. The Reuters news agency could not verify the figure.")
    signature_of(warm, hasher), story_traits(warm, finder)
    started = time.process_time()
    signatures = [signature_of(d, hasher) for d in docs]
    signed = time.process_time() - started
    started = time.process_time()
    traits = [story_traits(d, finder) for d in docs]
    traced = time.process_time() - started
    sig_hash, trait_hash = hashlib.sha256(), hashlib.sha256()
    for s in signatures:
        sig_hash.update(repr((s.doc_id, s.published_at.micros, s.length, s.n_shingles, s.minhash,
                              s.sketch, s.story_id, list(s.figures), s.outline,
                              list(s.leads))).encode())
    for t in traits:
        trait_hash.update(repr((t.doc_id, t.published_at.micros, t.dated, t.length, t.story_id,
                                list(t.figures), list(t.credits))).encode())
    print(json.dumps([signed, traced, len(docs), sig_hash.hexdigest()[:16],
                      trait_hash.hexdigest()[:16]]))


def main(argv=None) -> None:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", action="append", default=[], help="another checkout")
    parser.add_argument("--corpus", type=Path, default=CORPUS_2K, help="a bench corpus's input folder")
    parser.add_argument("--output", type=Path, default=OUTPUT_10K, help="a finished run's output folder")
    parser.add_argument("--articles", type=int, default=0, help="at most this many of each set (0: all)")
    args = parser.parse_args(argv)
    articles = prepare(args.corpus, args.output)
    checkouts = [str(HERE), *args.against]
    names = list(pickle.loads(articles.read_bytes()))
    runs: dict[tuple[str, str], list[list]] = {(n, c): [] for n in names for c in checkouts}
    for _ in range(args.rounds):
        for name in names:
            for checkout in checkouts:
                out = subprocess.run([sys.executable, __file__, "--child", checkout, str(articles), name,
                                      str(args.articles)], check=True, capture_output=True, text=True)
                runs[name, checkout].append(json.loads(out.stdout.splitlines()[-1]))
    for name in names:
        firsts = [min(r[k] for r in runs[name, checkouts[0]]) for k in (0, 1)]
        for checkout in checkouts:
            results = runs[name, checkout]
            n = results[0][2]
            best = [min(r[k] for r in results) for k in (0, 1)]
            hashes = sorted({(r[3], r[4]) for r in results})
            print(f"{name} {checkout}: {n} articles; signature_of {best[0] * 1000 / n:.3f} ms an article "
                  f"({best[0] / firsts[0]:.2f}x this checkout's), story_traits {best[1] * 1000 / n:.3f} ms "
                  f"({best[1] / firsts[1]:.2f}x); best of {len(results)}; "
                  f"hashes (signatures, traits) {hashes}")


if __name__ == "__main__":
    main()
