"""Why each labelled copy that ``tollwatch eval-dedup`` misses is missed: the signals of the pair
beside the thresholds they fail, and the closest non-copies, so a change of a threshold can be
judged by what it would link first.

    .venv/bin/python benchmarks/dedup_misses.py [REALDEV_OR_PART ...] [--negatives N]

Each part is run through the batch pipeline (``evaluate.dedup_scores``: the predicted clusters);
the texts are read back from a second run's output, as the resolver saw them (extracted, repeated
passages stripped). For each missed pair it prints:

- ``shingles``: Jaccard, containment of the shorter in the longer, shared shingles (a near copy:
  J >= 0.5, or C >= 0.8 with >= 100 shared; a short copy among furniture: C >= 0.35 and two
  verbatim sentences, the first in the lead);
- ``candidate``: whether the resolver compares the pair at all (LSH bands, two shared figures or a
  shared lead sentence: ``resolve.near_candidates``);
- ``aligned``: the evidence of the in-order aligned sentences (after a common closing is dropped
  and quotes are capped), the shorter text's sentences and the share (a copy or rewrite: >= 2.2
  and >= 0.25), and the verbatim sentences (similarity >= 0.7, not quotes);
- ``figures``: distinct figures shared in the same order (a translation: >= 5 and >= 0.8 of the
  fewer);
- ``verdict``: ``similarity.compare`` of the two signatures.

Then, per part, the ``--negatives`` pairs of two different labelled stories with the most aligned
evidence: what a lower threshold links first. Figures only; nothing is written.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

import duckdb
from apache_beam.utils.timestamp import Timestamp

from tollwatch.pipeline.cli import run_pipeline
from tollwatch.pipeline.evaluate import dedup_scores, labelled_sets
from tollwatch.pipeline.dedup_eval import load_labels, story_of, uri_name
from tollwatch.schemas.duplicates import Signature
from tollwatch.transforms.duplicates import alignment
from tollwatch.transforms.duplicates.minhash import MinHasher
from tollwatch.transforms.duplicates.resolve import near_candidates
from tollwatch.transforms.duplicates.settings import near_options
from tollwatch.transforms.duplicates.similarity import compare, make_signature, overlap, with_outline

DEFAULT_REALDEV = Path(__file__).resolve().parents[2] / "shared" / "realdev"


def signatures(patterns: list[str]) -> dict[str, Signature]:
    """Label name -> the Signature (with outline) of each article the pipeline writes."""
    options = near_options()
    hasher = MinHasher(options.num_perm, options.seed)
    with tempfile.TemporaryDirectory(prefix="tollwatch-dedup-misses-") as out:
        run_pipeline(patterns, out)
        rows = duckdb.sql(f"SELECT uri, doc_id, published_at, text FROM "
                          f"read_parquet('{out}/articles/*/*.parquet')").fetchall()
    out = {}
    for uri, doc_id, published, text in rows:
        sig = make_signature(doc_id, Timestamp(micros=round(published.timestamp() * 1e6)),
                             text or "", hasher)
        out[uri_name(uri)] = with_outline(sig, text or "")
    return out


def pair_signals(a: Signature, b: Signature) -> dict:
    "The signals a copy decision reads, for one pair of signatures."
    ov = overlap(a.sketch, a.n_shingles, b.sketch, b.n_shingles)
    oa, ob = alignment.unpack_outline(a.outline), alignment.unpack_outline(b.outline)
    short, long_ = (oa, ob) if len(oa.sentences) <= len(ob.sentences) else (ob, oa)
    evidence, n = alignment.aligned_evidence(oa, ob)
    verbatim = [(i, j, round(v, 2)) for i, j, v in alignment.without_common_tail(
        alignment.alignment_chain(oa, ob, alignment.VERBATIM_SIMILARITY), oa, ob)
        if not (i in short.quoted and j in long_.quoted)]
    link = compare(a, b)
    return {"jaccard": ov.jaccard, "containment": ov.containment, "shared": ov.shared,
            "evidence": evidence, "sentences": n, "share": evidence / n if n else 0.0,
            "verbatim": verbatim, "english": (oa.english, ob.english),
            "figures": alignment.figures_in_order(oa.figures, ob.figures),
            "fewest_figures": min(len(oa.figures), len(ob.figures)),
            "verdict": None if link is None else f"{link.kind} {link.similarity:.3f}"}


def describe(name_a: str, name_b: str, s: dict, candidate: bool) -> str:
    return (f"  {name_a} ~ {name_b}\n"
            f"    shingles J {s['jaccard']:.3f} C {s['containment']:.3f} shared {s['shared']}; "
            f"candidate {'yes' if candidate else 'NO'}\n"
            f"    aligned evidence {s['evidence']:.2f} of {s['sentences']} sentences "
            f"(share {s['share']:.2f}); verbatim {s['verbatim']}\n"
            f"    figures in order {s['figures']} of {s['fewest_figures']}; english {s['english']}; "
            f"verdict {s['verdict']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labels", nargs="*", default=[str(DEFAULT_REALDEV)])
    parser.add_argument("--negatives", type=int, default=5)
    args = parser.parse_args(argv)
    scores = dedup_scores(args.labels)
    for name, labels_file, patterns in labelled_sets(args.labels, []):
        labels, score = load_labels(labels_file), scores[name]
        sigs = signatures(patterns)
        pairs = near_candidates(list(sigs.values()), near_options())
        compared = {frozenset((x.doc_id, y.doc_id)) for x, y in pairs}

        def candidate(x: str, y: str) -> bool:
            return frozenset((sigs[x].doc_id, sigs[y].doc_id)) in compared

        print(f"== {name}: {len(score.missed_pairs)} missed pair(s)")
        for m in score.missed_pairs:
            print(f"  [{m.relation}]" + describe(m.a, m.b, pair_signals(sigs[m.a], sigs[m.b]),
                                                  candidate(m.a, m.b))[1:])
        story = story_of(labels)
        negatives = []
        for x, y in itertools.combinations(sorted(n for n in sigs if n in story), 2):
            if story[x] != story[y]:
                negatives.append((x, y, pair_signals(sigs[x], sigs[y])))
        negatives.sort(key=lambda t: -t[2]["evidence"])
        print(f"-- {name}: the {args.negatives} non-copies with the most aligned evidence")
        for x, y, s in negatives[:args.negatives]:
            key = frozenset((x, y))
            tag = "none" if key in labels.not_duplicates else "unrelated"
            print(f"  [{tag}]" + describe(x, y, s, candidate(x, y))[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
