"""Secrets (SMTP and account passwords, the cookie secret, webhook tokens, the hash key) never show in
settings' repr, pages, exports, stored messages, CLI output or error messages."""

from __future__ import annotations

import subprocess
import sys

from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from core.config import load_settings
from core.config import make_channel
from core.store import Store

SECRETS = {
    "MODELPULSE_SMTP_PASSWORD": "smtp-pass-7f3a9",
    "MODELPULSE_COOKIE_SECRET": "cookie-secret-0123456789abcdef",
    "MODELPULSE_HASH_KEY": "hash-key-55aa77",
}
HOOK_TOKEN = "T000/B000/hook-token-xyz"


def _env(cfg) -> dict[str, str]:
    return {
        "MODELPULSE_DB": str(cfg.db_path),
        "MODELPULSE_MODELS_DIR": str(cfg.models_dir),
        "MODELPULSE_SECRETS": str(cfg.db_path.parent / "none.toml"),
        "MODELPULSE_INBOX_POLL": "0",
        "MODELPULSE_SCHEDULER": "off",
        "MODELPULSE_SMTP_HOST": "127.0.0.1",
        "MODELPULSE_SMTP_PORT": "1",
        "MODELPULSE_SMTP_USERNAME": "alerts@startup.com",
        **SECRETS,
    }


def _leaks(text: str) -> list[str]:
    return [s for s in [*SECRETS.values(), HOOK_TOKEN] if s in text]


def test_secrets_stay_out_of_settings_pages_exports_and_the_cli(copied, monkeypatch):
    env = _env(copied)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("MODELPULSE_PASSWORD", raising=False)
    cfg = load_settings()
    assert cfg.delivery.smtp.password == SECRETS["MODELPULSE_SMTP_PASSWORD"]  # really configured
    assert not _leaks(repr(cfg))
    with Store.open(copied.db_path) as store:
        hook = make_channel(id="slack", name="Slack", kind="webhook", target=f"https://hooks.example.com/{HOOK_TOKEN}")
        store.save_channel(hook, by="test")
        store.save_channel(make_channel(id="mail", name="Founders", kind="email", target="maya@startup.com"), by="t")
    seen = []
    for page in ("screens/settings.py", "screens/overview.py", "screens/alerts.py", "screens/report.py"):
        at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
        at.run()
        at.switch_page(page).run()
        if page == "screens/settings.py":  # a failing test message shows its error sentence on the page
            at.text_input(key="settings_actor").input("maya@startup.com")
            next(b for b in at.button if b.key == "test-mail").click().run()
            assert any("could not be reached" in e.value for e in at.error)
        if page == "screens/report.py":
            at.button(key="build").click().run()
        assert not at.exception
        seen.append(" ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.error, *at.success, *at.code]))
        seen.append(" ".join(str(getattr(d, "value", "")) for d in at.dataframe))
    from ui.state import close_stores

    close_stores()
    assert not _leaks(" ".join(seen)), _leaks(" ".join(seen))
    with Store.open(copied.db_path, read_only=True) as store:
        stored = store.query_df("SELECT * FROM outbox").to_json() + store.audit.read().to_json()
    assert not _leaks(stored)
    run_env = {**{k: v for k, v in __import__("os").environ.items()}, **env}
    out = ""
    for args in (["channels"], ["channels", "test", "mail"], ["status"], ["deliveries"], ["digest"]):
        done = subprocess.run(
            [sys.executable, "-m", "core", *args],
            cwd=REPO_ROOT,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        out += done.stdout + done.stderr
    assert "Slack" in out and "hooks.example.com" in out and "could not be reached" in out
    assert not _leaks(out), _leaks(out)
