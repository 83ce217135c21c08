"""Casualty claims: every figure of killed, injured or missing people that an article states, with who
states it, about whom, where and since when.

The stage is a claim grammar of news reporting, not a statistical model. For each sentence that
mentions a casualty word (a cheap regex pre-filter over the lower-cased text) it finds the number
phrases ("more than 340", "between 180 and 200", "two dozen", "dozens"), throws out numbers that are not
counts of people (ages, distances, durations, years, dates, times, money, percentages, labels, things,
animals, base populations such as "90 of its 200 residents"), and keeps a number only when the
sentence ties it to a casualty word:
  - a passive or intransitive verb after it: "745 civilians were killed", "31 people died";
  - an active verb or a noun before it: "killed more than 340 civilians", "the deaths of 311";
  - a toll named before it: "the death toll ... has surpassed 1,000";
  - a measure noun as its head: "1,245 fatalities", "dozens of bodies";
  - a figure it is part of: "including 50 children", "14 of them children", "Among the dead were ...";
  - coordination with such a figure: "125 soldiers and 148 fighters have been killed".
Who states a figure comes from the attribution patterns of news copy ("according to X", "X said",
"said X", "X told Reuters", "as reported by X", "X, citing Y"), resolved against a table of known
sources (`data/sources.toml`, extendable with users' files) and, for generic phrases ("a war monitor",
"the NGO", "the ministry", "the same source", "it said"), against the organisations the article names,
by their kind. A sentence with no attribution takes the source of the figure it is part of, or of the next
line for a headline; any other figure without one is stated in the article's own voice (source null), not
by the previous sentence's speaker. A news agency is reported only when no one else is named for it.

Guarantees: the extractor never raises on any text; `char_start`/`char_end` index the article text, so
every figure can be checked (a figure of the title alone, which the text does not state, has negative offsets
that index `title + "\n"` from its end); the same text always gives the same claims, in text order; a sentence that
repeats an earlier one word for word adds no claim; work is linear in the text's length.

Rules for the derived values (`value_low`, `value_high`):
  exact      low = high = number
  at_least   low = number, high = null           ("at least 20", "3,000 or more", "upwards of 50")
  more_than  low = number + 1, high = null       ("more than 340" -> 341; "over", "surpassed", "topped")
  about      low = high = number                 (the stated figure; the hedge stays in `qualifier`;
                                                  "nearly", "almost", "some", "an estimated" are `about`)
  up_to      low = null, high = number           ("up to", "as many as", "at most"); the strict forms
                                                  "fewer than N", "less than N", "under N" give N - 1
  range      low = number, high = number_high    ("180-200", "between 180 and 200", "five or six")
  vague      number = null, low = the smallest amount the word can mean ("dozens" 24, "scores" 40,
             "hundreds" 200, "thousands" 2,000, "tens of thousands" 20,000), high = null
Rules for the group: the group word of the number's phrase ("civilians", "members of the security
forces", "pro-Assad fighters", "children", "women"); `total` for a toll, a bare number ("over 500
killed"), a measure noun alone ("47 dead") or a figure whose parts the same sentence gives ("More than
1,000 people, including 745 civilians"); `unspecified` for "people" and other nouns.
Rules for scope: a claim is `incident` when it is tied to a place smaller than the event's area — a
settlement named with its noun ("the village of Tuwaym", "Nuseirat refugee camp"), a place the article
calls a town/village/city elsewhere, a hit site or attack ("a market in Baghdad", "strike on Kherson",
"in Antakya alone", "a mosque in Peshawar"), "in the city" after a city was named — or when residents
count their neighbours (the place is then the paragraph's last named settlement). Parts of a figure
share its scope. Everything else is `overall`; a toll is `overall` unless a settlement is named for it.
Periods: "since Thursday", "on Friday", "over the last two days", "in the past 24 hours", "since
October 7", "yesterday", "the previous day"; weekday names resolve to the most recent such day on or
before the publication date, a time that dates the statement ("said on Saturday") is not the period.

The package, one job per module, each using only the ones above it:
`vocabulary` (words and limits), `patterns` (regexes and their fast paths), `numbers` (number phrases),
`sources` (the known-sources table), `sentences`, `grammar` (one sentence's candidates), `attribution`
(who says it), `periods`, `extractor` (`extract_claims`) and `stage` (Beam). Its public surface is
re-exported here.
"""

from .extractor import ClaimMention, extract_claims
from .numbers import ParsedNumber, parse_number, values
from .sources import (
    SourceEntry, SourceTable, load_sources, one_name_per_body, read_source_files, sources_from_texts)
from .stage import (
    ExtractClaims, ExtractClaimsFn, UnmarkNewFigures, article_claims, claim_id, claim_key, figure_key,
    to_claim, unmark_new_figures)
from .vocabulary import MAX_FIGURE, figure_value

# The name it had before the package, for branches written against it.
_sources_from_texts = sources_from_texts

__all__ = [
    "MAX_FIGURE", "figure_value", "ClaimMention", "ExtractClaims", "ExtractClaimsFn", "ParsedNumber", "SourceEntry", "SourceTable",
    "UnmarkNewFigures", "article_claims", "claim_id", "claim_key", "extract_claims", "figure_key",
    "load_sources", "one_name_per_body", "parse_number",
    "read_source_files", "sources_from_texts", "to_claim", "unmark_new_figures", "values",
]
