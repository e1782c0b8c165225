"""Who is using this browser session: the signed-in person, a share-link visitor, or anyone (sign-in off).

Read on every run from the request's cookies (the HttpOnly session cookie `ui.routes` sets, or the share
cookie) or from Streamlit's own OIDC sign-in (`st.user`), so a reload or a new tab stays signed in.
"""

from __future__ import annotations

import html
from urllib.parse import quote

import streamlit as st

from core.access import COOKIE
from core.access import LOCAL
from core.access import SHARE_COOKIE
from core.access import Identity
from core.access import oidc_role
from core.access import open_link
from core.access import session_identity
from core.config import Settings
from core.errors import ModelPulseError
from core.store import Store


def current_identity(store: Store | None, cfg: Settings) -> Identity | None:
    """The identity of this session, or None when someone must sign in first."""
    mode = cfg.access.sign_in
    cookies = st.context.cookies
    if store is not None and cookies.get(SHARE_COOKIE) and cfg.access.cookie_secret:
        try:
            shared = open_link(store, cfg.access, cookies.get(SHARE_COOKIE))
        except ModelPulseError:
            shared = None
    else:
        shared = None
    if mode == "off":
        return shared or LOCAL
    if mode == "accounts":
        signed = session_identity(store, cfg.access, cookies.get(COOKIE)) if store is not None else None
        return signed or shared
    if st.user.is_logged_in:  # oidc
        email = str(st.user.get("email") or "")
        role = oidc_role(cfg.access, email)
        if role is None:
            return None
        return Identity(name=str(st.user.get("name") or email), email=email, role=role, via="oidc")
    return shared


def oidc_refusal(cfg: Settings) -> str | None:
    """The sentence for someone the identity provider signed in but no role list names, else None."""
    if cfg.access.sign_in != "oidc" or not st.user.is_logged_in:
        return None
    email = str(st.user.get("email") or "this account")
    return (
        f"{email} has no role in this ModelPulse. Ask an admin to add your email or domain to the roles in "
        "secrets.toml, or sign in with another account."
    )


def sign_in_screen(cfg: Settings) -> None:
    """What someone who is not signed in sees: nothing of the data, one way in."""
    st.title("ModelPulse")
    refused = oidc_refusal(cfg)
    if refused:
        st.error(refused)
        if st.button("Sign out"):
            st.logout()
        return
    if cfg.access.sign_in == "oidc":
        st.write("Sign in with your company account to see the dashboard.")
        if st.button("Sign in", type="primary"):
            st.login()
        return
    target = st.context.url or "/"
    path = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
    _same_tab_link("Sign in", f"/_mp/signin?next={quote(path, safe='')}")


def sign_out_link(identity: Identity) -> None:
    """The sidebar line saying who is signed in, and the way out."""
    if identity.via == "local":
        st.sidebar.warning("Sign-in is off: anyone who can reach this page can see and change everything.")
        return
    if identity.via == "share":
        st.sidebar.caption("A read-only shared view.")
        return
    st.sidebar.caption(f"Signed in as {identity.label} ({identity.role}).")
    if identity.via == "oidc":
        if st.sidebar.button("Sign out"):
            st.logout()
    else:
        with st.sidebar:
            _same_tab_link("Sign out", "/_mp/signout")


def _same_tab_link(label: str, href: str) -> None:
    """A button-looking link that stays in this tab (st.link_button opens a new one)."""
    st.markdown(
        f"<a href='{html.escape(href)}' target='_self' style='display:inline-block;padding:6px 14px;"
        "border:1px solid #ccd;border-radius:8px;text-decoration:none;color:inherit'>"
        f"{html.escape(label)}</a>",
        unsafe_allow_html=True,
    )
