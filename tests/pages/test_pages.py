"""Every page under streamlit's AppTest: no exception, and the numbers shown equal what core computes."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from core.store import Store
from core.views.overview import health_card

APP = str(REPO_ROOT / "app.py")
PAGES = [
    "screens/overview.py",
    "screens/alerts.py",
    "screens/health.py",
    "screens/kpis.py",
    "screens/compare.py",
    "screens/report.py",
    "screens/settings.py",
]


def _close_cached_stores() -> None:
    # the app keeps one read-write connection per store file; close it so later tests can open the file
    from ui.state import close_stores

    close_stores()


@pytest.fixture
def app(demo_env):
    at = AppTest.from_file(APP, default_timeout=120)
    yield at
    _close_cached_stores()


def _run(at: AppTest, page: str | None = None, **query) -> AppTest:
    at.query_params.update(query)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(app, page):
    _run(app, page)
    assert app.title or app.subheader


def test_overview_numbers_equal_core(app, demo_settings):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        cards = [health_card(store, spec) for spec in store.list_specs()]
    _run(app)
    shown = {m.label: m.value for m in app.metric}
    for card in cards:
        assert shown[card.kpi_label] == card.kpi_value
    text = " ".join(md.value for md in app.markdown)
    for card in cards:
        assert card.title in text
    captions = " ".join(c.value for c in app.caption)
    for card in cards:
        assert f"{card.predictions:,} predictions" in captions


def test_alerts_page_lists_the_stored_alerts(app, demo_settings):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        alerts = store.list_alerts(model="flights")
    active = alerts[alerts["state"].isin(["open", "acknowledged"])]
    _run(app, "screens/alerts.py", model="flights")
    text = " ".join(md.value for md in app.markdown)
    for title in active["title"]:
        assert title in text
    assert f"{len(active)} alert" in " ".join(c.value for c in app.caption)


def test_compare_page_shows_core_comparison(app, demo_settings):
    from core.views.compare import compare_versions

    with Store.open(demo_settings.db_path, read_only=True) as store:
        spec = store.get_spec("churn")
        expected = compare_versions(spec, store.read_window_stats(model="churn"), a=1, b=2, metric="roc_auc")
    _run(app, "screens/compare.py", model="churn")
    shown = {m.label: m.value for m in app.metric}
    assert shown["v1"] == f"{expected.pooled_a:.3f}"
    assert shown["v2"] == f"{expected.pooled_b:.3f}"
    assert any(expected.recommendation == x.value for x in (*app.info, *app.success, *app.warning))
    live = next(sb for sb in app.selectbox if sb.label == "Version to make live")
    assert live.value == expected.recommended


def test_kpi_page_headline_equals_core(app, demo_settings):
    from core.views.kpis import kpi_series
    from core.wording import format_value

    with Store.open(demo_settings.db_path, read_only=True) as store:
        spec = store.get_spec("hotel")
        series = kpi_series(spec, store.read_daily_stats(model="hotel", version=1), period="window", version=1)
    full = series[series["complete"]]
    _run(app, "screens/kpis.py", model="hotel")
    shown = {m.label: m.value for m in app.metric}
    assert shown["Pricing error"] == format_value("money", full["pricing_error"].iloc[-1])


def test_missing_store_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("MODELPULSE_DB", str(tmp_path / "none.duckdb"))
    monkeypatch.delenv("MODELPULSE_PASSWORD", raising=False)
    for page in PAGES:
        at = AppTest.from_file(APP, default_timeout=60)
        _run(at, page)
        assert any("no ModelPulse store yet" in i.value for i in at.info), page
    assert not (tmp_path / "none.duckdb").exists()


def test_empty_store_pages_explain(monkeypatch, tmp_path):
    db = tmp_path / "empty.duckdb"
    Store.open(db, create=True).close()
    monkeypatch.setenv("MODELPULSE_DB", str(db))
    monkeypatch.delenv("MODELPULSE_PASSWORD", raising=False)
    try:
        for page in PAGES:
            at = AppTest.from_file(APP, default_timeout=60)
            _run(at, page)
            assert any("No models yet" in i.value or "no models yet" in i.value for i in at.info), page
    finally:
        _close_cached_stores()


def test_password_gate_shows_nothing_before_signing_in(monkeypatch, demo_env):
    """AppTest reruns a page script directly after a click, so the sign-in flow itself is tested in a real
    browser (tests/browser/test_upload.py); here: the first screen holds the form and nothing else."""
    monkeypatch.setenv("MODELPULSE_PASSWORD", "s3cret-ö")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Team password"]
    assert not at.subheader and not at.metric
    _close_cached_stores()


def test_upload_page_renders_with_and_without_a_store(monkeypatch, tmp_path, demo_env):
    at = AppTest.from_file(APP, default_timeout=60)
    _run(at, "screens/upload.py")
    assert any("Upload a file to start" in i.value for i in at.info)
    _close_cached_stores()
    monkeypatch.setenv("MODELPULSE_DB", str(tmp_path / "fresh.duckdb"))
    at = AppTest.from_file(APP, default_timeout=60)
    _run(at, "screens/upload.py")
    assert any("Create a model first" in i.value for i in at.info)
    assert not (tmp_path / "fresh.duckdb").exists()  # nothing is created until a model is


def test_upload_page_lists_imports_and_says_when_the_inbox_is_off(app, demo_settings):
    _run(app, "screens/upload.py")
    frames = [f.value for f in app.dataframe]
    imports = next(f for f in frames if "removable" not in f.columns and {"what", "source", "by"} <= set(f.columns))
    assert "predictions" in set(imports["what"]) and "demo" in set(imports["by"])
    assert any(b.label == "Remove this import" for b in app.button)
    text = " ".join(m.value for m in app.markdown)
    assert "inbox watcher is off" in text


@pytest.fixture
def lake_app(copied, lake_server, tmp_path, monkeypatch):
    """The app pointed at the reduced demo copied into a shared (DuckLake) store of its own."""
    from core.progress import quiet
    from core.upkeep.migrate import migrate_store
    from tests.lakes import new_lake

    lake = new_lake(lake_server, tmp_path / "shared")
    migrate_store(copied, to=lake.store, data=lake.home, progress=quiet)
    for key, value in {
        "MODELPULSE_STORE": lake.store,
        "MODELPULSE_STORE_DATA": str(lake.home),
        "MODELPULSE_INBOX_POLL": "0",
        "MODELPULSE_SCHEDULER": "off",
        "MODELPULSE_SECRETS": str(tmp_path / "none.toml"),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MODELPULSE_PASSWORD", raising=False)
    at = AppTest.from_file(APP, default_timeout=180)
    yield at, lake
    _close_cached_stores()


def test_every_page_renders_on_a_shared_store(lake_app):
    """The same pages, on DuckLake: no exception anywhere, and the overview shows what core computes there."""
    at, lake = lake_app
    with Store.at(lake, read_only=True) as store:
        cards = [health_card(store, spec) for spec in store.list_specs()]
    _run(at)
    shown = {m.label: m.value for m in at.metric}
    assert cards and all(shown[c.kpi_label] == c.kpi_value for c in cards)
    for page in PAGES[1:]:
        _run(at, page)
        assert at.title or at.subheader, page
