"""The Business analysis page on the reduced demo: groups, months and movers as core computes them."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from core.store import Store
from core.views.cohorts import cohort_sentence
from core.views.cohorts import cohort_table
from core.views.segments import propose_columns
from core.views.segments import segment_table

APP = str(REPO_ROOT / "app.py")


@pytest.fixture
def app(demo_env):
    from ui.state import close_stores

    at = AppTest.from_file(APP, default_timeout=120)
    yield at
    close_stores()


@pytest.mark.parametrize("model", ["churn", "hotel", "flights"])
def test_analysis_page_shows_what_core_computes(app, demo_settings, model):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        spec = store.get_spec(model)
        live = store.live_version(model).version
        proposals = propose_columns(store, spec, version=live)
        first = proposals[0].column
        table = segment_table(store, spec, version=live, column=first)
        sentence = cohort_sentence(spec, cohort_table(store, spec, version=live))
    app.query_params["model"] = model
    app.run()
    app.switch_page("screens/analysis.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value == "Business analysis"
    text = " ".join(md.value for md in app.markdown)
    assert "Worth a look first" in text
    for p in proposals:
        assert p.sentence in text
    # the demo's own segments are proposed first
    assert first in spec.segments
    shown = app.dataframe[0].value
    assert list(shown.iloc[:, 0]) == list(table["segment"])
    assert list(shown.iloc[:, 1]) == list(table["n"])
    captions = " ".join(c.value for c in app.caption)
    assert f"{int(table['n'].sum()):,} {spec.business.entity}s" in captions
    if sentence:
        assert sentence in text
    assert [t.label for t in app.tabs][0] == "By group"
