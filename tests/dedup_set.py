"""A labelled duplicate set for scoring the duplicate finder, generated from the example corpus.

Everything here is fiction, like the example corpus (see examples/README.md): outlets, people and
places are invented; the figures are the corpus's own.

``build_dedup_set(folder)`` writes plain text files (` date YYYY-MM-DD` marker, or ` date unknown`
for the corpus's two undated documents) and ``labels.json`` in the format of
examples/expected/dedup.json. Generation is deterministic (one seeded ``random.Random``).

What it writes:

- **The corpus**: each of the 22 articles as the pipeline reads it (``read_articles``), as
  ``ex_<name>.txt``. Its one duplicate cluster (the Meridian Press wire with three exact copies, two
  edited copies and a rewrite) keeps its hand labels.
- **Copies** of each of the corpus's 16 stories (the wire original and every independent report,
  the unrelated bus crash included), the edits outlets make to wire copy:
  ``verbatim`` (republished: curly quotes, dashes, other line breaks), ``reparagraphed`` (sentences
  regrouped into other paragraphs, not a word changed), ``trimmed`` (the last 20-40% of the
  paragraphs cut, as an editor cuts from the bottom; two depths), ``retitled`` (an outlet's own
  headline on the first line), ``intro`` (a paragraph of the outlet's own at the top), ``typos``
  (1 word in 25 with a slipped key, a dropped, doubled or swapped letter), two ``combo`` copies
  (retitled + trimmed + intro, the common republication, and three edits picked at random), and two
  ``embedded`` copies (the story, whole or with its tail cut, inside a longer page: the outlet's
  headline and introduction, a paragraph of its own reporting, and a "Related stories" block of
  other stories' headlines and first sentences).
- **Hard negatives**, as independent reporting looks: ``statement`` variants of long reports of
  one day where the figure sentence is replaced by the same verbatim quote of the day's statement
  (the variant stays a near copy of its own report, the variants of one day are not duplicates of
  each other); short ``brief`` items by different outlets that give the same figures with the same
  attribution in their own words, half of them quoting the same statement; and ``footer``
  variants: one identical ~60-word paragraph (an agency's about-us, a republisher's note on
  casualty figures, an outlet's appeal for support) appended to two unrelated stories. The briefs
  of three outlets end in that outlet's own footer, so an outlet's briefs of different days share
  one paragraph.

Labels: ``pairs`` holds every pair within each story's cluster, with relation ``exact`` when the two
texts have the same words (case, punctuation and layout aside: the project's definition of an
exact copy), ``rewrite`` when one of them is the corpus's rewrite, else ``near``; the corpus's
labelled pairs are carried over. ``not_duplicates`` holds the corpus's hard negatives, every pair of
two different stories' originals, and the generated hard negatives. Every other pair of two
labelled documents is unrelated as well (the scorer counts it so).

Dates: each copy gets the date of its source plus 0-12 h (the marker has a day's resolution, so a
copy is dated its source's day or the next).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import re
import unicodedata
from pathlib import Path
from typing import NamedTuple, Optional

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SEED = 20260512
TYPO_EVERY = 25

# ---- text pools (all invented) ------------------------------------------------------------------
# The corpus's stories by the stem of their label name: outlet, event, and two headlines of other
# outlets (no figures: the corpus's headlines carry none).
STORIES = {
    "day1_meridian_wire_original": ("Meridian Press", "serrano", (
        "Fighting rages in Valdoria's Serrano Coast as monitor counts the dead",
        "Monitor: Serrano Coast clashes kill dozens, children among them")),
    "day1_radioserrano_trastel_report": ("Radio Serrano", "serrano", (
        "Shuttered shops and fresh graves in Trastel after two days of clashes",
        "'We ran out of dressings': Trastel counts the cost")),
    "day2_coastalherald_duvane_hospital": ("The Coastal Herald", "serrano", (
        "Port Calvell hospital overwhelmed as wounded arrive from Duvane",
        "Inside the hospital treating Serrano Coast's wounded")),
    "day2_lantern_mirocca_killings": ("The Lantern", "serrano", (
        "Survivors recount night of killings in Mirocca",
        "Mirocca: 'They went from house to house'")),
    "day2_northbridgegazette_counting_nodate": ("Northbridge Gazette", "serrano", (
        "Why nobody agrees on the Serrano Coast death toll",
        "Counting the dead: the methods behind Serrano Coast's competing tolls")),
    "day2_valdorianpost_bus_crash_altofenn": ("The Valdorian Post", "kesra", (
        "Pilgrim bus crash on Kesra pass: what we know",
        "Alto Fenn mourns after pilgrim bus falls into ravine")),
    "day2_vocr_update": ("the Valdorian Observatory for Civil Rights", "serrano", (
        "Rights monitor raises Serrano Coast toll and documents Mirocca killings",
        "VOCR reports second wave of reprisal killings south of Trastel")),
    "day3_eastwindreview_un_appeal": ("Eastwind Review", "serrano", (
        "UN launches emergency appeal for Serrano Coast",
        "Aid convoys stuck at checkpoint as UN calls for pause in fighting")),
    "day3_meridian_followup_northbridgegazette": ("Meridian Press", "serrano", (
        "Foreign governments and churches urge Serrano Coast ceasefire",
        "Serrano Coast toll keeps rising as calls for talks grow")),
    "day3_portcalvellcourier_averna_funerals": ("Port Calvell Courier", "serrano", (
        "Mourners fill Averna cemetery as the village buries its dead",
        "Averna funerals as hopes fade for the Duvane market missing")),
    "day3_radioserrano_bulletin": ("Radio Serrano", "serrano", (
        "Morning bulletin: Serrano Coast toll rises, Duvane search resumes",
        "Radio Serrano news at eight")),
    "undated_serrano_relief_statement": ("the Serrano Relief Network", "serrano", (
        "Relief network says its clinics are running out of supplies",
        "Medical charity warns of child deaths in Serrano Coast")),
    "feed_valdoria_today.xml#https://www.valdoriatoday.example/?p=48211": ("Valdoria Today", "serrano", (
        "Rights monitor gives first Serrano Coast toll",
        "Government sends reinforcements to Serrano Coast")),
    "feed_valdoria_today.xml#https://www.valdoriatoday.example/?p=48260": ("Valdoria Today", "serrano", (
        "Competing tolls as Serrano Coast fighting enters its third day",
        "Ministry and monitor at odds over Serrano Coast dead")),
    "feed_valdoria_today.xml#https://www.valdoriatoday.example/?p=48302": ("Valdoria Today", "serrano", (
        "Duvane rescuers losing hope as Serrano Coast toll climbs",
        "Fuel rationed in Port Calvell as fighting continues")),
    "feed_valdoria_today.xml#https://www.valdoriatoday.example/?p=48331": ("Valdoria Today", "serrano", (
        "Defence Ministry details army losses in Serrano Coast",
        "Army and rebels trade claims over fighters killed")),
}
WIRE = "day1_meridian_wire_original"

# Outlets that republish (invented, not in the corpus).
OUTLETS = ["Velmora Evening Star", "Coastline FM", "The Harbour Chronicle", "Valdoria Weekly",
           "Alto Fenn Daily", "Northshore Herald", "Lessar Online", "The Morning Ledger"]

INTRO_OPENERS = [
    "Editor's note: this report by {source} is republished under a content-sharing agreement.",
    "The following report from {source} is published here as part of our coverage of the crisis.",
    "{outlet} brings you this report from {source}, lightly edited for our readers.",
    "We are publishing this report from {source} with its original figures.",
    "Our partners at {source} filed the report below earlier today.",
]
INTRO_CONTEXT = {
    "serrano": [
        "Fighting between the army and the Serrano Liberation Front broke out on Monday and has "
        "since spread from Trastel to villages further south.",
        "Phone lines into the province are unreliable, and journalists have been turned back at "
        "army checkpoints on the coast road.",
        "Families in Velmora have spent days waiting for news of relatives on the coast.",
        "The government, the monitors and aid groups give different tolls, and we say whose figure "
        "each one is.",
        "Schools in Port Calvell have closed their doors to pupils and opened them to families who "
        "fled the fighting.",
        "Diplomats in the capital have urged both sides to return to the ceasefire they signed "
        "three years ago.",
        "The provincial authorities have asked residents to stay indoors after dark.",
    ],
    "kesra": [
        "The road over the Kesra pass is the main route from the capital to the monasteries of the "
        "north, and pilgrims crowd it every spring.",
        "Local councils in Alto Fenn have asked for crash barriers on the pass for years.",
        "Relatives of the passengers have been gathering at the regional hospital in Fennach.",
    ],
}
INTRO_POINTERS = [
    "Follow our live page for the latest developments.",
    "This article will be updated as more information comes in.",
    "Send us your questions and we will answer as many as we can.",
    "All our coverage is collected on our Valdoria page.",
]
OWN_REPORTING = {
    "serrano": [
        "Our correspondent in Port Calvell said queues had formed at the city's petrol stations by "
        "mid-morning and that many shops had sold out of bottled water.",
        "In Velmora, a few hundred people gathered outside the Interior Ministry in the evening, "
        "holding photographs of relatives they said they could not reach.",
        "Bus companies have suspended their services along the coast road until further notice, "
        "and the ferry to Port Calvell is running twice a day instead of four times.",
        "Church bells rang in several towns of the province at noon, and shopkeepers in Port "
        "Calvell pulled down their shutters for a minute of silence.",
        "Listeners who called our newsroom described long waits at checkpoints and rumours of "
        "further fighting in the hills.",
    ],
    "kesra": [
        "Our reporter in Fennach said the hospital had set up a desk for relatives in the lobby and "
        "that volunteers were handing out tea and blankets.",
        "The monastery of Santa Ilvara cancelled its spring festival and said its bells would ring "
        "for the dead at dusk.",
    ],
}

# One paragraph each that an agency or outlet appends to everything it publishes.
FOOTERS = {
    "agency": (
        "About Meridian Press: Meridian Press is an independent news agency founded in Velmora in "
        "1987. It supplies text, photographs and video to newspapers, broadcasters and websites in "
        "Valdoria and abroad. The agency is owned by a cooperative of its journalists and editors "
        "and works under a published editorial charter. For licensing enquiries write to "
        "sales@meridianpress.example."),
    "figures": (
        "A note on casualty figures: the numbers of dead and wounded in Serrano Coast come from the "
        "parties to the conflict, from hospitals and from independent monitors. Access to the "
        "province is restricted, and we are often unable to verify them independently. We say who "
        "gave each figure and when, and we update our articles when new information becomes "
        "available."),
    "support": (
        "Independent journalism needs your support. Valdoria Today is funded by its readers and "
        "accepts no money from political parties or armed groups. If you value our reporting from "
        "Serrano Coast and the rest of the country, please consider a monthly contribution of any "
        "size. Every contribution, large or small, keeps our correspondents in the field and our "
        "website free for everyone."),
}
# (footer, story a, story b): unrelated stories that get the same footer paragraph: the agency's
# two stories, two stories one republisher carries with its standard note, and two stories of one
# outlet.
FOOTER_PAIRS = [
    ("agency", "day1_meridian_wire_original", "day3_meridian_followup_northbridgegazette"),
    ("figures", "day2_lantern_mirocca_killings", "day3_eastwindreview_un_appeal"),
    ("support", "feed_valdoria_today.xml#https://www.valdoriatoday.example/?p=48260",
     "feed_valdoria_today.xml#https://www.valdoriatoday.example/?p=48302"),
]
# The paragraph that ends every brief of these outlets (so an outlet's briefs on different days,
# with different figures, share it).
OUTLET_FOOTERS = {
    "Velmora Evening Star": (
        "The Velmora Evening Star has been published in the capital since 1952 and is owned by the "
        "Evening Star Trust, which guarantees its editorial independence. Our reporters follow the "
        "rules of the Valdorian Press Council. To report an error, write to the readers' editor at "
        "corrections@eveningstar.example; corrections are published on page two of the print "
        "edition and at the foot of every article online."),
    "Coastline FM": (
        "Coastline FM is the community radio station of the Serrano coast, run by volunteers from "
        "its studio in the old harbour office. Listen to our news bulletins every hour from six in "
        "the morning until midnight, or on our website at any time. Messages for the newsroom can "
        "be left on our listeners' line or sent through the contact form of our website."),
    "Alto Fenn Daily": (
        "Alto Fenn Daily is the newspaper of the northern provinces, with offices in Fennach and "
        "three district towns. Subscribers receive the morning edition at home and have full "
        "access to our archive. Letters to the editor should be short, signed and include a postal "
        "address; we may edit them for length. Our journalists never accept gifts or free travel "
        "from the people they write about."),
}

# The day's statement that independent reports quote word for word, and the sentence of each long
# report it replaces in that report's ``statement`` variant.
STATEMENTS = {
    1: ('In a statement, the Observatory said: "We have confirmed the deaths of at least 45 people '
        'since Monday morning: 14 civilians, three of them children, 12 members of the security '
        'forces and 19 fighters. The real toll is likely to be higher."'),
    2: ('The Observatory said in a statement on Wednesday: "Our researchers have confirmed 112 deaths '
        'since Monday, among them 41 civilians, including 11 children and 9 women, 27 members of the '
        'security forces and 44 fighters. We fear that this figure will rise."'),
    3: ('"Our hospitals have recorded 146 deaths since Monday, and 417 people are being treated for '
        'their wounds," health ministry spokesman Teodor Vasque said on Thursday. "Our staff have '
        'not rested for four days."'),
}
STATEMENT_SWAPS = {
    "day1_radioserrano_trastel_report": (1, (
        "The Valdorian Observatory for Civil Rights put the death toll at 45 on Tuesday afternoon. "
        "Of those, 14 were civilians, the monitor said in a statement, while the rest were soldiers, "
        "police officers and insurgents.")),
    "day2_coastalherald_duvane_hospital": (2, (
        "The Valdorian Observatory for Civil Rights said on Wednesday that the death toll had risen "
        "to 112, more than double its figure of the previous day. The same source said 41 of the "
        "dead were civilians.")),
    "day2_lantern_mirocca_killings": (2, (
        "The SLF said in a statement that government forces and allied militiamen had killed 58 "
        "civilians across the province since Monday, a figure far higher than any other count.")),
    "day2_northbridgegazette_counting_nodate": (2, (
        "The death toll rose to 112 on Wednesday, according to the Observatory, which says it counts "
        "a death only after confirming it with two separate sources.")),
    "day3_eastwindreview_un_appeal": (3, (
        "The health ministry said on Thursday that 146 people had died in the province's hospitals "
        "since Monday.")),
    "day3_meridian_followup_northbridgegazette": (3, (
        "The health ministry said 146 people had died in state hospitals, up from 31 on Tuesday.")),
    "day3_portcalvellcourier_averna_funerals": (3, (
        ", and the health ministry reported 146 deaths in state hospitals.")),
}

# Short items by different outlets: the same figures and attribution, each in its own words.
# group -> (day of the fighting, event, [(outlet, headline, lead, breakdown)]); day 1 is 12 May.
BRIEFS = {
    "day1": (1, "serrano", [
        ("Velmora Evening Star", "Rights monitor counts the dead in Serrano Coast",
         "At least 45 people have been killed in two days of clashes in Serrano Coast, the Valdorian "
         "Observatory for Civil Rights said on Tuesday.",
         "The monitor said 14 of the dead were civilians, including three children, while 12 were "
         "members of the security forces and 19 were SLF fighters."),
        ("Coastline FM", "Serrano Coast clashes: first toll published",
         "The Valdorian Observatory for Civil Rights on Tuesday put the number of people killed in "
         "Serrano Coast since Monday at no fewer than 45.",
         "Its count includes 14 civilians, three of them children, 12 soldiers and police officers, "
         "and 19 insurgents. State hospitals have recorded 31 deaths, the health ministry said."),
        ("The Harbour Chronicle", "Dozens dead after attack on Trastel post",
         "Two days of fighting in Valdoria's coastal province have left at least 45 people dead, "
         "according to the independent monitor VOCR.",
         "Fourteen civilians, among them three children, are included in the count, along with 12 "
         "security personnel and 19 rebels."),
        ("Valdoria Weekly", "Monitor: civilians among Serrano Coast dead",
         "Clashes that began at a National Guard post near Trastel have cost at least 45 lives, the "
         "country's best-known rights monitor said on Tuesday.",
         "VOCR said the dead were 14 civilians, including three children, 12 members of the "
         "security forces and 19 fighters of the Serrano Liberation Front."),
    ]),
    "day2": (2, "serrano", [
        ("Northshore Herald", "Serrano Coast toll more than doubles",
         "The toll from three days of fighting in Serrano Coast has risen to 112, the Valdorian "
         "Observatory for Civil Rights said on Wednesday.",
         "The monitor counted 41 civilians among the dead, including 11 children and 9 women, as "
         "well as 27 members of the security forces and 44 fighters."),
        ("Lessar Online", "Monitor's count passes one hundred",
         "At least 112 people have now been killed in Serrano Coast, according to the independent "
         "monitor VOCR, more than twice its count of a day earlier.",
         "Of those, 41 were civilians, among them 11 children and 9 women. The health ministry put "
         "the toll at between 60 and 70."),
        ("The Morning Ledger", "Observatory confirms more deaths in Serrano Coast",
         "The Valdorian Observatory for Civil Rights said on Wednesday it had confirmed 112 deaths "
         "since the fighting in Serrano Coast began on Monday.",
         "Its researchers found that 17 civilians, including four children, were killed in one "
         "night in the village of Mirocca."),
        ("Alto Fenn Daily", "Serrano Coast: the figures so far",
         "The number of people killed in Valdoria's coastal province has climbed to 112, the "
         "country's main rights monitor said.",
         "The Defence Ministry said 12 members of the security forces and 30 fighters had been "
         "killed, and gave no figure for civilians."),
    ]),
    "day3": (3, "serrano", [
        ("Velmora Evening Star", "Serrano Coast toll passes two hundred",
         "More than 200 people have been killed in four days of fighting in Serrano Coast, the "
         "Valdorian Observatory for Civil Rights said on Thursday.",
         "The monitor said 73 of the dead were civilians, 19 of them children, and that 48 members "
         "of the security forces and at least 80 fighters had been killed."),
        ("Coastline FM", "Hospitals record more deaths as fighting goes on",
         "The health ministry said on Thursday that 146 people had died in hospitals in Serrano "
         "Coast since Monday, while the independent monitor VOCR put the toll above 200.",
         "The UN humanitarian office said it had recorded at least 180 deaths, including 64 "
         "civilians, and some 1,250 injured."),
        ("The Harbour Chronicle", "UN and monitor give new Serrano Coast tolls",
         "The toll in Serrano Coast has passed 200, according to the Valdorian Observatory for Civil "
         "Rights, as the UN said it had recorded at least 180 deaths.",
         "In Duvane, the Civil Protection Corps said 23 bodies had been recovered from the market "
         "and up to 15 people were still missing."),
        ("Lessar Online", "Four days of fighting in numbers",
         "Four days into the fighting, the Valdorian Observatory for Civil Rights counts more than "
         "200 dead in Serrano Coast; the health ministry's figure stands at 146.",
         "The Defence Ministry said the security forces had suffered 85 casualties, 31 of them "
         "fatal, and that more than 100 SLF fighters had been killed."),
    ]),
    "kesra": (2, "kesra", [
        ("Alto Fenn Daily", "Pilgrim bus falls into ravine below Kesra pass",
         "Eleven pilgrims were killed and 27 injured when their bus left the road below the Kesra "
         "pass in Alto Fenn on Wednesday, police said.",
         "Three passengers were still missing in the evening, Inspector Mara Dellow of the "
         "provincial police said."),
        ("The Morning Ledger", "Deadly crash on the Kesra road",
         "A bus carrying pilgrims to the monastery of Santa Ilvara fell into a ravine in Alto Fenn "
         "on Wednesday, killing 11 people, provincial police said.",
         "Another 27 passengers were injured and three were unaccounted for, according to "
         "Inspector Mara Dellow."),
        ("Northshore Herald", "Eleven dead in Alto Fenn bus crash",
         "Police in Alto Fenn said 11 people died and 27 were hurt on Wednesday morning when a "
         "pilgrim bus crashed on the Kesra pass road.",
         "Rescuers were searching the river below the road for three missing passengers."),
    ]),
}
# Sentences of the briefs' own surroundings: every brief takes its own, none is shared.
BRIEF_CONTEXT = {
    "serrano": [
        "Checkpoints on the coast road were turning back all traffic except ambulances and aid "
        "lorries.",
        "The Interior Ministry has asked journalists not to travel south of Port Calvell without an "
        "escort.",
        "Shops in the provincial capital opened for only a few hours, and bakeries ran out of bread "
        "by noon.",
        "Parliament is due to debate the crisis in an emergency session later this week.",
        "Relief groups say shelters in Port Calvell are full and that families are sleeping in "
        "church halls.",
        "The SLF has not commented on the figures.",
        "Electricity was cut in several districts after a substation near Trastel was damaged.",
        "The government has closed schools across the province until further notice.",
        "Ferries between Port Calvell and the islands were cancelled for a second day.",
        "Opposition lawmakers accused the government of keeping the press out of the province.",
        "Residents of Trastel described hearing gunfire well into the night.",
        "The Red Crescent of Valdoria said its volunteers had set up two first-aid posts on the "
        "road north of Duvane.",
        "Neighbouring provinces have offered to take in children from the affected villages.",
        "A curfew remains in force in several districts after dark.",
        "Fishermen in Duvane have kept their boats in port since the start of the week.",
        "Church leaders in Velmora called for a day of prayer for the victims.",
        "The army has not allowed reporters to visit the villages where the killings took place.",
        "Mobile phone coverage returned briefly in Port Calvell on Wednesday afternoon.",
        "Farmers said they had abandoned the olive harvest in the hills above Mirocca.",
        "Diplomats from several embassies met the foreign minister to ask for humanitarian access.",
        "The provincial governor appealed for calm in a short televised address.",
        "Queues formed outside banks in Port Calvell as residents withdrew cash.",
        "A convoy of trucks carrying flour and medicine waited at the Lessar checkpoint.",
        "Blood banks in the capital appealed for donors of all groups.",
        "The football federation postponed all matches scheduled in the province.",
    ],
    "kesra": [
        "The road was closed to traffic for most of the day while rescuers worked.",
        "The bus company said its vehicle had passed an inspection in March.",
        "Heavy rain had fallen on the mountains overnight, local officials said.",
        "Bells rang at the monastery in the evening in memory of the dead.",
    ],
}
BRIEF_CLOSINGS = ["The figures could not be independently verified.", "",
                  "Further details were not immediately available.", ""]


# ---- helpers ------------------------------------------------------------------------------------
class Source(NamedTuple):
    """An article of the example corpus as the pipeline reads it."""

    name: str                       # its label name
    text: str
    published: Optional[dt.datetime]  # None when the corpus gives no date


class Doc(NamedTuple):
    """A document of the set: its file, text, date, story and how it was made."""

    name: str
    text: str
    published: Optional[dt.datetime]
    story: Optional[str]            # the cluster it belongs to (None: a story of its own)
    rewrite: bool
    how: str


def paragraphs(text: str) -> list[str]:
    """Paragraphs of an article text (the corpus's HTML separates them by one line break)."""
    return [p.strip() for p in re.split(r"\n\s*", text) if p.strip()]


def join(paras: list[str]) -> str:
    return "\n\n".join(paras)


def words(text: str) -> tuple[str, ...]:
    """The words of a text, case and punctuation aside: two texts with the same words are exact
    copies (the rule of the exact stage)."""
    return tuple(re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold()))


_SENTENCE_END = re.compile(r"[.!?][\"”’)]?\s+(?=[\"“(A-Z])")
_ABBREVIATIONS = ("Dr.", "Mr.", "Mrs.", "Ms.", "St.", "Col.", "Gen.", "No.")


def sentences(paragraph: str) -> list[str]:
    """The sentences of a paragraph (joined by single spaces, they give the paragraph back)."""
    out, start = [], 0
    for m in _SENTENCE_END.finditer(paragraph):
        head = paragraph[start:m.end()].rstrip()
        if head.endswith(_ABBREVIATIONS):
            continue
        out.append(head)
        start = m.end()
    out.append(paragraph[start:].strip())
    return [s for s in out if s]


def label_file(name: str) -> str:
    """The file name the set uses for a corpus article."""
    base = name.replace("feed_valdoria_today.xml#https://www.valdoriatoday.example/?p=",
                        "feed_valdoria_today_p")
    return f"ex_{re.sub(r'[.](html|txt|xml)$', '', base)}.txt"


def stem(name: str) -> str:
    return re.sub(r"\.(html|txt)$", "", name)


# ---- edits --------------------------------------------------------------------------------------
def trimmed(paras: list[str], share: float) -> list[str]:
    """The paragraphs without the last `share` of them (at least one cut, one kept)."""
    cut = min(len(paras) - 1, max(1, round(len(paras) * share)))
    return paras[:len(paras) - cut]


def reparagraphed(paras: list[str], rng: random.Random) -> list[str]:
    """The same sentences regrouped into paragraphs of one to three sentences."""
    flat = [s for p in paras for s in sentences(p)]
    out, i = [], 0
    while i < len(flat):
        n = rng.choice((1, 1, 2, 2, 3))
        out.append(" ".join(flat[i:i + n]))
        i += n
    return out


def retitled(paras: list[str], headline: str, had_title: bool) -> list[str]:
    """A new headline as the first line (replacing the one the text had)."""
    return [headline] + (paras[1:] if had_title else paras)


def intro(event: str, source: str, outlet: str, rng: random.Random) -> str:
    """A paragraph of an outlet's own at the top of a republished story."""
    parts = [rng.choice(INTRO_OPENERS).format(source=source, outlet=outlet)]
    parts += rng.sample(INTRO_CONTEXT[event], rng.choice((1, 2)))
    parts.append(rng.choice(INTRO_POINTERS))
    return " ".join(parts)


_KEYBOARD = {c: n for row in ("qwertyuiop", "asdfghjkl", "zxcvbnm") for i, c in enumerate(row)
             for n in [row[max(0, i - 1)] + row[min(len(row) - 1, i + 1)]]}


def misspelt(word: str, rng: random.Random) -> str:
    """A word with one typing slip: a neighbouring key, a dropped, doubled or swapped letter."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("key", "drop", "double", "swap"))
    if kind == "key" and word[i].lower() in _KEYBOARD:
        return word[:i] + rng.choice(_KEYBOARD[word[i].lower()]) + word[i + 1:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if word[i] == word[i + 1]:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def with_typos(text: str, rng: random.Random) -> str:
    """The text with one word in TYPO_EVERY misspelt (words of three or more letters)."""
    n = max(1, round(len(text.split()) / TYPO_EVERY))
    spots = list(re.finditer(r"[A-Za-z]{3,}", text))
    chosen = sorted(rng.sample(spots, min(n, len(spots))), key=lambda m: m.start())
    out, last = [], 0
    for m in chosen:
        out += [text[last:m.start()], misspelt(m.group(), rng)]
        last = m.end()
    return "".join(out) + text[last:]


def verbatim(text: str) -> str:
    """The same text as another site publishes it: typographic quotes and dashes, other breaks."""
    text = re.sub(r'"(?=\w)', "“", text)
    text = text.replace('"', "”").replace("'", "’").replace(" - ", " — ")
    return text.replace("\n\n", "\n\n\n")


def teaser(name: str, source: Source) -> str:
    """A "related stories" item: another story's headline and first sentence."""
    first = sentences(paragraphs(source.text)[0])[0]
    return f"{STORIES[name][2][0]}\n{first}"


# ---- the set ------------------------------------------------------------------------------------
def read_corpus() -> list[Source]:
    """The example corpus's articles as the pipeline reads them."""
    from tollwatch.pipeline.evaluate import doc_name, read_articles

    out = []
    for article in read_articles([str(EXAMPLES / p) for p in ("*.html", "*.txt", "*.xml")]):
        dated = article.date_source in ("metadata", "feed", "text")
        out.append(Source(doc_name(article), article.text,
                          article.published_at.to_utc_datetime(has_tz=True) if dated else None))
    return sorted(out, key=lambda s: s.name)


def _later(published: Optional[dt.datetime], rng: random.Random) -> Optional[dt.datetime]:
    return None if published is None else published + dt.timedelta(hours=rng.uniform(0, 12))


def _copies(key: str, source: Source, others: dict[str, Source], rng: random.Random) -> list[Doc]:
    """The generated copies of one story."""
    outlet_of, event, headlines = STORIES[key]
    paras = paragraphs(source.text)
    had_title = key == "undated_serrano_relief_statement"  # its first line is its headline
    base = stem(label_file(source.name))[3:]
    outlets = rng.sample(OUTLETS, len(OUTLETS))
    docs: list[tuple[str, str, str]] = []

    def add(edit: str, text: str, how: str) -> None:
        docs.append((f"{base}__{edit}.txt", text, how))

    def intro_for(i: int) -> str:
        return intro(event, outlet_of, outlets[i % len(outlets)], rng)

    add("verbatim", verbatim(join(paras)), "republished word for word (typographic quotes, layout)")
    add("reparagraphed", join(reparagraphed(paras, rng)), "the same sentences in other paragraphs")
    light, heavy = rng.uniform(0.2, 0.3), rng.uniform(0.3, 0.4)
    light_paras, heavy_paras = trimmed(paras, light), trimmed(paras, heavy)
    add("trimmed1", join(light_paras), f"last {len(paras) - len(light_paras)} of {len(paras)} "
        "paragraphs cut")
    if len(heavy_paras) < len(light_paras):
        add("trimmed2", join(heavy_paras), f"last {len(paras) - len(heavy_paras)} of {len(paras)} "
            "paragraphs cut")
    add("retitled", join(retitled(paras, headlines[0], had_title)), "own headline")
    add("intro", join([intro_for(0)] + paras), "own introduction added at the top")
    add("typos", with_typos(join(paras), rng), f"one word in {TYPO_EVERY} misspelt")
    classic = ("retitled", "trimmed", "intro")
    add("combo1", _combine(classic, paras, key, had_title, intro_for(1), rng),
        "retitled, trimmed and introduced")
    picked = classic
    while set(picked) == set(classic):
        picked = tuple(rng.sample(("trimmed", "retitled", "reparagraphed", "intro", "typos"), 3))
    add("combo2", _combine(picked, paras, key, had_title, intro_for(2), rng), ", ".join(picked))
    related = [n for n in sorted(others) if n != source.name and STORIES[_key(n)][1] == event]
    related = related or [n for n in sorted(others) if n != source.name]
    for i, share in enumerate((0.0, rng.uniform(0.1, 0.2)), start=1):
        body = trimmed(paras, share) if share else paras
        teasers = [teaser(_key(n), others[n]) for n in rng.sample(related, min(3, len(related)))]
        page = ([headlines[1], intro_for(2 + i), f"Below, the report from {outlet_of}."] + body
                + [rng.choice(OWN_REPORTING[event]), "Related stories"] + teasers)
        add(f"embedded{i}", join(page), "inside a longer page: headline, introduction, own "
            "paragraph and related stories" + (", tail cut" if share else ""))
    return [Doc(name, text, _later(source.published, rng), source.name, False, how)
            for name, text, how in docs]


def _combine(edits, paras, key, had_title, intro_text, rng) -> str:
    out, title = list(paras), had_title
    if "trimmed" in edits:
        out = trimmed(out, rng.uniform(0.2, 0.4))
    if "reparagraphed" in edits:
        out = reparagraphed(out, rng)
    if "intro" in edits:
        out = ([out[0], intro_text] + out[1:]) if title else [intro_text] + out
    if "retitled" in edits:
        out = retitled(out, STORIES[key][2][1], title)
    text = join(out)
    return with_typos(text, rng) if "typos" in edits else text


def _key(name: str) -> str:
    return name if name.startswith("feed_") else stem(name)


def _brief(headline, lead, breakdown, quote, context, closing, footer) -> str:
    paras = [headline, lead, breakdown] + ([quote] if quote else []) + [" ".join(context)]
    paras += [closing] if closing else []
    paras += [footer] if footer else []
    return join(paras)


def generate(rng: random.Random) -> tuple[list[Doc], list[tuple[str, str, str]]]:
    """All documents of the set, and the generated hard negatives as (a, b, why)."""
    corpus = {s.name: s for s in read_corpus()}
    missing = set(STORIES) - {_key(n) for n in corpus}
    if missing:
        raise RuntimeError(f"example corpus lacks {sorted(missing)}")
    examples = json.loads((EXAMPLES / "expected" / "dedup.json").read_text(encoding="utf-8"))
    wire_cluster = {p[k] for p in examples["pairs"] for k in ("a", "b")}
    rewrites = {p["b"] if p["a"] == f"{WIRE}.txt" else p["a"] for p in examples["pairs"]
                if p["relation"] == "rewrite" and f"{WIRE}.txt" in (p["a"], p["b"])}
    docs: list[Doc] = []
    for name, source in corpus.items():
        story = f"{WIRE}.txt" if name in wire_cluster else name
        docs.append(Doc(label_file(name), join(paragraphs(source.text)), source.published, story,
                        name in rewrites, "the example corpus's article"))
    stories = {n: s for n, s in corpus.items() if _key(n) in STORIES}
    for name, source in stories.items():
        docs += _copies(_key(name), source, stories, rng)
    negatives: list[tuple[str, str, str]] = []

    # Long reports of one day quoting the same statement in place of their own figure sentence.
    by_day: dict[int, list[str]] = {}
    for key, (day, sentence) in STATEMENT_SWAPS.items():
        name = next(n for n in stories if _key(n) == key)
        source = stories[name]
        if sentence not in source.text:
            raise RuntimeError(f"{key}: the sentence to replace is not in the text")
        joiner = ". " if sentence.startswith(",") else ""
        text = join(paragraphs(source.text.replace(sentence, joiner + STATEMENTS[day])))
        file = f"{stem(label_file(name))[3:]}__statement.txt"
        docs.append(Doc(file, text, _later(source.published, rng), name, False,
                        "its figure sentence replaced by a quote of the day's statement"))
        by_day.setdefault(day, []).append(file)

    # Briefs: the same figures and attribution, each in its outlet's own copy.
    context_pool = {event: rng.sample(pool, len(pool)) for event, pool in BRIEF_CONTEXT.items()}
    by_outlet: dict[str, list[str]] = {}
    for group, (day, event, items) in BRIEFS.items():
        files = []
        for i, (outlet, headline, lead, breakdown) in enumerate(items):
            context = [context_pool[event].pop() for _ in range(2 if event == "serrano" else 1)]
            quote = STATEMENTS[day] if event == "serrano" and i % 2 == 0 else None
            text = _brief(headline, lead, breakdown, quote, context,
                          BRIEF_CLOSINGS[i % len(BRIEF_CLOSINGS)], OUTLET_FOOTERS.get(outlet))
            published = dt.datetime(2026, 5, 11 + day, tzinfo=dt.timezone.utc)
            file = f"brief_{group}_{chr(ord('a') + i)}.txt"
            docs.append(Doc(file, text, _later(published, rng), None, False, f"a brief by {outlet}"))
            files.append(file)
            if outlet in OUTLET_FOOTERS:
                by_outlet.setdefault(outlet, []).append(file)
        same_day = files + (by_day.get(day, []) if event == "serrano" else [])
        for a, b in itertools.combinations(same_day, 2):
            both_quote = all(STATEMENTS[day] in _text(docs, f) for f in (a, b))
            negatives.append((a, b, "independent reports of the same day with the same figures and "
                              "attribution in their own copy"
                              + (", both quoting the day's statement" if both_quote else "")))
        originals = [label_file(n) for n, s in stories.items()
                     if STORIES[_key(n)][1] == event and _day(s) == day]
        for a, b in itertools.product(files, originals):
            negatives.append((a, b, "a brief and an independent report of the same figures"))
    for outlet, files in by_outlet.items():
        for a, b in itertools.combinations(files, 2):
            negatives.append((a, b, f"two stories of {outlet}, both ending in its footer paragraph"))

    # One footer paragraph appended to two unrelated stories.
    for footer, key_a, key_b in FOOTER_PAIRS:
        files = []
        for key in (key_a, key_b):
            name = next(n for n in stories if _key(n) == key)
            source = stories[name]
            file = f"{stem(label_file(name))[3:]}__footer_{footer}.txt"
            docs.append(Doc(file, join(paragraphs(source.text) + [FOOTERS[footer]]),
                            _later(source.published, rng), name, False,
                            f"the '{footer}' footer paragraph appended"))
            files.append(file)
        negatives.append((*files, f"different stories ending in the same footer paragraph "
                                  f"('{footer}')"))
    return docs, negatives


def _text(docs: list[Doc], name: str) -> str:
    return next(d.text for d in docs if d.name == name)


def _day(source: Source) -> Optional[int]:
    return source.published.day - 11 if source.published else None


def labels(docs: list[Doc], negatives: list[tuple[str, str, str]]) -> dict:
    """The labels of the set, in the format of examples/expected/dedup.json."""
    examples = json.loads((EXAMPLES / "expected" / "dedup.json").read_text(encoding="utf-8"))
    carried = {frozenset((label_file(p["a"]), label_file(p["b"]))): p for p in examples["pairs"]}
    clusters: dict[str, list[Doc]] = {}
    for d in docs:
        if d.story is not None:
            clusters.setdefault(d.story, []).append(d)
    pairs = []
    for story, members in clusters.items():
        for x, y in itertools.combinations(members, 2):
            key = frozenset((x.name, y.name))
            if x.rewrite or y.rewrite:
                relation = "rewrite"
            else:
                relation = "exact" if words(x.text) == words(y.text) else "near"
            if key in carried:
                if carried[key]["relation"] != relation:
                    raise RuntimeError(f"{sorted(key)}: {relation} but labelled "
                                       f"{carried[key]['relation']}")
                why = carried[key]["why"]
            else:
                why = f"copies of {story}: {x.name}: {x.how}; {y.name}: {y.how}"
            pairs.append({"a": x.name, "b": y.name, "relation": relation, "why": why})
    not_dup: dict[frozenset, dict] = {}

    def negative(a: str, b: str, why: str) -> None:
        not_dup.setdefault(frozenset((a, b)), {"a": a, "b": b, "why": why})

    for p in examples["not_duplicates"]:
        negative(label_file(p["a"]), label_file(p["b"]), p["why"])
    for a, b, why in negatives:
        negative(a, b, why)
    originals = sorted(label_file(s) for s in clusters)
    for a, b in itertools.combinations(originals, 2):
        negative(a, b, "different stories of the example corpus")
    return {
        "about": ("Generated by tests/dedup_set.py from the fictional example corpus: the corpus, "
                  "edited copies of each of its stories and hard negatives. pairs: every pair "
                  "within a story's cluster (exact: same words; rewrite: with the corpus's "
                  "rewrite; else near). not_duplicates: the corpus's hard negatives, every two "
                  "stories, and generated independent reports with the same figures or a shared "
                  "paragraph. Any other pair of these documents is unrelated too."),
        "pairs": pairs,
        "not_duplicates": list(not_dup.values()),
        "within_document": [],
    }


def write_doc(folder: Path, doc: Doc) -> None:
    marker = f" date {doc.published:%Y-%m-%d}" if doc.published else " date unknown"
    (folder / doc.name).write_text(f"{marker}\n{doc.text}\n", encoding="utf-8")


def build_dedup_set(folder: Path, seed: int = SEED) -> Path:
    """Write the set into `folder` -- the documents into `folder/docs` (the input of a run: a
    labels file among them would be read as a document) and `folder/labels.json` -- and return the
    labels' path."""
    folder = Path(folder)
    docs_dir = folder / "docs"
    docs_dir.mkdir(parents=True, exist_ok=True)
    docs, negatives = generate(random.Random(seed))
    names = [d.name for d in docs]
    if len(set(names)) != len(names):
        raise RuntimeError("two generated documents have one name")
    for doc in docs:
        write_doc(docs_dir, doc)
    path = folder / "labels.json"
    path.write_text(json.dumps(labels(docs, negatives), indent=1, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path


def composition(labels_path: Path) -> dict:
    """Counts of the set: documents, pairs per relation, hard negatives."""
    data = json.loads(Path(labels_path).read_text(encoding="utf-8"))
    docs = list((Path(labels_path).parent / "docs").glob("*.txt"))
    counts = {"documents": len(docs), "not_duplicates": len(data["not_duplicates"])}
    for p in data["pairs"]:
        counts[p["relation"]] = counts.get(p["relation"], 0) + 1
    return counts


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "dedup-set")
    print(build_dedup_set(target), composition(target / "labels.json"))
