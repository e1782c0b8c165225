"""The one-page board report: health, open alerts, KPIs with charts, what to do. One HTML file,
readable offline: plotly's JavaScript is embedded once, no CDN, every text escaped."""

from __future__ import annotations

import html
from datetime import datetime

import pandas as pd

from core.metrics import PRIMARY
from core.schema import ModelSpec
from core.store import Store
from core.views.charts import kpi_chart
from core.views.charts import performance_chart
from core.views.kpis import kpi_series
from core.views.kpis import kpis_for
from core.views.overview import health_card
from core.wording import format_value

COLORS = {"red": "#dc2626", "amber": "#d97706", "green": "#16a34a", "grey": "#64748b"}
STYLE = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1000px;margin:24px auto;color:#0f172a;
padding:0 16px} h1{margin-bottom:0} .muted{color:#64748b} .light{display:inline-block;padding:4px 12px;
border-radius:999px;color:white;font-weight:600} .alert{border-left:4px solid #d97706;padding:6px 12px;margin:10px 0;
background:#fffbeb} .alert.critical{border-color:#dc2626;background:#fef2f2} table{border-collapse:collapse;width:100%}
td,th{padding:6px 8px;border-bottom:1px solid #e2e8f0;text-align:right} td:first-child,th:first-child{text-align:left}
.card{display:inline-block;min-width:180px;margin:6px 12px 6px 0;padding:10px 14px;border:1px solid #e2e8f0;
border-radius:8px} .big{font-size:1.6em;font-weight:700} @media print{.pagebreak{page-break-before:always}}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def board_report(store: Store, spec: ModelSpec, *, period: str = "month") -> str:
    """Build the board report of one model as a self-contained HTML document."""
    card = health_card(store, spec)
    live = card.live_version
    alerts = store.list_alerts(model=spec.name)
    active = alerts[alerts["state"].isin(["open", "acknowledged"])] if not alerts.empty else alerts
    kpis = kpis_for(spec)
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(spec.title)} – board report</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{_e(spec.title)}</h1><p class='muted'>{_e(spec.description)}<br>Data up to "
        f"{_e(card.as_of.strftime('%-d %B %Y') if card.as_of is not None else 'no data yet')} · live version "
        f"v{_e(live)} · report made {_e(datetime.now().strftime('%-d %B %Y %H:%M'))}</p>",
        f"<p><span class='light' style='background:{COLORS[card.status]}'>{_e(card.status_word)}</span> "
        f"{_e(card.reason)}</p>",
        "<h2>Key numbers</h2>",
        f"<div class='card'><div class='muted'>{_e(card.kpi_label)} ({_e(card.window_label)})</div>"
        f"<div class='big'>{_e(card.kpi_value)}</div><div class='muted'>{_e(card.kpi_delta or '')}</div></div>",
        f"<div class='card'><div class='muted'>{_e(card.perf_label)}</div><div class='big'>{_e(card.perf_value)}"
        f"</div><div class='muted'>at validation {_e(card.perf_reference)}; {_e(card.perf_note)}</div></div>",
        f"<div class='card'><div class='muted'>Open alerts</div><div class='big'>{card.open_alerts}</div>"
        f"<div class='muted'>{card.critical_alerts} critical</div></div>",
    ]
    parts.append("<h2>What to do</h2>")
    if active.empty:
        parts.append("<p>Nothing needs action. Keep watching the numbers below.</p>")
    else:
        actions = list(dict.fromkeys(active.sort_values("severity")["action"]))
        parts.append("<ol>" + "".join(f"<li>{_e(a)}</li>" for a in actions) + "</ol>")
    parts.append(f"<h2>Open alerts ({len(active)})</h2>")
    for a in active.sort_values(["severity", "updated_at"], ascending=[True, False]).to_dict("records"):
        parts.append(
            f"<div class='alert {_e(a['severity'])}'><b>{_e(a['title'])}</b> <span class='muted'>"
            f"({_e(a['severity'])}, {_e(a['state'])})</span><br>{_e(a['what'])}<br>{_e(a['cost'])}<br>"
            f"<i>{_e(a['action'])}</i></div>"
        )
    figures = []
    if live is not None:
        daily = store.read_daily_stats(model=spec.name, version=live)
        series = kpi_series(spec, daily, period=period, version=live)
        metric = PRIMARY[spec.task]
        if len(series):
            parts.append(
                f"<h2>By {period}</h2><table><tr><th>{period.capitalize()}</th>"
                + "".join(f"<th>{_e(k.label)}</th>" for k in kpis)
                + "</tr>"
            )
            for row in series.to_dict("records"):
                cells = "".join(
                    f"<td>{_e(format_value(k.unit, row.get(k.key), spec.business.currency))}</td>" for k in kpis
                )
                parts.append(
                    f"<tr><td>{_e(pd.Timestamp(row['period']).strftime('%b %Y' if period == 'month' else '%Y-%m-%d'))}"
                    f"</td>{cells}</tr>"
                )
            parts.append("</table>")
            figures.append(
                kpi_chart(
                    kpi_series(spec, daily, period="window", version=live),
                    kpis=kpis,
                    metric=metric,
                    currency=spec.business.currency,
                )
            )
        results = store.read_results(model=spec.name, version=live)
        figures.append(performance_chart(results, metric=metric))
    if spec.business.assumption:
        parts.append(f"<p class='muted'><b>Money assumption:</b> {_e(spec.business.assumption)}</p>")
    if figures:
        parts.append("<h2 class='pagebreak'>Charts</h2>")
        for i, fig in enumerate(figures):
            parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False}))
    parts.append("<p class='muted'>Made by ModelPulse from the stored monitoring results.</p></body></html>")
    return "\n".join(parts)
