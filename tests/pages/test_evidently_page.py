"""Model health opens the selected window as Evidently's own report: nothing is built until the button is
pressed, then the report is offered as one HTML file."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT

APP = str(REPO_ROOT / "app.py")
BUTTON = "Open this window in Evidently"


def test_model_health_offers_the_window_as_evidentlys_report(demo_env):
    from ui.state import close_stores

    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["model"] = "flights"
    try:
        at.run()
        at.switch_page("screens/health.py").run()
        assert not at.exception, [e.value for e in at.exception]
        [button] = [b for b in at.button if b.label == BUTTON]
        assert not at.get("download_button")  # nothing is built before the button is pressed
        button.click().run()
        assert not at.exception, [e.value for e in at.exception]
        [download] = at.get("download_button")
        assert download.proto.label.startswith("Download Evidently's report of week of ")
        assert download.proto.label.endswith(" MB)")
        at.run()  # a later rerun keeps the built report (cached per window) and offers it again
        assert [d.proto.label for d in at.get("download_button")] == [download.proto.label]
    finally:
        close_stores()  # the app's read-write connection, so later tests can open the store
