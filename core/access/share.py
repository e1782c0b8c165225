"""Read-only share links to one model's dashboard or board report, signed (itsdangerous), with an expiry,
listed and revocable. Opening one gives a viewer identity that sees that model only."""

from __future__ import annotations

import secrets
from datetime import datetime
from datetime import timedelta

import pandas as pd
from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer

from core.access.identity import Identity
from core.config import Access
from core.errors import ConfigError
from core.errors import PermissionDenied
from core.store import Store

VIEWS = {"dashboard": "", "report": "report"}
"""What a link can show, and the path of the page it opens (the overview is the app's root page)."""


class ShareRefused(PermissionDenied):
    """A share link that is tampered with, expired or revoked."""


def _signer(access: Access) -> URLSafeSerializer:
    if not access.cookie_secret:
        raise ConfigError("Share links need a cookie_secret in secrets.toml (or MODELPULSE_COOKIE_SECRET).")
    return URLSafeSerializer(access.cookie_secret, salt="share")


def create_link(
    store: Store, access: Access, *, model: str, view: str, days: int, by: str, now: datetime | None = None
) -> str:
    """A new link token for `model`'s `view`, valid for `days` from `now`."""
    store.get_spec(model)
    if view not in VIEWS:
        raise ConfigError(f"A share link shows the dashboard or the report, not {view!r}.")
    if not 1 <= days <= 365:
        raise ConfigError("A share link lasts between 1 and 365 days.")
    link_id = secrets.token_urlsafe(12)
    store.people.add_share_link(
        link_id=link_id, model=model, view=view, by=by, expires_at=(now or datetime.now()) + timedelta(days=days)
    )
    return _signer(access).dumps({"id": link_id, "model": model, "view": view})


def open_link(
    store: Store, access: Access, token: str | None, *, count: bool = False, now: datetime | None = None
) -> Identity:
    """The read-only identity a link grants, or ShareRefused with a sentence."""
    now = now or datetime.now()
    try:
        claims = _signer(access).loads(token or "")
    except BadSignature:
        raise ShareRefused("This share link is not valid: it was changed or cut short. Ask for a new one.") from None
    link = store.people.get_share_link(str(claims.get("id")))
    if link is None or link["model"] != claims.get("model") or link["view"] != claims.get("view"):
        raise ShareRefused("This share link is not valid any more. Ask for a new one.")
    if pd.notna(link["revoked_at"]):
        raise ShareRefused("This share link was turned off by the person who shared it. Ask for a new one.")
    if link["expires_at"] <= now:
        raise ShareRefused(f"This share link expired on {link['expires_at']:%d %b %Y}. Ask for a new one.")
    if count:
        store.people.use_share_link(link["id"], at=now)
        store.audit.record(actor=f"share link {link['id']}", role="viewer", action="share.open", model=link["model"])
    return Identity(
        name=f"share link ({link['view']})",
        email=None,
        role="viewer",
        via="share",
        models=(link["model"],),
        view=link["view"],
    )
