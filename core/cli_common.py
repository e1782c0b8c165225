"""What every `python -m core` command shares: one line out, a ModelPulseError as one line and exit 1,
the settings, and how a stored time is printed. The command modules import this, never each other."""

from __future__ import annotations

import functools
from collections.abc import Callable

import typer

from core.config import Settings
from core.config import load_settings
from core.errors import ModelPulseError


def _say(message: str) -> None:
    print(message, flush=True)


def friendly(fn: Callable) -> Callable:
    """Turn a ModelPulseError into one line on stderr and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ModelPulseError as exc:
            typer.secho(f"Error: {exc.user_message}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=1) from None

    return wrapper


def _settings() -> Settings:
    return load_settings()


def pd_ts(value: object) -> str:
    """A stored time as `2024-03-01 10:15`."""
    import pandas as pd

    return f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"


def where(settings: Settings) -> str:
    """The configured store as a message names it: its file, or its shared address without a password."""
    from core.store.lake import display

    return display(settings.store)
