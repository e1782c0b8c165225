"""The board report: one list of sections, written as HTML (small, no script, charts as SVG) and as PDF."""

from __future__ import annotations

import html as markup
import re
import shutil
from dataclasses import replace

import duckdb
import pandas as pd

from core.store import Store
from core.views import board as board_module
from core.views.board import MAX_ALERTS
from core.views.board import build_board
from core.views.board import gather
from core.views.board import open_alerts
from core.views.board import sentences_section
from core.views.report import board_report
from core.views.report import render_html
from core.views.report_pdf import render_pdf
from tests.conftest import make_settings
from tests.views.pdf_text import pdf_text


def test_board_report_escapes_everything(demo_settings, tmp_path):
    cfg = make_settings(tmp_path / "r")
    shutil.copy(demo_settings.db_path, cfg.db_path)
    with Store.open(cfg.db_path) as store:
        alert = store.list_alerts(model="churn").iloc[0]
        with store.transaction() as cur:
            cur.execute(
                "UPDATE alerts SET title = ?, state = 'open' WHERE id = ?",
                ["<script>alert(1)</script> & co", alert["id"]],
            )
        html = board_report(store, store.get_spec("churn"))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "<script" not in html


def test_the_html_is_small_scriptless_and_draws_every_kpi_chart(demo_settings):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        for spec in store.list_specs():
            board = build_board(store, spec)
            html = render_html(board)
            assert len(html.encode("utf-8")) < 1_500_000, spec.name  # was 4.6 MB with plotly.js inside
            assert "<script" not in html.lower() and "plotly" not in html.lower(), spec.name
            assert "<link" not in html and "src=" not in html  # nothing to fetch: it opens offline
            trends = next(s for s in board.sections if s.title.startswith("Trends"))
            assert len(trends.charts) >= 2
            assert html.count("<svg") == len(trends.charts)
            drawn = re.findall(r"<svg[^>]*aria-label='([^']*)'", html)
            assert [c.title for c in trends.charts] == [markup.unescape(d) for d in drawn]
            kpis = {k.label for k in gather(store, spec).kpis}
            assert kpis < {c.title for c in trends.charts}, spec.name  # every KPI, and the quality chart


def test_one_list_of_sections_is_written_both_ways(demo_settings):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        spec = store.get_spec("churn")
        board = build_board(store, spec)
    titles = [s.title for s in board.sections]
    assert titles[:2] == ["Key numbers", "What to do"] and titles[2].startswith("Open alerts (")
    assert titles[3:5] == ["Trends by month", "By month"]  # then the sections other views add
    html, text = render_html(board), pdf_text(render_pdf(board))
    for section in board.sections:
        for line in (section.title, *section.sentences, *(n.title for n in section.notes)):
            assert markup.escape(line, quote=True) in html, line
            assert " ".join(line.split()) in text, line


def test_a_new_section_is_one_line(demo_settings, monkeypatch):
    said = "Customers on month-to-month contracts leave three times as often as the rest."
    added = (lambda f: sentences_section("Segments", [said]), lambda f: sentences_section("Cohorts", []))
    monkeypatch.setattr(board_module, "SECTIONS", board_module.SECTIONS + added)
    with Store.open(demo_settings.db_path, read_only=True) as store:
        board = build_board(store, store.get_spec("churn"))
    assert board.sections[-1].title == "Segments" and board.sections[-1].sentences == (said,)
    assert "Cohorts" not in [s.title for s in board.sections]  # nothing to say: the section is left out
    assert f"<h2>Segments</h2><p>{said}</p>" in render_html(board)
    assert f"Segments {said}" in pdf_text(render_pdf(board))


def test_the_worst_alerts_are_written_out_and_the_rest_counted(demo_settings, tmp_path):
    # churn's open alerts in the reduced demo are all warnings: the oldest is made critical in a copy, so the
    # report must put it first (most severe before most recent)
    db = tmp_path / "copy.duckdb"
    shutil.copy(demo_settings.db_path, db)
    con = duckdb.connect(str(db))
    oldest = con.execute(
        "SELECT id FROM alerts WHERE model = 'churn' AND state = 'open' ORDER BY updated_at LIMIT 1"
    ).fetchone()[0]
    con.execute("UPDATE alerts SET severity = 'critical' WHERE id = ?", [oldest])
    con.close()
    with Store.open(db, read_only=True) as store:
        facts = gather(store, store.get_spec("churn"))
    assert facts.alerts["id"].iloc[0] == oldest
    many = pd.concat([facts.alerts] * 3, ignore_index=True)
    section = open_alerts(replace(facts, alerts=many))
    assert section.title == f"Open alerts ({len(many)})"
    assert len(section.notes) == MAX_ALERTS
    assert section.notes[0].severity == "critical"
    assert section.sentences == (f"{len(many) - MAX_ALERTS} more, less severe or older, are listed in ModelPulse.",)
