"""Article language: declared tags normalised, the text checked, on real pages."""


import numpy as np
import pytest
from py3langid.langid import LanguageIdentifier

from support import CORPORA, needs_shared
from tollwatch.transforms.language import (
    MIN_CONFIDENCE, MIN_LETTERS, article_language, detect, has_letters, identifier, normalise_tag)


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


# Invented for this test, one per script or language family, and the edges of the walk: shorter
# than the trie's depth, empty, all capitals (py3langid lowers them), 4-byte characters.
INVENTED = [
    "The ferry reached the harbour two hours late after the storm closed the northern channel.",
    "Le conseil municipal a voté mardi un nouveau plan pour les pistes cyclables du quartier.",
    "Die Feuerwehr löschte den Brand in der alten Mühle, verletzt wurde niemand.",
    "Los vecinos del barrio organizaron una feria de libros usados en la plaza mayor.",
    "A biblioteca da cidade vai abrir aos domingos a partir do próximo mês.",
    "Городской совет одобрил ремонт моста через реку до конца осени.",
    "أعلنت البلدية عن افتتاح حديقة جديدة في وسط المدينة الأسبوع المقبل.",
    "市图书馆将在下个月延长周末的开放时间，方便学生复习。",
    "駅前の商店街では、来週から夜市が始まる予定です。",
    "Η δημοτική βιβλιοθήκη θα μείνει ανοιχτή και τις Κυριακές.",
    "नगर निगम ने पुराने बाज़ार की सड़कों की मरम्मत शुरू कर दी है।",
    "Oui", "", "STORM CLOSES THE NORTHERN CHANNEL, FERRIES WAIT IN PORT",
    "Harbour lights 🌊🚢 back on after the storm 🌩️ passed the bay",
]


def test_the_walk_at_once_is_py3langids_classify_to_the_last_bit():
    fast = identifier()
    # py3langid's own identifier on the same model (its table back to the float16 it ships in,
    # exactly: the values came from float16), without reading the model file again.
    slow = LanguageIdentifier(fast.nb_ptc.astype(np.float16), fast.nb_pc, fast.nb_classes,
                              fast.tk_nextmove, fast.tk_output, norm_probs=True,
                              min_confidence=MIN_CONFIDENCE, tk_row=fast.tk_row)
    found = set()
    for text in INVENTED:
        assert fast.classify(text) == slow.classify(text), text
        assert fast.rank(text) == slow.rank(text), text
        found.add(fast.classify(text)[0])
    assert {"en", "fr", "de", "es", "pt", "ru", "ar", "zh", "ja", "el", "hi"} <= found
