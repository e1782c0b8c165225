"""Configuration in one place.

Every setting has an environment variable and a key in the `[modelpulse]` section of
`.streamlit/secrets.toml`; the environment wins, then the file, then the default. Nothing else in
the code reads `os.environ` for ModelPulse settings.

| setting         | env var                    | secrets.toml key | default                                 |
|-----------------|----------------------------|------------------|-----------------------------------------|
| store file      | MODELPULSE_DB              | db               | .modelpulse/modelpulse.duckdb           |
| shared store    | MODELPULSE_STORE           | store            | none: the file above (ducklake:postgres:..)|
| shared folder   | MODELPULSE_STORE_DATA      | store_data       | none (needed with a shared store)       |
| lake data files | MODELPULSE_LAKE_DATA       | lake_data        | <shared folder>/lake (or s3://bucket/..)|
| model files     | MODELPULSE_MODELS_DIR      | models_dir       | <store folder>/models                   |
| demo data       | MODELPULSE_DATA_DIR        | data_dir         | data/ in the repository                 |
| drop folder     | MODELPULSE_INBOX           | inbox            | <store folder>/inbox                    |
| upload limit MB | MODELPULSE_MAX_UPLOAD_MB   | max_upload_mb    | 200                                     |
| app password    | MODELPULSE_PASSWORD        | password         | none (one shared team password; legacy) |
| sign-in         | MODELPULSE_SIGN_IN         | sign_in          | off, accounts or oidc (see Access)      |
| cookie secret   | MODELPULSE_COOKIE_SECRET   | cookie_secret    | none (needed when sign-in is on)        |
| session hours   | MODELPULSE_SESSION_HOURS   | session_hours    | 168 (a week)                            |
| hash key        | MODELPULSE_HASH_KEY        | hash_key         | none (a key file beside the store)      |
| random seed     | MODELPULSE_SEED            | seed             | 42                                      |
| torch threads   | MODELPULSE_THREADS         | threads          | all cores                               |
| inbox poll s    | MODELPULSE_INBOX_POLL      | inbox_poll       | 10 (0 turns the app's inbox watcher off)|
| monitor memory  | MODELPULSE_MONITOR_MEMORY  | monitor_memory   | 256MB (DuckDB's share in `core monitor`)|
| earliest date   | MODELPULSE_EARLIEST_DATE   | earliest_date    | 1900-01-01                              |
| latest date     | MODELPULSE_LATEST_DATE     | latest_date      | 2100-12-31                              |
| longest text    | MODELPULSE_MAX_CELL_CHARS  | max_cell_chars   | 1000                                    |
| app's base URL  | MODELPULSE_BASE_URL        | base_url         | http://localhost:8501 (links in alerts) |
| time zone       | MODELPULSE_TIMEZONE        | timezone         | UTC (schedules and the digest)          |
| scheduler       | MODELPULSE_SCHEDULER       | scheduler        | app (runs inside the app; off: none)    |
| delivery poll s | MODELPULSE_DELIVERY_POLL   | delivery_poll    | 15                                      |
| send attempts   | MODELPULSE_MAX_ATTEMPTS    | max_attempts     | 6 (then the message is given up)        |
| first retry s   | MODELPULSE_RETRY_SECONDS   | retry_seconds    | 30 (doubles after each failure)         |
| weekly digest   | MODELPULSE_DIGEST_CRON     | digest_cron      | 0 8 * * mon (crontab, in the time zone) |

A shared store's data files on S3-compatible object storage are reached with the `[modelpulse.s3]` table
(endpoint, region, key_id, secret, url_style = "path" | "vhost"; each also `MODELPULSE_S3_<KEY>`); without
key_id, DuckDB's credential chain (environment, instance role) is used.

Email goes out through the `[modelpulse.smtp]` table (host, port, security = "starttls" | "tls" |
"none", username, password, sender, ca_file; each also `MODELPULSE_SMTP_<KEY>`), and channels written in the
file as `[[modelpulse.channels]]` tables (name, kind = "email" | "webhook", to, format, min_severity,
send_resolved, digest) sit beside the ones people add on the Settings page.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import date
from pathlib import Path

from core.delivery_config import CHANNEL_FORMATS  # noqa: F401 - re-exported: settings are imported from here
from core.delivery_config import SEVERITIES  # noqa: F401
from core.delivery_config import Channel  # noqa: F401
from core.delivery_config import Delivery
from core.delivery_config import Smtp  # noqa: F401
from core.delivery_config import delivery_settings
from core.delivery_config import make_channel  # noqa: F401
from core.delivery_config import whole_number as _int
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
    # Streamlit's own [auth] section (an OIDC provider for st.login) turns OIDC sign-in on by default
    return {"_oidc_configured": isinstance(data.get("auth"), dict), **section}


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


SIGN_IN_MODES = ("off", "accounts", "oidc")


@dataclass(frozen=True, kw_only=True)
class Access:
    """Who may use the app: sign-in mode, the cookie secret, session length, and OIDC role mapping.

    `sign_in = "accounts"` uses ModelPulse's own accounts (`python -m core users ...`); `"oidc"` uses
    Streamlit's `st.login` with the `[auth]` provider of secrets.toml, mapping an email to a role by
    the `admins`, `editors` and `viewers` lists (an entry `@startup.com` matches a whole domain).
    """

    sign_in: str = "off"
    cookie_secret: str | None = field(default=None, repr=False)
    session_hours: int = 168
    admins: tuple[str, ...] = ()
    editors: tuple[str, ...] = ()
    viewers: tuple[str, ...] = ()
    default_role: str | None = None
    """The role of an OIDC user no list names; None refuses them."""


LAKE_PREFIX = "ducklake:"


@dataclass(frozen=True, kw_only=True)
class ObjectStorage:
    """How a shared store reaches S3-compatible object storage for its data files (DuckDB's httpfs)."""

    endpoint: str | None = None
    """host[:port] of an S3-compatible service (MinIO, Ceph, R2...); None: AWS S3 itself."""
    region: str | None = None
    key_id: str | None = None
    secret: str | None = field(default=None, repr=False)
    url_style: str = "vhost"
    use_ssl: bool = True


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Resolved settings; build with :func:`load_settings`."""

    db_path: Path
    """The store file; for a shared store, the local path of its data folder (what the rest sits beside)."""
    store: str = field(default="", repr=False)  # an address may carry a password
    """Where the store is: the file's path, or a shared DuckLake address (``ducklake:postgres:...``)."""
    lake_data: str = ""
    """Where a new shared store puts its data files: a folder every machine reaches, or ``s3://bucket/prefix/``;
    empty: the `lake` folder of the shared folder (`db_path`)."""
    s3: ObjectStorage | None = None
    models_dir: Path
    data_dir: Path
    inbox_dir: Path
    max_upload_mb: int = 200
    password: str | None = field(default=None, repr=False)
    access: Access = field(default_factory=lambda: Access())
    hash_key: str | None = field(default=None, repr=False)
    """The key personal-data columns are hashed with; None: a random key kept in a file beside the store."""
    seed: int = 42
    threads: int | None = None
    inbox_poll: int = 10
    monitor_memory: str = "256MB"
    """DuckDB's memory in a process that only monitors (`python -m core monitor`, its workers)."""
    limits: Limits = field(default_factory=Limits)
    delivery: Delivery = field(default_factory=Delivery)

    def __post_init__(self) -> None:
        if not self.store:
            object.__setattr__(self, "store", str(self.db_path))

    @property
    def shared(self) -> bool:
        """Whether the store is a DuckLake catalog several processes write at once."""
        return self.store.startswith(LAKE_PREFIX)

    @property
    def home(self) -> Path:
        """The folder model files, the inbox and the hash key sit in by default: the store file's folder, or a
        shared store's shared folder."""
        return self.db_path.parent

    @classmethod
    def shared_under(
        cls,
        store: str,
        data: Path | str,
        *,
        seed: int = 42,
        threads: int | None = None,
        lake_data: str = "",
        s3: ObjectStorage | None = None,
    ) -> Settings:
        """Settings for a shared store at `store` with its data files (unless `lake_data` puts them elsewhere, such
        as object storage reached through `s3`), model files and inbox under `data`."""
        data = Path(data)
        return cls(
            db_path=data / "lake",
            store=store,
            lake_data=lake_data,
            s3=s3,
            models_dir=data / "models",
            inbox_dir=data / "inbox",
            data_dir=REPO_ROOT / "data",
            seed=seed,
            threads=threads,
        )

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
        return replace(
            self,
            db_path=db_path,
            store=str(db_path),
            models_dir=db_path.parent / "models",
            inbox_dir=db_path.parent / "inbox",
        )


def _object_storage(secrets: dict[str, object], env: dict[str, str]) -> ObjectStorage | None:
    """The `[modelpulse.s3]` table (each key also MODELPULSE_S3_<KEY>), or None when nothing is set."""
    raw = secrets.get("s3", {})
    if not isinstance(raw, dict):
        raise ConfigError("The [modelpulse.s3] section of secrets.toml must be a table of settings.")
    keys = ("endpoint", "region", "key_id", "secret", "url_style")
    got = {k: env.get(f"MODELPULSE_S3_{k.upper()}") or raw.get(k) for k in keys}
    if not any(got.values()):
        return None
    endpoint = str(got["endpoint"] or "") or None
    use_ssl = True
    if endpoint and "://" in endpoint:
        scheme, endpoint = endpoint.split("://", 1)
        use_ssl = scheme.lower() == "https"
    style = str(got["url_style"] or ("path" if endpoint else "vhost"))
    if style not in ("path", "vhost"):
        raise ConfigError(f"Setting s3 url_style must be path or vhost, not {style!r}.")
    if bool(got["key_id"]) != bool(got["secret"]):
        raise ConfigError("Settings s3 key_id and secret go together: give both, or neither (the credential chain).")
    return ObjectStorage(
        endpoint=endpoint.rstrip("/") if endpoint else None,
        region=str(got["region"]) if got["region"] else None,
        key_id=str(got["key_id"]) if got["key_id"] else None,
        secret=str(got["secret"]) if got["secret"] else None,
        url_style=style,
        use_ssl=use_ssl,
    )


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
    store = str(get("store", "MODELPULSE_STORE") or "").strip()
    lake_data = ""
    if store.startswith(LAKE_PREFIX):
        shared = get("store_data", "MODELPULSE_STORE_DATA")
        if not shared:
            raise ConfigError(
                "A shared store (MODELPULSE_STORE) needs MODELPULSE_STORE_DATA: the folder every machine running "
                "ModelPulse reaches, where its data files, model files and inbox live."
            )
        db_path = Path(str(shared)).expanduser() / "lake"
        lake_data = str(get("lake_data", "MODELPULSE_LAKE_DATA") or "")
    elif store:
        db_path, store = Path(store).expanduser(), ""
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
        delivery=delivery_settings(get, secrets, env),
        access=_access(get, secrets),
        hash_key=str(get("hash_key", "MODELPULSE_HASH_KEY")) if get("hash_key", "MODELPULSE_HASH_KEY") else None,
        db_path=db_path,
        store=store if store.startswith(LAKE_PREFIX) else "",
        lake_data=lake_data,
        s3=_object_storage(secrets, env),
        models_dir=Path(str(models_dir)).expanduser() if models_dir else db_path.parent / "models",
        inbox_dir=Path(str(inbox)).expanduser() if inbox else db_path.parent / "inbox",
        data_dir=Path(str(data_dir)).expanduser() if data_dir else REPO_ROOT / "data",
        max_upload_mb=_int("max_upload_mb", get("max_upload_mb", "MODELPULSE_MAX_UPLOAD_MB") or 200, minimum=1),
        password=str(password) if password else None,
        seed=_int("seed", get("seed", "MODELPULSE_SEED") or 42, minimum=0),
        threads=_int("threads", threads, minimum=1) if threads else None,
        inbox_poll=_int("inbox_poll", get("inbox_poll", "MODELPULSE_INBOX_POLL") or 10, minimum=0),
        monitor_memory=_memory(get("monitor_memory", "MODELPULSE_MONITOR_MEMORY") or "256MB"),
        limits=Limits(
            earliest_date=earliest,
            latest_date=latest,
            max_cell_chars=_int(
                "max_cell_chars", get("max_cell_chars", "MODELPULSE_MAX_CELL_CHARS") or 1000, minimum=10
            ),
        ),
    )


MEMORY_TEXT = re.compile(r"\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)", re.IGNORECASE)
"""How a DuckDB memory limit is written (MODELPULSE_MONITOR_MEMORY, `Connection.limit_memory`)."""


def _memory(value: object) -> str:
    text = str(value).strip()
    if not MEMORY_TEXT.fullmatch(text):
        raise ConfigError(f"Setting monitor_memory must look like 256MB or 1GB; got {text!r}.")
    return text


def _access(get, secrets: dict[str, object]) -> Access:
    """Sign-in settings; a mode that needs a secret without one is refused with a sentence."""
    mode = str(get("sign_in", "MODELPULSE_SIGN_IN") or ("oidc" if secrets.get("_oidc_configured") else "off"))
    if mode not in SIGN_IN_MODES:
        raise ConfigError(f"Setting sign_in must be off, accounts or oidc, not {mode!r}.")
    secret = get("cookie_secret", "MODELPULSE_COOKIE_SECRET")
    if mode == "accounts" and (not secret or len(str(secret)) < 16):
        raise ConfigError(
            "Sign-in with accounts needs a cookie_secret of at least 16 characters in secrets.toml "
            "(or MODELPULSE_COOKIE_SECRET); make one with `python -c 'import secrets; print(secrets.token_hex(32))'`."
        )
    roles = secrets.get("roles", {})
    if not isinstance(roles, dict):
        raise ConfigError("The [modelpulse.roles] section of secrets.toml must be a table of lists.")

    def names(key: str) -> tuple[str, ...]:
        value = roles.get(key, [])
        if not isinstance(value, list):
            raise ConfigError(f"roles.{key} in secrets.toml must be a list of emails or @domains.")
        return tuple(str(v).strip().lower() for v in value if str(v).strip())

    default = roles.get("default")
    if default is not None and default not in ("viewer", "editor", "admin"):
        raise ConfigError(f"roles.default must be viewer, editor or admin, not {default!r}.")
    return Access(
        sign_in=mode,
        cookie_secret=str(secret) if secret else None,
        session_hours=_int("session_hours", get("session_hours", "MODELPULSE_SESSION_HOURS") or 168, minimum=1),
        admins=names("admins"),
        editors=names("editors"),
        viewers=names("viewers"),
        default_role=default,
    )
