"""The board report."""

from __future__ import annotations

import shutil

from core.store import Store
from core.views.report import board_report
from tests.conftest import make_settings


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
    assert "<script src=" not in html
