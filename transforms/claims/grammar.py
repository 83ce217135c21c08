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
every figure can be checked; the same text always gives the same claims, in text order; a sentence that
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
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import re
import tomllib
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas.records import Article, Claim, DeadLetter

_LOG = logging.getLogger(__name__)

# ----------------------------------------------------------------------------------------------
# Tunables (all in one place)
# ----------------------------------------------------------------------------------------------
MAX_NP_WORDS = 8  # words of the noun phrase after a number ("members of the government's security forces")
MAX_RIGHT_TOKENS = 18  # how far after a number its verb may come ("20 of his neighbors ... were killed")
MAX_TOLL_TOKENS = 40  # how far before a number a "death toll" may stand
MAX_HEADLINE_WORDS = 25  # a line without final punctuation and at most this long is a headline
MAX_SOURCE_WORDS = 8  # a longer phrase before "said" is not taken as the name of a source
SUBCOUNT_LOOKBACK = 2  # sentences back to look for the parent of "Among the dead were ..."
ATTRIBUTION_LOOKBACK = 4  # sentences before the first claim read for "it said", "the same source"
HASH_CHARS = 16  # hex characters kept of claim ids and keys
MAX_SENTENCE_CHARS = 1000  # longer "sentences" (tables, lists) are cut, keeping the grammar's work linear
# More people than live on Earth is no count of casualties ("10^30", spam, a number run into a code);
# the bound also keeps every figure inside the int64 columns of the output.
MAX_FIGURE = 10**10
BUILTIN_SOURCES = "data/sources.toml"
SOURCE_KINDS = ("monitor", "ministry", "agency", "un", "ngo", "hospital", "rescue", "media", "official")

# The smallest amount a vague quantity can mean: its value_low.
VAGUE_FLOORS = {
    "tens": 20, "dozens": 24, "scores": 40, "hundreds": 200, "thousands": 2_000, "millions": 2_000_000,
    "tens of thousands": 20_000, "hundreds of thousands": 200_000, "tens of millions": 20_000_000,
    "several dozen": 36, "several hundred": 300, "several thousand": 3_000,
    "a few dozen": 24, "a few hundred": 200, "a few thousand": 2_000,
    "few dozen": 24, "few hundred": 200, "few thousand": 2_000,
    "many dozens": 36, "many hundreds": 300, "many thousands": 3_000,
}

# ----------------------------------------------------------------------------------------------
# Vocabulary of casualty reporting (language rules, not per-source code)
# ----------------------------------------------------------------------------------------------
MEASURE_WORDS = {
    "killed": "killed", "dead": "killed", "died": "killed", "die": "killed", "dies": "killed",
    "slain": "killed", "executed": "killed", "murdered": "killed", "massacred": "killed",
    "perished": "killed", "drowned": "killed", "deaths": "killed", "fatalities": "killed",
    "bodies": "killed", "corpses": "killed", "slaughtered": "killed",
    "wounded": "injured", "injured": "injured", "hurt": "injured", "injuries": "injured",
    "missing": "missing", "unaccounted": "missing",
    # Counts of people taken to hospital are counts of the injured ("64 people were hospitalized").
    "hospitalized": "injured", "hospitalised": "injured",
    "casualties": "casualties", "victims": "casualties",
}
# Verbs that can take an object: "gunmen killed 12" makes the number before them the agent.
TRANSITIVE = {"killed", "executed", "murdered", "massacred", "wounded", "injured", "hurt", "slaughtered"}
# Verbs and nouns before a number that make it a casualty figure: "killing 12", "wounded more than 70".
ACTIVE_BEFORE = {
    "killed": "killed", "killing": "killed", "kill": "killed", "kills": "killed",
    "executed": "killed", "executing": "killed", "massacred": "killed", "slaughtered": "killed",
    "wounded": "injured", "wounding": "injured", "injured": "injured", "injuring": "injured",
    "injures": "injured", "wounds": "injured", "hurt": "injured", "hurting": "injured",
    "lost": "killed", "losing": "killed", "shot": "casualties", "stabbed": "casualties", "shooting": "casualties",
}
# "claimed 18 lives", "cost 40 lives".
LIFE_VERBS = {"claimed", "claiming", "claims", "claim", "cost", "costing", "costs", "took", "taking", "takes", "lost"}
# "the deaths of 311", "bodies of five neighbours", "casualties somewhere between 180-200".
NOUN_BEFORE = {
    "deaths": "killed", "death": "killed", "bodies": "killed", "killing": "killed", "killings": "killed",
    "execution": "killed", "executions": "killed", "remains": "killed", "corpses": "killed",
    "fatalities": "killed", "casualties": "casualties", "injuries": "injured", "dead": "killed",
    "murders": "killed", "murder": "killed",
}
NOUN_FILLERS = {"of", "at", "numbering", "totalling", "totaling", "somewhere", "estimated", "reaching", "to", ":",
                "number", "numbered", "numbers", "total", "totalled", "totaled", "stood", "stand", "stands", "reached"}
# Nouns heading a number's phrase that are its measure: "1,245 fatalities", "47 dead".
MEASURE_HEADS = {
    "dead": "killed", "deaths": "killed", "fatalities": "killed", "bodies": "killed", "corpses": "killed",
    "casualties": "casualties", "victims": "casualties", "wounded": "injured", "injured": "injured",
    "injuries": "injured", "missing": "missing",
}
TOLL_MEASURES = {"death": "killed", "casualty": "casualties", "injury": "injured", "fatality": "killed"}
# Words right before a number that link it to a toll named earlier: "the toll rose to 524".
TOLL_LINKS = {
    "to", "at", "of", "reached", "reaching", "reaches", "reach", "surpassed", "surpassing", "surpasses",
    "passed", "passing", "passes", "exceeded", "exceeding", "exceeds", "topped", "topping", "tops",
    "hit", "hits", "hitting", "is", "was", "stands", "stood", "now", "climbed", "rose", "jumped",
    "risen", "increased", "crossed", "crossing", ":", "climbs", "rises",
}
# Toll verbs that make an exact number a lower bound: "has surpassed 1,000".
MORE_THAN_VERBS = {"surpassed", "surpassing", "surpasses", "exceeded", "exceeding", "exceeds", "topped",
                   "topping", "tops", "passed", "passing", "passes", "crossed", "crossing"}
# "the toll rose from 180 to 200" states 200.
CHANGE_VERBS = {"rose", "risen", "rising", "climbed", "climbing", "increased", "increasing", "jumped",
                "jumping", "grew", "grown", "went", "up", "soared"}
AUX = {"is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "remain", "remains",
       "remained", "will", "would", "may", "might", "could", "can", "should", "must", "'re", "'s"}
# Words that may stand between an auxiliary and its participle: "were also reportedly killed".
PREVERB = {"also", "reportedly", "all", "mostly", "later", "still", "now", "confirmed", "believed",
           "feared", "presumed", "thought", "known", "said", "reported", "to", "be", "been", "being",
           "have", "has", "had", "either", "subsequently", "eventually", "allegedly", "apparently",
           "already", "initially", "so", "far", "just", "officially", "critically", "seriously",
           "severely", "badly", "slightly", "lightly", "fatally", "mortally", "gravely", "likely",
           "probably", "shot", "found", "listed", "declared", "pronounced", "left", "then", "among"}
NEGATIONS = {"not", "never", "no", "n't", "none", "nobody"}
# Relative words: the clause they open may hold a non-casualty verb ("where Alawites lived").
RELATIVES = {"who", "which", "that", "where", "whom", "whose", "when"}
# Words after which a number's own verb cannot follow any more.
SCAN_STOPS = {"said", "says", "say", "told", "tells", "according", ";", ":", "but", "while",
              "because", "although", "though", "whereas", "if", "unless", "?", "killing", "wounding",
              "injuring", "leaving", "stated", "added", "reported", "announced", "noted", "estimated",
              "before", "until", "despite", "without", "unlike"}
# Adjectives ending in -ed that are not verbs.
ED_ADJECTIVES = {"armed", "allied", "aligned", "affiliated", "based", "backed", "led", "linked", "supported",
                 "related", "displaced", "detained", "abducted", "trained", "sponsored", "funded",
                 "named", "unnamed", "unidentified", "identified", "registered", "unregistered",
                 "suspected", "alleged", "uniformed", "retired", "elderly", "crowded", "isolated",
                 "besieged", "occupied", "disputed", "coordinated", "organised", "organized", "hundred",
                 "masked", "unarmed", "talented", "skilled", "skilled", "united", "combined", "estimated"}
IRREGULAR_PAST = {"came", "went", "fled", "took", "gave", "ran", "met", "saw", "held", "made", "got", "fought",
                  "sought", "stood", "built", "sent", "spent", "found", "began", "fell", "rose", "struck",
                  "threw", "drove", "flew", "hid", "knew", "became", "brought", "bought", "caught",
                  "taught", "thought", "felt", "kept", "heard", "paid", "laid", "sat", "stole", "broke",
                  "chose", "spoke", "won", "burst", "spread", "live", "lived", "attend", "gather",
                  "escaped", "survived", "returned", "arrived", "joined", "marched", "protested",
                  "gathered", "attended", "crossed", "entered", "stormed", "attacked", "opened", "fired",
                  "launched", "carried", "sheltered", "lost", "received", "need", "needed", "live"}
# Nouns that count everyone a figure is about, whoever they are: "146 people" is the toll, a `total`.
PEOPLE_NOUNS = frozenset({"people", "persons", "individuals", "lives", "humans"})
# ...unless the figure adds to another: "three more people", "another 12 people".
INCREMENT_WORDS = frozenset({"more", "additional", "further", "another", "other", "others", "new", "extra"})
SUBCOUNT_BEFORE = {"including", "includes", "included", "include"}
SUBCOUNT_PAIRS = {("among", "them"), ("among", "whom"), ("of", "whom"), ("among", "those")}
SUBCOUNT_NOUNS = {"dead": "killed", "victims": None, "killed": "killed", "wounded": "injured",
                  "injured": "injured", "casualties": None, "missing": "missing", "fatalities": "killed"}
COPULA = {"were", "was", "are", "is", "being", "included", "include", "includes"}

GROUP_WORDS: dict[str, str] = {}
for _group, _words in {
    "children": "children child kids kid minors boys girls babies baby infants infant toddlers toddler "
                "schoolchildren schoolgirls schoolboys teenagers teens newborns youngsters",
    "women": "women woman mothers wives females",
    "security_forces": "soldiers soldier troops trooper troopers servicemen serviceman servicemembers "
                       "police policemen policeman policewomen officers officer gendarmes guards guardsmen "
                       "peacekeepers conscripts marines sailors airmen paratroopers commandos security "
                       "army forces personnel service",
    "combatants": "fighters fighter militants militant insurgents insurgent rebels rebel gunmen gunman "
                  "jihadists jihadist militiamen militia militias combatants combatant attackers attacker "
                  "assailants terrorists terrorist extremists loyalists mercenaries paramilitaries "
                  "paramilitary operatives guerrillas guerrilla bombers",
    "civilians": "civilians civilian residents resident villagers inhabitants passengers worshippers "
                 "worshipers pilgrims shoppers pedestrians bystanders farmers fishermen students pupils "
                 "teachers journalists reporters medics paramedics doctors nurses patients refugees "
                 "migrants tourists visitors neighbours neighbors workers staff employees volunteers "
                 "miners spectators fans protesters demonstrators neighbour neighbor colleagues",
}.items():
    for _w in _words.split():
        GROUP_WORDS[_w] = _group
# Modifiers that turn "forces" into combatants: "rebel forces", "pro-Assad forces".
COMBATANT_MARKERS = {"rebel", "rebels", "opposition", "militia", "insurgent", "jihadist", "loyalist"}
GROUP_PRECEDENCE = ("children", "women", "combatants", "security_forces", "civilians")
PEOPLE_WORDS = {"people", "persons", "person", "individuals", "others", "men", "man", "lives", "family", "families"}

# Heads that make a number a count of something other than people.
NONPERSON = set("""
year years month months week weeks day days hour hours minute minutes second seconds decade decades
century centuries am pm a.m p.m gmt km kilometre kilometres kilometer kilometers mile miles metre metres
meter meters m feet foot ft yard yards inch inches cm mm kg kilogram kilograms kilo kilos ton tons tonne
tonnes pound pounds dollar dollars euro euros yuan rupees rupee shekels shekel percent per pct degree
degrees hectare hectares acre acres litre litres liter liters gallon gallons barrel barrels times point
points storey storeys story stories floor floors house houses home homes building buildings apartment
apartments vehicle vehicles car cars truck trucks lorries tank tanks aircraft plane planes jet jets
helicopter helicopters drone drones missile missiles rocket rockets shell shells bomb bombs boat boats ship
ships vessel vessels strike strikes airstrike airstrikes attack attacks raid raids incident incidents
operation operations explosion explosions blast blasts target targets site sites location locations
village villages town towns city cities province provinces district districts region regions country
countries state states neighbourhood neighbourhoods neighborhood neighborhoods camp camps school schools
hospital hospitals bed beds facility facilities mosque mosques church churches checkpoint checkpoints
position positions case cases dose doses meal meals tent tents shelter shelters pager pagers vote votes
seat seats goal goals page pages item items gram grams magnitude crossing crossings bridge bridges road
roads route routes flight flights square sq mph knots calories tonnes rounds round weapons weapon guns
gun rifles bullets cartridges mines occasions counts charges sentences videos images photos reports
articles projectiles munitions warplanes sorties mortars kilometres families household households
hectares gigawatts megawatts bags parcels trucks convoys containers crates cases caseload infections
animals animal livestock cattle sheep goats cows dogs cats horses pigs chickens birds fish whales dolphins
elephants apes monkeys camels donkeys poultry attempts attempt occasions
""".split())

# Which source kinds a generic phrase can name (the coreference rule is keyed on kind).
_ORG_KINDS = frozenset({"monitor", "ngo", "rescue", "un", "agency", "ministry", "hospital", "official"})
COREF_KINDS = {
    "monitor": frozenset({"monitor"}), "watchdog": frozenset({"monitor", "ngo"}),
    "observatory": frozenset({"monitor"}), "ngo": frozenset({"ngo", "monitor"}),
    "rights group": frozenset({"ngo", "monitor"}), "charity": frozenset({"ngo"}),
    "organisation": _ORG_KINDS, "organization": _ORG_KINDS,
    "group": frozenset({"monitor", "ngo", "rescue"}), "agency": frozenset({"agency", "un", "rescue"}),
    "un agency": frozenset({"un"}), "un body": frozenset({"un"}), "un office": frozenset({"un"}),
    "world body": frozenset({"un"}), "mission": frozenset({"un"}), "ministry": frozenset({"ministry"}),
    "civil defence": frozenset({"rescue"}), "civil defense": frozenset({"rescue"}),
    "rescue service": frozenset({"rescue"}), "emergency service": frozenset({"rescue"}),
    "rescue group": frozenset({"rescue"}), "hospital": frozenset({"hospital"}),
    "military": frozenset({"official"}), "army": frozenset({"official"}),
}
# Short generic names for people on the ground.
GENERIC_SOURCES = {
    "residents": "residents", "resident": "residents", "locals": "residents", "villagers": "residents",
    "inhabitants": "residents", "witnesses": "witnesses", "witness": "witnesses",
    "eyewitnesses": "witnesses", "eyewitness": "witnesses", "activists": "activists",
    "activist": "activists", "medics": "medics", "medic": "medics", "paramedics": "medics",
    "doctors": "medics", "doctor": "medics", "rescuers": "rescuers", "relatives": "relatives",
    "survivors": "survivors", "survivor": "survivors",
}
LOCAL_SOURCES = {"residents", "witnesses", "relatives", "survivors"}
TITLE_WORDS = {"spokesman", "spokeswoman", "spokesperson", "governor", "mayor", "minister", "chief", "head",
               "director", "official", "officer", "commander", "president", "leader", "prosecutor",
               "secretary", "envoy", "regional", "provincial", "local", "deputy", "senior", "police",
               "general", "lieutenant", "colonel", "captain", "major", "dr", "dr.", "mr", "mr.", "ms",
               "ms.", "mrs", "mrs.", "prime", "foreign", "interior", "health", "defence", "defense",
               "district", "city", "state", "u.s.", "u.n.", "un", "coordinator", "representative",
               "administrator", "ambassador", "legislator", "lawmaker", "sheikh", "imam", "resident"}
# Offices with one holder: a source named with one is the office ("Mayor Vitali Klitschko" and "the mayor,
# Vitaliy Klychko" are one source), as a spokesman named with his ministry is the ministry.
OFFICES = frozenset({"mayor", "governor", "president", "premier", "chancellor"})
_OFFICE_OF_RE = re.compile(
    r"(?:the\s+)?(?P<office>mayor|governor|president)\s+of\s+(?:the\s+)?(?:(?:city|town|region|province|state|country)"
    r"|(?P<place>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?))\s*,?\s+[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+){1,3}$", re.IGNORECASE)
# Words that start a descriptive source phrase and are lower-cased in its canonical form.
COMMON_FIRST = {"other", "some", "several", "many", "local", "regional", "provincial", "state", "security",
                "medical", "health", "hospital", "government", "military", "police", "rescue", "civil",
                "fire", "emergency", "officials", "authorities", "unnamed", "senior", "municipal",
                "district", "city", "town", "village", "tribal", "army", "coast", "defence", "defense",
                "independent", "official", "sources", "source", "relief", "aid", "humanitarian", "two",
                "three", "four", "five", "prison", "judicial", "forensic", "interior", "disaster",
                "hospitals", "morgue", "mortuary", "camp", "community", "religious", "church", "mosque",
                "provincial", "county", "federal", "national", "international", "human", "rights", "an",
                "the", "a", "tv", "television", "radio", "news", "media", "coroner", "fire", "paramedic"}
DETERMINERS = {"the", "a", "an", "his", "her", "their", "its", "our", "my", "this", "that", "these", "those"}
OBJECT_STARTS = DETERMINERS | {"him", "them", "us", "me", "some", "several", "many", "dozens", "hundreds",
                               "scores", "thousands", "all", "both", "each", "every", "two", "three",
                               "four", "five", "six", "seven", "eight", "nine", "ten", "one", "at"}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = {"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
          "august": 8, "september": 9, "october": 10, "november": 11, "december": 12, "jan": 1,
          "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10,
          "nov": 11, "dec": 12}
# Capitalised words before a number that make it a label: "Route 60", "Resolution 2334".
LABEL_WORDS = {"route", "highway", "road", "flight", "resolution", "article", "gate", "no", "no.", "number",
               "building", "block", "room", "level", "category", "phase", "grade", "section", "chapter",
               "page", "channel", "platform", "terminal", "sector", "zone", "brigade", "battalion",
               "division", "unit", "regiment", "corps", "bus", "train", "line", "exit", "pier", "hall",
               "ward", "floor", "apartment", "lot", "plot", "station", "camp", "mile", "kilometre",
               "kilometer", "week", "day", "year", "season", "round", "covid", "model", "type", "series",
               "version", "paragraph", "clause", "f", "su", "mig", "t", "tu", "bm", "s", "g", "magnitude"}
SETTLEMENT_NOUNS = r"(?:village|town|city|neighbou?rhood|suburb|hamlet|quarter|camp|township|settlement|kibbutz|locality|municipality|commune)"
REGION_NOUNS = {"province", "region", "governorate", "state", "county", "district", "area", "countryside",
                "coast", "border", "strip", "valley", "mountains", "oblast", "prefecture", "department",
                "peninsula", "desert", "plain", "basin", "delta", "sea", "river", "island", "islands",
                "corridor", "front", "territory", "territories"}
# Nouns of a hit site or a single attack: a place named after them is where the claim happened.
SITE_NOUNS = {
    "strike", "strikes", "airstrike", "airstrikes", "attack", "attacks", "bombing", "bombings", "blast",
    "explosion", "explosions", "shelling", "raid", "raids", "ambush", "shooting", "shootings", "clashes",
    "fighting", "fire", "hit", "struck", "targeted", "shelled", "bombed", "on",
    "market", "mosque", "church", "synagogue", "temple", "shrine", "school", "university", "kindergarten",
    "hospital", "clinic", "house", "home", "building", "block", "tower", "shelter", "camp", "prison", "base",
    "checkpoint", "bus", "car", "vehicle", "convoy", "bar", "cafe", "café", "restaurant", "hotel", "club",
    "supermarket", "mall", "store", "shop", "shops", "bakery", "warehouse", "factory", "plant", "mine",
    "port", "airport", "station", "stadium", "square", "compound", "office", "centre", "center", "bridge",
    "wedding", "funeral", "concert", "rally", "protest", "gathering", "queue", "line", "grave",
}
_ATTACK_NOUNS = {"strike", "strikes", "airstrike", "airstrikes", "attack", "attacks", "bombing", "bombings", "blast",
                 "explosion", "explosions", "shelling", "raid", "raids", "ambush", "shooting", "shootings",
                 "clashes", "fighting"}
# The last word of a named building: the claim is an incident, but the building is no location.
FACILITY_WORDS = {"hospital", "school", "mosque", "church", "market", "university", "stadium", "airport",
                  "hotel", "camp", "centre", "center", "complex", "prison", "station", "base", "mall",
                  "clinic", "kindergarten", "synagogue", "temple", "shrine", "building", "tower", "bridge",
                  "port", "square", "hall", "theatre", "theater", "factory", "plant", "office", "compound"}
# Countries and large territories: a place, but no smaller than the event's area.
COUNTRIES = set("""
afghanistan albania algeria angola argentina armenia australia austria azerbaijan bahrain bangladesh belarus
belgium benin bolivia bosnia botswana brazil bulgaria burkina burundi cambodia cameroon canada chad chile china
colombia congo croatia cuba cyprus czechia denmark djibouti ecuador egypt eritrea estonia ethiopia fiji finland
france gabon gambia georgia germany ghana greece guatemala guinea haiti honduras hungary india indonesia iran
iraq ireland israel italy jamaica japan jordan kazakhstan kenya kosovo kuwait kyrgyzstan laos latvia lebanon
lesotho liberia libya lithuania madagascar malawi malaysia mali mauritania mexico moldova mongolia montenegro
morocco mozambique myanmar burma namibia nepal netherlands nicaragua niger nigeria norway oman pakistan palestine
panama paraguay peru philippines poland portugal qatar romania russia rwanda senegal serbia sierra singapore
slovakia somalia somaliland spain sudan suriname sweden switzerland syria taiwan tajikistan tanzania thailand
togo tunisia turkey türkiye turkmenistan uganda ukraine uruguay uzbekistan venezuela vietnam yemen zambia
zimbabwe gaza sahel darfur kashmir balochistan crimea donbas kurdistan tigray amhara oromia europe africa asia
""".split()) | {"south sudan", "south africa", "south korea", "north korea", "sri lanka", "saudi arabia",
               "united states", "united kingdom", "new zealand", "papua new guinea", "west bank", "gaza strip",
               "central african republic", "democratic republic of congo", "ivory coast", "el salvador",
               "costa rica", "dominican republic", "east timor", "united arab emirates", "north kivu",
               "south kivu", "middle east", "latin america"}
NOT_PLACES = {"the", "a", "an", "this", "that", "his", "her", "their", "its", "our", "he", "she", "it",
              "they", "we", "i", "in", "on", "at", "but", "and", "or", "as", "after", "before", "when",
              "while", "since", "during", "reuters", "ap", "afp", "god", "allah"}
ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "gen", "lt", "col", "sgt", "capt", "maj", "rep", "sen", "gov",
                 "pres", "st", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
                 "nov", "dec", "no", "vs", "etc", "inc", "co", "corp", "ltd", "jr", "sr", "u.s", "u.n",
                 "u.k", "e.u", "a.m", "p.m", "approx", "est", "fig", "al", "mt", "ft", "prof", "rev",
                 "adm", "brig", "cpl", "pvt", "hon", "messrs", "govt", "dept", "univ", "assn", "bros"}

# ----------------------------------------------------------------------------------------------
# Compiled regexes
# ----------------------------------------------------------------------------------------------
_UNIT_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
               "fifteen sixteen seventeen eighteen nineteen").split()
_TENS_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
WORD_VALUES = {w: i for i, w in enumerate(_UNIT_WORDS)} | {w: 20 + 10 * i for i, w in enumerate(_TENS_WORDS)}
SCALE_VALUES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_NW = r"(?:" + "|".join(sorted(list(WORD_VALUES) + list(SCALE_VALUES) + ["dozen"], key=len, reverse=True)) + r")"
_WORDS = (rf"(?:(?:half\s+a|a|an)\s+(?=(?:hundred|thousand|million|billion|dozen)\b))?\b{_NW}\b"
          rf"(?:(?:[ \t]*-[ \t]*|[ \t]+|(?<=hundred)\s+and\s+|(?<=thousand)\s+and\s+|(?<=million)\s+and\s+){_NW}\b)*")
_DIGITS = r"\d{1,3}(?:(?:,\d{3})+|(?:\.\d{3})+|(?:[\u00a0\u202f\u2009']\d{3})+)(?!\d)|\d+(?:[.,]\d+)?"
_MULT = r"(?:[ \t\u00a0]*(?:million|billion|thousand|mln|bn)\b)"
_CORE = rf"(?:(?:{_DIGITS}){_MULT}?|{_WORDS})"
_VAGUE = (r"(?:(?:tens|hundreds)\s+of\s+(?:thousands|millions)|(?:tens|hundreds|thousands|millions|dozens|scores)"
          r"|(?:several|a\s+few|few)\s+(?:dozen|hundred|thousand)|many\s+(?:dozens|hundreds|thousands))\b")
QUALIFIER_PHRASES = {
    "more than": ("more_than", False), "over": ("more_than", False), "in excess of": ("more_than", False),
    "just over": ("more_than", False), "well over": ("more_than", False), "above": ("more_than", False),
    "greater than": ("more_than", False), "just more than": ("more_than", False),
    "well above": ("more_than", False), "upwards of": ("at_least", False), "upward of": ("at_least", False),
    "at least": ("at_least", False), "no fewer than": ("at_least", False), "no less than": ("at_least", False),
    "not less than": ("at_least", False), "a minimum of": ("at_least", False), "at minimum": ("at_least", False),
    "about": ("about", False), "around": ("about", False), "some": ("about", False), "roughly": ("about", False),
    "approximately": ("about", False), "approx.": ("about", False), "nearly": ("about", False),
    "almost": ("about", False), "close to": ("about", False), "an estimated": ("about", False),
    "estimated": ("about", False), "more or less": ("about", False), "circa": ("about", False),
    "just under": ("about", False), "just shy of": ("about", False), "an approximate": ("about", False),
    "up to": ("up_to", False), "as many as": ("up_to", False), "as much as": ("up_to", False),
    "at most": ("up_to", False), "no more than": ("up_to", False), "not more than": ("up_to", False),
    "a maximum of": ("up_to", False), "fewer than": ("up_to", True), "less than": ("up_to", True),
    "under": ("up_to", True), "below": ("up_to", True),
}
_QUALS = "|".join(re.escape(q).replace(r"\ ", r"\s+") for q in sorted(QUALIFIER_PHRASES, key=len, reverse=True))
_NUMBER_PATTERN = rf"""
    (?<![\w$€£¥₹])
    (?:
        (?P<between>(?:somewhere\s+)?between)\s+(?P<b1>{_CORE})\s*(?:and|-|–|to)\s*(?P<b2>{_CORE})
      | (?P<from>from)\s+(?P<f1>{_CORE})\s*(?:to|-|–)\s*(?P<f2>{_CORE})
      | (?:(?P<qual>{_QUALS})\s+)?
        (?: (?P<vague>{_VAGUE})
          | (?P<n1>{_CORE})(?:\s*(?:-|–|\bto\b|\bor\b)\s*(?P<n2>{_CORE}))? )
        (?P<post>\s+or\s+more\b|\s+or\s+so\b|-plus\b|\s*\+|-odd\b)?
    )
    (?![\w])
"""
NUMBER_RE = re.compile(_NUMBER_PATTERN, re.IGNORECASE | re.VERBOSE)


def _lower_case_twin(regex: re.Pattern) -> re.Pattern:
    """An IGNORECASE pattern without the flag, for text lower-cased by `_caseless_lower`: there it matches at
    the offsets where `regex` matches the original text (its letters are all lower-case), several times faster."""
    return re.compile(regex.pattern, regex.flags & ~re.IGNORECASE)


_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")


def _caseless_lower(text: str) -> str | None:
    """`text.lower()` if it holds no cased letter but ASCII ones (so lower-casing keeps every offset, and an
    IGNORECASE match is a plain match of the lower-cased text: no Unicode case folding is involved), else None."""
    if not text.isascii():
        for char in set(_NON_ASCII_RE.findall(text)):
            if char.lower() != char or char.upper() != char:
                return None
    return text.lower()


def _finditer_from(regex: re.Pattern, start: re.Pattern, text: str, start_text: str | None = None) -> list[re.Match]:
    """The matches of `regex.finditer(text)` for a pattern that matches only where `start` does (in
    `start_text`, default `text`, with the same offsets): it is tried there only, in text order and from the
    end of the match before, as finditer tries it. `start` is the faster to search: it begins with plain
    words or characters, which the engine finds by a fast scan, or it is a lower-case twin."""
    found: list[re.Match] = []
    within = text if start_text is None else start_text
    key = start.search(within)
    while key is not None:
        m = regex.match(text, key.start())
        if m is not None:
            found.append(m)
            key = start.search(within, m.end())
        else:
            key = start.search(within, key.start() + 1)
    return found


def _finditer_at(regex: re.Pattern, starts: Sequence[int], text: str) -> list[re.Match]:
    """The matches of `regex.finditer(text)` for a pattern that can match only at the sorted positions
    `starts` (all of them, maybe more): tried there only, from the end of the match before, as finditer."""
    found: list[re.Match] = []
    pos = 0
    for at in starts:
        if at < pos:
            continue
        m = regex.match(text, at)
        if m is not None:
            found.append(m)
            pos = m.end()
    return found


def _literal_starts(literals: Sequence[str], text: str) -> list[int]:
    """Every position where one of the literals occurs in the text (overlapping ones too), in order."""
    starts = []
    for literal in literals:
        at = text.find(literal)
        while at >= 0:
            starts.append(at)
            at = text.find(literal, at + 1)
    return sorted(set(starts))


def _search_from(regex: re.Pattern, start: re.Pattern, text: str, pos: int = 0,
                 endpos: int | None = None) -> re.Match | None:
    """`regex.search(text, pos, endpos)` for a pattern that matches only where `start` does (as in
    `_finditer_from`): it is tried only there."""
    endpos = len(text) if endpos is None else endpos
    key = start.search(text, pos, endpos)
    while key is not None:
        m = regex.match(text, key.start(), endpos)
        if m is not None:
            return m
        key = start.search(text, key.start() + 1, endpos)
    return None


def _literal_alternation(items: dict[str, str], guard: str = "") -> str:
    """A pattern that matches where one of the literals, followed by its suffix pattern, does: the literals
    are factored by their characters, so the engine tests the next character once instead of every literal,
    and skips by a fast scan to the characters a literal starts with. `guard` is tried after the first one."""
    tree: dict = {}
    for literal, suffix in items.items():
        node = tree
        for char in literal:
            node = node.setdefault(char, {})
        node.setdefault(None, set()).add(suffix)

    def emit(node: dict, after: str) -> str:
        alts = []
        for char, child in node.items():
            if char is None:
                alts.extend(sorted(child))
            else:
                alts.append(re.escape(char) + after + emit(child, ""))
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    return emit(tree, guard)


def _word_starts(words: str) -> re.Pattern:
    """A pattern that matches where a word starts with one of the |-separated `words` (no boundary after it):
    where a pattern that begins with a boundary and one of them can match, found without trying the pattern
    at every character. The boundary is tested after the first letter, so the engine can skip to the letters."""
    return re.compile(_literal_alternation(dict.fromkeys(words.split("|"), ""), r"(?<!\w.)"))


_NUMBER_LOW_RE = _lower_case_twin(NUMBER_RE)
_POST_QUALIFIERS = {"or more": "at_least", "or so": "about", "-plus": "more_than", "+": "more_than",
                    "-odd": "about"}

# Cheap pre-filters: a sentence without a casualty word (or a number) is never parsed.
# Both run on the lower-cased text: a case-sensitive pattern that starts at a word boundary is several
# times faster than an IGNORECASE one, and the pre-filter runs on every sentence of every article.
SUBCOUNT_HINT_RE = re.compile(r"\b(?:of them|of whom|among them|among whom|including|included)\b", re.IGNORECASE)
CASUALTY_HINT_RE = re.compile(
    r"\b(?:kill|dead|death|died|die|wound|injur|hurt|missing|casualt|bodies|corpses|slain|execut|toll|victim|"
    r"fatalit|lives\b|perish|drown|massacr|unaccounted|murder|slaughter|shot|stab|hospitali|lost\b|losing\b)")
# CASUALTY_HINT_RE's alternatives: the stems, and the words it wants a word boundary after.
_CASUALTY_STEMS = ("kill", "dead", "death", "died", "die", "wound", "injur", "hurt", "missing", "casualt", "bodies",
                   "corpses", "slain", "execut", "toll", "victim", "fatalit", "perish", "drown", "massacr",
                   "unaccounted", "murder", "slaughter", "shot", "stab", "hospitali")
_CASUALTY_WORDS = ("lives", "lost", "losing")
NUMBER_HINT_RE = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|dozen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|"
    r"million|scores|tens)")
TOKEN_RE = re.compile(r"[A-Za-z\u00C0-\u024F]+(?:[-'’][A-Za-z\u00C0-\u024F]+)*(?:['’]s?)?|\d+(?:[.,:]\d+)*|[^\s\w]|_")
_SENT_BREAK_RE = re.compile(r"""[.!?]+(?=["“][A-Z])|(?:[.!?]+|…)["”’'\)\]]*(?=\s+["“‘(\[]?[A-Z0-9])""")
_SENT_BREAK_START_RE = re.compile(r"[.!?…]")  # where a sentence break can start
_LAST_WORD_RE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_PARA_RE = re.compile(r"[^\n]+")
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_MONTH_BEFORE_RE = re.compile(rf"\b(?:{_MONTH_NAMES})\.?\s*$", re.IGNORECASE)
_MONTH_AFTER_RE = re.compile(rf"^\s*(?:{_MONTH_NAMES})\b", re.IGNORECASE)
_CURRENCY_BEFORE_RE = re.compile(r"(?:[$€£¥₹]|\b(?:US|USD|EUR|Rs|GBP)\.?)\s*$")
_TIME_AFTER_RE = re.compile(r"^(?::\d|\s*(?:a\.m\.|p\.m\.|am\b|pm\b|GMT\b|UTC\b|BST\b|EST\b|hrs\b|local time))", re.IGNORECASE)
_COMPOUND_AFTER_RE = re.compile(r"^-(?!plus\b|odd\b)[A-Za-z]")
_PERCENT_AFTER_RE = re.compile(r"^\s*(?:%|percent\b|per\s*cent\b|pct\b)", re.IGNORECASE)
_AGE_BEFORE_RE = re.compile(r"\b(?:aged|ages|age\s+of|ages\s+of|age)\s*$", re.IGNORECASE)
_LIST_GAP_RE = re.compile(r"\s*(?:,|and|or|to|-|–)\s*")
_AGE_APPOSITION_BEFORE_RE = re.compile(r"\b[A-Z][\w'’-]+,\s*$")
_LABEL_BEFORE_RE = re.compile(r"([A-Za-z][A-Za-z.]*)[\s-]*$")

# Small helpers of the number and attribution code.
_WORD_SPLIT_RE = re.compile(r"[\s\-]+")
_DIGIT_PHRASE_RE = re.compile(r"([\d.,\u00a0\u202f\u2009']+)\s*(million|billion|thousand|mln|bn)?", re.IGNORECASE)
_THIN_SEPARATORS_RE = re.compile(r"[\u00a0\u202f\u2009']")
_COMMA_THOUSANDS_RE = re.compile(r"\d{1,3}(?:,\d{3})+")
_DOT_THOUSANDS_RE = re.compile(r"\d{1,3}(?:\.\d{3})+")
_DECIMAL_RE = re.compile(r"\d+[.,]\d+")
_DOTTED_ACRONYM_RE = re.compile(r"(?:[A-Za-z]\.){2,}")
_SENTENCE_FINAL = tuple('.!?:;"”’)…')
_YEAR_RE = re.compile(r"(?:1[89]|20)\d\d")
_PEOPLE_AFTER_RE = re.compile(r"\s+(?:people|civilians|persons|bodies|dead|deaths)\b")
_NOT_ATTRIBUTION_AFTER_RE = re.compile(r"\s+(?:killed|dead|missing|wounded|injured|hurt|by|to\s+(?:be|have)|the\s+lives|lives)\b")
_PUT_TOLL_RE = re.compile(r"\s+(?:the\s+)?(?:\w+\s+)?(?:death\s+|casualty\s+)?(?:toll|number|figure|count)")
_REVISED_IT_RE = re.compile(r"\s+(?:it|them|the\s+figures?)?\s*(?:to|down|up)\b")
# A numbered provision of a law, and the numbers listed after it.
_LEGAL_LABEL_BEFORE_RE = re.compile(
    r"\b(?:sections?|articles?|clauses?|paragraphs?|subsections?|chapters?|provisions?)\s+(?:like\s+|such\s+as\s+|no\.?\s+)?"
    r"(?:\d+[A-Za-z]?(?:\s*\([^)]{0,80}\))?\s*(?:,|and|or|&)\s*)*$", re.IGNORECASE)
_PASSIVE_BEFORE_RE = re.compile(r"\b(?:were|was|is|are|been|being|be)\s+$")
_ADJECTIVAL_BEFORE_RE = re.compile(r"\b(?:an|the|a|its|their|his|her|of)\s+$")
_SAID_TO_BE_RE = re.compile(r"\s+to\s+(?:be|have)\b")
_LEADING_CONJ_RE = re.compile(r"\s*(?:(?:and|but|while|as|so|then|also|yet|that)\s+)*")

# Attribution.
_SPEECH_VERBS = ("said|says|say|told|tells|reported|reports|report|stated|states|added|adds|noted|notes|announced|"
                 "estimate|confirm|warned|warns|revealed|acknowledged|indicated|explained|insisted|stressed|"
                 "disclosed|specified|asserted|alleged|"
                 "announces|confirmed|confirms|estimated|estimates|counted|counts|documented|documents|recorded|"
                 "records|tallied|cited|quoted|wrote|writes|posted|tweeted|put|puts|claimed|claims|informed|"
                 "raised|raises|revised|revises|lowered|lowers|updated|updates|believe|believes|gave|gives|"
                 "released|releases")
# "the prefectural government has released information on ...": who releases figures gives them.
_RELEASED_WHAT_RE = re.compile(r"\s+(?:(?:its|the|new|updated|latest|an?)\s+)*(?:information|figures|data|numbers|"
                               r"statistics|statement|list|update|toll|tally)\b", re.IGNORECASE)
# "the authorities believe (are missing)", "the UN gave a preliminary figure of 320"
_BELIEF_VERBS = frozenset({"believe", "believes"})
_GAVE_FIGURE_RE = re.compile(r"\s+(?:an?\s+|the\s+|its\s+)?(?:[\w-]+\s+){0,2}?(?:figure|toll|tally|count|estimate|number)s?\b")
# "raised the death toll to 205", "revised it to 275": the subject of a verb that changes a toll gives it.
_TOLL_CHANGE_VERBS = frozenset({"raised", "raises", "revised", "revises", "lowered", "lowers", "updated", "updates"})
SPEECH_RE = re.compile(rf"\b(?:{_SPEECH_VERBS})\b")
ACCORDING_RE = re.compile(r"\baccording\s+to\s+", re.IGNORECASE)
REPORTED_BY_RE = re.compile(r"\b(?:reported|stated|announced|confirmed|released|published|compiled|quoted|cited|mentioned)\s+by\s+", re.IGNORECASE)
CITING_RE = re.compile(r"\b(?:citing|quoting)\s+", re.IGNORECASE)
ATTRIBUTION_HINT_RE = re.compile(rf"\b(?:{_SPEECH_VERBS}|according|citing|quoting|reported|stated|mentioned)\b", re.IGNORECASE)
_ACCORDING_LOW_RE = _lower_case_twin(ACCORDING_RE)
_REPORTED_BY_LOW_RE = _lower_case_twin(REPORTED_BY_RE)
_CITING_LOW_RE = _lower_case_twin(CITING_RE)
_ATTRIBUTION_HINT_LOW_RE = _lower_case_twin(ATTRIBUTION_HINT_RE)
# Where the attribution patterns can match: the words they begin with (for the twins, lower-case).
_ACCORDING_START_RE = _word_starts("according")
_REPORTED_BY_START_RE = _word_starts("reported|stated|announced|confirmed|released|published|compiled|quoted|cited|mentioned")
_CITING_START_RE = _word_starts("citing|quoting")
_ATTRIBUTION_HINT_START_RE = _word_starts(f"{_SPEECH_VERBS}|according|citing|quoting|reported|stated|mentioned")
_SPEECH_START_RE = _word_starts(_SPEECH_VERBS)
_NP_END_RE = re.compile(r"""[,;:!?()"“”]|(?<![A-Z])\.(?=\s|$)|\s[-–—]\s|\s(?:on|in|at|late|early|last|this|who|which|that|as|after|before|when|while|because|and\s+(?:said|added)|said|told|from|citing|quoting|during|since|until|over)\s""")
_SEGMENT_SPLIT_RE = re.compile(r"""[,;:“”"()\[\]—–]|\s-\s""")
_TRAILING_TIME_RE = re.compile(
    r"(?:\s+(?:on|early|late|last|this)\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"(?:\s+(?:morning|afternoon|evening|night))?|\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"|\s+(?:on\s+)?(?:yesterday|today|earlier|later|previously|also|again|now|already|have|has|had|had\s+earlier|"
    r"in\s+a\s+statement|in\s+a\s+report|in\s+an\s+update|separately|initially|first)|\s+on\s+\w+\s+\d+)+\s*$",
    re.IGNORECASE)
_CLAIM_WORDS_RE = re.compile(r"\d|\b(?:killed|died|wounded|injured|dead|killing|deaths|toll)\b", re.IGNORECASE)
_TRAILING_TIME_LOW_RE = _lower_case_twin(_TRAILING_TIME_RE)
_CLAIM_WORDS_LOW_RE = _lower_case_twin(_CLAIM_WORDS_RE)
_PRONOUN_SOURCES = {"it", "they", "he", "she", "the source", "the same source", "this source", "that source",
                    "the sources", "the same sources", "the report", "the statement"}
_COREF_RE = re.compile(
    r"\b(?:the|a|an|another|that|this)\s+(?:[\w.-]+[-\s]based\s+|[\w-]+-run\s+|local\s+|main\s+|independent\s+|"
    r"leading\s+|prominent\s+|british\s+|uk\s+)*(?P<phrase>"
    r"(?:war\s+|conflict\s+|rights\s+|human\s+rights\s+)?monitor(?:ing)?(?:\s+(?:group|organi[sz]ation|body|network))?"
    r"|watchdog|observatory|ngo|non-governmental\s+organi[sz]ation|(?:human\s+)?rights\s+group|(?:medical\s+)?charity"
    r"|organi[sz]ation|group|(?:u\.?n\.?|united\s+nations)\s+(?:agency|body|office)|world\s+body|mission"
    r"|(?:(?P<ministry_kind>health|interior|defen[cs]e|home|foreign|emergencies|emergency)\s+)?ministry"
    r"|civil\s+defen[cs]e(?:\s+(?:agency|service|force))?|(?:rescue|emergency)\s+services?|rescue\s+(?:group|agency)"
    r"|(?:disaster\s+|humanitarian\s+|aid\s+|relief\s+)?agency|hospital|military|army)\b",
    re.IGNORECASE)
_COREF_LOW_RE = _lower_case_twin(_COREF_RE)

# Places.
_CAP = r"[A-Z][A-Za-z\u00C0-\u024F'’]*(?:-[A-Za-z\u00C0-\u024F]+)*"
_CONNECT = r"(?:al|el|as|ad|ar|ash|at|az|an|ad|de|del|la|le|bin|ibn|abu|um|umm)[-\s]"
NAME = rf"(?:(?:al|el)-)?{_CAP}(?:\s+(?:{_CONNECT})?{_CAP})*"
_CAMP_NOUNS = r"(?:camp|village|town|neighbou?rhood|suburb)"
_RESIDENT_NOUNS = r"(?:residents|inhabitants|villagers|people|families)"
_TOWN_NOUNS = r"(?:towns?|villages?|cities|city|neighbou?rhoods?)"
SETTLEMENT_OF_RE = re.compile(rf"\b{SETTLEMENT_NOUNS}s?\s+of\s+(?P<name>{NAME})(?P<more>(?:\s*(?:,|and)\s+{NAME})*)")
NAME_SETTLEMENT_RE = re.compile(
    rf"(?P<name>{NAME})\s+(?:refugee\s+|displacement\s+|displaced\s+|IDP\s+)?{_CAMP_NOUNS}\b(?!\s+of\b)")
RESIDENTS_OF_RE = re.compile(
    rf"\b{_RESIDENT_NOUNS}\s+of\s+(?P<name>{NAME})(?!\s+(?:villages|towns|cities|areas|communities|families|sect|minority|majority|people|men|women|children|residents|forces|fighters)\b)")
TOWN_APPOSITIVE_RE = re.compile(
    rf"(?P<name>{NAME}),\s+(?:one\s+of\s+the|a|an|the)\s+(?:[\w-]+\s+){{0,3}}?{_TOWN_NOUNS}\b")


class _Anchored(NamedTuple):
    """A pattern whose every match holds a match of `keyword` and is made of `run` characters only (so
    are the characters its look-aheads read before the first one after the match)."""

    regex: re.Pattern
    keyword: re.Pattern
    run: re.Pattern


_NAME_RUN = r"A-Za-z\u00C0-\u024F'’\s-"  # the characters of NAME and of the spaces between its words
NAME_SETTLEMENT = _Anchored(NAME_SETTLEMENT_RE, re.compile(_CAMP_NOUNS), re.compile(rf"[{_NAME_RUN}]*"))
TOWN_APPOSITIVE = _Anchored(TOWN_APPOSITIVE_RE, re.compile(_TOWN_NOUNS), re.compile(rf"[\w,{_NAME_RUN}]*"))


def _anchored_finditer(spec: _Anchored, text: str, rev: str, keys: Sequence[int] | None = None) -> list[re.Match]:
    """The matches of `spec.regex.finditer(text)`, looked for only in the runs of `spec.run` characters that
    hold a keyword (`rev` is text[::-1], to find where a run starts).

    A match lies inside one such run, and what the whole-text search reads there stays inside the run and
    the one character after it: searching that stretch finds the same matches, and the rest of the text
    (most of it: a name pattern is tried at every capital letter) is not searched at all.
    `keys`: every place where the keyword matches, in order, if already known (overlapping ones too: one
    inside a keyword lies in the run of that keyword, which is searched once).
    """
    n = len(text)
    found: list[re.Match] = []
    done = 0  # end of the last run searched
    for at in (key.start() for key in spec.keyword.finditer(text)) if keys is None else keys:
        if at < done:
            continue
        start = at - (spec.run.match(rev, n - at).end() - (n - at))
        done = spec.run.match(text, at).end()
        found.extend(spec.regex.finditer(text, start, min(n, done + 1)))
    return found


# Where SETTLEMENT_OF_RE and RESIDENTS_OF_RE can match: their first words.
_SETTLEMENT_OF_START_RE = re.compile(rf"{SETTLEMENT_NOUNS}s?\s+of\s")
_RESIDENTS_OF_START_RE = re.compile(rf"{_RESIDENT_NOUNS}\s+of\s")
# Words that start each of the nouns of the four place patterns' keywords and first words (SETTLEMENT_NOUNS,
# _CAMP_NOUNS, _TOWN_NOUNS, _RESIDENT_NOUNS): where they occur is all the places these can start from.
_PLACE_KEYS = ("village", "town", "city", "cities", "neighbo", "suburb", "hamlet", "quarter", "camp", "settlement",
               "kibbutz", "locality", "municipality", "commune", "residents", "inhabitants", "people", "families")

PLACE_PREP_RE = re.compile(
    rf"\b(?i:in|at|near|outside|inside|on|from)\s+(?:(?:northern|southern|eastern|western|central|north-eastern|"
    rf"north-western|south-eastern|south-western|northeastern|northwestern|southeastern|southwestern|downtown|"
    rf"greater)\s+)?(?P<name>{NAME})(?P<alone>\s+alone)?")
INCIDENT_MARKER_RE = re.compile(
    r"\b(?:in|at)\s+(?:one|a\s+single|the\s+same)\s+(?:village|town|neighbou?rhood|house|home|building|attack|strike|family|incident)\b"
    r"|\ba\s+single\s+(?:strike|attack|airstrike|blast|explosion|incident)\b", re.IGNORECASE)
_TAIL_NAME_RE = re.compile(rf"(?:^|\s)({NAME})\s*$")
_LEADING_ARTICLE_RE = re.compile(r"^(?:the|a|an)\s+")
_WORDS_RE = re.compile(r"[\w'’-]+")
_PHRASE_TAIL_RE = re.compile(r"\s+(?:in|at|from|on|for|and|or)\s+")
_NAME_RE = re.compile(NAME)
_CLAIMED_THAT_RE = re.compile(r"\s*(?:that\b|,)")
_APPOSITIVE_NAME_RE = re.compile(rf",\s+({NAME})\s*(?:[.,;]|$)")
_INVERTED_SUBJECT_RE = re.compile(r"\s+((?:the\s+|a\s+|an\s+)?[A-Za-z][\w'’.-]*(?:\s+[A-Za-z][\w'’.-]*){0,6}?)\s*(?=[,.;]|$)")
_NOT_A_SPEAKER_RE = re.compile(r"\b(?:killed|died|wounded|injured|dead|had|have|has|was|were|is|are)\b")
_ORG_WORD_RE = re.compile(r"\b(?:head|chief|director|spokes\w+|founder|secretary|president|chair\w*|coordinator"
                          r"|of\s+the\s+[A-Z]|(?:of|for|at)\s+(?:the\s+)?(?:[\w-]+\s+){0,2}(?:group|agency|"
                          r"organi[sz]ation|society|ministry|department|authority|service|administration)\b)")
_BACK_REFERENCE_RE = re.compile(r"\b(?:in|at|near|outside)\s+the\s+(?:city|town|village|camp)\b(?!\s+of\b)")
NEIGHBOUR_RE = re.compile(r"\bneighbou?rs?\b", re.IGNORECASE)

# Periods.
_WD = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_NUMW = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|twenty|few|several)"
PERIOD_RE = re.compile(rf"""
    (?P<since_wd>\bsince\s+(?:last\s+)?(?P<wd1>{_WD})\b(?:\s+(?:morning|afternoon|evening|night))?)
  | (?P<since_date>\bsince\s+(?:(?P<m1>{_MONTH_NAMES})\.?\s+(?P<d1>\d{{1,2}})(?:,?\s+(?P<y1>\d{{4}}))?
                              |(?P<d2>\d{{1,2}})\s+(?P<m2>{_MONTH_NAMES})\.?(?:\s+(?P<y2>\d{{4}}))?
                              |(?P<m3>{_MONTH_NAMES})\.?\s+(?P<y3>\d{{4}})|(?P<y4>(?:19|20)\d\d)\b|(?P<m4>{_MONTH_NAMES})\b))
  | (?P<last_n>\b(?:over|in|during|within|for)\s+the\s+(?:last|past|previous)\s+(?P<n>{_NUMW})\s+(?P<unit>hours|days|weeks|months)\b)
  | (?P<last_unit>\b(?:over|in|during|within)\s+the\s+(?:last|past|previous)\s+(?P<unit1>day|week|month|year)\b)
  | (?P<on_date>\bon\s+(?P<m5>{_MONTH_NAMES})\.?\s+(?P<d5>\d{{1,2}})\b)
  | (?P<on_wd>\b(?:on|early|late|last)\s+(?P<wd2>{_WD})(?:\s+(?:morning|afternoon|evening|night))?\b
             |\b(?P<wd3>{_WD})(?:['’]s|\s+(?:morning|afternoon|evening|night))\b|\b(?P<wd4>{_WD})\b)
  | (?P<rel>\b(?:yesterday|today|overnight|this\s+morning|last\s+night|the\s+previous\s+day|the\s+day\s+before|
              last\s+week|this\s+week|last\s+month|earlier\s+this\s+week|the\s+past\s+week)\b)
  | (?P<since_start>\bsince\s+the\s+(?:start|beginning|outbreak|onset)\s+of\s+(?:the\s+)?[\w-]+)
""", re.VERBOSE | re.IGNORECASE)
# The twin of PERIOD_RE: the weekdays are its only capitalised words.
_PERIOD_LOW_RE = re.compile(PERIOD_RE.pattern.replace(_WD, _WD.lower()), re.VERBOSE)
# Where the twin can match: the words its branches begin with.
_PERIOD_START_RE = _word_starts("since|over|in|during|within|for|on|early|late|last|" + "|".join(WEEKDAYS)
                                + "|yesterday|today|overnight|this|the|earlier")
_WORD_NUMBERS_SMALL = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                       "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "twenty": 20,
                       "few": 3, "several": 3}


# ----------------------------------------------------------------------------------------------
# Records
# ----------------------------------------------------------------------------------------------
class ClaimMention(NamedTuple):
    """One casualty figure found in an article, before the article's identity is attached."""

    measure: str
    number: int | None
    number_high: int | None
    qualifier: str
    value_low: int | None
    value_high: int | None
    group: str
    group_text: str | None
    source: str | None
    source_text: str | None
    scope: str
    location: str | None
    period_text: str | None
    period_start: datetime | None
    sentence: str
    char_start: int
    char_end: int


class ParsedNumber(NamedTuple):
    """A number phrase read: its number(s), qualifier, and whether the bound is strict."""

    number: int | None
    number_high: int | None
    qualifier: str
    strict: bool
    vague: str | None


class SourceEntry(NamedTuple):
    """One known source of casualty figures (a row of sources.toml)."""

    canonical: str
    name: str
    kind: str
    aliases: tuple[str, ...]
    people: tuple[str, ...]
    places: tuple[str, ...]


# ----------------------------------------------------------------------------------------------
# Numbers
# ----------------------------------------------------------------------------------------------
def _words_value(text: str) -> int | None:
    """The integer a phrase of number words spells ("two dozen" -> 24), or None if it spells none."""
    words = [w for w in _WORD_SPLIT_RE.split(text.lower()) if w]
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
    match = _DIGIT_PHRASE_RE.fullmatch(text.strip())
    if not match:
        return None
    digits, mult = match.group(1), (match.group(2) or "").lower()
    factor = {"million": 10**6, "mln": 10**6, "billion": 10**9, "bn": 10**9, "thousand": 1000}.get(mult, 1)
    digits = _THIN_SEPARATORS_RE.sub("", digits)
    if _COMMA_THOUSANDS_RE.fullmatch(digits):
        return int(digits.replace(",", "")) * factor
    if _DOT_THOUSANDS_RE.fullmatch(digits) and factor == 1:
        return int(digits.replace(".", ""))  # European thousands: "1.000"
    if digits.isdigit():
        return int(digits) * factor
    if _DECIMAL_RE.fullmatch(digits) and factor > 1:
        return round(float(digits.replace(",", ".")) * factor)
    return None


def _core_value(text: str) -> int | None:
    """The integer of one number core, digits or words."""
    text = text.strip()
    if not text:
        return None
    return _digits_value(text) if text[0].isdigit() else _words_value(text)


def _parse_match(match: re.Match) -> ParsedNumber | None:
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
        qualifier = _POST_QUALIFIERS.get(post, _POST_QUALIFIERS.get("-" + post.lstrip("-"), "exact"))
    return ParsedNumber(low, None, qualifier, strict, None)


def parse_number(text: str) -> tuple[int | None, int | None, str] | None:
    """(number, number_high, qualifier) of a number phrase ("more than 340" -> (340, None, "more_than")), or None."""
    if not isinstance(text, str):
        return None
    match = NUMBER_RE.fullmatch(text.strip())
    if not match:
        return None
    parsed = _parse_match(match)
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


# ----------------------------------------------------------------------------------------------
# Source table
# ----------------------------------------------------------------------------------------------
_SRC_TOKEN_RE = re.compile(r"(?:[A-Za-z]\.){2,}|[A-Za-z\u00C0-\u024F0-9&]+(?:['’][A-Za-z]+)?")
_SPELLINGS = {"defense": "defence", "organization": "organisation", "center": "centre", "u.n.": "un",
              "u.n": "un", "un's": "un's", "u.n.'s": "un's", "program": "programme", "medecins": "médecins",
              "frontieres": "frontières"}


def _source_key(token: str) -> str:
    """The normalised form of one word when matching source names."""
    low = token.lower().replace("’", "'")
    return _SPELLINGS.get(low, low)


def _exact_form(token: str) -> str:
    """One word as compared for exact-case aliases: curly quotes straightened, "U.N." as "UN"."""
    token = token.replace("’", "'")
    return token.replace(".", "") if _DOTTED_ACRONYM_RE.fullmatch(token) else token


class _SourceHit(NamedTuple):
    start: int
    end: int
    entries: tuple[SourceEntry, ...]
    text: str


# _SRC_TOKEN_RE on lower-cased ASCII text (which has no capitals, curly quotes or accented letters).
_SRC_TOKEN_LOW_RE = re.compile(r"(?:[a-z]\.){2,}|[a-z0-9&]+(?:'[a-z]+)?")
_NOT_SRC_TOKEN = "[^a-z0-9&]"  # where _SRC_TOKEN_LOW_RE finds no token start (it matches at every other character)


_SRC_TOKEN_RUN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789&.'")  # the characters of lower-case tokens


class _TokenRun:
    """Whether a token of `_SRC_TOKEN_LOW_RE.findall(low)` starts at a position, asked in increasing order.

    A token is made of `_SRC_TOKEN_RUN` characters, and the pattern never matches at any other character:
    so a run of those characters is cut into the same tokens wherever findall comes from, and a letter after
    any other character starts a token. After "." or "'" (a letter of "u.n." or "un's"?) the run is read from
    its start, once for all the positions asked in it (so the work stays linear in the text).
    """

    __slots__ = ("low", "start", "end", "starts")

    def __init__(self, low: str):
        self.low = low
        self.start, self.end, self.starts = 0, 0, frozenset()

    def token_starts_at(self, p: int) -> bool:
        """For a letter at `p`."""
        low = self.low
        if p == 0 or low[p - 1] not in _SRC_TOKEN_RUN:
            return True
        if low[p - 1] not in ".'":
            return False  # the token of the letter or digit before goes on
        if not self.start <= p < self.end:
            s = p
            while s and low[s - 1] in _SRC_TOKEN_RUN:
                s -= 1
            starts = set()
            q, n = s, len(low)
            while q < n and low[q] in _SRC_TOKEN_RUN:
                tok = _SRC_TOKEN_LOW_RE.match(low, q)
                if tok is None:
                    q += 1
                else:
                    starts.add(q)
                    q = tok.end()
            self.start, self.end, self.starts = s, q, starts
        return p in self.starts


def _raw_trie(node: dict) -> dict:
    """A copy of a source trie whose edges are words as written, before spelling normalisation: each edge
    of the normalised trie appears once for every word that normalises to it."""
    out: dict = {}
    for key, child in node.items():
        if key is None:
            out[None] = child
            continue
        sub = _raw_trie(child)
        if _SPELLINGS.get(key, key) == key:
            out[key] = sub
        for raw, normal in _SPELLINGS.items():
            if normal == key and raw != key:
                out[raw] = sub
    return out


class SourceTable:
    """Known sources and the names articles give them; `find(text)` returns every mention in a text.

    >>> table = load_sources()
    >>> [h.entries[0].canonical for h in table.find("the Syrian Observatory for Human Rights said")]
    ['SOHR']
    """

    def __init__(self, entries: Iterable[SourceEntry]):
        self.entries: dict[str, SourceEntry] = {}
        for entry in entries:
            self.entries[entry.canonical] = entry  # a later file overrides an earlier one
        # A trie over normalised words; a leaf lists (exact alias words or None, entry).
        self._trie: dict = {}
        for entry in self.entries.values():
            for alias in entry.aliases + entry.people:
                words = _SRC_TOKEN_RE.findall(alias)
                if not words:
                    continue
                exact = len(words) == 1 or words[0] == "The"
                node = self._trie
                for word in words:
                    node = node.setdefault(_source_key(word), {})
                leaf = node.setdefault(None, [])
                forms = [tuple(_exact_form(w) for w in words)] if exact else [None]
                if exact and len(words) == 1 and words[0].isupper() and len(words[0]) >= 4:
                    forms.append((words[0].capitalize(),))  # "Unicef", "Unrwa" in British style
                for key in forms:
                    if (key, entry) not in leaf:
                        leaf.append((key, entry))
        self._raw_trie = _raw_trie(self._trie)
        self._name_start_res = self._name_start_patterns()
        self._place_res: dict[str, tuple[re.Pattern, re.Pattern]] = {}  # a word-bounded pattern, its start

    def __len__(self) -> int:
        return len(self.entries)

    def _name_start_patterns(self) -> tuple[re.Pattern, re.Pattern] | None:
        """Where a name can start in lower-cased ASCII text: (after a character no token starts with, at 0).

        A first word that is a name by itself is looked for alone; another with the second words that follow
        it in the trie ("the" only before "observatory", "health", ...). A token that starts with a letter
        follows a character no token starts with (or the start of the text): that character is looked for
        first, and the engine skips the letters in between by a fast scan. None when a first word starts
        with a digit or "&" (a token can start right after a letter there: "rock'n2").
        """
        items = {}
        for key, node in self._raw_trie.items():
            if key is None:
                continue
            if not key[0].isalpha():
                return None
            seconds = sorted((k for k in node if k is not None), key=len, reverse=True)
            if None in node or not seconds:
                items[key] = ""
            else:
                items[key] = _NOT_SRC_TOKEN + "*(?:" + "|".join(re.escape(k) for k in seconds) + ")"
        names = _literal_alternation(items) if items else "(?!)"
        return re.compile(_NOT_SRC_TOKEN + names), re.compile(names)

    def find(self, text: str) -> list[_SourceHit]:
        """Every mention of a known source in `text` (the longest where mentions overlap), in text order."""
        if text.isascii() and self._name_start_res is not None:
            found = self._find_ascii(text)
        else:
            found = self._find_general(text)
        hits: list[_SourceHit] = []
        # Characters already inside a longer name: a name is short, so checking its own characters keeps
        # the work linear in the text however many names it holds ("(AFP)" on every line).
        taken = bytearray(len(text))
        # The longest names first; tokens do not overlap, so names share a token when their spans overlap.
        for start, end, _, entries in sorted(found, key=lambda f: (-f[2], f[0])):
            if 1 in taken[start:end]:
                continue
            taken[start:end] = b"\x01" * (end - start)
            hits.append(_SourceHit(start, end, entries, text[start:end]))
        hits.sort(key=lambda h: h.start)
        return hits

    def _find_general(self, text: str) -> list[tuple[int, int, int, tuple[SourceEntry, ...]]]:
        """(start, end, words, entries) of the longest name starting at each token that starts one."""
        spellings = _SPELLINGS
        trie = self._trie
        tokens = [(m.start(), m.end(), m.group()) for m in _SRC_TOKEN_RE.finditer(text)]
        low = text.lower().replace("’", "'")
        if len(low) == len(text):
            keys = [spellings.get(k, k) for k in (low[a:b] for a, b, _ in tokens)]
        else:
            keys = [_source_key(t[2]) for t in tokens]
        found = []
        n = len(keys)
        for i in [i for i, key in enumerate(keys) if key in trie]:
            node = trie.get(keys[i])
            best = None
            j = i
            while node is not None:
                j += 1
                leaf = node.get(None)
                if leaf:
                    words = tuple(_exact_form(tokens[k][2]) for k in range(i, j))
                    entries = tuple(dict.fromkeys(e for exact, e in leaf if exact is None or exact == words))
                    if entries:
                        best = (tokens[i][0], tokens[j - 1][1], j - i, entries)
                node = node.get(keys[j]) if j < n else None
            if best:
                found.append(best)
        return found

    def _find_ascii(self, text: str) -> list[tuple[int, int, int, tuple[SourceEntry, ...]]]:
        """`_find_general` for ASCII text, reading tokens only where a name can start.

        Lower-casing ASCII changes no token boundary, so the trie of words as written is walked over the
        tokens of the lower-cased text, from each place `_name_start_patterns` finds that starts a token;
        from a token's end, the next token is the token pattern's next match, as findall goes on.
        """
        low = text.lower()
        trie = self._raw_trie
        after_gap, at_start = self._name_start_res
        token_re = _SRC_TOKEN_LOW_RE
        found = []
        segment = _TokenRun(low)
        m = after_gap.search(low)
        p = 0 if at_start.match(low) is not None else (-1 if m is None else m.start() + 1)
        while p >= 0:
            if segment.token_starts_at(p):
                tok = token_re.match(low, p)
                node = trie.get(tok.group())
                toks = [tok]
                best = None
                while node is not None:
                    leaf = node.get(None)
                    if leaf:
                        words = tuple(_exact_form(text[t.start():t.end()]) for t in toks)
                        entries = tuple(dict.fromkeys(e for exact, e in leaf if exact is None or exact == words))
                        if entries:
                            best = (p, toks[-1].end(), len(toks), entries)
                    nxt = token_re.search(low, toks[-1].end())
                    node = node.get(nxt.group()) if nxt is not None else None
                    toks.append(nxt)
                if best:
                    found.append(best)
            if m is not None and m.start() < p:
                m = after_gap.search(low, p)
            p = -1 if m is None else m.start() + 1
        return found

    def choose(self, entries: Sequence[SourceEntry], text: str) -> SourceEntry | None:
        """The one entry an ambiguous alias means in this article (by its places), or None."""
        if len(entries) == 1:
            return entries[0]
        scores = []
        for entry in entries:
            if not entry.places:
                scores.append(0)
                continue
            patterns = self._place_res.get(entry.canonical)
            if patterns is None:
                names = "(?:" + "|".join(re.escape(p) for p in entry.places) + ")"
                patterns = re.compile(rf"\b{names}\b"), re.compile(names)
                self._place_res[entry.canonical] = patterns
            scores.append(len(_finditer_from(*patterns, text)))
        best = max(scores)
        if best == 0 or scores.count(best) > 1:
            return None
        return entries[scores.index(best)]


def _read_source_file(text: str, origin: str) -> list[SourceEntry]:
    """The entries of one sources.toml text; ValueError naming the file on a bad entry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{origin}: not valid TOML: {err}") from err
    rows = data.get("source", [])
    if not isinstance(rows, list):
        raise ValueError(f"{origin}: expected [[source]] tables")
    entries = []
    for i, row in enumerate(rows):
        where = f"{origin}: [[source]] #{i + 1}"
        if not isinstance(row, dict) or not isinstance(row.get("canonical"), str) or not row["canonical"].strip():
            raise ValueError(f"{where}: needs a non-empty 'canonical' string")
        kind = row.get("kind", "official")
        if kind not in SOURCE_KINDS:
            raise ValueError(f"{where}: kind {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
        lists = {}
        for key in ("aliases", "people", "places"):
            value = row.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{where}: '{key}' must be a list of strings")
            lists[key] = tuple(v for v in value if v.strip())
        canonical = row["canonical"].strip()
        entries.append(SourceEntry(canonical, str(row.get("name", canonical)), kind,
                                   lists["aliases"] or (canonical,), lists["people"], lists["places"]))
    return entries


def load_sources(extra_files: Sequence[str] = ()) -> SourceTable:
    """The built-in source table plus the users' files (same format; same canonical name replaces)."""
    return _sources_from_texts(read_source_files(extra_files))


def read_source_files(paths: Sequence[str]) -> list[tuple[str, str]]:
    """(path, text) of users' source files; ValueError if one cannot be read."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    texts = []
    for path in paths:
        try:
            texts.append((str(path), Path(path).read_text(encoding="utf-8")))
        except OSError as err:
            raise ValueError(f"{path}: cannot read source file: {err}") from err
    return texts


def _sources_from_texts(extra: Sequence[tuple[str, str]]) -> SourceTable:
    """The built-in table plus sources.toml texts given as (origin, text)."""
    builtin = resources.files("tollwatch.transforms").joinpath(BUILTIN_SOURCES).read_text(encoding="utf-8")
    entries = _read_source_file(builtin, BUILTIN_SOURCES)
    for origin, text in extra:
        entries.extend(_read_source_file(text, origin))
    return SourceTable(entries)


_DEFAULT_TABLE: SourceTable | None = None


def _default_sources() -> SourceTable:
    """The built-in table, loaded once per process."""
    global _DEFAULT_TABLE
    if _DEFAULT_TABLE is None:
        _DEFAULT_TABLE = load_sources()
    return _DEFAULT_TABLE


# ----------------------------------------------------------------------------------------------
# Sentences and tokens
# ----------------------------------------------------------------------------------------------
class _Sentence(NamedTuple):
    start: int
    end: int
    text: str
    para: int
    headline: bool
    repeated: bool
    truncated: bool


def _split_sentences(text: str) -> list[_Sentence]:
    """The sentences of a text with their offsets, paragraph numbers and headline flags."""
    paragraphs: list[list[tuple[int, int]]] = []
    for para in _PARA_RE.finditer(text):
        p0, body = para.start(), para.group()
        if not body.strip():
            continue
        spans, s = [], 0
        for brk in _finditer_from(_SENT_BREAK_RE, _SENT_BREAK_START_RE, body):
            at = brk.start()
            if body[at] == ".":
                word = _LAST_WORD_RE.search(body, max(0, at - 12), at)
                if word:
                    last = word.group(1).lower().rstrip(".")
                    if last in ABBREVIATIONS or (len(last) == 1 and word.group(1).isupper()):
                        continue
            spans.append((s, brk.end()))
            s = brk.end()
        spans.append((s, len(body)))
        cleaned = []
        for a, b in spans:
            for a, b in (_cut_long(body, a, b) if b - a > MAX_SENTENCE_CHARS else ((a, b),)):
                chunk = body[a:b]
                lead = len(chunk) - len(chunk.lstrip())
                trail = len(chunk.rstrip())
                if trail > lead:
                    cleaned.append((p0 + a + lead, p0 + a + trail))
        if cleaned:
            paragraphs.append(cleaned)
    sentences: list[_Sentence] = []
    seen: set[str] = set()
    last_para = len(paragraphs) - 1
    for pi, spans in enumerate(paragraphs):
        last_span = len(spans) - 1
        for si, (a, b) in enumerate(spans):
            sent = text[a:b]
            words = sent.split()
            headline = (last_span == 0 and pi < last_para and not sent.endswith(_SENTENCE_FINAL)
                        and len(words) <= MAX_HEADLINE_WORDS)
            key = " ".join(words)
            truncated = si == last_span and sent.endswith(("...", "…"))
            sentences.append(_Sentence(a, b, sent, pi, headline, key in seen, truncated))
            seen.add(key)
    return sentences


def _cut_long(body: str, a: int, b: int) -> list[tuple[int, int]]:
    """The span [a, b) of a paragraph cut at commas or spaces into pieces of at most MAX_SENTENCE_CHARS."""
    pieces = []
    while b - a > MAX_SENTENCE_CHARS:
        limit = a + MAX_SENTENCE_CHARS
        cut = max(body.rfind(", ", a, limit), body.rfind("; ", a, limit))
        if cut <= a + MAX_SENTENCE_CHARS // 2:
            cut = body.rfind(" ", a, limit)
        if cut <= a:
            cut = limit
        pieces.append((a, cut + 1))
        a = cut + 1
    pieces.append((a, b))
    return pieces


class _Token(NamedTuple):
    start: int
    end: int
    text: str
    low: str
    num: int  # index of the number mention this token is, else -1


class _Mention(NamedTuple):
    start: int
    end: int
    parsed: ParsedNumber
    eligible: bool


_new_tuple = tuple.__new__


def _tokenize(text: str, mentions: Sequence[_Mention]) -> list[_Token]:
    """Word and punctuation tokens of a sentence; each number mention becomes one token."""
    tokens: list[_Token] = []
    append = tokens.append
    # Lower-casing ASCII keeps every offset (and holds no "’"): a token's lower form is a slice of the
    # lower-cased sentence. Tokens are built by tuple.__new__, which skips the NamedTuple's Python __new__.
    low = text.lower() if text.isascii() else None
    n = len(mentions)
    mi = 0
    for m in TOKEN_RE.finditer(text):
        s, e = m.span()
        while mi < n and mentions[mi].end <= s:
            mi += 1
        if mi < n and mentions[mi].start < e:  # (and s < its end, by the loop above)
            mention = mentions[mi]
            if not tokens or tokens[-1].num != mi:
                append(_new_tuple(_Token, (mention.start, mention.end, text[mention.start:mention.end], "#num", mi)))
            continue
        word = text[s:e]
        append(_new_tuple(_Token, (s, e, word, low[s:e] if low is not None else word.lower().replace("’", "'"), -1)))
    return tokens


def _find_mentions(text: str) -> list[_Mention]:
    """The number phrases of a sentence, each marked eligible or not as a count of people."""
    mentions = []
    pos = 0
    in_ages = False
    low = _caseless_lower(text)
    while True:
        if low is None:
            match = NUMBER_RE.search(text, pos)
        else:  # the twin finds where the next number starts; NUMBER_RE's match there is the one search gives
            at = _NUMBER_LOW_RE.search(low, pos)
            match = None if at is None else NUMBER_RE.match(text, at.start())
        if match is None:
            break
        pos = match.end()
        if match.group("n2") and _MONTH_BEFORE_RE.search(text[max(0, match.start() - 12):match.start()]):
            pos = match.start("n2")  # "since Oct. 7 to 37,084": a date, then a figure, not a range
            match = NUMBER_RE.match(text, match.start("n1"), match.end("n1"))
            if match is None:
                continue
        parsed = _parse_match(match)
        start, end = match.span()
        if parsed is None:
            continue
        if parsed.number == 0 and parsed.qualifier != "vague":
            continue
        eligible = _eligible(text, start, end, match, parsed)
        if mentions and _LIST_GAP_RE.fullmatch(text[mentions[-1].end:start]) and (
                in_ages or _AGE_BEFORE_RE.search(text[:mentions[-1].start])) and not mentions[-1].eligible:
            eligible, in_ages = False, True  # "aged 19, 20 and 21"
        else:
            in_ages = False
        mentions.append(_Mention(start, end, parsed, eligible))
    return mentions


def _eligible(text: str, start: int, end: int, match: re.Match, parsed: ParsedNumber) -> bool:
    """False for numbers that are labels, dates, times, money, percentages, ages or compounds."""
    before, after = text[max(0, start - 25):start], text[end:end + 25]
    if _CURRENCY_BEFORE_RE.search(before) or _PERCENT_AFTER_RE.match(after) or _TIME_AFTER_RE.match(after):
        return False
    if _COMPOUND_AFTER_RE.match(after) or _MONTH_AFTER_RE.match(after) or _MONTH_BEFORE_RE.search(before):
        return False
    if _AGE_BEFORE_RE.search(before):
        return False
    if before.endswith("-") and before[-2:-1].isalnum():
        return False  # "COVID-19", "F-16"
    if before.endswith(("^", "-", "\u2212", "+")) or after[:1] in ("^", "e", "E"):
        return False  # an exponent or a signed number ("10^30", "1e30", "-5"): no count of people
    if max(parsed.number or 0, parsed.number_high or 0) > MAX_FIGURE:
        return False
    if _LEGAL_LABEL_BEFORE_RE.search(text, max(0, start - 60), start):
        return False  # "IPC sections 37 and 38", "under Article 5"
    label = _LABEL_BEFORE_RE.search(before)
    if label and label.group(1).lower().rstrip(".") in LABEL_WORDS and label.group(1)[0].isupper():
        return False
    if _AGE_APPOSITION_BEFORE_RE.search(before) and after.lstrip().startswith(",") and parsed.qualifier == "exact":
        return False  # "Gary McLaren, 50, was killed"
    if parsed.qualifier == "range" and all(_YEAR_RE.fullmatch((g or "").strip())
                                           for g in (match.group("b1") or match.group("n1") or match.group("f1"),
                                                     match.group("b2") or match.group("n2") or match.group("f2"))):
        return False  # "between 2009 and 2018"
    core = match.group("n1") or ""
    if (parsed.qualifier == "exact" and _YEAR_RE.fullmatch(core.strip())
            and not _PEOPLE_AFTER_RE.match(after)):
        return False  # a year
    return True


# ----------------------------------------------------------------------------------------------
# The claim grammar
# ----------------------------------------------------------------------------------------------
class _Phrase(NamedTuple):
    end: int  # token index after the noun phrase
    words: tuple[str, ...]
    text: str | None
    group: str | None
    measure: str | None  # from a measure noun heading the phrase ("47 dead")
    partitive: str | None  # "them" or a measure noun ("seven of the dead")
    nonperson: bool
    span_end: int  # char end of the phrase in the sentence
    part_of: int = -1  # mention index of the figure this one is a part of ("14 of the 35 victims")


_NP_STOP = (AUX | RELATIVES | NEGATIONS | SUBCOUNT_BEFORE | set(SCAN_STOPS) | set(MEASURE_WORDS) | {
    "in", "on", "at", "by", "from", "since", "during", "after", "before", "near", "across", "inside", "outside",
    "with", "without", "to", "into", "for", "under", "among", "between", "through", "amid", "following",
    "and", "or", "nor", "as", "than", "also", "still", "reportedly", "including", "they", "he", "she", "it",
    "we", "i", "you", "like", "such", "lost", "left", "found", "alone", "so", "far", "more", "less",
    "most", "many", "all", "both", "either", "each", "then", "later", "there", "here", "over",
    "about", "around", "almost", "nearly", "up", "out", "down", "off", "confirmed", "believed", "feared",
    "shot", "buried", "trapped", "arrested", "rescued", "evacuated", "detained", "displaced", "wounding",
    "yesterday", "today", "overnight", "this", "last", "whose", "upon", "against", "toward", "towards",
    "via", "per", "versus", "vs", "including", "apparently", "allegedly", "now", "already", "initially",
}) - {"dead", "deaths", "fatalities", "bodies", "corpses", "casualties", "victims", "wounded", "injured",
      "injuries", "missing"}


def _noun_phrase(tokens: Sequence[_Token], i: int, mentions: Sequence[_Mention], denominators: set[int]) -> _Phrase:
    """The noun phrase after the number at token i, with its group and measure noun."""
    n = len(tokens)
    j = i + 1
    partitive = None
    low = lambda k: tokens[k].low if k < n else ""  # noqa: E731
    if low(j) == "of":
        if low(j + 1) in ("them", "whom", "those"):
            partitive, j = "them", j + 2
        elif low(j + 1) == "the" and low(j + 2) in SUBCOUNT_NOUNS:
            partitive, j = low(j + 2), j + 3
        elif low(j + 1) in DETERMINERS:
            j += 1  # "20 of his neighbors" reads as "20 neighbors"
            if low(j + 1) == "#num" and mentions[tokens[i].num].eligible:
                m = j + 1
                following = [low(m + 1), low(m + 2)]
                if following[0] in AUX or following[0] in _NP_STOP - set(SUBCOUNT_NOUNS):
                    following = []  # "90 of its 200 residents were killed": the verb is the whole clause's
                elif following[1] in AUX:
                    following = following[:1]
                word = next((w for w in following if w in SUBCOUNT_NOUNS or w in ("died", "deaths")), None)
                if word is None:
                    denominators.add(tokens[m].num)  # "90 of its 200 residents": 200 is the base
                else:  # "14 of the 35 victims were women": a part of the figure 35
                    end = m + 1
                    while end < n and end < m + 4 and tokens[end].text[0].isalpha() and tokens[end].low not in COPULA:
                        end += 1
                    measure = SUBCOUNT_NOUNS.get(word) or ("killed" if word in ("died", "deaths") else None)
                    return _Phrase(end, (), None, None, measure, word, False, tokens[end - 1].end, tokens[m].num)
        elif low(j + 1) not in _NP_STOP and low(j + 1) != "#num":
            j += 1  # "dozens of people", "scores of bodies"
    words: list[str] = []
    first = j
    measure = None
    while j < n and len(words) < MAX_NP_WORDS:
        tok = tokens[j]
        if tok.num >= 0:
            if not mentions[tokens[i].num].eligible:
                break  # "Two-thirds of the 1,200 killed": the second number is the figure
            if words and (words[-1] in DETERMINERS or (words[-1] == "of" and len(words) >= 2)):
                denominators.add(tok.num)  # "members of one family": part of the phrase, not a figure
                j += 1
                continue
            if tok.num in denominators:
                j += 1
                continue
            break
        if not (tok.text[0].isalpha()):
            if tok.text == "’" or tok.text == "'":
                j += 1
                continue
            break
        if tok.low in MEASURE_HEADS:
            if tok.low in ("wounded", "injured", "missing", "dead") and words and words[-1] not in DETERMINERS:
                break  # "12 people dead" — predicative, read by the verb scan
            measure = MEASURE_HEADS[tok.low]
            words.append(tok.low)
            j += 1
            break
        if tok.low in _NP_STOP and not (tok.low == "of" and words):
            break
        if _finite_verb(tok):
            break  # "200 people attended the funeral of ...", "80 survived"
        if tok.low == "of" and low(j + 1) in ("them", "whom"):
            break
        words.append(tok.low)
        j += 1
    while words and (words[-1] in DETERMINERS or words[-1] == "of"):
        words.pop()
        j -= 1
    span_end = tokens[j - 1].end if j > first else tokens[i].end
    text = None
    if j > first:
        text = " ".join(t.text for t in tokens[first:j] if t.num < 0) or None
    group = _group_of(words)
    if group is None and _CIVILIAN_DRESS_RE.match(" ".join(t.low for t in tokens[j:j + 4])):
        group = "civilians"  # "bodies in civilian clothes"
    nonperson = False
    for w in words:
        if w == "of":
            break
        if w in GROUP_WORDS or w in PEOPLE_WORDS:
            break
        if w in NONPERSON or (w.endswith("s") and w[:-1] in NONPERSON):
            nonperson = True
            break
    return _Phrase(j, tuple(words), text, group, measure, partitive, nonperson, span_end)


_CIVILIAN_DRESS_RE = re.compile(r"(?:in|wearing) civilian (?:clothes|clothing|dress|attire)\b")


def _group_of(words: Sequence[str]) -> str | None:
    """The group a noun phrase names (children, women, combatants, ...), or None."""
    found = set()
    head_words = []
    for w in words:
        base = w[:-2] if w.endswith("'s") else w
        head_words.append(base)
        g = GROUP_WORDS.get(base)
        if g:
            found.add(g)
    if not found:
        return None
    if "children" in found and "women" in found:
        return "civilians"
    if "security_forces" in found and any(w in COMBATANT_MARKERS or w.startswith("pro-") for w in head_words):
        return "combatants"
    for g in GROUP_PRECEDENCE:
        if g in found:
            return g
    return None


class _Trigger(NamedTuple):
    kind: str  # active | noun | toll | sub | coord | right | head
    measure: str | None
    start: int  # char span of the casualty word(s) in the sentence
    end: int
    other: int = -1  # index of the related mention (coordination, parent)
    qualifier: str | None = None  # a toll verb can turn "exact" into "more_than"


def _is_active(tokens: Sequence[_Token], j: int) -> bool:
    """True when the verb at j takes an object, so the number before it is the agent."""
    if j + 1 >= len(tokens):
        return False
    nxt = tokens[j + 1]
    if nxt.num >= 0 or nxt.low in OBJECT_STARTS or nxt.low in GROUP_WORDS or nxt.low in PEOPLE_WORDS:
        return True
    return nxt.text[0].isupper() and nxt.low not in WEEKDAYS and nxt.low not in MONTHS


MODALS = {"will", "would", "could", "may", "might", "can", "should", "must"}


def _measure_after_aux(tokens: Sequence[_Token], j: int) -> tuple[str, int] | None | bool:
    """After an auxiliary at j: (measure, token index) of the participle, False if negated or a projection
    ("could die"), else None."""
    modal = 0 <= j < len(tokens) and tokens[j].low in MODALS
    k = j + 1
    for _ in range(5):
        if k >= len(tokens):
            return None
        low = tokens[k].low
        if low in NEGATIONS:
            return False
        if low in ("among",) and k + 2 < len(tokens) and tokens[k + 1].low in ("the", "those") \
                and tokens[k + 2].low in SUBCOUNT_NOUNS:
            return (SUBCOUNT_NOUNS[tokens[k + 2].low] or "casualties", k + 2)
        if low in MEASURE_WORDS and low not in ("victims", "bodies", "deaths", "casualties", "fatalities"):
            if modal:
                return False  # "2.2 million could die": a projection, not a count
            if k + 2 < len(tokens) and tokens[k + 1].low in ("or", "and") and tokens[k + 2].num < 0 \
                    and MEASURE_WORDS.get(tokens[k + 2].low, MEASURE_WORDS[low]) != MEASURE_WORDS[low] \
                    and not (k + 3 < len(tokens) and tokens[k + 3].num >= 0):
                return ("casualties", k + 2)  # "were killed or wounded"
            return (MEASURE_WORDS[low], k)
        if low in ("have", "has", "had"):
            modal = False  # "may have died" reports deaths
        if low == "lost" and k + 2 < len(tokens) and tokens[k + 2].low == "lives":
            return ("killed", k + 2)
        if low in ("shot", "stabbed") and not (k + 1 < len(tokens) and tokens[k + 1].low in ("dead", "to", "and", "or")):
            return ("casualties", k)  # "14 people were stabbed": killed or hurt, the text does not say
        if low in PREVERB or low in AUX:
            k += 1
            continue
        return None
    return None


def _right_trigger(tokens: Sequence[_Token], start: int, mentions: Sequence[_Mention],
                   subcounts: set[int]) -> _Trigger | None:
    """The casualty verb after a number's noun phrase that makes it the victims' count, if any."""
    n = len(tokens)
    j, steps, in_rel = start, 0, False
    while j < n and steps < MAX_RIGHT_TOKENS:
        tok = tokens[j]
        low = tok.low
        if tok.num >= 0:
            mention = mentions[tok.num]
            prev = tokens[j - 1].low if j else ""
            prev2 = tokens[j - 2].low if j > 1 else ""
            if prev in ("whom", "them") and (prev2, prev) in SUBCOUNT_PAIRS:
                # "of whom 7,844 have died": the clause is the part's own; go on after it.
                j += 1
                while j < n and tokens[j].text not in (",", ";"):
                    j += 1
                continue
            if not mention.eligible or tok.num in subcounts or prev in SUBCOUNT_BEFORE \
                    or (prev2, prev) in SUBCOUNT_PAIRS:
                j += 1
                steps += 1
                continue
            if prev in ("and", ",", "or", "plus") and not in_rel:
                return _Trigger("coord", None, tok.start, tok.end, tok.num)
            return None
        if low in MEASURE_WORDS and low not in ("victims", "casualties"):
            if low in ("die", "dies") and j and tokens[j - 1].low in MODALS:
                return None
            if low in TRANSITIVE and (j == 0 or tokens[j - 1].low not in AUX | PREVERB) and _is_active(tokens, j):
                return None
            measure = MEASURE_WORDS[low]
            if j + 2 < n and tokens[j + 1].low in ("or", "and") and tokens[j + 2].low in MEASURE_WORDS \
                    and MEASURE_WORDS[tokens[j + 2].low] != measure and tokens[j + 2].num < 0:
                if not (j + 3 < n and tokens[j + 3].num >= 0):
                    return _Trigger("right", "casualties", tok.start, tokens[j + 2].end)
            return _Trigger("right", measure, tok.start, tok.end)
        if low == "among" and j + 2 < n and tokens[j + 1].low in ("the", "those") and tokens[j + 2].low in SUBCOUNT_NOUNS:
            return _Trigger("right", SUBCOUNT_NOUNS[tokens[j + 2].low] or "casualties", tok.start, tokens[j + 2].end)
        if low == "lost" and j + 2 < n and tokens[j + 2].low == "lives":
            return _Trigger("right", "killed", tok.start, tokens[j + 2].end)
        if low == "to" and j + 1 < n and tokens[j + 1].low == "death":
            return _Trigger("right", "killed", tok.start, tokens[j + 1].end)
        if low in AUX or (low in PREVERB and low in ("reported", "confirmed", "feared", "believed", "presumed",
                                                        "said", "thought", "known", "found", "shot", "listed")):
            found = _measure_after_aux(tokens, j if low in AUX else j - 1)
            if found is False:
                return None
            if found:
                measure, k = found
                passive = any(tokens[x].low in ("been", "being", "be", "was", "were", "is", "are", "got", "get")
                              for x in range(j, k))
                if tokens[k].low in TRANSITIVE and not passive and _is_active(tokens, k):
                    return None
                return _Trigger("right", measure, tok.start, tokens[k].end)
            if not in_rel:
                return None
            while j < n and tokens[j].text != ",":
                j += 1
            in_rel = False
            continue
        if low in SCAN_STOPS:
            return None
        if low in RELATIVES:
            in_rel = True
        elif tok.text == ",":
            in_rel = False
        elif not in_rel and _finite_verb(tok):
            return None
        j += 1
        steps += 1
    return None


def _finite_verb(tok: _Token) -> bool:
    """A guess that a token is a past-tense verb other than a casualty verb ("fled", "arrested")."""
    low = tok.low
    if low in IRREGULAR_PAST:
        return True
    return (low.endswith("ed") and len(low) > 4 and "-" not in low and low not in ED_ADJECTIVES
            and low not in MEASURE_WORDS and low not in PREVERB and not tok.text[0].isupper())


def _left_trigger(tokens: Sequence[_Token], i: int, mentions: Sequence[_Mention],
                  phrases: dict[int, _Phrase], triggers: dict[int, _Trigger | None]) -> _Trigger | None:
    """What before the number at token i makes it a casualty figure: a verb, a noun, a toll, a part-of."""
    low = lambda k: tokens[k].low if 0 <= k < len(tokens) else ""  # noqa: E731
    p1, p2, p3 = low(i - 1), low(i - 2), low(i - 3)
    # Part of a figure already given.
    if p1 in SUBCOUNT_BEFORE or (p2, p1) in SUBCOUNT_PAIRS:
        measure = None
        if p1 in ("included", "include", "includes") and p2 in SUBCOUNT_NOUNS:
            measure = SUBCOUNT_NOUNS[p2]
        return _Trigger("sub", measure, tokens[i - 1].start, tokens[i - 1].end)
    if p1 in COPULA and p2 in SUBCOUNT_NOUNS and p3 in ("the", "those"):
        if low(i - 4) == "among" or p1 in ("included", "include", "includes"):
            return _Trigger("sub", SUBCOUNT_NOUNS[p2], tokens[i - 4].start if i >= 4 else tokens[i - 3].start,
                            tokens[i - 1].end)
    if p2 in SUBCOUNT_NOUNS and p3 == "the" and low(i - 4) == "among":
        return _Trigger("sub", SUBCOUNT_NOUNS[p2], tokens[i - 4].start, tokens[i - 2].end)
    # An active verb: "killed more than 340", "killed or wounded 50", "killed a combined 12,000".
    skip = i - 1
    while skip > 0 and skip >= i - 3 and low(skip) in _FILLER_BEFORE:
        skip -= 1
    if skip < i - 1 and low(skip) in ACTIVE_BEFORE:
        return _Trigger("active", ACTIVE_BEFORE[low(skip)], tokens[skip].start, tokens[skip].end)
    if p1 in ACTIVE_BEFORE:
        measure = ACTIVE_BEFORE[p1]
        if p2 in ("or", "and") and p3 in ACTIVE_BEFORE and ACTIVE_BEFORE[p3] != measure:
            return _Trigger("active", "casualties", tokens[i - 3].start, tokens[i - 1].end)
        return _Trigger("active", measure, tokens[i - 1].start, tokens[i - 1].end)
    if p1 == "of" and p2 in ("family", "total", "group", "minimum") and p3 in ("a", "an", "the") \
            and low(i - 4) in ACTIVE_BEFORE:
        return _Trigger("active", ACTIVE_BEFORE[low(i - 4)], tokens[i - 4].start, tokens[i - 4].end)
    if p1 == "of" and p2 == "lives" and p3 == "the" and low(i - 4) in ("claimed", "claiming", "took", "taking",
                                                                      "cost", "costing", "claim", "claims"):
        return _Trigger("active", "killed", tokens[i - 4].start, tokens[i - 1].end)
    # A noun: "the deaths of 311", "casualties somewhere between 180-200".
    if p1 == "of" and p2 in NOUN_BEFORE:
        return _Trigger("noun", NOUN_BEFORE[p2], tokens[i - 2].start, tokens[i - 1].end)
    if p1 in NOUN_BEFORE and p1 not in ("killing", "death", "remains"):
        return _Trigger("noun", NOUN_BEFORE[p1], tokens[i - 1].start, tokens[i - 1].end)
    if p1 in NOUN_FILLERS and p2 in NOUN_BEFORE and p2 not in ("death", "remains", "killing"):
        return _Trigger("noun", NOUN_BEFORE[p2], tokens[i - 2].start, tokens[i - 1].end)
    # A toll named earlier in the sentence: "the death toll ... has surpassed 1,000".
    link = p1 if p1 not in ("now", "already", "officially") else p2
    if link in TOLL_LINKS:
        toll = _toll_before(tokens, i, mentions, phrases)
        if toll:
            qualifier = "more_than" if link in MORE_THAN_VERBS else None
            return toll._replace(qualifier=qualifier)
    # Coordination with the number before: "killed 10 soldiers and 5 civilians".
    if p1 in ("and", ",", "or", "plus") or (p1 == "as" and p2 == "well"):
        k = i - 2 if p1 != "as" else i - 4
        for prev_i in range(k, max(-1, k - MAX_NP_WORDS - 1), -1):
            if prev_i < 0:
                break
            if tokens[prev_i].num >= 0:
                phrase = phrases.get(prev_i)
                if phrase and phrase.end >= k and prev_i in triggers:
                    prev = triggers[prev_i]
                    if prev is not None and prev.kind in ("active", "noun", "sub", "toll", "coord_left"):
                        return _Trigger("coord_left", prev.measure, prev.start, prev.end, tokens[prev_i].num)
                break
        for back in range(i - 2, max(-1, i - 6), -1):
            word = tokens[back]
            if word.num >= 0 or not word.text[0].isalpha():
                break
            if word.low in ACTIVE_BEFORE and back < i - 2:
                return _Trigger("active", ACTIVE_BEFORE[word.low], word.start, word.end)
    return None


_FILLER_BEFORE = {"a", "an", "another", "combined", "further", "additional", "reported", "record", "staggering",
                  "confirmed", "total", "minimum", "whopping", "more"}


def _toll_before(tokens: Sequence[_Token], i: int, mentions: Sequence[_Mention],
                 phrases: dict[int, _Phrase]) -> _Trigger | None:
    """A "toll" (or "number of dead") before token i with no other figure between them."""
    for k in range(i - 1, max(-1, i - MAX_TOLL_TOKENS), -1):
        tok = tokens[k]
        if tok.num >= 0 and mentions[tok.num].eligible:
            phrase = phrases.get(k)
            if phrase is None or not phrase.nonperson:
                return None
        if tok.low in (";", "said", "says", "told"):
            return None
        if tok.low in ("toll", "tally", "count") and (tok.low != "count" or (k and tokens[k - 1].low in ("death", "body", "casualty"))):
            prev = tokens[k - 1].low if k else ""
            measure = TOLL_MEASURES.get(prev, "killed")
            start = tokens[k - 1].start if prev in TOLL_MEASURES or prev in ("body",) else tok.start
            return _Trigger("toll", measure, start, tok.end)
        if tok.low in ("total", "figure", "figures") and k and tokens[k - 1].low in ("the", "overall", "cumulative"):
            return _Trigger("toll", None, tok.start, tok.end)  # its measure is that of the figure before it
        if tok.low == "number" and k + 2 < len(tokens) and tokens[k + 1].low == "of":
            for m in range(k + 2, min(k + 5, i)):
                word = tokens[m].low
                if word in MEASURE_WORDS or word in SUBCOUNT_NOUNS:
                    return _Trigger("toll", MEASURE_WORDS.get(word, "casualties") if word != "victims" else "killed",
                                    tok.start, tokens[m].end)
    return None


class _Candidate(NamedTuple):
    token: int
    mention: int
    measure: str  # "pending": taken from the claim this one is a part of
    group: str  # "pending": the group of the claim this one is a part of ("23 of them")
    group_text: str | None
    parsed: ParsedNumber
    start: int  # char span in the sentence
    end: int
    parent: int  # candidate index of the claim this one is a part of, else -1
    sibling: int  # candidate index it is coordinated with, else -1
    toll: bool
    orphan: bool  # a part of a claim made in an earlier sentence ("Among the dead were ...")


def _object_of_other_verb(tokens: Sequence[_Token], k: int) -> bool:
    """True when the number at k is the object of a verb that is not a casualty verb ("displaced 12 million")."""
    if k == 0:
        return False
    prev = tokens[k - 1]
    low = prev.low
    if low in ACTIVE_BEFORE or low in MEASURE_WORDS or low in TOLL_LINKS or low in SUBCOUNT_BEFORE or low in PREVERB:
        return False
    if prev.text[0].isupper():
        return False
    return low in IRREGULAR_PAST or (low.endswith("ed") and len(low) > 3 and "-" not in low)


def _sentence_candidates(sent: _Sentence) -> tuple[list[_Candidate], list[_Token], list[_Mention]]:
    """The casualty figures of one sentence, before sources, scope and periods."""
    text = sent.text
    mentions = _find_mentions(text)
    if not any(m.eligible for m in mentions):
        return [], [], mentions
    tokens = _tokenize(text, mentions)
    num_tokens = [k for k, t in enumerate(tokens) if t.num >= 0]
    denominators: set[int] = set()
    phrases = {k: _noun_phrase(tokens, k, mentions, denominators) for k in num_tokens}
    # Not figures: base populations ("of its 200 residents"), counts of things, ages ("children under 18").
    for k in num_tokens:
        mi = tokens[k].num
        m = mentions[mi]
        prev = tokens[k - 1].low if k else ""
        phrase_text = text[m.start:m.end].lower()
        age = (prev in GROUP_WORDS or prev in PEOPLE_WORDS) and phrase_text.startswith(("under", "over", "below", "above"))
        one = phrase_text in ("one", "a single") and (
            prev in ("no", "the", "any", "every", "each", "one", "from", "in", "at", "of")
            or (k + 1 < len(tokens) and tokens[k + 1].low in ("of", "another", "by"))
            or (phrases[k].words and phrases[k].group is None
                and not any(w in PEOPLE_WORDS for w in phrases[k].words) and not phrases[k].measure))
        if mi in denominators or phrases[k].nonperson or age or one:
            mentions[mi] = m._replace(eligible=False)
    usable = [k for k in num_tokens if mentions[tokens[k].num].eligible]
    if not usable:
        return [], tokens, mentions
    lefts: dict[int, _Trigger | None] = {}
    for k in usable:  # in order: coordination borrows the trigger of the number before
        lefts[k] = _left_trigger(tokens, k, mentions, phrases, lefts)
    subcounts = {tokens[k].num for k, t in lefts.items() if t is not None and t.kind == "sub"}
    # Verbs after the number, from the last number back so coordination borrows the next one's verb.
    rights: dict[int, _Trigger | None] = {}
    token_of = {tokens[k].num: k for k in usable}
    for k in reversed(usable):
        trig = _right_trigger(tokens, phrases[k].end, mentions, subcounts)
        if trig is not None and trig.kind == "coord":
            borrowed = rights.get(token_of.get(trig.other, -1))
            trig = borrowed._replace(kind="coord", other=trig.other) if borrowed is not None else None
        if trig is not None and trig.kind == "right" and _object_of_other_verb(tokens, k) \
                and (phrases[k].end >= len(tokens) or trig.start > tokens[phrases[k].end].start):
            trig = None  # "has displaced 12 million people and left the dead uncounted"
        rights[k] = trig
    candidates: list[_Candidate] = []
    by_token: dict[int, int] = {}
    for k in usable:
        mi = tokens[k].num
        mention, phrase, left, rt = mentions[mi], phrases[k], lefts.get(k), rights.get(k)
        parsed = mention.parsed
        measure, trig = None, None
        if phrase.measure and phrase.partitive is None:
            head = tokens[phrase.end - 1]
            measure, trig = phrase.measure, _Trigger("head", phrase.measure, head.start, head.end)
            if measure == "casualties" and left is not None and left.kind in ("active", "noun", "toll"):
                measure = left.measure or measure
        elif left is not None and left.kind in ("active", "noun", "toll"):
            measure, trig = left.measure, left
            if measure is None:  # "bringing the total to 37,084": the measure of the figure before
                measure = candidates[-1].measure if candidates and candidates[-1].measure != "pending" else None
                if measure is None:
                    continue
        elif phrase.words[-1:] == ("lives",) and k and tokens[k - 1].low in LIFE_VERBS:
            verb = tokens[k - 1]
            measure, trig = "killed", _Trigger("active", "killed", verb.start, verb.end)
        elif rt is not None:
            measure, trig = rt.measure, rt
        elif left is not None and left.kind in ("sub", "coord_left"):
            measure, trig = left.measure, left
        parent, sibling, orphan = -1, -1, False
        if left is not None and left.kind == "coord_left":
            sibling = by_token.get(token_of.get(left.other, -1), -1)
            if sibling < 0:
                continue  # coordinated with a number that is no claim ("five orangutans, two gorillas")
            parent, orphan = candidates[sibling].parent, candidates[sibling].orphan
            measure = measure or candidates[sibling].measure
        copula_group = None
        if phrase.partitive or not phrase.words:
            copula_group = _copula_group(tokens, phrase.end)
        is_part = (left is not None and left.kind == "sub") or (phrase.partitive is not None and not (
            left is not None and left.kind in ("active", "noun", "toll"))) or (copula_group is not None and measure is None)
        if is_part and parent < 0 and not orphan and phrase.part_of < 0:
            parent = _nearest_before(candidates, k)
            orphan = parent < 0
            earlier = [kk for kk in num_tokens if kk < k]
            if orphan and earlier and not mentions[tokens[earlier[-1]].num].eligible:
                continue  # a part of something that is not a count of people ("30 animals, including five ...")
        if phrase.partitive and phrase.partitive != "them" and measure is None:
            measure = SUBCOUNT_NOUNS.get(phrase.partitive)
        active_before = left is not None and left.kind in ("active", "noun", "toll")
        if phrase.partitive and not (phrase.group or copula_group) and rt is None and not active_before:
            continue  # "two of them seriously": a severity, not a group
        if measure is None and parent >= 0:
            measure = candidates[parent].measure
        if measure is None and not orphan and phrase.part_of < 0:
            continue
        group = phrase.group or copula_group
        group_text = phrase.text
        if copula_group and not phrase.group:
            group_text = _copula_group_text(tokens, phrase.end)
        if group is None and phrase.partitive == "them":
            if parent >= 0:
                group = candidates[parent].group
            elif not orphan:  # "a bus carrying 40 passengers ..., killing 12 of them"
                before = [phrases[kk].group for kk in num_tokens if kk < k and phrases[kk].group]
                group = before[-1] if before else "unspecified"
            else:
                group = "pending"
        toll = trig is not None and trig.kind == "toll"
        if group is None:
            if toll or not phrase.words or (phrase.measure and len(phrase.words) == 1) or "total" in phrase.words \
                    or phrase.words == ("lives",):
                group = "total"
            elif k >= 2 and tokens[k - 1].low == "of" and tokens[k - 2].low == "total":
                group = "total"  # "a total of 50 people"
            elif phrase.words and phrase.words[-1] in PEOPLE_NOUNS and not INCREMENT_WORDS.intersection(
                    phrase.words) and not (k and tokens[k - 1].low in INCREMENT_WORDS):
                group = "total"  # "146 people had died" counts everyone, as "the death toll rose to 146" does
            else:
                group = "unspecified"
        if toll and group_text is None:
            group_text = text[trig.start:trig.end]
        if trig is not None and trig.qualifier and parsed.qualifier == "exact":
            parsed = parsed._replace(qualifier=trig.qualifier)
        if parsed.qualifier == "range" and text[mention.start:mention.end].lower().startswith("from") \
                and k and tokens[k - 1].low in CHANGE_VERBS:
            parsed = ParsedNumber(parsed.number_high, None, "exact", False, None)  # "rose from 180 to 200"
        start, end = mention.start, mention.end
        if trig is not None and trig.kind in ("active", "noun", "head", "right"):
            start, end = min(start, trig.start), max(end, trig.end)
        elif trig is not None and trig.kind == "coord":
            end = max(end, phrase.span_end)
        by_token[k] = len(candidates)
        candidates.append(_Candidate(k, mi, measure or "pending", group, group_text, parsed, start, end, parent,
                                     sibling, toll, orphan))
    # Parts of a figure given after them ("14 of the 35 victims"): point them at it.
    index_of_mention = {c.mention: idx for idx, c in enumerate(candidates)}
    for idx, cand in enumerate(candidates):
        part_of = phrases[cand.token].part_of
        if part_of >= 0 and part_of in index_of_mention:
            candidates[idx] = cand._replace(parent=index_of_mention[part_of], orphan=False)
    # A figure with parts counts everyone ("More than 1,000 people, including 745 civilians").
    for idx, cand in enumerate(candidates):
        if cand.group == "unspecified" and any(c.parent == idx for c in candidates):
            candidates[idx] = cand._replace(group="total")
    return candidates, tokens, mentions


def _nearest_before(candidates: Sequence[_Candidate], token: int) -> int:
    """Index of the last non-part candidate before a token, or -1."""
    for idx in range(len(candidates) - 1, -1, -1):
        if candidates[idx].token < token and candidates[idx].parent < 0:
            return idx
    return -1


def _copula_group(tokens: Sequence[_Token], j: int) -> str | None:
    """The group named right after "were"/"was" following a number ("31 were women"), if any."""
    if j < len(tokens) and tokens[j].low in COPULA:
        words = []
        for k in range(j + 1, min(j + 5, len(tokens))):
            tok = tokens[k]
            if not tok.text[0].isalpha() or (tok.low not in ("all", "mostly", "also") and _finite_verb(tok)):
                break
            if tok.low in ("all", "mostly", "also") or tok.low in DETERMINERS:
                continue
            words.append(tok.low)
            if tok.low in GROUP_WORDS or len(words) == 2:
                break
        return _group_of(words)
    return None


def _copula_group_text(tokens: Sequence[_Token], j: int) -> str | None:
    """The raw words after the copula that name the group."""
    words = []
    for k in range(j + 1, min(j + 5, len(tokens))):
        if not tokens[k].text[0].isalpha():
            break
        words.append(tokens[k].text)
        if tokens[k].low in GROUP_WORDS:
            break
    return " ".join(words) or None


# ----------------------------------------------------------------------------------------------
# Attribution
# ----------------------------------------------------------------------------------------------
class _Attribution(NamedTuple):
    start: int  # absolute char span of the attribution phrase (source + verb)
    end: int
    source: str | None
    text: str
    media: bool
    person: bool


class _ArticleContext:
    """What claim extraction knows about one article: its source mentions, places and attributions."""

    def __init__(self, text: str, sentences: Sequence[_Sentence], table: SourceTable):
        self.text = text
        self.sentences = sentences
        self.table = table
        self.hits = table.find(text)
        self.hit_starts = [h.start for h in self.hits]
        chosen: dict[tuple[str, ...], SourceEntry | None] = {}  # an ambiguous alias means the same all along
        self.resolved_hits: list[SourceEntry | None] = []
        for hit in self.hits:
            if len(hit.entries) == 1:
                self.resolved_hits.append(hit.entries[0])
                continue
            key = tuple(e.canonical for e in hit.entries)
            if key not in chosen:
                chosen[key] = table.choose(hit.entries, text)
            self.resolved_hits.append(chosen[key])
        self.attributions: dict[int, list[_Attribution]] = {}
        self.last_source: str | None = None
        self.last_person: str | None = None
        self._places: list[tuple[int, str]] | None = None
        self._by_kind: dict[str, tuple[list[int], list[SourceEntry]]] | None = None
        self._place_names: set[str] | None = None
        self._units: list[tuple[int, str, str]] | None = None  # (position, name, unit noun) of admin units
        # (sentence start, clause start, clause end) -> what _location's searches of that clause found
        self.clause_places: dict[tuple[int, int, int], tuple[list[re.Match], list[re.Match], re.Match | None]] = {}

    # -- sources ------------------------------------------------------------------------------
    def entry_in(self, start: int, end: int) -> tuple[SourceEntry, _SourceHit] | None:
        """The first resolved known source mentioned inside [start, end)."""
        k = bisect.bisect_left(self.hit_starts, start)
        while k < len(self.hits) and self.hits[k].start < end:
            if self.hits[k].end <= end and self.resolved_hits[k] is not None:
                return self.resolved_hits[k], self.hits[k]
            k += 1
        return None

    def hit_in(self, start: int, end: int) -> _SourceHit | None:
        """The first known-source mention inside [start, end), resolved or not."""
        k = bisect.bisect_left(self.hit_starts, start)
        if k < len(self.hits) and self.hits[k].start < end and self.hits[k].end <= end:
            return self.hits[k]
        return None

    def by_kind(self, kinds: frozenset, pos: int, keyword: str | None = None) -> SourceEntry | None:
        """The known source of one of `kinds` named nearest before `pos` (else first after it)."""
        if self._by_kind is None:
            self._by_kind = {}
            for hit, entry in zip(self.hits, self.resolved_hits):
                if entry is not None:
                    starts, entries = self._by_kind.setdefault(entry.kind, ([], []))
                    starts.append(hit.start)
                    entries.append(entry)
        best_before, best_after = None, None  # (position, entry)
        for kind in kinds:
            starts, entries = self._by_kind.get(kind, ((), ()))
            k = bisect.bisect_left(starts, pos)
            before = next((x for x in range(k - 1, -1, -1) if _has_keyword(entries[x], keyword)), None)
            after = next((x for x in range(k, len(starts)) if _has_keyword(entries[x], keyword)), None)
            if before is not None and (best_before is None or starts[before] > best_before[0]):
                best_before = (starts[before], entries[before])
            if after is not None and (best_after is None or starts[after] < best_after[0]):
                best_after = (starts[after], entries[after])
        best = best_before or best_after
        return best[1] if best else None

    def resolve_phrase(self, start: int, end: int) -> tuple[str | None, bool, bool]:
        """(canonical source, is media, is person) named by the phrase text[start:end]."""
        phrase = self.text[start:end].strip(" ,.;:'\"“”‘’")
        if not phrase:
            return None, False, False
        lead = _SUBORDINATE_LEAD_RE.match(phrase)
        if lead:  # "a day after authorities (say)", "where officials (confirmed)": the clause's own subject
            offset = self.text.find(phrase, start) + lead.end()
            return self.resolve_phrase(offset, end)
        if _NOT_A_SUBJECT_RE.match(phrase):
            return None, False, False  # "with a British man (now confirmed)", "later (said)", "Search and rescue efforts"
        unit = self.local_government(phrase, start)
        if unit:
            return unit, False, False
        body = _SPEAKS_FOR_RE.match(phrase)
        if body:  # "Abdul Rayan, spokesman at the Ministry of X", "Marie Drese, the aid group's secretary-general"
            org = body.group("org") or body.group("org2")
            org = _BODY_TAIL_RE.split(org, maxsplit=1)[0]
            offset = self.text.find(org, start)
            if offset >= 0:
                resolved = self.resolve_phrase(offset, offset + len(org))
                if resolved[0]:
                    return resolved[0], resolved[1], False
        found = self.entry_in(start, end)
        if found:
            entry, hit = found
            is_person = any(hit.text.replace("’", "'").lower() == p.lower() for p in entry.people)
            return entry.canonical, entry.kind == "media", is_person
        plow = _caseless_lower(phrase)
        if len(phrase.split()) > MAX_SOURCE_WORDS or (
                _CLAIM_WORDS_RE.search(phrase) if plow is None else _CLAIM_WORDS_LOW_RE.search(plow)):
            # A whole clause before "said" with no comma: only a name at its end can be the speaker.
            tail = _TAIL_NAME_RE.search(phrase)
            if tail and len(tail.group(1).split()) <= 4 and not _CLAIM_WORDS_RE.search(tail.group(1)):
                name = _person_or_org_name(tail.group(1))
                if name:
                    return name, False, " " in name
            generic = _GENERIC_BODY_TAIL_RE.search(phrase)
            if generic:  # "the dozens of people the authorities (believe are missing)"
                return generic.group(1).lower(), False, False
            return None, False, False
        low = " ".join(phrase.lower().split())
        if low in ("we", "i", "you", "us", "me", "one", "someone", "nobody", "everyone", "there"):
            return None, False, False
        bare = _LEADING_ARTICLE_RE.sub("", low)
        if low in _PRONOUN_SOURCES or bare in ("same source", "source", "same sources", "sources") and low.startswith("the"):
            if low in ("he", "she"):
                return self.last_person, False, True
            return self.last_source, False, False
        if plow is None:
            coref = _COREF_RE.search(phrase)
        else:  # the twin finds where; _COREF_RE's match there is the one search gives
            at = _COREF_LOW_RE.search(plow)
            coref = None if at is None else _COREF_RE.match(phrase, at.start())
        if coref and coref.start() <= 2 and not phrase[coref.end():].strip(" '’s"):
            key = " ".join(coref.group("phrase").lower().replace(".", "").split())
            kinds = _coref_kinds(key)
            keyword = (coref.group("ministry_kind") or "").lower() or None
            if keyword in ("defense",):
                keyword = "defence"
            entry = self.by_kind(kinds, start, keyword) if kinds else None
            if entry is not None:
                return entry.canonical, entry.kind == "media", False
            hit = self.hit_in(start, end)
            if hit is not None:
                return _normalise_source(hit.text), False, False
            if (self.last_source and self.last_source[0].isupper() and self.last_source != self.last_person
                    and kinds & _ORG_KINDS):
                return self.last_source, False, False  # "the aid group": the organisation last quoted
            return _normalise_source(coref.group("phrase")), False, False
        figures_by = _FIGURES_BY_RE.match(phrase)
        if figures_by:  # "estimates by monitoring groups" are the groups' figures
            offset = self.text.find(figures_by.group(1), start)
            if offset >= 0:
                return self.resolve_phrase(offset, offset + len(figures_by.group(1)))
        head_of = _HEAD_OF_RE.match(phrase)
        if head_of:  # "the head of the national disaster agency" speaks for the agency
            org = _BODY_TAIL_RE.split(head_of.group(1), maxsplit=1)[0]  # "the Red Crescent in Benghazi Kais F."
            offset = self.text.find(org, start)
            if offset >= 0:
                return self.resolve_phrase(offset, offset + len(org))
        hit = self.hit_in(start, end)
        if hit is not None:  # an ambiguous alias ("the health ministry") with no single owner here
            return _normalise_source(hit.text), False, False
        name = _person_or_org_name(phrase)
        if name:
            return name, False, " " in name and not name.isupper()
        words = _WORDS_RE.findall(low)
        if words and words[-1] in GENERIC_SOURCES and len(words) <= 4:
            return GENERIC_SOURCES[words[-1]], False, False
        head = _PHRASE_TAIL_RE.split(phrase, maxsplit=1)[0]
        return _descriptive_source(head), False, False

    def local_government(self, phrase: str, pos: int) -> str | None:
        """One name for the government of an administrative unit the article names ("Ishikawa Prefecture"):
        "Ishikawa officials", "the prefectural government", "Ishikawa authorities" -> "Ishikawa prefecture"."""
        if not phrase.endswith(_GOVERNMENT_ENDINGS):
            return None
        by_adjective = _UNIT_GOVERNMENT_RE.match(phrase)
        by_name = None if by_adjective else _NAMED_GOVERNMENT_RE.match(phrase)
        if not (by_adjective or by_name):
            return None
        if self._units is None:
            self._units = []
            for m in _ADMIN_UNIT_RE.finditer(self.text):
                name = m.group("name") or m.group("name2")
                noun = (m.group("noun") or m.group("noun2")).lower().rstrip(".")
                noun = _UNIT_ABBREVIATIONS.get(noun, noun)
                if _clean_place(name):
                    self._units.append((m.start(), _clean_place(name), noun))
        if by_adjective:
            noun = _UNIT_ADJECTIVES[by_adjective.group("adj").lower()]
            named = [(p, name) for p, name, n in self._units if n == noun]
            if not named:
                return None
            before = [name for p, name in named if p < pos]
            return f"{(before or [named[0][1]])[-1]} {noun}"
        name = _clean_place(by_name.group("name"))
        return next((f"{name} {n}" for _, unit, n in self._units if unit == name), None)

    # -- places ---------------------------------------------------------------------------------
    def places(self) -> list[tuple[int, str]]:
        """(position, name) of every settlement the article names as such, in text order."""
        if self._places is None:
            found: list[tuple[int, str]] = []
            text = self.text
            rev = text[::-1]
            # Where each pattern's first words or keyword match, from one list of where their nouns start.
            keys = _literal_starts(_PLACE_KEYS, text)
            for m in _finditer_at(SETTLEMENT_OF_RE, [p for p in keys if _SETTLEMENT_OF_START_RE.match(text, p)], text):
                found.append((m.start("name"), m.group("name")))
                for extra in _NAME_RE.finditer(m.group("more") or ""):
                    found.append((m.start("more") + extra.start(), extra.group()))
            camp_keys = [p for p in keys if NAME_SETTLEMENT.keyword.match(text, p)]
            for m in _anchored_finditer(NAME_SETTLEMENT, text, rev, camp_keys):
                found.append((m.start("name"), m.group("name")))
            for m in _finditer_at(RESIDENTS_OF_RE, [p for p in keys if _RESIDENTS_OF_START_RE.match(text, p)], text):
                found.append((m.start("name"), m.group("name")))
            town_keys = [p for p in keys if TOWN_APPOSITIVE.keyword.match(text, p)]
            for m in _anchored_finditer(TOWN_APPOSITIVE, text, rev, town_keys):
                found.append((m.start("name"), m.group("name")))
            cleaned = []
            for pos, name in found:
                name = _clean_place(name)
                if name:
                    cleaned.append((pos, name))
            cleaned.sort()
            self._places = cleaned
            self._place_names = {name for _, name in cleaned}
        return self._places

    def is_settlement(self, name: str) -> bool:
        """True when the article names `name` as a town, village, city or camp somewhere."""
        if name.endswith(" City"):  # (the places are not listed for it)
            return True
        self.places()
        return name in (self._place_names or set())

    def place_before(self, pos: int, para_start: int) -> str | None:
        """The last settlement named between the paragraph start and pos."""
        best = None
        for p, name in self.places():
            if para_start <= p < pos:
                best = name
            elif p >= pos:
                break
        return best


_ROLE = (r"(?:spokes(?:man|woman|person)|secretary[- ]general|head|chief|director(?:[- ]general)?|president|"
         r"chairman|chairwoman|chair|coordinator|commissioner|official|representative)")
# A person named with the body they speak for: the body is the source ("one body, one name").
_SPEAKS_FOR_RE = re.compile(
    rf"[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){{0,4}},\s+(?:(?:the|a|an|its)\s+)?(?:[\w-]+\s+){{0,2}}?{_ROLE}\s+"
    rf"(?:of|for|at|with)\s+(?P<org>(?:the\s+)?[\w'’ -]+)$"
    rf"|[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){{0,4}},\s+(?:the\s+|a\s+)?(?P<org2>[\w -]+?)['’]s?\s+(?:[\w-]+\s+)?{_ROLE}$",
    re.IGNORECASE)
_BODY_TAIL_RE = re.compile(r"\s+(?:in|at|on|based|who|which)\s+|\s*,")
# A subordinate clause's opening before its subject: "a day after authorities say", "where officials confirmed".
_SUBORDINATE_LEAD_RE = re.compile(
    r"(?:(?:a|one|two|three|several|hours?|days?|weeks?|moments?|shortly|soon|just|even)\s+)*"
    r"(?:after|before|where|when|while|as|since|once|until|whereas)\s+(?=\S)", re.IGNORECASE)
# Phrases that cannot be the subject of a speech verb: a prepositional phrase, an adverb, an activity.
_NOT_A_SUBJECT_RE = re.compile(
    r"(?:with|among|amid|including|despite)\s"
    r"|(?:later|earlier|also|then|now|previously|separately|meanwhile|however|update|statement|statements|"
    r"citing|quoting|culture|search)$"
    r"|(?:search|rescue|recovery|relief)\s+(?:and\s+\w+\s+)?(?:efforts?|operations?|work)\b", re.IGNORECASE)
# ("regional" and "district" are left alone: they as often mean the area a story covers as a named unit.)
_UNIT_ADJECTIVES = {"prefectural": "prefecture", "provincial": "province", "county": "county",
                    "oblast": "oblast", "governorate": "governorate"}
_UNIT_NOUNS = "prefecture|province|region|county|district|oblast|governorate"
_UNIT_ABBREVIATIONS = {"pref": "prefecture", "prov": "province"}
_GOVERNMENT_NOUNS = r"(?:government|authorities|officials|administration|office)"
_GOVERNMENT_ENDINGS = ("government", "authorities", "officials", "administration", "office")
_UNIT_GOVERNMENT_RE = re.compile(
    rf"(?:the\s+)?(?P<adj>{'|'.join(_UNIT_ADJECTIVES)})\s+{_GOVERNMENT_NOUNS}$", re.IGNORECASE)
_NAMED_GOVERNMENT_RE = re.compile(rf"(?:the\s+)?(?P<name>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?)\s+{_GOVERNMENT_NOUNS}$")
_ADMIN_UNIT_RE = re.compile(
    rf"(?P<name>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?)\s+(?P<noun>(?i:{_UNIT_NOUNS})\b|Pref\.|Prov\.)"
    rf"|\b(?P<noun2>(?i:{_UNIT_NOUNS}))\s+of\s+(?P<name2>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?)")
_GENERIC_BODY_TAIL_RE = re.compile(r"\s(?:the|local|regional)\s+(authorities|officials|police|rescuers)$", re.IGNORECASE)
_HEAD_OF_RE = re.compile(
    r"(?:the\s+|a\s+|an\s+)?(?:head|chief|director|director-general|spokes(?:man|woman|person)|president|"
    r"secretary[- ]general|founder|commissioner|coordinator|leader|chairman)\s+(?:of|for|at)\s+(.+)$", re.IGNORECASE)


_FIGURES_FROM_RE = re.compile(r"\s(?:from|by|of|compiled\s+by)\s")
_FIGURES_BY_RE = re.compile(
    r"(?:the\s+|an?\s+)?(?:[\w-]+\s+){0,2}?(?:estimates?|figures?|data|"
    r"tally|tallies|count|statistics|numbers|reports?|records?|documentation|statements?|updates?|releases?|"
    r"bulletins?|communiqu[eé]s?|announcements?|briefings?)\s+(?:by|from|of|compiled\s+by|issued\s+by)\s+(.+)$",
    re.IGNORECASE)


def _has_keyword(entry: SourceEntry, keyword: str | None) -> bool:
    """True when the entry's names contain the keyword ("health" for "the health ministry"), or no keyword."""
    return keyword is None or keyword in (entry.name + " " + " ".join(entry.aliases)).lower()


def _coref_kinds(key: str) -> frozenset:
    """The source kinds a generic phrase ("war monitor", "the NGO") may refer to."""
    if key in COREF_KINDS:
        return COREF_KINDS[key]
    if "monitor" in key:
        return COREF_KINDS["monitor"]
    if key.endswith("ministry"):
        return COREF_KINDS["ministry"]
    if "civil defen" in key or key.startswith(("rescue", "emergency")):
        return COREF_KINDS["civil defence"]
    if key.endswith(("agency", "body", "office")) and key.startswith(("un ", "united nations")):
        return COREF_KINDS["un agency"]
    if key.endswith("agency"):
        return COREF_KINDS["agency"]
    if "rights group" in key:
        return COREF_KINDS["rights group"]
    if key.endswith("charity"):
        return COREF_KINDS["charity"]
    if key.startswith("non-governmental"):
        return COREF_KINDS["ngo"]
    for word, kinds in COREF_KINDS.items():
        if key.endswith(word):
            return kinds
    return frozenset()


def _normalise_source(phrase: str) -> str:
    """A generic phrase as a source name: no article, lower-case common words ("war monitor")."""
    words = phrase.replace("’", "'").split()
    while words and words[0].lower() in ("the", "a", "an", "another", "that", "this"):
        words = words[1:]
    out = [w.lower() if w.lower() in COMMON_FIRST or w.islower() or (i == 0 and w.lower() in GENERIC_SOURCES)
           else w for i, w in enumerate(words)]
    if out and out[0][0].isupper() and words[0].lower() in COMMON_FIRST:
        out[0] = out[0].lower()
    return " ".join(out)


_NAME_WORD_RE = re.compile(r"^(?:[A-Z][\w'’.-]*|(?:al|el|bin|ibn|abu|de|van|von|der|da|di|le|la)(?:-[A-Z][\w'’-]*)?|of|for|and|the|&)$")


def _person_or_org_name(phrase: str) -> str | None:
    """The proper name in a source phrase ("regional governor Serhiy Lysak" -> "Serhiy Lysak"), or None."""
    office = _OFFICE_OF_RE.match(phrase)
    if office:  # "the mayor of the city Vitaliy Klychko" -> "mayor"
        title = office.group("office").lower()
        return f"{office.group('place')} {title}" if office.group("place") else title
    words = phrase.replace("’", "'").split()
    while words and words[0].lower() in ("the", "a", "an"):
        words = words[1:]
    if not words or any(ch.isdigit() for ch in phrase):
        return None
    titled = [k for k, w in enumerate(words) if w.lower().strip(",") in TITLE_WORDS and w[0].isupper()]
    if titled and len(words) - titled[-1] - 1 >= 2 and all(_NAME_WORD_RE.match(w) for w in words[titled[-1] + 1:]):
        if words[titled[-1]].lower() in OFFICES:  # "Kyiv Mayor Vitali Klitschko" -> "Kyiv mayor", however spelt
            return " ".join(words[:titled[-1]] + [words[titled[-1]].lower()])
        words = words[titled[-1] + 1:]  # "regional governor Serhiy Lysak" -> the name
    if all(_NAME_WORD_RE.match(w) for w in words) and words[0][0].isupper() and words[-1][0].isupper():
        if (words[0].lower() in COMMON_FIRST or words[0].lower() in GENERIC_SOURCES) and (
                len(words) < 2 or not all(w[0].isupper() for w in words if w.lower() not in ("of", "for", "and", "the"))):
            return None
        if words[-1].endswith("'s"):
            return None
        return " ".join(words)
    # A title before a name: "police officer Abdikadir Hassan".
    tail = []
    for w in reversed(words):
        if _NAME_WORD_RE.match(w) and w[0].isupper():
            tail.append(w)
        else:
            break
    tail.reverse()
    if len(tail) >= 2 and len(tail) < len(words):
        before = words[len(words) - len(tail) - 1].lower().strip(",")
        if before in TITLE_WORDS or before.endswith("'s") is False and before in TITLE_WORDS:
            return " ".join(tail)
        if before in TITLE_WORDS or before.endswith(("man", "woman", "person", "or", "er", "ist", "ent")):
            return " ".join(tail)
    return None


_ANAPHORIC_POSSESSIVES = {"country's", "city's", "enclave's", "territory's", "region's", "state's",
                          "province's", "town's", "nation's", "island's", "area's", "kingdom's"}


def _descriptive_source(phrase: str) -> str | None:
    """A source phrase that names no one in particular, normalised ("Other Syrian sources" -> "other Syrian sources")."""
    words = phrase.replace("’", "'").split()
    while words and (words[0].lower() in ("the", "a", "an", "some", "one", "two", "three", "several")
                     or words[0].lower() in _ANAPHORIC_POSSESSIVES):
        words = words[1:]
    if not words or len(words) > MAX_SOURCE_WORDS or any(ch.isdigit() for ch in phrase):
        return None
    if any(w.lower().strip(",.") in MEASURE_WORDS or w.lower() in AUX for w in words):
        return None
    if words[-1].lower() in DETERMINERS or words[-1].lower() in ("and", "of", "to", "in"):
        return None
    if words[0].lower().endswith("ing") or any(
            _finite_verb(_Token(0, 0, w, w.lower().strip(",.'’"), -1)) for w in words):
        return None  # a clause ("reducing the world population"), not a name
    if words[0].lower() in COMMON_FIRST:
        words[0] = words[0].lower()
    return " ".join(words)


def _clean_place(name: str) -> str | None:
    """A place name trimmed of leading articles, or None if it is no settlement (a country, a weekday)."""
    words = name.split()
    while words and words[0].lower() in NOT_PLACES:
        words = words[1:]
    if not words:
        return None
    if words[0].lower() in WEEKDAYS or words[0].lower() in MONTHS:
        return None
    if words[-1].endswith(("'s", "’s")):
        return None
    joined = " ".join(words)
    if joined.lower() in COUNTRIES:
        return None
    return joined


def _attributions(ctx: _ArticleContext, sent: _Sentence) -> list[_Attribution]:
    """Who the sentence says is speaking: "according to X", "X said", "said X", "reported by X"."""
    cached = ctx.attributions.get(sent.start)
    if cached is not None:
        return cached
    text, base = sent.text, sent.start
    found: list[_Attribution] = []
    low = _caseless_lower(text)  # None: the IGNORECASE patterns run on the text itself
    if not (ATTRIBUTION_HINT_RE.search(text) if low is None
            else _search_from(_ATTRIBUTION_HINT_LOW_RE, _ATTRIBUTION_HINT_START_RE, low)):
        ctx.attributions[sent.start] = found
        return found

    def add(np_start: int, np_end: int, verb_start: int, verb_end: int) -> bool:
        if np_end <= np_start:
            return False
        source, media, person = ctx.resolve_phrase(base + np_start, base + np_end)
        if source:
            span = (min(np_start, verb_start), max(np_end, verb_end))
            raw = text[np_start:np_end].strip(" ,.;:")
            found.append(_Attribution(base + span[0], base + span[1], source, raw, media, person))
        return bool(source)

    taken: list[tuple[int, int]] = []
    for regex, twin, first in ((ACCORDING_RE, _ACCORDING_LOW_RE, _ACCORDING_START_RE),
                               (REPORTED_BY_RE, _REPORTED_BY_LOW_RE, _REPORTED_BY_START_RE)):
        for m in (regex.finditer(text) if low is None else _finditer_from(twin, first, low)):  # only offsets are read
            np_start = m.end()
            np_end = _np_end(text, np_start)
            more = _FIGURES_FROM_RE.match(text, np_end)
            if more and _FIGURES_BY_RE.match(text[np_start:np_end] + " of x"):
                np_end = _np_end(text, more.end())  # "according to the latest figures from the ministry"
            np_start, np_end = _appositive_after(text, np_start, np_end)
            add(np_start, np_end, m.start(), m.end())
            taken.append((m.start(), np_end))
    cited_at: list[int] = []
    for m in (CITING_RE.finditer(text) if low is None else _finditer_from(_CITING_LOW_RE, _CITING_START_RE, low)):
        np_start = m.end()
        np_end = _np_end(text, np_start)
        more = _FIGURES_FROM_RE.match(text, np_end)
        if more and _FIGURES_BY_RE.match(text[np_start:np_end] + " of x"):
            np_end = _np_end(text, more.end())  # "citing a statement from the interior ministry"
        phrase = text[np_start:np_end]
        if ctx.entry_in(base + np_start, base + np_end) or _FIGURES_BY_RE.match(phrase) or _looks_like_name(phrase):
            if add(np_start, np_end, m.start(), m.end()):
                cited_at.append(m.start())
    for m in _finditer_from(SPEECH_RE, _SPEECH_START_RE, text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        verb = m.group()
        after = text[m.end():m.end() + 40]
        before = text[max(0, m.start() - 20):m.start()].lower()
        if verb in ("reported", "reports", "claimed", "claims", "put", "puts", "confirmed", "counted", "recorded",
                    "estimated", "documented") and _NOT_ATTRIBUTION_AFTER_RE.match(after):
            continue
        if verb in ("claimed", "claims") and not _CLAIMED_THAT_RE.match(after):
            continue  # "claimed 18 lives", "claimed responsibility"
        if verb in ("put", "puts") and not _PUT_TOLL_RE.match(after):
            continue
        if verb in _TOLL_CHANGE_VERBS and not (_PUT_TOLL_RE.match(after) or _REVISED_IT_RE.match(after)):
            continue
        if verb in ("gave", "gives") and not _GAVE_FIGURE_RE.match(text, m.end()):
            continue
        if verb in ("released", "releases") and not _RELEASED_WHAT_RE.match(text, m.end()):
            continue
        if _PASSIVE_BEFORE_RE.search(before) and verb != "told":
            continue
        if _ADJECTIVAL_BEFORE_RE.search(before) or before.rstrip()[-1:].isdigit():
            continue  # "an estimated 450 million", "the reported toll", "139 reported cases"
        if verb == "said" and _SAID_TO_BE_RE.match(after):
            continue
        subject = _subject_before(text, m.start())
        if subject and add(subject[0], subject[1], m.start(), m.end()):
            continue
        inverted = _subject_after(text, m.end())
        if inverted:
            add(inverted[0], inverted[1], m.start(), m.end())
    found.sort(key=lambda a: a.start)
    for at in cited_at:  # "Moroccan state TV said citing a statement from X", "Paralel.Az reports citing Y": a relay
        found = [a._replace(media=True) if a.end <= base + at and base + at - a.end <= 3 else a for a in found]
    for att in found:
        if att.source and not att.media:
            ctx.last_source = att.source
            if att.person:
                ctx.last_person = att.source
    ctx.attributions[sent.start] = found
    return found


def _np_end(text: str, start: int) -> int:
    """Where the noun phrase starting at `start` ends (a comma, a time phrase, a clause)."""
    m = _NP_END_RE.search(text, start)
    return m.start() if m else len(text)


def _appositive_after(text: str, start: int, end: int) -> tuple[int, int]:
    """For "the U.S. envoy for Sudan, Tom Perriello": the span of the name that follows, if one does."""
    rest = text[end:]
    m = _APPOSITIVE_NAME_RE.match(rest)
    if m and len(m.group(1).split()) >= 2 and not m.group(1).split()[0] in ("The", "A", "An"):
        phrase = text[start:end].lower()
        if any(w in phrase.split() for w in TITLE_WORDS) or phrase.split()[-1:] and phrase.split()[-1] in TITLE_WORDS:
            return end + m.start(1), end + m.end(1)
    return start, end


def _subject_before(text: str, verb_start: int) -> tuple[int, int] | None:
    """The span of the speaker before a speech verb ("Rami Abdulrahman of SOHR told"), or None."""
    segments = []
    pos = 0
    for brk in _SEGMENT_SPLIT_RE.finditer(text, 0, verb_start):
        segments.append((pos, brk.start()))
        pos = brk.end()
    segments.append((pos, verb_start))
    # Only the last three segments that are not blank are read.
    kept: list[tuple[int, int]] = []
    for a, b in reversed(segments):
        if text[a:b].strip():
            kept.append((a, b))
            if len(kept) == 3:
                break
    segments = kept[::-1]
    # "the Libyan National Army (LNA), its spokesman, Ahmad Mismari, said": the body "its" stands for.
    if len(segments) == 3 and _ITS_ROLE_RE.fullmatch(text[segments[1][0]:segments[1][1]].strip()) \
            and _looks_like_name(text[segments[2][0]:segments[2][1]].strip()):
        pa, pb = _trim_span(text, *segments[0])
        tail = _TAIL_NAME_RE.search(text[pa:pb])
        if tail:
            return pa + tail.start(1), pa + tail.end(1)
    segments = segments[-2:]
    if not segments:
        return None
    a, b = _trim_span(text, *segments[-1])
    if b <= a:
        return None
    seg = text[a:b]
    # "the Observatory, which said": a relative pronoun speaks for the noun phrase before it.
    if len(segments) >= 2 and _RELATIVE_RE.match(seg):
        pa, pb = _trim_span(text, *segments[-2])
        return (pa, pb) if pb > pa else None
    # "A spokesman for the Kurdish Red Crescent, Jamal Ahmed, said": the organisation speaks.
    if len(segments) >= 2 and _looks_like_name(seg):
        pa, pb = _trim_span(text, *segments[-2])
        head = _HEAD_OF_RE.search(text, pa, pb)
        if head and (head.start() == pa or text[head.start() - 1].isspace()):
            return head.start(), b
    # "Ali Sheha, a 57-year-old resident of Baniyas ..., said": the name before the appositive.
    if len(segments) >= 2 and _APPOSITIVE_RE.match(seg):
        pa, pb = _trim_span(text, *segments[-2])
        prev = text[pa:pb]
        if prev and _looks_like_name(prev):
            return pa, b if _has_org_word(seg) else pb
    return a, b


_RELATIVE_RE = re.compile(r"(?:which|who)\b", re.IGNORECASE)
_ITS_ROLE_RE = re.compile(r"(?:its|their)\s+(?:[\w-]+\s+)?(?:spokes(?:man|woman|person)|head|chief|director|president|"
                          r"secretary[- ]general|chairman|commander|official)", re.IGNORECASE)
_ROLE_APPOSITIVE_RE = re.compile(
    r",\s+(?:the\s+|a\s+|an\s+)?(?:[\w-]+\s+){0,2}?(?:spokes(?:man|woman|person)|secretary[- ]general|head|chief|"
    r"director|president|chairman|chairwoman|coordinator|commissioner|official|representative)\s+(?:of|for|at)\s+"
    r"(?:the\s+)?[A-Z][\w'’-]*(?:\s+(?:(?:of|for|and|the)\s+)*[A-Z][\w'’-]*)*")
_APPOSITIVE_RE = re.compile(
    r"(?:(?:a|an|the)\s+[a-z0-9]|(?:who|whose|which|based|speaking|citing|quoted|himself|herself)\b"
    r"|(?:[a-z-]+\s+){1,3}(?:of|for|at|in)\b|[a-z]+-based\b|[\w]+-year-old\b)")


# Words after "said" that do not start its speaker ("said on Monday", "said that", "told reporters").
_NOT_INVERTED_SUBJECTS = {
    "that", "on", "in", "by", "for", "with", "at", "it", "they", "he", "she", "there", "to", "this", "we", "i",
    "you", "so", "earlier", "later", "late", "early", "last", "yesterday", "today", "reporters", "journalists",
    "him", "her", "them", "us", "me", *WEEKDAYS}


def _subject_after(text: str, verb_end: int) -> tuple[int, int] | None:
    """The span of the speaker after an inverted speech verb ("..., said the ministry"), or None."""
    m = _INVERTED_SUBJECT_RE.match(text, verb_end)
    if not m:
        return None
    phrase = m.group(1)
    if phrase.split()[0].lower() in _NOT_INVERTED_SUBJECTS or _NOT_A_SPEAKER_RE.search(phrase):
        return None
    role = _ROLE_APPOSITIVE_RE.match(text, m.end(1))
    if role and _looks_like_name(phrase):  # "said Abdul Rayan, a spokesman at the Ministry of X": the ministry
        return m.start(1), role.end()
    return m.start(1), m.end(1)


def _trim_span(text: str, a: int, b: int) -> tuple[int, int]:
    """A segment without surrounding space, leading conjunctions and trailing times or auxiliaries."""
    seg = text[a:b]
    lead = _LEADING_CONJ_RE.match(seg)
    a += lead.end()
    seg = text[a:b]
    low = _caseless_lower(seg)
    trail = _TRAILING_TIME_RE.search(seg) if low is None else _TRAILING_TIME_LOW_RE.search(low)
    if trail:
        b = a + trail.start()
    seg = text[a:b]
    b = a + len(seg.rstrip())
    return a, b


def _looks_like_name(phrase: str) -> bool:
    """True for a short capitalised name ("Ali Sheha", "The Syrian Observatory for Human Rights")."""
    words = phrase.split()
    if not words or len(words) > 8 or words[0].lower() in NOT_PLACES:
        return words[:1] == ["The"] and 1 < len(words) <= 8 and _looks_like_name(" ".join(words[1:]))
    return bool(words) and all(_NAME_WORD_RE.match(w) for w in words) and words[0][0].isupper()


def _has_org_word(phrase: str) -> bool:
    """True when an appositive names the organisation a person speaks for."""
    return bool(_ORG_WORD_RE.search(phrase))


# ----------------------------------------------------------------------------------------------
# Periods
# ----------------------------------------------------------------------------------------------
def _periods(text: str) -> list[tuple[int, int, re.Match]]:
    """Time phrases of a sentence: (start, end, match)."""
    low = _caseless_lower(text)
    matches = PERIOD_RE.finditer(text) if low is None else _finditer_from(PERIOD_RE, _PERIOD_START_RE, text, low)
    return [(m.start(), m.end(), m) for m in matches]


def _resolve_period(m: re.Match, published: datetime | None) -> datetime | None:
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
        n = int(raw) if raw.isdigit() else _WORD_NUMBERS_SMALL.get(raw, 1)
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


# ----------------------------------------------------------------------------------------------
# Extraction
# ----------------------------------------------------------------------------------------------
def extract_claims(text: str, published_at: datetime | None = None,
                   sources: SourceTable | None = None) -> list[ClaimMention]:
    """Every casualty claim in an article's text, in text order."""
    if not isinstance(text, str):
        return []
    low = text.lower()
    if NUMBER_HINT_RE.search(low) is None:
        return []
    # Casualty words are rarer than number hints: listed once for the whole article, they say which sentences
    # need the (slower) number hint looked for at all.
    casualty_at = _casualty_starts(low)
    if not casualty_at:
        return []
    # The hints are looked for in the lower-cased article, one sentence at a time; a few characters change
    # length when lower-cased: then offsets differ and each sentence is lower-cased on its own.
    aligned = len(low) == len(text)
    if published_at is not None and published_at.tzinfo is None:
        published_at = published_at.replace(tzinfo=timezone.utc)
    sentences = _split_sentences(text)

    def has(low_regex: re.Pattern, regex: re.Pattern, sent: _Sentence, first: re.Pattern | None = None) -> bool:
        if not aligned:
            return regex.search(sent.text.lower()) is not None
        return _hint_in(low_regex, low, sent.start, sent.end, first)

    def has_casualty(sent: _Sentence) -> bool:
        if not aligned:
            return CASUALTY_HINT_RE.search(sent.text.lower()) is not None
        return _starts_in(casualty_at, sent.start, sent.end)

    work: list[tuple[int, list[_Candidate], list[_Token], list[_Mention]]] = []
    for si, sent in enumerate(sentences):
        if sent.repeated:
            continue
        if not has_casualty(sent):
            # "It said 12 of them were children": a part of the figure just given needs no casualty word.
            follows_claim = work and work[-1][0] == si - 1
            if not (follows_claim and SUBCOUNT_HINT_RE.search(sent.text)):
                continue
        if not has(NUMBER_HINT_RE, NUMBER_HINT_RE, sent):
            continue
        candidates, tokens, mentions = _sentence_candidates(sent)
        if candidates:
            work.append((si, candidates, tokens, mentions))
    if not work:
        return []
    ctx = _ArticleContext(text, sentences, sources or _default_sources())
    # Attributions in text order (so "it said" finds its antecedent), from a few sentences before the
    # first claim to just after the last one.
    first, last = max(0, work[0][0] - ATTRIBUTION_LOOKBACK), min(len(sentences), work[-1][0] + 3)
    for sent in sentences[first:last]:
        if has(_ATTRIBUTION_HINT_LOW_RE, ATTRIBUTION_HINT_RE, sent, _ATTRIBUTION_HINT_START_RE):
            _attributions(ctx, sent)
    claims: list[ClaimMention] = []
    now_year: list[int | None] = []  # the article's year, worked out the first time a figure needs it
    sentence_of: list[int] = []  # the sentence index of each claim made so far
    para_start: dict[int, int] = {}
    for sent in sentences:
        para_start.setdefault(sent.para, sent.start)
    for si, candidates, tokens, mentions in work:
        sent = sentences[si]
        attributions = ctx.attributions.get(sent.start) or _attributions(ctx, sent)
        periods = _periods(sent.text)
        recent = []  # claims of the last few sentences, newest first: parents of "Among the dead were ..."
        for ci in range(len(claims) - 1, -1, -1):
            if si - sentence_of[ci] > SUBCOUNT_LOOKBACK or sentences[sentence_of[ci]].para < sent.para - 1:
                break
            recent.append(ci)
        made: list[ClaimMention | None] = [None] * len(candidates)
        adopted_from: dict[int, int] = {}  # candidate index -> index of the earlier claim it is part of
        for index in sorted(range(len(candidates)), key=lambda x: (candidates[x].parent >= 0, x)):  # parents first
            cand = candidates[index]
            parent = made[cand.parent] if 0 <= cand.parent < len(made) else None
            if cand.orphan and recent:
                ci = next((c for c in recent if claims[c].measure == cand.measure), recent[0])
                parent = claims[ci]
                adopted_from[index] = ci
            if parent is None and "pending" in (cand.measure, cand.group):
                if cand.measure == "pending":
                    continue
                cand = cand._replace(group="unspecified")
            elif parent is not None:
                cand = cand._replace(measure=parent.measure if cand.measure == "pending" else cand.measure,
                                     group=parent.group if cand.group == "pending" else cand.group)
            sibling = made[cand.sibling] if 0 <= cand.sibling < len(made) else None
            claim = _build_claim(ctx, sent, si, cand, attributions, periods, parent, sibling, published_at,
                                 para_start[sent.para])
            if claim is not None and sent.truncated and _runs_into_end(sent, cand):
                claim = None
            if claim is not None and _of_an_earlier_year(sent.text, cand, now_year, text, published_at):
                claim = None  # "Floods in Portugal in 1967 killed nearly 500 people": another event
            made[index] = claim
        for index, claim in enumerate(made):
            if claim is None:
                continue
            ci = adopted_from.get(index)
            if ci is not None and claim.source and claims[ci].source is None and sentence_of[ci] == si - 1:
                # "... killed at least 30 people. Among the dead were 12 children, the ministry said."
                claims[ci] = claims[ci]._replace(source=claim.source, source_text=claim.source_text)
            claims.append(claim)
            sentence_of.append(si)
    return _add_breakdowns(ctx, claims, sentence_of)


# ", at least 24 seriously" after a count of the injured: the seriously injured among them.
SEVERITY_SUBSET_RE = re.compile(
    r",\s*(?:(?:including|of\s+whom|with)\s+)?(?P<num>(?:(?:at\s+least|more\s+than|over|about|nearly|some)\s+)?"
    r"(?:\d{1,3}(?:,\d{3})+|\d+))\s+(?:of\s+them\s+)?(?:seriously|critically|severely|gravely|badly)\b"
    r"(?!\s+(?:injured|wounded|hurt|ill|damaged))", re.IGNORECASE)


def _severity_subsets(sent: _Sentence, own: Sequence[ClaimMention], items: Sequence[ClaimMention]) -> list[ClaimMention]:
    """The seriously injured counted after a count of the injured, as a claim of the injured (unspecified)."""
    injured = [c for c in own if c.measure == "injured"]
    out: list[ClaimMention] = []
    if not injured:
        return out
    taken = {c.char_start for c in (*own, *items)}
    for m in SEVERITY_SUBSET_RE.finditer(sent.text):
        a, b = m.span("num")
        parent = next((c for c in reversed(injured) if c.char_end - sent.start <= m.start()), None)
        number = NUMBER_RE.fullmatch(m.group("num"))
        parsed = _parse_match(number) if number else None
        if parent is None or parsed is None or sent.start + a in taken:
            continue
        low, high = values(parsed)
        out.append(parent._replace(number=parsed.number, number_high=parsed.number_high, qualifier=parsed.qualifier,
                                   value_low=low, value_high=high, group="unspecified", group_text=None,
                                   char_start=sent.start + a, char_end=sent.start + b))
    return out


# "raised to 94 from 92", "222, down from an earlier count of 242": the toll as it stood before.
EARLIER_FIGURE_RE = re.compile(
    r"[\s,]*(?:(?:up|down)\s+)?from\s+(?:(?:an?|the|its)\s+)?(?:(?:earlier|previous|initial|prior|first)\s+)?"
    r"(?:(?:count|figure|toll|tally|estimate|number|total)\s+(?:of\s+)?)?"
    r"(?P<num>(?:(?:at\s+least|more\s+than|about|nearly|some)\s+)?(?:\d{1,3}(?:,\d{3})+|\d+))(?![\w%]|[.,]\d)"
    r"(?!\s*(?:to|-|–)\s*\d)", re.IGNORECASE)
MAX_EARLIER_GAP = 40  # characters between a figure and the "from" of the figure it replaced


def _earlier_figures(sent: _Sentence, own: Sequence[ClaimMention], items: Sequence[ClaimMention]) -> list[ClaimMention]:
    """The earlier figure a new one replaced ("raised to 94 from 92"), as a claim of the same measure and group."""
    out: list[ClaimMention] = []
    taken = {c.char_start for c in (*own, *items)}
    text = sent.text
    for claim in own:
        if claim.number is None:
            continue
        end = claim.char_end - sent.start
        stop = text.find("from", end, end + MAX_EARLIER_GAP)
        if stop < 0 or _BREAKDOWN_GAP_STOP_RE.search(text, end, stop):
            continue
        m = EARLIER_FIGURE_RE.match(text, stop - (1 if stop and text[stop - 1] == " " else 0)) if text[end:stop].strip(
            " ,") in ("", "down", "up") or text[end:stop].strip(" ,").split()[-1:] in (["down"], ["up"]) else None
        if m is None:
            continue
        a, b = m.span("num")
        number = NUMBER_RE.fullmatch(m.group("num"))
        parsed = _parse_match(number) if number else None
        if parsed is None or sent.start + a in taken or parsed.number == claim.number:
            continue
        low, high = values(parsed)
        out.append(claim._replace(number=parsed.number, number_high=parsed.number_high, qualifier=parsed.qualifier,
                                  value_low=low, value_high=high, period_text=None, period_start=None,
                                  char_start=sent.start + a, char_end=sent.start + b))
    return out


def _add_breakdowns(ctx: "_ArticleContext", claims: list[ClaimMention], sentence_of: list[int]) -> list[ClaimMention]:
    """The claims with the items of their sentences' place breakdowns (and of the next sentences' that
    open with "Of these," or "Of the deaths,"), in text order."""
    if not claims:
        return claims
    sentences = ctx.sentences
    own: dict[int, list[ClaimMention]] = {}
    for claim, si in zip(claims, sentence_of):
        own.setdefault(si, []).append(claim)
    extra: list[ClaimMention] = []
    fixed: dict[int, ClaimMention] = {}
    near = set(sentence_of) | {k + d for k in sentence_of for d in (1, 2)}
    for si, sent in enumerate(sentences):
        if sent.repeated:
            continue
        mine = own.get(si, [])
        if not mine:
            lead = BREAKDOWN_LEAD_RE.match(sent.text)
            if lead is None or not (si in near or lead.group("noun") or lead.group("noun2")):
                continue
        before = next((own[k][0] for k in (si - 1, si - 2) if k in own), None)
        items, corrected = _breakdowns(ctx, si, mine, before)
        extra += items + _severity_subsets(sentences[si], mine, items) + _earlier_figures(sentences[si], mine, items)
        fixed.update(corrected)
    if not extra and not fixed:
        return claims
    claims = [fixed.get(c.char_start, c) for c in claims]
    return sorted(claims + extra, key=lambda c: c.char_start)


# ----------------------------------------------------------------------------------------------
# Breakdowns by place: "killed 2,012 people, 1,293 in Al Haouz, 452 in Taroudant"
# ----------------------------------------------------------------------------------------------
_PLACE_WORD = r"[A-Z][\w'’]*(?:-[A-Za-z][\w'’]*)*"
_BREAKDOWN_PLACE = rf"{_PLACE_WORD}(?:\s+{_PLACE_WORD}){{0,3}}"
_SMALL_NUMBER_WORDS = "|".join(sorted([w for w in WORD_VALUES if w != "zero"], key=len, reverse=True))
# One item of a breakdown: a count, what links it to a place, the place ("two each in A and B" is two).
BREAKDOWN_ITEM_RE = re.compile(rf"""
    (?<![\w.,$€£])(?P<num>\d{{1,3}}(?:,\d{{3}})+|\d+|(?i:{_SMALL_NUMBER_WORDS}))(?![\w%]|[.,]\d)
    (?:\s+(?i:others?|more|people|persons|deaths|dead|victims|bodies))?
    (?:\s+(?i:of\s+(?:those|the\s+people)\s+who\s+(?P<verb>died|were\s+killed|were\s+injured|were\s+hurt
                                                         |were\s+wounded|are\s+missing|were\s+missing)))?
    (?P<each>\s+each)?
    (?:\s+(?i:were|was|are|is|have\s+been|had\s+been))?
    (?:\s+(?i:located|reported|recorded|registered|counted|confirmed))?
    \s+(?i:in|at)\s+(?:(?i:the)\s+)?
    (?:(?i:cities|city|towns|town|villages|village|provinces|province|regions|region|prefecture|districts
          |district|municipality|municipalities)\s+of\s+)?
    (?:(?i:(?:south|north)?(?:east|west)?(?:ern)?|central|neighbou?ring|nearby)\s+)?
    (?P<place>{_BREAKDOWN_PLACE})(?:\s+and\s+(?P<more>{_BREAKDOWN_PLACE}))?
""", re.VERBOSE)
# "Of these, 69 were in Wajima", "Of the 72 deaths, ...", "The missing people include 121 in Wajima".
BREAKDOWN_LEAD_RE = re.compile(r"""
    ^\W*(?:(?:of|among)\s+(?:these|them|those|the\s+(?:[\d,]+\s+)?(?P<noun>deaths|dead|victims|fatalities|missing
                                                                 |injured|wounded))
         |the\s+(?P<noun2>missing|dead|injured|wounded|victims|deaths)(?:\s+people)?\s+(?:include|included|were))\b
""", re.IGNORECASE | re.VERBOSE)
_PLACE_SUFFIXES = frozenset({"City", "Province", "Prefecture", "Region", "District", "Governorate", "Town"})
_NOT_BREAKDOWN_PLACES = frozenset({"total", "all", "hospital", "hospitals"})
MAX_BREAKDOWN_GAP = 110  # characters between a figure and the next item of its breakdown
_BREAKDOWN_GAP_STOP_RE = re.compile(r"[;:]|\d|\b(?:but|while|whereas|although|compared|since|than)\b", re.IGNORECASE)
_OWN_VERB_BEFORE_RE = re.compile(
    r"\b(?:" + "|".join(sorted(ACTIVE_BEFORE, key=len, reverse=True)) + r")\s+(?:(?:at\s+least|more\s+than|over|about|"
    r"nearly|almost|some|another|a\s+further|an\s+estimated)\s+)?$", re.IGNORECASE)
_LEAD_MEASURES = {"deaths": "killed", "dead": "killed", "victims": "killed", "fatalities": "killed",
                  "missing": "missing", "injured": "injured", "wounded": "injured"}


def _breakdown_place(name: str) -> str | None:
    """A place of a breakdown item without "City"/"Province" after it, or None (a month, "The")."""
    words = name.split()
    while words and words[0].lower() in NOT_PLACES:
        words = words[1:]
    while len(words) > 1 and words[-1] in _PLACE_SUFFIXES:
        words = words[:-1]
    if not words or words[0].lower() in WEEKDAYS or words[0].lower() in MONTHS:
        return None
    if words[0].lower() in _NOT_BREAKDOWN_PLACES or words[-1].endswith(("'s", "’s")):
        return None
    joined = " ".join(words)
    return None if joined.lower() in COUNTRIES else joined  # a country is no incident's place


def _breakdowns(ctx: "_ArticleContext", si: int, own: Sequence[ClaimMention],
                before: ClaimMention | None) -> tuple[list[ClaimMention], dict[int, ClaimMention]]:
    """The items of the place breakdowns of a sentence: each a claim of the figure it breaks down (the
    sentence's figure before it, or for a lead such as "Of these," the previous sentence's), with its place.
    Also the sentence's claims corrected, by char_start: an item the grammar found takes its place, and the
    figure broken down loses a place it took from its items ("killed 500, 300 in A, 200 in B")."""
    sent = ctx.sentences[si]
    text = sent.text
    anchors = sorted(own, key=lambda c: c.char_start)
    lead = BREAKDOWN_LEAD_RE.match(text)
    lead_measure = None
    if lead:
        noun = (lead.group("noun") or lead.group("noun2") or "").lower()
        lead_measure = _LEAD_MEASURES.get(noun)
    out: list[ClaimMention] = []
    fixed: dict[int, ClaimMention] = {}
    broken_down: dict[int, tuple[ClaimMention, int, list[str]]] = {}  # figure -> (it, first item, places)
    last_end = None  # where the figure or item the next item continues ends (sentence offsets)
    parent: ClaimMention | None = None
    root: ClaimMention | None = None  # the figure the current list breaks down
    items_found: set[int] = set()
    k = 0
    for m in BREAKDOWN_ITEM_RE.finditer(text):
        a, b = m.span("num")
        while k < len(anchors) and anchors[k].char_end - sent.start <= a:
            if anchors[k].char_start not in items_found:  # (an item the grammar found continues its list)
                parent = root = anchors[k]
                last_end = anchors[k].char_end - sent.start
            k += 1
        if _OWN_VERB_BEFORE_RE.search(text, max(0, a - 40), a):
            continue  # "killed 12 and wounded 30 in A": a figure of its own, not a part of 12
        found = next((c for c in anchors if c.char_start - sent.start < b and a < c.char_end - sent.start), None)
        verb = (m.group("verb") or "").split()
        measure = None
        if parent is not None and last_end is not None and a - last_end <= MAX_BREAKDOWN_GAP \
                and not _BREAKDOWN_GAP_STOP_RE.search(text, last_end, a):
            template = parent
        elif lead is not None and last_end is None and (lead_measure or before is not None):
            template = before
            measure = lead_measure or (before.measure if before else None)
        elif verb:
            template = None
        else:
            continue  # (a figure the grammar found alone keeps the place the grammar gave it)
        places = [p for p in (_breakdown_place(x) for x in (m.group("place"),) + (
            (m.group("more"),) if m.group("each") and m.group("more") else ())) if p]
        if not places:
            continue
        if root is not None and template is parent:
            first = broken_down.get(root.char_start, (root, a, []))
            broken_down[root.char_start] = (root, first[1], first[2] + places)
        if found is not None:
            items_found.add(found.char_start)
            if found.location != places[0] and len(places) == 1:
                found = found._replace(scope="incident", location=places[0])
                fixed[found.char_start] = found
            parent, last_end = found, m.end()
            continue
        if verb:
            measure = MEASURE_WORDS.get(verb[-1], measure)
        measure = measure or (template.measure if template else None)
        parsed_value = parse_number(m.group("num"))
        if measure is None or parsed_value is None or parsed_value[0] is None:
            continue
        parsed = ParsedNumber(parsed_value[0], None, "exact", False, None)
        low, high = values(parsed)
        attributions = [x for x in (ctx.attributions.get(sent.start) or _attributions(ctx, sent)) if not x.media]
        if attributions:
            source, source_text = attributions[0].source, attributions[0].text
        elif template is not None:
            source, source_text = template.source, template.source_text
        else:
            source, source_text = _inherited_source(ctx, si)
        for location in places:
            out.append(ClaimMention(
                measure=measure, number=parsed.number, number_high=None, qualifier="exact", value_low=low,
                value_high=high, group=template.group if template else "total",
                group_text=template.group_text if template else None, source=source, source_text=source_text,
                scope="incident", location=location,
                period_text=template.period_text if template else None,
                period_start=template.period_start if template else None,
                sentence=text, char_start=sent.start + a, char_end=sent.start + b))
        parent, last_end = out[-1], m.end()
    for figure, first, places in broken_down.values():
        figure = fixed.get(figure.char_start, figure)
        own_part = text[figure.char_end - sent.start:first]
        if figure.location in places and figure.location not in own_part:
            fixed[figure.char_start] = figure._replace(scope="overall", location=None)
    return out, fixed

# Every match of a hint pattern is one word of at most this many characters (and the character after it).
_HINT_REACH = 32


def _hint_in(regex: re.Pattern, low: str, start: int, end: int, first: re.Pattern | None = None) -> bool:
    """True when a match of the hint pattern `regex` over the whole lower-cased article starts in [start, end).

    The search stops _HINT_REACH characters after `end`: far enough for any match that starts before
    `end` to end (and be checked for its word boundary) as in the whole text. A hint is one word, so no
    match starts inside another, and the first match from `start` is one the whole text has too. `first`:
    where `regex` can match, if it is faster to search (see `_search_from`).
    """
    endpos = min(len(low), end + _HINT_REACH)
    m = regex.search(low, start, endpos) if first is None else _search_from(regex, first, low, start, endpos)
    return m is not None and m.start() < end


def _hint_starts(regex: re.Pattern, low: str) -> list[int]:
    """Where the hint pattern `regex` matches in the lower-cased article, in order: every place `_hint_in`
    can find. A match is one word from its start (a hint begins at a word boundary and matches letters only),
    so one word holds at most one, and finditer, which goes on from the end of each match, misses none."""
    return [m.start() for m in regex.finditer(low)]


def _casualty_starts(low: str) -> list[int]:
    """`_hint_starts(CASUALTY_HINT_RE, low)` by str.find of its stems and words, each kept where a word
    starts (and, for the words, ends) as the pattern's boundaries want: the positions where it matches."""
    found = set()
    n = len(low)
    for stem in _CASUALTY_STEMS:
        at = low.find(stem)
        while at >= 0:
            if at == 0 or not (low[at - 1].isalnum() or low[at - 1] == "_"):  # \b before a letter
                found.add(at)
            at = low.find(stem, at + 1)
    for word in _CASUALTY_WORDS:
        at = low.find(word)
        while at >= 0:
            end = at + len(word)
            if (at == 0 or not (low[at - 1].isalnum() or low[at - 1] == "_")) and (
                    end == n or not (low[end].isalnum() or low[end] == "_")):
                found.add(at)
            at = low.find(word, at + 1)
    return sorted(found)


def _starts_in(starts: Sequence[int], start: int, end: int) -> bool:
    """True when one of the sorted positions `starts` lies in [start, end)."""
    k = bisect.bisect_left(starts, start)
    return k < len(starts) and starts[k] < end


_TIME_CLAUSE_RE = re.compile(r"\b(?:before|after|until|once)\s+(?:the|a|an|its|their)\b")
_CLAUSE_BREAK_RE = re.compile(r";|[”\"]|\b(?:while|but|whereas|although|though|and\s+\w+\s+(?:said|say|says))\b")


_YEAR_IN_TEXT_RE = re.compile(r"(?<![\w.,$€£-])(?:1[89]|20)\d\d(?![\w%]|[.,]\d)")
# A year that dates a toll still running is no other event: "since 2011", "the war that began in 2022".
_RUNNING_SINCE_RE = re.compile(
    r"(?:since|from|began|begun|started|starting|erupted|broke\s+out|launched)\s+(?:in\s+|early\s+|late\s+)?"
    r"(?:(?:january|february|march|april|may|june|july|august|september|october|november|december)\s+)?$", re.IGNORECASE)
_RUNNING_TOLL_RE = re.compile(
    r"\bsince\b|\b(?:has|have)\s+(?:now\s+|so\s+far\s+|also\s+)?(?:been\s+)?(?:killed|died|left|claimed|cost|wounded|"
    r"injured|risen|climbed|reached)\b", re.IGNORECASE)
OTHER_EVENT_REACH = 80  # characters around a figure in which an earlier year makes it another event's toll


def _article_year(text: str, published: datetime | None) -> int | None:
    """The year the article is written in: its publication's, else the latest year it mentions."""
    if published is not None:
        return published.year
    years = [int(m.group()) for m in _YEAR_IN_TEXT_RE.finditer(text)]
    return max(years) if years else None


def _of_an_earlier_year(sentence: str, cand: _Candidate, now_year: list[int | None], text: str,
                        published: datetime | None) -> bool:
    """True when the figure's clause dates it to a year before the article's ("the 209 who died in floods
    in Romania in 1970", "Romania's 1970 floods, which left 209 dead"), unless the toll runs since then.
    `now_year` caches the article's year (empty until a clause names a year)."""
    lo = max(sentence.rfind(";", 0, cand.start) + 1, cand.start - OTHER_EVENT_REACH)
    hi = sentence.find(";", cand.end)
    hi = min(len(sentence) if hi < 0 else hi, cand.end + OTHER_EVENT_REACH)
    if not _YEAR_IN_TEXT_RE.search(sentence, lo, hi):
        return False
    if not now_year:
        now_year.append(_article_year(text, published))
    if now_year[0] is None or _RUNNING_TOLL_RE.search(sentence, lo, hi):
        return False  # "have been killed since ...", "the war that followed has killed": a toll up to now
    for m in _YEAR_IN_TEXT_RE.finditer(sentence, lo, hi):
        if cand.start <= m.start() < cand.end:
            continue
        if int(m.group()) < now_year[0] and not _RUNNING_SINCE_RE.search(sentence, max(0, m.start() - 40), m.start()):
            return True
    return False


def _runs_into_end(sent: _Sentence, cand: _Candidate) -> bool:
    """True when a truncated sentence cuts the claim's noun phrase ("more than 300 Alawite...")."""
    return len(sent.text) - cand.end <= 20 and sent.text.rstrip().endswith(("...", "…"))


def _build_claim(ctx: _ArticleContext, sent: _Sentence, si: int, cand: _Candidate,
                 attributions: Sequence[_Attribution], periods: Sequence[tuple[int, int, re.Match]],
                 parent: ClaimMention | None, sibling: ClaimMention | None, published: datetime | None,
                 para_start: int) -> ClaimMention | None:
    """A ClaimMention for one candidate: its source, scope, location and period."""
    base = sent.start
    abs_start, abs_end = base + cand.start, base + cand.end
    measure = cand.measure
    if measure == "pending":
        measure = parent.measure if parent else None
        if measure is None:
            return None
    # Source: the nearest attribution in the sentence (media only when no one else speaks).
    source, source_text = None, None
    pool = [a for a in attributions if not a.media] or list(attributions)
    # "X said on Thursday before the death toll spiked from 95": a figure in a time clause after the
    # speech is the article's, not X's.
    pool = [a for a in pool if not (a.end <= abs_start and _TIME_CLAUSE_RE.search(ctx.text, a.end, abs_start))]
    if pool:
        def rank(a: _Attribution) -> tuple[int, int]:
            if a.start <= abs_start < a.end:
                return 0, 0
            if a.end <= abs_start:  # "X said N were killed" is X's figure, unless a clause intervenes
                direct = not _CLAUSE_BREAK_RE.search(ctx.text, a.end, abs_start)
                return (0 if direct else 1), abs_start - a.end
            return 1, a.start - abs_end
        best = min(pool, key=rank)
        source, source_text = best.source, best.text
    elif parent is not None:
        source, source_text = parent.source, parent.source_text
    elif sibling is not None:
        source, source_text = sibling.source, sibling.source_text
    else:
        source, source_text = _inherited_source(ctx, si)
    # Scope and location.
    location = _location(ctx, sent, cand)
    scope = "overall" if location is None else "incident"
    location = location or None  # "" is a named building: an incident with no place name
    if scope == "overall":
        window = sent.text[max(0, cand.start - 60):cand.end + 80]
        local = source in LOCAL_SOURCES or bool(cand.group_text and NEIGHBOUR_RE.search(cand.group_text))
        if INCIDENT_MARKER_RE.search(window) or (local and not cand.toll):
            scope = "incident"
            location = ctx.place_before(abs_start, para_start)
    if parent is not None and scope == "overall":
        scope, location = parent.scope, parent.location
    elif sibling is not None and scope == "overall":
        scope, location = sibling.scope, sibling.location
    # Period: the time phrase nearest the figure that is not the time of the statement.
    period_text, period_start = None, None
    best_dist = None
    for p_start, p_end, m in periods:
        if any(a.start - base <= p_start <= a.end - base + 12 for a in attributions):
            continue
        dist = 0 if cand.start <= p_start < cand.end else min(abs(p_start - cand.end), abs(cand.start - p_end))
        if best_dist is None or dist < best_dist:
            best_dist, period_text, period_start = dist, m.group(), _resolve_period(m, published)
            if m.group("rel") and m.group("rel").lower().split()[-1] in ("day", "before"):
                # "on Saturday ... killed the previous day": the day before the day the sentence names
                named = [_resolve_period(o, published) for _, _, o in periods if o.group("on_wd") or o.group("on_date")]
                if named and named[0] is not None:
                    period_start = named[0] - timedelta(days=1)
    if period_text is None and parent is not None:
        period_text, period_start = parent.period_text, parent.period_start
    parsed = cand.parsed
    low, high = values(parsed)
    return ClaimMention(
        measure=measure, number=parsed.number, number_high=parsed.number_high, qualifier=parsed.qualifier,
        value_low=low, value_high=high, group=cand.group, group_text=cand.group_text, source=source,
        source_text=source_text, scope=scope, location=location, period_text=period_text,
        period_start=period_start, sentence=sent.text, char_start=abs_start, char_end=abs_end)


def _inherited_source(ctx: _ArticleContext, si: int) -> tuple[str | None, str | None]:
    """The source of a sentence that names none: for a headline, the next lines'; any other sentence
    states its figure in the article's own voice (None), whoever the sentence before quoted."""
    sentences = ctx.sentences
    if not sentences[si].headline:
        return None, None
    for k in range(si + 1, min(si + 3, len(sentences))):
        atts = _attributions(ctx, sentences[k])
        pool = [a for a in atts if not a.media] or atts
        if pool:
            return pool[0].source, pool[0].text
    return None, None


def _location(ctx: _ArticleContext, sent: _Sentence, cand: _Candidate) -> str | None:
    """The settlement or site a claim is tied to: the nearest one named in its clause of the sentence."""
    text = sent.text
    # The clause: between semicolons, without the attribution ("Rami Abdulrahman of the Observatory").
    lo = text.rfind(";", 0, cand.start) + 1
    hi = text.find(";", cand.end)
    hi = len(text) if hi < 0 else hi
    blanks = [(a.start - sent.start, a.end - sent.start) for a in ctx.attributions.get(sent.start) or []]
    best, best_dist = None, None

    def consider(pos: int, name: str | None) -> None:
        nonlocal best, best_dist
        if any(a <= pos < b for a, b in blanks):
            return
        name = _clean_place(name) if name else None
        if not name:
            return
        if name.split()[-1].lower() in FACILITY_WORDS:
            name = ""  # "al-Ahli Arab Hospital": an incident, but the building is no place name
        dist = min(abs(pos - cand.start), abs(pos - cand.end))
        if best_dist is None or dist < best_dist:
            best, best_dist = name, dist

    def could_take(pos: int) -> bool:
        """False where consider(pos, ...) changes nothing: in an attribution, or no nearer than the best."""
        if any(a <= pos < b for a, b in blanks):
            return False
        return best_dist is None or min(abs(pos - cand.start), abs(pos - cand.end)) < best_dist

    stretch = text[lo:hi]
    # Figures of one clause share its searches.
    searched = ctx.clause_places.get((sent.start, lo, hi))
    if searched is None:
        settlements = _finditer_from(SETTLEMENT_OF_RE, _SETTLEMENT_OF_START_RE, stretch)
        settlements += _anchored_finditer(NAME_SETTLEMENT, stretch, stretch[::-1])
        searched = settlements, list(PLACE_PREP_RE.finditer(stretch)), _BACK_REFERENCE_RE.search(stretch)
        ctx.clause_places[(sent.start, lo, hi)] = searched
    settlements, after_prepositions, back = searched
    for m in settlements:
        consider(lo + m.start("name"), m.group("name"))
    if cand.toll:
        return best  # a toll is the event's unless a settlement is named for it
    if best is None:
        if back and not any(a <= lo + back.start() < b for a, b in blanks):
            named = ctx.place_before(sent.start + lo + back.start(), 0)
            if named:
                consider(lo + back.start(), named)  # "buried in mass graves in the city": the city named before
    for m in after_prepositions:
        after = stretch[m.end():m.end() + 20].lower().split()
        if after and after[0].strip(",.") in REGION_NOUNS:
            continue
        clean = _clean_place(m.group("name"))
        if not clean:
            continue
        before_words = [w.strip(",.").lower() for w in stretch[max(0, m.start() - 60):m.start()].split()[-6:]]
        next_word = after[0].strip(",.") if after else ""
        if next_word.isalpha() and next_word.islower() and (
                next_word in GROUP_WORDS or next_word in _ATTACK_NOUNS
                or (next_word.endswith("s") and not next_word.endswith("ss") and next_word not in SITE_NOUNS)):
            continue  # "Israeli strikes", "southern Israeli towns": an adjective, not a place
        site_after = next_word in SITE_NOUNS - _ATTACK_NOUNS - {"on", "hit", "struck", "fire"}
        pos = lo + m.start("name")
        # is_settlement lists the article's places (whole-text scans) on its first call: asked only where
        # consider could take the name.
        if m.group("alone") or site_after or any(w in SITE_NOUNS for w in before_words) or (
                could_take(pos) and ctx.is_settlement(clean)):
            consider(pos, clean)
    return best


# ----------------------------------------------------------------------------------------------
# Keys
# ----------------------------------------------------------------------------------------------
def _digest(*parts: object) -> str:
    """A short stable hash of the parts."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:HASH_CHARS]


def claim_key(event_id: str | None, measure: str, group: str, qualifier: str, number: int | None,
              number_high: int | None, source: str | None) -> str:
    """A stable hash of what a claim says: the same figure from the same source gives the same key."""
    return _digest("claim", event_id, measure, group, qualifier, number, number_high, source)


def claim_id(doc_id: str, char_start: int, char_end: int, measure: str, group: str) -> str:
    """A stable hash identifying one claim mention in one article."""
    return _digest("mention", doc_id, char_start, char_end, measure, group)


# ----------------------------------------------------------------------------------------------
# Beam
# ----------------------------------------------------------------------------------------------
def to_claim(article: Article, mention: ClaimMention) -> Claim:
    """The Claim record of one mention in one article."""
    event_id = article.event_ids[0] if article.event_ids else None
    return Claim(
        claim_id=claim_id(article.doc_id, mention.char_start, mention.char_end, mention.measure, mention.group),
        claim_key=claim_key(event_id, mention.measure, mention.group, mention.qualifier, mention.number,
                            mention.number_high, mention.source),
        doc_id=article.doc_id, event_id=event_id, outlet=article.outlet, published_at=article.published_at,
        date_source=article.date_source, measure=mention.measure, number=mention.number, number_high=mention.number_high,
        qualifier=mention.qualifier, value_low=mention.value_low, value_high=mention.value_high,
        group=mention.group, group_text=mention.group_text, source=mention.source,
        source_text=mention.source_text, scope=mention.scope, location=mention.location,
        period_text=mention.period_text,
        period_start=Timestamp.from_utc_datetime(mention.period_start) if mention.period_start else None,
        sentence=mention.sentence, char_start=mention.char_start, char_end=mention.char_end,
        is_copy=article.dup_kind is not None and not article.is_canonical,
        origin_doc_id=article.dup_of or article.doc_id)


def article_claims(article: Article, table: SourceTable) -> tuple[list[Claim], DeadLetter | None]:
    """The Claims of one article, or none and the DeadLetter saying why extraction failed (a bad
    article must not stop the run)."""
    try:
        published = None
        if article.published_at is not None:
            published = article.published_at.to_utc_datetime(has_tz=True)
        return [to_claim(article, m) for m in extract_claims(article.text or "", published, table)], None
    except Exception as err:  # noqa: BLE001
        _LOG.exception("claim extraction failed for %s", article.doc_id)
        return [], DeadLetter(
            uri=article.uri, stage="claims", error_type=type(err).__name__, message=str(err)[:1000],
            size_bytes=len((article.text or "").encode("utf-8")), ingested_at=Timestamp.now())


class ExtractClaimsFn(beam.DoFn):
    """Article -> its Claims; a failure becomes a DeadLetter on the 'dead_letters' output."""

    DEAD_LETTERS = "dead_letters"

    def __init__(self, source_texts: Sequence[tuple[str, str]] = ()):
        self._source_texts = tuple(source_texts)  # the files' contents travel with the DoFn to the workers
        self._table: SourceTable | None = None
        self.articles = Metrics.counter("claims", "articles")
        self.articles_with_claims = Metrics.counter("claims", "articles_with_claims")
        self.claims = Metrics.counter("claims", "claims")
        self.copies = Metrics.counter("claims", "claims_in_copies")
        self.errors = Metrics.counter("claims", "errors")

    def setup(self):
        self._table = _sources_from_texts(self._source_texts)

    def process(self, article: Article):
        self.articles.inc()
        records, failure = article_claims(article, self._table)
        if failure is not None:
            self.errors.inc()
            yield beam.pvalue.TaggedOutput(self.DEAD_LETTERS, failure)
            return
        if records:
            self.articles_with_claims.inc()
            self.claims.inc(len(records))
            if records[0].is_copy:
                self.copies.inc(len(records))
        yield from records


class ExtractClaims(beam.PTransform):
    """PCollection[Article] -> PCollection[Claim]: every casualty claim of every article.

    Articles whose extraction fails become DeadLetters; after the transform is applied they are in
    its `dead_letters` attribute (``t = ExtractClaims(); claims = articles | t; t.dead_letters``).

    Args:
      source_files: users' sources.toml files, added to the built-in table (same format). They are
        read and checked here, so a bad file fails at pipeline construction, and their contents go
        to the workers with the DoFn (the workers need not see the files).
    """

    def __init__(self, source_files: Sequence[str] = ()):
        super().__init__()
        if isinstance(source_files, (str, Path)):
            raise ValueError("source_files must be a list of paths, not one string")
        self._source_texts = read_source_files(source_files)
        _sources_from_texts(self._source_texts)  # raises ValueError now rather than on the workers
        self.dead_letters = None

    def expand(self, articles):
        results = (articles
                   | "ExtractClaims" >> beam.ParDo(ExtractClaimsFn(self._source_texts))
                   .with_outputs(ExtractClaimsFn.DEAD_LETTERS, main="claims")
                   .with_input_types(Article)
                   .with_output_types(Claim))
        self.dead_letters = results[ExtractClaimsFn.DEAD_LETTERS]
        return results["claims"]


def _figure_key(claim: Claim) -> tuple:
    # The number itself: a rewrite's other words may change the group or qualifier the extractor
    # reads, not the figure it repeats.
    return (claim.measure, claim.number, claim.number_high)


def unmark_new_figures(claims: Iterable[Claim]) -> list[Claim]:
    """The claims of one story (an origin article and its copies): a copy's claim stays `is_copy`
    only if the origin states the same figure; a figure the copy changed or added (a wire update:
    45 becomes 52) is new information and counts as independent. Without the origin among them
    (it is in an earlier run's output), the claims are left as they are."""
    claims = list(claims)
    origin = [c for c in claims if not c.is_copy and c.doc_id == c.origin_doc_id]
    if not origin:
        return claims
    stated = {_figure_key(c) for c in origin}
    return [c._replace(is_copy=False) if c.is_copy and _figure_key(c) not in stated else c
            for c in claims]


class UnmarkNewFigures(beam.PTransform):
    """PCollection[Claim] -> PCollection[Claim]: copies' figures that their origin does not state are
    not copies (batch: the claims of a story meet in a GroupByKey on origin_doc_id)."""

    def expand(self, claims):
        return (claims
                | "ByOrigin" >> beam.Map(lambda c: (c.origin_doc_id, c)).with_output_types(
                    tuple[str, Claim])
                | "GroupStory" >> beam.GroupByKey()
                | "Unmark" >> beam.FlatMapTuple(
                    lambda _origin, story: [beam.window.TimestampedValue(c, c.published_at)
                                            for c in unmark_new_figures(story)])
                .with_output_types(Claim))
