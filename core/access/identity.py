"""Who is acting: a signed-in person, a share-link visitor, the local demo, or ModelPulse itself."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Access

ROLES = ("viewer", "editor", "admin")
"""Least to most: a viewer reads, an editor changes models, alerts and settings, an admin manages people."""


@dataclass(frozen=True, kw_only=True)
class Identity:
    """Someone (or something) using ModelPulse, with their role and what they may see."""

    name: str
    email: str | None
    role: str
    via: str
    """`accounts`, `oidc`, `share` (a read-only link), `local` (sign-in is off) or `system` (CLI, scheduler)."""
    models: tuple[str, ...] | None = None
    """The only models this identity may see (a share link); None: every model."""
    view: str | None = None
    """For a share link: `dashboard` or `report`."""
    session_id: str | None = None

    @property
    def label(self) -> str:
        """How the audit log and the "who" fields name them."""
        return self.email or self.name

    def at_least(self, role: str) -> bool:
        """True when this identity's role is `role` or above."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def may_see(self, model: str) -> bool:
        """True when this identity may read `model`."""
        return self.models is None or model in self.models


SYSTEM = Identity(name="modelpulse", email=None, role="admin", via="system")
"""ModelPulse itself and the shell: whoever runs `python -m core` on the server owns the store."""

LOCAL = Identity(name="anyone (sign-in is off)", email=None, role="admin", via="local")
"""Everyone, when sign-in is off (the local demo)."""


def cli(by: str) -> Identity:
    """The person at the shell, named by `--by` (the shell has the store file, so every role)."""
    return Identity(name=by, email=by if "@" in by else None, role="admin", via="system")


def oidc_role(access: Access, email: str) -> str | None:
    """The role the configuration gives an OIDC email (by address or `@domain`), or None when none does."""
    email = email.strip().lower()
    domain = "@" + email.rpartition("@")[2]
    for role, names in (("admin", access.admins), ("editor", access.editors), ("viewer", access.viewers)):
        if email in names or domain in names:
            return role
    return access.default_role
