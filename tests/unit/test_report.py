"""`tollwatch report`: the chart agrees with the table, says figures as they were said, shows the
evidence, and costs what it draws, not what the output holds."""

import pyarrow.parquet as pq
import pytest
from apache_beam.utils.timestamp import Timestamp

from tollwatch.pipeline.query import connect
from tollwatch.pipeline.report import OWN_VOICE, OWN_VOICE_COLOUR, figure, render, spread_labels
from tollwatch.schemas import Article, Claim, SourceFigure, TollWindow, to_arrow_table

T0 = 1_778_000_000
HOUR = 3600


def _write(folder, records, record_type):
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(to_arrow_table(records, record_type), folder / "part-k1-00000-of-00001.parquet")


def _claim(i, source, qualifier, number, low, high, at, date_source="metadata", doc="d1"):
    sentence = f"Officials said more than {number:,} people were killed." if number else \
        "Scores of people were killed."
    return Claim(f"c{i}", f"c{i}", doc, "e", "Outlet", Timestamp(at), date_source, "killed", number,
                 None, qualifier, low, high, "total", None, source, source, "overall", None, None,
                 None, sentence, 0, 10, False, doc)


def _write_claims(out, day, claims, text="Officials said it.", title="The toll rises"):
    """The claims and each claim's article, published when the claim was (the claims view keeps
    the claims of an article's current version: same doc, run and publication time)."""
    articles = [Article(c.doc_id, f"/in/{c.doc_id}.html", f"https://news.example/{c.doc_id}",
                        "Outlet", title, c.published_at, c.date_source, Timestamp(T0),
                        text, "en", ["e"], 0, c.doc_id, None, None, None, True) for c in claims]
    _write(out / "articles" / f"published_date={day}", articles, Article)
    _write(out / "claims" / f"published_date={day}", claims, Claim)


def _as_of(end, best, sources):
    return TollWindow("e", "killed", "total", "as_of", Timestamp(end - 30 * 24 * HOUR),
                      Timestamp(end), "on_time", 0, best, best, best, len(sources), 1, 1,
                      len(sources), sources, sources[-1].claim_id, Timestamp(end))


@pytest.fixture
def output(tmp_path):
    """An event whose toll grows from 900 (one source) to 'more than 1,000' (another), with a vague
    claim and an undated one beside it."""
    out = tmp_path / "out"
    text = "Officials said more than 1,000 people were killed. " * 2
    claims = [_claim(1, "UN", "exact", 900, 900, 900, T0, doc="d1"),
              _claim(2, "SOHR", "more_than", 1000, 1001, None, T0 + 20 * HOUR, doc="d2"),
              _claim(3, "SOHR", "vague", None, 40, None, T0 + 21 * HOUR, doc="d3"),
              _claim(4, "SOHR", "exact", 524, 524, 524, T0 + 22 * HOUR, date_source="file_mtime",
                     doc="d4")]
    claims[1] = claims[1]._replace(char_start=15, char_end=30)  # "more than 1,000"
    _write_claims(out, "2026-05-05", claims, text)
    un = SourceFigure("UN", 900, 900, "c1", Timestamp(T0))
    sohr = SourceFigure("SOHR", 1001, None, "c2", Timestamp(T0 + 20 * HOUR))
    rows = [_as_of(T0 + 6 * HOUR, 900, [un]), _as_of(T0 + 12 * HOUR, 900, [un]),
            _as_of(T0 + 24 * HOUR, 1001, [un, sohr]), _as_of(T0 + 30 * HOUR, 1001, [un, sohr])]
    _write(out / "toll" / "window_date=2026-05-05", rows, TollWindow)
    return out


def _panel_texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def test_the_line_ends_at_the_toll_now_and_its_label_is_what_was_said(output):
    con = connect(str(output))
    best, best_text = con.execute("SELECT best, best_text FROM toll_now").fetchone()
    fig = figure(con, "e", "Floods in the north")
    lines = [l for l in fig.axes[0].get_lines() if len(l.get_ydata()) > 1]
    assert lines and all(l.get_ydata()[-1] == best for l in lines)  # the table's number
    assert _panel_texts(fig) == ["total: >1,000"] and best_text == ">1,000"
    assert "Floods in the north" in fig._suptitle.get_text()
    assert "UTC" in fig.axes[-1].get_xlabel()


def test_vague_and_undated_claims_are_not_drawn_and_points_are_few_calls(output):
    from matplotlib.collections import PathCollection

    fig = figure(connect(str(output)), "e")
    drawn = [(x, y) for c in fig.axes[0].collections if type(c) is PathCollection
             for x, y in c.get_offsets()]
    assert sorted(y for _, y in drawn if y in (40, 524)) == []
    assert sorted(y for _, y in drawn) == [900, 1001]


def test_end_labels_never_overlap():
    placed = spread_labels([0.50, 0.51, 0.52, 0.90], 0.1)
    ordered = sorted(placed)
    assert all(b - a >= 0.1 - 1e-9 for a, b in zip(ordered, ordered[1:]))
    assert placed[3] >= 0.9 - 1e-9 and max(placed) <= 1.0 + 1e-9


def test_html_links_each_figure_to_its_words_and_article_and_says_what_is_outside(output, tmp_path):
    page_file = tmp_path / "r.html"
    render(str(output), str(page_file), names={"e": "Floods in the north"})
    page = page_file.read_text()
    assert "<mark>more than 1,000</mark>" in page
    assert "href='https://news.example/d2'" in page and "&gt;1,000" in page
    assert "undated: article dated by file_mtime" in page and "vague amount" in page
    assert "Floods in the north" in page


def test_html_marks_a_figure_of_the_title_in_the_title(tmp_path):
    """A claim of the title has negative offsets (extract_claims): its words are the title's."""
    out, title = tmp_path / "out", "More than 1,000 killed in the north"
    claim = _claim(1, "UN", "more_than", 1000, 1001, None, T0)._replace(
        sentence=title, char_start=-len(title) - 1, char_end=-len(title) + 14)
    _write_claims(out, "2026-05-05", [claim], "Officials said it was the worst day.", title)
    sources = [SourceFigure("UN", 1001, None, "c1", Timestamp(T0))]
    _write(out / "toll" / "window_date=2026-05-05", [_as_of(T0 + 6 * HOUR, 1001, sources)], TollWindow)
    page_file = tmp_path / "r.html"
    render(str(out), str(page_file))
    assert "<mark>More than 1,000</mark> killed in the north" in page_file.read_text()


def test_the_articles_own_voice_is_no_source_in_the_legend_or_the_evidence(tmp_path):
    """Figures no source is named for are shown as what they are, in no source's colour."""
    out = tmp_path / "out"
    claims = [_claim(1, "UN", "exact", 900, 900, 900, T0), _claim(2, None, "exact", 950, 950, 950, T0 + HOUR, doc="d2")]
    _write_claims(out, "2026-05-05", claims)
    sources = [SourceFigure("UN", 900, 900, "c1", Timestamp(T0)),
               SourceFigure("unattributed", 950, 950, "c2", Timestamp(T0 + HOUR))]
    _write(out / "toll" / "window_date=2026-05-05", [_as_of(T0 + 6 * HOUR, 950, sources)], TollWindow)
    fig = figure(connect(str(out)), "e")
    legend = {t.get_text(): h for t, h in zip(fig.legends[0].get_texts(), fig.legends[0].legend_handles)}
    assert OWN_VOICE in legend and "unattributed" not in legend and "UN" in legend
    assert list(legend).index("UN") < list(legend).index(OWN_VOICE)
    assert legend[OWN_VOICE].get_color() == OWN_VOICE_COLOUR != legend["UN"].get_color()
    page_file = tmp_path / "r.html"
    render(str(out), str(page_file))
    page = page_file.read_text()
    assert "no source named" in page and "<td>unattributed</td>" not in page


def test_the_number_of_drawing_calls_does_not_grow_with_claims(output):
    """20,000 claims of three sources: still one call per source and marker kind (issue 17.11)."""
    extra = [_claim(100 + i, ("UN", "SOHR", "WHO")[i % 3], "exact", 500 + i % 7, 500 + i % 7,
                    500 + i % 7, T0 + (i % 40) * HOUR, doc=f"x{i}") for i in range(20_000)]
    _write_claims(output, "2026-05-06", extra)
    assert connect(str(output)).execute("SELECT count(*) FROM claims").fetchone()[0] > 20_000
    fig = figure(connect(str(output)), "e")
    assert len(fig.axes[0].collections) <= 3 * 4 + 1 + 3  # scatters, the band, range bars


def test_html_warns_when_one_events_figures_span_more_than_the_horizon(output, tmp_path):
    late = _claim(9, "WHO", "exact", 5, 5, 5, T0 + 400 * 24 * HOUR, doc="d9")
    _write_claims(output, "2027-06-09", [late])
    page_file = tmp_path / "r.html"
    render(str(output), str(page_file))
    assert "published over 400 days" in page_file.read_text()


def test_html_escapes_what_documents_say_and_links_only_web_addresses(output, tmp_path):
    hostile = Article("d1", "/in/a.html", "javascript:alert(1)", "<b>Outlet</b>",
                      "<script>alert(1)</script>", Timestamp(T0), "metadata", Timestamp(T0),
                      "Officials said more than 1,000 people were killed. ", "en", ["e"], 0, "d1",
                      None, None, None, True)
    _write(output / "articles" / "published_date=2026-05-05", [hostile], Article)
    page_file = tmp_path / "r.html"
    render(str(output), str(page_file))
    page = page_file.read_text()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "href='javascript" not in page and "<b>Outlet" not in page
