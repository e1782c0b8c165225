"""The board report's content, built once as a list of sections and rendered twice: as HTML
(`core.views.report`) and as PDF (`core.views.report_pdf`). Nothing here knows about either format.

Adding a section takes one line in SECTIONS: a function of the gathered `Facts` that returns a `Section`
(or None to leave it out). Sentences alone make a section through `sentences_section`.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.business import KPI
from core.metrics import METRICS
from core.metrics import PRIMARY
from core.monitoring.thresholds import Thresholds
from core.schema import ModelSpec
from core.store import Store
from core.views.cohorts import cohort_sentence
from core.views.cohorts import cohort_table
from core.views.cohorts import heading
from core.views.drivers import model_drivers
from core.views.kpis import kpi_series
from core.views.kpis import kpis_for
from core.views.movers import what_changed
from core.views.overview import HealthCard
from core.views.overview import health_card
from core.views.segments import segment_sentences
from core.views.small_chart import Guide
from core.views.small_chart import Series
from core.views.small_chart import SmallChart
from core.wording import format_value
from core.wording import upper_first

PALETTE = ("#2563eb", "#ea580c", "#16a34a", "#7c3aed", "#0891b2", "#dc2626")
RED, GREY = "#dc2626", "#94a3b8"
MAX_ALERTS = 5
"""Alerts written out in full; a board reads the worst few, the rest are one sentence (and in the app)."""
MAX_ROWS = 12
"""Periods in the table: the last year of months keeps the printed report within two pages."""


@dataclass(frozen=True)
class Card:
    """One key number: what it is, its value, a line of context."""

    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Note:
    """One alert as the board reads it; `severity` is critical or warning."""

    title: str
    severity: str
    state: str
    lines: tuple[str, ...]
    action: str


@dataclass(frozen=True)
class Table:
    """A plain table; the first column names the row."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    """A titled block: sentences (a numbered list when `numbered`), then cards, alerts, charts, a table."""

    title: str
    sentences: tuple[str, ...] = ()
    numbered: bool = False
    """The sentences are steps, written as a numbered list."""
    cards: tuple[Card, ...] = ()
    notes: tuple[Note, ...] = ()
    charts: tuple[SmallChart, ...] = ()
    table: Table | None = None


@dataclass(frozen=True)
class Board:
    """The whole report: a heading, the health light and its reason, the sections, closing notes."""

    title: str
    description: str
    facts: str
    """One line: how recent the data is, the live version, when the report was made."""
    status: str
    """The light: green, amber, red or grey; `status_word` says it in words."""
    status_word: str
    reason: str
    sections: tuple[Section, ...]
    footnotes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Facts:
    """What the section builders read, gathered once from the store."""

    store: Store
    spec: ModelSpec
    period: str
    card: HealthCard
    alerts: pd.DataFrame
    """Open and acknowledged alerts, most severe and most recent first."""
    kpis: list[KPI]
    series: pd.DataFrame
    """One row per period of the live version (kpi_series); empty without a live version."""
    results: pd.DataFrame
    """The live version's stored check results on all its traffic (scope `full`); empty without one."""


def gather(store: Store, spec: ModelSpec, *, period: str = "month") -> Facts:
    """Read once everything the sections need."""
    card = health_card(store, spec)
    alerts = store.list_alerts(model=spec.name)
    if not alerts.empty:
        alerts = alerts[alerts["state"].isin(["open", "acknowledged"])]
        alerts = alerts.sort_values(["severity", "updated_at"], ascending=[True, False])
    series, results = pd.DataFrame(columns=["period"]), pd.DataFrame(columns=["check", "metric", "window_start"])
    if card.live_version is not None:
        daily = store.read_daily_stats(model=spec.name, version=card.live_version)
        series = kpi_series(spec, daily, period=period, version=card.live_version)
        results = store.read_results(model=spec.name, version=card.live_version, scope="full")
    return Facts(store, spec, period, card, alerts, kpis_for(spec), series, results)


def sentences_section(title: str, sentences: Iterable[str]) -> Section | None:
    """A section of plain sentences, or None when there is nothing to say (the report then leaves it out)."""
    said = tuple(s for s in sentences if s)
    return Section(title, sentences=said) if said else None


def period_label(when: object, *, period: str) -> str:
    """A period as the table and the charts name it: `Feb 2018` for months and quarters, else `5 Feb 2018`."""
    return pd.Timestamp(when).strftime("%b %Y" if period in ("month", "quarter") else "%-d %b %Y")


def key_numbers(f: Facts) -> Section:
    """The headline KPI, the model's quality and the alert count."""
    c = f.card
    return Section(
        "Key numbers",
        cards=(
            Card(
                f"{c.kpi_label} ({c.window_label})" if c.window_label else c.kpi_label, c.kpi_value, c.kpi_delta or ""
            ),
            Card(c.perf_label or METRICS[PRIMARY[f.spec.task]].label, c.perf_value, _perf_note(c)),
            Card("Open alerts", str(c.open_alerts), f"{c.critical_alerts} critical"),
        ),
    )


def _perf_note(card: HealthCard) -> str:
    if card.perf_reference in ("", "–"):
        return card.perf_note
    return f"at validation {card.perf_reference}; {card.perf_note}"


def what_to_do(f: Facts) -> Section:
    """The distinct actions of the active alerts, most severe first."""
    if f.alerts.empty:
        return Section("What to do", sentences=("Nothing needs action. Keep watching the numbers below.",))
    return Section("What to do", sentences=tuple(dict.fromkeys(f.alerts["action"])), numbered=True)


def open_alerts(f: Facts) -> Section:
    """The worst MAX_ALERTS active alerts in full; how many more there are."""
    rows = f.alerts.to_dict("records")
    notes = tuple(
        Note(str(a["title"]), str(a["severity"]), str(a["state"]), (str(a["what"]), str(a["cost"])), str(a["action"]))
        for a in rows[:MAX_ALERTS]
    )
    more = len(rows) - len(notes)
    said = (f"{more} more, less severe or older, are listed in ModelPulse.",) if more > 0 else ()
    return Section(f"Open alerts ({len(rows)})", sentences=said, notes=notes)


def trends(f: Facts) -> Section | None:
    """One small chart per KPI by period, and the model's quality per monitoring window."""
    if f.series.empty:
        return None
    labels = tuple(period_label(p, period=f.period) for p in f.series["period"])
    hollow = tuple(not bool(c) for c in f.series.get("complete", pd.Series(True, index=f.series.index)))
    charts = []
    for i, k in enumerate(k for k in f.kpis if k.key in f.series):
        values = tuple(_number(v) for v in f.series[k.key])
        line = Series(k.label, values, PALETTE[i % len(PALETTE)], hollow)
        kind = "bar" if k.unit in ("money", "count") else "line"
        charts.append(SmallChart(k.label, labels, (line,), unit=k.unit, currency=f.spec.business.currency, kind=kind))
    quality = quality_chart(f.results, metric=PRIMARY[f.spec.task])
    if quality is not None:
        charts.append(quality)
    note = "Hollow points are periods still filling up." if any(hollow) else ""
    return Section(f"Trends by {f.period}", sentences=(note,) if note else (), charts=tuple(charts))


def quality_chart(results: pd.DataFrame, *, metric: str, thresholds: Thresholds | None = None) -> SmallChart | None:
    """Measured and estimated quality per window, with the value at validation and the alarm line."""
    th = thresholds or Thresholds()
    info = METRICS[metric]
    mine = results[results["metric"] == metric] if len(results) else results
    real = mine[(mine["check"] == "performance") & mine["value"].notna()] if len(mine) else mine
    est = mine[mine["check"] == "estimated_performance"] if len(mine) else mine
    windows = sorted(set(real["window_start"]) | set(est["window_start"])) if len(mine) else []
    if not windows:
        return None
    monthly = all(pd.Timestamp(w).day == 1 for w in windows)
    labels = tuple(period_label(w, period="month" if monthly else "day") for w in windows)
    series = []
    for frame, name, color, dashed in ((est, "Estimated", "#ea580c", True), (real, "Measured", "#2563eb", False)):
        by = dict(zip(frame["window_start"], frame["value"], strict=True))
        if by:
            series.append(Series(name, tuple(_number(by.get(w)) for w in windows), color, dashed=dashed))
    guides = []
    refs = pd.concat([real["reference"], est["reference"]]).dropna()
    if len(refs):
        ref = float(refs.iloc[0])
        sign = -1 if info.higher_is_better else 1
        guides = [
            Guide("at validation", ref, GREY),
            Guide("alarm line", ref * (1 + sign * th.performance_drop.alert), RED),
        ]
    return SmallChart(f"{info.label} per window", labels, tuple(series), unit="score", guides=tuple(guides))


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def by_period(f: Facts) -> Section | None:
    """The KPIs of the last MAX_ROWS periods as a table."""
    if f.series.empty:
        return None
    shown = f.series.tail(MAX_ROWS)
    header = (upper_first(f.period), *(k.label for k in f.kpis))
    rows = tuple(
        (
            period_label(row["period"], period=f.period),
            *(format_value(k.unit, _number(row.get(k.key)), f.spec.business.currency) for k in f.kpis),
        )
        for row in shown.to_dict("records")
    )
    said = (
        (f"The last {MAX_ROWS} of {len(f.series)}; the rest are on the KPIs page.",) if len(f.series) > MAX_ROWS else ()
    )
    return Section(f"By {f.period}", sentences=said, table=Table(header, rows))


def _live(f: Facts) -> bool:
    return f.card.live_version is not None


def _groups(f: Facts) -> list[str]:
    """The inputs that split the business most, then the groups that moved most (by money)."""
    version = int(f.card.live_version)
    moved = [m.sentence for m in what_changed(f.store, f.spec, version=version, limit=2)]
    return [*segment_sentences(f.store, f.spec, version=version), *moved]


def _months(f: Facts) -> list[str]:
    sentence = cohort_sentence(f.spec, cohort_table(f.store, f.spec, version=int(f.card.live_version)))
    return [sentence] if sentence else []


def _drivers(f: Facts) -> list[str]:
    d = model_drivers(f.store, f.spec, int(f.card.live_version))
    return [s for s in (d.answers, d.latest) if s]


SECTIONS: tuple[Callable[[Facts], Section | None], ...] = (
    key_numbers,
    what_to_do,
    open_alerts,
    trends,
    by_period,
    lambda f: sentences_section("Where the business differs", _groups(f)) if _live(f) else None,
    lambda f: sentences_section(heading(f.spec), _months(f)) if _live(f) else None,
    lambda f: sentences_section("What drives the model's answers", _drivers(f)) if _live(f) else None,
    # one line per new section, in reading order (a builder may also return a Section with a chart or table)
)
"""The report's sections in reading order; each builder returns None to leave its section out."""


def build_board(store: Store, spec: ModelSpec, *, period: str = "month") -> Board:
    """The board report of one model as data: gathered once, every section built once."""
    f = gather(store, spec, period=period)
    c = f.card
    as_of = c.as_of.strftime("%-d %B %Y") if c.as_of is not None else "no data yet"
    live = f"v{c.live_version}" if c.live_version is not None else "none"
    facts = f"Data up to {as_of} · live version {live} · report made {datetime.now().strftime('%-d %B %Y %H:%M')}"
    sections = tuple(s for s in (build(f) for build in SECTIONS) if s is not None)
    notes = (f"Money assumption: {spec.business.assumption}",) if spec.business.assumption else ()
    return Board(
        spec.title,
        spec.description,
        facts,
        c.status,
        c.status_word,
        c.reason,
        sections,
        (*notes, "Made by ModelPulse from the stored monitoring results."),
    )
