"""Small charts as inline SVG: no script, no font file, no network, a few kilobytes each, every text
escaped. The picture is laid out by `core.views.small_chart`; this module only writes it down."""

from __future__ import annotations

import html

from core.views.small_chart import Box
from core.views.small_chart import Dot
from core.views.small_chart import Label
from core.views.small_chart import SmallChart
from core.views.small_chart import Stroke
from core.views.small_chart import layout

FONT = "-apple-system,Segoe UI,Helvetica,Arial,sans-serif"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _n(value: float) -> str:
    # one decimal is finer than a screen pixel and keeps the file small
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _mark(mark: Stroke | Box | Dot | Label) -> str:
    if isinstance(mark, Stroke):
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in mark.points)
        dash = " stroke-dasharray='4 3'" if mark.dashed else ""
        return (
            f"<polyline points='{points}' fill='none' stroke='{_e(mark.color)}' stroke-width='{_n(mark.width)}'{dash}/>"
        )
    if isinstance(mark, Box):
        stroke = f" stroke='{_e(mark.stroke)}'" if mark.stroke else ""
        return (
            f"<rect x='{_n(mark.x)}' y='{_n(mark.y)}' width='{_n(mark.w)}' height='{_n(mark.h)}' "
            f"fill='{_e(mark.fill or 'white')}'{stroke}/>"
        )
    if isinstance(mark, Dot):
        fill = "white" if mark.hollow else mark.color
        return (
            f"<circle cx='{_n(mark.x)}' cy='{_n(mark.y)}' r='{_n(mark.r)}' fill='{_e(fill)}' "
            f"stroke='{_e(mark.color)}'/>"
        )
    weight = " font-weight='700'" if mark.bold else ""
    return (
        f"<text x='{_n(mark.x)}' y='{_n(mark.y)}' font-size='{_n(mark.size)}' text-anchor='{mark.anchor}' "
        f"fill='{_e(mark.color)}'{weight}>{_e(mark.text)}</text>"
    )


def svg_chart(chart: SmallChart, *, width: float = 340, height: float = 170) -> str:
    """One chart as an `<svg>` element that scales to its container's width (viewBox, no fixed size)."""
    drawn = layout(chart, width=width, height=height)
    body = "".join(_mark(m) for m in drawn.marks)
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {_n(width)} {_n(height)}' role='img' "
        f"aria-label='{_e(chart.title)}' font-family='{FONT}' style='width:100%;height:auto'>"
        f"<title>{_e(chart.title)}</title>{body}</svg>"
    )
