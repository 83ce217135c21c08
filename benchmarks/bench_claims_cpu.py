"""CPU seconds per article of the claims stage alone, two checkouts alternated in one run.

    .venv/bin/python benchmarks/bench_claims_cpu.py CORPUS [--limit 500] [--rounds 5] [--against /tmp/main]

The articles are the ones bench.py's `stages()` gives its claims stage: the corpus's first `--limit`
files extracted and their repeated passages stripped (done once, by this checkout, and kept in
`.bench/claims-articles-<fingerprint>-<limit>.pickle`). Each round runs `extract_claims` over all of
them (title and publication date as the stage passes them, the corpus's sources table) once for this
checkout and once for each `--against` checkout, each in a fresh subprocess that imports that
checkout's code; the time is `time.process_time` of the loop after one warm-up article (with `--forget`,
what the extractor remembers of earlier articles is cleared before each one: the work without copies). Prints the
best of `--rounds` per checkout, its ratio to this checkout's, and whether the claims are the same (a hash
of every ClaimMention, in order).
"""

from __future__ import annotations

import argparse
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


def prepare(corpus: Path, limit: int) -> Path:
    """The claims stage's input articles as (text, published_at, title), pickled once per corpus and limit."""
    fingerprint = json.loads((corpus / "manifest.json").read_text()).get("fingerprint", "corpus")
    cached = HERE / ".bench" / f"claims-articles-{fingerprint}-{limit}.pickle"
    if cached.exists():
        return cached
    sys.path.insert(0, str(HERE / "benchmarks"))
    from apache_beam.utils.timestamp import Timestamp

    from bench import corpus_files
    from tollwatch.schemas import Article, RawDoc
    from tollwatch.transforms.extract import extract_articles
    from tollwatch.transforms.repeats import strip_repeated_passages

    now = Timestamp.now()
    rows = []
    for path in corpus_files(corpus)[:limit]:
        with open(path, "rb") as handle:
            raw = RawDoc(path, None, None, now, handle.read(), None, Timestamp(os.path.getmtime(path)))
        for a in extract_articles(raw):
            if isinstance(a, Article):
                text, _ = strip_repeated_passages(a.text)
                rows.append((text, a.published_at.to_utc_datetime(has_tz=True), a.title))
    cached.parent.mkdir(exist_ok=True)
    cached.write_bytes(pickle.dumps(rows))
    return cached


def child(checkout: str, articles: str, sources_file: str, forget: str = "") -> None:
    """In a fresh process: time `extract_claims` of `checkout` over the articles; print a JSON line.
    `forget`: the extractor's memories of earlier articles (its lru caches) cleared before each article."""
    import_checkout(checkout, "bench-claims-")
    from tollwatch.transforms.claims import extract_claims, load_sources

    assert Path(sys.modules["tollwatch.transforms.claims"].__file__).resolve().is_relative_to(Path(checkout).resolve())
    rows = pickle.loads(Path(articles).read_bytes())
    sources = load_sources([sources_file])
    extract_claims(rows[0][0], rows[0][1], sources, rows[0][2])  # warm: compiled patterns, the sources' tables
    digest = hashlib.sha256()
    claims = 0
    extractor = sys.modules["tollwatch.transforms.claims.extractor"]
    memories = [f.cache_clear for f in vars(extractor).values() if forget and hasattr(f, "cache_clear")]
    found = []
    started = time.process_time()
    for text, published, title in rows:
        for clear in memories:
            clear()
        found.append(extract_claims(text, published, sources, title))
    seconds = time.process_time() - started
    for mentions in found:
        claims += len(mentions)
        for m in mentions:
            digest.update(repr(tuple(m)).encode())
    print(json.dumps({"seconds": seconds, "articles": len(rows), "claims": claims, "digest": digest.hexdigest()[:16]}))


def main(argv=None) -> None:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--limit", type=int, default=500, help="the corpus's first files (bench.py's stages: 500)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", action="append", default=[], help="another checkout (a `git worktree add`)")
    parser.add_argument("--forget", action="store_true",
                        help="clear the extractor's memories of earlier articles before each article")
    args = parser.parse_args(argv)
    articles = prepare(args.corpus, args.limit)
    checkouts = [str(HERE), *args.against]
    runs: dict[str, list[dict]] = {c: [] for c in checkouts}
    for _ in range(args.rounds):
        for checkout in checkouts:
            out = subprocess.run([sys.executable, __file__, "--child", checkout, str(articles),
                                  str(args.corpus / "sources.toml"), "forget" if args.forget else ""],
                                 check=True, capture_output=True, text=True)
            runs[checkout].append(json.loads(out.stdout.splitlines()[-1]))
    first = min(r["seconds"] for r in runs[checkouts[0]])
    for checkout, results in runs.items():
        best = min(r["seconds"] for r in results)
        n = results[0]["articles"]
        outputs = sorted({(r["claims"], r["digest"]) for r in results})
        each = ", ".join(f"{r['seconds']:.2f}" for r in results)
        print(f"{checkout}: {best * 1000 / n:.3f} ms an article, {n / best:,.0f} articles per CPU-s "
              f"(best of {len(results)}: {each} s for {n}); "
              f"{best / first:.2f}x this checkout's CPU; claims {outputs}")


if __name__ == "__main__":
    main()
