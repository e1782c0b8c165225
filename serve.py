"""ModelPulse with its sign-in and share-link routes: `streamlit run serve.py` (what `make run` runs).

`app.py` stays the Streamlit router (and what AppTest drives); this wraps it in `st.App` so the routes of
`ui/routes.py` and the gate that keeps every page behind sign-in run in the same server. When
MODELPULSE_SECRETS names a secrets file other than `.streamlit/secrets.toml`, its `[auth]` section (the
OIDC provider `st.login` uses) is handed to Streamlit too, so one file configures both.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from ui.routes import ROUTES
from ui.routes import SignInGate


def _auth_secrets() -> dict | None:
    path = os.environ.get("MODELPULSE_SECRETS")
    if not path or not Path(path).is_file():
        return None
    with open(path, "rb") as fh:
        auth = tomllib.load(fh).get("auth")
    return {"auth": auth} if isinstance(auth, dict) else None


app = st.App("app.py", routes=ROUTES, middleware=[Middleware(SignInGate)], secrets=_auth_secrets())
