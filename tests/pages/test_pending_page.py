"""Pages say when monitoring is behind or a version cannot score, and an editor can catch up from Model health."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from core.intake.traffic import log_predictions
from core.monitoring.runner import windows_behind
from core.store import Store
from tests.conftest import app_on
from tests.conftest import churn_batch

APP = str(REPO_ROOT / "app.py")


@pytest.fixture
def behind(copied, monkeypatch):
    """A private demo copy where new rows were stored but a kill stopped the monitoring after them, and the
    shadow version's weights file is gone."""
    (copied.models_dir / "churn" / "v2" / "weights.pt").unlink()
    with Store.open(copied.db_path) as store:
        log_predictions(model="churn", frame=churn_batch(150), store=store, settings=copied, source="late.csv")
        assert windows_behind(store, store.get_spec("churn")) > 0
    app_on(monkeypatch, copied)
    yield copied
    from ui.state import close_stores

    close_stores()


def _warnings(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning) + " " + " ".join(e.value for e in at.error)


def test_overview_and_model_health_say_monitoring_is_behind_and_catch_up(behind):
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Monitoring is behind for" in _warnings(at) and "Customer churn" in _warnings(at)
    at.switch_page("screens/health.py").run()
    assert not at.exception, [e.value for e in at.exception]
    said = _warnings(at)
    assert "Monitoring is behind for" in said
    assert "v2 of `churn` cannot score: its weights file" in said and "is missing" in said
    button = next(b for b in at.button if b.label == "Bring monitoring up to date now")
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Monitoring is behind" not in _warnings(at)
    from ui.state import close_stores

    close_stores()
    with Store.open(behind.db_path) as store:
        assert windows_behind(store, store.get_spec("churn")) == 0
        assert len(store.audit.read(action="monitor.run", model="churn")) == 1
