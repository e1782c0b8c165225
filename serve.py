"""ModelPulse with its sign-in and share-link routes: `streamlit run serve.py` (what `make run` runs).

`app.py` stays the Streamlit router (and what AppTest drives); this wraps it in `st.App` so the routes of
`ui/routes.py` and the gate that keeps every page behind sign-in run in the same server.
"""

from __future__ import annotations

import streamlit as st
from starlette.middleware import Middleware

from ui.routes import ROUTES
from ui.routes import SignInGate

app = st.App("app.py", routes=ROUTES, middleware=[Middleware(SignInGate)])
