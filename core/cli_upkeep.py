"""The reading and upkeep commands: `status`, `alerts`, `check`, `report`, `backup`, `restore`, `migrate`,
`compact`.

The reading ones open the store read-only; when the running app (or `watch`) holds it, they are answered
by that process through its local endpoint instead (see core.upkeep.endpoint), so they work beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core.cli_common import _say
from core.cli_common import _settings
from core.cli_common import friendly
from core.errors import StoreLockedError


def answer(command: str, **args: object) -> None:
    """Answer a reading command here, or through the process that holds the store; exit 1 when it failed."""
    from core.store import Store
    from core.upkeep.answers import ANSWERS
    from core.upkeep.endpoint import ask

    settings = _settings()
    try:
        with Store.at(settings, read_only=True) as store:
            result = ANSWERS[command](store, settings, **args)
    except StoreLockedError:
        result = ask(settings.db_path, command, args)
        if result is None:
            raise
    for line in result.lines:
        _say(line)
    if not result.ok:
        raise typer.Exit(code=1)


@friendly
def status() -> None:
    """Per model: versions, which is live, rows stored, label coverage and date range."""
    answer("status")


@friendly
def alerts(
    state: Annotated[str | None, typer.Option(help="open, acknowledged or resolved.")] = None,
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
    severity: Annotated[str | None, typer.Option(help="critical or warning.")] = None,
) -> None:
    """List alerts with their plain-English explanation."""
    from core.upkeep.answers import check_state

    check_state(state)  # before the store is opened: a wrong word is said first
    answer("alerts", state=state, model=model, severity=severity)


@friendly
def check() -> None:
    """Read every table in full, check every model file's checksum and every version; exit 1 on damage."""
    answer("check")


@friendly
def report(
    model: Annotated[str, typer.Option(help="The model to report on.")],
    out: Annotated[Path, typer.Option(help="File to write (.pdf for a PDF, else HTML), or a folder.")] = Path("."),
    period: Annotated[str, typer.Option(help="month or week.")] = "month",
) -> None:
    """Write a model's board report as a PDF (when --out ends in .pdf) or one self-contained HTML file."""
    answer("report", model=model, out=str(out.expanduser().resolve()), period=period)


@friendly
def backup(
    path: Annotated[Path, typer.Argument(help="A new (or empty) folder for the backup.")],
) -> None:
    """Write a consistent backup (store, model files, manifest), also while the app is running."""
    answer("backup", dest=str(path.expanduser().resolve()))


@friendly
def migrate(
    to: Annotated[
        str, typer.Option("--to", help="The empty store to copy into: a file path, or ducklake:postgres:...")
    ],
    data: Annotated[
        Path | None, typer.Option("--data", help="With a shared target: its shared folder (data and model files).")
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option("--from", help="Copy this store file (a backup's, say) instead of the configured one."),
    ] = None,
    lake_data: Annotated[
        str | None,
        typer.Option("--lake-data", help="With a shared target: where its data files go (a folder or s3://bucket/x/)."),
    ] = None,
) -> None:
    """Copy the whole store into another backend (a file into a shared DuckLake store, or back), verified."""
    from core.upkeep.migrate import migrate_store

    done = migrate_store(
        _settings(), to=to, data=data, lake_data=lake_data, source=str(source) if source else None, progress=_say
    )
    _say(done.message)


@friendly
def compact(
    keep_days: Annotated[
        float, typer.Option(help="Days of time travel to keep (older snapshots are forgotten).")
    ] = 7.0,
) -> None:
    """Merge a shared store's small data files and delete the ones nothing refers to (the scheduler does it daily)."""
    from core.store import Store

    with Store.at(_settings()) as store:
        if not store.shared:
            _say(f"{store.where} is a DuckDB file: it keeps its own blocks tidy, so there is nothing to compact.")
            return
        done = store.compact(keep_days=keep_days)
    _say(
        f"Data files: {done['files_before']:,} ({done['bytes_before'] / 1e6:,.1f} MB) before, {done['files_after']:,} "
        f"({done['bytes_after'] / 1e6:,.1f} MB) after; {done['snapshots_expired']:,} snapshots older than "
        f"{keep_days:g} days forgotten, {done['files_deleted']:,} unreferenced files deleted."
    )


@friendly
def restore(
    path: Annotated[Path, typer.Argument(help="A backup folder written by `backup`.")],
) -> None:
    """Check a backup whole, then bring it back as the store (the replaced store is kept beside it)."""
    from core.upkeep.backup import restore_store

    _say(restore_store(path, settings=_settings()).message)


def register(app: typer.Typer) -> None:
    """Add these commands to the `python -m core` app."""
    for fn in (status, alerts, check, report, backup, restore, migrate, compact):
        app.command(name=fn.__name__)(fn)
