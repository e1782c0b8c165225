"""HTTP routes beside the Streamlit app (mounted by `serve.py` through `st.App`): sign-in, sign-out and
share links, and a gate that sends every page request without a session to the sign-in form.

The session lives in an HttpOnly, SameSite=Lax cookie holding a signed session id (Secure behind
HTTPS); nothing that outlives the visit is ever put in a URL. The sign-in form carries a CSRF token
(double-submit: a SameSite=Strict cookie and a hidden field that must match).
"""

from __future__ import annotations

import html
import logging
import secrets
from urllib.parse import quote
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.responses import RedirectResponse
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

from core.access import COOKIE
from core.access import SHARE_COOKIE
from core.access import VIEWS
from core.access import authenticate
from core.access import end_session
from core.access import open_link
from core.access import session_identity
from core.access import start_session
from core.config import Settings
from core.config import load_settings
from core.errors import ModelPulseError
from core.store import Store

log = logging.getLogger("modelpulse.routes")
CSRF = "modelpulse_csrf"
PREFIX = "/_mp"
OPEN_PATHS = ("/_stcore/", "/static/", "/_mp/", "/component/", "/media/", "/favicon", "/-/")
"""Paths the gate lets through: Streamlit's own endpoints (its websocket checks the session itself),
static files, and these routes."""

_STORES: dict[str, Store] = {}


def _store(cfg: Settings) -> Store:
    """The process's store for the configured file (the pages' `ui.data.open_store` shares the file)."""
    from ui import data

    key = cfg.store
    if key in data.OPEN and not data.OPEN[key].closed:
        return data.OPEN[key]
    if key not in _STORES or _STORES[key].closed:
        if not Store.exists(cfg.store):
            Store.at(cfg, create=True).close()
        _STORES[key] = Store.at(cfg)
    return _STORES[key]


def _client(request: Request) -> str:
    """The client's address (the first X-Forwarded-For hop behind a proxy)."""
    forwarded = request.headers.get("x-forwarded-for", "")
    return forwarded.split(",")[0].strip() or (request.client.host if request.client else "unknown")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def _next(raw: str | None) -> str:
    """Where to go after signing in: a path on this site only (never another host)."""
    raw = raw or "/"
    return raw if raw.startswith("/") and not raw.startswith("//") and "\\" not in raw else "/"


def _page(body: str, *, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html><head><meta charset='utf-8'><title>ModelPulse</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<style>body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;background:#f6f7f9;margin:0}"
        "main{max-width:380px;margin:12vh auto;background:#fff;padding:32px;border-radius:12px;"
        "box-shadow:0 1px 4px rgba(0,0,0,.08)}h1{margin:0 0 20px;font-size:26px}label{display:block;"
        "margin:14px 0 6px;font-size:14px}input{width:100%;box-sizing:border-box;padding:10px;font-size:15px;"
        "border:1px solid #ccd;border-radius:8px}button{margin-top:20px;width:100%;padding:11px;font-size:15px;"
        "background:#2563eb;color:#fff;border:0;border-radius:8px;cursor:pointer}"
        ".err{background:#fdecec;color:#991b1b;padding:10px 12px;border-radius:8px;font-size:14px}"
        "</style></head><body><main>" + body + "</main></body></html>",
        status_code=status,
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


def _form(next_path: str, token: str, *, error: str | None = None, email: str = "") -> str:
    err = f"<p class='err' role='alert'>{html.escape(error)}</p>" if error else ""
    return (
        "<h1>ModelPulse</h1>" + err + f"<form method='post' action='{PREFIX}/signin'>"
        f"<input type='hidden' name='csrf' value='{html.escape(token)}'>"
        f"<input type='hidden' name='next' value='{html.escape(next_path)}'>"
        "<label for='email'>Email</label>"
        f"<input id='email' name='email' type='email' autocomplete='username' required value='{html.escape(email)}'>"
        "<label for='password'>Password</label>"
        "<input id='password' name='password' type='password' autocomplete='current-password' required>"
        "<button type='submit'>Sign in</button></form>"
    )


def _with_csrf(response: Response, token: str, request: Request) -> Response:
    response.set_cookie(CSRF, token, httponly=True, samesite="strict", secure=_secure(request), path=PREFIX)
    return response


async def signin_form(request: Request) -> Response:
    """GET: the sign-in form."""
    token = secrets.token_urlsafe(24)
    return _with_csrf(_page(_form(_next(request.query_params.get("next")), token)), token, request)


async def signin(request: Request) -> Response:
    """POST: check the password; on success a session cookie and back to the page asked for."""
    cfg = load_settings()
    form = await request.form()
    next_path = _next(str(form.get("next") or "/"))
    email = str(form.get("email") or "")
    token = secrets.token_urlsafe(24)
    sent, expected = str(form.get("csrf") or ""), request.cookies.get(CSRF, "")
    if not expected or not secrets.compare_digest(sent, expected):
        msg = "This form expired; please sign in again."
        return _with_csrf(_page(_form(next_path, token, error=msg, email=email), status=400), token, request)
    if cfg.access.sign_in != "accounts":
        return _page("<p>Sign-in with accounts is off on this server.</p>", status=404)
    store = _store(cfg)
    try:
        identity = authenticate(store, email=email, password=str(form.get("password") or ""), client=_client(request))
    except ModelPulseError as exc:
        page = _page(_form(next_path, token, error=exc.user_message, email=email), status=401)
        return _with_csrf(page, token, request)
    value, seconds = start_session(store, cfg.access, identity)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(COOKIE, value, max_age=seconds, httponly=True, samesite="lax", secure=_secure(request))
    response.delete_cookie(CSRF, path=PREFIX)
    return response


async def signout(request: Request) -> Response:
    """End the session (server side too) and clear the cookie."""
    cfg = load_settings()
    if cfg.access.sign_in == "accounts":
        end_session(_store(cfg), cfg.access, request.cookies.get(COOKIE))
    response = RedirectResponse(f"{PREFIX}/signin", status_code=303)
    response.delete_cookie(COOKIE)
    response.delete_cookie(SHARE_COOKIE)
    return response


async def share(request: Request) -> Response:
    """Open a share link: a read-only cookie for that model, then its dashboard or report."""
    cfg = load_settings()
    token = request.path_params["token"]
    try:
        who = open_link(_store(cfg), cfg.access, token, count=True)
    except ModelPulseError as exc:
        return _page(f"<h1>ModelPulse</h1><p class='err'>{html.escape(exc.user_message)}</p>", status=403)
    response = RedirectResponse(f"/{VIEWS[who.view]}?" + urlencode({"model": who.models[0]}), status_code=303)
    response.set_cookie(SHARE_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request))
    return response


ROUTES = [
    Route(f"{PREFIX}/signin", signin_form, methods=["GET"]),
    Route(f"{PREFIX}/signin", signin, methods=["POST"]),
    Route(f"{PREFIX}/signout", signout, methods=["GET", "POST"]),
    Route(f"{PREFIX}/share/{{token}}", share, methods=["GET"]),
]


class SignInGate:
    """ASGI middleware: with accounts on, a page request without a live session (or share link) goes
    to the sign-in form, carrying the page it asked for; no page is served before signing in. It also
    sends `/overview` to `/`, where Streamlit serves the default page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/") == "/overview":
            # the overview is the root page: Streamlit serves a default page at "/" only, and would flash
            # "Page not found" for its own name; send the name to the root, keeping the query
            query = scope.get("query_string", b"").decode()
            await RedirectResponse("/" + (f"?{query}" if query else ""), status_code=307)(scope, receive, send)
            return
        if scope["type"] != "http" or scope["path"].startswith(OPEN_PATHS):
            await self.app(scope, receive, send)
            return
        cfg = load_settings()
        if cfg.access.sign_in != "accounts":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        store = _store(cfg)
        if session_identity(store, cfg.access, request.cookies.get(COOKIE)) is not None or _share_ok(
            store, cfg, request.cookies.get(SHARE_COOKIE)
        ):
            await self.app(scope, receive, send)
            return
        target = scope["path"] + (f"?{scope['query_string'].decode()}" if scope.get("query_string") else "")
        response = RedirectResponse(f"{PREFIX}/signin?next={quote(target, safe='')}", status_code=303)
        await response(scope, receive, send)


def _share_ok(store: Store, cfg: Settings, token: str | None) -> bool:
    if not token:
        return False
    try:
        open_link(store, cfg.access, token)
    except ModelPulseError:
        return False
    return True
