"""The drop folder: how a production service sends data while the app holds the store.

DuckDB lets one process write a database file at a time, and the running app is that process. So
services do not open the store; they drop files into the inbox and the app imports them:

    <inbox>/<model>/<anything>.csv|.parquet          production rows (predictions for external models)
    <inbox>/<model>/labels/<anything>.csv|.parquet   outcomes, joined by id

Write to a temporary name and rename when done (`x.csv.tmp` -> `x.csv`): names ending in `.tmp`, and
files changed in the last two seconds, are left alone. An imported file moves to `done/`; a refused
one to `failed/` next to a `.error.txt` holding the one-sentence reason. Monitoring then runs for the
models that received data.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core.config import Settings
from core.errors import ModelPulseError
from core.intake.files import read_table
from core.intake.traffic import log_labels
from core.intake.traffic import log_predictions
from core.progress import quiet
from core.refresh import refresh
from core.store import Store

SUFFIXES = (".csv", ".parquet")
SETTLE_SECONDS = 2.0


@dataclass(frozen=True)
class InboxItem:
    """The outcome of one dropped file."""

    model: str
    path: Path
    ok: bool
    message: str


def _ready(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in SUFFIXES and time.time() - path.stat().st_mtime >= SETTLE_SECONDS


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{datetime.now():%Y%m%d-%H%M%S}-{path.name}"
    shutil.move(str(path), target)
    return target


def process_inbox(*, store: Store, settings: Settings, monitor: bool = True) -> list[InboxItem]:
    """Import every ready file in the inbox; returns what happened to each."""
    root = settings.inbox_dir
    if not root.is_dir():
        return []
    items: list[InboxItem] = []
    for spec in store.list_specs():
        folder = root / spec.name
        jobs = [(p, False) for p in sorted(folder.glob("*")) if _ready(p)]
        jobs += [(p, True) for p in sorted((folder / "labels").glob("*")) if _ready(p)]
        for path, is_labels in jobs:
            try:
                frame = read_table(path.read_bytes(), name=path.name, max_mb=settings.max_upload_mb)
                fn = log_labels if is_labels else log_predictions
                source = f"inbox/{spec.name}/{path.name}"
                result = fn(model=spec.name, frame=frame, store=store, settings=settings, source=source, by="inbox")
            except ModelPulseError as exc:
                moved = _move(path, folder / "failed")
                moved.with_name(moved.name + ".error.txt").write_text(exc.user_message + "\n", encoding="utf-8")
                items.append(InboxItem(spec.name, moved, False, exc.user_message))
                continue
            items.append(InboxItem(spec.name, _move(path, folder / "done"), True, result.message))
    touched = sorted({i.model for i in items if i.ok})
    if monitor and touched:
        refresh(store=store, settings=settings, models=touched, progress=quiet)
    return items
