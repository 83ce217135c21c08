"""Rewrite detection: figures and credits kept, time close; independent reports stay apart."""

import re

from apache_beam.utils.timestamp import Timestamp

from support import needs_shared, seed
from tollwatch.schemas.duplicates import StoryTraits
from tollwatch.transforms.duplicates.rewrites import CreditFinder, figures, rewrite_similarity

FINDER = CreditFinder({"Reuters": "Reuters", "Associated Press": "AP", "AP": "AP", "AFP": "AFP",
                       "SANA": "SANA", "The National": "The National"})
HOUR = 3600


def traits(text: str, hours: float = 0, dated: bool = True, doc: str = "a") -> StoryTraits:
    return StoryTraits(doc, Timestamp(1_700_000_000 + hours * HOUR), dated, len(text), None,
                       figures(text), FINDER.credits(text))


def test_credits_need_a_credit_context_not_a_mention():
    assert FINDER.credits("a monitor told Reuters on Saturday.") == ["Reuters"]
    assert FINDER.credits("Reuters could not independently verify the reports.") == ["Reuters"]
    assert FINDER.credits("The claims have not been independently verified by Reuters.") == ["Reuters"]
    assert FINDER.credits("LONDON (Reuters) - Floods ...") == ["Reuters"]
    assert FINDER.credits("as reported by the Associated Press") == ["AP"]
    assert FINDER.credits("she said in a phone interview with AFP") == ["AFP"]
    assert FINDER.credits("state news agency SANA said five soldiers died.") == []


def test_credit_windows_reach_a_whole_context_however_it_is_spaced():
    # The windows count tokens, not characters: a context with long white space is still found,
    # and one whose tail is seven words after the name.
    spaced = "x " * 50 + "told" + " " * 300 + "the\n\n\n" + "Reuters" + " y" * 50
    assert FINDER.credits(spaced) == ["Reuters"]
    tail = "w " * 40 + "AFP has   not been\table to\n independently   confirm " + "w " * 40
    assert FINDER.credits(tail) == ["AFP"]
    # At the very start and end of the text.
    assert FINDER.credits("(AP)") == ["AP"]
    assert FINDER.credits("Associated Press correspondents") == ["AP"]
    # Two contexts whose windows overlap, and one far away from them.
    both = "told AFP and (Reuters) " + "z " * 500 + "spoke by telephone with the Associated Press"
    assert FINDER.credits(both) == ["AFP", "AP", "Reuters"]


def test_a_credited_name_inside_a_longer_name_found_is_not_missed():
    # The scan for names finds "Press Guild" and goes on after it; the context credits "Guild
    # Wire", which starts inside it and ends beyond it.
    finder = CreditFinder({"Press Guild": "PG", "Guild Wire": "GW"})
    assert finder.credits("Press Guild Wire correspondents said.") == ["GW"]
    assert finder.credits("Press Guild correspondents said.") == ["PG"]
    assert finder.credits("x " * 30 + "Press Guild Wire could not verify it" + " y" * 30) == ["GW"]


def test_credit_windows_hold_only_what_is_around_names():
    text = "a " * 100 + "told Reuters" + " b" * 100
    (start, end), = FINDER.windows(text)
    assert text[start:end].split().count("told") == 1 and 0 < start and end < len(text)
    assert FINDER.windows("no name here") == []


def test_every_white_space_in_a_credit_context_is_one_run():
    # CreditFinder's windows assume each `\s` of a context matches at most one run of white space
    # and that nothing else in a context matches white space.
    from tollwatch.transforms.duplicates.rewrites import CREDIT_CONTEXTS

    for context in CREDIT_CONTEXTS:
        assert re.findall(r"\\s(?![+*])", context) == [], context
        rest = re.sub(r"\\s[+*]", "", context)
        assert not re.search(r"\\[sSWD]|\[\^|(?<!\\)\.|\\b\w", rest.replace(r"\b", "")), context


def test_figures_take_the_number_a_casualty_word_follows():
    assert figures("1,234,567 people killed") == [1234567]
    assert figures("1,2345 killed; 12,34 dead; 5 dead; x12 killed; _12 killed") == [12, 34, 2345]
    assert figures("a 1234,567 killed") == [567, 1234]
    assert figures("2026. 50 dead\n55\nkilled") == [50]


def test_figures_over_the_claims_bound_are_not_figures():
    """No casualty count is larger than MAX_FIGURE; a run of digits that is (a hostile page's
    9223372036854775808 "killed") must not reach the traits, whose int64 coder cannot hold it."""
    from tollwatch.transforms.claims import MAX_FIGURE

    assert figures(f"{MAX_FIGURE} killed, {MAX_FIGURE + 1} dead, 2{'0' * 18} killed, 40 died") == [
        40, MAX_FIGURE]


def test_figures_of_thousands_of_digits_are_over_the_bound_not_an_error():
    """Python refuses to convert a string of over 4,300 digits to an int: a hostile article's
    4,301-digit figure (or 1 followed by ',000' 1,500 times) must be over the bound, not raise."""
    assert figures("1" * 4301 + " killed, 40 died") == [40]
    assert figures("1" + ",000" * 1500 + " people were killed, 12 dead") == [12]


def test_figures_are_numbers_before_a_casualty_word_not_years_or_distances():
    text = ("More than 1,000 people were killed, including 745 civilians, since 2012; the town lies "
            "20 kilometers away.")
    assert figures(text) == [745, 1000]


def test_a_rewrite_keeps_figure_and_credit_and_follows_within_a_day():
    wire = traits("Gunmen killed more than 340 civilians, a monitor told Reuters.", 0, doc="w")
    rewrite = traits("An assault left over 340 people dead; this was not verified by Reuters.", 5,
                     doc="r")
    assert rewrite_similarity(wire, rewrite) == 1.0
    later = rewrite._replace(published_at=Timestamp(1_700_000_000 + 48 * HOUR))
    assert rewrite_similarity(wire, later) is None, "two days later it is a follow-up, not a rewrite"
    assert rewrite_similarity(wire, later._replace(dated=False)) == 1.0, "an unknown date is no evidence"


def test_independent_reports_of_the_same_figures_are_not_rewrites():
    a = traits("More than 1,000 people were killed, The National could not independently verify.")
    b = traits("The toll passed 1,000 dead, as reported by the Associated Press.", 2, doc="b")
    assert rewrite_similarity(a, b) is None


@needs_shared
def test_seed_004_is_a_rewrite_of_000_and_001_002_are_not_linked():
    finder = CreditFinder.from_sources()

    def seed_traits(prefix):
        text = seed(prefix)
        return StoryTraits(prefix, Timestamp(0), prefix in ("000", "001", "002"), len(text), None,
                           figures(text), finder.credits(text))
    assert rewrite_similarity(seed_traits("000"), seed_traits("004")) is not None
    assert rewrite_similarity(seed_traits("001"), seed_traits("002")) is None


def test_a_teaser_quoting_another_storys_lead_is_not_a_rewrite():
    wire = traits("At least 45 people were killed, a monitor told Reuters. 14 civilians and 12 "
                  "soldiers died.", 0, doc="w")
    page = traits("Floods killed 17 people and 230 people were displaced, officials said; 52 people "
                  "were injured and 9 bodies recovered. Related: LONDON (Reuters) - At least 45 "
                  "people were killed in clashes.", 3, doc="p")
    assert rewrite_similarity(wire, page) is None
