"""The words of the claim grammar: measure, group, verb, source and place vocabularies, and the limits
that keep its work bounded. Plain data, no logic."""

from __future__ import annotations

import re


# ----------------------------------------------------------------------------------------------
# Tunables (all in one place)
# ----------------------------------------------------------------------------------------------
MAX_NP_WORDS = 8  # words of the noun phrase after a number ("members of the government's security forces")
MAX_RIGHT_TOKENS = 18  # how far after a number its verb may come ("20 of his neighbors ... were killed")
MAX_TOLL_TOKENS = 40  # how far before a number a "death toll" may stand
MAX_SOURCE_WORDS = 8  # a longer phrase before "said" is not taken as the name of a source
SUBCOUNT_LOOKBACK = 2  # sentences back to look for the parent of "Among the dead were ..."
ATTRIBUTION_LOOKBACK = 4  # sentences before the first claim read for "it said", "the same source"
# What a process remembers of the articles it read (wire copies repeat them): with their texts, about 10 MB
# after 3,000 bench files.
CANDIDATE_MEMORY = 4096  # sentences (their grammar candidates) and clauses (their place searches)
ARTICLE_MEMORY = 1024  # articles (their claims)
HASH_CHARS = 16  # hex characters kept of claim ids and keys
# More people than live on Earth is no count of casualties ("10^30", spam, a number run into a code);
# the bound also keeps every figure inside the int64 columns of the output.
MAX_FIGURE = 10**10


def figure_value(digits: str) -> int | None:
    """The count a string of digits states, or None when it is over MAX_FIGURE. A digit string
    longer than MAX_FIGURE's is never converted: int() refuses over 4,300 digits and costs
    quadratic time below that."""
    if len(digits) > len(str(MAX_FIGURE)):
        return None
    value = int(digits)
    return value if value <= MAX_FIGURE else None


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
    "risen", "increased", "crossed", "crossing", ":", "climbs", "rises", "(",
    "top", "exceed", "surpass", "pass", "cross",  # headlines: "Flood deaths top 200"
}
# Toll verbs that make an exact number a lower bound: "has surpassed 1,000".
MORE_THAN_VERBS = {"surpassed", "surpassing", "surpasses", "exceeded", "exceeding", "exceeds", "topped",
                   "topping", "tops", "passed", "passing", "passes", "crossed", "crossing", "top", "exceed", "surpass",
                   "pass", "cross"}
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
                "schoolchildren schoolgirls schoolboys teenagers teens newborns youngsters grandchildren "
                "grandchild grandsons granddaughters",
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
ORG_KINDS = frozenset({"monitor", "ngo", "rescue", "un", "agency", "ministry", "hospital", "official"})
COREF_KINDS = {
    "monitor": frozenset({"monitor"}), "watchdog": frozenset({"monitor", "ngo"}),
    "observatory": frozenset({"monitor"}), "ngo": frozenset({"ngo", "monitor"}),
    "rights group": frozenset({"ngo", "monitor"}), "charity": frozenset({"ngo"}),
    "organisation": ORG_KINDS, "organization": ORG_KINDS,
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
OFFICE_OF_RE = re.compile(
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
ATTACK_NOUNS = {"strike", "strikes", "airstrike", "airstrikes", "attack", "attacks", "bombing", "bombings", "blast",
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
