"""Real servers the delivery tests talk to, on loopback: an SMTP server (aiosmtpd) and an HTTP receiver."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import ssl
import subprocess
import threading
import time
import warnings
from dataclasses import dataclass
from dataclasses import field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from aiosmtpd.smtp import LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class MailBox:
    """What the SMTP server accepted, and how it behaves."""

    messages: list[EmailMessage] = field(default_factory=list)
    fail_first: int = 0
    """Refuse this many messages with a temporary error before accepting."""
    rcpt_delay: float = 0.0
    """Seconds to wait before answering each RCPT (a slow server)."""
    rcpt_seen: threading.Event = field(default_factory=threading.Event)
    stall_at: int = 0
    """Stall (for a minute) on this RCPT, counting from 1: a sender killed then is mid-delivery."""
    stalled: threading.Event = field(default_factory=threading.Event)
    rcpts: int = 0
    refused: int = 0

    def ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]

    def wait_for(self, n: int, timeout: float = 20.0) -> list[EmailMessage]:
        end = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < end:
            time.sleep(0.05)
        return self.messages


class _Handler:
    def __init__(self, box: MailBox) -> None:
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        import asyncio

        self.box.rcpts += 1
        self.box.rcpt_seen.set()
        if self.box.stall_at and self.box.rcpts == self.box.stall_at:
            self.box.stalled.set()
            await asyncio.sleep(60)
        if self.box.rcpt_delay:
            await asyncio.sleep(self.box.rcpt_delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.box.refused < self.box.fail_first:
            self.box.refused += 1
            return "451 4.3.0 Try again later"
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.box.messages.append(msg)
        return "250 OK"


class SmtpServer:
    """aiosmtpd on 127.0.0.1, optionally asking for a username and password."""

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
    ) -> None:
        self.box = MailBox()
        self.port = free_port()
        kwargs: dict = {}
        if starttls is not None:
            kwargs |= {"tls_context": starttls, "require_starttls": True}
        if implicit_tls is not None:
            kwargs |= {"ssl_context": implicit_tls}
        if username:

            def authenticate(server, session, envelope, mechanism, auth_data):
                ok = isinstance(auth_data, LoginPassword) and (
                    auth_data.login.decode() == username and auth_data.password.decode() == password
                )
                return AuthResult(success=ok, handled=False)

            kwargs |= {
                "authenticator": authenticate,
                "auth_require_tls": starttls is not None,
                "auth_required": True,
            }
        with warnings.catch_warnings():  # plain AUTH on loopback is the point of this test server
            warnings.simplefilter("ignore", UserWarning)
            self.controller = Controller(_Handler(self.box), hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict


class WebhookReceiver:
    """An HTTP server that records each JSON POST; it can fail the first N with 500."""

    def __init__(self, *, fail_first: int = 0) -> None:
        self.received: list[Received] = []
        self.attempts = 0
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                receiver.attempts += 1
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.attempts <= receiver.fail_first:
                    self.send_response(500, "Internal Server Error")
                    self.end_headers()
                    return
                receiver.received.append(Received(self.path, dict(self.headers), json.loads(body)))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook/secret-token-123"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed(root) -> tuple[ssl.SSLContext, str]:
    """A server TLS context for 127.0.0.1 with a fresh self-signed certificate (openssl CLI), and the
    certificate's path for the client to trust."""
    key, cert = root / "key.pem", root / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context, str(cert)
