"""Capacity figures of the whole pipeline (`tollwatch run`), for deploy/README.md's capacity plan.

    .venv/bin/python benchmarks/bench_capacity.py --replicas 150

1. Builds a corpus of ``--replicas`` copies of the example corpus (19 files, 22 articles) with
   distinct texts: in each copy every word that carries no meaning for the pipeline is replaced by a
   pseudo-word of that copy (casualty words, numbers' context, month and day names, and every word
   of the example events and sources are kept), and every figure is shifted by a per-copy offset (1000 x the copy's number).
   The pages keep their markup, dates and lengths, so extraction, claims, events and the toll do
   the same work as on the originals, while no two copies are duplicates (or rewrites) of each other.
2. Runs ``tollwatch run`` on it in a subprocess, once per mode (FnApiRunner in one process; then
   ``--direct_running_mode=multi_processing --direct_num_workers=2``), and reports articles per
   wall-clock second and per CPU-second (user + system of the run and its worker processes: the
   per-vCPU figure, robust to other load on the machine).
3. Reports the output's Parquet sizes per table (bytes per row, rows per file) and the near-duplicate
   state: the encoded size of what ``BucketFn`` holds per article and band (``HeldSignature``, RowCoder),
   and the bytes per canonical article of the continuation state in ``OUT/_state/signatures``.
4. Reports what a claim costs in the toll's window state, the CPU of each stage's pure function
   outside Beam (the rest of a run's CPU is Beam: coders, shuffles, state, writes), and
   ``feedparser`` on the example feed (a poll's parse cost).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PATTERNS = ("*.html", "*.txt", "*.xml")

# Words the pipeline reads for meaning: casualty vocabulary, qualifiers, attribution verbs, dates.
KEEP = set("""
killed kill killing killings dead death deaths died die dying toll tolls injured injuring injuries
wounded wounding hurt missing casualties casualty victims victim bodies body people persons civilians
civilian children child women men soldiers troops fighters militants police officers members
security forces army guard national least more than over about around nearly almost some up to
at of the a an and or in on by from for with as to is are was were be been has have had rose risen
rise reached climbed stood stands number figure figures total including among said says say told
according reported reports report confirmed confirm estimated estimate counted count ministry
health officials official spokesman spokeswoman agency monitor observatory hospital hospitals
january february march april may june july august september october november december jan feb mar
apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday
mon tue wed thu fri sat sun today yesterday week day days hours morning evening night date unknown
url http https www html example com
""".split())
_MONTHS = set("""january february march april may june july august september october november
december jan feb mar apr jun jul aug sep sept oct nov dec""".split())
_WORD = re.compile(r"(?<![&#\w])[A-Za-z]{3,}(?![\w;])")
# A figure: not part of a date, a time, a version or a path (no -, :, /, . next to it), not a year.
_NUMBER = re.compile(r"(?<![\w:/.\-])(\d{2,3})(?![\w:/\-]|\.\d)")
# A text file's ` date YYYY-MM-DD` marker and optional `url:` line stay as they are.
_TXT_MARKER = re.compile(r"\s*date (?:\d{4}-\d{2}-\d{2}|unknown)\s*(?:url: \S+\s*)?")
_SKIP_BLOCK = re.compile(r"(<(script|style)\b.*?</\2>|<!\[CDATA\[|\]\]>|<[^>]+>)", re.S | re.I)


def _kept_words() -> set[str]:
    words = set(KEEP)
    for path in (EXAMPLES / "events.toml", EXAMPLES / "sources.toml",
                 ROOT / "transforms" / "data" / "sources.toml"):
        words.update(w.lower() for w in re.findall(r"[A-Za-z']+", path.read_text(encoding="utf-8")))
    return words


def pseudo_word(word: str, replica: int) -> str:
    """A pronounceable stand-in for `word` in copy `replica`, same length and capitalisation."""
    digest = hashlib.blake2b(f"{replica}:{word.lower()}".encode(), digest_size=16).digest()
    consonants, vowels = "bdfghklmnprstvz", "aeiou"
    out = "".join((consonants if i % 2 == 0 else vowels)[digest[i % 16] % (15 if i % 2 == 0 else 5)]
                  for i in range(len(word)))
    if word[0].isupper():
        out = out.upper() if word.isupper() else out.capitalize()
    return out


def disguise(text: str, replica: int, kept: set[str]) -> str:
    """The text with meaningless words replaced and figures shifted for copy `replica`."""
    def word(match: re.Match) -> str:
        w = match.group(0)
        return w if w.lower() in kept else pseudo_word(w, replica)

    def figure(match: re.Match) -> str:
        before = text[max(0, match.start() - 10):match.start()].split()
        if before and before[-1].lower().strip(".,") in _MONTHS:
            return match.group(0)  # a day of the month
        # Thousands apart: no two copies share a figure, so none is a rewrite of another.
        return f"{int(match.group(1)) + 1000 * (replica + 1):,}"

    text = _WORD.sub(word, text)
    return _NUMBER.sub(figure, text)


def disguise_markup(markup: str, replica: int, kept: set[str]) -> str:
    """Disguise the text nodes of an HTML page or feed; tags, attributes, scripts stay as they are
    (so dates in meta tags and JSON-LD keep working)."""
    out, last = [], 0
    for match in _SKIP_BLOCK.finditer(markup):
        out.append(disguise(markup[last:match.start()], replica, kept))
        out.append(match.group(0))
        last = match.end()
    out.append(disguise(markup[last:], replica, kept))
    return "".join(out)


def make_corpus(folder: Path, replicas: int) -> int:
    """Writes `replicas` disguised copies of the example corpus into `folder`; returns file count."""
    kept = _kept_words()
    sources = sorted(p for pattern in PATTERNS for p in EXAMPLES.glob(pattern))
    for replica in range(replicas):
        for path in sources:
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".txt":
                marker = _TXT_MARKER.match(text)
                head = marker.group(0) if marker else ""
                new = head + disguise(text[len(head):], replica, kept)
            else:
                new = disguise_markup(text, replica, kept)
            target = folder / f"r{replica:04d}_{path.name}"
            target.write_text(new, encoding="utf-8")
            stat = path.stat()
            os.utime(target, (stat.st_atime, stat.st_mtime))
    return replicas * len(sources)


def run(corpus: Path, output: Path, extra: list[str]) -> dict:
    """One `tollwatch run` in a subprocess: wall and CPU seconds, and the counts it printed."""
    command = [sys.executable, "-m", "tollwatch.pipeline.cli", "run", "--input", str(corpus),
               "--output", str(output), "--events", str(EXAMPLES / "events.toml"),
               "--sources", str(EXAMPLES / "sources.toml"), "-q", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, cwd=output.parent)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"tollwatch run failed:\n{done.stderr[-3000:]}")
    found = re.search(r"Read (\d+) file\(s\) in [\d.]+ s: (\d+) article\(s\)", done.stdout)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"files": int(found.group(1)), "articles": int(found.group(2)), "wall": wall, "cpu": cpu}


def parquet_sizes(output: Path) -> list[tuple]:
    """(table, files, rows, bytes, bytes if rewritten as one file) per output table: the files as
    written, and what the same rows take in one file (a compacted table)."""
    import io

    import pyarrow.parquet as pq

    rows = []
    for table in ("articles", "claims", "toll", "dead_letters", "_state/signatures"):
        files = sorted((output / table).glob("*/*.parquet"))
        if not files:
            continue
        data = pq.ParquetDataset(files).read()
        one = io.BytesIO()
        pq.write_table(data, one, compression="zstd")
        rows.append((table, len(files), data.num_rows, sum(f.stat().st_size for f in files), one.tell()))
    return rows


def held_state_bytes(output: Path) -> tuple[float, int, int]:
    """(mean, max) encoded bytes of one held entry of `BucketFn` (what a band key holds per
    article, `HeldSignature` with RowCoder) over the run's compared articles, and the number of bands."""
    import duckdb
    from apache_beam.coders import registry
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.transforms.duplicates.minhash import MinHasher
    from tollwatch.transforms.duplicates.settings import BANDS, MIN_SHINGLES, NUM_PERM, SEED
    from tollwatch.transforms.duplicates.similarity import make_signature
    from tollwatch.transforms.duplicates.streaming import HeldSignature

    coder = registry.get_coder(HeldSignature)
    hasher = MinHasher(NUM_PERM, SEED)
    texts = duckdb.connect().execute(
        f"SELECT doc_id, text FROM read_parquet('{output}/articles/*/*.parquet') "
        "WHERE copy_kind IS DISTINCT FROM 'exact'").fetchall()
    sizes = []
    for doc_id, text in texts:
        sig = make_signature(doc_id, Timestamp(1_780_000_000), text or "", hasher,
                                   story_id=doc_id)
        if sig.n_shingles >= MIN_SHINGLES:
            sizes.append(len(coder.encode(HeldSignature(Timestamp(1_780_000_000), sig))))
    long_text = " ".join(f"w{i}" for i in range(5000))  # a full 512-hash sketch
    longest = len(coder.encode(HeldSignature(Timestamp(0), make_signature(
        "0123456789abcdef", Timestamp(0), long_text, hasher, story_id="0123456789abcdef"))))
    return sum(sizes) / len(sizes), longest, BANDS


def stage_seconds(corpus: Path, limit: int) -> tuple[int, dict[str, float]]:
    """(articles, CPU seconds per stage) of the stages' pure functions, outside Beam, on the first
    `limit` files: what the pipeline costs before coders, shuffles and writes."""
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.schemas import Article, RawDoc
    from tollwatch.transforms import claims, events, extract, repeats
    from tollwatch.transforms.duplicates.minhash import MinHasher
    from tollwatch.transforms.duplicates.similarity import make_signature

    now = Timestamp.now()
    table = claims.sources_from_texts(claims.read_source_files([str(EXAMPLES / "sources.toml")]))
    matcher = events.EventMatcher(events.load_events(str(EXAMPLES / "events.toml")))
    hasher = MinHasher()
    spent = dict.fromkeys(("extract", "repeats", "events", "dedup signature", "claims"), 0.0)
    n = 0

    def timed(stage, fn, *args):
        started = time.process_time()
        out = fn(*args)
        spent[stage] += time.process_time() - started
        return out

    for path in sorted(corpus.iterdir())[:limit]:
        raw = RawDoc(uri=str(path), feed_url=None, entry_id=None, fetched_at=now,
                     content=path.read_bytes(), content_type=None, modified_at=None)
        for found in timed("extract", lambda r: list(extract.extract_articles(r)), raw):
            if not isinstance(found, Article):
                continue
            n += 1
            text, _ = timed("repeats", repeats.strip_repeated_passages, found.text or "")
            published = found.published_at.to_utc_datetime(has_tz=True)
            timed("events", matcher.event_ids, found.title, text, published)
            timed("dedup signature", make_signature, found.doc_id, found.published_at, text, hasher)
            timed("claims", claims.extract_claims, text, published, table)
    return n, spent


def toll_state_bytes(output: Path) -> tuple[float, int]:
    """(mean encoded bytes of a Claim that counts toward the toll, windows each one is buffered
    in): the toll's GroupByKey keeps every claim in every sliding window it falls in."""
    import duckdb
    from apache_beam.coders import registry

    from tollwatch.schemas import Claim
    from tollwatch.transforms import toll

    coder = registry.get_coder(Claim)
    con = duckdb.connect()
    con.execute(f"CREATE VIEW c AS SELECT * EXCLUDE (published_date) FROM "
                f"read_parquet('{output}/claims/*/*.parquet', hive_partitioning = true)")
    columns = [d[0] for d in con.execute("SELECT * FROM c LIMIT 0").description]
    sizes = []
    for row in con.execute("SELECT * FROM c").fetchall():
        claim = _claim_from_row(Claim, dict(zip(columns, row)))
        if toll.counts_toward_toll(claim):
            sizes.append(len(coder.encode(claim)))
    windows = (toll.DEFAULT_WINDOW_SECONDS // toll.DEFAULT_PERIOD_SECONDS
               + toll.DEFAULT_AS_OF_DAYS * 86400 // toll.DEFAULT_PERIOD_SECONDS)
    return sum(sizes) / max(len(sizes), 1), windows


def _claim_from_row(record_type, row: dict):
    import datetime as dt

    from apache_beam.utils.timestamp import Timestamp

    values = {}
    for field in record_type._fields:
        value = row.get(field)
        if isinstance(value, dt.datetime):
            value = Timestamp.from_utc_datetime(value.astimezone(dt.timezone.utc))
        values[field] = value
    return record_type(**values)


def feed_parse_ms(repeat: int = 50) -> float:
    import feedparser

    content = (EXAMPLES / "feed_valdoria_today.xml").read_bytes()
    feedparser.parse(content)
    started = time.perf_counter()
    for _ in range(repeat):
        feedparser.parse(content)
    return (time.perf_counter() - started) / repeat * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=150, help="copies of the example corpus")
    parser.add_argument("--modes", nargs="*", default=["single", "multi2"],
                        choices=["single", "multi2"],
                        help="runner modes to measure (none: report on the outputs kept in --keep)")
    parser.add_argument("--keep", metavar="DIR", help="keep corpus and outputs in DIR")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="tollwatch-capacity-", dir=ROOT)).resolve()
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    corpus.mkdir()
    n_files = make_corpus(corpus, args.replicas)  # deterministic: the same files every time
    size = sum(p.stat().st_size for p in corpus.iterdir())
    print(f"corpus: {n_files} files, {size / 1e6:.1f} MB ({args.replicas} disguised copies of the examples)")
    modes = {"single": [], "multi2": ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]}
    print(f"{'mode':<8} {'files':>6} {'articles':>8} {'wall s':>7} {'cpu s':>7} {'art/s':>7} {'art/cpu-s':>9}")
    kept = sorted(work.glob("out-*"))
    last_output = kept[-1] if kept and not args.modes else None
    for mode in args.modes:
        output = work / f"out-{mode}"
        if output.exists():
            shutil.rmtree(output)
        r = run(corpus, output, modes[mode])
        print(f"{mode:<8} {r['files']:>6} {r['articles']:>8} {r['wall']:>7.1f} {r['cpu']:>7.1f} "
              f"{r['articles'] / r['wall']:>7.1f} {r['articles'] / r['cpu']:>9.1f}")
        last_output = output
    print("\nParquet output (zstd):")
    print(f"{'table':<18} {'files':>6} {'rows':>8} {'MB':>7} {'bytes/row':>9} {'rows/file':>9} "
          f"{'one file: bytes/row':>19}")
    for table, files, rows, nbytes, one in parquet_sizes(last_output):
        print(f"{table:<18} {files:>6} {rows:>8} {nbytes / 1e6:>7.2f} {nbytes / max(rows, 1):>9.0f} "
              f"{rows / files:>9.0f} {one / max(rows, 1):>19.0f}")
    mean, longest, bands = held_state_bytes(last_output)
    print(f"\nnear-duplicate state: one held entry {mean:.0f} B on average here (max {longest} B with a "
          f"full 512-hash sketch), held under each of {bands} band keys: {mean * bands / 1e3:.1f} KB "
          f"per article ({longest * bands / 1e3:.1f} KB max) -> {mean * bands / 1e3:.1f} GB "
          f"({longest * bands / 1e3:.1f} GB) per million articles within the TTL")
    claim_bytes, windows = toll_state_bytes(last_output)
    print(f"toll state: a counted claim encodes to {claim_bytes:.0f} B and is buffered in {windows} "
          f"sliding windows (4 of the window series, 120 of the as-of series): "
          f"{claim_bytes * windows / 1e3:.0f} KB per claim within the horizon and lateness")
    n, spent = stage_seconds(corpus, min(n_files, 19 * 20))
    total = sum(spent.values())
    print(f"\npure stage CPU on {n} articles (no Beam): {n / total:.1f} articles/CPU-s; per article "
          + ", ".join(f"{stage} {seconds / n * 1000:.1f} ms" for stage, seconds in spent.items()))
    print(f"feedparser: {feed_parse_ms():.1f} ms to parse the example feed (4 entries, 6 KB)")
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
