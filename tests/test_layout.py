"""The structure of `core/` holds: imports run one way, each heavy library stays in its room, no module
grows past one concept's size, pages stay thin. Read from the code's own imports (ast), nothing runs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.config import REPO_ROOT

CORE = REPO_ROOT / "core"
LAYERS = [
    {
        "errors",
        "config",
        "delivery_config",
        "schema",
        "metrics",
        "results",
        "predictions",
        "progress",
        "wording",
        "faults",
    },
    {"store"},
    {"access"},
    {"modeling", "business"},
    {"monitoring"},
    {"alerts", "views"},
    {"notify"},
    {"refresh"},
    {"intake"},
    {"demo", "schedule", "upkeep"},
    {"cli", "cli_common", "cli_delivery", "cli_access", "cli_upkeep", "__init__", "__main__"},
]
"""Lowest first: a module may import its own room or rooms on a lower floor, never one higher; rooms beside
each other (modeling and business, alerts and views) do not import each other. The loose modules of the
ground and top floors may use each other (`config` raises `errors`; `__main__` runs `cli`)."""
LOOSE = {0, len(LAYERS) - 1}
MAX_LINES = 450
ONLY_IN = {
    "duckdb": {"store"},
    "psycopg": {"store/lake.py"},
    "distributed": {"monitoring/fanout.py"},
    "dask": {"monitoring/fanout.py"},
    "torch": {"modeling"},
    "evidently": {"monitoring/evidently_adapter.py"},
    "smtplib": {"notify/email.py"},
    "apscheduler": {"schedule"},
    "argon2": {"access/accounts.py"},
    "itsdangerous": {"access"},
    "fpdf": {"views/report_pdf.py"},
}


def _room(path: Path) -> str:
    rel = path.relative_to(CORE)
    return rel.parts[0].removesuffix(".py")


def _floor(room: str) -> int:
    return next(i for i, rooms in enumerate(LAYERS) if room in rooms)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in the file, including those inside functions."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return out


FILES = sorted(CORE.rglob("*.py"))


def test_every_core_room_has_a_floor():
    rooms = {_room(p) for p in FILES}
    assert rooms <= set().union(*LAYERS), rooms - set().union(*LAYERS)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORE)))
def test_imports_run_one_way(path):
    room = _room(path)
    wrong = []
    for line, module in _imports(path):
        parts = module.split(".")
        if parts[0] != "core" or len(parts) < 2:
            continue
        target = parts[1]
        same = _floor(target) == _floor(room) and _floor(room) in LOOSE
        if target != room and not same and _floor(target) >= _floor(room):
            wrong.append(f"line {line}: {module} (floor {_floor(target)}) from {room} (floor {_floor(room)})")
    assert not wrong, wrong


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORE)))
def test_heavy_libraries_stay_in_their_room(path):
    rel = str(path.relative_to(CORE))
    for _, module in _imports(path):
        top = module.split(".")[0]
        if top in ONLY_IN:
            allowed = ONLY_IN[top]
            assert _room(path) in allowed or rel in allowed, f"{rel} imports {top}; only {allowed} may"
        assert top != "streamlit", f"{rel} imports streamlit: core has no UI code"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORE)))
def test_no_module_outgrows_one_concept(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(CORE)} has {n} lines; split it by concept"


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "screens").glob("*.py")), ids=lambda p: p.name)
def test_pages_stay_thin(path):
    heavy = {m.split(".")[0] for _, m in _imports(path)} & {"duckdb", "torch", "evidently"}
    assert not heavy, f"{path.name} imports {heavy}"


def test_only_the_store_writes_sql():
    """SQL statements that change data appear only under core/store."""
    for path in FILES:
        if _room(path) == "store":
            continue
        text = path.read_text(encoding="utf-8")
        for keyword in ("INSERT INTO", "UPDATE ", "DELETE FROM", "CREATE TABLE", "DROP TABLE"):
            assert keyword not in text, f"{path.relative_to(CORE)} holds SQL ({keyword.strip()})"
