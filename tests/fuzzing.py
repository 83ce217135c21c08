"""Fuzz targets and input strategies for the claim parser and the document readers.

Shared by tests/unit/test_fuzz.py (bounded Hypothesis runs in the suite) and benchmarks/fuzz.py (long
Hypothesis runs, and atheris when it is installed). A target takes the fuzzed input and raises
AssertionError when a property breaks; any other exception is a crash.
"""

from __future__ import annotations

from hypothesis import strategies as st

CASUALTY_WORDS = (
    "killed", "dead", "died", "injured", "wounded", "missing", "casualties", "death toll", "bodies",
    "people", "civilians", "children", "soldiers", "at least", "more than", "up to", "about", "between",
    "and", "or", "dozens of", "hundreds", "thousands of", "said", "according to", "the ministry",
    "police", "rose to", "including", "among the dead", "since Monday", "on Friday", "in the village of",
    ",", ".", ";", "-", "\u2013", "(", ")", '"', "\n", "\n\n", "%", "$", "^", "e", "\u00a0", "...",
)
NUMBERS = st.one_of(
    st.integers(-10**40, 10**40).map(str),
    st.integers(0, 10**12).map(lambda n: f"{n:,}"),
    st.sampled_from(["10^30", "1e30", "-5", "1.5 million", "two dozen", "a billion billion", "½",
                     "٣", "𝟕", "1,000,000,000,000,000", "07", "3-5", "twenty-three", "0x1F"]),
)
TOKENS = st.one_of(st.sampled_from(CASUALTY_WORDS), NUMBERS, st.text(max_size=12))
CLAIM_TEXTS = st.lists(TOKENS, max_size=80).map(" ".join)


def check_claims(text: str) -> None:
    """extract_claims never raises; every claim is well-formed, checkable and storable."""
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.schemas import Article, Claim, to_arrow_table
    from tollwatch.schemas.records import GROUPS, MEASURES, QUALIFIERS, SCOPES
    from tollwatch.transforms.claims import MAX_FIGURE, extract_claims, to_claim

    mentions = extract_claims(text)
    now = Timestamp(1_778_000_000)
    article = Article("d", "u", None, None, None, now, "metadata", now, text, None, ["e"], 0, "d",
                      None, None, None, True)
    for m in mentions:
        assert 0 <= m.char_start < m.char_end <= len(text), m
        assert m.measure in MEASURES and m.qualifier in QUALIFIERS and m.group in GROUPS
        assert m.scope in SCOPES
        for value in (m.number, m.number_high, m.value_low, m.value_high):
            assert value is None or 0 <= value <= MAX_FIGURE + 1, m
    if mentions:
        to_arrow_table([to_claim(article, m) for m in mentions], Claim)


ARTICLE = ("The death toll from the landslide in the hill town of Orvel rose to 23 on Wednesday, "
           "the regional civil protection agency said, as rescuers dug through mud for a second day.")
XMLISH = st.sampled_from(["<", ">", "&", "&amp;", "&lol;", "<![CDATA[", "]]>", "<p>", "</p>", "<div>",
                          "<item>", "</item>", "<entry>", "<!DOCTYPE x [<!ENTITY a 'b'>]>", "\x00",
                          "<?xml version='1.0' encoding='latin-1'?>", "\ufeff", "<script>", "</html>"])
FIELD = st.one_of(st.text(max_size=40), XMLISH, st.just(ARTICLE))
DATES = st.one_of(st.sampled_from(["Wed, 13 May 2026 08:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
                                   "Mon, 01 Jan 1900 00:00:00 GMT", "2026-05-13T08:00:00Z", "yesterday",
                                   "0000-00-00", "2026-02-30", ""]), st.text(max_size=20))


@st.composite
def feeds(draw) -> bytes:
    items = "".join(
        f"<item><title>{draw(FIELD)}</title><guid>{draw(st.sampled_from(['a', 'b', draw(FIELD)]))}</guid>"
        f"<pubDate>{draw(DATES)}</pubDate><description>{draw(FIELD)}{draw(FIELD)}</description></item>"
        for _ in range(draw(st.integers(0, 4))))
    head = draw(st.sampled_from(["<?xml version='1.0'?>", "", "\ufeff<?xml version='1.0' encoding='utf-8'?>"]))
    doc = f"{head}<rss version='2.0'><channel><title>{draw(FIELD)}</title>{items}</channel></rss>"
    return _mangle(draw, doc)


@st.composite
def pages(draw) -> bytes:
    meta = draw(st.sampled_from(["", f"<meta property='article:published_time' content='{draw(DATES)}'>",
                                 "<meta charset='iso-8859-1'>"]))
    body = "".join(f"<p>{draw(FIELD)}</p>" for _ in range(draw(st.integers(0, 5))))
    doc = f"<html><head><title>{draw(FIELD)}</title>{meta}</head><body><article>{body}</article></body></html>"
    return _mangle(draw, doc)


@st.composite
def texts(draw) -> bytes:
    marker = draw(st.sampled_from(["", " date 2026-05-13 ", " date 9999-12-31\n", " date unknown\n",
                                   " date 2026-13-45 ", "December 31, 9999\n"]))
    url = draw(st.sampled_from(["", "url: https://news.example/a\n", "url: file:///etc/passwd\n"]))
    doc = marker + url + "\n".join(draw(st.lists(FIELD, max_size=6)))
    return _mangle(draw, doc)


def _mangle(draw, doc: str) -> bytes:
    data = doc.encode(draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1"])), errors="replace")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=16)) + data[at:]
    return data


DOCUMENTS = st.one_of(
    st.tuples(st.just("/in/feed.xml"), feeds()),
    st.tuples(st.just("/in/page.html"), pages()),
    st.tuples(st.just("/in/story.txt"), texts()),
    st.tuples(st.sampled_from(["/in/x.xml", "/in/x.html", "/in/x.txt", "/in/x"]), st.binary(max_size=2048)),
)


def check_document(uri: str, content: bytes) -> None:
    """extract_articles never raises and returns articles or dead letters that can be stored, with
    believable dates."""
    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.schemas import Article, DeadLetter, RawDoc, to_arrow_table
    from tollwatch.schemas.records import DATE_SOURCES
    from tollwatch.transforms.extract import MIN_ARTICLE_CHARS, extract_articles

    now = Timestamp(1_778_000_000)
    results = list(extract_articles(RawDoc(uri, None, None, now, content, None, None)))
    assert results, "nothing came out: neither an article nor a dead letter"
    articles = [r for r in results if isinstance(r, Article)]
    dead = [r for r in results if isinstance(r, DeadLetter)]
    assert len(articles) + len(dead) == len(results)
    for article in articles:
        assert len(article.text) >= MIN_ARTICLE_CHARS
        assert article.date_source in DATE_SOURCES
        assert article.published_at <= now + 2 * 24 * 3600, "a date far in the future was believed"
    assert len({a.doc_id for a in articles}) == len(articles), "two articles under one doc_id"
    if articles:
        to_arrow_table(articles, Article)
    if dead:
        to_arrow_table(dead, DeadLetter)
