"""A generated news corpus for the benchmarks: seeded, deterministic, and fictional throughout.

    .venv/bin/python benchmarks/corpus.py --docs 10000 --out .bench/corpus-10k

writes ``--docs`` documents below ``OUT/input/`` (one folder per day) and, beside it, the events and
sources files the run needs (``OUT/events.toml``, ``OUT/sources.toml``) and a manifest
(``OUT/manifest.json``: counts by format and kind, sizes, the seed).

What the documents are like (every number below is a tunable of ``CorpusSpec``):

- **Stories** about a dozen invented crises (places, monitors, ministries and agencies of the example
  corpus's fictional Valdoria and its neighbours), each with a death toll that rises day by day and
  that different sources state differently (a ministry lower than a monitor), plus unrelated news
  without figures. Words come from the example corpus's own vocabulary, Zipf-weighted, so each
  story's prose is its own (no two stories share a 5-word run by chance), and 2 to 5 sentences of each
  story carry casualty figures in the phrasings of news copy.
- **Wire copy**: a share of the stories come from news agencies and are republished by 1 to 30
  outlets (a Zipf-like count: most agency stories once or twice, a few thirty times), within hours,
  verbatim or edited as outlets edit (new headline, cut from the bottom, an intro of their own, typos,
  re-paragraphed) or updated (a figure raised).
- **Formats**: HTML pages of 100-200 KiB, as news sites serve them (head with meta tags, JSON-LD
  and a large inline script bundle, cookie banner, mega-menu navigation, breaking-news ticker, ads
  between paragraphs, share and tag blocks, "most read" and "more from" teaser grids, a long
  footer); text files (` date YYYY-MM-DD` marker and `url:` line); RSS feed files (one per
  feed outlet and day, the articles as ``content:encoded``).
- **Hostile files** at a small rate: empty files, binary data under an .html name, truncated feeds,
  pages without an article (a consent wall), text that is not UTF-8, unsupported file types.

A document is one article or one hostile file; feed files hold several documents. The same seed and
size always give the same bytes (file modification times are set to the publication time), whatever
the number of processes that render them (``--processes``, default one per core: the plan of the
corpus is drawn in one process, then each document is rendered from its own seeded stream).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import html
import json
import os
import random
import re
import zlib
from pathlib import Path
from typing import Iterator, NamedTuple, Optional

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
START = dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclasses.dataclass(frozen=True)
class CorpusSpec:
    docs: int
    seed: int = 20260512
    docs_per_day: int = 2000          # a mid-sized monitor's daily intake
    wire_share: float = 0.25          # stories from news agencies (republished)
    max_copies: int = 30              # outlets republishing one agency story, at most
    copy_zipf: float = 1.5            # P(k outlets) ~ k ** -copy_zipf, k in 1..max_copies
    no_figures_share: float = 0.2     # stories without casualty figures (other news)
    html_share: float = 0.4           # of the outlets: HTML pages
    text_share: float = 0.35          # text files (the rest: feed entries)
    hostile_rate: float = 0.005
    html_kib: tuple[int, int] = (100, 200)
    events: int = 12


# ---- names (invented) ---------------------------------------------------------------------------
_SYLLABLES = ("val dor mir oc tras tel av er na du vane cal vell les sar ken ra fen al to ser ran "
              "bel mo ra vin ta ko lis ar den ul pe ro sa nim gor ha ve zan ti lo ma").split()


def _name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


class Event(NamedTuple):
    id: str
    name: str
    region: str
    places: tuple[str, ...]
    keywords: tuple[str, ...]
    start_day: int
    days: int
    base: int          # killed on day one
    growth: float      # daily growth of the toll


class Outlet(NamedTuple):
    name: str
    host: str
    format: str        # html, text, feed
    template: int      # page layout variant (html)
    date_style: str    # meta, jsonld, time, none


# Sources of figures, as the sources file written beside the corpus names them.
SOURCES = (
    ("Regional Observatory for Human Rights", "monitor", "the Observatory", "ROHR"),
    ("Ministry of Health", "ministry", "the health ministry", "Health Ministry"),
    ("Civil Defence Directorate", "rescue", "civil defence", "Civil Defence"),
    ("UN humanitarian office", "un", "the UN humanitarian office", "UN humanitarian office"),
    ("Federation of Relief Societies", "ngo", "the relief federation", "Relief Federation"),
)
AGENCIES = ("Meridian Press", "Continental Wire", "Harbour News Agency", "Northern Newswire")
_WHAT = ("fighting", "shelling", "clashes", "floods", "earthquake", "air strikes", "unrest", "attacks")


def _outlets(rng: random.Random, spec: CorpusSpec) -> list[Outlet]:
    out = []
    seen = set()
    while len(out) < 40:
        name = f"The {_name(rng, 2)} {rng.choice(['Herald', 'Post', 'Courier', 'Times', 'Gazette', 'Review', 'Today', 'Chronicle', 'Star', 'Ledger'])}"
        if name in seen:
            continue
        seen.add(name)
        host = re.sub(r"[^a-z]", "", name.lower().removeprefix("the ")) + ".example"
        u = len(out) / 40
        fmt = "html" if u < spec.html_share else "text" if u < spec.html_share + spec.text_share else "feed"
        out.append(Outlet(name, host, fmt, len(out) % 4, ("meta", "jsonld", "time", "meta", "none")[len(out) % 5]))
    return out


def _events(rng: random.Random, spec: CorpusSpec, n_days: int) -> list[Event]:
    events = []
    for i in range(spec.events):
        country = _name(rng, 3)
        region = f"{_name(rng, 2)} {rng.choice(['Coast', 'Valley', 'Province', 'Highlands', 'Delta'])}"
        places = tuple(_name(rng, 2) for _ in range(5))
        what = rng.choice(_WHAT)
        start = rng.randrange(0, max(1, n_days - 2)) if i else 0
        days = rng.randint(3, 25)
        ident = f"{region.lower().replace(' ', '-')}-{what.replace(' ', '-')}-{i:02d}"
        events.append(Event(ident, f"{what.capitalize()} in {region}, {country}", region, places,
                            (region, f"{region} {what}", country), start, days,
                            rng.randint(5, 80), rng.uniform(0.1, 0.6)))
    return events


# ---- prose --------------------------------------------------------------------------------------
def _vocabulary() -> tuple[list[str], np.ndarray]:
    """The example corpus's words, Zipf-weighted by their rank in it."""
    counts: dict[str, int] = {}
    texts = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.txt"))]
    texts += [" ".join(re.findall(r"<p>(.*?)</p>", p.read_text(encoding="utf-8"), re.S))
              for p in sorted(EXAMPLES.glob("*.html"))]
    for text in texts:
        for word in re.findall(r"[a-z][a-z']+", text.lower()):
            counts[word] = counts.get(word, 0) + 1
    # Casualty words only where the templates put them: figures in filler would be noise claims.
    banned = {"killed", "dead", "died", "wounded", "injured", "missing", "toll", "deaths", "bodies",
              "casualties", "victims", "killing", "killings", "death", "fatal", "dying", "die"}
    words = sorted((w for w in counts if w not in banned), key=lambda w: (-counts[w], w))
    weights = 1.0 / np.arange(1, len(words) + 1) ** 1.05
    return words, weights / weights.sum()


class _Prose:
    def __init__(self, seed: int):
        self.words, self.weights = _vocabulary()
        self.np = np.random.default_rng(seed)
        # What Generator.choice(p=...) draws with, computed once instead of at every call (the same
        # draws: choice is cdf.searchsorted(random(n), side="right") with this cdf).
        self.cdf = self.weights.cumsum()
        self.cdf /= self.cdf[-1]

    def sentences(self, n: int) -> list[str]:
        lengths = self.np.integers(9, 30, n)
        idx = self.cdf.searchsorted(self.np.random(int(lengths.sum())), side="right").tolist()
        out, at = [], 0
        for k in lengths.tolist():
            words = [self.words[i] for i in idx[at:at + k]]
            at += k
            words[0] = words[0].capitalize()
            if k > 14:
                words[k // 2] += ","
            out.append(" ".join(words) + ".")
        return out


class Story(NamedTuple):
    key: int
    event: Optional[Event]
    day: float               # days since START (publication of the original)
    agency: Optional[str]
    title: str
    paragraphs: tuple[str, ...]
    figure: int              # the headline toll (0: no figures)


def _toll(event: Event, day: float) -> int:
    return int(event.base * (1 + event.growth) ** max(0.0, day - event.start_day))


def _claim_sentences(rng: random.Random, event: Event, day: float, agency: Optional[str]) -> list[str]:
    killed = _toll(event, day)
    place = rng.choice(event.places)
    weekday = WEEKDAYS[int(day) % 7]
    src = [s for s in SOURCES]
    rng.shuffle(src)
    civilians = max(2, int(killed * rng.uniform(0.3, 0.7)))
    children = max(1, civilians // rng.randint(3, 6))
    wounded = int(killed * rng.uniform(1.5, 4))
    missing = rng.randint(3, 60)
    credit = f" told {agency}" if agency else " said"
    what = event.name.split(" in ")[0].lower()
    out = [
        f"At least {killed} people were killed in the {what} in {event.region} on {weekday}, "
        f"the {src[0][0]}{credit}.",
        f"The {src[0][2].removeprefix('the ')} said {civilians} civilians, including {children} children, "
        f"were among the dead.",
        f"More than {wounded} people were wounded, according to {src[1][2]}.",
        f"{src[1][2][0].upper() + src[1][2][1:]} gave a lower toll, saying {max(1, killed - rng.randint(1, 9 + killed // 5))} "
        f"people had died in hospitals since {WEEKDAYS[(int(day) - 1) % 7]}.",
        f"In {place}, {missing} people were still missing, {src[2][2]} said.",
    ]
    return out[:rng.randint(2, 5)]


def make_story(key: int, rng: random.Random, prose: _Prose, events: list[Event], day: float,
               agency: Optional[str], spec: CorpusSpec) -> Story:
    active = [e for e in events if e.start_day <= day < e.start_day + e.days] or events[:1]
    n_paras = rng.randint(7, 13)
    paragraphs = [" ".join(prose.sentences(rng.randint(2, 4))) for _ in range(n_paras)]
    event, figure = None, 0
    if rng.random() >= spec.no_figures_share:
        event = active[min(int(rng.paretovariate(1.2)) - 1, len(active) - 1)]
        claims = _claim_sentences(rng, event, day, agency)
        figure = _toll(event, day)
        place = rng.choice(event.places).upper()
        lead = claims[0]
        if agency:
            lead = f"{place}, {event.region} ({agency}) - {lead}"
        paragraphs[0] = lead + " " + paragraphs[0]
        for i, sentence in enumerate(claims[1:], start=1):
            paragraphs[i] = paragraphs[i] + " " + sentence
        paragraphs[-2] += f" The figures could not be independently verified. Access to {event.region} remains restricted."
        title = f"{event.region}: {rng.choice(['toll rises to', 'at least', 'monitor says', 'death toll reaches'])} {figure} {rng.choice(['dead', 'killed', 'as fighting goes on', 'amid calls for calm'])}"
    else:
        title = " ".join(prose.sentences(1)[0].rstrip(".").split()[:rng.randint(6, 11)]).replace(",", "")
    if agency:
        paragraphs.append(f"(Reporting by {_name(rng, 2)} {_name(rng, 3)}; Editing by {_name(rng, 2)} {_name(rng, 2)})")
    return Story(key, event, day, agency, title, tuple(paragraphs), figure)


# ---- copies -------------------------------------------------------------------------------------
COPY_EDITS = ("verbatim", "verbatim", "retitled", "trimmed", "intro", "typos", "reparagraphed", "updated")


def edit_copy(story: Story, edit: str, rng: random.Random, prose: _Prose) -> tuple[str, tuple[str, ...]]:
    title, paras = story.title, list(story.paragraphs)
    if edit == "retitled":
        title = " ".join(prose.sentences(1)[0].rstrip(".").split()[:8]).replace(",", "")
    elif edit == "trimmed":
        paras = paras[:max(3, int(len(paras) * rng.uniform(0.6, 0.85)))]
    elif edit == "intro":
        paras = [" ".join(prose.sentences(2))] + paras
    elif edit == "typos":
        words = "\n\n".join(paras).split(" ")
        for j in rng.sample(range(len(words)), len(words) // 30):
            w = words[j]
            if len(w) > 3 and w.isalpha():
                k = rng.randrange(1, len(w) - 1)
                words[j] = w[:k] + w[k + 1] + w[k] + w[k + 2:]
        paras = " ".join(words).split("\n\n")
    elif edit == "reparagraphed":
        paras = [" ".join(paras[j:j + 2]) for j in range(0, len(paras), 2)]
    elif edit == "updated" and story.figure:
        newer = story.figure + rng.randint(2, 20)
        paras = [p.replace(f"At least {story.figure} people", f"At least {newer} people") for p in paras]
        title = title.replace(str(story.figure), str(newer))
    return title, tuple(paras)


class Doc(NamedTuple):
    path: str
    kind: str                # original, copy, hostile
    edit: Optional[str]
    story: int
    outlet: Outlet
    published: dt.datetime
    title: str
    paragraphs: tuple[str, ...]


def _copies(rng: random.Random, spec: CorpusSpec) -> int:
    ks = np.arange(1, spec.max_copies + 1)
    w = ks ** -spec.copy_zipf
    return int(rng.choices(ks.tolist(), weights=w.tolist())[0])


def plan(spec: CorpusSpec) -> tuple[list[Doc], list[Event], list[Outlet]]:
    """Every document of the corpus, in publication order (hostile files included)."""
    rng = random.Random(spec.seed)
    prose = _Prose(spec.seed)
    n_days = max(1, round(spec.docs / spec.docs_per_day))
    outlets = _outlets(rng, spec)
    events = _events(rng, spec, n_days)
    n_hostile = int(round(spec.docs * spec.hostile_rate))
    articles: list[Doc] = []
    key = 0
    target = spec.docs - n_hostile
    while len(articles) < target:
        day = n_days * len(articles) / target + rng.random() * 0.02
        agency = rng.choice(AGENCIES) if rng.random() < spec.wire_share else None
        story = make_story(key, rng, prose, events, day, agency, spec)
        key += 1
        publish = [(story.title, story.paragraphs, "original", rng.choice(outlets), day)]
        if agency:
            for outlet in rng.sample(outlets, _copies(rng, spec)):
                edit = rng.choice(COPY_EDITS)
                title, paras = edit_copy(story, edit, rng, prose)
                publish.append((title, paras, edit, outlet, day + rng.uniform(0.01, 1.0)))
        for title, paras, edit, outlet, when in publish:
            published = START + dt.timedelta(days=when)
            kind = "original" if edit == "original" else "copy"
            articles.append(Doc("", kind, None if kind == "original" else edit, story.key, outlet,
                                published, title, paras))
    articles = sorted(articles[:target], key=lambda d: d.published)
    hostile_at = set(rng.sample(range(len(articles) + n_hostile), n_hostile))
    docs, it = [], iter(articles)
    for i in range(len(articles) + n_hostile):
        if i in hostile_at:
            when = docs[-1].published if docs else START
            docs.append(Doc("", "hostile", rng.choice(HOSTILE_KINDS), -1, rng.choice(outlets), when, "", ()))
        else:
            docs.append(next(it))
    return docs, events, outlets


# ---- rendering ----------------------------------------------------------------------------------
def _slug(text: str, n: int = 6) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower())[:n]) or "story"


def _block(rng: random.Random, n_bytes: int, words: list[str]) -> str:
    """A deterministic run of script-like text of about n_bytes."""
    parts, size = [], 0
    while size < n_bytes:
        word = rng.choice(words).replace("'", "") + rng.choice(("", "_", "$", "Fn", "2"))
        piece = rng.choice((f"var {word}=function(e){{return e&&e.{word}}};",
                            f'"{word}":{rng.randint(0, 99999)},', f"{word}.push({{id:{rng.randint(0, 999)}}});",
                            f"if(!{word}){{{word}=[]}}"))
        parts.append(piece)
        size += len(piece)
    return "".join(parts)


_CARD = (
    '<div class="card flex flex-col gap-2 p-4 border-b border-gray-200 hover:bg-gray-50 md:w-1/3 lg:w-1/4" '
    'data-track="more-{k}" data-id="{id}"><a class="card-link block relative overflow-hidden" href="{u}">'
    '<picture><source type="image/webp" srcset="https://cdn.{h}/img/{id}-480.webp 480w, '
    'https://cdn.{h}/img/{id}-960.webp 960w"><img loading="lazy" class="w-full h-auto object-cover" '
    'src="https://cdn.{h}/img/{id}-480.jpg" alt="" width="480" height="270"></picture></a>'
    '<div class="card-body px-2"><span class="kicker text-xs uppercase tracking-wide">World</span>'
    '<h3 class="card-title text-lg font-bold leading-tight"><a href="{u}">{t}</a></h3>'
    '<p class="summary text-sm text-gray-600 line-clamp-3">{t}.</p><div class="meta flex items-center">'
    '<svg class="icon icon-clock" viewBox="0 0 24 24" width="12" height="12" aria-hidden="true"><path '
    'd="M12 2C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zm0 18c-4.41 0-8-3.59-8-8s3.59'
    '-8 8-8 8 3.59 8 8-3.59 8-8 8zm.5-13H11v6l5.25 3.15.75-1.23-4.5-2.67z"/></svg>'
    '<span class="ago">{k} hours ago</span></div></div></div>')


class _Site:
    """The fixed parts of one outlet's pages, built once."""

    def __init__(self, outlet: Outlet, rng: random.Random, prose: _Prose, kib: tuple[int, int]):
        self.outlet = outlet
        o, h = outlet, outlet.host
        sections = [w.capitalize() for w in prose.words[20:400:9]][:36]
        nav = "".join(
            f'<li class="nav-item"><a href="https://www.{h}/{s.lower()}">{s}</a><ul class="sub">'
            + "".join(f'<li><a href="https://www.{h}/{s.lower()}/{t.lower()}">{t}</a></li>'
                      for t in sections[i % 7:i % 7 + 5]) + "</ul></li>"
            for i, s in enumerate(sections[:16]))
        footer_links = "".join(f'<li><a href="https://www.{h}/about/{s.lower()}">{s}</a></li>'
                               for s in sections)
        self.kib = kib
        self.bundle = _block(rng, int(kib[1] * 1024 * 0.5), prose.words)
        self.css = "".join(f".{w}-{i}{{margin:{i % 9}px;padding:{i % 5}px;color:#{i * 4099 % 0xFFFFFF:06x}}}"
                           for i, w in enumerate(prose.words[:300]))
        self.head = (
            f'<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
            + "".join(f'<link rel="preload" href="https://cdn.{h}/static/{w}.js" as="script">' for w in sections[:8])
            + f'<link rel="stylesheet" href="https://cdn.{h}/static/site.css?v=7.{outlet.template}">'
            + f"<style>{self.css}</style>")
        self.header = (
            f'<div id="consent" class="consent-banner" role="dialog"><p>We and our {rng.randint(100, 900)} '
            f"partners use cookies to personalise content and ads, to provide social media features and to "
            f'analyse our traffic.</p><button class="accept">Accept all</button><button class="reject">Reject '
            f'all</button><a href="https://www.{h}/privacy">Privacy settings</a></div>'
            f'<header class="site-header t{o.template}"><a class="logo" href="https://www.{h}/">'
            f'<img src="https://cdn.{h}/img/logo.svg" alt="{html.escape(o.name)}"></a>'
            f'<nav class="main-nav" aria-label="Main"><ul>{nav}</ul></nav>'
            f'<form class="search" action="https://www.{h}/search"><input name="q" placeholder="Search">'
            f"<button>Search</button></form></header>")
        self.footer = (
            f'<footer class="site-footer"><div class="newsletter"><h3>Get our morning briefing</h3>'
            f'<form action="https://www.{h}/newsletter"><input type="email" name="email"><button>Sign up'
            f'</button></form></div><ul class="footer-links">{footer_links}</ul><p class="copyright">'
            f"&copy; 2026 {html.escape(o.name)}. All rights reserved. Registered office: {rng.randint(1, 300)} "
            f"{_name(rng, 2)} Street.</p></footer>")

        self.fixed_bytes = len(self.head) + len(self.header) + len(self.footer) + 6000

    def page(self, doc: Doc, rng: random.Random, teasers: list[tuple[str, str]]) -> str:
        o, h = self.outlet, self.outlet.host
        title = html.escape(doc.title)
        slug = _slug(doc.title)
        page_id = zlib.crc32(f"{doc.story}/{o.name}".encode()) % 10**6
        url = f"https://www.{h}/{doc.published:%Y/%m/%d}/{slug}-{page_id}"
        iso = doc.published.strftime("%Y-%m-%dT%H:%M:%SZ")
        meta = ""
        if o.date_style == "meta":
            meta = f'<meta property="article:published_time" content="{iso}">'
        jsonld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": doc.title,
                  "publisher": {"@type": "Organization", "name": o.name}, "mainEntityOfPage": url}
        if o.date_style == "jsonld":
            jsonld["datePublished"] = iso
        body = []
        for i, para in enumerate(doc.paragraphs):
            body.append(f"<p>{html.escape(para)}</p>")
            if i in (2, 6):
                body.append(f'<div class="ad-slot" id="ad-{i}" data-size="300x250"><script>'
                            f'window.ads=window.ads||[];ads.push("{slug}-{i}")</script></div>')
            if i == 4 and teasers:
                t, u = teasers[0]
                body.append(f'<aside class="read-more"><strong>Read more:</strong> <a href="{u}">{html.escape(t)}</a></aside>')
        time_el = (f'<time datetime="{iso}">{doc.published:%d %B %Y, %H:%M}</time>'
                   if o.date_style in ("time", "meta", "jsonld") else "")
        most_read = "".join(f'<li><a href="{u}">{html.escape(t)}</a></li>' for t, u in teasers[1:11])
        ticker = "".join(f'<li><a href="{u}">{html.escape(t)}</a></li>' for t, u in teasers[-8:])
        tags = "".join(f'<a class="tag" href="https://www.{h}/tag/{w}">{w}</a>' for w in slug.split("-"))
        # Real pages (../shared/corpora/html, 100-400 KiB) average 173 KiB, ~900 elements and 40% of
        # their bytes in scripts and styles: the page is sized to a drawn target the same way.
        target = int(rng.uniform(*self.kib) * 1024)
        script_bytes = int(target * rng.uniform(0.3, 0.45))
        cards, size, k = [], 0, 0
        while size < target - script_bytes - self.fixed_bytes - len(doc.paragraphs) * 400:
            t, u = teasers[1 + k % (len(teasers) - 1)] if len(teasers) > 1 else (doc.title, url)
            card = _CARD.format(h=h, k=k, u=u, t=html.escape(t), id=rng.randrange(10**7))
            cards.append(card)
            size += len(card)
            k += 1
        cards = "".join(cards)
        script = self.bundle[:script_bytes]
        return (
            f'<!DOCTYPE html><html lang="en"><head>{self.head}<title>{title} | {html.escape(o.name)}</title>'
            f'<meta name="description" content="{title}"><meta property="og:title" content="{title}">'
            f'<meta property="og:site_name" content="{html.escape(o.name)}"><meta property="og:url" content="{url}">'
            f'{meta}<link rel="canonical" href="{url}">'
            f'<script type="application/ld+json">{json.dumps(jsonld)}</script>'
            f"<script>{script}</script></head>"
            f'<body class="article t{o.template}">{self.header}'
            f'<div class="ticker"><span>Breaking</span><ul>{ticker}</ul></div>'
            f'<main id="content"><article class="story"><header><a class="section" href="https://www.{h}/world">World</a>'
            f'<h1 class="headline">{title}</h1><div class="byline">By {_name(rng, 2)} {_name(rng, 3)} {time_el}</div></header>'
            f'<figure><img src="https://cdn.{h}/img/{slug}.jpg" alt="{title}"><figcaption>{title}. '
            f'Photo: {_name(rng, 2)}</figcaption></figure>'
            f'<div class="article-body">{"".join(body)}</div>'
            f'<div class="share"><a href="https://social.example/share?u={url}">Share</a>'
            f'<a href="mailto:?subject={slug}">Email</a></div><div class="tags">{tags}</div></article>'
            f'<aside class="sidebar"><h2>Most read</h2><ol>{most_read}</ol></aside></main>'
            f'<section class="more"><h2>More from {html.escape(o.name)}</h2>{cards}</section>'
            f"{self.footer}<script>window.dataLayer=[{json.dumps({'page': slug})}];</script></body></html>")


def render_text(doc: Doc) -> str:
    url = f"https://{doc.outlet.host}/{doc.published:%Y/%m/%d}/{_slug(doc.title)}"
    return (f" date {doc.published:%Y-%m-%d}\nurl: {url}\n{doc.title}\n\n" + "\n\n".join(doc.paragraphs)
            + "\n")


def render_feed(outlet: Outlet, docs: list[Doc]) -> str:
    items = []
    for doc in docs:
        url = f"https://www.{outlet.host}/{doc.published:%Y/%m/%d}/{_slug(doc.title)}-{doc.story}"
        content = "".join(f"<p>{html.escape(p)}</p>" for p in doc.paragraphs)
        items.append(
            f"<item><title>{html.escape(doc.title)}</title><link>{url}</link>"
            f"<guid isPermaLink=\"false\">{url}#{len(items)}</guid>"
            f"<pubDate>{doc.published:%a, %d %b %Y %H:%M:%S} +0000</pubDate>"
            f"<description>{html.escape(doc.paragraphs[0][:200])}</description>"
            f"<content:encoded><![CDATA[{content}]]></content:encoded></item>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>{html.escape(outlet.name)}</title><link>https://www.{outlet.host}/</link>"
            f"<language>en</language>{''.join(items)}</channel></rss>\n")


HOSTILE_KINDS = ("empty", "binary", "broken_feed", "no_article", "not_utf8", "unsupported")


def render_hostile(kind: str, rng: random.Random) -> tuple[str, bytes]:
    """(extension, bytes) of a hostile file."""
    if kind == "empty":
        return ".html", b""
    if kind == "binary":
        return ".html", bytes(rng.getrandbits(8) for _ in range(4096)) + b"\x00" * 64
    if kind == "broken_feed":
        return ".xml", b'<?xml version="1.0"?><rss version="2.0"><channel><title>Cut</title><item><title>Half'
    if kind == "no_article":
        return ".html", (b"<html><head><title>Consent</title></head><body><div class='wall'>"
                         b"<p>Please accept cookies to continue.</p><button>OK</button></div></body></html>")
    if kind == "not_utf8":
        return ".txt", ("Caf\u00e9 r\u00e9sum\u00e9 na\u00efve " * 40).encode("latin-1")
    return ".pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 8


# What the rendering processes share (set before they fork): the plan, the sites, the teaser pool.
_RENDER: dict = {}


def _doc_rng(spec: CorpusSpec, i: int) -> random.Random:
    """Document i's own random stream: its bytes depend on the spec and i alone, so the corpus is
    the same whatever the number of rendering processes."""
    return random.Random(f"{spec.seed}/{i}")


def _render_part(part: int) -> dict[str, int]:
    """Writes the files of the documents dealt to `part` (every n-th document, and every n-th
    feed file); returns its counts."""
    spec, docs, sites, headlines, feeds, root, parts = (
        _RENDER[k] for k in ("spec", "docs", "sites", "headlines", "feeds", "root", "parts"))
    counts = {"files": 0, "bytes": 0, "html_bytes": 0, "html_files": 0}

    def emit(path: Path, data: bytes, when: dt.datetime) -> None:
        path.write_bytes(data)
        stamp = when.timestamp()
        os.utime(path, (stamp, stamp))
        counts["files"] += 1
        counts["bytes"] += len(data)

    for i in range(part, len(docs), parts):
        doc = docs[i]
        day = root / f"{doc.published:%Y-%m-%d}"
        if doc.kind == "hostile":
            ext, data = render_hostile(doc.edit, _doc_rng(spec, i))
            emit(day / f"hostile-{i:06d}{ext}", data, doc.published)
        elif doc.outlet.format == "text":
            emit(day / f"{doc.outlet.host}-{i:06d}.txt", render_text(doc).encode(), doc.published)
        elif doc.outlet.format == "html":
            rng = _doc_rng(spec, i)
            k = rng.randrange(0, max(1, len(headlines) - 40))
            data = sites[doc.outlet.name].page(doc, rng, headlines[k:k + 40]).encode()
            emit(day / f"{doc.outlet.host}-{i:06d}.html", data, doc.published)
            counts["html_bytes"] += len(data)
            counts["html_files"] += 1
    for (day, host), entries in feeds[part::parts]:
        outlet = entries[0].outlet
        for at in range(0, len(entries), 20):
            chunk = entries[at:at + 20]
            emit(root / day / f"{host}-feed-{at // 20}.xml", render_feed(outlet, chunk).encode(),
                 chunk[-1].published)
    return counts


def write(spec: CorpusSpec, out: Path, processes: Optional[int] = None) -> dict:
    """Writes the corpus below `out` (rendered in `processes` forked processes, default one per
    core: the same bytes whatever their number); returns its manifest."""
    import multiprocessing

    docs, events, outlets = plan(spec)
    rng = random.Random(spec.seed + 1)
    prose = _Prose(spec.seed + 1)
    sites = {o.name: _Site(o, rng, prose, spec.html_kib) for o in outlets if o.format == "html"}
    root = out / "input"
    headlines = [(d.title, f"https://www.{d.outlet.host}/{_slug(d.title)}") for d in docs[:400] if d.title]
    counts = {"documents": len(docs), "files": 0, "bytes": 0, "by_format": {}, "by_kind": {},
              "by_edit": {}, "html_bytes": 0, "html_files": 0}
    feeds: dict[tuple[str, str], list[Doc]] = {}
    for doc in docs:
        day = f"{doc.published:%Y-%m-%d}"
        (root / day).mkdir(parents=True, exist_ok=True)
        counts["by_kind"][doc.kind] = counts["by_kind"].get(doc.kind, 0) + 1
        if doc.edit:
            counts["by_edit"][doc.edit] = counts["by_edit"].get(doc.edit, 0) + 1
        fmt = "hostile" if doc.kind == "hostile" else doc.outlet.format
        counts["by_format"][fmt] = counts["by_format"].get(fmt, 0) + 1
        if fmt == "feed":
            feeds.setdefault((day, doc.outlet.host), []).append(doc)
    parts = max(1, processes or os.cpu_count() or 1)
    _RENDER.update(spec=spec, docs=docs, sites=sites, headlines=headlines, feeds=sorted(feeds.items()),
                   root=root, parts=parts)
    try:
        if parts == 1:
            results = [_render_part(0)]
        else:
            with multiprocessing.get_context("fork").Pool(parts) as pool:
                results = pool.map(_render_part, range(parts), chunksize=1)
    finally:
        _RENDER.clear()
    for result in results:
        for key, n in result.items():
            counts[key] += n
    (out / "events.toml").write_text(events_toml(events), encoding="utf-8")
    (out / "sources.toml").write_text(sources_toml(), encoding="utf-8")
    stories = {d.story for d in docs if d.kind != "hostile"}
    manifest = {"spec": dataclasses.asdict(spec), "fingerprint": fingerprint(spec),
                "stories": len(stories), **counts}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def fingerprint(spec: CorpusSpec) -> str:
    """Changes when the spec or this generator's code does: a corpus on disk with the same one is
    the same bytes."""
    import hashlib

    code = Path(__file__).read_bytes()
    return hashlib.blake2b(code + repr(dataclasses.asdict(spec)).encode(), digest_size=8).hexdigest()


def events_toml(events: list[Event]) -> str:
    lines = ["# Generated by benchmarks/corpus.py: invented events.\n"]
    for e in events:
        start = (START + dt.timedelta(days=e.start_day)).date().isoformat()
        lines.append(f'[[event]]\nid = "{e.id}"\nname = "{e.name}"\nkeywords = {json.dumps(list(e.keywords))}\n'
                     f'places = {json.dumps(list(e.places))}\nstart = "{start}"\n')
    return "\n".join(lines)


def sources_toml() -> str:
    lines = ["# Generated by benchmarks/corpus.py: invented sources.\n"]
    for name, kind, alias, canonical in SOURCES:
        aliases = sorted({name, alias, alias.removeprefix("the "), canonical})
        lines.append(f'[[source]]\ncanonical = "{canonical}"\nname = "{name}"\nkind = "{kind}"\n'
                     f"aliases = {json.dumps(aliases)}\n")
    for agency in AGENCIES:
        lines.append(f'[[source]]\ncanonical = "{agency}"\nname = "{agency}"\nkind = "media"\n'
                     f'aliases = ["{agency}"]\n')
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=CorpusSpec.seed)
    parser.add_argument("--html-share", type=float, default=CorpusSpec.html_share,
                        help="share of the outlets that publish HTML pages")
    parser.add_argument("--text-share", type=float, default=CorpusSpec.text_share,
                        help="share of the outlets that publish text files (the rest: feeds)")
    parser.add_argument("--processes", type=int, default=None,
                        help="rendering processes (default: one per core; the bytes do not depend on it)")
    args = parser.parse_args(argv)
    spec = CorpusSpec(args.docs, seed=args.seed, html_share=args.html_share, text_share=args.text_share)
    manifest = write(spec, args.out, args.processes)
    print(json.dumps({k: v for k, v in manifest.items() if k != "spec"}, indent=1))


if __name__ == "__main__":
    main()
