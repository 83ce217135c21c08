"""The period a figure covers ("since Thursday", "in the past 24 hours", "since October 7"), resolved
against the publication date."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from tollwatch.transforms.text import finditer_from
from .vocabulary import MONTHS, WEEKDAYS
from .patterns import PERIOD_RE, PERIOD_START_RE, WORD_NUMBERS_SMALL, caseless_lower


def find_periods(text: str) -> list[tuple[int, int, re.Match]]:
    """Time phrases of a sentence: (start, end, match)."""
    low = caseless_lower(text)
    matches = PERIOD_RE.finditer(text) if low is None else finditer_from(PERIOD_RE, PERIOD_START_RE, text, low)
    return [(m.start(), m.end(), m) for m in matches]


def resolve_period(m: re.Match, published: datetime | None) -> datetime | None:
    """The start of a time phrase as a UTC datetime, resolved against the publication date."""
    try:
        return _period_start(m, published)
    except OverflowError:  # published in year 1: "on Wednesday" would fall before the calendar
        return None


def _period_start(m: re.Match, published: datetime | None) -> datetime | None:
    def weekday(name: str) -> datetime | None:
        if published is None:
            return None
        target = WEEKDAYS.index(name.lower())
        day = published.date() - timedelta(days=(published.weekday() - target) % 7)
        return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)

    def on_date(month: str, day: str | None, year: str | None) -> datetime | None:
        mo = MONTHS[month.lower().rstrip(".")]
        d = int(day) if day else 1
        if year:
            y = int(year)
        elif published is not None:
            y = published.year
            if (mo, d) > (published.month, published.day):
                y -= 1
        else:
            return None
        try:
            return datetime(y, mo, d, tzinfo=timezone.utc)
        except ValueError:
            return None

    day0 = None
    if published is not None:
        day0 = datetime(published.year, published.month, published.day, tzinfo=timezone.utc)
    if m.group("since_wd"):
        return weekday(m.group("wd1"))
    if m.group("since_date"):
        if m.group("m1"):
            return on_date(m.group("m1"), m.group("d1"), m.group("y1"))
        if m.group("m2"):
            return on_date(m.group("m2"), m.group("d2"), m.group("y2"))
        if m.group("m3"):
            return on_date(m.group("m3"), None, m.group("y3"))
        if m.group("y4"):
            return datetime(int(m.group("y4")), 1, 1, tzinfo=timezone.utc)
        if m.group("m4"):
            return on_date(m.group("m4"), None, None)
    if m.group("last_n") and published is not None:
        raw = m.group("n").lower()
        n = int(raw) if raw.isdigit() else WORD_NUMBERS_SMALL.get(raw, 1)
        unit = m.group("unit").lower()
        if unit == "hours":
            return published - timedelta(hours=n)
        days = {"days": 1, "weeks": 7, "months": 30}[unit] * n
        return day0 - timedelta(days=days)
    if m.group("last_unit") and published is not None:
        return day0 - timedelta(days={"day": 1, "week": 7, "month": 30, "year": 365}[m.group("unit1").lower()])
    if m.group("on_date"):
        return on_date(m.group("m5"), m.group("d5"), None)
    if m.group("on_wd"):
        return weekday(m.group("wd2") or m.group("wd3") or m.group("wd4"))
    if m.group("rel") and published is not None:
        rel = " ".join(m.group("rel").lower().split())
        offsets = {"yesterday": 1, "today": 0, "overnight": 1, "this morning": 0, "last night": 1,
                   "the previous day": 1, "the day before": 1, "last week": 7, "this week": published.weekday(),
                   "last month": 30, "earlier this week": published.weekday(), "the past week": 7}
        return day0 - timedelta(days=offsets.get(rel, 0))
    return None
