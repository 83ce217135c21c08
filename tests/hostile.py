"""Hostile input files and a harness that runs each through tollwatch in a bounded child process.

Shared by tests/e2e/test_hostile.py (assertions) and benchmarks/hostile_table.py (the table of outcome,
peak memory and time per case). Each case is a file as it would be dropped into an input folder;
`expected` is what the run must make of it: 'article' (one or more articles, no dead letter) or
'dead_letter:<error_type>' (one dead letter of that type, no article).

`run_chain` drives one file through the DoFns of every stage of a batch run without a runner
(read -> extract -> repeats -> events -> staging with claims -> duplicate decision -> verdicts
applied -> Arrow tables as WriteParquet builds them); `run_isolated`
runs a function in a forked child with a wall-clock limit and reads the child's own peak RSS from
wait4, so a hang or a memory blow-up fails the case instead of the suite.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import resource
import select
import signal
import struct
import subprocess
import time
import zlib
from pathlib import Path
from typing import Callable, NamedTuple

SECRET = "TOLLWATCH-SECRET-7f3a9c"     # the content of the file the XXE cases point at
ARTICLE = ("The death toll from the landslide in the hill town of Orvel rose to 23 on Wednesday, "
           "the regional civil protection agency said, as rescuers dug through mud for a second day. "
           "Another 40 people were injured and taken to hospitals in the valley, officials added.")
BOMB_INFLATED_BYTES = 1 << 30          # what the compression bombs inflate to: 1 GiB
LONG_LINE_BYTES = 10 * 1024 * 1024
NESTING = 100_000


class Case(NamedTuple):
    name: str          # the file name in the input folder
    make: Callable[[Path], bytes]   # (folder holding the secret file) -> the file's bytes
    expected: str      # 'article' or 'dead_letter:<error_type>'
    why: str
    mtime: float | None = None      # the file's modification time, when the case sets it
    place: Callable[[Path], None] | None = None  # makes an entry that is not a file (make: None)

    @property
    def label(self) -> str:
        """The name, printable (a name that is not UTF-8 with its bytes escaped)."""
        return os.fsencode(self.name).decode("utf-8", "backslashreplace")


def _rss(items: str, channel_extra: str = "", prolog: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>{prolog}<rss version="2.0"><channel>'
            f"<title>Hostile Wire</title><link>https://hostile.example/</link>{channel_extra}"
            f"{items}</channel></rss>").encode("utf-8")


def _item(description: str, title: str = "Orvel landslide", pub: str = "Wed, 13 May 2026 08:00:00 GMT",
          guid: str = "https://hostile.example/a") -> str:
    return (f"<item><title>{title}</title><link>{guid}</link><guid>{guid}</guid>"
            f"<pubDate>{pub}</pubDate><description>{description}</description></item>")


def _page(body: str, head: str = "<title>Orvel landslide</title>") -> bytes:
    return f"<html><head>{head}</head><body>{body}</body></html>".encode("utf-8")


def _laughs(levels: int = 10) -> str:
    lines = ['<!ENTITY lol0 "lollollollollol">']
    lines += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)]
    return "\n".join(lines)


def billion_laughs_feed(_: Path) -> bytes:
    # Expanded, &lol9; is 15 * 10^9 bytes.
    prolog = f"<!DOCTYPE rss [\n{_laughs()}\n]>"
    return _rss(_item(f"&lol9; {ARTICLE}"), channel_extra="<description>&lol9;</description>",
                prolog=prolog)


def quadratic_blowup_feed(_: Path) -> bytes:
    # One 100 kB entity referenced 20,000 times: 2 GB if expanded, defeats per-level limits.
    prolog = f'<!DOCTYPE rss [<!ENTITY big "{"x" * 100_000}">]>'
    return _rss(_item("&big;" * 20_000 + " " + ARTICLE), prolog=prolog)


def flat_entity_feed(_: Path) -> bytes:
    # Under expat's amplification limit (100 times the input), so its parser expands it.
    prolog = f'<!DOCTYPE rss [<!ENTITY big "{"x" * 100_000}">]>'
    return _rss(_item(ARTICLE, title="&big;" * 90), prolog=prolog)


def xxe_feed(folder: Path) -> bytes:
    prolog = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{folder / "secret.txt"}">]>'
    return _rss(_item(f"&xxe; {ARTICLE}", title="&xxe;"), prolog=prolog)


def xxe_parameter_entity_feed(folder: Path) -> bytes:
    # A parameter entity pulls an external DTD that would define more entities.
    (folder / "evil.dtd").write_text(f'<!ENTITY leak SYSTEM "file://{folder / "secret.txt"}">')
    prolog = f'<!DOCTYPE rss [<!ENTITY % ext SYSTEM "file://{folder / "evil.dtd"}"> %ext;]>'
    return _rss(_item(f"&leak; {ARTICLE}"), prolog=prolog)


def xxe_passwd_feed(_: Path) -> bytes:
    prolog = '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return _rss(_item(f"&xxe; {ARTICLE}"), prolog=prolog)


def file_links_feed(folder: Path) -> bytes:
    # In a feed file the links are data: nothing in a batch run follows them.
    links = (f"file://{folder / 'secret.txt'}", "file:///etc/passwd", "ftp://ftp.hostile.example/x",
             "http://169.254.169.254/latest/meta-data/", "http://localhost:8080/admin")
    return _rss("".join(_item(f"{ARTICLE} Entry {i}.", guid=link) for i, link in enumerate(links)))


def duplicate_guid_feed(_: Path) -> bytes:
    other = ARTICLE.replace("Orvel", "Brisca").replace("23", "31")
    return _rss(_item(ARTICLE) + _item(other))


def xxe_page(folder: Path) -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY xxe SYSTEM "file://{folder / "secret.txt"}">]>'
            f"<html><head><title>&xxe;</title></head><body><article><p>&xxe; {ARTICLE}</p>"
            f"<p>{ARTICLE}</p></article></body></html>").encode()


def billion_laughs_page(_: Path) -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE html [\n{_laughs()}\n]>'
            f"<html><head><title>&lol9;</title></head><body><article><p>&lol9; {ARTICLE}</p>"
            f"<p>{ARTICLE}</p></article></body></html>").encode()


def _gzip_members(block: bytes, inflated: int = BOMB_INFLATED_BYTES) -> bytes:
    """A gzip file that inflates to `inflated` bytes of `block` repeated: gzip members may be
    concatenated, so one compressed block repeated builds the bomb in milliseconds."""
    member = gzip.compress(block, compresslevel=9, mtime=0)
    return member * (inflated // len(block))


def gzip_bomb(_: Path) -> bytes:
    """~1 MB of gzip that inflates to 1 GiB of zeros."""
    return _gzip_members(bytes(1 << 20))


def gzip_bomb_of_text(_: Path) -> bytes:
    """gzip of 1 GiB of article text with no NUL in the inflated bytes: a reader that inflated it
    would find text all the way through."""
    line = (ARTICLE + "\n").encode()
    return _gzip_members(line * ((1 << 20) // len(line)))


def zip_bomb(_: Path) -> bytes:
    """A zip of 1024 members of 1 MiB of zeros each (1 GiB inflated), assembled by hand so the
    1 MiB is deflated once."""
    block = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = compressor.compress(block) + compressor.flush()
    crc = zlib.crc32(block)
    local, central = io.BytesIO(), io.BytesIO()
    count = BOMB_INFLATED_BYTES // len(block)
    for i in range(count):
        name = f"feed-{i:04d}.xml".encode()
        offset = local.tell()
        fields = (20, 0, 8, 0, 0x21, crc, len(data), len(block), len(name))
        local.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0) + name + data)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, 0, offset)
                      + name)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, central.tell(), local.tell(), 0)
    return local.getvalue() + central.getvalue() + end


def nested_page(_: Path) -> bytes:
    return _page("<div>" * NESTING + f"<p>{ARTICLE}</p>" + "</div>" * NESTING)


def unclosed_nested_page(_: Path) -> bytes:
    return _page("<div><span>" * (NESTING // 2) + f"<p>{ARTICLE} {ARTICLE}</p>")


def nested_feed_entry(_: Path) -> bytes:
    html = "<div>" * NESTING + f"<p>{ARTICLE}</p>" + "</div>" * NESTING
    return _rss(_item(f"<![CDATA[{html}]]>"))


def invalid_utf8_text(_: Path) -> bytes:
    return b" date 2026-05-13 " + ARTICLE.encode() + b" \xff\xfe\xc3\x28 \xa0\xa1 end"


def invalid_utf8_page(_: Path) -> bytes:
    return _page(f"<article><p>{ARTICLE}</p><p>{ARTICLE} BROKEN</p></article>").replace(
        b"BROKEN", b"\xff\xc3\x28\xe2\x82 \xa0")


def mixed_encoding_page(_: Path) -> bytes:
    # Declared Latin-1, mostly UTF-8, with stray Latin-1 and Windows-1252 bytes.
    head = '<meta charset="iso-8859-1"><title>Orvel — Caf\u00e9</title>'
    return (_page(f"<article><p>{ARTICLE} Caf\u00e9 S\u00e3o Paulo \u2014 \u201cquoted\u201d.</p>"
                  f"<p>{ARTICLE}</p></article>", head=head)
            .replace(b"</article>", b" Caf\xe9 \x93quoted\x94 </article>"))


def mixed_encoding_feed(_: Path) -> bytes:
    return _rss(_item(f"{ARTICLE} Caf\u00e9")).replace(b"Caf\xc3\xa9", b"Caf\xe9 \x93q\x94")


def utf16_text(_: Path) -> bytes:
    return f" date 2026-05-13 {ARTICLE}".encode("utf-16")


def nul_at_start_text(_: Path) -> bytes:
    return b"\x00\x00" + f" date 2026-05-13 {ARTICLE}".encode()


def nul_late_text(_: Path) -> bytes:
    # Past the 8 KiB binary sniff: the NULs reach the parsers and the Parquet writer.
    filler = (ARTICLE + "\n") * 40
    return f" date 2026-05-13 {filler}".encode() + b"\x00 the \x00 end \x00" + ARTICLE.encode()


def nul_page(_: Path) -> bytes:
    return _page(f"<article><p>{ARTICLE}</p><p>{ARTICLE}</p></article>" * 20).replace(
        b"rose to 23", b"rose\x00 to 23")


def nul_feed(_: Path) -> bytes:
    return _rss(_item(f"{ARTICLE}" * 20)).replace(b"rose to 23", b"rose\x00to 23")


def long_line_text(_: Path) -> bytes:
    # 10 MiB, one line, no sentence end: every ~60 bytes a casualty figure.
    unit = "and 23 people were killed while 40 were injured in the flooding "
    return (" date 2026-05-13 " + unit * (LONG_LINE_BYTES // len(unit))).encode()


def long_line_page(_: Path) -> bytes:
    words = "rescuers dug through the mud of the valley for a second day " * (LONG_LINE_BYTES // 62)
    return _page(f"<article><p>{ARTICLE} {words}</p></article>")


def long_line_feed(_: Path) -> bytes:
    return _rss(_item("officials said the count is rising " * (LONG_LINE_BYTES // 36) + ARTICLE))


def huge_numbers_text(_: Path) -> bytes:
    return (" date 2026-05-13\n"
            "Orvel landslide: the figures nobody can check\n\n"
            f"{ARTICLE} A post claimed that 1000000000000000000000000000000 people were killed. "
            "Another said 10^30 people died, and a third that 1e30 dead were found. "
            "One account said -5 killed, another that -5 people were killed. "
            "A rumour spoke of 99,999,999,999,999,999,999 injured and 9223372036854775808 missing. "
            "Officials denied reports that a billion billion people were killed, "
            "or that 1.5 trillion died, or that 900 quadrillion were injured.").encode()


def poison_digits_text(_: Path) -> bytes:
    # Over Python's 4,300-digit int limit, before a casualty word: raised in the staging step.
    return f" date 2026-05-13\n{ARTICLE} A post said {'1' * 4301} people were killed.".encode()


def poison_thousands_text(_: Path) -> bytes:
    return f" date 2026-05-13\n{ARTICLE} A post said 1{',000' * 1500} people died.".encode()


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dangling_link(path: Path) -> None:
    path.symlink_to(path.parent / "nothing-here.txt")


def _link_loop(path: Path) -> None:
    path.symlink_to(path)


def _odd_name(path: Path) -> None:
    path.write_bytes(_dated_text("2026-05-13"))


def _dated_text(date: str, dateline: str = "") -> bytes:
    return f" date {date}\n{dateline}{ARTICLE}".encode()


def year_9999_text(_: Path) -> bytes:
    return _dated_text("9999-12-31")


def year_1900_text(_: Path) -> bytes:
    return _dated_text("1900-01-01")


def year_0001_text(_: Path) -> bytes:
    return _dated_text("0001-01-01")


def year_9999_dateline_text(_: Path) -> bytes:
    return (" date unknown\nPublished: December 31, 9999\n" + ARTICLE).encode()


def year_9999_undated_dateline_text(_: Path) -> bytes:
    return ("December 31, 9999\n" + ARTICLE).encode()


def year_1900_dateline_text(_: Path) -> bytes:
    return ("1 January 1900\n" + ARTICLE).encode()


def year_9999_page(_: Path) -> bytes:
    head = ('<title>Orvel landslide</title>'
            '<meta property="article:published_time" content="9999-12-31T23:59:59Z">')
    return _page(f"<article><p>{ARTICLE}</p><p>{ARTICLE}</p></article>", head=head)


def year_1900_page(_: Path) -> bytes:
    head = ('<title>Orvel landslide</title>'
            '<meta property="article:published_time" content="1900-01-01T00:00:00Z">')
    return _page(f"<article><p>{ARTICLE}</p><p>{ARTICLE}</p></article>", head=head)


def year_9999_feed(_: Path) -> bytes:
    return _rss(_item(ARTICLE, pub="Fri, 31 Dec 9999 23:59:59 GMT", guid="https://hostile.example/9999")
                + _item(ARTICLE, pub="Mon, 01 Jan 1900 00:00:00 GMT", guid="https://hostile.example/1900"))


def undated_text(_: Path) -> bytes:
    return ARTICLE.encode()


def empty_file(_: Path) -> bytes:
    return b""


def whitespace_text(_: Path) -> bytes:
    return b" \t\r\n" * 1000 + "\u00a0\u2003\n".encode() * 100


def empty_feed(_: Path) -> bytes:
    return _rss("")


def empty_entry_feed(_: Path) -> bytes:
    return _rss(_item(""))


def empty_body_page(_: Path) -> bytes:
    return _page("")


def marker_only_text(_: Path) -> bytes:
    return b" date 2026-05-13\n"


CASES: tuple[Case, ...] = (
    Case("billion_laughs.xml", billion_laughs_feed, "dead_letter:entity_expansion", "nested entities, 15 GB expanded"),
    Case("quadratic_blowup.xml", quadratic_blowup_feed, "dead_letter:entity_expansion", "one 100 kB entity used 20,000 times"),
    Case("flat_entity_blowup.xml", flat_entity_feed, "dead_letter:entity_expansion",
         "a 100 kB entity used 90 times in a title: 9 MB expanded"),
    Case("xxe.xml", xxe_feed, "dead_letter:external_entity", "external entity naming a local file"),
    Case("xxe_parameter_entity.xml", xxe_parameter_entity_feed, "dead_letter:external_entity", "parameter entity pulling a DTD"),
    Case("xxe_passwd.xml", xxe_passwd_feed, "dead_letter:external_entity", 'SYSTEM "file:///etc/passwd"'),
    Case("xxe_page.html", xxe_page, "article", "external entity in an XHTML page"),
    Case("billion_laughs_page.html", billion_laughs_page, "article", "nested entities in an XHTML page"),
    Case("file_links.xml", file_links_feed, "article", "entry links to file://, ftp:// and internal hosts"),
    Case("duplicate_guid.xml", duplicate_guid_feed, "article", "two entries under one guid"),
    Case("gzip_bomb.xml", gzip_bomb, "dead_letter:binary", "1 GiB of zeros, gzipped, named .xml"),
    Case("gzip_text_bomb.html", gzip_bomb_of_text, "dead_letter:binary", "1 GiB of text, gzipped, named .html"),
    Case("gzip_bomb.xml.gz", gzip_bomb, "dead_letter:unsupported_type", "a .gz name: never inflated"),
    Case("zip_bomb.xml", zip_bomb, "dead_letter:binary", "1 GiB of zeros, zipped, named .xml"),
    Case("nested_100k.html", nested_page, "dead_letter:no_article_text", "100k nested <div>"),
    Case("unclosed_100k.html", unclosed_nested_page, "dead_letter:no_article_text", "100k unclosed <div><span>"),
    Case("nested_100k_entry.xml", nested_feed_entry, "dead_letter:no_article_text",
         "100k nested <div> in a feed entry"),
    Case("invalid_utf8.txt", invalid_utf8_text, "dead_letter:undecodable", "invalid UTF-8 in a text file"),
    Case("invalid_utf8.html", invalid_utf8_page, "article", "invalid UTF-8 in a page"),
    Case("mixed_encoding.html", mixed_encoding_page, "article", "declared Latin-1, UTF-8 and cp1252 bytes"),
    Case("mixed_encoding.xml", mixed_encoding_feed, "article", "declared UTF-8, Latin-1 bytes"),
    Case("utf16.txt", utf16_text, "article", "UTF-16 with BOM"),
    Case("nul_at_start.txt", nul_at_start_text, "dead_letter:binary", "NUL bytes in the first 8 KiB"),
    Case("nul_late.txt", nul_late_text, "article", "NUL bytes past the binary sniff"),
    Case("nul.html", nul_page, "dead_letter:binary", "NUL bytes inside a page"),
    Case("nul.xml", nul_feed, "dead_letter:binary", "NUL bytes inside a feed"),
    Case("long_line_10mb.txt", long_line_text, "article", "10 MiB on one line, a figure every 66 bytes"),
    Case("long_line_10mb.html", long_line_page, "dead_letter:no_article_text", "a 10 MiB paragraph"),
    Case("long_line_10mb.xml", long_line_feed, "article", "a 10 MiB feed entry"),
    Case("huge_numbers.txt", huge_numbers_text, "article", "10^30, 1e30, -5, int64 overflow"),
    Case("year_9999.txt", year_9999_text, "article", "date marker 9999-12-31"),
    Case("year_1900.txt", year_1900_text, "article", "date marker 1900-01-01"),
    Case("year_0001.txt", year_0001_text, "article", "date marker 0001-01-01"),
    Case("year_9999_dateline.txt", year_9999_dateline_text, "article", "'Published: December 31, 9999'"),
    Case("year_9999_undated.txt", year_9999_undated_dateline_text, "article", "dateline December 31, 9999"),
    Case("year_1900_dateline.txt", year_1900_dateline_text, "article", "dateline 1 January 1900"),
    Case("year_9999.html", year_9999_page, "article", "article:published_time 9999-12-31"),
    Case("year_1900.html", year_1900_page, "article", "article:published_time 1900-01-01"),
    Case("years_9999_1900.xml", year_9999_feed, "article", "feed entries of 9999 and 1900"),
    Case("mtime_2446.txt", undated_text, "article", "no date, file mtime in 2446 (ext4's latest)",
         mtime=15_032_385_535),
    Case("mtime_1901.txt", undated_text, "article", "no date, file mtime in 1901 (ext4's earliest)",
         mtime=-2_147_483_648),
    Case("empty.txt", empty_file, "dead_letter:empty", "zero bytes"),
    Case("empty.html", empty_file, "dead_letter:empty", "zero bytes"),
    Case("empty.xml", empty_file, "dead_letter:empty", "zero bytes"),
    Case("whitespace.txt", whitespace_text, "dead_letter:no_article_text", "only white space"),
    Case("marker_only.txt", marker_only_text, "dead_letter:no_article_text", "a date marker, no text"),
    Case("empty_feed.xml", empty_feed, "dead_letter:empty_feed", "a valid feed with no entries"),
    Case("empty_entry.xml", empty_entry_feed, "dead_letter:no_article_text", "an entry with no text"),
    Case("empty_body.html", empty_body_page, "dead_letter:no_article_text", "<body></body>"),
    Case("poison_digits.txt", poison_digits_text, "article", "a 4,301-digit figure (over Python's int limit)"),
    Case("poison_thousands.txt", poison_thousands_text, "article", "1 followed by ',000' 1,500 times"),
    Case("evil.txt", None, "dead_letter:not_a_file", "a FIFO (open() blocks without a writer)", place=_fifo),
    Case("dangling.txt", None, "dead_letter:dangling_link", "a link to nothing", place=_dangling_link),
    Case("loop.txt", None, "dead_letter:link_loop", "a link to itself", place=_link_loop),
    Case(os.fsdecode(b"caf\xe9.txt"), None, "dead_letter:undecodable_name", "a file name that is not UTF-8",
         place=_odd_name),
)


def write_cases(folder: Path, cases=CASES) -> dict[str, Path]:
    """Writes the secret file and every case's file into `folder`; returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "secret.txt").write_text(SECRET)
    paths = {}
    for case in cases:
        path = folder / case.name
        if case.place is not None:
            case.place(path)
        else:
            path.write_bytes(case.make(folder))
        if case.mtime is not None:
            os.utime(path, (case.mtime, case.mtime))
        paths[case.name] = path
    (folder / "secret.txt").rename(folder / ".secret")  # hidden: never read as an input itself
    return paths


# ----------------------------------------------------------------------------------------------
# The per-document chain, without Beam
# ----------------------------------------------------------------------------------------------
def _through(fn, elements) -> dict:
    """The outputs of a DoFn over `elements` in one bundle, by tag (None: the main output), as a
    runner drives it: setup, start_bundle, process, finish_bundle, teardown."""
    from apache_beam import pvalue
    from apache_beam.transforms.window import TimestampedValue

    out: dict = {None: []}
    fn.setup()
    fn.start_bundle()
    for element in elements:
        for result in fn.process(element) or ():
            tag = result.tag if isinstance(result, pvalue.TaggedOutput) else None
            value = result.value if isinstance(result, pvalue.TaggedOutput) else result
            out.setdefault(tag, []).append(value.value if isinstance(value, TimestampedValue) else value)
    fn.finish_bundle()
    fn.teardown()
    return out


def run_chain(path: str) -> dict:
    """One file through every stage of a batch run, without a runner: the DoFns of the read,
    extract, repeats, events and staging steps themselves (their guards included), the duplicate
    decision over the staged digests, the verdicts applied to the staged articles and claims, and
    the Arrow conversion WriteParquet uses; a summary of what came out."""
    import tempfile

    from apache_beam.utils.timestamp import Timestamp

    from tollwatch.schemas import Article, Claim, DeadLetter, to_arrow_table
    from tollwatch.transforms.duplicates.resolve import ResolveDuplicatesFn
    from tollwatch.transforms.duplicates.rewrites import MAX_GAP, CreditFinder
    from tollwatch.transforms.duplicates.settings import near_options
    from tollwatch.transforms.events import AssignEventsFn, default_event
    from tollwatch.transforms.extract import ExtractArticlesFn
    from tollwatch.transforms.inputs.files import DEFAULT_MAX_FILE_BYTES, ReadFileFn
    from tollwatch.transforms.repeats import MIN_CHARS, StripRepeatedPassagesFn
    from tollwatch.transforms.staging import (
        ApplyVerdictsFn, StageArticlesFn, read_digests, read_sketches, write_verdicts)

    now = Timestamp.now()
    stat = os.lstat(path)
    dead: list = []

    def step(fn, elements) -> list:
        out = _through(fn, elements)
        dead.extend(out.pop("dead_letters", []))
        return out[None] if not out.keys() - {None} else out

    raw = step(ReadFileFn(DEFAULT_MAX_FILE_BYTES, now, [os.path.dirname(os.path.realpath(path))]),
               [(path, stat.st_size, stat.st_mtime)])
    extracted = step(ExtractArticlesFn(), raw)
    stripped = step(StripRepeatedPassagesFn(MIN_CHARS), extracted)
    assigned = step(AssignEventsFn([default_event("hostile")]), stripped)
    with tempfile.TemporaryDirectory(prefix="hostile-staging-") as staging:
        options = near_options()
        bases = step(StageArticlesFn(staging, (), CreditFinder.from_sources([]), options), assigned)
        decided = step(ResolveDuplicatesFn(options, MAX_GAP, read_digests, read_sketches, write_verdicts),
                       [("all", [b"s" + base.encode() for base in bases])] if bases else [])
        applied = _through(ApplyVerdictsFn(), decided)
    articles, claims = applied[None], applied.get(ApplyVerdictsFn.CLAIMS, [])
    for records, record_type in ((articles, Article), (claims, Claim), (dead, DeadLetter)):
        if records:
            to_arrow_table(records, record_type)
    return {
        "articles": len(articles),
        "dead_letters": sorted({d.error_type for d in dead}),
        "stages": sorted({d.stage for d in dead}),
        "n_dead_letters": len(dead),
        "claims": len(claims),
        "text_chars": sum(len(a.text) for a in articles),
        "doc_ids": len({a.doc_id for a in articles}),
        "published": sorted({a.published_at.to_rfc3339() for a in articles}),
        "date_sources": sorted({a.date_source for a in articles}),
        "values": sorted({(c.measure, c.value_low, c.value_high) for c in claims},
                         key=lambda v: tuple(str(x) for x in v))[:50],
        "all_text": "\n".join([a.text for a in articles] + [a.title or "" for a in articles]
                              + [d.message for d in dead])[:200_000],
    }


class Outcome(NamedTuple):
    result: dict | None      # the function's JSON result, None if it failed or timed out
    error: str | None        # 'timeout', or the child's exception
    seconds: float
    peak_rss_mb: float       # the child's own peak resident set (wait4), baseline included


def warm_parsers() -> None:
    """Imports and warms the parsers in this process, so that forked children (run_isolated)
    measure the work, not the imports."""
    from tollwatch.transforms.claims import extract_claims
    from tollwatch.transforms.extract import extract_feed, extract_html

    extract_html(f"<html><body><article><p>{ARTICLE}</p></article></body></html>")
    list(extract_feed(b"<rss version='2.0'><channel><item><description>" + ARTICLE.encode()
                      + b"</description></item></channel></rss>"))
    extract_claims(ARTICLE)


def run_isolated(function: Callable, *args, timeout: float = 60.0) -> Outcome:
    """`function(*args)` in a forked child, killed after `timeout` seconds; its JSON-able result,
    wall time and peak RSS."""
    read_end, write_end = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        try:
            payload = {"result": function(*args)}
        except BaseException as err:  # noqa: BLE001 - reported to the parent
            payload = {"error": f"{type(err).__name__}: {err}"[:2000]}
        with os.fdopen(write_end, "w") as out:
            json.dump(payload, out, default=str)
        os._exit(0)
    os.close(write_end)
    chunks, timed_out = [], False
    with os.fdopen(read_end, "r") as pipe:
        while True:
            left = timeout - (time.monotonic() - started)
            ready, _, _ = select.select([pipe], [], [], max(left, 0))
            if not ready:
                timed_out = True
                os.kill(pid, signal.SIGKILL)
                break
            chunk = os.read(pipe.fileno(), 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.monotonic() - started
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    if timed_out:
        return Outcome(None, "timeout", seconds, peak)
    if not chunks:
        return Outcome(None, f"child died: status {status}", seconds, peak)
    payload = json.loads(b"".join(chunks))
    return Outcome(payload.get("result"), payload.get("error"), seconds, peak)


def self_rss_mb() -> float:
    """This process's peak RSS: the baseline a forked child starts from."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_command(argv: list[str], timeout: float, cwd: Path) -> tuple[int, float, float, str]:
    """(exit code, seconds, peak RSS in MB, stderr) of a child process killed after `timeout`."""
    started = time.monotonic()
    with open(cwd / "stderr.log", "w+") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, cwd=cwd)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > timeout:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                status = -9
                break
            time.sleep(0.1)
        proc.returncode = 0  # reaped here, not by Popen
        err.seek(0)
        stderr = err.read()
    code = os.waitstatus_to_exitcode(status) if status != -9 else -9
    return code, time.monotonic() - started, usage.ru_maxrss / 1024, stderr
