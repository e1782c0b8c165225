"""What every benchmark shares: a warning when the machine is busy, and settings for a scratch store."""

from __future__ import annotations

import os
from pathlib import Path

from core.config import Settings


def busy_warning() -> None:
    """Timings need a quiet machine: say so when something else is using the CPUs."""
    load = os.getloadavg()[0]
    if load > 0.7:
        print(f"WARNING: 1-minute load average is {load:.1f} before starting; other processes will distort timings.")


def scratch_settings(db_path: Path) -> Settings:
    """Seed 42, two torch threads, model files and inbox beside `db_path`, the shipped demo data."""
    return Settings.under(db_path, seed=42, threads=2)
