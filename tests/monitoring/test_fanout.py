"""Monitoring fanned out on Dask over a shared (DuckLake) store: the same results as one process, every
window computed once even with two coordinators, and a window whose worker was killed finished by another.

Real pieces only: a PostgreSQL server and DuckLake catalogs (tests/lakes.py), Dask `LocalCluster` worker
processes, `python -m core monitor` processes, and a SIGKILL at the `window.claimed` kill point.
"""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import time

import pandas as pd
import pytest

from core.config import REPO_ROOT
from core.errors import ModelPulseError
from core.monitoring.claimed import WindowJob
from core.monitoring.runner import _pending
from core.monitoring.thresholds import Thresholds
from core.progress import quiet
from core.refresh import refresh
from core.store import Store
from core.upkeep.migrate import migrate_store
from tests.golden.snapshot import differences
from tests.golden.snapshot import snapshot_of
from tests.lakes import lake_env
from tests.lakes import new_lake

pytestmark = pytest.mark.slow
MODEL = "flights"  # binary: its estimates carry error bands that depend on every earlier window


@pytest.fixture
def lake_and_file(copied, lake_server, tmp_path):
    """(the demo's file copy with its single-process results, a lake holding the same store, monitoring
    cleared there so everything must be computed again)."""
    lake = new_lake(lake_server, tmp_path / "shared")
    migrate_store(copied, to=lake.store, data=lake.home, progress=quiet)
    with Store.at(lake) as store:
        for spec in store.list_specs():
            store.clear_monitoring(model=spec.name)
    return copied, lake


def _same_results(file_settings, lake_settings, model: str | None) -> None:
    with Store.at(file_settings, read_only=True) as a, Store.at(lake_settings, read_only=True) as b:
        want, got = snapshot_of(a, model=model), snapshot_of(b, model=model)
    assert want["checks"], "nothing to compare"
    for table in want:
        found = differences(want[table], got[table], where=table)
        assert not found, f"{len(found)} differences in {table}, first: " + "; ".join(found[:3])


def _claims(lake_settings, model: str) -> pd.DataFrame:
    with Store.at(lake_settings, read_only=True) as store:
        return store.window_claims(model=model)


def test_two_workers_store_what_one_process_stores(lake_and_file):
    file_settings, lake = lake_and_file
    with Store.at(lake) as store:
        summary = refresh(store=store, settings=lake, models=[MODEL], progress=quiet, workers=2)
    assert summary.computed[MODEL] == 36  # 18 weeks, live and shadow version
    _same_results(file_settings, lake, MODEL)
    claims = _claims(lake, MODEL)
    assert len(claims) == 36 and claims["holder"].nunique() == 2  # both workers took windows, none twice
    # a finished window's claim ended with it, so starting over waits for nobody
    assert (pd.to_datetime(claims["expires_at"]) <= pd.Timestamp.now()).all()
    with Store.at(lake) as store:
        store.clear_monitoring(model=MODEL)
        began = time.monotonic()
        again = refresh(store=store, settings=lake, models=[MODEL], progress=quiet, workers=1, claim_seconds=300)
    assert again.computed[MODEL] == 36 and time.monotonic() - began < 250
    _same_results(file_settings, lake, MODEL)


def _monitor(lake, *args: str) -> subprocess.Popen:
    env = lake_env(lake)
    return subprocess.Popen(
        [sys.executable, "-m", "core", "monitor", "--model", MODEL, *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_coordinators_at_once_compute_each_window_once(lake_and_file):
    file_settings, lake = lake_and_file
    runs = [_monitor(lake, "--workers", "1") for _ in range(2)]
    outs = [r.communicate(timeout=600) for r in runs]
    for run, (_, err) in zip(runs, outs, strict=True):
        assert run.returncode == 0, err[-2000:]
        assert "Traceback" not in err
    claims = _claims(lake, MODEL)
    per_window = claims.groupby(["version", "scope", "window_start"]).size()
    assert len(per_window) == 36 and (per_window == 1).all()  # every window claimed, and by one worker only
    assert claims["holder"].nunique() == 2  # both coordinators' workers had a share
    _same_results(file_settings, lake, MODEL)


def test_a_window_whose_worker_was_killed_is_finished_by_another(lake_and_file):
    file_settings, lake = lake_and_file
    with Store.at(lake) as store:
        spec = store.get_spec(MODEL)
        _, _, todo, _ = _pending(store, spec, store.live_version(MODEL), store.window_fingerprints(spec=spec))
        row, fp = todo[3]
        start = row["window_start"]
    job = WindowJob(
        store=lake.store,
        home=str(lake.db_path),
        model=MODEL,
        version=1,
        scope="full",
        window_start=pd.Timestamp(start),
        fingerprint=fp,
        n_rows=0,
        thresholds=Thresholds(),
        claim_seconds=4,
    )
    code = (
        "import pickle, sys; from core.monitoring.claimed import run_job; "
        "run_job(pickle.loads(sys.stdin.buffer.read()))"
    )
    killed = subprocess.run(
        [sys.executable, "-c", code],
        input=pickle.dumps(job),
        cwd=REPO_ROOT,
        env={**os.environ, "MODELPULSE_KILL_AT": "window.claimed"},
        capture_output=True,
        timeout=300,
    )
    assert killed.returncode == -9  # SIGKILL right after its claim committed
    claims = _claims(lake, MODEL)
    assert len(claims) == 1 and pd.Timestamp(claims["window_start"].iloc[0]) == pd.Timestamp(start)
    dead = claims["holder"].iloc[0]
    began = time.monotonic()
    with Store.at(lake) as store:
        refresh(store=store, settings=lake, models=[MODEL], progress=quiet, workers=1)
    claims = _claims(lake, MODEL)
    window = claims[pd.to_datetime(claims["window_start"]) == pd.Timestamp(start)]
    window = window[window["version"] == 1]
    assert list(window["holder"]).count(dead) == 1 and len(window) == 2  # the dead claim, then the finisher's
    assert time.monotonic() - began >= 2  # it waited for the dead worker's claim to expire
    _same_results(file_settings, lake, MODEL)


def test_a_file_store_says_it_cannot_fan_out(copied):
    with Store.at(copied) as store, pytest.raises(ModelPulseError, match="shared store") as info:
        refresh(store=store, settings=copied, progress=quiet, workers=2)
    assert "migrate" in info.value.user_message


def test_an_existing_dask_cluster_computes_the_windows(lake_and_file, tmp_path):
    """`--scheduler tcp://...`: a Dask scheduler and a worker started as their own processes, as on a cluster."""
    file_settings, lake = lake_and_file
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # the scheduler unpickles the task graph and the worker runs it: both need ModelPulse importable
    env = {**os.environ, "MODELPULSE_THREADS": "1", "DO_NOT_TRACK": "1", "PYTHONPATH": str(REPO_ROOT)}
    scheduler = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dashboard",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_worker",
            f"tcp://127.0.0.1:{port}",
            "--nworkers",
            "1",
            "--nthreads",
            "1",
            "--no-dashboard",
            "--memory-limit",
            "0",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with Store.at(lake) as store:
            summary = refresh(
                store=store, settings=lake, models=["churn"], progress=quiet, scheduler=f"tcp://127.0.0.1:{port}"
            )
        assert summary.computed["churn"] == 8
        holders = set(_claims(lake, "churn")["holder"])
        assert len(holders) == 1  # the one worker process of the cluster took every window
        _same_results(file_settings, lake, "churn")
    finally:
        for p in (worker, scheduler):
            p.terminate()
        for p in (worker, scheduler):
            p.wait(timeout=60)


def test_no_scheduler_at_the_address_is_a_sentence(lake_and_file):
    _, lake = lake_and_file
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    with Store.at(lake) as store, pytest.raises(ModelPulseError, match="No Dask scheduler answers"):
        refresh(store=store, settings=lake, models=["churn"], progress=quiet, scheduler=f"tcp://127.0.0.1:{port}")
