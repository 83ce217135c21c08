"""Long fuzz runs of the claim parser and the document readers (the suite runs a bounded version:
tests/unit/test_fuzz.py).

    .venv/bin/python benchmarks/fuzz.py hypothesis --seconds 300
    .venv/bin/python benchmarks/fuzz.py atheris --seconds 300     # needs: pip install -e '.[fuzz]'

`hypothesis` runs the targets of tests/fuzzing.py (structured feeds, pages and text files with
entities, NULs, odd encodings, dates and numbers; token soups of casualty words) in rounds of 500
examples with fresh seeds until the time is up, and prints examples per second and failures.
`atheris` runs libFuzzer's coverage-guided mutation over raw bytes with tollwatch's modules
instrumented: the first byte picks the target (claims text, a feed, a page, a text file), the rest
is the input; it starts from the example corpus (written to ./fuzz-corpus, where libFuzzer also
keeps the inputs that reach new code) and stops at --seconds, a crash, a slow input (-timeout) or
memory (-rss_limit_mb), printing its own statistics. A failing input is written as crash-*/timeout-*.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def run_hypothesis(seconds: float) -> int:
    from hypothesis import HealthCheck, given, seed, settings

    from fuzzing import CLAIM_TEXTS, DOCUMENTS, check_claims, check_document

    config = settings(max_examples=500, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
    targets = {"claims": (CLAIM_TEXTS, check_claims),
               "documents": (DOCUMENTS, lambda document: check_document(*document))}
    counts = {name: 0 for name in targets}
    failures = []

    def counted(name, check):
        def test(value):
            counts[name] += 1
            check(value)
        return test

    started = time.monotonic()
    round_index = 0
    while targets and time.monotonic() - started < seconds:
        for name, (strategy, check) in list(targets.items()):
            test = seed(round_index)(config(given(strategy)(counted(name, check))))
            try:
                test()
            except Exception as err:  # noqa: BLE001 - reported with Hypothesis's shrunk example
                failures.append(f"{name} (seed {round_index}): {type(err).__name__}: {err}"[:3000])
                del targets[name]  # one failure per target: the shrunk example says it all
        round_index += 1
    elapsed = time.monotonic() - started
    print("| target | examples run | per second |")
    print("| --- | ---: | ---: |")
    for name, n in counts.items():
        print(f"| {name} | {n} | {n / elapsed:.0f} |")
    print(f"\n{len(failures)} failure(s) in {elapsed:.0f} s")
    for failure in failures:
        print("-", failure)
    return 1 if failures else 0


def run_atheris(seconds: float, extra: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["tollwatch"]):
        from fuzzing import check_claims, check_document
        import tollwatch.transforms.claims  # noqa: F401
        import tollwatch.transforms.extract  # noqa: F401

    uris = ("/in/feed.xml", "/in/page.html", "/in/story.txt")
    corpus = Path("fuzz-corpus")
    if not corpus.is_dir():  # seeds: the example corpus, each file behind its target's byte
        corpus.mkdir()
        examples = Path(__file__).resolve().parents[1] / "examples"
        selector = {".xml": 1, ".html": 2, ".txt": 3}
        for path in sorted(examples.iterdir()):
            if path.suffix in selector:
                data = path.read_bytes()[:65_000]
                (corpus / f"{path.name}.seed").write_bytes(bytes([selector[path.suffix]]) + data)
                if path.suffix == ".txt":
                    (corpus / f"{path.name}.claims.seed").write_bytes(b"\x00" + data)

    def one_input(data: bytes) -> None:
        if not data:
            return
        choice, rest = data[0] % 4, data[1:]
        if choice == 0:
            check_claims(rest.decode("utf-8", errors="replace"))
        else:
            check_document(uris[choice - 1], rest)

    atheris.Setup([sys.argv[0], f"-max_total_time={int(seconds)}", "-timeout=30", "-rss_limit_mb=3072",
                   "-max_len=65536", *extra, str(corpus)], one_input)
    atheris.Fuzz()


def main() -> int:
    import logging

    logging.disable(logging.CRITICAL)  # trafilatura logs every page it cannot read
    parser = argparse.ArgumentParser(description="Long fuzz runs of the claim parser and the readers.")
    parser.add_argument("engine", choices=("hypothesis", "atheris"))
    parser.add_argument("--seconds", type=float, default=300)
    args, extra = parser.parse_known_args()
    if args.engine == "hypothesis":
        return run_hypothesis(args.seconds)
    run_atheris(args.seconds, extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
