"""Benchmark tollwatch's near-duplicate core against datasketch on the same documents.

    .venv/bin/python benchmarks/bench_dedup.py --n 10000

Generates ``--n`` synthetic news-like documents (400-800 words from a Zipf-distributed vocabulary,
sentences and paragraphs, seeded RNG) of which ``--copy-share`` are edited copies of an earlier one
(trimmed, retitled, re-paragraphed, intro added, paragraph added, typos, embedded in a piece twice
as long), then, each engine in its own process so peak memory is its own:

- tollwatch: ``make_signature`` (normalise, hash words once, combine into shingles, vectorised
  MinHash, bottom-k sketch) + ``band_keys`` + a dict of lists as the LSH index (what ``BucketFn``
  holds per key);
- datasketch with the same words, ``num_perm`` and banding (``MinHashLSH(threshold, num_perm,
  weights)`` picks the same bands x rows), ``MinHash.update_batch`` on the shingle strings,
  ``MinHashLSH.query`` + ``insert``;
- datasketch as commonly configured (``num_perm=128, threshold=0.5``), for reference.

Both engines' candidate pairs are confirmed with the same rule (``near_similarity`` on exact shingle
sets); the table reports docs/second (signature + LSH, confirmation excluded), candidates, confirmed
pairs, recall of the planted copies, and the agreement between the engines. It also times the
seed articles and checks the bottom-k sketch against exact sets on every candidate pair.
"""

from __future__ import annotations

import argparse
import glob
import multiprocessing
import os
import re
import resource
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from apache_beam.utils.timestamp import Timestamp

from tollwatch.transforms.duplicates.lsh import band_keys
from tollwatch.transforms.duplicates.minhash import MinHasher
from tollwatch.transforms.duplicates.settings import BANDS, NUM_PERM, SHINGLE_SIZE, SKETCH_SIZE
from tollwatch.transforms.duplicates.similarity import (
    compare, make_signature, near_similarity, overlap)
from tollwatch.transforms.duplicates.shingles import shingles
from tollwatch.transforms.text import shingle_words as tokens
from tollwatch.transforms.repeats import strip_repeated_passages

SHARED = Path(os.environ.get("TOLLWATCH_SHARED", Path(__file__).resolve().parents[2] / "shared"))
SEEDS = str(SHARED / "seeds" / "*.txt")


# ---- synthetic corpus ---------------------------------------------------------------------------
def make_vocabulary(rng: np.random.Generator, size: int) -> list[str]:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    lengths = rng.integers(2, 11, size)
    return ["".join(rng.choice(letters, n)) for n in lengths]


def make_corpus(n: int, copy_share: float, seed: int):
    """Return (texts, planted) where planted is a set of (copy index, source index, edit)."""
    rng = np.random.default_rng(seed)
    vocab = make_vocabulary(rng, 20000)
    weights = 1.0 / np.arange(1, len(vocab) + 1) ** 1.07
    weights /= weights.sum()

    def words(k):
        return [vocab[i] for i in rng.choice(len(vocab), k, p=weights)]

    def paragraphs(n_words):
        out, left = [], n_words
        while left > 0:
            para = []
            for _ in range(int(rng.integers(2, 5))):
                s = words(int(rng.integers(10, 30)))
                s[0] = s[0].capitalize()
                para.append(" ".join(s) + ".")
            out.append(" ".join(para))
            left -= sum(len(p.split()) for p in para)
        return out

    edits = ["trim", "retitle", "reparagraph", "intro", "paragraph", "typos", "embed"]
    texts, planted = [], set()
    for i in range(n):
        if i > 10 and rng.random() < copy_share:
            src = int(rng.integers(0, i))
            edit = edits[int(rng.integers(0, len(edits)))]
            paras = texts[src].split("\n\n")
            if edit == "trim":
                paras = paras[:max(1, int(len(paras) * rng.uniform(0.6, 0.9)))]
            elif edit == "retitle":
                paras = [" ".join(words(8)).title()] + paras
            elif edit == "reparagraph":
                paras = [" ".join(paras[j:j + 2]) for j in range(0, len(paras), 2)]
            elif edit == "intro":
                paras = paragraphs(60)[:1] + paras
            elif edit == "paragraph":
                at = int(rng.integers(0, len(paras) + 1))
                paras = paras[:at] + paragraphs(50)[:1] + paras[at:]
            elif edit == "typos":
                toks = "\n\n".join(paras).split(" ")
                for j in rng.choice(len(toks), len(toks) // 40, replace=False):
                    toks[j] = toks[j][::-1] + "x"
                paras = " ".join(toks).split("\n\n")
            elif edit == "embed":
                n_src = sum(len(p.split()) for p in paras)
                extra = paragraphs(n_src)
                paras = extra[:len(extra) // 2] + paras + extra[len(extra) // 2:]
            texts.append("\n\n".join(paras))
            planted.add((i, src, edit))
        else:
            texts.append("\n\n".join(paragraphs(int(rng.integers(400, 800)))))
    return texts, planted


# ---- engines ------------------------------------------------------------------------------------
def run_tollwatch(texts, num_perm, bands, rows, sketch_size):
    hasher = MinHasher(num_perm)
    index: dict[bytes, list[int]] = defaultdict(list)
    candidates = set()
    sigs = []
    make_signature("warm-up", Timestamp(0), texts[0], hasher)  # builds the lazy tables
    t0 = time.perf_counter()
    for i, text in enumerate(texts):
        sig = make_signature(str(i), Timestamp(i), text, hasher, sketch_size=sketch_size)
        sigs.append(sig)
        for key in band_keys(np.frombuffer(sig.minhash, dtype="<u4"), bands, rows):
            bucket = index[key]
            candidates.update((j, i) for j in bucket)
            bucket.append(i)
    elapsed = time.perf_counter() - t0
    t1 = time.perf_counter()
    sketch_links = {pair for pair in candidates if compare(sigs[pair[1]], sigs[pair[0]])}
    confirm_time = time.perf_counter() - t1
    return dict(elapsed=elapsed, candidates=candidates, sketch_links=sketch_links,
                confirm_us=confirm_time / max(1, len(candidates)) * 1e6,
                bands=bands, rows=rows, num_perm=num_perm)


def run_datasketch(texts, num_perm, threshold, weights):
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=weights)
    candidates = set()
    k = SHINGLE_SIZE
    tokens(texts[0])  # builds the lazy tables
    t0 = time.perf_counter()
    for i, text in enumerate(texts):
        words = tokens(text)
        shingles = [" ".join(words[j:j + k]).encode("utf-8") for j in range(len(words) - k + 1)]
        m = MinHash(num_perm=num_perm)
        m.update_batch(shingles)
        candidates.update((j, i) for j in lsh.query(m))
        lsh.insert(i, m)
    elapsed = time.perf_counter() - t0
    return dict(elapsed=elapsed, candidates=candidates, bands=lsh.b, rows=lsh.r, num_perm=num_perm)


def _child(conn, engine, args):
    start_rss = current_rss_mb()
    result = engine(*args)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["start_rss_mb"] = start_rss
    conn.send(result)
    conn.close()


def in_child(engine, *args):
    """Run an engine in a fresh (spawned) interpreter; return its result with its own peak RSS and
    its RSS before it started (interpreter, libraries and the corpus). A forked child would share
    the parent's heap copy-on-write, which slows every allocation and blurs the peak."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, engine, args))
    proc.start()
    result = parent.recv()
    proc.join()
    return result


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# ---- main ---------------------------------------------------------------------------------------
def exact_links(texts, pairs):
    "Return the pairs that are near duplicates on their full (exact) shingle sets."
    cache = {}

    def sh(i):
        if i not in cache:
            cache[i] = shingles(texts[i])
        return cache[i]

    out = set()
    for a, b in pairs:
        sa, sb = sh(a), sh(b)
        if near_similarity(overlap(sa, sa.size, sb, sb.size)) is not None:
            out.add((a, b))
    return out


def time_seeds():
    hasher = MinHasher()
    rows = []
    for path in sorted(glob.glob(SEEDS)):
        text = re.sub(r"^\s*date \d{4}-\d{2}-\d{2}\s*", "", open(path, encoding="utf-8").read())
        for f in (lambda: strip_repeated_passages(text),
                  lambda: make_signature("s", Timestamp(0), text, hasher)):
            f()
        t0 = time.perf_counter()
        for _ in range(200):
            strip_repeated_passages(text)
        t_strip = (time.perf_counter() - t0) / 200 * 1e6
        t0 = time.perf_counter()
        for _ in range(200):
            make_signature("s", Timestamp(0), text, hasher)
        t_sig = (time.perf_counter() - t0) / 200 * 1e6
        rows.append((os.path.basename(path)[:3], len(tokens(text)), t_strip, t_sig))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--copy-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--num-perm", type=int, default=NUM_PERM)
    parser.add_argument("--bands", type=int, default=BANDS)
    parser.add_argument("--sketch-size", type=int, default=SKETCH_SIZE)
    args = parser.parse_args(argv)
    rows = args.num_perm // args.bands

    t0 = time.perf_counter()
    texts, planted = make_corpus(args.n, args.copy_share, args.seed)
    n_words = sum(len(t.split()) for t in texts)
    print(f"corpus: {len(texts)} documents, {n_words / len(texts):.0f} words on average, "
          f"{len(planted)} planted copies, generated in {time.perf_counter() - t0:.1f} s")

    # The banding datasketch picks for the same design point (threshold 1/3, FN weighted 9:1).
    ds_threshold, ds_weights = 1 / 3, (0.1, 0.9)
    ours = in_child(run_tollwatch, texts, args.num_perm, args.bands, rows, args.sketch_size)
    theirs = in_child(run_datasketch, texts, args.num_perm, ds_threshold, ds_weights)
    common = in_child(run_datasketch, texts, 128, 0.5, (0.5, 0.5))

    planted_pairs = {(src, copy) for copy, src, _ in planted}
    results = [("tollwatch", ours), ("datasketch, same banding", theirs),
               ("datasketch 128 perm, t=0.5", common)]
    confirmed = {}
    for name, r in results:
        confirmed[name] = exact_links(texts, r["candidates"])
    truth_union = set().union(*confirmed.values())

    print()
    print("| engine | num_perm | bands x rows | docs/s | candidates | confirmed pairs "
          "| planted copies found | peak RSS MB (at start) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results:
        found = len(confirmed[name] & planted_pairs)
        print(f"| {name} | {r['num_perm']} | {r['bands']} x {r['rows']} "
              f"| {len(texts) / r['elapsed']:,.0f} | {len(r['candidates']):,} "
              f"| {len(confirmed[name]):,} | {found}/{len(planted_pairs)} "
              f"| {r['peak_rss_mb']:.0f} ({r['start_rss_mb']:.0f}) |")
    speedup = theirs["elapsed"] / ours["elapsed"]
    speedup_common = common["elapsed"] / ours["elapsed"]
    both = confirmed["tollwatch"] & confirmed["datasketch, same banding"]
    print()
    print(f"speed-up, signature + LSH: {speedup:.1f}x vs datasketch with the same banding, "
          f"{speedup_common:.1f}x vs datasketch 128 perm")
    print(f"agreement (confirmed pairs, same banding): both {len(both):,}, only tollwatch "
          f"{len(confirmed['tollwatch'] - both):,}, only datasketch "
          f"{len(confirmed['datasketch, same banding'] - both):,}; union of all engines "
          f"{len(truth_union):,}")
    by_edit = defaultdict(lambda: [0, 0])
    for copy, src, edit in planted:
        by_edit[edit][1] += 1
        by_edit[edit][0] += (src, copy) in confirmed["tollwatch"]
    print("tollwatch recall by edit: " + ", ".join(
        f"{e} {a}/{b}" for e, (a, b) in sorted(by_edit.items())))
    sketch = ours["sketch_links"]
    exact = confirmed["tollwatch"]
    print(f"sketch_size={args.sketch_size} vs exact sets on the {len(ours['candidates']):,} "
          f"candidates: {len(sketch & exact):,} agree, {len(sketch - exact)} only by sketch, "
          f"{len(exact - sketch)} only exact; confirmation {ours['confirm_us']:.0f} us/candidate")

    print()
    print("| seed | words | strip_repeated_passages us | make_signature us |")
    print("| --- | ---: | ---: | ---: |")
    for name, n, t_strip, t_sig in time_seeds():
        print(f"| {name} | {n} | {t_strip:.0f} | {t_sig:.0f} |")


if __name__ == "__main__":
    main()
