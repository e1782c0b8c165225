"""`python -m core`: seed the demo, train, score, monitor and inspect the store from the shell.

Every command prints one plain sentence and exits 1 on a problem the user can fix; anything else
is a bug and shows its traceback.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from core.cli_common import _say
from core.cli_common import _settings
from core.cli_common import friendly
from core.cli_common import pd_ts
from core.cli_common import where
from core.config import Settings
from core.errors import ModelPulseError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    help="ModelPulse: is the model behind the business healthy?",
)


def _read(path: Path, settings: Settings):
    """A file named on the command line, through the same reader and checks as an upload."""
    from core.intake.files import read_table

    if not path.is_file():
        raise ModelPulseError(f"The file {path} does not exist.")
    frame = read_table(path, name=path.name, max_mb=settings.max_upload_mb)
    if frame.attrs.get("read_as"):
        _say(frame.attrs["read_as"])  # how the file was read (separator, encoding, amounts), as the upload says
    return frame


@app.command()
@friendly
def demo(
    fresh: Annotated[bool, typer.Option(help="Rebuild the demo models even if they are already stored.")] = False,
    if_missing: Annotated[bool, typer.Option(help="Do nothing when the store file already exists.")] = False,
    models: Annotated[str, typer.Option(help="Comma-separated demo models to seed.")] = "churn,hotel,flights",
    fraction: Annotated[float, typer.Option(min=0.01, max=1.0, help="Share of rows to use (for quick tries).")] = 1.0,
    max_epochs: Annotated[int | None, typer.Option(help="Cap training epochs (for quick tries).")] = None,
    monitor: Annotated[bool, typer.Option(help="Run monitoring after seeding.")] = True,
) -> None:
    """Seed the embedded demo: real data, two PyTorch versions per model, a replayed production year."""
    from core.demo.datasets import DEMO_MODELS
    from core.demo.seed import seed_demo
    from core.store import Store

    settings = _settings()
    if if_missing and Store.exists(settings.store):
        _say(
            f"Store found at {where(settings)}; the demo is already seeded "
            "(run `python -m core demo --fresh` to rebuild)."
        )
        return
    names = [n.strip() for n in models.split(",") if n.strip()]
    unknown = [n for n in names if n not in DEMO_MODELS]
    if unknown:
        raise ModelPulseError(f"Unknown demo model {', '.join(unknown)}; choose from {', '.join(DEMO_MODELS)}.")
    _say(f"Seeding the demo into {where(settings)} ...")
    report = seed_demo(
        settings=settings,
        fresh=fresh,
        names=names,
        fraction=fraction,
        max_epochs=max_epochs,
        monitor=monitor,
        progress=_say,
    )
    for row in report.quality:
        _say(
            f"  {row['model']} v{row['version']}: test {row['metric']} {row['torch']:.4f} "
            f"(HistGradientBoosting {row['hgb']:.4f}) {'ok' if row['within_target'] else 'OUTSIDE TARGET'}"
        )
    _say(f"Demo ready in {report.seconds:.0f}s. Start the app with `make run`.")


@app.command()
@friendly
def train(
    model: Annotated[str, typer.Option(help="Model to train a new version of.")],
    data: Annotated[Path | None, typer.Option(help="CSV or Parquet with features, target and timestamp.")] = None,
    like: Annotated[
        int | None, typer.Option(help="Copy the architecture of this version (default: the live one).")
    ] = None,
    live: Annotated[bool, typer.Option(help="Make the new version live straight away.")] = False,
    max_epochs: Annotated[int | None, typer.Option(help="Cap training epochs.")] = None,
) -> None:
    """Train a new version of a model; it shadow-scores all stored traffic so it can be compared."""
    from core.demo.datasets import DEMO_MODELS
    from core.metrics import PRIMARY
    from core.modeling.versions import stored_training_frame
    from core.modeling.versions import time_split
    from core.modeling.versions import train_new_version
    from core.schema import ArchConfig
    from core.store import Store

    settings = _settings()
    with Store.at(settings, verify=True) as store:
        spec = store.get_spec(model)
        base = store.get_version(model, like) if like else store.live_version(model)
        arch = ArchConfig.model_validate(base.metadata["arch"]) if base and "arch" in base.metadata else ArchConfig()
        if max_epochs:
            arch = arch.model_copy(update={"max_epochs": max_epochs})
        if data is not None:
            frame = _read(data, settings)
            split = time_split(frame, timestamp=spec.timestamp)
        elif model in DEMO_MODELS:
            demo = DEMO_MODELS[model]
            frame = demo.load(settings.data_dir)
            split = demo.split(frame).replace({"production": "test"})
        elif spec.source == "external":
            raise ModelPulseError(
                f"`{model}` makes its predictions outside ModelPulse, so there is no ModelPulse network to retrain. "
                "To train one beside it, create a new model from a file on the upload page."
            )
        else:
            frame = stored_training_frame(store, spec)
            split = time_split(frame, timestamp=spec.timestamp)
            _say(f"Training on the {len(frame):,} stored cases of {spec.title} whose outcome is known.")
        started = time.perf_counter()
        version, extra = train_new_version(
            store=store,
            settings=settings,
            name=model,
            frame=frame,
            split=split,
            arch=arch,
            live=live,
            by="cli",
            progress=_say,
        )
        key = PRIMARY[spec.task]
        val = extra["metrics"]["validation"][key]
        _say(
            f"Saved {model} v{version} in {time.perf_counter() - started:.0f}s: validation {key} {val:.4f} "
            f"(HistGradientBoosting {extra['baseline']['validation'][key]:.4f})."
        )
        from core.progress import quiet
        from core.refresh import refresh

        summary = refresh(store=store, settings=settings, models=[model], progress=quiet)
        _say(
            f"Monitoring: {summary.computed.get(model, 0)} windows computed, so the versions can be compared "
            f"at once (Compare versions, or `python -m core monitor`)."
        )


@app.command()
@friendly
def score(
    model: Annotated[str, typer.Option(help="Model whose versions score the file.")],
    data: Annotated[Path, typer.Option(help="CSV or Parquet of production rows (features, id, timestamp).")],
) -> None:
    """Score a file of production rows with the live version (other versions shadow-score) and store it all.

    Same checks as `ingest`; this name is kept for people who think of it as scoring.
    """
    from core.intake.traffic import log_predictions
    from core.store import Store

    settings = _settings()
    frame = _read(data, settings)
    with Store.at(settings, verify=True) as store:
        result = log_predictions(model=model, frame=frame, store=store, settings=settings, source=data.name, by="cli")
        versions = [v.version for v in store.list_versions(model) if v.weights_path]
        live = store.live_version(model)
        _say(
            f"{result.message} Scored by v{live.version if live else '?'} (live) and "
            f"{len(versions) - 1} shadow version(s)."
        )


@app.command()
@friendly
def ingest(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file.")],
    model: Annotated[str, typer.Option(help="The model the rows belong to.")],
    labels: Annotated[
        bool, typer.Option("--labels", help="The file holds outcomes (id + target), not predictions.")
    ] = False,
    monitor: Annotated[bool, typer.Option(help="Run monitoring for the model afterwards.")] = True,
    batch_id: Annotated[
        str | None, typer.Option(help="Your id for this batch: sending it again (a retry) stores it once.")
    ] = None,
) -> None:
    """Store production rows (or, with --labels, outcomes) for a model, with the upload page's checks."""
    from core.intake.traffic import log_labels
    from core.intake.traffic import log_predictions
    from core.store import Store

    settings = _settings()
    frame = _read(file, settings)
    with Store.at(settings, verify=True) as store:
        fn = log_labels if labels else log_predictions
        result = fn(
            model=model, frame=frame, store=store, settings=settings, source=file.name, by="cli", batch_id=batch_id
        )
        _say(result.message)
        if monitor:
            from core.progress import quiet
            from core.refresh import refresh

            summary = refresh(store=store, settings=settings, models=[model], progress=quiet)
            a = summary.alerts.get(model, {})
            _say(f"Monitoring: {summary.computed.get(model, 0)} windows computed; {a.get('open', 0)} open alerts.")


@app.command()
@friendly
def monitor(
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
    fresh: Annotated[bool, typer.Option(help="Forget computed windows and recompute everything.")] = False,
    workers: Annotated[
        int | None, typer.Option(help="Fan the windows out over this many local processes (a shared store).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Fan the windows out over the Dask cluster at this address (tcp://host:8786).")
    ] = None,
    claim_seconds: Annotated[
        float, typer.Option(help="How long a worker's claim on a window lasts (a dead worker's expires).")
    ] = 600.0,
) -> None:
    """Compute monitoring for windows that are new or whose labels changed, then update alerts."""
    from core.refresh import refresh
    from core.store import Store

    settings = _settings()
    with Store.at(settings, verify=True) as store:
        store.limit_memory(settings.monitor_memory)  # a monitoring process reads bounded windows
        names = [model] if model else [s.name for s in store.list_specs()]
        for name in names:
            store.get_spec(name)
            if fresh:
                store.clear_monitoring(model=name)
        summary = refresh(
            store=store,
            settings=settings,
            models=names,
            progress=_say,
            workers=workers,
            scheduler=scheduler,
            claim_seconds=claim_seconds,
        )
        for name in names:
            a = summary.alerts.get(name, {})
            _say(
                f"{name:<10} {summary.computed.get(name, 0)} windows computed, {summary.up_to_date.get(name, 0)} "
                f"already up to date; {a.get('open', 0)} open alerts "
                f"({a.get('opened', 0)} new, {a.get('reopened', 0)} reopened, {a.get('resolved', 0)} resolved)"
            )
        _say(f"Monitoring took {summary.seconds:.1f}s.")


@app.command()
@friendly
def importance(
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
    version: Annotated[int | None, typer.Option(help="Only this version of --model.")] = None,
) -> None:
    """Measure which inputs drive each version's answers (permutation importance) and store it.

    Versions are measured when they are registered; this (re)measures stored ones, e.g. from before.
    """
    from core.modeling.importance import record_importance
    from core.modeling.versions import loadable_versions
    from core.store import Store

    if version is not None and model is None:
        raise ModelPulseError("Name the model too: `python -m core importance --model NAME --version N`.")
    settings = _settings()
    with Store.at(settings, verify=True) as store:
        names = [model] if model else [s.name for s in store.list_specs()]
        for name in names:
            spec = store.get_spec(name)
            models, problems = loadable_versions(store, name)
            if version is not None and version not in models:
                why = problems[version].user_message if version in problems else "it has no ModelPulse network"
                raise ModelPulseError(f"v{version} of `{name}` cannot be measured: {why}")
            if not models:
                _say(f"{name}: no version with a ModelPulse network to measure (its answers come from outside).")
            for v in [version] if version is not None else sorted(models):
                try:
                    record_importance(store, spec=spec, model=models[v], version=v, seed=settings.seed, progress=_say)
                except ModelPulseError as exc:
                    if version is not None:
                        raise
                    _say(f"  {name} v{v}: not measured. {exc.user_message}")
            if version is None:
                for v, exc in sorted(problems.items()):
                    _say(f"  {name} v{v}: not measured. {exc.user_message}")


batches_app = typer.Typer(
    add_completion=False,
    invoke_without_command=True,
    help="List a model's imports, or take one back: `batches --model M`, `batches remove ID`.",
)
app.add_typer(batches_app, name="batches")


@batches_app.callback()
@friendly
def batches(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option(help="The model whose imports to list.")] = None,
) -> None:
    """List a model's imports, newest first: id, when, what, source file, rows, who, and any removal."""
    if ctx.invoked_subcommand is not None:
        return
    from core.intake.batches import list_batches
    from core.store import Store

    if not model:
        raise ModelPulseError("Name the model: `python -m core batches --model NAME`.")
    with Store.at(_settings(), read_only=True) as store:
        frame = list_batches(store, model=model)
    if frame.empty:
        _say(f"Model `{model}` has no imports yet.")
        return
    for b in frame.to_dict("records"):
        removed = f"  REMOVED {b['removed']}" if b["removed"] else ""
        _say(
            f"{b['id']}  {pd_ts(b['when'])}  {b['what']:<12} {b['rows']:>9,} rows  "
            f"{b['source'] or '-'}  by {b['by']}{removed}"
        )


@batches_app.command("remove")
@friendly
def remove_batch(
    batch_id: Annotated[str, typer.Argument(help="The batch id (from `batches --model M`).")],
    by: Annotated[str, typer.Option(help="Who is taking it back (recorded).")] = "cli",
) -> None:
    """Take one import back: its rows, every version's predictions on them and their outcomes, in one go."""
    from core.intake.batches import remove_batch as remove
    from core.store import Store

    settings = _settings()
    with Store.at(settings, verify=True) as store:
        _say(remove(store, batch_id=batch_id, by=by, settings=settings).message)


from core.cli_access import register as register_access  # noqa: E402 - after `app` and its commands
from core.cli_delivery import register  # noqa: E402
from core.cli_upkeep import register as register_upkeep  # noqa: E402

register(app)
register_access(app)
register_upkeep(app)


def main() -> None:
    """Entry point for `python -m core`."""
    app(prog_name="python -m core")


if __name__ == "__main__":
    sys.exit(main())
