"""Who may do what: identities and roles (`identity.py`), the one gate every change goes through and
its audit line (`permissions.py`), built-in accounts (`accounts.py`), signed sessions
(`sessions.py`) and read-only share links (`share.py`)."""

from core.access.accounts import SignInRefused
from core.access.accounts import add_user
from core.access.accounts import authenticate
from core.access.accounts import remove_user
from core.access.accounts import reset_password
from core.access.accounts import set_role
from core.access.identity import LOCAL
from core.access.identity import ROLES
from core.access.identity import SYSTEM
from core.access.identity import Identity
from core.access.identity import cli
from core.access.identity import oidc_role
from core.access.permissions import ACTIONS
from core.access.permissions import act
from core.access.permissions import allowed
from core.access.permissions import require
from core.access.sessions import COOKIE
from core.access.sessions import SHARE_COOKIE
from core.access.sessions import end_session
from core.access.sessions import session_identity
from core.access.sessions import start_session
from core.access.share import VIEWS
from core.access.share import ShareRefused
from core.access.share import create_link
from core.access.share import open_link

__all__ = [
    "ACTIONS",
    "COOKIE",
    "LOCAL",
    "ROLES",
    "SHARE_COOKIE",
    "SYSTEM",
    "VIEWS",
    "Identity",
    "ShareRefused",
    "SignInRefused",
    "act",
    "add_user",
    "allowed",
    "authenticate",
    "cli",
    "create_link",
    "end_session",
    "oidc_role",
    "open_link",
    "remove_user",
    "require",
    "reset_password",
    "session_identity",
    "set_role",
    "start_session",
]
