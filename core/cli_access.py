"""`python -m core users ...`: built-in accounts for self-hosting without an identity provider."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from core.cli_common import _say
from core.cli_common import _settings
from core.cli_common import friendly

users_app = typer.Typer(
    add_completion=False,
    invoke_without_command=True,
    help="List, add or remove accounts, change roles, reset passwords.",
)


def register(app: typer.Typer) -> None:
    """Add the `users` and `delete` commands to the main CLI."""
    app.add_typer(users_app, name="users")
    app.command()(delete)
    app.command()(retention)


def _password(stdin: bool) -> str:
    """A password from standard input (scripts) or asked twice without echo (people); never an argument."""
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _store():
    from core.store import Store

    settings = _settings()
    if not Store.exists(settings.store):
        return Store.at(settings, create=True)
    return Store.at(settings, verify=True)


def _manage(by: str, change, *, detail: str) -> str:
    """Make an accounts change as the person at the shell, through the role gate and its audit line."""
    from core.access import act
    from core.access import cli

    with _store() as store:
        return act(store, cli(by), "people.manage", lambda: change(store), detail=detail)


@users_app.callback()
@friendly
def users(ctx: typer.Context) -> None:
    """List the accounts: email, name, role, since when."""
    if ctx.invoked_subcommand is not None:
        return
    with _store() as store:
        frame = store.people.list_users()
    for u in frame.to_dict("records"):
        _say(f"{u['email']:<32} {u['role']:<7} {u['name']}  (since {u['created_at']:%Y-%m-%d}, by {u['created_by']})")
    if frame.empty:
        _say("No accounts yet: `python -m core users add you@company.com --role admin`.")


@users_app.command("add")
@friendly
def add(
    email: Annotated[str, typer.Argument(help="Their email: the account's name.")],
    role: Annotated[str, typer.Option(help="viewer, editor or admin.")] = "viewer",
    name: Annotated[str | None, typer.Option(help="How pages name them.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    by: Annotated[str, typer.Option(help="Who is adding them (recorded).")] = "cli",
) -> None:
    """Add an account (the password is asked, never given on the command line)."""
    from core.access import add_user

    password = _password(password_stdin)
    add = lambda store: add_user(store, email=email, password=password, role=role, name=name, by=by)  # noqa: E731
    _say(_manage(by, add, detail=f"added {email} as {role}"))


@users_app.command("remove")
@friendly
def remove(
    email: Annotated[str, typer.Argument(help="The account's email.")],
    by: Annotated[str, typer.Option(help="Who is removing them (recorded).")] = "cli",
) -> None:
    """Remove an account and end its sessions."""
    from core.access import remove_user

    _say(_manage(by, lambda store: remove_user(store, email=email), detail=f"removed {email}"))


@users_app.command("set-role")
@friendly
def set_role_command(
    email: Annotated[str, typer.Argument(help="The account's email.")],
    role: Annotated[str, typer.Argument(help="viewer, editor or admin.")],
    by: Annotated[str, typer.Option(help="Who is changing it (recorded).")] = "cli",
) -> None:
    """Change what an account may do."""
    from core.access import set_role

    _say(_manage(by, lambda store: set_role(store, email=email, role=role, by=by), detail=f"{email}: role {role}"))


@users_app.command("reset-password")
@friendly
def reset(
    email: Annotated[str, typer.Argument(help="The account's email.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    by: Annotated[str, typer.Option(help="Who is resetting it (recorded).")] = "cli",
) -> None:
    """Give an account a new password (its sessions end)."""
    from core.access import reset_password

    password = _password(password_stdin)
    reset = lambda store: reset_password(store, email=email, password=password, by=by)  # noqa: E731
    _say(_manage(by, reset, detail=f"{email}: new password"))


@friendly
def delete(
    model: Annotated[str, typer.Argument(help="The model to delete for good.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: rows, outcomes, results, alerts and files go.")] = False,
    by: Annotated[str, typer.Option(help="Who is deleting it (recorded).")] = "cli",
) -> None:
    """Delete a model for good: its rows, outcomes, versions, results, alerts, messages and model files."""
    import shutil

    from core.access import act
    from core.access import cli
    from core.errors import ModelPulseError

    if not yes:
        raise ModelPulseError(f"This deletes {model} and everything stored for it; add --yes to confirm.")
    settings = _settings()
    with _store() as store:
        store.get_spec(model)
        files = settings.models_dir / model
        act(store, cli(by), "model.delete", lambda: store.delete_model(model), model=model, detail="deleted for good")
    if files.is_dir():
        shutil.rmtree(files)
    _say(f"{model} is deleted: its rows, outcomes, results, alerts and model files ({files}) are gone.")


@friendly
def retention(
    model: Annotated[str, typer.Argument(help="The model.")],
    days: Annotated[int, typer.Option(help="Keep rows and outcomes this many days; 0 keeps everything.")],
    by: Annotated[str, typer.Option(help="Who is changing it (recorded).")] = "cli",
) -> None:
    """Keep a model's rows and outcomes N days; older ones are deleted at the next monitoring run (its
    monitoring results, daily numbers and alerts are kept)."""
    from core.access import act
    from core.access import cli
    from core.errors import ModelPulseError
    from core.progress import quiet
    from core.refresh import refresh

    if days < 0:
        raise ModelPulseError("--days is a number of days, 0 or more.")
    settings = _settings()
    with _store() as store:
        store.get_spec(model)
        act(
            store,
            cli(by),
            "model.retention",
            lambda: store.retention.set_retention(model=model, days=days or None, by=by),
            model=model,
            detail=f"keep {days} days" if days else "keep everything",
        )
        summary = refresh(store=store, settings=settings, models=[model], progress=quiet)
    rows, outcomes = summary.purged.get(model, (0, 0))
    kept = f"{model} keeps {days} days of rows and outcomes" if days else f"{model} keeps everything"
    _say(f"{kept}; {rows:,} rows and {outcomes:,} outcomes deleted now (monitoring results kept).")
