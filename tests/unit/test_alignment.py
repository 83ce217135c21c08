"""Sentence alignment (transforms/duplicates/alignment.py), without Beam: what a copy keeps when its
wording does not, and what independent reports share without being copies."""

from __future__ import annotations

import numpy as np

from tollwatch.transforms.duplicates.alignment import (
    Outline, aligned_weight, copy_kind, figures_in_order, lead_keys, outline, pack_outline,
    unpack_outline)

STORY = """Floods kill 1,240 in the northern valley, officials say
Floodwaters swept through the northern valley overnight, killing at least 1,240 people and leaving 3,500 missing, the regional governor said on Monday.
Rescue teams from the national guard reached the village of Tarvo by boat and found 212 survivors sheltering on rooftops.
The dam above Tarvo burst after three days of rain, engineers at the water authority said.
Hospitals in the provincial capital treated 860 injured people and asked for blood donations.
The government declared seven days of mourning and promised to rebuild the destroyed bridges."""

# The same story in other words, sentence by sentence and in the same order.
REWRITE = """Northern valley flood toll reaches 1,240
At least 1,240 people died and 3,500 remain missing after floodwaters swept the northern valley overnight, according to the regional governor on Monday.
National guard rescue teams travelled by boat to Tarvo village, where 212 survivors were found sheltering on rooftops.
According to engineers of the water authority, the dam above Tarvo gave way following three days of rain.
Some 860 people hurt in the disaster were cared for by hospitals in the provincial capital, which called on residents to give blood.
A week of national mourning was announced, with ministers pledging new bridges in place of those washed away."""

# An independent report of the same official figures, with a closing the story also carries.
OTHER = """Valley disaster: governor gives new figures
The regional governor put the number of dead at 1,240 on Monday and said 3,500 people were unaccounted for.
Aid agencies warned of cholera in camps south of the valley, where thousands have fled.
The government declared seven days of mourning and promised to rebuild the destroyed bridges."""

TRANSLATION = """Cheias matam 1.240 pessoas no vale do norte
As cheias mataram pelo menos 1.240 pessoas e deixaram 3.500 desaparecidos, disse o governador na segunda-feira.
As equipas da guarda nacional chegaram a Tarvo de barco e encontraram 212 sobreviventes.
Os hospitais trataram 860 feridos e pediram doacoes de sangue."""


def test_outline_round_trips_and_reads_figures_and_language():
    told = outline(STORY)
    assert told.figures == (1240, 3500, 212, 860)
    assert told.english and not outline(TRANSLATION).english
    assert outline(TRANSLATION).figures == (1240, 3500, 212, 860)  # "1.240" is 1,240
    again = unpack_outline(pack_outline(told))
    assert again.figures == told.figures and again.english == told.english
    assert [s.tolist() for s in again.sentences] == [s.tolist() for s in told.sentences]
    assert unpack_outline(b"") == Outline((), ())
    assert lead_keys(told)[:2] == lead_keys(outline(STORY + "\nRead more: weather"))[:2]


def test_a_rewrite_is_found_by_its_sentences_in_order():
    weight, n = aligned_weight(outline(STORY), outline(REWRITE))
    assert n == 6 and weight >= 3
    assert copy_kind(outline(STORY), outline(REWRITE), containment=0.02)[0] == "rewrite"
    # The same sentences in reverse order are not a retelling of the story.
    shuffled = "\n".join(REWRITE.splitlines()[::-1])
    assert aligned_weight(outline(STORY), outline(shuffled))[0] < weight / 2


def test_a_translation_keeps_its_figures_in_order():
    assert figures_in_order((1240, 3500, 212, 860), (1240, 3500, 212, 860)) == 4
    assert figures_in_order((1240, 3500, 212, 860), (860, 212, 3500, 1240)) == 1
    # Four figures are too few to tell a translation from a report of the same official figures.
    assert copy_kind(outline(STORY), outline(TRANSLATION), containment=0.0) is None
    longer = TRANSLATION + "\nForam destruidas 47 pontes e 15 escolas."
    assert copy_kind(outline(STORY + "\nThe floods destroyed 47 bridges and 15 schools."),
                     outline(longer), containment=0.0)[0] == "rewrite"


def test_same_figures_and_a_shared_closing_are_not_a_copy():
    assert copy_kind(outline(STORY), outline(OTHER), containment=0.3) is None


def test_the_english_share_counted_by_chunks_is_the_whole_texts():
    import re

    from tollwatch.transforms.duplicates.alignment import ENGLISH_SHARE, _reads_as_english

    def whole(lowered: str) -> bool:
        n = len(lowered.split())
        return not n or len(re.findall(
            r"\b(?:the|of|and|to|in|is|that|for|on|was|with|as|by|at|from|said|were|has|have)\b",
            lowered)) >= ENGLISH_SHARE * n

    english, other = STORY.lower(), TRANSLATION.lower()
    # Around the share: one English sentence among more and more Portuguese ones, both orders.
    texts = [""] + [part for k in range(1, 12) for part in
                    (english.split("\n")[1] + " " + other * k, other * k + "\n" + english)]
    found = {whole(t) for t in texts}
    assert found == {True, False}, found
    for chunk in (1, 3, 40, 1024):
        assert [_reads_as_english(t, chunk) for t in texts] == [whole(t) for t in texts]


def test_a_sentences_terms_from_its_chunks_are_its_words_terms():
    from tollwatch.transforms.claims import figure_value
    from tollwatch.transforms.duplicates import alignment

    def reference(sentence: str) -> tuple:
        terms = set(map(alignment._TERMS.__getitem__, alignment._WORD.findall(sentence.lower())))
        terms.discard(0)
        if len(terms) < alignment.MIN_SENTENCE_TERMS:
            return ()
        return tuple(sorted(terms))

    def terms(key: bytes) -> tuple:
        return tuple(np.frombuffer(key, dtype=np.uint32).tolist())

    sentences = [
        "Officials said 1,2345 people and 2.012, or 12,000.5 were counted at www.example.com today",
        "The U.S. envoy met abc.123def and x,999y near İstanbul’s “main” square—again – later",
        "ΟΔΟΣ ΑΘΗΝΑΣ: rescuers found ٣٬٠٠٠ survivors, ١٢٣ children and 40 injured_people here",
        "Floodwaters rose; 1.234.567 residents fled, said.the mayor (who spoke to reporters).",
        "naïve café owners, co-operatives and ½ of 3² farms reported losses of ₹2,500 crore",
        "short one", "", "..., ,. .", "it’s the “end” of ‘the’ story—said officials",
    ]
    for sentence in sentences:
        alignment._CHUNK_TERMS.clear()
        alignment._CHUNK_ENGLISH.clear()
        for _ in range(2):  # the words' chunks unknown, then known
            alignment._SENTENCE_KEYS.clear()
            key, english, figures = alignment._SENTENCE_KEYS[sentence]
            assert terms(key) == reference(sentence), sentence
            assert english == len(alignment._ENGLISH_WORD.findall(sentence.lower())), sentence
            assert figures == tuple(
                v for v in (figure_value(f.replace(",", "").replace(".", ""))
                            for f in alignment._FIGURE.findall(sentence))
                if v is not None and v >= alignment.MIN_FIGURE), sentence
    assert reference(sentences[0]) and reference(sentences[2])


def test_the_outline_is_the_same_whatever_the_sentence_cache_holds(monkeypatch):
    from tollwatch.transforms.duplicates import alignment

    first = [pack_outline(outline(t)) for t in (STORY, TRANSLATION, OTHER)]
    monkeypatch.setattr(alignment, "_MAX_CACHED_SENTENCES", 4)
    alignment._SENTENCE_KEYS.clear()
    for _ in range(2):  # sentences evicted, then met again
        assert [pack_outline(outline(t)) for t in (STORY, TRANSLATION, OTHER)] == first
    assert len(alignment._SENTENCE_KEYS) <= 4
    alignment._SENTENCE_KEYS.clear()


def test_sentences_are_the_sentence_end_regexs_split():
    from tollwatch.transforms.duplicates.alignment import _SENTENCE_END, _sentences

    texts = [STORY, OTHER, TRANSLATION, "", "no end", "A.\n\nB", "x -- y", "x \n-- “Y” — z ",
             "Ends. \"Quoted\" start! (Next) one? 2 more.\u2003\u2014 dash\t- tab -x",
             "a.b. C  \n  \n D --  -- E", "-- lead", "trail --", "...", "\n\n\n"]
    for text in texts:
        assert _sentences(text) == _SENTENCE_END.split(text), text


def test_the_similarity_matrix_is_each_sentence_pairs_similarity():
    # Every pair of a copy, a rewrite, a translation and an independent report, with and without
    # the outline's cached index: the matrix is the pairwise similarity, bit for bit.
    import numpy as np

    from support import seed
    from tollwatch.transforms.duplicates.alignment import _similarities, sentence_similarity

    texts = [STORY, REWRITE, OTHER, TRANSLATION, seed("000"), seed("004"), seed("001")]
    packed = [unpack_outline(pack_outline(outline(t))) for t in texts]
    for a in packed:
        for b in packed:
            expected = np.array([[sentence_similarity(x, y) for y in b.sentences]
                                 for x in a.sentences]).reshape(len(a.sentences), len(b.sentences))
            for found in (_similarities(a, b), _similarities(a._replace(index=None), b)):
                assert found.shape == expected.shape and found.tobytes() == expected.tobytes()
