"""Article language: declared tags normalised, the text checked, on real pages."""


import pytest

from support import CORPORA, needs_shared
from tollwatch.transforms.language import (
    MIN_LETTERS, article_language, detect, has_letters, normalise_tag)


@pytest.mark.parametrize("tag, primary", [("en-GB", "en"), ("en-us", "en"), ("pt_PT", "pt"),
                                          ("EN", "en"), ("", None), ("english", None),
                                          (None, None)])
def test_tags_become_their_primary_subtag(tag, primary):
    assert normalise_tag(tag) == primary


def test_the_text_decides_when_sure_and_the_tag_stands_otherwise():
    english = "More than 1,000 people were killed in the clashes, the observatory said on Friday."
    portuguese = "Mais de mil pessoas morreram nos confrontos, disse o observatório na sexta-feira."
    assert article_language(None, english) == "en"
    assert article_language("en-US", portuguese) == "pt"  # a template's default tag
    assert article_language("fr-FR", "12 345 678") == "fr"  # nothing to read: the tag stands
    assert article_language(None, "12 345") is None
    assert detect("")[0] is None


@pytest.mark.parametrize("text", ["", "12 345", "a" * 19, "a" * 20, "1 2 é" * 10, "ß" * 19 + "1",
                                  "日本語のテキスト" * 3, "--- " * 50 + "x" * 20])
def test_has_letters_counts_as_the_whole_count_would(text):
    assert has_letters(text) == (sum(c.isalpha() for c in text) >= MIN_LETTERS)


@needs_shared
def test_real_pages_get_a_language():
    from tollwatch.transforms.extract import extract_html

    pages = sorted((CORPORA / "html").glob("*.html"))[:12]
    assert pages
    found = [article_language(extract_html(p.read_bytes()).language, extract_html(
        p.read_bytes()).text) for p in pages]
    assert all(found) and found.count("en") >= len(found) - 2, found
