"""Signed-in sessions: a signed token in an HttpOnly cookie, backed by a row that sign-out revokes.

The token (itsdangerous, keyed by the cookie secret) holds only a random session id; the store says
whose it is and until when, so a stolen token dies with sign-out, a password reset or the account.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from datetime import timedelta

from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer

from core.access.identity import Identity
from core.config import Access
from core.store import Store

COOKIE = "modelpulse_session"
SHARE_COOKIE = "modelpulse_share"


def _signer(access: Access, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(access.cookie_secret or "", salt=salt)


def start_session(store: Store, access: Access, identity: Identity) -> tuple[str, int]:
    """A new session for a signed-in account: (the cookie value, its lifetime in seconds)."""
    session_id = secrets.token_urlsafe(24)
    seconds = access.session_hours * 3600
    store.people.add_session(
        session_id=session_id, email=identity.email, expires_at=datetime.now() + timedelta(seconds=seconds)
    )
    return _signer(access, "session").dumps(session_id), seconds


def session_identity(store: Store, access: Access, token: str | None) -> Identity | None:
    """The identity a session cookie stands for, or None (missing, tampered, expired, signed out)."""
    if not token or not access.cookie_secret:
        return None
    try:
        session_id = _signer(access, "session").loads(token, max_age=access.session_hours * 3600)
    except BadSignature:
        return None
    email = store.people.live_session(str(session_id), now=datetime.now())
    user = store.people.get_user(email) if email else None
    if user is None:
        return None
    return Identity(name=user["name"], email=email, role=user["role"], via="accounts", session_id=str(session_id))


def end_session(store: Store, access: Access, token: str | None) -> bool:
    """Sign out: revoke the session a cookie stands for. Returns whether one was live."""
    identity = session_identity(store, access, token)
    if identity is None:
        return False
    store.people.revoke_sessions(session_id=identity.session_id)
    store.audit.record(actor=identity.label, role=identity.role, action="sign-out")
    return True
