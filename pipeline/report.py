"""`tollwatch report`: the evolving toll as a chart (PNG) or a self-contained HTML page.

One panel per measure (killed, injured, missing, ...) of an event: a step line per victim group for
the best estimate as known at each moment (the `as_of` series), its spread (low to high) shaded, and
every overall claim as a point at its publication time, coloured by source (hollow when the article
is a copy of another, so a repeated figure does not look like confirmation).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from typing import Optional

from tollwatch.pipeline.query import connect

MEASURE_ORDER = ("killed", "injured", "missing", "casualties")
GROUP_COLOURS = {"total": "#222222", "unspecified": "#7f7f7f", "civilians": "#1f77b4",
                 "security_forces": "#2ca02c", "combatants": "#d62728", "children": "#9467bd",
                 "women": "#e377c2"}
SOURCE_PALETTE = ("#e6550d", "#3182bd", "#31a354", "#756bb1", "#fd8d3c", "#6baed6", "#74c476",
                  "#9e9ac8", "#e7ba52", "#843c39", "#7b4173", "#637939")


def _series(con, event_id: str):
    """As-of rows of an event, up to one period after its last figure (later rows repeat it)."""
    return con.execute("""
        WITH a AS (SELECT measure, "group", window_end, best, low, high,
                          list_max(list_transform(sources, lambda s: s.published_at)) AS last_fig
                   FROM toll_latest WHERE series = 'as_of' AND event_id = ?),
             lim AS (SELECT measure, "group", max(last_fig) AS last_at,
                            min(window_end) FILTER (WHERE window_end > last_fig) AS first_after
                     FROM a GROUP BY ALL)
        SELECT a.measure, a."group", a.window_end, a.best, a.low, a.high
        FROM a JOIN lim USING (measure, "group")
        WHERE a.window_end <= (SELECT max(first_after) FROM lim)
        ORDER BY a.measure, a."group", a.window_end""", [event_id]).fetchall()


def _points(con, event_id: str):
    return con.execute("""
        SELECT measure, "group", published_at, coalesce(value_low, value_high) AS value,
               coalesce(source, 'unattributed') AS source, is_copy, sentence
        FROM claims
        WHERE event_id = ? AND scope = 'overall' AND coalesce(value_low, value_high) IS NOT NULL
          AND date_source IN ('metadata', 'feed', 'text')
        ORDER BY published_at""", [event_id]).fetchall()


def events_in(con) -> list[tuple[str, int]]:
    """(event_id, number of overall claims) of every event with a toll, most claims first."""
    return con.execute("""
        SELECT event_id, count(*) FROM claims WHERE scope = 'overall' AND event_id IS NOT NULL
          AND date_source IN ('metadata', 'feed', 'text')
        GROUP BY 1 ORDER BY 2 DESC, 1""").fetchall()


def figure(con, event_id: str):
    """A matplotlib Figure of one event's evolving toll."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    series, points = _series(con, event_id), _points(con, event_id)
    measures = [m for m in MEASURE_ORDER if any(r[0] == m for r in series + points)]
    measures += sorted({r[0] for r in series + points} - set(measures))
    if not measures:
        raise ValueError(f"event {event_id!r} has no overall claims with a figure")
    sources = sorted({p[4] for p in points})
    source_colour = {s: SOURCE_PALETTE[i % len(SOURCE_PALETTE)] for i, s in enumerate(sources)}
    fig, axes = plt.subplots(len(measures), 1, figsize=(12, 3.2 * len(measures) + 1.6),
                             sharex=True, squeeze=False)
    for ax, measure in zip(axes[:, 0], measures):
        for group in sorted({r[1] for r in series if r[0] == measure}):
            rows = [r for r in series if r[0] == measure and r[1] == group]
            times = [r[2] for r in rows]
            colour = GROUP_COLOURS.get(group, "#444444")
            ax.step(times, [r[3] for r in rows], where="post", color=colour, lw=2,
                    label=f"{group.replace('_', ' ')} (best)")
            ax.fill_between(times, [r[4] for r in rows], [r[5] for r in rows], step="post",
                            color=colour, alpha=0.12)
            last = rows[-1]
            ax.annotate(f"{last[3]:,}", (last[2], last[3]), xytext=(4, 0),
                        textcoords="offset points", va="center", fontsize=9, color=colour)
        for p in (p for p in points if p[0] == measure):
            colour = source_colour[p[4]]
            ax.scatter([p[2]], [p[3]], s=36, zorder=3, edgecolors=colour,
                       facecolors="none" if p[5] else colour, marker="o")
        ax.set_ylabel(measure)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
                  title="victim group", title_fontsize=8)
    handles = [Line2D([], [], marker="o", ls="", color=source_colour[s], label=s) for s in sources]
    handles.append(Line2D([], [], marker="o", ls="", mfc="none", color="#555555",
                          label="hollow: figure from a copy"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), fontsize=8,
               frameon=False, title="claims by source")
    axes[-1, 0].xaxis.set_major_formatter(mdates.DateFormatter("%d %b\n%H:%M"))
    fig.suptitle(f"Reported toll: {event_id}\nline = best estimate as known at each moment "
                 "(highest lower bound of independent sources); band = spread", fontsize=11)
    rows_of_sources = -(-len(handles) // 5)
    fig.tight_layout(rect=(0, 0.03 + 0.025 * rows_of_sources, 1, 1))
    return fig


def _now_table(con, event_id: str) -> str:
    rows = con.execute("""
        SELECT measure, "group", best, low, high, n_independent_sources, n_claims, sources
        FROM toll_now WHERE event_id = ? ORDER BY measure, best DESC""", [event_id]).fetchall()
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
            m, g.replace("_", " "), f"{b:,}", f"{lo:,}–{hi:,}", n_src, n_cl,
            "; ".join(f"{s['source']}: {s['value_low']:,}" for s in srcs))) + "</tr>"
        for m, g, b, lo, hi, n_src, n_cl, srcs in rows)
    return ("<table><tr><th>measure</th><th>group</th><th>best</th><th>spread</th>"
            "<th>independent sources</th><th>claims</th><th>latest figure by source</th></tr>"
            f"{body}</table>")


def render(output: str, out_file: str, event_id: Optional[str] = None) -> list[str]:
    """Writes the chart of one event (PNG) or of every event (HTML); returns the event ids drawn."""
    con = connect(output)
    events = [e for e, _ in events_in(con)]
    if not events:
        raise ValueError(f"{output} holds no overall claims with a figure: nothing to chart")
    if event_id is not None:
        if event_id not in events:
            raise ValueError(f"no claims for event {event_id!r}; events: {', '.join(events)}")
        events = [event_id]
    if out_file.lower().endswith(".png"):
        fig = figure(con, events[0])
        fig.savefig(out_file, dpi=110)
        return events[:1]
    if not out_file.lower().endswith((".html", ".htm")):
        raise ValueError("--out must end in .png or .html")
    sections = []
    for event in events:
        buffer = io.StringIO()
        figure(con, event).savefig(buffer, format="svg")
        svg = base64.b64encode(buffer.getvalue().encode()).decode()
        sections.append(f"<h2>{html.escape(event)}</h2><img alt='toll chart of {html.escape(event)}' "
                        f"src='data:image/svg+xml;base64,{svg}'>{_now_table(con, event)}")
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>tollwatch report</title><style>
body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}}
img{{max-width:100%}} table{{border-collapse:collapse;margin:1em 0 3em}}
td,th{{border:1px solid #ccc;padding:4px 8px;font-size:14px;text-align:left}}
</style></head><body><h1>The evolving toll</h1>
<p>From {html.escape(output)}, generated {generated}. Each line is the best estimate as known at
that moment: the highest lower bound among the latest figures of independent sources (copies of an
article do not count as confirmation). The band is the spread of the sources' figures; points are
single claims, hollow when they come from a copy.</p>
{''.join(sections)}</body></html>"""
    with open(out_file, "w", encoding="utf-8") as handle:
        handle.write(page)
    return events
