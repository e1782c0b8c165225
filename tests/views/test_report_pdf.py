"""The board report's PDF, read back with pypdf: what it says, how many pages, how it prints non-latin text."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.store import Store
from core.upkeep.answers import report
from core.views.board import Board
from core.views.board import Card
from core.views.board import Section
from core.views.board import Table
from core.views.board import build_board
from core.views.kpis import kpis_for
from core.views.report_pdf import FACES
from core.views.report_pdf import board_pdf
from core.views.report_pdf import draw
from core.views.report_pdf import latin1
from core.views.report_pdf import render_pdf
from core.views.report_pdf import unicode_font
from core.views.small_chart import Series
from core.views.small_chart import SmallChart
from tests.views.pdf_text import pdf_pages
from tests.views.pdf_text import pdf_text


def test_the_pdf_says_what_the_report_says(demo_settings):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        spec = store.get_spec("churn")
        data = board_pdf(store, spec)
        board = build_board(store, spec)
    assert data.startswith(b"%PDF-")
    assert 1 <= len(pdf_pages(data)) <= 2
    text = pdf_text(data)
    assert spec.title in text
    assert f"{board.status_word} {' '.join(board.reason.split())}" in text  # the light and its sentence
    for kpi in kpis_for(spec):
        assert kpi.label in text, kpi.label  # in the charts' titles and the table's headings
    alerts = next(s for s in board.sections if s.title.startswith("Open alerts"))
    assert alerts.notes, "the demo's churn model has open alerts"
    for note in alerts.notes:
        assert " ".join(note.title.split()) in text
    assert "What to do" in text and "Trends by month" in text and "By month" in text


def test_the_pdf_carries_the_segment_month_and_driver_sentences(demo_settings):
    from core.views.cohorts import cohort_sentence
    from core.views.cohorts import cohort_table
    from core.views.drivers import model_drivers
    from core.views.segments import segment_sentences

    with Store.open(demo_settings.db_path, read_only=True) as store:
        spec = store.get_spec("churn")
        live = store.live_version("churn").version
        groups = segment_sentences(store, spec, version=live)
        month = cohort_sentence(spec, cohort_table(store, spec, version=live))
        drivers = model_drivers(store, spec, live)
        text = pdf_text(board_pdf(store, spec))
    assert groups and month and drivers.answers, "the demo has groups, months and measured importance"
    assert "Where the business differs" in text and "Customers by the month they signed up" in text
    for sentence in [*groups, month, drivers.answers]:
        assert " ".join(sentence.split()) in text, sentence


def test_every_demo_model_prints_on_one_or_two_pages(demo_settings):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        for spec in store.list_specs():
            data = board_pdf(store, spec)
            assert 1 <= len(pdf_pages(data)) <= 2, spec.name
            assert len(data) < 300_000, (spec.name, len(data))  # drawn charts, a font subset: no images


def _board(reason: str) -> Board:
    chart = SmallChart(
        "Revenue saved",
        ("Jan 2018", "Feb 2018", "Mar 2018"),
        (Series("Revenue saved", (1200.0, 1500.0, 900.0), "#2563eb", hollow=(False, False, True)),),
        unit="money",
        currency="€",
        kind="bar",
    )
    return Board(
        "Ticket sales",
        "Predicts which visitors buy – in euros.",
        "Data up to 1 March 2018",
        "amber",
        "Worth a look",
        reason,
        (
            Section("Key numbers", cards=(Card("Revenue saved", "€1,500", "+25% vs previous month"),)),
            Section("Trends by month", charts=(chart,)),
            Section("By month", table=Table(("Month", "Revenue saved"), (("Jan 2018", "€1,200"),))),
        ),
    )


REASON = "Revenue saved fell to €900 – 40% below February… after the price change."


def test_with_dejavu_currency_signs_and_dashes_print_as_written():
    # `make test` installs Debian's fonts-dejavu-core, so the font is there wherever the suite runs
    assert unicode_font() is not None, "DejaVu Sans is missing: run `make test` (it installs fonts-dejavu-core)"
    data = render_pdf(_board(REASON))
    text = pdf_text(data)
    assert REASON in text and "€1,500" in text and "€1,200" in text
    assert "Predicts which visitors buy – in euros." in text
    assert b"/FontFile2" in data  # the font travels inside the file


def test_without_the_font_text_is_spelled_in_latin1():
    data = render_pdf(_board(REASON), find_font=False)
    text = pdf_text(data)
    assert "Revenue saved fell to EUR 900 - 40% below February... after the price change." in text
    assert "EUR 1,500" in text and "€" not in text and b"/FontFile2" not in data
    assert len(pdf_pages(data)) == 1


def test_latin1_spells_what_helvetica_cannot_print():
    assert latin1("€5 – 7… “ok” ≥ 3 → £2 ¥9 ü") == 'EUR 5 - 7... "ok" >= 3 -> £2 ¥9 ü'
    assert latin1("日本") == "??"


def test_the_font_is_found_only_where_every_face_is(tmp_path):
    whole, partial = tmp_path / "whole", tmp_path / "partial"
    for folder, names in ((whole, FACES.values()), (partial, ["DejaVuSans.ttf"])):
        folder.mkdir()
        for name in names:
            (folder / name).write_bytes(b"")
    assert unicode_font(dirs=(partial,)) is None
    assert unicode_font(dirs=(partial, whole)) == {style: whole / name for style, name in FACES.items()}


def test_the_report_command_writes_a_pdf_or_html_by_the_files_name(demo_settings, tmp_path):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        said = report(store, demo_settings, model="churn", out=str(tmp_path / "board.pdf"))
        report(store, demo_settings, model="churn", out=str(tmp_path))
    assert said.ok and "board.pdf" in said.lines[0]
    assert "Customer churn" in pdf_text((tmp_path / "board.pdf").read_bytes())
    assert (tmp_path / "churn-board-report.html").read_text(encoding="utf-8").startswith("<!doctype html>")


def test_a_board_just_too_long_for_two_pages_is_set_tighter(demo_settings):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        board = build_board(store, store.get_spec("churn"))
    said = "Customers on month-to-month contracts leave three times as often as those on yearly ones."
    longer = board
    for n in range(1, 200):  # the shortest addition that spills onto a third page at the normal size
        longer = replace(board, sections=(*board.sections, Section("Segments", sentences=(said,) * n)))
        if draw(longer, font=unicode_font()).page_no() > 2:
            break
    else:
        pytest.fail("no addition made the board longer than two pages")
    data = render_pdf(longer)
    assert len(pdf_pages(data)) == 2
    assert pdf_text(data).count(said) == n  # tighter, not shorter: every sentence is still there
