"""The one module of words and sentences (transforms/text.py), without Beam: its fast paths give what
their plain definitions give, and its two folds of words differ where its docstring says they must."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from tollwatch.transforms.text import (
    ascii_words, blank_non_word_bytes, joined_words, line_sentences, shingle_words, split_sentences, words)

# Letters, digits, punctuation, spaces and controls, a combining mark, a soft hyphen, accented and
# CJK letters, a non-breaking space: the characters where the byte table and the regex could part.
_CHARS = st.sampled_from(list("ab Z09_-.,'\"\t\n\x1c") + ["\u0301", "\u00ad", "\u00e9", "\u4e2d", "\u00a0",
                                                          "\u2019", "\u093f", "\U0001f600"])
_TEXTS = st.lists(_CHARS, max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_joined_words_are_the_words_joined_by_one_space(text):
    assert joined_words(text) == " ".join(words(text)).encode("utf-8")


def test_joined_words_drop_a_lone_surrogate_as_the_regex_does():
    assert joined_words("killed\udc80 340") == b"killed 340"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_ascii_words_and_the_byte_table_keep_the_words_and_the_offsets(text):
    assert ascii_words(text) == [w.encode("ascii") for w in words(text)]
    blanked = blank_non_word_bytes(text.encode("ascii"))
    assert len(blanked) == len(text)
    assert blanked.decode("ascii").split() == words(text)


def test_the_shingle_fold_keeps_marks_and_joins_soft_hyphens_where_words_cut():
    hindi = "\u0939\u093f\u0928\u094d\u0926\u0940"  # a word with vowel signs (combining marks)
    assert shingle_words(hindi) == [hindi] and len(words(hindi)) > 1
    assert shingle_words("inter\u00adnational") == ["international"]
    assert words("inter\u00adnational") == ["inter", "national"]
    assert shingle_words("snake_case") == ["snake", "case"] and words("snake_case") == ["snake_case"]


def test_the_claims_splitter_keeps_abbreviations_that_the_line_splitter_cuts():
    line = "Gen. Smith said 40 people died. The U.N. envoy agreed."
    assert [s.text for s in split_sentences(line)] == [
        "Gen. Smith said 40 people died.", "The U.N. envoy agreed."]
    assert [line[a:b] for a, b in line_sentences(line)] == [
        "Gen.", "Smith said 40 people died.", "The U.N. envoy agreed."]


def test_lower_words_are_the_words_written_in_lower_case_only():
    from tollwatch.transforms.text import lower_words

    assert lower_words("Police said the police station in Mercy had no mercy; well-known o’clock") == {
        "said", "the", "police", "station", "in", "had", "no", "mercy", "well-known", "o’clock"}
