"""Language detection with the DFA walked by numpy (transforms/language.py) against py3langid's own
classify: the proof that they are the same function, the same answers on every real set, and the
CPU saved.

    .venv/bin/python benchmarks/language_walk.py [--prove] [--sets] [--folders FOLDER ...]
        [--output OUT ...] [--time OUT] [--rounds 5]

--prove   checks, over every state and byte of the installed model's DFA, the property the walk at
          once rests on (below); ~10 s.
--sets    compares over the shared real sets (realdev's parts, corpora/html and feeds, the seeds),
          extracted as `tollwatch run` does it (benchmarks/language_sample.py).
--folders compares over other input folders, extracted the same way (e.g. the 2k bench corpus).
--output  compares over the `text` column of a `tollwatch run` output's articles.
--time    times `language.detect` over an output's article texts in file order, as the pipeline
          calls it (a fresh cache each round), py3langid's classify and the walk at once
          alternated, best of `--rounds` (CPU seconds).

A comparison calls `language.detect` (language and probability) and `language.article_language`
(the value stored; the declared tag when the set has one, none for an output's texts) with each
identifier, and `classify` on each whole text, and counts the articles whose result differs at all
(the probabilities compared bit for bit, not within a tolerance).

Why the walk at once is py3langid's walk: py3langid's model is an Aho-Corasick automaton over
UTF-8 bytes. Name each state by the bytes of a shortest path from the root to it (its string); the
strings are distinct and every prefix of one is one (the paths are breadth first). The DFA
property: from every state s, byte b leads to the state whose string is the longest suffix of
string(s) + b that is a string of a state. Then, by induction over the text, the state after any
text is the one of its longest suffix that is a string; no string is longer than the depth D, so
it is the state the root reaches by walking the text's last D bytes alone; the walk at once takes
those D steps for every byte in parallel. `--prove` checks the names are distinct and the DFA
property for all 256 bytes of every state.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from language_sample import REAL_SETS, declared_and_texts  # noqa: E402

from tollwatch.transforms import language  # noqa: E402


def reference():
    """py3langid's identifier as the code before the walk at once loaded it."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True,
                                              min_confidence=language.MIN_CONFIDENCE)


class Using:
    """`language` with a given identifier and a fresh sample cache, for the block's length."""

    def __init__(self, detector):
        self.detector = detector

    def __enter__(self):
        self.kept = language.identifier
        language.identifier = lambda: self.detector
        language.detect_sample.cache_clear()

    def __exit__(self, *exc):
        language.identifier = self.kept
        language.detect_sample.cache_clear()


def prove(moves: np.ndarray, rows: np.ndarray) -> bool:
    """Checks the DFA property over every state and byte; prints what it found."""
    count = len(rows)
    every_byte = np.arange(256, dtype=np.int64)
    depth = np.full(count, -1, dtype=np.int64)
    name = np.zeros(count, dtype=np.int64)  # the string's bytes, big-endian (<= 7 bytes)
    depth[0] = 0
    frontier = np.zeros(1, dtype=np.int64)
    while len(frontier):
        level = depth[frontier[0]]
        for at in range(0, len(frontier), 2048):
            parents = frontier[at:at + 2048]
            targets = moves[rows[parents][:, None] + every_byte]
            new = depth[targets] < 0
            found, first = np.unique(targets[new], return_index=True)
            parent = np.broadcast_to(parents[:, None], targets.shape)[new][first]
            byte = np.broadcast_to(every_byte, targets.shape)[new][first]
            depth[found] = level + 1
            name[found] = name[parent] * 256 + byte
        frontier = np.flatnonzero(depth == level + 1)
    top = int(depth.max())
    print(f"DFA: {count} states, {len(moves) // 256} distinct rows, depth {top} "
          f"(language.trie_depth says {language.trie_depth(moves, rows)}), "
          f"unreached {int((depth < 0).sum())}")
    if (depth < 0).any() or top > 6 or top != language.trie_depth(moves, rows):
        return False
    # (length, name) -> state, as sorted keys per length
    by_length = {}
    for length in range(top + 1):
        states = np.flatnonzero(depth == length)
        order = np.argsort(name[states])
        keys = name[states][order]
        if len(np.unique(keys)) != len(keys):
            print(f"two states share a string of length {length}")
            return False
        by_length[length] = (keys, states[order])
    wrong = 0
    for at in range(0, count, 2048):
        states = np.arange(at, min(at + 2048, count))
        text = (name[states][:, None] * 256 + every_byte).ravel()
        length = np.repeat(depth[states] + 1, 256)
        expected = np.zeros(len(text), dtype=np.int64)  # the root: the empty suffix
        settled = np.zeros(len(text), dtype=bool)
        for suffix in range(top, 0, -1):
            keys, owners = by_length[suffix]
            candidate = text & ((1 << (8 * suffix)) - 1)
            place = np.minimum(np.searchsorted(keys, candidate), len(keys) - 1)
            hit = ~settled & (length >= suffix) & (keys[place] == candidate)
            expected[hit] = owners[place[hit]]
            settled |= hit
        actual = moves[rows[states][:, None] + every_byte].ravel()
        wrong += int((actual != expected).sum())
    print(f"DFA property: {wrong} of {count * 256} transitions differ from the longest suffix")
    return wrong == 0


def compare(name: str, items: list[tuple], old, new) -> int:
    """Counts the items (declared tag, text) whose detection or stored language differ."""
    results = []
    for detector in (old, new):
        with Using(detector):
            results.append([(language.detect(text), language.article_language(declared, text))
                            for declared, text in items])
    differ = sum(a != b for a, b in zip(*results))
    drift = max((abs(a[0][1] - b[0][1]) for a, b in zip(*results)), default=0.0)
    # The whole texts too (the pipeline reads the first SAMPLE_CHARS): more of the DFA walked.
    whole = sum(old.classify(text or "") != new.classify(text or "") for _, text in items)
    found: dict = {}
    for _, stored in results[1]:
        found[stored] = found.get(stored, 0) + 1
    print(f"{name}: {len(items)} articles, {differ} differ (largest probability difference "
          f"{drift:.3g}), whole texts {whole} differ; languages: "
          f"{dict(sorted(found.items(), key=str))}")
    return differ + whole


def output_texts(output: Path) -> list[str]:
    import pyarrow.dataset as ds

    rows = ds.dataset(str(output / "articles"), format="parquet", partitioning="hive").to_table(
        columns=["uri", "text"]).to_pylist()
    return [r["text"] for r in sorted(rows, key=lambda r: r["uri"])]


def timing(texts: list[str], old, new, rounds: int) -> None:
    times: dict[str, list[float]] = {"py3langid classify": [], "walk at once": []}
    for _ in range(rounds):
        for label, detector in (("py3langid classify", old), ("walk at once", new)):
            with Using(detector):
                started = time.process_time()
                for text in texts:
                    language.detect(text)
                times[label].append(time.process_time() - started)
    for label, values in times.items():
        print(f"  {label}: {min(values):.2f} CPU s for {len(texts)} articles, "
              f"{min(values) * 1000 / len(texts):.3f} ms an article (best of {rounds}: "
              f"{', '.join(f'{v:.2f}' for v in values)})")
    rounds_ratio = sorted(a / b for a, b in zip(times["py3langid classify"], times["walk at once"]))
    print(f"  ratio: {min(times['py3langid classify']) / min(times['walk at once']):.2f}x less CPU "
          f"(best against best); each round's ratio {', '.join(f'{r:.2f}' for r in rounds_ratio)}, "
          f"median {rounds_ratio[len(rounds_ratio) // 2]:.2f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prove", action="store_true")
    parser.add_argument("--sets", action="store_true")
    parser.add_argument("--folders", nargs="*", type=Path, default=[])
    parser.add_argument("--output", nargs="*", type=Path, default=[])
    parser.add_argument("--time", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    started = time.process_time()
    old = reference()
    loaded = time.process_time()
    new = language.identifier()
    print(f"load: py3langid {loaded - started:.2f} CPU s, walk at once "
          f"{time.process_time() - loaded:.2f} CPU s")
    failed = 0
    if args.prove:
        failed += not prove(new._moves, new._rows)
    for folder in (REAL_SETS if args.sets else []) + args.folders:
        items = [(declared, text) for declared, text, _ in declared_and_texts(folder)]
        failed += bool(compare(str(folder), items, old, new))
    for output in args.output:
        failed += bool(compare(str(output), [(None, t) for t in output_texts(output)], old, new))
    if args.time:
        print(f"timing over {args.time}:")
        timing(output_texts(args.time), old, new, args.rounds)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
