"""The Settings page under AppTest on a private copy of the demo: channels, schedules, mutes, deliveries,
the digest preview, and an alert link from a message opening that alert."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from core.store import Store
from tests.conftest import app_on
from tests.notify.test_delivery import rerun_alerts
from tests.notify.test_delivery import with_delivery

APP = str(REPO_ROOT / "app.py")


@pytest.fixture
def app(copied, monkeypatch):
    app_on(monkeypatch, copied)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("screens/settings.py").run()
    yield at
    from ui.state import close_stores

    close_stores()


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _text(at: AppTest) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info])


def _store(at_env) -> Store:
    """The store, after the app (same process) let go of it: DuckDB allows one configuration per file."""
    from ui.state import close_stores

    close_stores()
    return Store.open(at_env.db_path, read_only=True)


def test_settings_page_adds_a_channel_and_refuses_a_bad_address(app, copied):
    _ok(app)
    assert "No channels yet" in _text(app)
    assert "does not run the scheduler" in _text(app)
    app.text_input(key="settings_actor").input("maya@startup.com")
    app.text_input(key="ch_name").input("Founders")
    app.text_input(key="ch_target").input("maya@startup.com, not-an-address")
    _ok(app.button(key="ch_add").click().run())
    assert any("not an email address" in e.value for e in app.error)
    app.text_input(key="ch_name").input("Founders")
    app.text_input(key="ch_target").input("maya@startup.com, sam@startup.com")
    _ok(app.button(key="ch_add").click().run())
    assert any("Channel 'Founders' added" in s.value for s in app.success)
    assert "maya@startup.com, sam@startup.com" in _text(app)
    with _store(copied) as store:
        (channel,) = store.list_channels()
    assert channel.recipients == ["maya@startup.com", "sam@startup.com"] and channel.source == "settings"


def test_settings_page_refuses_changes_from_nobody_and_sets_a_schedule(app, copied):
    save = next(b for b in app.button if b.key == "save-churn")
    _ok(save.click().run())
    assert any("Say who you are" in e.value for e in app.error)
    app.text_input(key="settings_actor").input("maya@startup.com")
    app.selectbox(key="every-churn").select("weekly")
    app.selectbox(key="day-churn").select("fri")
    _ok(next(b for b in app.button if b.key == "save-churn").click().run())
    assert any("every Friday at 07:00" in s.value for s in app.success)
    with _store(copied) as store:
        assert store.schedules()["churn"][0] == "0 7 * * fri"


def test_settings_page_mutes_lists_deliveries_and_previews_the_digest(app, copied):
    app.text_input(key="settings_actor").input("maya@startup.com")
    app.selectbox(key="mute_model").select("hotel")
    app.text_input(key="mute_reason").input("launch week")
    _ok(app.button(key="mute_go").click().run())
    assert "muted until" in _text(app) and "launch week" in _text(app)
    # an owed message shows among the deliveries with its status
    from core.config import make_channel

    cfg = with_delivery(copied)
    from ui.state import close_stores

    close_stores()
    with Store.open(copied.db_path) as store:
        store.save_channel(make_channel(id="c1", name="Ops", kind="email", target="ops@startup.com"), by="t")
        rerun_alerts(store, cfg, "hotel")
    app.run()
    _ok(app)
    (frame,) = [d.value for d in app.dataframe if "subject" in d.value.columns]
    assert list(frame["status"]) == ["muted"] and frame["to"].iloc[0] == "ops@startup.com"
    assert any(m.value.startswith("**Subject:** ModelPulse weekly:") for m in app.markdown)


def test_an_alert_link_opens_that_alert_first_even_when_filtered_out(copied, monkeypatch):
    monkeypatch.setenv("MODELPULSE_DB", str(copied.db_path))
    monkeypatch.setenv("MODELPULSE_INBOX_POLL", "0")
    monkeypatch.setenv("MODELPULSE_SCHEDULER", "off")
    monkeypatch.delenv("MODELPULSE_PASSWORD", raising=False)
    with _store(copied) as store:
        resolved = store.list_alerts(state="resolved")
    assert not resolved.empty, "the reduced demo has a resolved alert"
    target = resolved.iloc[0]
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"alert": target["id"]})
    at.run()
    at.switch_page("screens/alerts.py")
    at.query_params.update({"alert": target["id"]})
    _ok(at.run())
    titles = [m.value for m in at.markdown if m.value.startswith("**")]
    assert titles[0].startswith(f"**{target['title']}**")
    assert any("The alert from your message" in c.value for c in at.caption)
    from ui.state import close_stores

    close_stores()


def test_settings_page_sets_how_long_rows_are_kept(app, copied):
    app.text_input(key="settings_actor").input("maya@startup.com")
    app.number_input(key="keep-hotel").set_value(30)
    _ok(app.button(key="keep-save-hotel").click().run())
    assert any("Hotel room price keeps 30 days" in s.value for s in app.success)
    with _store(copied) as store:
        assert store.retention.retention_days("hotel") == 30
        line = store.audit.read(action="model.retention").iloc[0]
    assert line["actor"] == "anyone (sign-in is off)" and line["role"] == "admin" and line["outcome"] == "done"
