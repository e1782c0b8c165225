"""The Alerts page's feedback loop under AppTest, on a small real store: "Not useful" with a reason moves the
rule's line (said on the page, recorded and audited), a critical alert keeps its line, the windows the moved
line kept quiet are counted with what they would have said, and "Undo" puts the line back."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.alerts.silenced import evaluate_with_feedback
from core.config import REPO_ROOT
from core.store import Store
from tests.alerts.test_feedback import DRIFT
from tests.alerts.test_feedback import QUALITY
from tests.alerts.test_feedback import SPEC
from tests.alerts.test_feedback import window
from tests.conftest import app_on
from tests.pages.test_pages import _run
from tests.pages.test_settings_page import _ok
from tests.pages.test_settings_page import _text

APP = str(REPO_ROOT / "app.py")


def _close() -> None:
    # the app keeps one connection per store file; DuckDB allows one configuration per file in a process
    from ui.state import close_stores

    close_stores()


@pytest.fixture
def app(settings, monkeypatch):
    with Store.open(settings.db_path, create=True) as store:
        store.upsert_model(SPEC)
        window(store, 0, share=0.35, auc=0.6)  # a drift warning and a critical quality drop
        evaluate_with_feedback(store=store, spec=SPEC, version=1)
    app_on(monkeypatch, settings)
    yield _run(AppTest.from_file(APP, default_timeout=120), "screens/alerts.py")
    _close()


def test_feedback_moves_the_line_counts_what_it_kept_quiet_and_undo_puts_it_back(app, settings):
    _ok(app)
    assert "Feedback so far: 0 useful, 0 not useful" in _text(app)
    assert {b.label for b in app.button} >= {"Useful", "Not useful"}
    assert "Feedback has not moved any rule's line." in _text(app) and "0 alerts kept quiet" in _text(app)
    assert "never more than 2 times the usual line" in _text(app)  # the bounds, on the page

    app.text_input(key="actor").input("maya@startup.com")
    app.text_input(key=f"why-{DRIFT}").input("expected after the spring campaign")
    _ok(app.button(key=f"useless-{DRIFT}").click().run())
    assert any("now fires from 0.375 instead of 0.3" in s.value for s in app.success)
    said = _text(app)
    assert "now fires from 0.375 (was 0.3)" in said and "expected after the spring campaign" in said
    assert "Feedback so far: 0 useful, 1 not useful" in said
    _ok(app.button(key=f"useless-{QUALITY}").click().run())
    assert any("Critical alerts keep their line" in s.value for s in app.success)

    _close()
    with Store.open(settings.db_path) as store:  # the next day looks the same; the next refresh evaluates it
        window(store, 1, share=0.35, auc=0.6)
        evaluate_with_feedback(store=store, spec=SPEC, version=1)
    _ok(app.run())
    assert "2 alerts kept quiet by your feedback" in _text(app)
    would = " ".join(m.value for m in app.expander[-1].markdown)
    assert "incoming data has changed" in would and "35% of the inputs" in would and "moved to 0.375" in would

    _ok(app.button(key=next(b.key for b in app.button if b.label == "Undo")).click().run())
    assert any("Undone" in s.value for s in app.success)
    assert "Feedback has not moved any rule's line." in _text(app) and "0 alerts kept quiet" in _text(app)
    _close()
    with Store.open(settings.db_path, read_only=True) as store:
        (undone,) = store.rule_adjustments(model=SPEC.name).to_dict("records")
        assert undone["reverted_by"] == "maya@startup.com"
        assert len(store.alert_feedback(model=SPEC.name)) == 2
        audit = store.audit.read(action="alert.feedback")
        assert audit["outcome"].tolist() == ["done"] * 3
        assert any("undid line change" in d for d in audit["detail"])
