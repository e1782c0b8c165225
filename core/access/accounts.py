"""Built-in accounts for self-hosting without an identity provider: argon2 hashes (argon2-cffi), roles,
and sign-in attempts slowed per account and per client.

After `FREE_TRIES` failures within `WINDOW`, each further attempt for that account, or from that
client, must wait twice as long as the one before (2 s, 4 s, ... up to `MAX_WAIT`), whether or not the
password is right; a good sign-in clears the account's count.
"""

from __future__ import annotations

import re
from datetime import datetime
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError

from core.access.identity import ROLES
from core.access.identity import Identity
from core.errors import ConfigError
from core.errors import NotFoundError
from core.errors import PermissionDenied
from core.store import Store

HASHER = PasswordHasher()
FREE_TRIES = 3
WINDOW = timedelta(minutes=15)
MAX_WAIT = 300
MIN_PASSWORD = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SignInRefused(PermissionDenied):
    """A sign-in that did not succeed; `wait` says how many seconds before the next try is heard."""

    def __init__(self, user_message: str, *, wait: float = 0.0) -> None:
        super().__init__(user_message)
        self.wait = wait


def _check(email: str, role: str | None = None, password: str | None = None) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise ConfigError(f"{email!r} is not an email address; accounts are named by email.")
    if role is not None and role not in ROLES:
        raise ConfigError(f"A role is viewer, editor or admin, not {role!r}.")
    if password is not None and len(password) < MIN_PASSWORD:
        raise ConfigError(f"A password needs at least {MIN_PASSWORD} characters.")
    return email


def add_user(store: Store, *, email: str, password: str, role: str, name: str | None = None, by: str) -> str:
    """Create an account; returns a sentence."""
    email = _check(email, role, password)
    if store.people.get_user(email) is not None:
        raise ConfigError(f"There already is an account for {email}; use reset-password or set-role.")
    store.people.save_user(
        email=email, name=name or email.split("@")[0], role=role, password_hash=HASHER.hash(password), by=by
    )
    return f"Account {email} added as {role}."


def remove_user(store: Store, *, email: str) -> str:
    """Delete an account and end its sessions (the last admin cannot go)."""
    email = _check(email)
    user = _user(store, email)
    if user["role"] == "admin" and store.people.count_users(role="admin") == 1:
        raise ConfigError(f"{email} is the last admin; make someone else admin first.")
    store.people.delete_user(email)
    return f"Account {email} removed; its sessions have ended."


def set_role(store: Store, *, email: str, role: str, by: str) -> str:
    """Change an account's role (the last admin keeps theirs)."""
    email = _check(email, role)
    user = _user(store, email)
    if user["role"] == "admin" and role != "admin" and store.people.count_users(role="admin") == 1:
        raise ConfigError(f"{email} is the last admin; make someone else admin first.")
    store.people.save_user(email=email, name=user["name"], role=role, password_hash=user["password_hash"], by=by)
    return f"{email} is now {role}."


def reset_password(store: Store, *, email: str, password: str, by: str) -> str:
    """Give an account a new password and end its sessions."""
    email = _check(email, password=password)
    user = _user(store, email)
    store.people.save_user(
        email=email, name=user["name"], role=user["role"], password_hash=HASHER.hash(password), by=by
    )
    store.people.revoke_sessions(email=email)
    store.people.clear_failures(f"account:{email}")
    return f"Password of {email} changed; its sessions have ended."


def _user(store: Store, email: str) -> dict:
    user = store.people.get_user(email)
    if user is None:
        raise NotFoundError(f"There is no account for {email}.")
    return user


def _wait(store: Store, key: str, now: datetime) -> float:
    """Seconds `key` must still wait before its next try is heard."""
    n, last = store.people.failures_since(key, since=now - WINDOW)
    if n < FREE_TRIES or last is None:
        return 0.0
    delay = min(2 ** (n - FREE_TRIES + 1), MAX_WAIT)
    return max(0.0, (last + timedelta(seconds=delay) - now).total_seconds())


def authenticate(store: Store, *, email: str, password: str, client: str, now: datetime | None = None) -> Identity:
    """The account's identity when the password is right; SignInRefused (logged) otherwise."""
    now = now or datetime.now()
    email = email.strip().lower()
    keys = [f"account:{email}", f"client:{client}"]
    wait = max(_wait(store, k, now) for k in keys)
    if wait > 0:
        store.audit.record(actor=email or "?", action="sign-in", outcome="slowed", client=client, at=now)
        raise SignInRefused(f"Too many wrong tries: wait {wait:.0f} seconds and try again.", wait=wait)
    user = store.people.get_user(email) if _EMAIL.match(email) else None
    try:
        if user is None:
            HASHER.verify(_DUMMY, password)  # same work as a real account, so timing tells nothing
            raise VerificationError
        HASHER.verify(user["password_hash"], password)
    except (VerificationError, InvalidHashError):
        store.people.add_failure(keys, at=now)
        store.audit.record(actor=email or "?", action="sign-in", outcome="wrong password", client=client, at=now)
        raise SignInRefused("That email and password do not match an account.") from None
    store.people.clear_failures(keys[0])
    if HASHER.check_needs_rehash(user["password_hash"]):
        store.people.save_user(
            email=email, name=user["name"], role=user["role"], password_hash=HASHER.hash(password), by="modelpulse"
        )
    store.audit.record(actor=email, role=user["role"], action="sign-in", client=client, at=now)
    return Identity(name=user["name"], email=email, role=user["role"], via="accounts")


_DUMMY = HASHER.hash("not a real password, only for equal timing")
