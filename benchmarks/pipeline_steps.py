"""The batch run's own DoFns, step after step, in ONE process and without a runner: CPU seconds per
step. Set beside the worker CPU of `tollwatch run` on the same corpus (bench.py's `CPU s`), the
difference is what the runner itself costs (moving data between stages, starting its workers).

    .venv/bin/python benchmarks/pipeline_steps.py .bench/corpus-2000 [--files N]

Unlike bench.py's "stages alone" (each stage's pure function), this drives the DoFns the pipeline
runs (ReadFileFn, ExtractArticlesFn, StripRepeatedPassagesFn, AssignEventsFn, StageArticlesFn,
the resolver as ResolveDuplicatesFn runs it, ApplyVerdictsFn, the toll sweep and the Parquet
sinks), so it counts what they
do beyond the stage functions: the alignment outline, the rewrite traits, the staging files, the
resolver's confirmations. The lines indented under a step time parts of it again, apart.

2026-12-05, 2k corpus (1,558 files, 1,990 articles), machine load 5-7 on its 2 cores, each run
beside a `tollwatch run` of the same minutes: the steps took 44.8 and 45.9 CPU s in all (extract
34.7, of which language detection 2.2-2.5; staging 6.9-7.0, of which claims 3.9-4.4 and signature
with outline 1.7-2.3; resolver 1.3-1.7; apply, toll and writes 1.1-1.7) against 51.4 and 51.5
worker CPU s for the run on 2 workers, which spends ~6.5 of them starting and stopping its workers
whatever the input (a run on 20 files: 6.4-7.3).
"""

from __future__ import annotations

import argparse
import collections
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable


def _values(outputs) -> list:
    """The main output of a DoFn's process(), without the tagged outputs."""
    import apache_beam as beam

    return [x for x in outputs if not isinstance(x, beam.pvalue.TaggedOutput)]


def steps(corpus: Path, files: int | None = None, bundle: int = 100) -> tuple[dict[str, float], dict]:
    """CPU seconds per step over the corpus (its first `files` files, largest first, if given) and
    the rows made."""
    import apache_beam as beam
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.schemas import Article, Claim, TollWindow
    from tollwatch.transforms import language
    from tollwatch.transforms.claims import article_claims, read_source_files, sources_from_texts
    from tollwatch.transforms.duplicates.minhash import MinHasher
    from tollwatch.transforms.duplicates.resolve import decide, lean_digest, verdicts_of
    from tollwatch.transforms.duplicates.rewrites import MAX_GAP, CreditFinder, story_traits
    from tollwatch.transforms.duplicates.settings import near_options
    from tollwatch.transforms.duplicates.similarity import signature_of
    from tollwatch.transforms.events import AssignEventsFn, load_events
    from tollwatch.transforms.extract import ExtractArticlesFn, normalized_text_hash
    from tollwatch.transforms.inputs.files import ReadFileFn, match_largest_first, resolve_inputs
    from tollwatch.transforms.parquet import ParquetSink, partition_value
    from tollwatch.transforms.repeats import MIN_CHARS, StripRepeatedPassagesFn
    from tollwatch.transforms.staging import (
        ApplyVerdictsFn, StageArticlesFn, read_digests, read_sketches, write_verdicts)
    from tollwatch.transforms.toll import bounded_toll

    cpu: dict[str, float] = collections.Counter()

    def timed(name: str, fn: Callable):
        started = time.process_time()
        result = fn()
        cpu[name] += time.process_time() - started
        return result

    now = Timestamp.now()
    refs = match_largest_first(resolve_inputs([str(corpus / "input")]))[:files]
    read = ReadFileFn(256 << 20, now)
    raws = timed("read", lambda: [r for ref in refs for r in _values(read.process(ref))])
    extract = ExtractArticlesFn()
    extract.setup()
    articles = timed("extract", lambda: [a.value for raw in raws for a in _values(extract.process(raw))])
    extract.teardown()
    language.detect_sample.cache_clear()  # filled by the extraction: measured again, from empty
    timed("  extract: language detection", lambda: [language.detect(a.text) for a in articles])
    strip = StripRepeatedPassagesFn(MIN_CHARS)
    articles = timed("strip_repeats", lambda: [x for a in articles for x in _values(strip.process(a))])
    assign = AssignEventsFn(load_events(str(corpus / "events.toml")))
    assign.setup()
    articles = timed("assign_events", lambda: [x for a in articles for x in _values(assign.process(a))])

    folder = tempfile.mkdtemp(prefix="pipeline_steps-")
    try:
        source_files = [str(corpus / "sources.toml")]
        source_texts = read_source_files(source_files)
        o = near_options()
        fn = StageArticlesFn(folder, source_texts, CreditFinder.from_sources(source_files), o)
        fn.setup()

        def stage_all() -> list[str]:
            bases = []
            for i in range(0, len(articles), bundle):
                fn.start_bundle()
                for a in articles[i:i + bundle]:
                    bases += _values(fn.process(a))
                fn.finish_bundle()
            return bases

        bases = timed("stage", stage_all)
        table, hasher, finder = (sources_from_texts(source_texts), MinHasher(o.num_perm, o.seed),
                                 CreditFinder.from_sources(source_files))
        timed("  stage: claims", lambda: [article_claims(a, table) for a in articles])
        timed("  stage: signature and outline", lambda: [
            signature_of(a, hasher, o.shingle_size, o.sketch_size)
            for a in articles if a.published_at is not None])
        timed("  stage: rewrite traits", lambda: [story_traits(a, finder) for a in articles])
        timed("  stage: text hash", lambda: [normalized_text_hash(a.text) for a in articles])

        def resolve() -> list[str]:  # as resolve.ResolveDuplicatesFn does it
            shared: dict = {}
            digests = (lean_digest(d, shared) for d in read_digests(sorted(bases)))
            decided, _ = decide(digests, (), o, MAX_GAP,
                                lambda doc_ids: read_sketches(sorted(bases), doc_ids))
            decided.sort(key=lambda d: d.staged)
            return list(write_verdicts(verdicts_of(decided)))

        decided = timed("resolve", resolve)
        apply = ApplyVerdictsFn()
        out = timed("apply_verdicts", lambda: [x for base in decided for x in apply.process(base)])
        final = [x.value for x in out if not isinstance(x, beam.pvalue.TaggedOutput)]
        claims = [x.value.value for x in out
                  if isinstance(x, beam.pvalue.TaggedOutput) and x.tag == ApplyVerdictsFn.CLAIMS]

        rows = timed("toll", lambda: bounded_toll(claims, now))

        def write(records: list, record_type: type, field: str) -> None:
            sinks: dict[str, ParquetSink] = {}
            for record in records:
                partition = partition_value(getattr(record, field))
                if partition not in sinks:
                    sinks[partition] = ParquetSink(record_type)
                    sinks[partition].open(open(f"{folder}/{record_type.__name__}-{partition}.parquet", "wb"))
                sinks[partition].write((partition, record))
            for sink in sinks.values():
                sink.flush()

        timed("parquet_write", lambda: (write(final, Article, "published_at"),
                                        write(claims, Claim, "published_at"),
                                        write(rows, TollWindow, "window_end")))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return dict(cpu), {"files": len(refs), "articles": len(final), "claims": len(claims),
                       "toll": len(rows)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="a corpus folder of benchmarks/corpus.py")
    parser.add_argument("--files", type=int, default=None, help="only the N largest files")
    args = parser.parse_args(argv)
    logging.getLogger().setLevel(logging.ERROR)
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    cpu, rows = steps(args.corpus, args.files)
    total = sum(s for name, s in cpu.items() if not name.startswith(" "))
    print(f"rows: {rows}")
    for name, seconds in cpu.items():
        print(f"{name:32} {seconds:7.2f} CPU s {100 * seconds / total:5.1f}%")
    print(f"{'all steps':32} {total:7.2f} CPU s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
