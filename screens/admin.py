"""People and audit (admins): accounts and roles, share links, and the log of who did what."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

import pandas as pd
import streamlit as st

from core.access import ACTIONS
from core.access import ROLES
from core.access import add_user
from core.access import remove_user
from core.access import reset_password
from core.access import set_role
from core.errors import ModelPulseError
from ui.state import change
from ui.state import guard
from ui.state import identity
from ui.state import require_store
from ui.state import settings

guard()
st.title("People and audit")
store = require_store()
cfg = settings()
me = identity()


def _do(action: str, fn, *, model: str | None = None, detail: str | None = None) -> None:
    try:
        st.session_state["admin_done"] = change(action, fn, model=model, detail=detail)
    except ModelPulseError as exc:
        st.session_state["admin_error"] = exc.user_message


if msg := st.session_state.pop("admin_error", None):
    st.error(msg)
if msg := st.session_state.pop("admin_done", None):
    st.success(msg)

people_tab, links_tab, audit_tab = st.tabs(["People", "Share links", "Audit log"])

with people_tab:
    if cfg.access.sign_in != "accounts":
        st.info(
            'Built-in accounts are used when `sign_in = "accounts"` is set in secrets.toml'
            + (" (this app signs people in with your identity provider)." if cfg.access.sign_in == "oidc" else ".")
        )
    users = store.people.list_users()
    if users.empty:
        st.caption("No accounts yet. Add the first admin here or with `python -m core users add EMAIL --role admin`.")
    else:
        st.dataframe(users, hide_index=True, width="stretch")
    with st.form("add_user", clear_on_submit=True):
        st.markdown("**Add a person**")
        c1, c2 = st.columns(2)
        email = c1.text_input("Email", key="new_email")
        role = c2.selectbox("Role", ROLES, key="new_role", help="Viewer reads; editor changes; admin manages people.")
        password = st.text_input("First password (10 characters or more)", type="password", key="new_password")
        if st.form_submit_button("Add"):
            _do(
                "people.manage",
                lambda: add_user(store, email=email, password=password, role=role, by=me.label),
                detail=f"added {email.strip().lower()} as {role}",
            )
            st.rerun()
    if not users.empty:
        with st.form("change_user"):
            st.markdown("**Change a person**")
            c1, c2 = st.columns(2)
            who = c1.selectbox("Person", list(users["email"]), key="change_email")
            new_role = c2.selectbox("New role", ROLES, key="change_role")
            new_password = st.text_input("New password (leave empty to keep)", type="password", key="change_pw")
            b1, b2 = st.columns(2)
            if b1.form_submit_button("Save"):

                def _save() -> str:
                    said = set_role(store, email=who, role=new_role, by=me.label)
                    if new_password:
                        said += " " + reset_password(store, email=who, password=new_password, by=me.label)
                    return said

                _do(
                    "people.manage",
                    _save,
                    detail=f"{who}: role {new_role}" + (", new password" if new_password else ""),
                )
                st.rerun()
            if b2.form_submit_button("Remove this person"):
                _do("people.manage", lambda: remove_user(store, email=who), detail=f"removed {who}")
                st.rerun()

with links_tab:
    links = store.people.list_share_links()
    if links.empty:
        st.caption("No share links yet. Editors create them on the Board report page.")
    now = datetime.now()
    for link in links.to_dict("records"):
        revoked = pd.notna(link["revoked_at"])
        state = (
            f"revoked {link['revoked_at']:%d %b %Y} by {link['revoked_by']}"
            if revoked
            else ("expired" if link["expires_at"] <= now else f"valid until {link['expires_at']:%d %b %Y}")
        )
        c1, c2 = st.columns([5, 1])
        c1.markdown(
            f"**{link['model']}** · {link['view']} · by {link['created_by']} on {link['created_at']:%d %b %Y} · "
            f"{state} · opened {link['uses']} times"
        )
        if not revoked and link["expires_at"] > now:

            def _revoke(link_id=link["id"]) -> str:
                store.people.revoke_share_link(link_id, by=me.label)
                return "The link is turned off; anyone opening it now is refused."

            c2.button(
                "Revoke",
                key=f"revoke-{link['id']}",
                on_click=_do,
                args=("share.revoke", _revoke),
                kwargs={"model": link["model"], "detail": f"link {link['id']}"},
            )

with audit_tab:
    f1, f2, f3, f4 = st.columns(4)
    person = f1.text_input("Person", placeholder="email", key="audit_person")
    action = f2.selectbox("Action", ["any", "sign-in", "sign-out", "share.open", *ACTIONS], key="audit_action")
    model = f3.text_input("Model", key="audit_model")
    days = f4.number_input("Last days", min_value=1, max_value=3650, value=30, key="audit_days")
    log = store.audit.read(
        actor=person.strip().lower() or None,
        action=None if action == "any" else action,
        model=model.strip() or None,
        since=datetime.now() - timedelta(days=int(days)),
    )
    st.caption(f"{len(log)} lines, newest first.")
    st.dataframe(log, hide_index=True, width="stretch")
