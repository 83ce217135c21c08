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


def test_the_fast_path_never_changes_the_evidence():
    """In an ASCII text the matcher tries an event's regex only where a term occurs, lower-cased,
    and only for terms whose words are all words of the text; the scores are those of the regexes
    alone (findall over the whole text), whatever the case, the script, the word edges, or terms
    that overlap."""
    import datetime as dt
    import random

    from tollwatch.transforms.events import Event, EventMatcher

    events = [Event("a", "A", ("Serrano Coast", "SLF", "Serrano Coast clashes"), ("Trastel",), None),
              Event("b", "B", ("bus", "Kesra pass", "pass"), ("Alto Fenn", "U.N.", "-x-"), None),
              Event("c", "C", ("Ölberg",), ("Kelvin",), None),
              Event("d", "D", ("coast clashes", "the news", "10th"), (), None)]
    matcher = EventMatcher(events)
    words = ["serrano COAST", "slf", "SLFs", "trastel", "Bus", "busy", "kesra  pass", "Kesra pass",
             "alto fenn", "ölberg", "ÖLBERG", "\u212aelvin", "kelvin", "the", "news", ".", ",",
             "clashes", "Serrano Coast clashes", "u.n.", "U.N", "-x-", "x", "10th", "pass", "Coast"]
    separators = [" ", " ", " ", "", "-", "\n", "_"]
    rng = random.Random(3)
    when = dt.datetime(2026, 5, 12, tzinfo=dt.timezone.utc)

    def sample(n: int) -> str:
        return "".join(rng.choice(words) + rng.choice(separators) for _ in range(rng.randint(0, n)))

    for _ in range(2000):
        text, title = sample(14), sample(4)
        expected = {}
        for event, pattern in zip(events, matcher._patterns):
            in_text = {m.casefold() for m in pattern.findall(text)}
            in_title = {m.casefold() for m in pattern.findall(title)}
            expected[event.id] = len(in_text | in_title) + len(in_title)
        assert matcher.evidence(title, text, when) == expected, (title, text)


def test_a_term_is_found_where_an_earlier_match_ends_not_inside_it():
    events = [Event("a", "A", ("Serrano Coast", "Coast clashes", "clashes"), (), None)]
    evidence = EventMatcher(events).evidence
    # findall goes on after "Serrano Coast": "Coast clashes" is not found, "clashes" is.
    assert evidence(None, "serrano coast clashes", MAY) == {"a": 2}
    assert evidence(None, "the Coast clashes", MAY) == {"a": 1}
    assert evidence(None, "U.N. Coast-clashes", MAY) == {"a": 1}
    assert evidence(None, "coastclashes", MAY) == {"a": 0}
