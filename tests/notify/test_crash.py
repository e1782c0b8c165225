"""A sender killed in the middle of delivery, then restarted, sends nothing twice and loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from core.config import REPO_ROOT
from core.config import make_channel
from core.store import Store
from tests.notify.test_delivery import rerun_alerts
from tests.notify.test_delivery import with_delivery
from tests.servers import SmtpServer

ADDRESSES = [f"person{i}@startup.com" for i in range(6)]


def _env(cfg, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPULSE_")}
    env |= {
        "MODELPULSE_DB": str(cfg.db_path),
        "MODELPULSE_MODELS_DIR": str(cfg.models_dir),
        "MODELPULSE_SECRETS": str(cfg.db_path.parent / "no-secrets.toml"),
        "MODELPULSE_SMTP_HOST": "127.0.0.1",
        "MODELPULSE_SMTP_PORT": str(port),
        "MODELPULSE_SMTP_SECURITY": "none",
        "MODELPULSE_RETRY_SECONDS": "0",
    }
    return env


@pytest.mark.slow
def test_kill_mid_delivery_then_restart_sends_each_message_exactly_once(copied):
    with SmtpServer() as smtp:
        cfg = with_delivery(copied, smtp_port=smtp.port)
        with Store.open(cfg.db_path) as store:
            store.save_channel(make_channel(id="team", name="Team", kind="email", target=", ".join(ADDRESSES)), by="t")
            rerun_alerts(store, cfg, "churn")
            owed = set(store.list_deliveries()["id"])
        assert len(owed) == len(ADDRESSES)
        smtp.box.stall_at = 3  # the third message is being sent when the sender dies
        cmd = [sys.executable, "-m", "core", "deliver"]
        sender = subprocess.Popen(cmd, cwd=REPO_ROOT, env=_env(cfg, smtp.port), stdout=subprocess.PIPE)
        try:
            assert smtp.box.stalled.wait(60), "the sender never reached the third message"
        finally:
            sender.send_signal(signal.SIGKILL)
            sender.wait(10)
        assert len(smtp.box.messages) == 2
        with Store.open(cfg.db_path, read_only=True) as store:
            states = store.list_deliveries()["status"].value_counts().to_dict()
        assert states == {"sent": 2, "sending": 4}  # claimed by the dead sender, never finished
        smtp.box.stall_at = 0
        again = subprocess.run(
            cmd, cwd=REPO_ROOT, env=_env(cfg, smtp.port), capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0, again.stderr
        assert "4 sent" in again.stdout
        smtp.box.wait_for(len(ADDRESSES))
        ids = smtp.box.ids()
        assert len(ids) == len(set(ids)) == len(ADDRESSES)
        assert sorted(m["To"] for m in smtp.box.messages) == sorted(ADDRESSES)
        assert {i.strip("<>").split("@")[0] for i in ids} == owed
        with Store.open(cfg.db_path, read_only=True) as store:
            assert set(store.list_deliveries()["status"]) == {"sent"}
