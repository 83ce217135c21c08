"""Number phrases as counts: "more than 340", "between 180 and 200", "two dozen", "dozens" become a
number, an upper number and a qualifier, and the low and high values a qualifier implies."""

from __future__ import annotations

import re
from typing import NamedTuple

from .vocabulary import VAGUE_FLOORS
from .patterns import (
    COMMA_THOUSANDS_RE, DECIMAL_RE, DIGIT_PHRASE_RE, DOT_THOUSANDS_RE, NUMBER_RE, POST_QUALIFIERS, QUALIFIER_PHRASES,
    SCALE_VALUES, THIN_SEPARATORS_RE, WORD_SPLIT_RE, WORD_VALUES)


class ParsedNumber(NamedTuple):
    """A number phrase read: its number(s), qualifier, and whether the bound is strict."""

    number: int | None
    number_high: int | None
    qualifier: str
    strict: bool
    vague: str | None


def _words_value(text: str) -> int | None:
    """The integer a phrase of number words spells ("two dozen" -> 24), or None if it spells none."""
    words = [w for w in WORD_SPLIT_RE.split(text.lower()) if w]
    if words[:2] == ["half", "a"] or words[:2] == ["half", "an"]:
        rest = words[2:]
        if rest == ["dozen"]:
            return 6
        return SCALE_VALUES[rest[0]] // 2 if len(rest) == 1 and rest[0] in SCALE_VALUES else None
    total, current, last, seen = 0, 0, None, False
    for word in words:
        if word == "and":
            continue
        if word in ("a", "an"):
            current, last = 1, "a"
            continue
        if word in WORD_VALUES:
            value = WORD_VALUES[word]
            kind = "tens" if value >= 20 else ("teen" if value >= 10 else "unit")
            if last in ("unit", "teen") or (last == "tens" and kind != "unit"):
                return None
            current += value
            last, seen = kind, True
        elif word == "hundred":
            if last == "hundred":
                return None
            current = (current or 1) * 100
            last, seen = "hundred", True
        elif word == "dozen":
            current = (current or 1) * 12
            last, seen = "dozen", True
        elif word in SCALE_VALUES:
            total += (current or 1) * SCALE_VALUES[word]
            current, last, seen = 0, "scale", True
        else:
            return None
    return total + current if seen else None


def _digits_value(text: str) -> int | None:
    """The integer of a digit phrase with separators and an optional multiplier ("1.2 million")."""
    match = DIGIT_PHRASE_RE.fullmatch(text.strip())
    if not match:
        return None
    digits, mult = match.group(1), (match.group(2) or "").lower()
    factor = {"million": 10**6, "mln": 10**6, "billion": 10**9, "bn": 10**9, "thousand": 1000}.get(mult, 1)
    digits = THIN_SEPARATORS_RE.sub("", digits)
    if COMMA_THOUSANDS_RE.fullmatch(digits):
        return int(digits.replace(",", "")) * factor
    if DOT_THOUSANDS_RE.fullmatch(digits) and factor == 1:
        return int(digits.replace(".", ""))  # European thousands: "1.000"
    if digits.isdigit():
        return int(digits) * factor
    if DECIMAL_RE.fullmatch(digits) and factor > 1:
        return round(float(digits.replace(",", ".")) * factor)
    return None


def _core_value(text: str) -> int | None:
    """The integer of one number core, digits or words."""
    text = text.strip()
    if not text:
        return None
    return _digits_value(text) if text[0].isdigit() else _words_value(text)


def parse_match(match: re.Match) -> ParsedNumber | None:
    """Read a NUMBER_RE match; None when it is not an integer count (e.g. "6.8", "1983-85")."""
    if match.group("between") or match.group("from"):
        low = _core_value(match.group("b1") or match.group("f1"))
        high = _core_value(match.group("b2") or match.group("f2"))
        if low is None or high is None or low >= high:
            return None
        return ParsedNumber(low, high, "range", False, None)
    qual_text = " ".join((match.group("qual") or "").lower().split())
    qualifier, strict = QUALIFIER_PHRASES.get(qual_text, ("exact", False))
    if match.group("vague"):
        vague = " ".join(match.group("vague").lower().split())
        return ParsedNumber(None, None, "vague", False, vague)
    first_word = match.group("n1").split()[0].lower().split("-")[0]
    if first_word in SCALE_VALUES or first_word == "dozen":
        return None  # "million" alone (after "$250") is no count
    low = _core_value(match.group("n1"))
    if low is None:
        return None
    if match.group("n2"):
        high = _core_value(match.group("n2"))
        if high is None or high <= low:
            return None
        return ParsedNumber(low, high, "range", False, None)
    post = (match.group("post") or "").strip().lower()
    post = " ".join(post.split())
    if post and qualifier == "exact":
        qualifier = POST_QUALIFIERS.get(post, POST_QUALIFIERS.get("-" + post.lstrip("-"), "exact"))
    return ParsedNumber(low, None, qualifier, strict, None)


def parse_number(text: str) -> tuple[int | None, int | None, str] | None:
    """(number, number_high, qualifier) of a number phrase ("more than 340" -> (340, None, "more_than")), or None."""
    if not isinstance(text, str):
        return None
    match = NUMBER_RE.fullmatch(text.strip())
    if not match:
        return None
    parsed = parse_match(match)
    return None if parsed is None else (parsed.number, parsed.number_high, parsed.qualifier)


def values(parsed: ParsedNumber) -> tuple[int | None, int | None]:
    """(value_low, value_high) of a parsed figure, by the rules in the module docstring."""
    n, q = parsed.number, parsed.qualifier
    if q == "vague":
        return VAGUE_FLOORS.get(parsed.vague or "", None), None
    if q == "range":
        return n, parsed.number_high
    if q == "more_than":
        return n + 1, None
    if q == "at_least":
        return n, None
    if q == "up_to":
        return None, (n - 1 if parsed.strict else n)
    return n, n
