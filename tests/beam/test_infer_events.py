"""Events inferred without an events file: places, the clustering, stable ids, and real data."""

from __future__ import annotations

import datetime as dt

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from support import SEEDS, SHARED, needs_shared
from tollwatch.pipeline.evaluate import (
    event_scores, read_articles, realdev_events, doc_name)
from tollwatch.transforms.infer_events import (
    EventTraits, InferEvents, KnownEvent, article_traits, infer_events, known_events,
    place_weights, top_places)

REALDEV = SHARED / "realdev"


def day(d: int, month: int = 3) -> dt.datetime:
    return dt.datetime(2025, month, d, tzinfo=dt.timezone.utc)


def test_places_are_gazetteer_names_weighted_by_mentions_and_title():
    weights = place_weights("Floods hit Valencia", "Rain fell on Valencia and Madrid, in Spain.")
    assert weights["Valencia"] == 1 + 3 and weights["Madrid"] == 1 and weights["Spain"] == 1
    assert top_places(weights)[0] == "Valencia"


def test_a_name_the_article_writes_in_lower_case_is_a_word_not_a_place():
    # "Date" is a city of GeoNames; here it is the word of "the date".
    text = "Date of the report: unknown. The date was not given. Rescuers reached Kabul."
    assert set(place_weights(None, text)) == {"Kabul"}


def test_the_longest_known_name_wins():
    assert "Kryvyy Rih" in place_weights(None, "Missiles hit Kryvyy Rih and Kyiv.")


def test_stories_of_other_places_are_other_events_even_on_the_same_days():
    traits = [EventTraits("a", day(8), ("Derna", "Libya")),
              EventTraits("b", day(9), ("Libya", "Benghazi")),
              EventTraits("c", day(8), ("Morocco", "Marrakesh")),
              EventTraits("d", day(10), ("Marrakesh",))]
    choices = infer_events(traits)
    assert choices["a"] == choices["b"] == "libya-2025-03-08"  # named most
    assert choices["c"] == choices["d"] == "marrakesh-2025-03-08"


def test_one_place_far_apart_in_time_is_two_events():
    choices = infer_events([EventTraits("a", day(1), ("Gaza",)),
                            EventTraits("b", day(4), ("Gaza",)),
                            EventTraits("c", day(4, month=6), ("Gaza",))])
    assert choices["a"] == choices["b"] == "gaza-2025-03-01"
    assert choices["c"] == "gaza-2025-06-04"


def test_undated_articles_join_the_event_of_their_places_else_their_own():
    choices = infer_events([EventTraits("a", day(8), ("Syria", "Latakia")),
                            EventTraits("u1", None, ("Baniyas", "Latakia")),
                            EventTraits("u2", None, ("Herat",)),
                            EventTraits("u3", None, ("Herat", "Kabul")),
                            EventTraits("n1", day(8), ()),
                            EventTraits("n2", None, ())])
    assert choices["u1"] == choices["a"] == "latakia-2025-03-08"
    assert choices["u2"] == choices["u3"] == "herat-undated"
    assert choices["n1"] == "article-n1-2025-03-08" and choices["n2"] == "article-n2-undated"


def test_ids_do_not_depend_on_the_order_of_the_articles():
    traits = [EventTraits(str(i), day(1 + i % 5), (("Kyiv", "Ukraine") if i % 2 else ("Odisha",)))
              for i in range(20)]
    assert infer_events(traits) == infer_events(list(reversed(traits)))


def test_a_later_run_keeps_the_ids_of_the_events_the_output_holds():
    earlier = known_events([(["derna-2025-03-11"], day(11)), (["derna-2025-03-11"], day(14)),
                            (["derna-2025-03-11"], None), (["explicit-event"], day(11))])
    assert earlier == [KnownEvent("derna-2025-03-11", "derna", day(11), day(14))]
    later = [EventTraits("x", day(19), ("Derna", "Libya")),    # within 7 days of the 14th
             EventTraits("y", None, ("Derna",)),
             EventTraits("z", day(1, month=9), ("Derna",))]     # another story of the place
    choices = infer_events(later, earlier)
    assert choices["x"] == choices["y"] == "derna-2025-03-11"
    assert choices["z"] == "derna-2025-09-01"


def test_infer_events_is_a_beam_step():
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.schemas import Article

    def article(doc_id, text, date_source="metadata"):
        return Article(doc_id=doc_id, uri=f"mem://{doc_id}", url=None, outlet=None, title=None,
                       published_at=Timestamp.from_utc_datetime(day(8)), date_source=date_source,
                       ingested_at=Timestamp.now(), text=text, language="en",
                       event_ids=["input"], n_repeats_removed=0, story_id=None, copy_of=None,
                       copy_kind=None, copy_similarity=None, is_canonical=True)

    articles = [article("d1", "Floods in Derna, Libya, killed 10 people."),
                article("d2", "Rescuers in Derna counted the dead.", "file_mtime"),
                article("k1", "Missiles hit Kyiv.")]
    with TestPipeline() as p:
        choices = (p | beam.Create(articles).with_output_types(Article) | InferEvents())
        assert_that(choices, equal_to([{"d1": "darnah-2025-03-08", "d2": "darnah-2025-03-08",
                                        "k1": "kyiv-2025-03-08"}]))  # GeoNames names


@needs_shared
def test_realdev_articles_land_in_their_event():
    """90 real articles of 7 events, read from three folders that mix them (two events each and
    three): most land in their event, and no inferred event mixes two."""
    gold = realdev_events(str(REALDEV))
    folders = sorted({str(p.parent) for p in REALDEV.glob("*/news_text/INDEX.tsv")})
    articles = list(read_articles(folders))
    by_id = infer_events([article_traits(a) for a in articles])
    scores = event_scores({doc_name(a): by_id[a.doc_id] for a in articles}, gold)
    assert len(scores) == 7
    assert sum(s.right for s in scores) >= 85  # measured 88 of 90
    assert all(s.purity == 1.0 for s in scores), scores
    assert all(s.completeness >= 0.8 for s in scores), scores


@needs_shared
def test_the_seeds_are_one_event():
    articles = list(read_articles([str(SEEDS)]))
    assert len(set(infer_events([article_traits(a) for a in articles]).values())) == 1


def _story(place: str, country: str, n: int) -> str:
    return (f"Floods swept through {place} in {country} overnight, and rescuers in {place} said "
            f"at least {n} people were killed. Officials in {place} asked for help as roads into "
            f"{place} stayed closed and the army sent trucks from the capital of {country}. "
            "Residents waited for water and power to return, and schools stayed shut. " * 2)


@pytest.mark.slow  # a whole `tollwatch run`
def test_a_run_without_events_labels_articles_and_claims_and_a_later_run_keeps_the_ids(tmp_path):
    from tollwatch.pipeline.cli import main
    from tollwatch.pipeline.query import connect

    day1, day2, out = tmp_path / "day1", tmp_path / "day2", tmp_path / "out"
    day1.mkdir(), day2.mkdir()
    (day1 / "a.txt").write_text(" date 2025-03-10 " + _story("Derna", "Libya", 20))
    (day1 / "b.txt").write_text(" date 2025-03-10 " + _story("Kandahar", "Afghanistan", 7))
    (day2 / "c.txt").write_text(" date 2025-03-13 " + _story("Derna", "Libya", 45))
    assert main(["run", "--input", str(day1), "--output", str(out)]) == 0
    assert main(["run", "--input", str(day2), "--output", str(out)]) == 0
    con = connect(str(out))
    events = dict(con.execute("SELECT regexp_extract(uri, '[a-z]\\.txt'), event_ids[1] "
                              "FROM articles").fetchall())
    assert events == {"a.txt": "darnah-2025-03-10", "c.txt": "darnah-2025-03-10",
                      "b.txt": "kandahar-2025-03-10"}
    # Each claim is in its article's event, and so is its key.
    assert con.execute("SELECT count(*) FROM claims c JOIN articles a USING (doc_id) "
                       "WHERE c.event_id <> a.event_ids[1]").fetchone()[0] == 0
    assert {r[0] for r in con.execute("SELECT event_id FROM toll").fetchall()} == {
        "darnah-2025-03-10", "kandahar-2025-03-10"}
