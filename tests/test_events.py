import datetime as dt

import pytest

from support import EXAMPLES
from tollwatch.transforms.events import Event, EventMatcher, load_events

UTC = dt.timezone.utc
MAY = dt.datetime(2026, 5, 13, tzinfo=UTC)
FIGHTING = Event("fighting", "Fighting", ("insurgents", "clashes", "curfew"), ("Lorna Coast",),
                 dt.datetime(2026, 5, 11, tzinfo=UTC))
CRASH = Event("crash", "Bus crash", ("bus", "ravine", "pilgrims"), ("Kesra",), None)


def test_a_passing_mention_does_not_pull_an_article_into_another_event():
    matcher = EventMatcher([FIGHTING, CRASH])
    text = ("A bus carrying pilgrims fell into a ravine near Kesra. Rescuers were short of "
            "helicopters, many of them still deployed on the Lorna Coast.")
    assert matcher.event_ids("Bus plunges into ravine", text, MAY) == ["crash"]


def test_an_article_about_both_belongs_to_both_and_one_weak_hit_still_counts():
    matcher = EventMatcher([FIGHTING, CRASH])
    both = "Clashes with insurgents on the Lorna Coast; a bus of pilgrims crashed near Kesra."
    assert matcher.event_ids(None, both, MAY) == ["fighting", "crash"]
    assert matcher.event_ids(None, "A curfew was declared overnight.", MAY) == ["fighting"]
    assert matcher.event_ids(None, "Nothing related at all.", MAY) == []


def test_events_before_their_start_are_not_assigned():
    matcher = EventMatcher([FIGHTING])
    early = dt.datetime(2026, 5, 1, tzinfo=UTC)
    assert matcher.event_ids(None, "clashes with insurgents", early) == []


def test_load_events_reads_the_example_file_and_rejects_bad_ones(tmp_path):
    events = load_events(str(EXAMPLES / "events.toml"))
    assert [e.id for e in events] == ["serrano-clashes-2026", "kesra-bus-crash-2026"]
    assert events[0].start == dt.datetime(2026, 5, 11, tzinfo=UTC)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[event]]\nid = "x"\n')
    with pytest.raises(ValueError, match="keywords or places"):
        load_events(str(bad))
    bad.write_text("not = [toml")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_events(str(bad))


def test_the_substring_prefilter_never_changes_the_evidence():
    """The matcher skips an event's regex when none of its terms occurs in the lower-cased text;
    the scores are those of the regexes alone, whatever the case, the script or the word edges."""
    import datetime as dt
    import random

    from tollwatch.transforms.events import Event, EventMatcher

    events = [Event("a", "A", ("Serrano Coast", "SLF"), ("Trastel",), None),
              Event("b", "B", ("bus", "Kesra pass"), ("Alto Fenn",), None),
              Event("c", "C", ("Ölberg",), ("Kelvin",), None)]
    matcher = EventMatcher(events)
    words = ["serrano COAST", "slf", "SLFs", "trastel", "Bus", "busy", "kesra  pass", "Kesra pass",
             "alto fenn", "ölberg", "ÖLBERG", "\u212aelvin", "kelvin", "the", "news", ".", ","]
    rng = random.Random(3)
    when = dt.datetime(2026, 5, 12, tzinfo=dt.timezone.utc)
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
        title = " ".join(rng.choice(words) for _ in range(rng.randint(0, 4)))
        expected = {}
        for event, pattern in zip(events, matcher._patterns):
            in_text = {m.casefold() for m in pattern.findall(text)}
            in_title = {m.casefold() for m in pattern.findall(title)}
            expected[event.id] = len(in_text | in_title) + len(in_title)
        assert matcher.evidence(title, text, when) == expected, (title, text)
