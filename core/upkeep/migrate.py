"""Moving a store between backends: `python -m core migrate --to STORE`.

A founder who outgrows one machine copies the DuckDB file into a shared DuckLake catalog (and can come back
the same way). The copy is made into an empty store in one transaction (:meth:`core.store.Store.copy_into`),
every table's rows and checksum are compared on both sides, and every model file is copied to the target's
shared folder and checked against the SHA-256 the store recorded. The source is only read: nothing about it
changes, so switching is a matter of pointing MODELPULSE_STORE at the target once the copy checks out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from core.config import Settings
from core.errors import ModelPulseError
from core.errors import StoreError
from core.modeling.registry import recorded_path
from core.modeling.registry import sha256_file
from core.modeling.registry import weights_file
from core.progress import Progress
from core.store import Store
from core.store.lake import display
from core.store.lake import is_lake
from core.upkeep.backup import copy_file


@dataclass(frozen=True)
class Migrated:
    """What a migration copied, in figures and one sentence."""

    target: str
    tables: int
    rows: int
    model_files: int
    seconds: float
    message: str


def target_settings(settings: Settings, *, to: str, data: Path | str | None, lake_data: str | None = None) -> Settings:
    """Settings naming the target store: a shared lake (its shared folder `data`, its data files there or at
    `lake_data`, such as object storage reached with the configured `s3`) or a DuckDB file."""
    if is_lake(to):
        if not data:
            raise ModelPulseError(
                "Copying into a shared store needs --data: the folder every machine reaches, for its data and "
                "model files."
            )
        return Settings.shared_under(
            to, data, seed=settings.seed, threads=settings.threads, lake_data=lake_data or "", s3=settings.s3
        )
    path = Path(to).expanduser()
    if path.exists() and path.is_dir():
        raise ModelPulseError(
            f"{path} is a folder; give the path of the new store file (e.g. {path}/modelpulse.duckdb)."
        )
    return settings.with_db(path)


def migrate_store(
    settings: Settings,
    *,
    to: str,
    data: Path | str | None = None,
    lake_data: str | None = None,
    source: str | None = None,
    progress: Progress = print,
) -> Migrated:
    """Copy the configured store (or the store file `source`, such as a backup's) into the empty store `to`."""
    started = time.perf_counter()
    target_cfg = target_settings(settings, to=to, data=data, lake_data=lake_data)
    source_cfg = settings.with_db(source) if source else settings
    if display(source_cfg.store) == display(target_cfg.store):
        raise ModelPulseError("The store to copy and the target are the same store; nothing was changed.")
    with Store.at(source_cfg, read_only=True) as src, Store.at(target_cfg, create=True) as dst:
        progress(f"Copying {src.where} into {dst.where} ...")
        copied = src.copy_into(dst, progress=progress)
        if copied.mismatched:
            raise StoreError(
                f"The copy in {dst.where} does not match {src.where} in {len(copied.mismatched)} table(s) "
                f"({', '.join(copied.mismatched[:3])}); do not switch to it. The source is unchanged."
            )
        files = _copy_model_files(src, dst, target_cfg.models_dir)
    seconds = time.perf_counter() - started
    switch = (
        f"MODELPULSE_STORE='{display(target_cfg.store)}' and MODELPULSE_STORE_DATA={target_cfg.home}"
        + (f" (and MODELPULSE_LAKE_DATA={lake_data})" if lake_data else "")
        if target_cfg.shared
        else f"MODELPULSE_DB={target_cfg.db_path} (and unset MODELPULSE_STORE)"
    )
    return Migrated(
        target=display(target_cfg.store),
        tables=len(copied.rows),
        rows=copied.total,
        model_files=files,
        seconds=seconds,
        message=f"Copied {len(copied.rows)} tables ({copied.total:,} rows) and {files} model files into "
        f"{display(target_cfg.store)} in {seconds:.1f}s; every table's rows and checksum match the source. "
        f"To switch, set {switch}.",
    )


def _copy_model_files(src: Store, dst: Store, models_dir: Path) -> int:
    """Copy every version's weights and metadata under the target's models folder; check each against the
    SHA-256 the store recorded, and record where it now is."""
    copied = 0
    for spec in dst.list_specs():
        for info in dst.list_versions(spec.name):
            if not info.weights_path:
                continue
            weights = weights_file(src, info)
            folder = models_dir / spec.name / f"v{info.version}"
            for name in ("weights.pt", "meta.json"):
                if not (weights.parent / name).is_file():
                    raise StoreError(
                        f"v{info.version} of `{spec.name}` has no {name} at {weights.parent}; the copied store is "
                        "complete but that version cannot score there until its files are put in "
                        f"{folder}. Run `python -m core check` on the source."
                    )
                if (weights.parent / name).resolve() != (folder / name).resolve():
                    copy_file(weights.parent / name, folder / name)
                copied += 1
            if info.weights_sha256 and sha256_file(folder / "weights.pt") != info.weights_sha256:
                raise StoreError(f"The copied weights of `{spec.name}` v{info.version} do not match their checksum.")
            dst.set_weights_path(
                model=spec.name, version=info.version, path=recorded_path(folder / "weights.pt", store_path=dst.path)
            )
    return copied
