"""Small charts: round ticks, escaped text, gaps kept, hollow periods, bars from zero; valid SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from core.views.small_chart import Box
from core.views.small_chart import Guide
from core.views.small_chart import Series
from core.views.small_chart import SmallChart
from core.views.small_chart import layout
from core.views.small_chart import nice_ticks
from core.views.small_chart import tick_text
from core.views.svg import svg_chart

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything that is not well-formed XML


def test_ticks_are_round_and_cover_the_values():
    ticks = nice_ticks(0.613, 0.912)
    assert ticks[0] <= 0.613 and ticks[-1] >= 0.912
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert steps == {0.1}
    assert nice_ticks(0.0, 0.0) == [0.0, 0.5, 1.0]  # all zeros: an axis from zero, not from -1
    assert nice_ticks(1495, 1988)[0] == 1400


def test_tick_labels_read_in_the_kpis_unit():
    assert tick_text(2000, unit="money", step=1000, currency="€") == "€2,000"
    assert tick_text(0.35, unit="share", step=0.05, currency="$") == "35%"
    assert tick_text(12_000, unit="count", step=5000, currency="$") == "12k"
    assert tick_text(0.8, unit="score", step=0.1, currency="$") == "0.8"


def test_text_is_escaped_and_the_svg_is_well_formed():
    chart = SmallChart(
        "<b>Revenue</b> & co",
        ("Jan <2018>", "Feb"),
        (Series("A & B", (1.0, 2.0), "#2563eb"), Series("<i>", (2.0, 1.0), "#ea580c")),
        unit="money",
        currency="£",
    )
    svg = svg_chart(chart)
    assert "<b>" not in svg and "<i>" not in svg and "<2018>" not in svg
    assert "&lt;b&gt;Revenue&lt;/b&gt; &amp; co" in svg
    root = _parse(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "<b>Revenue</b> & co" in texts and "Jan <2018>" in texts and "A & B" in texts  # legend entry
    assert any(t and t.startswith("£") for t in texts)
    assert "<script" not in svg


def test_a_gap_in_the_data_breaks_the_line_and_hollow_points_stay_open():
    values = (1.0, 2.0, None, 3.0, 4.0)
    chart = SmallChart("KPI", tuple("abcde"), (Series("KPI", values, "#2563eb", hollow=(False,) * 4 + (True,)),))
    root = _parse(svg_chart(chart))
    lines = [p for p in root.iter(f"{SVG}polyline") if p.get("stroke") == "#2563eb"]
    assert len(lines) == 2 and all(len(p.get("points").split()) == 2 for p in lines)
    dots = list(root.iter(f"{SVG}circle"))
    assert len(dots) == 4
    assert [d.get("fill") for d in dots] == ["#2563eb"] * 3 + ["white"]


def test_bars_start_at_zero_and_guides_are_drawn():
    chart = SmallChart(
        "Revenue",
        ("Jan", "Feb", "Mar"),
        (Series("Revenue", (100.0, 120.0, 110.0), "#16a34a", hollow=(False, False, True)),),
        unit="money",
        kind="bar",
        guides=(Guide("target", 115.0, "#dc2626"),),
    )
    drawn = layout(chart)
    boxes = [m for m in drawn.marks if isinstance(m, Box)]
    assert len(boxes) == 3
    assert len({round(b.y + b.h, 6) for b in boxes}) == 1  # one baseline: zero
    assert [b.fill for b in boxes] == ["#16a34a", "#16a34a", None]  # the period filling up is an outline
    assert boxes[1].h > boxes[2].h > boxes[0].h
    root = _parse(svg_chart(chart))
    dashed = [p for p in root.iter(f"{SVG}polyline") if p.get("stroke") == "#dc2626"]
    assert len(dashed) == 2 and all(p.get("stroke-dasharray") for p in dashed)  # the guide and its legend key


def test_a_chart_without_values_says_so():
    svg = svg_chart(SmallChart("Empty", ("Jan",), (Series("x", (None,), "#000000"),)))
    assert "No data yet" in svg and _parse(svg) is not None
