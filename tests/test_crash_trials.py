"""Crash trials: 40 seeded SIGKILLs across ingest, monitoring, training and the demo replay.

Each trial copies one small real store (or starts empty, for the demo), runs one operation in a child
process and kills it, either at a chosen kill point (every save has one, see core/faults.py) or at a
seeded random moment within the operation's uninterrupted duration. After each kill:

- the store opens and reads back whole (`Store.open(verify=True)`), `check` finds no problem: every
  registered version has its weights, metadata, reference rows and a prediction for every stored row;
- no batch is half-stored: production rows are either all there or none;
- the next run resumes (the operation again if its effect is absent, then monitoring), and the store ends
  with the same monitoring results, alerts and predictions as an uninterrupted run.

The figures (trials, kills that landed, rows lost) are printed and recorded in bench/RESULTS.md.
"""

from __future__ import annotations

import multiprocessing
import random
import shutil
import signal
import time
from pathlib import Path

import pytest

from core.store import Store
from core.upkeep.check import check_store
from tests import crash_ops
from tests.conftest import churn_batch
from tests.golden.snapshot import differences
from tests.golden.snapshot import snapshot

pytestmark = pytest.mark.slow

CHOSEN = {
    "ingest": ["batch.before_commit", "batch.committed", "window.saved#1", "window.saved#2"],
    "monitor_fresh": ["window.saved#1", "window.saved#4", "window.saved#9"],
    "train": ["model.files_written", "version.before_commit", "window.saved#1", "window.saved#5"],
    "demo": ["version.before_commit#2", "batch.before_commit#3", "demo.model_replayed", "window.saved#2"],
}
RANDOM = {"ingest": 6, "monitor_fresh": 7, "train": 6, "demo": 6}
TOTAL = sum(len(v) for v in CHOSEN.values()) + sum(RANDOM.values())
LIMIT_S = 240.0
"""No child may run longer than this; a hung child fails the test instead of hanging CI."""


@pytest.fixture(scope="module")
def forkserver():
    """A process context whose children fork from a server that has already imported everything."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.crash_ops"])
    return ctx


def _child(ctx, op: str, root: Path, arg: Path | None, kill_at: str | None, kill_after: float | None) -> int:
    """Run `op` in a child; SIGKILL it after `kill_after` seconds if given. Returns its exit code."""
    proc = ctx.Process(target=crash_ops.run, args=(op, str(root), str(arg) if arg else None, kill_at))
    proc.start()
    deadline = time.monotonic() + LIMIT_S
    if kill_after is not None:
        proc.join(kill_after)
        if proc.is_alive():
            proc.kill()
    proc.join(max(0.0, deadline - time.monotonic()))
    if proc.is_alive():
        proc.kill()
        proc.join()
        pytest.fail(f"{op} ran past {LIMIT_S:.0f} s")
    return proc.exitcode


def _production_rows(db: Path) -> int:
    with Store.open(db, read_only=True) as store:
        if store.get_spec("churn", missing_ok=True) is None:
            return 0
        return store.model_status("churn").production_rows


def _versions(db: Path) -> int:
    with Store.open(db, read_only=True) as store:
        if store.get_spec("churn", missing_ok=True) is None:
            return 0
        return len(store.list_versions("churn"))


def _assert_whole(db: Path, where: str) -> None:
    """The store opens, reads back in full and every registered version is complete."""
    with Store.open(db, verify=True) as store:  # also migrates, as the next run would
        report = check_store(store)
        assert report.ok, f"{where}: " + " | ".join(f.sentence for f in report.problems)
        for spec in store.list_specs():
            versions = [v.version for v in store.list_versions(spec.name) if v.weights_path]
            backlog = store.scoring_backlog(spec=spec, versions=versions)
            assert not backlog, f"{where}: a registered version misses predictions for stored rows: {backlog}"


@pytest.fixture(scope="module")
def base(tmp_path_factory, forkserver):
    """A small real churn store (reduced demo, monitoring done), and a file of new rows for it."""
    root = tmp_path_factory.mktemp("crash-base")
    assert _child(forkserver, "demo", root, None, None, None) == 0
    batch = root / "batch.csv"
    churn_batch(400).to_csv(batch, index=False)
    return root, batch


def _fresh_copy(base_root: Path, dest: Path, op: str) -> Path:
    dest.mkdir(parents=True)
    if op != "demo":
        shutil.copy(base_root / "modelpulse.duckdb", dest / "modelpulse.duckdb")
        shutil.copytree(base_root / "models", dest / "models")
    return dest


def _resume(ctx, op: str, root: Path, batch: Path, before_rows: int, before_versions: int) -> None:
    """What a person (or the scheduler) does next: send the file again if it is not stored, train again if
    the version is not there, run the demo again; then any run of monitoring."""
    db = root / "modelpulse.duckdb"
    if op == "ingest" and _production_rows(db) == before_rows:
        assert _child(ctx, "ingest", root, batch, None, None) == 0
    elif op == "train" and _versions(db) == before_versions:
        assert _child(ctx, "train", root, None, None, None) == 0
    elif op == "demo":
        assert _child(ctx, "demo", root, None, None, None) == 0
    assert _child(ctx, "monitor", root, None, None, None) == 0


def test_forty_kills_leave_whole_stores_that_resume_to_the_same_tables(base, forkserver, tmp_path):
    base_root, batch = base
    rng = random.Random(20261201)
    reference: dict[str, dict] = {}
    duration: dict[str, float] = {}
    expected_rows: dict[str, int] = {}
    for op in CHOSEN:  # uninterrupted runs: what every trial of the same operation must end with
        root = _fresh_copy(base_root, tmp_path / f"ref-{op}", op)
        started = time.monotonic()
        assert _child(forkserver, op, root, batch, None, None) == 0
        duration[op] = time.monotonic() - started
        reference[op] = snapshot(root / "modelpulse.duckdb")
        expected_rows[op] = _production_rows(root / "modelpulse.duckdb")
    base_rows, base_versions = (
        _production_rows(base_root / "modelpulse.duckdb"),
        _versions(base_root / "modelpulse.duckdb"),
    )
    trials = killed = 0
    lost = 0
    per_op: dict[str, int] = {}
    for op in CHOSEN:
        plans = [(point, None) for point in CHOSEN[op]]
        plans += [(None, rng.uniform(0.05, duration[op])) for _ in range(RANDOM[op])]
        for k, (point, after) in enumerate(plans):
            where = f"{op} trial {k} ({point or f'kill after {after:.2f}s'})"
            root = _fresh_copy(base_root, tmp_path / f"{op}-{k}", op)
            db = root / "modelpulse.duckdb"
            code = _child(forkserver, op, root, batch, point, after)
            trials += 1
            if point is not None:
                assert code == -signal.SIGKILL, f"{where}: the kill point was never reached (exit {code})"
            killed += code == -signal.SIGKILL
            per_op[op] = per_op.get(op, 0) + (code == -signal.SIGKILL)
            if op != "demo" or db.exists():
                _assert_whole(db, where)
                rows = _production_rows(db)
                if op == "ingest":
                    assert rows in (base_rows, base_rows + 400), f"{where}: a half-stored batch ({rows} rows)"
                elif op != "demo":
                    assert rows == base_rows, f"{where}: rows changed ({rows} != {base_rows})"
            _resume(forkserver, op, root, batch, base_rows, base_versions)
            _assert_whole(db, f"{where}, after resuming")
            lost += max(0, expected_rows[op] - _production_rows(db))
            diff = differences(reference[op], snapshot(db))
            assert not diff, f"{where}: after resuming, the store differs from an uninterrupted run: {diff[:5]}"
    assert trials == TOTAL >= 40
    assert lost == 0
    print(
        f"\ncrash trials: {trials} run, {killed} killed mid-operation, {trials} stores whole and resumed, "
        f"rows lost {lost}; killed mid-operation per operation: {per_op}"
    )
