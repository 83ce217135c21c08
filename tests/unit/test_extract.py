import datetime as dt

import pytest
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas import Article, DeadLetter, RawDoc
from tollwatch.transforms.extract import (Extracted, ExtractError, dateline_date, detect_format,
                                          doc_id_for, extract_articles, extract_feed, extract_html,
                                          extract_text_file, headline, normalized_text_hash,
                                          to_article)

BODY = ("Floodwaters rose through the river town of Lornach overnight, and rescue crews said on "
        "Tuesday that at least 14 people had died and dozens more were missing. The regional "
        "emergency office said boats were reaching villages cut off since Sunday.")
UTC = dt.timezone.utc


def raw(uri: str, content: bytes, mtime: float | None = 1_700_000_000.0) -> RawDoc:
    return RawDoc(uri, None, None, Timestamp(1_800_000_000), content, None,
                  Timestamp(mtime) if mtime else None)


@pytest.mark.parametrize("content, published, url", [
    (f" date 2026-05-12 {BODY}", dt.datetime(2026, 5, 12, tzinfo=UTC), None),
    (f" date 2026-05-12\n{BODY}", dt.datetime(2026, 5, 12, tzinfo=UTC), None),
    (f" date 2026-05-12\nurl: https://www.example.org/a/1\n{BODY}",
     dt.datetime(2026, 5, 12, tzinfo=UTC), "https://www.example.org/a/1"),
    (f" date unknown\n{BODY}", None, None),
    (f"\ufeff date 2026-05-13 {BODY}", dt.datetime(2026, 5, 13, tzinfo=UTC), None),
])
def test_text_file_date_marker_and_url_line(content, published, url):
    found = extract_text_file(content.encode())
    assert found.text == BODY
    assert found.published == published
    assert found.date_source == ("metadata" if published else None)
    assert found.url == url
    assert found.outlet == ("example.org" if url else None)


def test_dateline_counts_but_a_date_in_the_prose_does_not():
    assert dateline_date(f"Published: 12 May 2026\n\n{BODY}") == dt.datetime(2026, 5, 12, tzinfo=UTC)
    assert dateline_date(f"May 12, 2026\n{BODY}") == dt.datetime(2026, 5, 12, tzinfo=UTC)
    prose = ("The president, speaking in an interview on Feb. 3, 2025, said the talks would resume "
             "within weeks, and officials confirmed the timetable.\n" + BODY)
    assert dateline_date(prose) is None


def test_text_without_marker_falls_back_to_file_mtime_then_ingestion_time():
    (article,) = extract_articles(raw("/in/a.txt", BODY.encode()))
    assert article.date_source == "file_mtime"
    assert article.published_at == Timestamp(1_700_000_000)
    (article,) = extract_articles(raw("/in/a.txt", BODY.encode(), mtime=None))
    assert article.date_source == "ingested"
    assert article.published_at == Timestamp(1_800_000_000)


def test_headline_of_a_text_file_is_an_early_short_non_sentence_line():
    assert headline(f"Search\n\nFLOODS\n\nRiver bursts its banks in Lornach overnight\n\n{BODY}") == \
        "River bursts its banks in Lornach overnight"
    assert headline(BODY) is None


def test_headline_is_one_of_the_first_eleven_lines_and_never_the_last_one():
    line = "River bursts its banks in Lornach"
    assert headline(line) is None  # the text's only line is its body
    assert headline("\n" * 10 + f"{line}\n{BODY}") == line
    assert headline("\n" * 11 + f"{line}\n{BODY}") is None
    assert headline(f"{'x' * 201}\n{line}\n{BODY}") is None  # a long line ends the search


def test_an_impossible_marker_date_is_no_date_and_no_dateline_is_sought():
    found = extract_text_file(f" date 2026-02-30\nPublished: 12 May 2026\n{BODY}".encode())
    assert (found.published, found.date_source) == (None, None)
    assert found.text.startswith("Published: 12 May 2026")


def test_published_at_is_the_whole_second_at_or_before_the_stated_time():
    plus_two = dt.timezone(dt.timedelta(hours=2))
    stated = dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=plus_two)  # 21:59:59.999999Z
    found = Extracted(BODY, None, None, None, stated, "metadata", None)
    article = to_article(raw("/in/a.txt", b""), found, Timestamp(1_800_000_000))
    assert (article.published_at, article.date_source) == (Timestamp(-7201), "metadata")


PAGE = f"""<!doctype html><html lang="en"><head><title>Floods kill 14 in Lornach | Valley Post</title>
<meta property="og:site_name" content="Valley Post">
<link rel="canonical" href="https://valleypost.example/news/floods-lornach">
<meta property="article:published_time" content="2026-05-12T09:40:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<div class="cookie">We use cookies to improve your experience. <button>Accept all</button></div>
<article><h1>Floods kill 14 in Lornach</h1><p>{BODY}</p>
<p>Residents described water reaching the first floor of homes within an hour, and the mayor asked
people living near the river to move to the school on the hill until the level falls again.</p></article>
<aside><h3>Related</h3><a href="/x">Storm warning issued for the coast</a></aside>
<footer>Copyright 2026 Valley Post. All rights reserved.</footer></body></html>"""


def test_html_page_text_title_date_site_and_url_from_metadata():
    found = extract_html(PAGE.encode())
    assert found.text.startswith("Floodwaters rose"), "the headline is the title, not the text"
    assert found.text.endswith("level falls again.")
    assert "cookies" not in found.text and "Related" not in found.text
    assert found.title.startswith("Floods kill 14 in Lornach")
    assert found.outlet == "Valley Post"
    assert found.url == "https://valleypost.example/news/floods-lornach"
    assert found.published == dt.datetime(2026, 5, 12, 9, 40, tzinfo=UTC)
    assert found.date_source == "metadata"


FEED = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>Valley Post</title><link>https://valleypost.example/</link>
<item><title>Floods kill 14</title><link>https://valleypost.example/a/1</link><guid>vp-1</guid>
<pubDate>Tue, 12 May 2026 09:40:00 GMT</pubDate><description>Short teaser.</description>
<content:encoded><![CDATA[<p>{BODY}</p><p>More to follow as crews reach the villages.</p>]]></content:encoded></item>
<item><title>Teaser only</title><link>https://valleypost.example/a/2</link><guid>vp-2</guid>
<description>Just a line.</description></item>
</channel></rss>"""


def test_feed_entries_become_articles_and_a_textless_entry_a_dead_letter():
    results = extract_articles(raw("/in/feed.xml", FEED.encode()))
    articles = [r for r in results if isinstance(r, Article)]
    dead = [r for r in results if isinstance(r, DeadLetter)]
    assert len(articles) == 1 and len(dead) == 1
    (a,) = articles
    assert a.uri == "/in/feed.xml#vp-1" and a.outlet == "Valley Post" and a.title == "Floods kill 14"
    assert a.date_source == "feed"
    assert a.published_at.to_utc_datetime(has_tz=True) == dt.datetime(2026, 5, 12, 9, 40, tzinfo=UTC)
    assert a.text.startswith("Floodwaters rose") and a.text.endswith("reach the villages.")
    assert dead[0].uri == "/in/feed.xml#vp-2" and dead[0].error_type == "no_article_text"


@pytest.mark.parametrize("name, content, error_type", [
    ("empty.txt", b"", "empty"),
    ("blank.html", b"  \n\t ", "empty"),
    ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("latin1.txt", ("Caf\xe9 " + BODY).encode("latin-1"), "undecodable"),
    ("menu.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "no_article_text"),
    ("broken.xml", b"<rss><channel><item><title>unclosed", "malformed_feed"),
    ("short.txt", b" date 2026-05-12 Too short.", "no_article_text"),
])
def test_bad_documents_become_dead_letters_with_a_reason(name, content, error_type):
    (result,) = extract_articles(raw(f"/in/{name}", content))
    assert isinstance(result, DeadLetter)
    assert (result.uri, result.stage, result.error_type) == (f"/in/{name}", "extract", error_type)
    assert result.message


def test_doc_id_is_stable_and_distinguishes_feed_entries():
    assert doc_id_for("/a.txt") == doc_id_for("/a.txt") != doc_id_for("/b.txt")
    assert doc_id_for("/f.xml", "1") != doc_id_for("/f.xml", "2")
    a1 = extract_articles(raw("/in/a.txt", BODY.encode()))[0]
    a2 = extract_articles(raw("/in/a.txt", BODY.encode()))[0]
    assert a1.doc_id == a2.doc_id


def test_normalized_hash_ignores_case_punctuation_and_spacing_only():
    assert normalized_text_hash("At least 14 died.\n\nCrews said") == \
        normalized_text_hash("at least 14 died crews said")
    assert normalized_text_hash("at least 14 died") != normalized_text_hash("at least 15 died")


@pytest.mark.parametrize("text", [
    "", "  ", "At least 14 died.\n\nCrews said", "snake_case_id and_ __ _x_", " -- ...\t!",
    "Ärzte zählten 14 Tote in Müllheim", "“Quoted” — said the mayor’s office…",
    "ﬁre at ① a.m., ² km\u00a0away\u2028next", "٣٤ قتيلا في المدينة", "İstanbul STRASSE straße",
    "e\u0301te\u0301 cafe\u0301!", "中文新闻 報道 14", "emoji 😀 in_words x😀y",
])
def test_normalized_hash_is_the_regex_folding_it_always_was(text):
    # Hashes of earlier runs must still match: the fast folding is this definition.
    import hashlib
    import re
    import unicodedata

    folded = re.sub(r"[^\w]+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()
    assert normalized_text_hash(text) == hashlib.blake2b(folded.encode("utf-8"), digest_size=12).hexdigest()


def test_a_lone_surrogate_folds_like_punctuation():
    assert normalized_text_hash("text \ud800here") == normalized_text_hash("text here")


@pytest.mark.parametrize("uri, content, expected", [
    ("/a.HTML", b"", "html"), ("/a.txt", b"<html>", "text"), ("/a.atom", b"", "feed"),
    ("/noext", b"<?xml version='1.0'?><rss>", "feed"), ("/noext", b"<!DOCTYPE html><html>", "html"),
    ("/noext", b"plain words", "text"),
])
def test_detect_format(uri, content, expected):
    assert detect_format(uri, content) == expected


def test_extract_error_kind_is_kept():
    with pytest.raises(ExtractError) as info:
        extract_text_file(b"\xff\xfe\xfa")
    assert info.value.kind in ("undecodable", "no_article_text")


def test_feed_without_entries_is_a_dead_letter():
    with pytest.raises(ExtractError) as info:
        list(extract_feed(b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
                          b'</channel></rss>'))
    assert info.value.kind == "empty_feed"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-16-le", "utf-32-be"])
def test_utf16_and_utf32_text_is_not_mistaken_for_binary(encoding):
    from tollwatch.transforms.extract import check_content
    check_content(("<?xml version='1.0'?><rss><channel><title>x</title></channel></rss>")
                  .encode(encoding))


# Outlet and title as a reader names them, not as a page's metadata happens to hold them.
@pytest.mark.parametrize("name, url, outlet", [
    ("https://www.hawaiinewsnow.com", "https://www.hawaiinewsnow.com/2019/a", "hawaiinewsnow.com"),
    ("www.example.org", None, "example.org"),
    ("Wday_", "https://www.wday.ru/a/", "wday.ru"),
    ("Hosted", "https://hosted.ap.org/x/article/1", "hosted.ap.org"),
    ("The Telegraph", "https://www.telegraph.co.uk/a", "The Telegraph"),
    ("Agence France-Presse", None, "Agence France-Presse"),
    (None, "https://www.bbc.com/news/1", "bbc.com"),
])
def test_outlets_are_names_not_addresses_handles_or_platform_words(name, url, outlet):
    from tollwatch.transforms.extract import clean_outlet

    assert clean_outlet(name, url) == outlet


def test_a_title_that_is_a_cms_name_gives_way_to_the_pages_og_title():
    from tollwatch.transforms.extract import page_title

    page = (b"<html><head><meta property='og:title' content='Plumber jailed after boiler "
            b"killed millionaire&#39;s daughter  '></head></html>")
    assert page_title("escenic", page) == "Plumber jailed after boiler killed millionaire's daughter"
    assert page_title("Floods kill 12", page) == "Floods kill 12"
    assert page_title("escenic", b"<html></html>") == "escenic"
