"""The hostile-input cases as a table: outcome, peak memory and time of each.

    .venv/bin/python benchmarks/hostile_table.py [--no-run] [--only NAME ...]

For every case of tests/hostile.py (the files the hostile suite feeds in), two measurements:
- chain: every stage of a batch run without a runner (the DoFns of the read, extract, repeats,
  events and staging steps, the duplicate decision, the verdicts applied, the Arrow tables
  WriteParquet writes) in a child forked from a process that has
  already imported and warmed the parsers; peak RSS is the child's own (wait4): pages it shares
  with the parent count once it touches them, so it is at least the memory the case needs;
- run: `tollwatch run --input <that one file> --output <fresh folder>` as a child process (Beam's
  FnApiRunner in-process, every stage, Parquet written), its wall time and peak RSS. `--no-run`
  skips these (they take ~5 s each).
The outcome is what the output holds: articles, or the dead letter's error_type. Prints markdown.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from hostile import (  # noqa: E402
    CASES, run_chain, run_command, run_isolated, self_rss_mb, warm_parsers, write_cases)


def run_cli(path: Path, out: Path, timeout: float = 600) -> tuple[int, float, float]:
    """(exit code, seconds, peak RSS MB) of `tollwatch run` over one file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    code, seconds, peak_mb, _stderr = run_command(
        [sys.executable, "-m", "tollwatch.pipeline.cli", "run", "--input", str(path), "--output",
         str(out), "-q"], timeout, out.parent)
    return code, seconds, peak_mb


def stored_outcome(out: Path) -> str:
    import duckdb

    con = duckdb.connect()
    parts = []
    if list(out.glob("articles/*/*.parquet")):
        ((n,),) = con.execute(f"SELECT count(*) FROM read_parquet('{out}/articles/*/*.parquet')").fetchall()
        parts.append(f"{n} article(s)")
    if list(out.glob("dead_letters/*/*.parquet")):
        kinds = con.execute(f"SELECT DISTINCT error_type FROM read_parquet('{out}/dead_letters/*/*.parquet') "
                            "ORDER BY 1").fetchall()
        parts.append("dead letter: " + ", ".join(k for (k,) in kinds))
    return "; ".join(parts) or "nothing"


def chain_outcome(result: dict | None, error: str | None) -> str:
    if error:
        return f"**{error}**"
    parts = []
    if result["articles"]:
        parts.append(f"{result['articles']} article(s), {result['claims']} claim(s)")
    if result["dead_letters"]:
        parts.append("dead letter: " + ", ".join(result["dead_letters"]))
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true", help="skip the `tollwatch run` per case")
    parser.add_argument("--only", nargs="*", help="case names")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or c.name in args.only]

    warm_parsers()
    baseline = self_rss_mb()

    work = Path(tempfile.mkdtemp(prefix="tollwatch-hostile-"))
    try:
        folder = work / "in"
        paths = write_cases(folder, cases)
        print(f"Peak RSS of the parent after warming the parsers: {baseline:.0f} MB\n")
        header = "| case | what | size | outcome | chain peak MB | chain s |"
        rule = "| --- | --- | ---: | --- | ---: | ---: |"
        if not args.no_run:
            header += " `tollwatch run` outcome | run peak MB | run s |"
            rule += " --- | ---: | ---: |"
        print(header)
        print(rule)
        for case in cases:
            path = paths[case.name]
            outcome = run_isolated(run_chain, str(path), timeout=300)
            size = path.lstat().st_size
            size_text = f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 1024:.1f} KiB"
            row = (f"| {case.label} | {case.why} | {size_text} | {chain_outcome(outcome.result, outcome.error)} "
                   f"| {outcome.peak_rss_mb:.0f} | {outcome.seconds:.2f} |")
            if not args.no_run:
                out = work / "out" / case.name
                code, seconds, peak = run_cli(path, out)
                stored = stored_outcome(out) if code == 0 else f"**exit {code}**"
                row += f" {stored} | {peak:.0f} | {seconds:.1f} |"
                shutil.rmtree(out, ignore_errors=True)
            print(row, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
