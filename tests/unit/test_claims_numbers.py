"""Number phrases of casualty claims: unit cases and properties (tollwatch.transforms.claims.parse_number)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tollwatch.transforms.claims import ParsedNumber, extract_claims, parse_number, values

UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
        "seventeen eighteen nineteen".split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def words_for(n: int, use_and: bool = True) -> str:
    """English words for 0..999 ("one hundred and twenty-three")."""
    if n < 20:
        return UNITS[n]
    if n < 100:
        return TENS[n // 10 - 2] + ("" if n % 10 == 0 else "-" + UNITS[n % 10])
    rest = n % 100
    head = UNITS[n // 100] + " hundred"
    if rest == 0:
        return head
    return head + (" and " if use_and else " ") + words_for(rest)


@pytest.mark.parametrize("text, expected", [
    ("340", (340, None, "exact")),
    ("1,000", (1000, None, "exact")),
    ("12,345,678", (12345678, None, "exact")),
    ("1.000", (1000, None, "exact")),  # European thousands separator
    ("1.250", (1250, None, "exact")),
    ("10\u00a0000", (10000, None, "exact")),
    ("1.2 million", (1_200_000, None, "exact")),
    ("2.5 million", (2_500_000, None, "exact")),
    ("five", (5, None, "exact")),
    ("twenty-three", (23, None, "exact")),
    ("Forty-one", (41, None, "exact")),
    ("one hundred and twelve", (112, None, "exact")),
    ("two dozen", (24, None, "exact")),
    ("a dozen", (12, None, "exact")),
    ("half a dozen", (6, None, "exact")),
    ("a hundred", (100, None, "exact")),
    ("three thousand", (3000, None, "exact")),
    ("more than 340", (340, None, "more_than")),
    ("over 500", (500, None, "more_than")),
    ("more than a dozen", (12, None, "more_than")),
    ("at least 20", (20, None, "at_least")),
    ("at least two dozen", (24, None, "at_least")),
    ("no fewer than 9", (9, None, "at_least")),
    ("about 50", (50, None, "about")),
    ("some 300", (300, None, "about")),
    ("nearly 2,800", (2800, None, "about")),
    ("an estimated 150,000", (150000, None, "about")),
    ("up to 15", (15, None, "up_to")),
    ("as many as 70", (70, None, "up_to")),
    ("fewer than 20", (20, None, "up_to")),
    ("180-200", (180, 200, "range")),
    ("180–200", (180, 200, "range")),
    ("between 180 and 200", (180, 200, "range")),
    ("somewhere between 180-200", (180, 200, "range")),
    ("1,400-1,600", (1400, 1600, "range")),
    ("five or six", (5, 6, "range")),
    ("3,000 or more", (3000, None, "at_least")),
    ("dozens", (None, None, "vague")),
    ("scores", (None, None, "vague")),
    ("hundreds", (None, None, "vague")),
    ("tens of thousands", (None, None, "vague")),
])
def test_parse_number(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["", "people", "6.8", "1983-85", "200-180", "million", "the", "one two",
                                  "twenty twenty", "57-year-old"])
def test_parse_number_rejects(text):
    assert parse_number(text) is None


@pytest.mark.parametrize("parsed, expected", [
    (ParsedNumber(340, None, "more_than", False, None), (341, None)),
    (ParsedNumber(20, None, "at_least", False, None), (20, None)),
    (ParsedNumber(50, None, "about", False, None), (50, 50)),
    (ParsedNumber(15, None, "up_to", False, None), (None, 15)),
    (ParsedNumber(20, None, "up_to", True, None), (None, 19)),
    (ParsedNumber(7, None, "exact", False, None), (7, 7)),
    (ParsedNumber(180, 200, "range", False, None), (180, 200)),
    (ParsedNumber(None, None, "vague", False, "dozens"), (24, None)),
    (ParsedNumber(None, None, "vague", False, "tens of thousands"), (20000, None)),
])
def test_values(parsed, expected):
    assert values(parsed) == expected


@given(st.integers(min_value=0, max_value=10**12))
def test_integer_with_comma_separators_parses_back(n):
    assert parse_number(f"{n:,}") == (n, None, "exact")


@given(st.integers(min_value=1000, max_value=10**12), st.sampled_from([".", "\u00a0", "\u202f", "'"]))
def test_integer_with_other_separators_parses_back(n, sep):
    assert parse_number(f"{n:,}".replace(",", sep)) == (n, None, "exact")


@given(st.integers(min_value=0, max_value=999), st.booleans(), st.booleans())
def test_words_for_0_to_999_parse_back(n, use_and, capital):
    text = words_for(n, use_and)
    if capital:
        text = text.capitalize()
    assert parse_number(text) == (n, None, "exact")


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=10**9),
       st.sampled_from(["between {a} and {b}", "{a}-{b}", "{a} to {b}", "from {a} to {b}"]))
def test_ranges_keep_low_below_high(a, gap, template):
    b = a + gap
    assert parse_number(template.format(a=f"{a:,}", b=f"{b:,}")) == (a, b, "range")


@given(st.text(max_size=60))
def test_range_results_are_ordered(text):
    result = parse_number(text)
    if result is not None and result[2] == "range":
        assert result[0] < result[1]


@settings(max_examples=60)
@given(st.integers(min_value=2, max_value=10**7))
def test_more_than_n_gives_low_n_plus_one(n):
    claims = extract_claims(f"More than {n:,} people were killed in the floods, officials said.")
    assert [(c.number, c.qualifier, c.value_low, c.value_high) for c in claims] == [(n, "more_than", n + 1, None)]


@given(st.text())
def test_parse_number_never_raises(text):
    parse_number(text)


def test_parse_number_ignores_non_strings():
    assert parse_number(None) is None  # type: ignore[arg-type]
