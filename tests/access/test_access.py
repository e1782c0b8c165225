"""Accounts, roles, sessions, share links and the audit log, on a real store."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from datetime import timedelta

import pytest

from core.access import LOCAL
from core.access import Identity
from core.access import ShareRefused
from core.access import SignInRefused
from core.access import act
from core.access import add_user
from core.access import authenticate
from core.access import create_link
from core.access import end_session
from core.access import oidc_role
from core.access import open_link
from core.access import remove_user
from core.access import reset_password
from core.access import session_identity
from core.access import set_role
from core.access import start_session
from core.config import Access
from core.errors import ConfigError
from core.errors import PermissionDenied
from core.store import Store

ACCESS = Access(sign_in="accounts", cookie_secret="x" * 32, session_hours=1)
PASSWORD = "correct horse battery"


@pytest.fixture
def store(settings):
    with Store.open(settings.db_path, create=True) as s:
        add_user(s, email="Admin@Startup.com", password=PASSWORD, role="admin", by="setup")
        add_user(s, email="viewer@startup.com", password=PASSWORD, role="viewer", by="setup")
        yield s


def test_passwords_are_argon2_hashes_and_sign_in_checks_them(store):
    user = store.people.get_user("admin@startup.com")
    assert user["password_hash"].startswith("$argon2id$") and PASSWORD not in user["password_hash"]
    who = authenticate(store, email="admin@startup.com ", password=PASSWORD, client="1.2.3.4")
    assert who.role == "admin" and who.email == "admin@startup.com"
    with pytest.raises(SignInRefused, match="do not match"):
        authenticate(store, email="admin@startup.com", password="wrong password!", client="1.2.3.4")
    with pytest.raises(SignInRefused, match="do not match"):  # an unknown account says the same
        authenticate(store, email="nobody@startup.com", password=PASSWORD, client="1.2.3.4")
    log = store.audit.read(action="sign-in")
    assert list(log["outcome"]) == ["wrong password", "wrong password", "done"]


def test_repeated_failures_are_slowed_per_account_and_per_client(store):
    t = datetime(2026, 12, 1, 9, 0)
    for i in range(3):
        with pytest.raises(SignInRefused, match="do not match"):
            authenticate(store, email="viewer@startup.com", password=f"guess number {i}", client="9.9.9.9", now=t)
    # the fourth try, even with the right password, must wait
    with pytest.raises(SignInRefused, match="wait 2 seconds") as slowed:
        authenticate(store, email="viewer@startup.com", password=PASSWORD, client="8.8.8.8", now=t)
    assert slowed.value.wait == pytest.approx(2)
    # the same client guessing another account is slowed too
    with pytest.raises(SignInRefused, match="wait"):
        authenticate(store, email="admin@startup.com", password=PASSWORD, client="9.9.9.9", now=t)
    # after the wait, the right password works from a fresh client, and the wait doubles for more failures
    later = t + timedelta(seconds=3)
    assert (
        authenticate(store, email="viewer@startup.com", password=PASSWORD, client="7.7.7.7", now=later).role == "viewer"
    )
    assert "slowed" in set(store.audit.read(action="sign-in")["outcome"])


def test_sessions_last_until_sign_out_and_die_with_a_password_reset(store):
    admin = authenticate(store, email="admin@startup.com", password=PASSWORD, client="c")
    token, seconds = start_session(store, ACCESS, admin)
    assert seconds == 3600
    assert session_identity(store, ACCESS, token).email == "admin@startup.com"
    assert session_identity(store, ACCESS, token[:-2] + "xx") is None  # tampered
    assert session_identity(store, replace(ACCESS, cookie_secret="y" * 32), token) is None  # other secret
    assert end_session(store, ACCESS, token)
    assert session_identity(store, ACCESS, token) is None
    token2, _ = start_session(store, ACCESS, admin)
    reset_password(store, email="admin@startup.com", password="another long password", by="admin")
    assert session_identity(store, ACCESS, token2) is None


def test_roles_are_enforced_where_the_change_is_made(store):
    viewer = Identity(name="v", email="viewer@startup.com", role="viewer", via="accounts")
    editor = Identity(name="e", email="editor@startup.com", role="editor", via="accounts")
    changed = []
    with pytest.raises(PermissionDenied, match="viewer@startup.com is a viewer and cannot acknowledge"):
        act(store, viewer, "alert.change", lambda: changed.append(1), model="churn")
    assert changed == []
    assert act(store, editor, "alert.change", lambda: changed.append(1) or "ok", model="churn") == "ok"
    with pytest.raises(PermissionDenied, match="needs an admin"):
        act(store, editor, "people.manage", lambda: changed.append(2))
    assert changed == [1]
    act(store, LOCAL, "people.manage", lambda: None)  # sign-in off: the local demo may do everything
    log = store.audit.read()
    assert list(log["outcome"])[:4] == ["done", "refused", "done", "refused"]
    assert set(log[log["outcome"] == "refused"]["actor"]) == {"viewer@startup.com", "editor@startup.com"}


def test_a_change_and_its_audit_line_commit_together(store):
    editor = Identity(name="e", email="editor@startup.com", role="editor", via="accounts")

    def failing():
        store.mute_model(model="churn", until=datetime.now() + timedelta(days=1), by="e")
        raise ConfigError("the change failed halfway")

    with pytest.raises(ConfigError):
        act(store, editor, "delivery.edit", failing, model="churn")
    assert store.list_mutes().empty and store.audit.read(action="delivery.edit").empty


def test_the_last_admin_stays_and_accounts_are_checked(store):
    with pytest.raises(ConfigError, match="last admin"):
        set_role(store, email="admin@startup.com", role="viewer", by="x")
    with pytest.raises(ConfigError, match="last admin"):
        remove_user(store, email="admin@startup.com")
    with pytest.raises(ConfigError, match="at least 10 characters"):
        add_user(store, email="new@startup.com", password="short", role="viewer", by="x")
    with pytest.raises(ConfigError, match="not an email address"):
        add_user(store, email="new", password=PASSWORD, role="viewer", by="x")
    with pytest.raises(ConfigError, match="viewer, editor or admin"):
        add_user(store, email="new@startup.com", password=PASSWORD, role="owner", by="x")
    assert "removed" in remove_user(store, email="viewer@startup.com")


def test_share_links_show_one_model_and_refuse_when_tampered_expired_or_revoked(store, settings):
    from core.demo.datasets import CHURN
    from core.demo.datasets import HOTEL

    store.upsert_model(CHURN.spec)
    store.upsert_model(HOTEL.spec)
    token = create_link(store, ACCESS, model="churn", view="dashboard", days=7, by="admin@startup.com")
    who = open_link(store, ACCESS, token, count=True)
    assert who.may_see("churn") and not who.may_see("hotel") and who.role == "viewer" and who.view == "dashboard"
    with pytest.raises(PermissionDenied, match="share link shows one model read-only"):
        act(store, who, "alert.change", lambda: None)
    with pytest.raises(ShareRefused, match="changed or cut short"):
        open_link(store, ACCESS, token[:-3])
    forged = token.replace(token.split(".")[0], token.split(".")[0][::-1])
    with pytest.raises(ShareRefused):
        open_link(store, ACCESS, forged)
    (link,) = store.people.list_share_links().to_dict("records")
    assert link["uses"] == 1
    store.people.revoke_share_link(link["id"], by="admin@startup.com")
    with pytest.raises(ShareRefused, match="turned off"):
        open_link(store, ACCESS, token)
    short = create_link(store, ACCESS, model="hotel", view="report", days=1, by="a")
    assert open_link(store, ACCESS, short).view == "report"
    with pytest.raises(ShareRefused, match="expired"):
        open_link(store, ACCESS, short, now=datetime.now() + timedelta(days=1, minutes=1))
    assert len(store.people.list_share_links()) == 2


def test_oidc_emails_map_to_roles_by_address_or_domain():
    access = Access(sign_in="oidc", admins=("maya@startup.com",), editors=("@startup.com",), viewers=("@investor.vc",))
    assert oidc_role(access, "Maya@Startup.com") == "admin"
    assert oidc_role(access, "sam@startup.com") == "editor"
    assert oidc_role(access, "pat@investor.vc") == "viewer"
    assert oidc_role(access, "eve@elsewhere.com") is None
    assert oidc_role(replace(access, default_role="viewer"), "eve@elsewhere.com") == "viewer"
