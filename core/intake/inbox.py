"""The drop folder: how a production service sends data while the app holds the store.

DuckDB lets one process write a database file at a time, and the running app is that process. So
services do not open the store; they drop files into the inbox and the app imports them:

    <inbox>/<model>/<anything>.csv|.xlsx|.parquet    production rows (predictions for external models)
    <inbox>/<model>/labels/<anything>.csv|.xlsx|.parquet   outcomes, joined by id

Write to a temporary name and rename when done (`x.csv.tmp` -> `x.csv`): names ending in `.tmp`, and
files changed in the last two seconds, are left alone. An imported file moves to `done/`; a refused
one to `failed/` next to a `.error.txt` holding the one-sentence reason. Monitoring then runs for the
models that received data.

Several app replicas on a shared store may watch one shared inbox: a replica takes a file by renaming it
into `<model>/.working/` (a rename succeeds for one of them only), and each file is stored under a batch
id made from its name, size and time, so a file imported by a replica that was killed before moving it
to `done/` is not stored twice when it is looked at again. A file left in `.working/` by a replica that
died goes back to the inbox after `CLAIM_SECONDS`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core.config import Settings
from core.errors import ModelPulseError
from core.intake.files import ACCEPTED
from core.intake.files import read_table
from core.intake.traffic import log_labels
from core.intake.traffic import log_predictions
from core.progress import quiet
from core.refresh import refresh
from core.store import Store

SETTLE_SECONDS = 2.0
WORKING = ".working"
CLAIM_SECONDS = 900.0
"""A file a replica took and neither imported nor refused within this long goes back to the inbox."""


@dataclass(frozen=True)
class InboxItem:
    """The outcome of one dropped file."""

    model: str
    path: Path
    ok: bool
    message: str


def _ready(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in ACCEPTED and time.time() - path.stat().st_mtime >= SETTLE_SECONDS


def _batch_id(model: str, path: Path, name: str) -> str:
    """The same id for the same dropped file `name`, however often it is looked at (name, size, modification
    time, which a rename keeps)."""
    info = path.stat()
    key = f"{name}\0{info.st_size}\0{info.st_mtime_ns}".encode()
    return f"inbox-{model}-{hashlib.sha256(key).hexdigest()[:24]}"


def _take(path: Path) -> Path | None:
    """Move `path` into its folder's `.working/` for this process; None when another replica took it first."""
    working = path.parent / WORKING
    working.mkdir(exist_ok=True)
    target = working / f"{socket.gethostname()}--{os.getpid()}--{path.name}"
    try:
        os.rename(path, target)  # atomic on one file system: exactly one replica wins
    except FileNotFoundError:
        return None
    return target


def _return_stale(folder: Path) -> None:
    """Put back files a replica took and never finished (it died): after CLAIM_SECONDS they are anyone's."""
    working = folder / WORKING
    if not working.is_dir():
        return
    for path in working.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if time.time() - path.stat().st_ctime > CLAIM_SECONDS:  # ctime: when it was renamed here
                os.rename(path, folder / path.name.split("--", 2)[-1])


def _move(path: Path, folder: Path, *, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{datetime.now():%Y%m%d-%H%M%S}-{name}"
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
        _return_stale(folder)
        _return_stale(folder / "labels")
        jobs = [(p, False) for p in sorted(folder.glob("*")) if _ready(p)]
        jobs += [(p, True) for p in sorted((folder / "labels").glob("*")) if _ready(p)]
        for dropped, is_labels in jobs:
            path = _take(dropped)
            if path is None:
                continue  # another replica is importing it
            name = dropped.name
            batch_id = _batch_id(spec.name, path, name)
            try:
                frame = read_table(path.read_bytes(), name=name, max_mb=settings.max_upload_mb)
                fn = log_labels if is_labels else log_predictions
                source = f"inbox/{spec.name}/{name}"
                result = fn(
                    model=spec.name,
                    frame=frame,
                    store=store,
                    settings=settings,
                    source=source,
                    by="inbox",
                    batch_id=batch_id,
                )
            except ModelPulseError as exc:
                moved = _move(path, folder / "failed", name=name)
                moved.with_name(moved.name + ".error.txt").write_text(exc.user_message + "\n", encoding="utf-8")
                items.append(InboxItem(spec.name, moved, False, exc.user_message))
                continue
            said = f"{result.message} {frame.attrs['read_as']}" if frame.attrs.get("read_as") else result.message
            items.append(InboxItem(spec.name, _move(path, folder / "done", name=name), True, said))
    touched = sorted({i.model for i in items if i.ok})
    if monitor and touched:
        refresh(store=store, settings=settings, models=touched, progress=quiet)
    return items
