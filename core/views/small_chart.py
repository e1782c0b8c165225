"""A small line or bar chart described as data, laid out once as marks (strokes, boxes, dots, labels) that
the SVG writer (`core.views.svg`) and the PDF writer (`core.views.report_pdf`) both draw, so the HTML and
the printed report show the same picture without plotly or any script.

Coordinates are in abstract units of a `width` x `height` box, y growing downwards (as in SVG and PDF);
each writer scales them to its own page. Text widths are estimated (0.56 of the font size per
character), which is close enough for placing tick labels; nothing here measures a real font.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field

from core.wording import format_value

GRID, AXIS, INK, MUTED = "#e2e8f0", "#94a3b8", "#0f172a", "#64748b"
CHAR_WIDTH = 0.56
"""Average glyph width of a sans-serif font, as a share of its size."""


@dataclass(frozen=True)
class Series:
    """One named line (or set of bars); `hollow[i]` draws point i open (a period still filling up)."""

    name: str
    values: tuple[float | None, ...]
    color: str
    hollow: tuple[bool, ...] = ()
    dashed: bool = False


@dataclass(frozen=True)
class Guide:
    """A horizontal reference line with its label, such as the value at validation or the alarm line."""

    label: str
    value: float
    color: str = AXIS


@dataclass(frozen=True)
class SmallChart:
    """What to draw: `labels` name the x positions, each series gives one value per label.

    `unit` is a KPI unit (money, count, share, score) and sets how the y ticks read.
    """

    title: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    unit: str = "score"
    currency: str = "$"
    kind: str = "line"  # or "bar"
    guides: tuple[Guide, ...] = ()


@dataclass(frozen=True)
class Stroke:
    """An open polyline."""

    points: tuple[tuple[float, float], ...]
    color: str
    width: float = 1.0
    dashed: bool = False


@dataclass(frozen=True)
class Box:
    """A rectangle, (x, y) its top left corner."""

    x: float
    y: float
    w: float
    h: float
    fill: str | None
    """None leaves it empty: an outline only."""
    stroke: str | None = None


@dataclass(frozen=True)
class Dot:
    """A point marker centred on (x, y)."""

    x: float
    y: float
    r: float
    color: str
    hollow: bool = False
    """Drawn white inside: a period still filling up."""


@dataclass(frozen=True)
class Label:
    """A line of text on the baseline y."""

    x: float
    y: float
    text: str
    size: float = 9.0
    """In the chart's units, as the SVG sets it; the PDF scales it with the chart."""
    anchor: str = "start"
    """Whether the text starts (`start`), centres (`middle`) or ends (`end`) at x."""
    color: str = MUTED
    bold: bool = False


@dataclass(frozen=True)
class Layout:
    """The marks of one chart, in drawing order, inside a `width` x `height` box."""

    width: float
    height: float
    marks: list[Stroke | Box | Dot | Label] = field(default_factory=list)


def text_width(text: str, *, size: float) -> float:
    """Estimated width of `text` set at `size` (see CHAR_WIDTH)."""
    return len(text) * size * CHAR_WIDTH


def nice_ticks(lo: float, hi: float, *, count: int = 4) -> list[float]:
    """About `count` round tick values (steps of 1, 2 or 5 times a power of ten) covering lo..hi."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        # a flat series still needs an axis around its value
        pad = abs(lo) * 0.1 or 1.0
        # an axis of numbers that cannot go negative (all zeros, say) starts at zero, not at -1
        lo, hi = (lo - pad if lo < 0 else max(0.0, lo - pad)), hi + pad
    raw = (hi - lo) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    value = first
    while value < hi + step * 0.999:
        ticks.append(round(value, 12))
        value += step
    return ticks if len(ticks) > 1 else [first, first + step]


def tick_text(value: float, *, unit: str, step: float, currency: str) -> str:
    """A y tick as people read it: `$12k`, `40%`, `0.82`, `1.2k`."""
    if unit == "money":
        return format_value("money", value, currency)
    if unit == "share":
        digits = 0 if step >= 0.01 - 1e-12 else 1
        return f"{value:.{digits}%}"
    if unit == "count" and abs(value) >= 1000:
        return f"{value / 1000:,.{0 if step >= 1000 else 1}f}k"
    digits = max(0, -math.floor(math.log10(step))) if step > 0 else 2
    return f"{value:,.{min(digits, 4)}f}"


def _finite(values: tuple[float | None, ...]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def layout(chart: SmallChart, *, width: float = 340, height: float = 170) -> Layout:
    """Place the title, grid, y ticks, x labels, series, guides and legend of `chart` in a box."""
    out = Layout(width=width, height=height)
    marks = out.marks
    marks.append(Label(0, 12, chart.title, size=11, color=INK, bold=True))
    values = [v for s in chart.series for v in _finite(s.values)] + [g.value for g in chart.guides]
    if not values or not chart.labels:
        marks.append(Label(width / 2, height / 2, "No data yet", size=9, anchor="middle"))
        return out
    lo, hi = min(values), max(values)
    if chart.kind == "bar":
        lo, hi = min(lo, 0.0), max(hi, 0.0)  # bars start at zero or they exaggerate
    ticks = nice_ticks(lo, hi)
    step = ticks[1] - ticks[0]
    texts = [tick_text(t, unit=chart.unit, step=step, currency=chart.currency) for t in ticks]
    legend = len(chart.series) > 1 or bool(chart.guides)
    left = max(text_width(t, size=8) for t in texts) + 6
    top, right, bottom = 22.0, width - 6, height - 16 - (14 if legend else 0)
    y_lo, y_hi = ticks[0], ticks[-1]

    def y_of(value: float) -> float:
        return bottom - (value - y_lo) / (y_hi - y_lo) * (bottom - top)

    for tick, text in zip(ticks, texts, strict=True):
        y = y_of(tick)
        marks.append(Stroke(((left, y), (right, y)), GRID, 0.6))
        marks.append(Label(left - 4, y + 3, text, size=8, anchor="end"))
    marks.append(Stroke(((left, bottom), (right, bottom)), AXIS, 0.8))
    n = len(chart.labels)
    slot = (right - left) / n

    def x_of(i: int) -> float:
        return left + slot * (i + 0.5)

    every = max(1, math.ceil(n / max(1, int((right - left) // 52))))  # labels about 52 units apart at most
    for i in range(0, n, every):
        marks.append(Label(x_of(i), bottom + 11, chart.labels[i], size=7.5, anchor="middle"))
    if chart.kind == "bar":
        _bars(chart, marks, x_of=x_of, y_of=y_of, slot=slot, base=y_of(max(y_lo, min(0.0, y_hi))))
    else:
        _lines(chart, marks, x_of=x_of, y_of=y_of)
    for guide in chart.guides:
        y = y_of(guide.value)
        marks.append(Stroke(((left, y), (right, y)), guide.color, 0.9, dashed=True))
    if legend:
        _legend(chart, marks, y=height - 4)
    return out


def _hollow(series: Series, i: int) -> bool:
    return i < len(series.hollow) and series.hollow[i]


def _lines(chart: SmallChart, marks: list, *, x_of, y_of) -> None:
    for series in chart.series:
        run: list[tuple[float, float]] = []
        runs = [run]
        for i, value in enumerate(series.values):
            if value is None or not math.isfinite(float(value)):
                run = []  # a gap in the data is a gap in the line, not a straight bridge over it
                runs.append(run)
                continue
            run.append((x_of(i), y_of(float(value))))
        for points in runs:
            if len(points) > 1:
                marks.append(Stroke(tuple(points), series.color, 1.6, dashed=series.dashed))
        dense = len(series.values) > 30  # dots on a long weekly series would be a smear
        for i, value in enumerate(series.values):
            if value is not None and math.isfinite(float(value)) and (not dense or _hollow(series, i)):
                marks.append(Dot(x_of(i), y_of(float(value)), 2.2, series.color, hollow=_hollow(series, i)))


def _bars(chart: SmallChart, marks: list, *, x_of, y_of, slot: float, base: float) -> None:
    k = len(chart.series)
    bar = slot * 0.7 / k
    for j, series in enumerate(chart.series):
        for i, value in enumerate(series.values):
            if value is None or not math.isfinite(float(value)):
                continue
            x = x_of(i) - slot * 0.35 + j * bar
            y = y_of(float(value))
            hollow = _hollow(series, i)
            marks.append(Box(x, min(y, base), bar * 0.9, abs(base - y), None if hollow else series.color, series.color))


def _legend(chart: SmallChart, marks: list, *, y: float) -> None:
    x = 0.0
    entries = [(s.name, s.color, s.dashed) for s in chart.series] + [(g.label, g.color, True) for g in chart.guides]
    for name, color, dashed in entries:
        marks.append(Stroke(((x, y - 3), (x + 12, y - 3)), color, 1.6, dashed=dashed))
        marks.append(Label(x + 15, y, name, size=7.5))
        x += 15 + text_width(name, size=7.5) + 10
