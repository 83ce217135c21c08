"""Copies as they really are: duplicate detection on ../shared/realdev (90 real articles, every copy
relation labelled by hand), and copies that arrive in a later run than their story."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from support import SHARED
from tollwatch.pipeline.cli import main
from tollwatch.pipeline.evaluate import dedup_scores
from tollwatch.pipeline.dedup_eval import format_dedup_report, relation_counts

REALDEV = SHARED / "realdev"
needs_realdev = pytest.mark.skipif(not (REALDEV / "part_a" / "gold" / "dedup.tsv").is_file(),
                                   reason="../shared/realdev is not beside the checkout")

# Just under what the detector reaches (tollwatch eval-dedup ../shared/realdev), so that it cannot
# fall back silently: (exact + near recall, rewrite recall, links right) per part and overall.
FLOORS = {
    "part_a": (1.0, 0.76, 1.0),
    "part_b": (1.0, 1.0, 1.0),
    "part_c": (0.90, 0.85, 1.0),
    "all": (0.96, 0.85, 1.0),
}


@needs_realdev
def test_realdev_copies_found_and_stories_kept_apart():
    scores = dedup_scores([str(REALDEV)])
    assert set(scores) == set(FLOORS)
    for name, (lexical, rewrite, right) in FLOORS.items():
        counts = relation_counts(scores[name])
        ratios = {what: found / total for what, (found, total) in counts.items()}
        report = f"{name}: {counts}\n" + format_dedup_report(scores[name])
        assert ratios["exact + near"] >= lexical, report
        assert ratios["rewrite"] >= rewrite, report
        assert ratios["links right"] >= right, report
        # Hard negatives stay apart even where the closure of the labels would forgive them.
        assert not scores[name].linked_negatives, report


def _articles(out) -> dict[str, dict]:
    rows = duckdb.sql(
        f"SELECT uri, doc_id, story_id, copy_of, copy_kind, is_canonical "
        f"FROM read_parquet('{out}/articles/*/*.parquet', hive_partitioning = true)").fetchall()
    names = ("uri", "doc_id", "story_id", "copy_of", "copy_kind", "is_canonical")
    return {row[0].rsplit("/", 1)[-1]: dict(zip(names, row)) for row in rows}


def _run(folder, out) -> None:
    assert main(["run", "--input", str(folder), "--output", str(out), "-q"]) == 0


@needs_realdev
@pytest.mark.parametrize("first, second, relation", [
    # A sentence-by-sentence paraphrase arrives a run after its story.
    ("libya_2023_12_tripuratoday_own-or-unknown_3958.txt",
     "libya_2023_13_namastheworld_rewrite_3958.txt", "rewrite"),
    # The earlier-published full story arrives a run after an edited copy of it (out of order).
    ("valencia_2024_14_thewest_ap-aap_158.txt", "valencia_2024_12_gulftoday_ap_158.txt", "near"),
])
def test_a_copy_in_a_later_run_joins_the_story_already_written(tmp_path, first, second, relation):
    """What the output keeps of earlier stories (OUT/_state/signatures) is enough to link a near
    copy or a rewrite that comes in a later run, whichever of the two was published first."""
    part = "part_a" if first.startswith("libya") else "part_b"
    for name, folder in ((first, "run1"), (second, "run2")):
        (tmp_path / folder).mkdir()
        shutil.copy(REALDEV / part / "news_text" / name, tmp_path / folder / name)
    out = tmp_path / "out"
    _run(tmp_path / "run1", out)
    assert _articles(out)[first]["is_canonical"]
    _run(tmp_path / "run2", out)
    rows = _articles(out)
    earlier, later = rows[first], rows[second]
    # The story already written stays canonical; the newcomer points to it, in its cluster.
    assert earlier["is_canonical"] and earlier["copy_of"] is None
    assert later["copy_of"] == earlier["doc_id"] and not later["is_canonical"]
    assert later["story_id"] == earlier["story_id"]
    assert later["copy_kind"] == relation
