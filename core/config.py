"""Configuration in one place.

Every setting has an environment variable and a key in the `[modelpulse]` section of
`.streamlit/secrets.toml`; the environment wins, then the file, then the default. Nothing else in
the code reads `os.environ` for ModelPulse settings.

| setting         | env var                    | secrets.toml key | default                                 |
|-----------------|----------------------------|------------------|-----------------------------------------|
| store file      | MODELPULSE_DB              | db               | .modelpulse/modelpulse.duckdb           |
| model files     | MODELPULSE_MODELS_DIR      | models_dir       | <store folder>/models                   |
| demo data       | MODELPULSE_DATA_DIR        | data_dir         | data/ in the repository                 |
| drop folder     | MODELPULSE_INBOX           | inbox            | <store folder>/inbox                    |
| upload limit MB | MODELPULSE_MAX_UPLOAD_MB   | max_upload_mb    | 200                                     |
| app password    | MODELPULSE_PASSWORD        | password         | none (no login asked)                   |
| random seed     | MODELPULSE_SEED            | seed             | 42                                      |
| torch threads   | MODELPULSE_THREADS         | threads          | all cores                               |
| inbox poll s    | MODELPULSE_INBOX_POLL      | inbox_poll       | 10 (0 turns the app's inbox watcher off)|
| earliest date   | MODELPULSE_EARLIEST_DATE   | earliest_date    | 1900-01-01                              |
| latest date     | MODELPULSE_LATEST_DATE     | latest_date      | 2100-12-31                              |
| longest text    | MODELPULSE_MAX_CELL_CHARS  | max_cell_chars   | 1000                                    |
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import date
from pathlib import Path

from core.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRETS = Path(".streamlit") / "secrets.toml"


def _secrets(path: Path) -> dict[str, object]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The settings file {path} is not valid TOML: {exc}.") from exc
    section = data.get("modelpulse", {})
    if not isinstance(section, dict):
        raise ConfigError(f"The [modelpulse] section of {path} must be a table of settings.")
    return section


@dataclass(frozen=True, kw_only=True)
class Limits:
    """What a founder's file may hold; anything beyond is refused with a sentence naming the limit.

    Values outside these limits pass a naive parser but break later steps (a year 1500 falls off
    pandas' calendar, 1e308 overflows a sum of squares, a million-character category ends up in
    every message that names it), so they never reach the store.
    """

    earliest_date: date = date(1900, 1, 1)
    latest_date: date = date(2100, 12, 31)
    max_abs_number: float = 1e15
    max_cell_chars: int = 1000


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Resolved settings; build with :func:`load_settings`."""

    db_path: Path
    models_dir: Path
    data_dir: Path
    inbox_dir: Path
    max_upload_mb: int = 200
    password: str | None = None
    seed: int = 42
    threads: int | None = None
    inbox_poll: int = 10
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def under(cls, db_path: Path | str, *, seed: int = 42, threads: int | None = None) -> Settings:
        """Settings for a store file at `db_path` with its model files and inbox beside it, and the
        shipped demo data (tests and benchmarks)."""
        db_path = Path(db_path)
        return cls(
            db_path=db_path,
            models_dir=db_path.parent / "models",
            inbox_dir=db_path.parent / "inbox",
            data_dir=REPO_ROOT / "data",
            seed=seed,
            threads=threads,
        )

    def with_db(self, db_path: Path | str) -> Settings:
        """Return settings pointing at another store file, with model files and inbox beside it."""
        db_path = Path(db_path)
        return replace(self, db_path=db_path, models_dir=db_path.parent / "models", inbox_dir=db_path.parent / "inbox")


def _int(name: str, raw: object, *, minimum: int) -> int:
    try:
        value = int(str(raw))
    except ValueError as exc:
        raise ConfigError(f"Setting {name} must be a whole number, not {raw!r}.") from exc
    if value < minimum:
        raise ConfigError(f"Setting {name} must be at least {minimum}, not {value}.")
    return value


def _date(name: str, raw: object, default: date) -> date:
    if not raw:
        return default
    try:
        return date.fromisoformat(str(raw))
    except ValueError as exc:
        raise ConfigError(f"Setting {name} must be a date like 2000-01-31, not {raw!r}.") from exc


def load_settings(*, secrets_path: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read settings from the environment, then secrets.toml, then defaults."""
    env = dict(os.environ) if env is None else env
    secrets = _secrets(Path(env.get("MODELPULSE_SECRETS", secrets_path or DEFAULT_SECRETS)))

    def get(key: str, var: str) -> object | None:
        if env.get(var):
            return env[var]
        return secrets.get(key)

    db_path = Path(str(get("db", "MODELPULSE_DB") or Path(".modelpulse") / "modelpulse.duckdb")).expanduser()
    models_dir = get("models_dir", "MODELPULSE_MODELS_DIR")
    inbox = get("inbox", "MODELPULSE_INBOX")
    data_dir = get("data_dir", "MODELPULSE_DATA_DIR")
    threads = get("threads", "MODELPULSE_THREADS")
    password = get("password", "MODELPULSE_PASSWORD")
    earliest = _date("earliest_date", get("earliest_date", "MODELPULSE_EARLIEST_DATE"), Limits.earliest_date)
    latest = _date("latest_date", get("latest_date", "MODELPULSE_LATEST_DATE"), Limits.latest_date)
    if earliest >= latest:
        raise ConfigError(f"Setting earliest_date ({earliest}) must come before latest_date ({latest}).")
    return Settings(
        db_path=db_path,
        models_dir=Path(str(models_dir)).expanduser() if models_dir else db_path.parent / "models",
        inbox_dir=Path(str(inbox)).expanduser() if inbox else db_path.parent / "inbox",
        data_dir=Path(str(data_dir)).expanduser() if data_dir else REPO_ROOT / "data",
        max_upload_mb=_int("max_upload_mb", get("max_upload_mb", "MODELPULSE_MAX_UPLOAD_MB") or 200, minimum=1),
        password=str(password) if password else None,
        seed=_int("seed", get("seed", "MODELPULSE_SEED") or 42, minimum=0),
        threads=_int("threads", threads, minimum=1) if threads else None,
        inbox_poll=_int("inbox_poll", get("inbox_poll", "MODELPULSE_INBOX_POLL") or 10, minimum=0),
        limits=Limits(
            earliest_date=earliest,
            latest_date=latest,
            max_cell_chars=_int(
                "max_cell_chars", get("max_cell_chars", "MODELPULSE_MAX_CELL_CHARS") or 1000, minimum=10
            ),
        ),
    )
