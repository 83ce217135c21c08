"""`tollwatch report`: the evolving toll as a chart (PNG) or a self-contained HTML page.

One panel per measure (killed, injured, missing, ...) of an event: a step line per victim group for
the best estimate as known at each moment (the `as_of` series), its spread (low to high) shaded,
ending at the toll as known now (the `toll_now` row, labelled as its source said it, so the chart
and the table agree), and the overall claims that count toward the toll as points at their
publication time, coloured by source (hollow when the article is a copy of another, so a repeated
figure does not look like confirmation; a triangle when the figure is a bound: "more than 1,000").
Vague amounts ("scores") and claims outside the toll are not drawn; the HTML page says how many
there are and why.

The cost follows what is drawn, not the number of claims: points are grouped in SQL on a grid of
about a pixel per cell (GRID_COLUMNS x GRID_ROWS per panel, per source and marker kind), drawn
with one call per source and marker kind, and rasterised in the HTML's SVG; the evidence tables list the figures behind the toll now, not every claim.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from typing import Optional

from tollwatch.pipeline.query import connect
from tollwatch.transforms.toll import UNATTRIBUTED

MEASURE_ORDER = ("killed", "injured", "missing", "casualties")
GROUP_COLOURS = {"total": "#222222", "unspecified": "#7f7f7f", "civilians": "#1f77b4",
                 "security_forces": "#2ca02c", "combatants": "#d62728", "children": "#9467bd",
                 "women": "#e377c2"}
# Sources beyond the palette are drawn in one grey as "other sources": colours stay distinct.
MAX_SOURCE_COLOURS = 19
OTHER_SOURCES = "other sources"
# Figures the articles state in their own voice: no source, so never a colour of the sources' palette.
OWN_VOICE = "no source named (the article's own voice)"
OWN_VOICE_COLOUR = "#5f5f5f"
LOWER_BOUNDS = ("more_than", "at_least")
DATED = ("metadata", "feed", "text")


def _toll_now(con, event_id: str) -> list[tuple]:
    """(measure, group, window_end, best, best_text) of the toll as known now."""
    return con.execute("""
        SELECT measure, "group", window_end, best, best_text FROM toll_now
        WHERE event_id = ? AND best IS NOT NULL ORDER BY measure, best DESC""",
                       [event_id]).fetchall()


def _series(con, event_id: str) -> list[tuple]:
    """As-of rows of an event per (measure, group), up to the window of the toll as known now (later
    rows repeat it), each with the time of its earliest figure, where its line starts."""
    return con.execute("""
        SELECT a.measure, a."group", a.window_end, a.best, a.low, a.high,
               list_min(list_transform(a.sources, lambda s: s.published_at)) AS first_fig
        FROM toll_latest AS a JOIN toll_now AS n USING (event_id, measure, "group")
        WHERE a.series = 'as_of' AND a.event_id = ? AND a.window_end <= n.window_end
          AND a.best IS NOT NULL
        ORDER BY a.measure, a."group", a.window_end""", [event_id]).fetchall()


# Points closer than a marker's width are one point: a grid of this many columns (time) and
# rows (figure) per panel bounds what is drawn, whatever the number of claims.
GRID_COLUMNS, GRID_ROWS = 400, 120


def _points(con, event_id: str) -> list[tuple]:
    """The toll's claims as drawn: (measure, published_at, figure, range top or None, is a lower
    bound, source, is_copy, claims), one row per grid cell of a panel, source, kind and copy flag."""
    return con.execute(f"""
        WITH c AS (
            SELECT measure, published_at, epoch(published_at) AS t,
                   coalesce(value_low, value_high) AS v,
                   CASE WHEN qualifier = 'range' THEN value_high END AS top,
                   qualifier IN ('more_than', 'at_least') AS lower_bound, qualifier = 'range' AS ranged,
                   coalesce(source, '{UNATTRIBUTED}') AS source, is_copy
            FROM claims
            WHERE event_id = ? AND scope = 'overall' AND qualifier <> 'vague'
              AND coalesce(value_low, value_high) IS NOT NULL
              AND date_source IN ('metadata', 'feed', 'text')),
        grid AS (
            SELECT measure, min(t) AS t0, greatest(max(t) - min(t), 1) / {GRID_COLUMNS} AS dt,
                   greatest(max(greatest(v, coalesce(top, v))), 1) / {GRID_ROWS} AS dv
            FROM c GROUP BY measure)
        SELECT measure, min(published_at), min(v), max(top), lower_bound, source, is_copy, count(*)
        FROM c JOIN grid USING (measure)
        GROUP BY measure, floor((t - t0) / dt), floor(v / dv), lower_bound, ranged, source, is_copy
        ORDER BY 2""", [event_id]).fetchall()


def events_in(con) -> list[tuple[str, int]]:
    """(event_id, number of overall claims) of every event with a toll, most claims first."""
    return con.execute("""
        SELECT event_id, count(*) FROM claims WHERE scope = 'overall' AND event_id IS NOT NULL
          AND date_source IN ('metadata', 'feed', 'text') AND qualifier <> 'vague'
          AND coalesce(value_low, value_high) IS NOT NULL
        GROUP BY 1 ORDER BY 2 DESC, 1""").fetchall()


def source_colours(sources_by_count: list[str]) -> dict[str, str]:
    """A distinct colour per source, the most frequent first; the rest share OTHER_SOURCES' grey."""
    import matplotlib

    palette = [matplotlib.colors.to_hex(c) for c in matplotlib.colormaps["tab20"].colors]
    palette = [c for c in palette if c not in ("#7f7f7f", "#c7c7c7")][:MAX_SOURCE_COLOURS]
    return {s: (palette[i] if i < len(palette) else "#b0b0b0")
            for i, s in enumerate(sources_by_count)}


def headline_group(groups: list[str]) -> Optional[str]:
    """The group whose line is a panel's headline: the total if reported, else the figures that
    name no group."""
    return next((g for g in ("total", "unspecified") if g in groups), groups[0] if groups else None)


def spread_labels(ys: list[float], min_gap: float) -> list[float]:
    """Label positions near `ys` (same order) with at least `min_gap` between any two."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    placed = [0.0] * len(ys)
    floor = float("-inf")
    for i in order:
        placed[i] = max(ys[i], floor + min_gap)
        floor = placed[i]
    overflow = floor - max(ys, default=0.0)
    if overflow > 0 and order:  # pushed above the top: shift the whole stack down, keep the gaps
        shift = min(overflow, max(0.0, placed[order[0]] - min(ys)))
        placed = [p - shift for p in placed]
    return placed


def figure(con, event_id: str, name: Optional[str] = None):
    """A matplotlib Figure of one event's evolving toll."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    series, points, now = _series(con, event_id), _points(con, event_id), _toll_now(con, event_id)
    present = {r[0] for r in series} | {p[0] for p in points}
    measures = [m for m in MEASURE_ORDER if m in present] + sorted(present - set(MEASURE_ORDER))
    if not measures:
        raise ValueError(f"event {event_id!r} has no overall claims with a figure")
    counts: dict[str, int] = {}
    for p in points:
        counts[p[5]] = counts.get(p[5], 0) + p[7]
    by_count = sorted(counts, key=lambda s: (-counts[s], s))
    points_of: dict[tuple, list] = {}
    for p in points:
        points_of.setdefault((p[0], p[5]), []).append(p)
    # The articles' own voice is no source: it takes no source's colour and closes the legend's sources.
    own_voice = UNATTRIBUTED in counts
    by_count = [s for s in by_count if s != UNATTRIBUTED]
    colour = source_colours(by_count)
    shown_sources = by_count[:MAX_SOURCE_COLOURS]
    if own_voice:
        colour[UNATTRIBUTED] = OWN_VOICE_COLOUR
        by_count.append(UNATTRIBUTED)
    height = 2.8 * len(measures) + 1.5
    fig, axes = plt.subplots(len(measures), 1, figsize=(13, height), sharex=True, squeeze=False)
    # Fixed margins, not tight_layout: the end labels and the legend live in the right margin.
    top = 1 - 1.0 / height
    fig.subplots_adjust(left=0.08, right=0.68, top=top, bottom=0.75 / height, hspace=0.12)
    for ax, measure in zip(axes[:, 0], measures):
        ends = []
        groups = sorted({r[1] for r in series if r[0] == measure})
        headline = headline_group(groups)
        for group in groups:
            rows = [r for r in series if r[0] == measure and r[1] == group]
            start = min(rows[0][6], rows[0][2])
            times = [start] + [r[2] for r in rows]
            line_colour = GROUP_COLOURS.get(group, "#444444")
            main = group == headline
            ax.step(times, [rows[0][3]] + [r[3] for r in rows], where="post", color=line_colour,
                    lw=2.6 if main else 1.3, ls="-" if main or group != "unspecified" else "--",
                    zorder=2.5 if main else 2)
            if main:  # one band per panel: the headline's spread
                ax.fill_between(times, [rows[0][4]] + [r[4] for r in rows],
                                [rows[0][5]] + [r[5] for r in rows], step="post",
                                color=line_colour, alpha=0.12, lw=0)
            said = next((n[4] for n in now if n[0] == measure and n[1] == group), f"{rows[-1][3]:,}")
            ends.append((rows[-1][2], rows[-1][3], f"{group.replace('_', ' ')}: {said}", line_colour))
        for source in by_count:
            mine = points_of.get((measure, source), [])
            for lower, copy in ((False, False), (False, True), (True, False), (True, True)):
                drawn = [p for p in mine if p[4] == lower and p[6] == copy]
                if not drawn:
                    continue
                c = colour[source]
                ax.scatter([p[1] for p in drawn], [p[2] for p in drawn],
                           s=30, zorder=3, marker="^" if lower else "o", edgecolors=c,
                           facecolors="none" if copy else c, linewidths=1.2, rasterized=True)
            ranged = [p for p in mine if p[3] is not None and p[3] > p[2]]
            if ranged:
                ax.vlines([p[1] for p in ranged], [p[2] for p in ranged], [p[3] for p in ranged],
                          colors=colour[source], lw=1.2, zorder=3)
        ax.set_ylabel(measure)
        values = [v for r in series if r[0] == measure for v in (r[3], r[5]) if v is not None]
        values += [v for p in points if p[0] == measure for v in (p[2], p[3]) if v is not None]
        ax.set_ylim(0, max(values, default=1) * 1.12 or 1)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        ax.grid(alpha=0.3)
        if ends:
            y_min, y_max = ax.get_ylim()
            fractions = [(y - y_min) / ((y_max - y_min) or 1) for _, y, _, _ in ends]
            for (x, y, text, c), f in zip(ends, spread_labels(fractions, 0.11)):
                ax.annotate(text, xy=(x, y), xycoords="data", xytext=(1.01, f),
                            textcoords="axes fraction", va="center", fontsize=9, color=c,
                            arrowprops=dict(arrowstyle="-", color=c, lw=0.6, alpha=0.6))
    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    axes[-1, 0].xaxis.set_major_locator(locator)
    axes[-1, 0].xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes[-1, 0].set_xlabel("publication time (UTC)")
    handles = [Line2D([], [], marker="o", ls="", color=colour[s], label=s) for s in shown_sources]
    others = len(by_count) - len(shown_sources) - own_voice
    if others:
        handles.append(Line2D([], [], marker="o", ls="", color="#b0b0b0", label=f"{OTHER_SOURCES} ({others})"))
    if own_voice:
        handles.append(Line2D([], [], marker="o", ls="", color=OWN_VOICE_COLOUR, label=OWN_VOICE))
    handles += [Line2D([], [], marker="o", ls="", mfc="none", color="#555555",
                       label="hollow: from a copy"),
                Line2D([], [], marker="^", ls="", color="#555555", label="triangle: a lower bound"),
                Line2D([], [], ls="-", lw=2, color="#555555", label="line: best estimate")]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.82, top), fontsize=8,
               bbox_transform=fig.transFigure, frameon=False, title="claims by source",
               title_fontsize=9, alignment="left")
    fig.suptitle(f"Reported toll: {name or event_id}", fontsize=13, x=0.08, ha="left",
                 y=1 - 0.25 / height, va="top")
    fig.text(0.08, 1 - 0.62 / height, "line: best estimate as known at each moment (highest lower bound of "
             "independent sources), ending at the toll now; band: spread of the sources' figures",
             fontsize=9, color="#555555")
    return fig


def _evidence(con, event_id: str) -> str:
    """The figures behind the toll now: each source's latest claim, as said, with its sentence and
    its article."""
    rows = con.execute("""
        WITH now AS (SELECT measure, "group", best_text, unnest(sources) AS s FROM toll_now
                     WHERE event_id = ?)
        SELECT now.measure, now."group", now.best_text, now.s.source,
               figure_text(c.qualifier, c.number, c.number_high, c.value_low, c.value_high),
               c.published_at, c.outlet, c.is_copy, c.sentence,
               CASE WHEN c.char_start < 0  -- a figure of the title (see extract_claims)
                    THEN substr(a.title, length(a.title) + 2 + c.char_start, c.char_end - c.char_start)
                    ELSE substr(a.text, c.char_start + 1, c.char_end - c.char_start) END,
               coalesce(a.url, a.uri),
               a.title
        FROM now LEFT JOIN claims AS c ON c.claim_id = now.s.claim_id
                 LEFT JOIN articles AS a ON a.doc_id = c.doc_id
        ORDER BY coalesce(list_position(?, now.measure), 99), now.measure, now."group" <> 'total',
                 now."group", c.published_at DESC""", [event_id, list(MEASURE_ORDER)]).fetchall()
    body = []
    for measure, group, best, source, said, at, outlet, copy, sentence, wording, link, title in rows:
        sentence, wording = sentence or "", wording or ""
        cut = sentence.find(wording) if wording else -1
        quoted = (html.escape(sentence) if cut < 0 else html.escape(sentence[:cut]) + "<mark>"
                  + html.escape(wording) + "</mark>" + html.escape(sentence[cut + len(wording):]))
        href = html.escape(link or "", quote=True)
        # Only web addresses become links: a page's own URL field could say javascript:...
        article = (f"<a href='{href}'>{html.escape(title or link)}</a>"
                   if link and link.lower().startswith(("https://", "http://"))
                   else html.escape(" ".join(v for v in (title, link) if v)))
        when = at.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if at else ""
        body.append("<tr>" + "".join(f"<td>{v}</td>" for v in (
            html.escape(measure), html.escape(group.replace("_", " ")), html.escape(best or ""),
            html.escape(OWN_VOICE if source == UNATTRIBUTED else source or ""),
            html.escape(said or "") + (" (copy)" if copy else ""),
            when, quoted, f"{html.escape(outlet or '')} {article}")) + "</tr>")
    return ("<table><tr><th>measure</th><th>group</th><th>toll now</th><th>source</th>"
            "<th>its latest figure</th><th>published</th><th>the sentence (its words marked)</th>"
            "<th>article</th>"
            f"</tr>{''.join(body)}</table>")


def _span_warning(con, event_id: str, horizon_days: int = 30) -> str:
    """A warning when an event's figures were published further apart than the toll's horizon:
    unrelated stories merged into one event, usually for want of an events file."""
    first, last = con.execute("""
        SELECT min(published_at), max(published_at) FROM claims
        WHERE event_id = ? AND date_source IN ('metadata', 'feed', 'text')""", [event_id]).fetchone()
    if first is None or (last - first).days <= horizon_days:
        return ""
    return (f"<p style='background:#fff3cd;padding:.6em'>The figures of this event were published "
            f"over {(last - first).days:,} days ({first:%Y-%m-%d} to {last:%Y-%m-%d}): if they "
            "come from different stories, they are counted as one toll. Give "
            "<code>tollwatch run --events FILE</code> to separate them.</p>")


def _outside(con, event_id: str) -> str:
    """What is not in the toll, and why."""
    rows = con.execute("""
        SELECT reason, count(*), count(DISTINCT doc_id) FROM outside_toll WHERE event_id = ?
        GROUP BY 1 ORDER BY 2 DESC""", [event_id]).fetchall()
    if not rows:
        return "<p>Every claim of this event counts toward the toll.</p>"
    why = {"incident figure": "one place or attack, not the overall toll (the incidents view)",
           "vague amount": "“dozens”, “scores”: not a figure to count",
           "no figure": "no number could be read"}
    items = "".join(
        f"<li>{n:,} claim(s) in {docs:,} article(s): {html.escape(reason)} — "
        f"{html.escape(why.get(reason, 'its publication time is not known, so it has no place in time'))}"
        "</li>" for reason, n, docs in rows)
    return (f"<p>Outside the toll (query the <code>outside_toll</code> view for each):</p>"
            f"<ul>{items}</ul>")


def render(output: str, out_file: str, event_id: Optional[str] = None,
           names: Optional[dict[str, str]] = None) -> list[str]:
    """Writes the chart of one event (PNG) or of every event (HTML); returns the event ids drawn.
    `names` maps event ids to their names (from the events file)."""
    names = names or {}
    if not out_file.lower().endswith((".png", ".html", ".htm")):
        raise ValueError("the report file must end in .png or .html")
    con = connect(output)
    events = [e for e, _ in events_in(con)]
    if not events:
        raise ValueError(f"{output} holds no overall claims with a figure: nothing to chart")
    if event_id is not None:
        if event_id not in events:
            raise ValueError(f"no claims for event {event_id!r}; events: {', '.join(events)}")
        events = [event_id]
    if out_file.lower().endswith(".png"):
        fig = figure(con, events[0], names.get(events[0]))
        fig.savefig(out_file, dpi=110)
        return events[:1]
    sections = []
    for event in events:
        buffer = io.StringIO()
        figure(con, event, names.get(event)).savefig(buffer, format="svg", dpi=110)
        svg = base64.b64encode(buffer.getvalue().encode()).decode()
        title = html.escape(names.get(event, event))
        sections.append(f"<h2>{title} <small>({html.escape(event)})</small></h2>"
                        f"{_span_warning(con, event)}<img alt='toll chart of {title}' src='data:image/svg+xml;base64,{svg}'>"
                        f"<h3>The toll now, and the figures behind it</h3>{_evidence(con, event)}"
                        f"{_outside(con, event)}")
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>tollwatch report</title><style>
body{{font-family:system-ui,sans-serif;max-width:1300px;margin:2em auto;color:#222}}
img{{max-width:100%}} table{{border-collapse:collapse;margin:1em 0 1em}}
td,th{{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:left;vertical-align:top}}
mark{{background:#ffe58a}} h2{{margin-top:2.5em}} small{{color:#777;font-weight:normal}}
</style></head><body><h1>The evolving toll</h1>
<p>From {html.escape(output)}, generated {generated}. Each line is the best estimate as known at
that moment: the highest lower bound among the latest figures of independent sources (copies of an
article do not count as confirmation); it ends at the toll as known now, written as its source said
it. The band is the spread of the sources' figures; points are single claims, hollow when they come
from a copy, triangles when the figure is a lower bound (“more than”, “at least”). Every figure
behind the toll now is listed under its chart with the sentence it comes from (the figure's own
words marked) and a link to its article.</p>
{''.join(sections)}</body></html>"""
    with open(out_file, "w", encoding="utf-8") as handle:
        handle.write(page)
    return events
