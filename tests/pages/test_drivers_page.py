"""Model health says which inputs drive the model's answers (measured when the demo versions were registered),
and, for a version never measured, how to measure it; an editor can measure it from the page."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from core.store import Store
from core.views.drivers import model_drivers
from tests.conftest import app_on

APP = str(REPO_ROOT / "app.py")
SECTION = "What drives the model's answers"


def _health(model: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["model"] = model
    at.run()
    at.switch_page("screens/health.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _close() -> None:
    from ui.state import close_stores

    close_stores()


@pytest.mark.parametrize("model", ["hotel", "churn"])
def test_model_health_shows_what_drives_the_answers(demo_env, model):
    with Store.open(demo_env.db_path, read_only=True) as store:
        spec = store.get_spec(model)
        expected = model_drivers(store, spec, store.live_version(model).version)
    assert expected.importance is not None, "the demo seed measures every version's importance"
    try:
        at = _health(model)
    finally:
        _close()
    assert SECTION in [h.value for h in at.subheader]
    text = " ".join(md.value for md in at.markdown)
    assert expected.answers and expected.answers in text
    if expected.latest:
        assert expected.latest in text
    titles = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert any("How much the model relies on each input" in t for t in titles)


@pytest.fixture
def unmeasured(copied, monkeypatch):
    """A private demo copy whose churn versions were never measured."""
    with Store.open(copied.db_path) as store:
        store.importance.delete_model("churn")
    app_on(monkeypatch, copied)
    yield copied
    _close()


def test_a_version_never_measured_says_how_and_an_editor_measures_it(unmeasured):
    at = _health("churn")
    info = " ".join(i.value for i in at.info)
    assert "has not been measured yet" in info and "`python -m core importance --model churn --version 1`" in info
    assert not [chart for chart in at.get("plotly_chart") if "relies on each input" in chart.proto.spec]
    next(b for b in at.button if b.label == "Measure it now").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "has not been measured yet" not in " ".join(i.value for i in at.info)
    assert any("relies on each input" in chart.proto.spec for chart in at.get("plotly_chart"))
    _close()
    with Store.open(unmeasured.db_path, read_only=True) as store:
        assert store.importance_versions("churn") == {1}
        assert len(store.audit.read(action="model.train", model="churn")) == 1
