"""Seeding the demo: train both versions of each demo model, register them, replay a production year.

The replay walks production in time order, scores every batch with the live version and
shadow-scores it with the other, and stores labels only once they would have arrived. Monitoring
and alerts run at the end, through `core.refresh`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pandas as pd

from core import faults
from core.config import Settings
from core.demo.datasets import DEMO_MODELS
from core.demo.datasets import DemoModel
from core.modeling.features import target_codes
from core.modeling.scoring import TrainedModel
from core.modeling.training import train_with_yardstick
from core.modeling.training import use_threads
from core.modeling.versions import register_version
from core.modeling.yardstick import yardstick_rows
from core.progress import Progress
from core.refresh import refresh
from core.schema import ModelSpec
from core.store import Store
from core.store import stored_rows

REFERENCE_SET = "reference-1"
"""Both demo versions are validated on the same rows, so they share one reference set."""


@dataclass
class DemoReport:
    """What a demo seed did, for the CLI and bench/RESULTS.md."""

    seconds: float = 0.0
    quality: list[dict] = field(default_factory=list)
    steps: dict[str, float] = field(default_factory=dict)


def _as_rows(demo: DemoModel, frame: pd.DataFrame, split: pd.Series) -> pd.DataFrame:
    spec = demo.spec
    return stored_rows(
        frame,
        ts=frame[spec.timestamp],
        entity_ids=frame[spec.entity],
        split=split.to_numpy(),
        reference_set=REFERENCE_SET,
        target=target_codes(spec, frame[spec.target]),
    )


def _subsample(frame: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame:
    if fraction >= 1:
        return frame
    return frame.sample(frac=fraction, random_state=seed).sort_index()


def train_demo_versions(
    demo: DemoModel,
    *,
    data_dir: Path,
    seed: int,
    fraction: float = 1.0,
    max_epochs: int | None = None,
    progress: Progress = print,
) -> tuple[pd.DataFrame, pd.Series, list[tuple[TrainedModel, dict]]]:
    """Load, split and train both versions of a demo model (plus the HGB yardstick for each)."""
    frame = _subsample(demo.load(data_dir), fraction, seed)
    split = demo.split(frame)
    labelled = frame[frame[demo.spec.target].notna()]
    parts = {s: labelled[split.loc[labelled.index] == s] for s in ("train", "validation", "production")}
    trained = []
    for i, arch in enumerate(demo.versions, start=1):
        if max_epochs is not None:
            arch = arch.model_copy(update={"max_epochs": max_epochs})
        progress(f"  {demo.spec.name} v{i}: training on {len(parts['train']):,} rows ({arch.note})")
        model, report = train_with_yardstick(
            spec=demo.spec,
            arch=arch,
            train=parts["train"],
            valid=parts["validation"],
            test=parts["production"],
            seed=seed + i,
        )
        trained.append((model, report))
        progress(
            f"  {demo.spec.name} v{i}: {model.metadata['epochs']} epochs in {model.metadata['training_seconds']:.1f}s"
        )
    return frame, split, trained


def _label_frame(spec: ModelSpec, frame: pd.DataFrame, delay: pd.DateOffset) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "entity_id": frame[spec.entity].to_numpy(),
            "label": target_codes(spec, frame[spec.target]),
            "label_ts": (frame[spec.timestamp] + delay).to_numpy(),
        }
    )
    return out[out["label"].notna()]


def replay(
    store: Store,
    demo: DemoModel,
    frame: pd.DataFrame,
    split: pd.Series,
    models: dict[int, TrainedModel],
    *,
    progress: Progress = print,
) -> int:
    """Replay production in time order: score each batch with every version, store labels once they arrive.

    Returns the number of production rows written.
    """
    spec = demo.spec
    prod = frame[split == "production"].sort_values([spec.timestamp, spec.entity], kind="stable")
    rows = _as_rows(demo, prod, pd.Series("production", index=prod.index))
    unit = prod[spec.timestamp].dt.to_period("M" if demo.replay_unit == "month" else "D")
    pending = _label_frame(spec, prod, demo.label_delay).sort_values("label_ts", kind="stable")
    written = 0
    periods = unit.unique()
    for k, period in enumerate(periods, start=1):
        mask = (unit == period).to_numpy()
        batch = rows[mask]
        batch_end = period.end_time
        preds = {v: m.predict(batch) for v, m in models.items()}
        arrived = pending[pending["label_ts"] <= batch_end]
        pending = pending[pending["label_ts"] > batch_end]
        store.write_batch(
            spec=spec, rows=batch, predictions=preds, labels=arrived, source=f"demo replay {period}", actor="demo"
        )
        written += len(batch)
        if k == len(periods) or k % max(1, len(periods) // 6) == 0:
            progress(f"  {spec.name}: replayed {k}/{len(periods)} {demo.replay_unit}s ({written:,} rows)")
    return written


def seed_model(
    store: Store,
    demo: DemoModel,
    *,
    settings: Settings,
    fraction: float = 1.0,
    max_epochs: int | None = None,
    production_days: int | None = None,
    replace: bool = False,
    progress: Progress = print,
) -> list[dict]:
    """Train, register and replay one demo model into `store`. Returns its quality rows.

    `production_days` replays only that many days of production (a reduced demo for tests).
    """
    spec = demo.spec
    frame, split, trained = train_demo_versions(
        demo,
        data_dir=settings.data_dir,
        seed=settings.seed,
        fraction=fraction,
        max_epochs=max_epochs,
        progress=progress,
    )
    if production_days is not None:
        ts = frame[spec.timestamp]
        first = ts[split == "production"].min()
        keep = (split != "production") | (ts < first + pd.Timedelta(days=production_days))
        frame, split = frame[keep], split[keep]
    ref = frame[split.isin(["train", "validation"]) & frame[spec.target].notna()]
    ref_rows = _as_rows(demo, ref, split[ref.index])
    quality = []
    # one transaction for the versions AND the replayed year: a broken data file, a failed training or a kill
    # never leaves a half-seeded model, which `demo` (keeping models already stored) would never finish
    with store.transaction():
        if replace:
            store.delete_model(spec.name)
        store.upsert_model(spec)
        for i, (model, report) in enumerate(trained, start=1):
            register_version(
                store,
                settings=settings,
                spec=spec,
                model=model,
                report=report,
                reference_set=REFERENCE_SET,
                rows=ref_rows if i == 1 else None,
                live=(i == demo.live),
                by="demo seed",
                source="demo reference",
                version=i,
                progress=progress,
            )
            quality.append(_quality_row(spec, i, model, report))
        replay(store, demo, frame, split, dict(enumerate((m for m, _ in trained), start=1)), progress=progress)
        faults.point("demo.model_replayed")
    return quality


def _quality_row(spec: ModelSpec, version: int, model: TrainedModel, report: dict) -> dict:
    (test,) = yardstick_rows(spec, report, splits=("test",))
    (validation,) = yardstick_rows(spec, report, splits=("validation",))
    return {
        "model": spec.name,
        "version": version,
        "metric": test.metric,
        "torch": test.ours,
        "hgb": test.theirs,
        "torch_validation": validation.ours,
        "hgb_validation": validation.theirs,
        "within_target": test.within_target,
        "epochs": model.metadata["epochs"],
        "train_seconds": model.metadata["training_seconds"],
        "note": model.arch.note,
    }


DEMO_SCHEDULE = "0 7 * * *"
"""Demo models are monitored every day at 07:00 as well as when data arrives."""


def seed_demo(
    *,
    settings: Settings,
    fresh: bool = False,
    names: list[str] | None = None,
    fraction: float | dict[str, float] = 1.0,
    max_epochs: int | None = None,
    production_days: int | None = None,
    monitor: bool = True,
    progress: Progress = print,
) -> DemoReport:
    """Seed the demo into the configured store; models already present are kept unless `fresh`.

    `fraction` (one number, or one per model name) samples rows for quick, reduced demos in tests.
    """
    if settings.threads:
        use_threads(settings.threads)
    report = DemoReport()
    started = time.perf_counter()
    with Store.at(settings, create=True) as store:
        for name in names or list(DEMO_MODELS):
            demo = DEMO_MODELS[name]
            exists = store.get_spec(name, missing_ok=True) is not None
            if exists and not fresh:
                progress(f"{name}: already in the store, kept (use --fresh to rebuild)")
                continue
            t0 = time.perf_counter()
            progress(f"{name}: {demo.spec.description}")
            share = fraction.get(name, 1.0) if isinstance(fraction, dict) else fraction
            report.quality.extend(
                seed_model(
                    store,
                    demo,
                    settings=settings,
                    fraction=share,
                    max_epochs=max_epochs,
                    production_days=production_days,
                    replace=exists,
                    progress=progress,
                )
            )
            report.steps[name] = round(time.perf_counter() - t0, 1)
            if name not in store.schedules():  # a daily check, so the scheduler has something to show
                store.set_schedule(model=name, cron=DEMO_SCHEDULE, by="demo")
        if monitor:
            t0 = time.perf_counter()
            refresh(store=store, settings=settings, progress=progress)
            report.steps["monitoring"] = round(time.perf_counter() - t0, 1)
    report.seconds = round(time.perf_counter() - started, 1)
    return report
