"""What a crash trial runs in a child process (tests/test_crash_trials.py): the same calls `python -m core
ingest`, `monitor --fresh`, `train` and `demo` make, on a store under a given folder.

Children start from a forkserver that imported this module, so a trial costs a fork, not an interpreter
start with torch and Evidently; they exit 0 when the work finished, and die by SIGKILL when killed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from core.config import REPO_ROOT
from core.config import Settings
from core.demo.datasets import CHURN
from core.demo.seed import seed_demo
from core.intake.traffic import log_predictions
from core.modeling.training import use_threads
from core.modeling.versions import train_new_version
from core.progress import quiet
from core.refresh import refresh
from core.schema import ArchConfig
from core.store import Store

DEMO = {"names": ["churn"], "fraction": 0.5, "max_epochs": 2, "production_days": 150, "monitor": True}


def settings_for(root: Path) -> Settings:
    """The store and model files of one trial, under `root`."""
    return Settings.under(Path(root) / "modelpulse.duckdb", seed=7, threads=1)


def ingest(cfg: Settings, batch: Path) -> None:
    """`python -m core ingest BATCH --model churn`: store the rows, then monitor."""
    with Store.open(cfg.db_path, verify=True) as store:
        log_predictions(model="churn", frame=pd.read_csv(batch), store=store, settings=cfg, source=batch.name)
        refresh(store=store, settings=cfg, models=["churn"], progress=quiet)


def monitor_fresh(cfg: Settings, _: Path | None = None) -> None:
    """`python -m core monitor --fresh --model churn`: forget every window, compute them again."""
    with Store.open(cfg.db_path, verify=True) as store:
        store.clear_monitoring(model="churn")
        refresh(store=store, settings=cfg, models=["churn"], progress=quiet)


def monitor(cfg: Settings, _: Path | None = None) -> None:
    """`python -m core monitor --model churn`: what any next run does with pending work."""
    with Store.open(cfg.db_path, verify=True) as store:
        refresh(store=store, settings=cfg, models=["churn"], progress=quiet)


def train(cfg: Settings, _: Path | None = None) -> None:
    """`python -m core train --model churn --max-epochs 2`: a new shadow version, shadow-scoring all rows."""
    frame = CHURN.load(REPO_ROOT / "data")
    split = CHURN.split(frame).replace({"production": "test"})
    with Store.open(cfg.db_path, verify=True) as store:
        train_new_version(
            store=store,
            settings=cfg,
            name="churn",
            frame=frame,
            split=split,
            arch=ArchConfig(max_epochs=2),
            live=False,
            by="cli",
            progress=quiet,
        )
        refresh(store=store, settings=cfg, models=["churn"], progress=quiet)


def demo(cfg: Settings, _: Path | None = None) -> None:
    """`python -m core demo --models churn` (reduced): keeps a model already stored, seeds a missing one."""
    seed_demo(settings=cfg, progress=quiet, **DEMO)


OPS = {"ingest": ingest, "monitor_fresh": monitor_fresh, "monitor": monitor, "train": train, "demo": demo}


def run(op: str, root: str, arg: str | None, kill_at: str | None) -> None:
    """Child entry point: arm the chosen kill point (if any) and run `op`."""
    use_threads(1)
    if kill_at:
        os.environ["MODELPULSE_KILL_AT"] = kill_at
    else:
        os.environ.pop("MODELPULSE_KILL_AT", None)
    OPS[op](settings_for(Path(root)), Path(arg) if arg else None)
