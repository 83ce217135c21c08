"""Tests of strip_repeated_passages and StripRepeatedPassages."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.utils.timestamp import Timestamp

from support import SHARED, seed
from tollwatch.schemas.records import Article
from tollwatch.transforms.repeats import MIN_CHARS, StripRepeatedPassages, strip_repeated_passages
from tollwatch.transforms.text import line_sentences


LEAD = ("Syrian security forces killed more than 340 civilians over two days, a war monitor said "
        "on Saturday. The monitor said most of the victims were members of the Alawite minority. ")




def test_seed_003_glued_and_truncated_repeat_is_removed():
    text = seed("003")
    cleaned, removed = strip_repeated_passages(text)
    assert removed == 1
    # The repeat glued the opening paragraphs together ('NGO."You have') and was cut off with "...".
    assert 'NGO."You have' in text and 'NGO."You have' not in cleaned
    assert "300 Alawite..." not in cleaned
    for opening in ("You have attacked all Syrians", "monopoly of arms in the hands of the state",
                    "This brings the death toll from the clashes since Thursday"):
        assert text.count(opening) == 2 and cleaned.count(opening) == 1  # first occurrence kept
    assert cleaned.startswith("Search\nSearch\n\nFALL OF ASSAD")  # short repeated line kept
    assert cleaned.endswith('the Syrian Foreign Ministry said in a statement.')
    assert len(text) - len(cleaned) > 700


@pytest.mark.parametrize("prefix", ["000", "001", "002", "004"])
def test_other_seeds_are_unchanged(prefix):
    text = seed(prefix)
    assert strip_repeated_passages(text) == (text, 0)
    assert strip_repeated_passages(text)[0] is text


def test_html_corpus_bodies_are_unchanged():
    # These bodies hold one legitimately repeated line (an embedded tweet's 50-character
    # attribution); nothing may be removed from any of them.
    paths = sorted((SHARED / "corpora" / "html").glob("*.expected.txt"))
    if not paths:
        pytest.skip("corpora not available")
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert strip_repeated_passages(text)[1] == 0, path.name


def test_short_repeated_lines_stay():
    text = ("Search\nSearch\n\nAdvertisement\n\n" + LEAD + "\n\nAdvertisement\n\n"
            "Read more\n\nRead more\n\n— The Nigerian Senate (@NGRSenate) October 9, 2018\n\n"
            "— The Nigerian Senate (@NGRSenate) October 9, 2018")
    assert strip_repeated_passages(text) == (text, 0)


def test_repeated_paragraph_at_the_end_goes():
    text = LEAD + "\n\nOther news follows here, and it is new.\n\n" + LEAD.strip()
    cleaned, removed = strip_repeated_passages(text)
    assert removed == 1
    assert cleaned == LEAD + "\n\nOther news follows here, and it is new."  # untouched lines verbatim


def test_glued_repeat_with_unicode_ellipsis_goes():
    first = "The first sentence is long enough to matter here. The second one adds more detail."
    text = (first + "\n\nA middle paragraph.\n\n"
            + first.replace(". The", ".The") + " The first sentence is long\u2026")
    cleaned, removed = strip_repeated_passages(text, min_chars=40)
    assert removed == 1 and cleaned == first + "\n\nA middle paragraph."


def test_repeat_inside_a_paragraph_keeps_the_rest_of_it():
    text = LEAD + "\n\nNew sentence before. " + LEAD + "New sentence after."
    cleaned, removed = strip_repeated_passages(text)
    assert removed == 1
    assert cleaned.endswith("New sentence before. New sentence after.")


def test_two_separate_passages_count_two():
    other = ("Rescue teams searched the rubble late into the night for survivors of the strike. "
             "Officials said the death toll was likely to rise in the coming days. ")
    text = LEAD + "\n\n" + other + "\n\nMiddle.\n\n" + LEAD + "\n\nBetween.\n\n" + other
    cleaned, removed = strip_repeated_passages(text)
    assert removed == 2
    assert cleaned.count("340 civilians") == 1 and cleaned.count("Rescue teams") == 1


def test_min_chars_is_the_threshold():
    sentence = "A single sentence that repeats itself twice in this text."  # 49 characters of words
    text = sentence + "\n\n" + sentence
    assert strip_repeated_passages(text)[1] == 0
    assert strip_repeated_passages(text, min_chars=40)[1] == 1
    assert MIN_CHARS == 100
    with pytest.raises(ValueError):
        strip_repeated_passages(text, min_chars=0)


def test_sentence_words_are_the_same_in_ascii_and_other_text():
    # An ASCII text's sentence keys come from one byte translation of the text, any other from a
    # regex per sentence: both are the sentence's \\w+ runs, lower-cased, joined by a space.
    from tollwatch.transforms.repeats import keyed_sentences

    ascii_text = "It's 10_000 DEAD, (said)\x1cthe U.N.\t\tagency...\n\nSecond  line here."
    keys = [s.key for s in keyed_sentences(ascii_text)[1]]
    assert keys == ["it s 10_000 dead said the u n agency", "second line here"]
    assert [s.truncated for s in keyed_sentences(ascii_text)[1]] == [True, False]
    other = [s.key for s in keyed_sentences(ascii_text + "\nCaf\u00e9 \u00c9T\u00c9.")[1]]
    assert other == keys + ["caf\u00e9 \u00e9t\u00e9"]
    # Spans stay right on lines after blank ones.
    lines, found = keyed_sentences("A.\n\n\nB is here. C too.")
    assert [(s.line, lines[s.line][s.start:s.end]) for s in found] == [
        (0, "A."), (3, "B is here."), (3, "C too.")]


def test_sentences_split_glued_text_but_not_abbreviations():
    line = 'He said on Dec. 8."We will go," the U.N. envoy said.This brings it to 300 Alawite...'
    parts = [line[s:e] for s, e in line_sentences(line)]
    assert parts == ['He said on Dec.', '8."', 'We will go," the U.N. envoy said.',
                     'This brings it to 300 Alawite...']


sentence_text = st.lists(st.sampled_from("alpha beta gamma delta epsilon zeta eta theta".split()),
                         min_size=3, max_size=12).map(lambda w: " ".join(w).capitalize() + ".")


@settings(max_examples=80, deadline=None)
@given(st.lists(sentence_text, min_size=1, max_size=12))
def test_never_grows_and_counts_only_real_removals(parts):
    text = " ".join(parts)
    cleaned, removed = strip_repeated_passages(text)
    assert len(cleaned) <= len(text)
    assert (removed == 0) == (cleaned == text)


@settings(max_examples=40, deadline=None)
@given(st.lists(sentence_text, min_size=8, max_size=16, unique=True))
def test_a_document_captured_twice_comes_back_once(parts):
    body = " ".join(parts)
    if len(body) < MIN_CHARS:
        return
    cleaned, removed = strip_repeated_passages(body + "\n\n" + body)
    assert (cleaned, removed) == (body, 1)


def test_strip_repeated_passages_transform():
    text = seed("003")
    clean_text = seed("000")
    when = Timestamp(1741392000)

    def article(doc_id, body, n=0):
        return Article(doc_id, f"file:///{doc_id}", None, None, None, when, "text", when, body,
                       "en", [], n, None, None, None, None, True)

    with TestPipeline(runner="BundleBasedDirectRunner") as p:
        out = (p | beam.Create([article("003", text), article("000", clean_text, 2)])
               | StripRepeatedPassages())
        assert_that(out | beam.Map(lambda a: (a.doc_id, a.n_repeats_removed, len(a.text))),
                    equal_to([("003", 1, len(strip_repeated_passages(text)[0])),
                              ("000", 2, len(clean_text))]))
    with pytest.raises(ValueError):
        StripRepeatedPassages(min_chars=0)
