"""One document must never cost the others: what a stage raises on one document becomes that
document's dead letter, named after the stage, and the run goes on (issue 17, item 4)."""

from pathlib import Path

import duckdb

from tollwatch.pipeline.cli import main
from tollwatch.schemas import STAGES

ARTICLE = ("The death toll from the landslide in the hill town of Orvel rose to 23 on Wednesday, "
           "the regional civil protection agency said, as rescuers dug through mud for a second day. "
           "Another 40 people were injured and taken to hospitals in the valley, officials added.")
POISON = "Poisoned-Marker"


def rows(out: Path, table: str, sql: str) -> list[tuple]:
    if not list((out / table).glob("*/*.parquet")):
        return []
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{out}/{table}/*/*.parquet', "
                "hive_partitioning = true)")
    return con.execute(sql).fetchall()


def test_a_figure_of_thousands_of_digits_does_not_stop_the_run(tmp_path):
    """A 4,301-digit number before a casualty word raised in the staging step (Python's int
    limit) and the whole run failed, writing nothing."""
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / "good.txt").write_text(f" date 2026-05-12 {ARTICLE}")
    (folder / "digits.txt").write_text(f" date 2026-05-12 {ARTICLE} Then {'1' * 4301} people were killed.")
    (folder / "thousands.txt").write_text(
        f" date 2026-05-12 {ARTICLE} A post said 1{',000' * 1500} people died.")
    assert main(["run", "--input", str(folder), "--output", str(out), "-q"]) == 0
    assert sorted(Path(u).name for (u,) in rows(out, "articles", "SELECT uri FROM t")) == [
        "digits.txt", "good.txt", "thousands.txt"]
    assert rows(out, "claims", "SELECT max(value_high) FROM t")[0][0] < 10**10


def _raise_on_poison(original, poison: str = POISON):
    def patched(*args, **kwargs):
        if any(poison in str(a) for a in args):
            raise RuntimeError("this stage failed on one article")
        return original(*args, **kwargs)
    return patched


# Each stage fails on the article that carries its own marker, all in one run: each of those
# articles is that stage's dead letter, and the one good article goes through every stage.
FAILING_STAGES = {
    "repeats": "tollwatch.transforms.repeats.strip_repeated_passages",
    "events": "tollwatch.transforms.events.EventMatcher.event_ids",
    "stage": "tollwatch.transforms.staging.story_traits",
}


def test_a_stage_failing_on_one_article_makes_it_that_articles_dead_letter(tmp_path, monkeypatch):
    import importlib

    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / "good.txt").write_text(f" date 2026-05-12 {ARTICLE}")
    for n, (stage, target) in enumerate(FAILING_STAGES.items()):
        module_name, _, attr = target.rpartition(".")
        try:
            owner = importlib.import_module(module_name)
        except ImportError:  # a method: module.Class.method
            module_name, _, cls = module_name.rpartition(".")
            owner = getattr(importlib.import_module(module_name), cls)
        marker = f"{POISON}-{stage.capitalize()}"
        monkeypatch.setattr(owner, attr, _raise_on_poison(getattr(owner, attr), marker))
        place = ("Brisca", "Tamsk", "Lorn")[n]
        (folder / f"poisoned_{stage}.txt").write_text(
            f" date 2026-05-12 {marker} {ARTICLE.replace('Orvel', place)}")
    assert main(["run", "--input", str(folder), "--output", str(out), "-q"]) == 0
    assert [Path(u).name for (u,) in rows(out, "articles", "SELECT uri FROM t")] == ["good.txt"]
    dead = rows(out, "dead_letters", "SELECT uri, stage, error_type, message FROM t")
    assert sorted((Path(u).name, s, e) for u, s, e, _ in dead) == sorted(
        (f"poisoned_{stage}.txt", stage, "RuntimeError") for stage in FAILING_STAGES)
    assert set(FAILING_STAGES) <= set(STAGES)
    assert all("failed on one article" in message for *_, message in dead)
    # Count in = articles out + dead letters out.
    assert len(list(folder.iterdir())) == 1 + len(dead)


def test_signing_one_article_that_fails_makes_its_dead_letter_and_the_others_go_on(monkeypatch):
    """The streaming path signs each article for near duplicates (MarkNearDuplicates' first step)."""
    from apache_beam import pvalue
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.schemas import Article, DeadLetter
    from tollwatch.transforms.duplicates import settings, streaming

    monkeypatch.setattr(streaming, "signature_of", _raise_on_poison(streaming.signature_of))
    at = Timestamp(1_780_000_000)

    def article(doc_id, text):
        return Article(doc_id=doc_id, uri=f"/in/{doc_id}.txt", url=None, outlet=None, title=None,
                       published_at=at, date_source="text", ingested_at=at, text=text, language="en",
                       event_ids=[], n_repeats_removed=0, story_id=None, copy_of=None,
                       copy_kind=None, copy_similarity=None, is_canonical=True)

    sign = streaming.SignFn(settings.NUM_PERM, settings.SEED, settings.SHINGLE_SIZE,
                             settings.SKETCH_SIZE)
    sign.setup()
    good = list(sign.process(article("good", ARTICLE * 3)))
    bad = list(sign.process(article("bad", f"{POISON} {ARTICLE}" * 3)))
    assert [type(o) for o in good] == [Article, pvalue.TaggedOutput]
    assert len(bad) == 1 and bad[0].tag == "dead_letters" and isinstance(bad[0].value, DeadLetter)
    assert (bad[0].value.uri, bad[0].value.stage, bad[0].value.ingested_at) == ("/in/bad.txt", "sign", at)
    assert "sign" in STAGES
