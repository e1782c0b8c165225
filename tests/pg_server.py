"""A real, throwaway PostgreSQL server on loopback, for tests and benches that need a DuckLake catalog.

PostgreSQL 15 from Debian's packages (``/usr/lib/postgresql/15/bin``): ``initdb`` into a fresh temporary
folder, ``pg_ctl start -w`` on 127.0.0.1 and a free port with its unix socket in that same folder, and
``pg_ctl stop`` plus removal of the folder afterwards. PostgreSQL refuses to run as root, so when this
process is root the server runs as ``nobody`` (the folder is handed to that user first). Authentication is
``trust`` and the server listens on loopback only: a test server, never a deployment.

Use::

    with postgres_server() as pg:
        duckdb.execute(f"ATTACH 'ducklake:postgres:{pg.dsn}' AS lake (DATA_PATH '...')")

or the session fixture ``lake_server`` of tests/lakes.py. ``python -m tests.pg_server`` starts one, runs a query
through ``psql`` and stops it (a smoke test; nothing else is needed).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("MODELPULSE_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "modelpulse"
DATABASE = "modelpulse"
RUN_AS_WHEN_ROOT = "nobody"
START_SECONDS = 30


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL binaries are missing or the server would not start."""


@dataclass(frozen=True)
class PostgresServer:
    root: Path
    port: int
    user: str
    dbname: str

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def dsn(self) -> str:
        """A libpq keyword/value connection string (what DuckDB's postgres and ducklake extensions take)."""
        return f"dbname={self.dbname} host={self.host} port={self.port} user={self.user}"


def available() -> bool:
    """Whether the PostgreSQL server binaries are installed here."""
    return all((PG_BIN / name).is_file() for name in ("initdb", "pg_ctl", "postgres"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user() -> dict:
    """subprocess keyword arguments that drop root to an unprivileged user (PostgreSQL will not run as root)."""
    if os.geteuid() != 0:
        return {}
    pw = pwd.getpwnam(RUN_AS_WHEN_ROOT)
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def _run(args: list[str], *, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {"PATH": f"{PG_BIN}:/usr/bin:/bin", "LC_ALL": "C", "LANG": "C", "HOME": str(cwd), "TZ": "UTC"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=check, **_as_user())


def _accepts(server: PostgresServer) -> bool:
    try:
        with socket.create_connection((server.host, server.port), timeout=0.5):
            pass
    except OSError:
        return False
    isready = shutil.which("pg_isready") or str(PG_BIN / "pg_isready")
    probe = [isready, "-h", server.host, "-p", str(server.port), "-U", server.user, "-d", server.dbname]
    return _run(probe, cwd=server.root, check=False).returncode == 0


@contextlib.contextmanager
def postgres_server(*, dbname: str = DATABASE, settings: dict[str, str] | None = None) -> Iterator[PostgresServer]:
    """Start a fresh PostgreSQL server; yield it once it accepts connections; stop it and delete its files."""
    if not available():
        raise PostgresUnavailable(f"PostgreSQL server binaries not found under {PG_BIN}.")
    root = Path(tempfile.mkdtemp(prefix="mp-pg-"))  # short: a unix socket path must stay under 107 bytes
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        pw = pwd.getpwnam(RUN_AS_WHEN_ROOT)
        for p in (root, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        os.chmod(root, 0o700)
    started = None
    try:
        initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync"]
        _run(initdb, cwd=root)
        options = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(sock),
            "fsync": "off",  # throwaway data: skip the disk flushes
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "100",
            "shared_buffers": "32MB",
            **(settings or {}),
        }
        last_error = ""
        for _attempt in range(3):  # the free port can be taken between choosing and binding it
            port = _free_port()
            server = PostgresServer(root=root, port=port, user=SUPERUSER, dbname=dbname)
            opts = " ".join(f"-c {k}={v}" for k, v in {**options, "port": str(port)}.items())
            start = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w"]
            start += ["-t", str(START_SECONDS), "-o", opts, "start"]
            result = _run(start, cwd=root, check=False)
            if result.returncode == 0:
                started = server
                break
            log = root / "server.log"
            last_error = (result.stderr or result.stdout) + (
                log.read_text(errors="replace")[-2000:] if log.exists() else ""
            )
        if started is None:
            raise PostgresUnavailable(f"PostgreSQL did not start: {last_error.strip()[-2000:]}")
        deadline = time.monotonic() + START_SECONDS
        while not _accepts(PostgresServer(root=root, port=started.port, user=SUPERUSER, dbname="postgres")):
            if time.monotonic() > deadline:
                raise PostgresUnavailable(f"PostgreSQL on port {started.port} never accepted connections.")
            time.sleep(0.1)
        if dbname != "postgres":
            createdb = [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(started.port), "-U", SUPERUSER, dbname]
            _run(createdb, cwd=root)
        yield started
    finally:
        if started is not None:
            stop = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "30", "stop"]
            if _run(stop, cwd=root, check=False).returncode != 0:
                _run([*stop[:3], "-m", "immediate", "stop"], cwd=root, check=False)
        shutil.rmtree(root, ignore_errors=True)


def _smoke() -> int:
    t0 = time.perf_counter()
    with postgres_server() as server:
        up = time.perf_counter() - t0
        psql = [str(PG_BIN / "psql"), "-h", server.host, "-p", str(server.port), "-U", server.user, "-d", server.dbname]
        out = _run([*psql, "-Atc", "SELECT version(), current_database(), current_user"], cwd=server.root)
        print(f"started in {up:.2f}s at {server.dsn}")
        print(f"root {server.root}  (socket in {server.socket_dir})")
        print(out.stdout.strip())
        root = server.root
    print(f"stopped; folder removed: {not root.exists()}  (total {time.perf_counter() - t0:.2f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(_smoke())
