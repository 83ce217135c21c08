"""CPU seconds of the resolver's confirmation of candidate pairs, two checkouts alternated in one run.

    .venv/bin/python benchmarks/bench_confirm.py OUTPUT [--rounds 5] [--against /tmp/main] [--profile]

OUTPUT is a finished run's output folder (e.g. a 10k `make bench` run's): its articles' texts are
signed as staging signs them (``make_signature``, and ``with_outline`` from ``MIN_SHINGLES`` on) and
their candidate pairs found as the resolver finds them (``resolve.near_candidates``), once, by this
checkout (kept in `.bench/confirm-<output's name>-<rows>.pickle`). Each round then times
``resolve._confirmed`` over all the pairs (``time.process_time``) once for this checkout and once for
each `--against` checkout, each in a fresh subprocess that imports that checkout's code (its outline
cache empty, as a run's resolver starts). Prints the best of `--rounds` per checkout, its ratio to
this checkout's, and a hash of every link (doc, other, kind, Jaccard, containment, similarity: the
floats' exact repr), which must be the same for every checkout.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import hashlib
import json
import pickle
import pstats
import subprocess
import sys
import time
from pathlib import Path

from checkouts import import_checkout

HERE = Path(__file__).resolve().parents[1]
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def prepare(output: Path) -> Path:
    """The signatures of the output's articles and their candidate pairs (as indexes), pickled once."""
    import pyarrow.dataset as ds
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.transforms.duplicates import resolve
    from tollwatch.transforms.duplicates.minhash import MinHasher
    from tollwatch.transforms.duplicates.settings import MIN_SHINGLES, near_options
    from tollwatch.transforms.duplicates.similarity import make_signature, with_outline

    articles = ds.dataset(str(output / "articles"), format="parquet", partitioning="hive")
    cached = HERE / ".bench" / f"confirm-{output.resolve().name}-{articles.count_rows()}.pickle"
    if cached.exists():
        return cached
    rows = sorted(articles.to_table(columns=["doc_id", "published_at", "text"]).to_pylist(),
                  key=lambda r: r["doc_id"])
    options = near_options()
    hasher = MinHasher(options.num_perm, options.seed)
    signatures = []
    for r in rows:
        if r["published_at"] is None:
            continue
        published = Timestamp(micros=(r["published_at"] - EPOCH) // datetime.timedelta(microseconds=1))
        sig = make_signature(r["doc_id"], published, r["text"] or "", hasher, options.shingle_size,
                             options.sketch_size)
        if sig.n_shingles >= MIN_SHINGLES:
            signatures.append(with_outline(sig, r["text"] or ""))
    row = {id(sig): i for i, sig in enumerate(signatures)}
    pairs = [(row[id(a)], row[id(b)]) for a, b in resolve.near_candidates(signatures, options)]
    cached.parent.mkdir(exist_ok=True)
    cached.write_bytes(pickle.dumps((signatures, pairs)))
    return cached


def link_hash(links) -> str:
    "A hash of the links, each with its floats' exact repr, in a canonical order."
    digest = hashlib.sha256()
    for fields in sorted((link.doc.doc_id, link.other.doc_id, link.kind, repr(link.jaccard),
                          repr(link.containment), repr(link.similarity)) for link in links):
        digest.update(repr(fields).encode())
    return digest.hexdigest()[:16]


def child(checkout: str, data: str, profile: str = "") -> None:
    """In a fresh process: time `_confirmed` of `checkout` over the pairs; print a JSON line."""
    import_checkout(checkout, "bench-confirm-")
    from tollwatch.transforms.duplicates import resolve
    from tollwatch.transforms.duplicates.settings import near_options

    assert Path(resolve.__file__).resolve().is_relative_to(Path(checkout).resolve())
    signatures, rows = pickle.loads(Path(data).read_bytes())
    pairs = [(signatures[a], signatures[b]) for a, b in rows]
    options = near_options()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    started = time.process_time()
    links = resolve._confirmed(pairs, options, None)
    seconds = time.process_time() - started
    if profiler:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(20)
    kinds: dict[str, int] = {}
    for link in links:
        kinds[link.kind] = kinds.get(link.kind, 0) + 1
    print(json.dumps({"seconds": seconds, "pairs": len(pairs), "links": len(links), "kinds": kinds,
                      "hash": link_hash(links)}))


def main(argv=None) -> None:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="a finished run's output folder")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", action="append", default=[], help="another checkout (e.g. `git archive main`)")
    parser.add_argument("--profile", action="store_true", help="cProfile this checkout's confirmation once")
    args = parser.parse_args(argv)
    data = prepare(args.output)
    if args.profile:
        subprocess.run([sys.executable, __file__, "--child", str(HERE), str(data), "profile"], check=True)
        return
    checkouts = [str(HERE), *args.against]
    runs: dict[str, list[dict]] = {c: [] for c in checkouts}
    for _ in range(args.rounds):
        for checkout in checkouts:
            out = subprocess.run([sys.executable, __file__, "--child", checkout, str(data)],
                                 check=True, capture_output=True, text=True)
            runs[checkout].append(json.loads(out.stdout.splitlines()[-1]))
    first = min(r["seconds"] for r in runs[checkouts[0]])
    for checkout, results in runs.items():
        best = min(r["seconds"] for r in results)
        each = ", ".join(f"{r['seconds']:.2f}" for r in results)
        outputs = sorted({(r["links"], json.dumps(r["kinds"], sort_keys=True), r["hash"]) for r in results})
        print(f"{checkout}: {best:.2f} CPU s for {results[0]['pairs']:,} pairs (best of {len(results)}: "
              f"{each}); {best / first:.2f}x this checkout's CPU; links {outputs}")


if __name__ == "__main__":
    main()
