"""What each role may do, enforced where the change is made, and written to the audit log.

Every change a page or the CLI makes goes through :func:`act`: it refuses a role that may not (with a
sentence, and a `refused` line in the audit log), runs the change, and logs it in the same
transaction, so a change and its audit line are stored together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from core.access.identity import Identity
from core.errors import PermissionDenied
from core.store import Store

T = TypeVar("T")


@dataclass(frozen=True)
class Action:
    """A kind of change: the least role that may make it, and how a refusal names it."""

    role: str
    words: str


ACTIONS: dict[str, Action] = {
    "alert.change": Action("editor", "acknowledge, resolve or reopen alerts"),
    "alert.feedback": Action("editor", "give feedback on alerts or undo what it changed"),
    "data.upload": Action("editor", "upload data or create models"),
    "data.remove": Action("editor", "take imports back"),
    "model.train": Action("editor", "train new versions"),
    "monitor.run": Action("editor", "run monitoring now"),
    "model.promote": Action("editor", "promote a version"),
    "model.delete": Action("admin", "delete models"),
    "model.retention": Action("admin", "change how long rows are kept"),
    "money.edit": Action("editor", "edit money values"),
    "thresholds.edit": Action("editor", "edit alert thresholds"),
    "delivery.edit": Action("editor", "change where alerts go, schedules or quiet periods"),
    "delivery.test": Action("editor", "send test messages"),
    "share.create": Action("editor", "create share links"),
    "share.revoke": Action("editor", "revoke share links"),
    "people.manage": Action("admin", "manage people"),
    "audit.read": Action("admin", "read the audit log"),
}
"""Every change ModelPulse lets a person make. A new kind of change is one line here."""


def allowed(identity: Identity, action: str) -> bool:
    """True when `identity` may make `action` (share-link visitors never change anything)."""
    if identity.via == "share":
        return False
    return identity.at_least(ACTIONS[action].role)


def require(store: Store | None, identity: Identity, action: str, *, model: str | None = None) -> None:
    """Refuse `action` to an identity whose role does not allow it (logging the refusal)."""
    if allowed(identity, action):
        return
    rule = ACTIONS[action]
    if store is not None:
        store.audit.record(actor=identity.label, role=identity.role, action=action, model=model, outcome="refused")
    who = "A share link" if identity.via == "share" else f"{identity.label} is {_a(identity.role)} and"
    raise PermissionDenied(
        f"{who} cannot {rule.words}; that needs {_a(rule.role)} or above."
        if identity.via != "share"
        else f"{who} shows one model read-only; it cannot {rule.words}."
    )


def act(
    store: Store,
    identity: Identity,
    action: str,
    change: Callable[[], T],
    *,
    model: str | None = None,
    detail: str | None = None,
    client: str | None = None,
    together: bool = True,
) -> T:
    """Make `change` as `identity` if its role allows `action`, logging it in the same transaction.

    `together=False` is for long changes (training, an upload with its monitoring) that commit in
    steps of their own: the audit line follows once the change is done, so no write waits on them.
    """
    require(store, identity, action, model=model)

    def log() -> None:
        store.audit.record(
            actor=identity.label, role=identity.role, action=action, model=model, detail=detail, client=client
        )

    if not together:
        result = change()
        log()
        return result
    with store.transaction():
        result = change()
        log()
    return result


def _a(role: str) -> str:
    return ("an " if role[0] in "aeiou" else "a ") + role
