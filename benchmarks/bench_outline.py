"""The cost of copy confirmation by sentence alignment, per article, on the bench corpus's texts.

    .venv/bin/python benchmarks/bench_outline.py --docs 1000 [--profile]

Takes the articles of ``corpus.plan`` (title and paragraphs, as the text files carry them; no
HTML is rendered or extracted) and times, in one run: the MinHash signature
(``make_signature``), the outline (``with_outline``: ``alignment.outline``, packed,
and the lead keys), the candidates (``resolve.near_candidates``) and their confirmation
(``compare``). It prints ms per article and a digest of the confirmed links, so that two
versions of the code can be checked to link the same pairs with the same kinds and similarities
(run each version, compare the ``links_sha256`` lines). Times are CPU seconds of this process
(``time.process_time``): the machine is shared, and wall time follows its load.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import sys
import time
from pathlib import Path

from apache_beam.utils.timestamp import Timestamp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import CorpusSpec, plan  # noqa: E402

from tollwatch.transforms.duplicates import resolve  # noqa: E402
from tollwatch.transforms.duplicates.minhash import MinHasher  # noqa: E402
from tollwatch.transforms.duplicates.settings import MIN_SHINGLES, near_options  # noqa: E402
from tollwatch.transforms.duplicates.similarity import (  # noqa: E402
    compare, make_signature, with_outline)


def texts(n_docs: int) -> list[tuple[str, Timestamp, str]]:
    "(doc id, publication time, text) of the corpus's articles."
    docs, _, _ = plan(CorpusSpec(docs=n_docs))
    return [(f"d{i:06d}", Timestamp.from_utc_datetime(d.published),
             d.title + "\n\n" + "\n\n".join(d.paragraphs))
            for i, d in enumerate(docs) if d.kind != "hostile"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="cProfile the outline and the confirmation")
    args = parser.parse_args()
    articles = texts(args.docs)
    hasher, options = MinHasher(), near_options()
    profile = cProfile.Profile() if args.profile else None

    start = time.process_time()
    signatures = [make_signature(doc_id, at, text, hasher) for doc_id, at, text in articles]
    signed = time.process_time() - start
    if profile:
        profile.enable()
    start = time.process_time()
    signatures = [with_outline(sig, text) for sig, (_, _, text) in zip(signatures, articles)]
    outlined = time.process_time() - start
    start = time.process_time()
    pairs = resolve.near_candidates([s for s in signatures if s.n_shingles >= MIN_SHINGLES], options)
    proposed = time.process_time() - start
    start = time.process_time()
    links = [link for link in (compare(a, b) for a, b in pairs) if link is not None]
    confirmed = time.process_time() - start
    if profile:
        profile.disable()
    n = len(articles)
    digest = hashlib.sha256(repr(sorted(
        (l.doc.doc_id, l.other.doc_id, l.kind, round(l.similarity, 4), round(l.jaccard, 4))
        for l in links)).encode()).hexdigest()
    print(f"articles {n}, candidate pairs {len(pairs)}, links {len(links)} "
          f"({sum(l.kind == 'near' for l in links)} near, {sum(l.kind == 'aligned' for l in links)} "
          f"aligned, {sum(l.kind == 'rewrite' for l in links)} rewrite)")
    print(f"signature {1000 * signed / n:.3f} ms/article, outline {1000 * outlined / n:.3f} ms/article, "
          f"candidates {proposed:.3f} s, confirmation {confirmed:.3f} s "
          f"({1000 * confirmed / max(1, len(pairs)):.3f} ms/pair)")
    print(f"links_sha256 {digest}")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
