"""`tollwatch eval-dedup` on the seeds' gold relations and the example corpus's labels."""

from support import EXAMPLES, GOLD, SEEDS, needs_shared
from tollwatch.pipeline.cli import main


def _all_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("all "))


@needs_shared
def test_seeds_rewrite_found_and_independent_reports_apart(capsys):
    assert main(["eval-dedup", str(GOLD / "seed_dedup.json"), "--input", str(SEEDS), "-q"]) == 0
    report = capsys.readouterr().out
    assert _all_line(report).split()[1:3] == ["precision", "1.000"]
    assert "false pairs (0)" in report and "missed pairs (0)" in report


def test_example_corpus_relations(capsys):
    inputs = [str(EXAMPLES / p) for p in ("*.html", "*.txt", "*.xml")]
    assert main(["eval-dedup", str(EXAMPLES / "expected" / "dedup.json"), "--input", *inputs,
                 "--sources", str(EXAMPLES / "sources.toml"), "-q"]) == 0
    report = capsys.readouterr().out
    assert "false pairs (0)" in report and "missed pairs (0)" in report
