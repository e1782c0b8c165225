"""Throwaway DuckLake stores for tests: one PostgreSQL server per test session, one catalog database per test.

The server is a real PostgreSQL 15 (tests/pg_server.py) started inside the test run on loopback and stopped
after it. Creating a lake and running the store's migrations costs about two seconds, so it is done once,
into the database `lake_template`; every test then gets `CREATE DATABASE ... TEMPLATE lake_template` (a
file copy inside PostgreSQL, a fraction of a second) with the lake's data path pointed at its own folder.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import Settings
from core.store import Store
from tests.pg_server import PostgresServer
from tests.pg_server import available
from tests.pg_server import postgres_server

TEMPLATE = "lake_template"
_numbers = itertools.count(1)
_template_data: dict[int, Path] = {}
"""Per server port: the template lake's data folder, copied with every new lake (its files are named relative
to the lake's data path)."""


def lake_url(server: PostgresServer, dbname: str) -> str:
    """The store address of database `dbname` on `server`."""
    return f"ducklake:postgres:dbname={dbname} host={server.host} port={server.port} user={server.user}"


def _admin(server: PostgresServer):
    import psycopg

    return psycopg.connect(f"dbname=postgres host={server.host} port={server.port} user={server.user}", autocommit=True)


def create_database(server: PostgresServer, dbname: str, *, template: str | None = None) -> None:
    """CREATE DATABASE (names made by these fixtures only)."""
    with _admin(server) as pg:
        pg.execute(f'CREATE DATABASE "{dbname}"' + (f' TEMPLATE "{template}"' if template else ""))


def new_lake(server: PostgresServer, root: Path, *, seed: int = 7) -> Settings:
    """A migrated, empty ModelPulse lake of its own, with its shared folder under `root`."""
    import psycopg

    dbname = f"lake_{next(_numbers)}"
    create_database(server, dbname, template=TEMPLATE)
    cfg = Settings.shared_under(lake_url(server, dbname), root, seed=seed, threads=2)
    shutil.copytree(_template_data[server.port], cfg.db_path)
    dsn = f"dbname={dbname} host={server.host} port={server.port} user={server.user}"
    with psycopg.connect(dsn, autocommit=True) as pg:  # the copy's files go to its own folder
        pg.execute("UPDATE ducklake_metadata SET value = %s WHERE key = 'data_path'", [f"{cfg.db_path}/"])
    return cfg


def lake_env(cfg: Settings) -> dict[str, str]:
    """The environment of a `python -m core` (or any ModelPulse) process working on the shared store `cfg`."""
    return {
        "PATH": "/usr/bin:/bin",
        "DO_NOT_TRACK": "1",
        "MODELPULSE_THREADS": "1",
        "MODELPULSE_STORE": cfg.store,
        "MODELPULSE_STORE_DATA": str(cfg.home),
        "MODELPULSE_SECRETS": str(cfg.home / "none.toml"),
        "MODELPULSE_INBOX_POLL": "0",
    }


@pytest.fixture(scope="session")
def lake_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session, holding `lake_template` (an empty migrated ModelPulse lake)."""
    if not available():
        pytest.fail("PostgreSQL is not installed; `make test` installs Debian's postgresql package.")
    with postgres_server(dbname="postgres") as server:
        create_database(server, TEMPLATE)
        template = Settings.shared_under(lake_url(server, TEMPLATE), tmp_path_factory.mktemp("lake-template"))
        Store.at(template, create=True).close()
        _template_data[server.port] = template.db_path
        yield server


@pytest.fixture
def lake_settings(lake_server: PostgresServer, tmp_path: Path) -> Settings:
    """Settings of a fresh, empty shared store of this test's own."""
    return new_lake(lake_server, tmp_path / "shared")


@pytest.fixture(params=["file", "ducklake"])
def any_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings of a fresh store on each backend in turn: a DuckDB file, then a DuckLake catalog."""
    if request.param == "file":
        root = tmp_path / "mp"
        root.mkdir(parents=True, exist_ok=True)
        return Settings.under(root / "modelpulse.duckdb", seed=7, threads=2)
    return new_lake(request.getfixturevalue("lake_server"), tmp_path / "shared")


@pytest.fixture(params=["file", "ducklake"])
def copied_any(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A private copy of the reduced demo on each backend in turn: its file, then the same store migrated into
    a lake of its own (`python -m core migrate`'s code, checked table by table)."""
    from core.progress import quiet
    from core.upkeep.migrate import migrate_store

    copied = request.getfixturevalue("copied")
    if request.param == "file":
        return copied
    lake = new_lake(request.getfixturevalue("lake_server"), tmp_path / "shared")
    migrate_store(copied, to=lake.store, data=lake.home, progress=quiet)
    return lake
