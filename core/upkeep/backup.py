"""Backups a founder can trust: a consistent copy of the store and its model files, checked on the way back.

A backup is a folder: `modelpulse.duckdb` (one snapshot, written while the app keeps writing),
`models/<model>/v<N>/` (every version's weights and metadata) and `manifest.json` (rows and a checksum
per table, the SHA-256 of every model file), written last, so a folder without it is an unfinished
backup. The copy records model files relative to itself, so it works wherever it is put.
`restore` checks all of that before it touches the live store, keeps the store it replaces beside it,
and refuses while another process has the store open.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core.config import Settings
from core.errors import ModelPulseError
from core.errors import StoreError
from core.errors import StoreLockedError
from core.modeling.registry import recorded_path
from core.modeling.registry import sha256_file
from core.modeling.registry import weights_file
from core.modeling.registry import write_atomically
from core.store import Store
from core.upkeep.check import check_store

MANIFEST = "manifest.json"
DB_NAME = "modelpulse.duckdb"
FORMAT = "modelpulse-backup/1"


@dataclass(frozen=True)
class BackupResult:
    """What a backup or a restore wrote, in figures and one sentence."""

    path: Path
    tables: int
    rows: int
    model_files: int
    seconds: float
    message: str


def copy_file(source: Path, target: Path) -> None:
    """Copy one file and flush it to disk before anything records it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    with open(target, "rb") as fh:
        os.fsync(fh.fileno())


def backup_store(store: Store, *, dest: Path | str) -> BackupResult:
    """Write a backup of `store` into the new or empty folder `dest`; safe while the app is writing."""
    started = time.perf_counter()
    dest = Path(dest).expanduser().resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ModelPulseError(f"{dest} already exists and is not an empty folder; choose a new folder for the backup.")
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / DB_NAME
    store.copy_to(target)
    files: dict[str, str] = {}
    # the copy is the snapshot: its versions (not the live store's, which may have moved on) say which files
    with Store.open(target) as copy:
        for spec in copy.list_specs():
            for info in copy.list_versions(spec.name):
                if not info.weights_path:
                    continue
                source = weights_file(store, info)
                folder = dest / "models" / spec.name / f"v{info.version}"
                for name in ("weights.pt", "meta.json"):
                    if not (source.parent / name).is_file():
                        raise StoreError(
                            f"v{info.version} of `{spec.name}` has no {name} at {source.parent}; nothing usable "
                            f"was backed up. Run `python -m core check` first."
                        )
                    copy_file(source.parent / name, folder / name)
                    files[(folder / name).relative_to(dest).as_posix()] = sha256_file(folder / name)
                copy.set_weights_path(
                    model=spec.name,
                    version=info.version,
                    path=recorded_path(folder / "weights.pt", store_path=target),
                )
        sums = copy.checksums()
        schema = copy.schema_version()
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now().isoformat(timespec="seconds"),
        "source": str(store.path),
        "schema": schema,
        "tables": {t: {"rows": n, "checksum": c} for t, (n, c) in sums.items()},
        "model_files": files,
    }
    write_atomically(dest / MANIFEST, json.dumps(manifest, indent=1).encode())  # last: the backup is finished
    rows = sum(n for n, _ in sums.values())
    seconds = time.perf_counter() - started
    return BackupResult(
        path=dest,
        tables=len(sums),
        rows=rows,
        model_files=len(files),
        seconds=seconds,
        message=f"Backed up {len(sums)} tables ({rows:,} rows) and {len(files)} model files to {dest} "
        f"in {seconds:.1f}s.",
    )


def verify_backup(folder: Path | str) -> list[str]:
    """Every way the backup in `folder` differs from its manifest, as sentences (empty: it is whole)."""
    folder = Path(folder).expanduser()
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return [f"{folder} holds no {MANIFEST}: it is not a ModelPulse backup, or the backup did not finish."]
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return [f"{manifest_path} is not valid JSON; the backup cannot be checked."]
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return [f"{manifest_path} is not a ModelPulse backup manifest (expected format {FORMAT})."]
    wrong = []
    for rel, digest in manifest.get("model_files", {}).items():
        path = folder / rel
        if not path.is_file():
            wrong.append(f"The model file {rel} is missing from the backup.")
        elif sha256_file(path) != digest:
            wrong.append(f"The model file {rel} in the backup was changed or damaged (checksum).")
    try:
        with Store.open(folder / DB_NAME, read_only=True) as copy:
            report = check_store(copy)
            wrong += [f.sentence for f in report.problems]
            if not report.problems:
                sums = copy.checksums()
                for table, want in manifest.get("tables", {}).items():
                    got = sums.get(table)
                    if got is None:
                        wrong.append(f"Table `{table}` is missing from the backup's store.")
                    elif got != (want["rows"], want["checksum"]):
                        wrong.append(
                            f"Table `{table}` in the backup holds {got[0]:,} rows where the manifest says "
                            f"{want['rows']:,}, or its values changed (checksum)."
                        )
    except StoreError as exc:
        wrong.append(exc.user_message)
    return wrong


def restore_store(folder: Path | str, *, settings: Settings) -> BackupResult:
    """Bring the backup in `folder` back as the configured store, after checking it whole.

    The store it replaces (if any) is kept beside it as `<name>.before-restore-<time>` with its models.
    Refused, with nothing changed, when the backup does not check out or another process has the store.
    """
    started = time.perf_counter()
    folder = Path(folder).expanduser().resolve()
    if settings.shared:
        raise ModelPulseError(
            "A shared store is not replaced file by file: copy the backup into an empty shared store with "
            f"`python -m core migrate --from {folder / DB_NAME} --to ADDRESS --data FOLDER`, then point "
            "MODELPULSE_STORE at it. Nothing was changed."
        )
    wrong = verify_backup(folder)
    if wrong:
        raise ModelPulseError(
            f"The backup in {folder} was not restored: {wrong[0]}"
            + (
                f" ({len(wrong) - 1} more problem(s); `python -m core check` on it lists them.)"
                if len(wrong) > 1
                else ""
            )
        )
    db = settings.db_path
    if db.exists():
        try:
            Store.open(db, read_only=True).close()
        except StoreLockedError as exc:
            raise ModelPulseError(
                f"The store {db} is open in another process (probably the running app); stop it, then restore. "
                "Nothing was changed."
            ) from exc
        except StoreError:
            pass  # a damaged or unreadable store is what a restore replaces: it is kept beside the new one
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.with_name(f".{db.name}.restoring")
    if tmp.exists():
        tmp.unlink()
    copy_file(folder / DB_NAME, tmp)
    files = json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("model_files", {})
    models_tmp = settings.models_dir.with_name(f".{settings.models_dir.name}.restoring")
    shutil.rmtree(models_tmp, ignore_errors=True)
    for rel in files:
        copy_file(folder / rel, models_tmp / Path(rel).relative_to("models"))
    # from here on only renames: the old store and models stay beside the new ones
    kept, had_store = db.with_name(f"{db.name}.before-restore-{stamp}"), db.exists()
    if had_store:
        os.replace(db, kept)
        wal = db.with_name(db.name + ".wal")
        if wal.exists():
            os.replace(wal, db.with_name(f"{db.name}.wal.before-restore-{stamp}"))
    if settings.models_dir.exists():
        os.replace(
            settings.models_dir, settings.models_dir.with_name(f"{settings.models_dir.name}.before-restore-{stamp}")
        )
    if models_tmp.exists():
        os.replace(models_tmp, settings.models_dir)
    else:
        settings.models_dir.mkdir(parents=True)
    os.replace(tmp, db)
    with Store.open(db) as restored:
        for spec in restored.list_specs():
            for info in restored.list_versions(spec.name):
                if info.weights_path:
                    path = settings.models_dir / spec.name / f"v{info.version}" / "weights.pt"
                    restored.set_weights_path(
                        model=spec.name, version=info.version, path=recorded_path(path, store_path=db)
                    )
        sums = restored.checksums()
    rows, tables = sum(n for n, _ in sums.values()), len(sums)
    return BackupResult(
        path=db,
        tables=tables,
        rows=rows,
        model_files=len(files),
        seconds=time.perf_counter() - started,
        message=f"Restored {tables} tables ({rows:,} rows) and {len(files)} model files from {folder} into {db}"
        + (f"; the store it replaced is kept as {kept.name}." if had_store else "."),
    )
