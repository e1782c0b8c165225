"""The board report page builds the report on a button and offers it as PDF and as HTML."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT

APP = str(REPO_ROOT / "app.py")


def test_building_the_report_offers_the_pdf_and_the_html(demo_env):
    from ui.state import close_stores

    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["model"] = "churn"
    try:
        at.run()
        at.switch_page("screens/report.py").run()
        assert not at.get("download_button")  # nothing is built before the button is pressed
        at.button(key="build").click().run()
        assert not at.exception, [e.value for e in at.exception]
        labels = [b.proto.label for b in at.get("download_button")]
        assert labels == ["Download the board report (PDF)", "Download the board report (HTML)"]
        [status] = at.get("status")
        assert status.label.startswith("Report ready (PDF ") and "kB, HTML " in status.label
    finally:
        close_stores()  # the app's read-write connection, so later tests can open the store
