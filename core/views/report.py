"""The board report as one HTML file: health, key numbers, what to do, open alerts, KPI trends. Its charts
are inline SVG (`core.views.svg`), so it has no script at all, opens offline, weighs a few hundred
kilobytes at most and prints as it reads. Every text is escaped. The content comes from
`core.views.board`; the PDF of the same board is `core.views.report_pdf`."""

from __future__ import annotations

import html

from core.schema import ModelSpec
from core.store import Store
from core.views.board import Board
from core.views.board import Section
from core.views.board import build_board
from core.views.svg import svg_chart

COLORS = {"red": "#dc2626", "amber": "#d97706", "green": "#16a34a", "grey": "#64748b"}
STYLE = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1000px;margin:24px auto;color:#0f172a;
padding:0 16px} h1{margin-bottom:0} .muted{color:#64748b} .light{display:inline-block;padding:4px 12px;
border-radius:999px;color:white;font-weight:600} .alert{border-left:4px solid #d97706;padding:6px 12px;margin:10px 0;
background:#fffbeb} .alert.critical{border-color:#dc2626;background:#fef2f2} table{border-collapse:collapse;width:100%}
td,th{padding:6px 8px;border-bottom:1px solid #e2e8f0;text-align:right} td:first-child,th:first-child{text-align:left}
.cards{display:flex;flex-wrap:wrap;gap:12px} .card{flex:1 1 200px;padding:10px 14px;border:1px solid #e2e8f0;
border-radius:8px} .big{font-size:1.6em;font-weight:700}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(400px,1fr));gap:12px}
.chart{border:1px solid #e2e8f0;border-radius:8px;padding:8px;break-inside:avoid} td:first-child{white-space:nowrap}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _section(section: Section) -> str:
    parts = [f"<section><h2>{_e(section.title)}</h2>"]
    if section.numbered:
        parts.append("<ol>" + "".join(f"<li>{_e(s)}</li>" for s in section.sentences) + "</ol>")
    else:
        parts += [f"<p>{_e(s)}</p>" for s in section.sentences]
    if section.cards:
        parts.append(
            "<div class='cards'>"
            + "".join(
                f"<div class='card'><div class='muted'>{_e(c.label)}</div><div class='big'>{_e(c.value)}</div>"
                f"<div class='muted'>{_e(c.note)}</div></div>"
                for c in section.cards
            )
            + "</div>"
        )
    for note in section.notes:
        body = "".join(f"<br>{_e(line)}" for line in note.lines)
        parts.append(
            f"<div class='alert {_e(note.severity)}'><b>{_e(note.title)}</b> <span class='muted'>"
            f"({_e(note.severity)}, {_e(note.state)})</span>{body}<br><i>{_e(note.action)}</i></div>"
        )
    if section.charts:
        parts.append(
            "<div class='charts'>"
            + "".join(f"<div class='chart'>{svg_chart(chart)}</div>" for chart in section.charts)
            + "</div>"
        )
    if section.table is not None:
        head = "".join(f"<th>{_e(h)}</th>" for h in section.table.header)
        rows = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in section.table.rows)
        parts.append(f"<table><tr>{head}</tr>{rows}</table>")
    parts.append("</section>")
    return "".join(parts)


def render_html(board: Board) -> str:
    """A built board as a self-contained HTML document (no script, no external file)."""
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(board.title)} – board report</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{_e(board.title)}</h1><p class='muted'>{_e(board.description)}<br>{_e(board.facts)}</p>",
        f"<p><span class='light' style='background:{COLORS[board.status]}'>{_e(board.status_word)}</span> "
        f"{_e(board.reason)}</p>",
    ]
    parts += [_section(s) for s in board.sections]
    parts += [f"<p class='muted'>{_e(line)}</p>" for line in board.footnotes]
    parts.append("</body></html>")
    return "\n".join(parts)


def board_report(store: Store, spec: ModelSpec, *, period: str = "month") -> str:
    """Build the board report of one model as a self-contained HTML document."""
    return render_html(build_board(store, spec, period=period))
