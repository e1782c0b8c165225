"""The running app's local door for reading commands: `status`, `alerts`, `check`, `report`, `backup`.

DuckDB lets one process open a store file for writing and then refuses every other process, readers
included. So the process that has the store (the app, or `python -m core watch`) listens on loopback
for the reading commands of :mod:`core.upkeep.answers` and answers them on its own connection, while its
writers go on. It announces itself in `<store>.endpoint.json` beside the store (owner-only permissions):
process id, port and a random token the CLI must present. Nothing that changes stored data can be asked.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

from core.config import Settings
from core.errors import ModelPulseError
from core.notify.deliver import pid_running
from core.store import Store
from core.upkeep.answers import ANSWERS
from core.upkeep.answers import Answer

MAX_REQUEST = 64 * 1024


def descriptor_path(db_path: Path) -> Path:
    """Where the process holding `db_path` says how to reach it."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".endpoint.json")


class Endpoint:
    """A loopback HTTP server answering reading commands on `store` (start once per process and store)."""

    def __init__(self, *, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.token = secrets.token_urlsafe(32)
        self.server: ThreadingHTTPServer | None = None
        self.path = descriptor_path(store.path)

    def start(self) -> Endpoint:
        """Listen on a free loopback port and write the descriptor file."""
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                endpoint._handle(self)

            def log_message(self, *args: object) -> None:  # requests are not worth a line on stderr
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="modelpulse-endpoint", daemon=True).start()
        payload = json.dumps({"pid": os.getpid(), "port": self.server.server_address[1], "token": self.token})
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(payload)
        os.replace(tmp, self.path)
        return self

    def stop(self) -> None:
        """Stop listening and remove the descriptor if it is still this process's."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        with contextlib.suppress(OSError, ValueError):
            if json.loads(self.path.read_text()).get("pid") == os.getpid():
                self.path.unlink()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").encode()
        if not hmac.compare_digest(given, self.token.encode()):
            return _reply(request, 403, {"error": "wrong token"})
        length = int(request.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST:
            return _reply(request, 413, {"error": "request too large"})
        try:
            body = json.loads(request.rfile.read(length) or b"{}")
            command, args = body["command"], dict(body.get("args") or {})
        except (ValueError, KeyError, TypeError):
            return _reply(request, 400, {"error": "bad request"})
        if command not in ANSWERS:
            return _reply(request, 404, {"error": f"{command} is not a reading command"})
        try:
            answer = ANSWERS[command](self.store, self.settings, **args)
        except ModelPulseError as exc:
            answer = Answer([exc.user_message], ok=False)
        except TypeError:
            return _reply(request, 400, {"error": "wrong arguments"})
        _reply(request, 200, {"lines": answer.lines, "ok": answer.ok})


def _reply(request: BaseHTTPRequestHandler, code: int, payload: dict) -> None:
    data = json.dumps(payload).encode()
    request.send_response(code)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)


def ask(db_path: Path, command: str, args: dict, *, timeout: float = 600.0) -> Answer | None:
    """Ask the process holding `db_path` to answer `command`; None when no such process is listening."""
    try:
        info = json.loads(descriptor_path(db_path).read_text())
        pid, port, token = int(info["pid"]), int(info["port"]), str(info["token"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not pid_running(pid):
        return None
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/answer",
        data=json.dumps({"command": command, "args": args}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            payload = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return Answer([str(line) for line in payload.get("lines", [])], ok=bool(payload.get("ok")))
