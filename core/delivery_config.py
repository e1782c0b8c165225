"""How alerts reach people, as settings: channels written in secrets.toml, the mail server, and when and how
often messages are sent. Read by :func:`core.config.load_settings` (the one place settings are read), which
re-exports these names."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from core.errors import ConfigError

SEVERITIES = ("warning", "critical")
"""Alert severities, least urgent first."""

CHANNEL_FORMATS = {"email": ("email",), "webhook": ("slack", "teams", "json")}
"""The formats each channel kind can speak; the first is its default."""


def whole_number(name: str, raw: object, *, minimum: int) -> int:
    """A whole-number setting, or ConfigError naming it."""
    try:
        value = int(str(raw))
    except ValueError as exc:
        raise ConfigError(f"Setting {name} must be a whole number, not {raw!r}.") from exc
    if value < minimum:
        raise ConfigError(f"Setting {name} must be at least {minimum}, not {value}.")
    return value


@dataclass(frozen=True, kw_only=True)
class Channel:
    """Where alert messages go: email addresses or one webhook URL, and which messages it wants."""

    id: str
    name: str
    kind: str
    target: str
    """Comma-separated email addresses, or the webhook URL (a secret: shown only as its host)."""
    format: str
    min_severity: str = "warning"
    send_resolved: bool = True
    digest: bool = True
    enabled: bool = True
    source: str = "settings"
    """`settings` (added on the Settings page, editable there) or `secrets` (from secrets.toml)."""

    @property
    def recipients(self) -> list[str]:
        """Each address of an email channel, or the one webhook URL."""
        if self.kind == "email":
            return [a.strip() for a in self.target.split(",") if a.strip()]
        return [self.target]

    @property
    def shown_target(self) -> str:
        """The target as a page may show it: addresses, or a webhook's host without its secret path."""
        if self.kind == "email":
            return ", ".join(self.recipients)
        from urllib.parse import urlsplit

        return f"{urlsplit(self.target).scheme}://{urlsplit(self.target).hostname}/…"

    def wants(self, severity: str) -> bool:
        """True when alerts of `severity` reach this channel."""
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        return rank.get(severity, 0) >= rank[self.min_severity]


def make_channel(
    *,
    id: str,
    name: str,
    kind: str,
    target: str,
    format: str | None = None,
    min_severity: str = "warning",
    send_resolved: bool = True,
    digest: bool = True,
    enabled: bool = True,
    source: str = "settings",
) -> Channel:
    """A checked :class:`Channel`, or ConfigError saying what is wrong with it."""
    from urllib.parse import urlsplit

    name = str(name or "").strip()
    label = f"channel {name!r}" if name else "a channel"
    if not name:
        raise ConfigError("Give the channel a name (e.g. 'Founders' or 'Slack #alerts').")
    if kind not in CHANNEL_FORMATS:
        raise ConfigError(f"The kind of {label} must be email or webhook, not {kind!r}.")
    format = format or CHANNEL_FORMATS[kind][0]
    if format not in CHANNEL_FORMATS[kind]:
        allowed = ", ".join(CHANNEL_FORMATS[kind])
        raise ConfigError(f"The format of {label} must be one of {allowed}, not {format!r}.")
    if min_severity not in SEVERITIES:
        raise ConfigError(f"The lowest severity of {label} must be warning or critical, not {min_severity!r}.")
    target = ", ".join(a.strip() for a in target) if isinstance(target, list | tuple) else str(target or "").strip()
    if kind == "email":
        addresses = [a.strip() for a in target.split(",") if a.strip()]
        if not addresses:
            raise ConfigError(f"Say which email addresses {label} sends to.")
        bad = [a for a in addresses if not _looks_like_email(a)]
        if bad:
            raise ConfigError(f"{label.capitalize()} has an address that is not an email address: {bad[0][:80]!r}.")
        target = ", ".join(addresses)
    else:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"The webhook URL of {label} must start with https:// (or http://) and name a host.")
    return Channel(
        id=id,
        name=name,
        kind=kind,
        target=target,
        format=format,
        min_severity=min_severity,
        send_resolved=bool(send_resolved),
        digest=bool(digest),
        enabled=bool(enabled),
        source=source,
    )


def _looks_like_email(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return bool(at and local and "." in domain and " " not in address and len(address) <= 254)


@dataclass(frozen=True, kw_only=True)
class Smtp:
    """The mail server alert emails go through. The password comes only from secrets or the environment."""

    host: str
    port: int = 587
    security: str = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "ModelPulse <modelpulse@localhost>"
    ca_file: str | None = None
    """A CA bundle to trust for this server (a company relay with its own certificate authority)."""
    timeout: float = 20.0


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """How alerts reach people: the mail server, channels from secrets.toml, schedules and retries."""

    smtp: Smtp | None = None
    channels: tuple[Channel, ...] = ()
    base_url: str = "http://localhost:8501"
    timezone: str = "UTC"
    scheduler: str = "app"
    poll_seconds: int = 15
    max_attempts: int = 6
    retry_seconds: int = 30
    digest_cron: str = "0 8 * * mon"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def delivery_settings(get, secrets: dict[str, object], env: dict[str, str]) -> Delivery:
    """The delivery settings: SMTP, channels written in secrets.toml, base URL, time zone, retries."""
    timezone = str(get("timezone", "MODELPULSE_TIMEZONE") or "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"Setting timezone must be a time zone name like Europe/Paris, not {timezone!r}.") from exc
    scheduler = str(get("scheduler", "MODELPULSE_SCHEDULER") or "app")
    if scheduler not in ("app", "off"):
        raise ConfigError(f"Setting scheduler must be app or off, not {scheduler!r}.")
    raw_smtp = secrets.get("smtp", {})
    if not isinstance(raw_smtp, dict):
        raise ConfigError("The [modelpulse.smtp] section of secrets.toml must be a table of settings.")

    def smtp_get(key: str) -> object | None:
        return env.get(f"MODELPULSE_SMTP_{key.upper()}") or raw_smtp.get(key)

    smtp = None
    if smtp_get("host"):
        security = str(smtp_get("security") or "starttls")
        if security not in ("starttls", "tls", "none"):
            raise ConfigError(f"Setting smtp security must be starttls, tls or none, not {security!r}.")
        default_port = {"starttls": 587, "tls": 465, "none": 25}[security]
        smtp = Smtp(
            host=str(smtp_get("host")),
            port=whole_number("smtp port", smtp_get("port") or default_port, minimum=1),
            security=security,
            username=str(smtp_get("username")) if smtp_get("username") else None,
            password=str(smtp_get("password")) if smtp_get("password") else None,
            sender=str(smtp_get("sender") or "ModelPulse <modelpulse@localhost>"),
            ca_file=str(smtp_get("ca_file")) if smtp_get("ca_file") else None,
        )
    raw_channels = secrets.get("channels", [])
    if not isinstance(raw_channels, list) or not all(isinstance(c, dict) for c in raw_channels):
        raise ConfigError("Channels in secrets.toml must be written as [[modelpulse.channels]] tables.")
    channels = []
    for i, raw in enumerate(raw_channels, start=1):
        known = {"name", "kind", "to", "url", "format", "min_severity", "send_resolved", "digest", "enabled"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"Channel {i} in secrets.toml has a setting ModelPulse does not know: {unknown[0]!r}.")
        channels.append(
            make_channel(
                id=f"secrets-{i}",
                name=str(raw.get("name", "")),
                kind=str(raw.get("kind", "email")),
                target=raw.get("to") or raw.get("url") or "",
                format=raw.get("format"),
                min_severity=str(raw.get("min_severity", "warning")),
                send_resolved=bool(raw.get("send_resolved", True)),
                digest=bool(raw.get("digest", True)),
                enabled=bool(raw.get("enabled", True)),
                source="secrets",
            )
        )
    return Delivery(
        smtp=smtp,
        channels=tuple(channels),
        base_url=str(get("base_url", "MODELPULSE_BASE_URL") or "http://localhost:8501").rstrip("/"),
        timezone=timezone,
        scheduler=scheduler,
        poll_seconds=whole_number("delivery_poll", get("delivery_poll", "MODELPULSE_DELIVERY_POLL") or 15, minimum=1),
        max_attempts=whole_number("max_attempts", get("max_attempts", "MODELPULSE_MAX_ATTEMPTS") or 6, minimum=1),
        retry_seconds=whole_number("retry_seconds", get("retry_seconds", "MODELPULSE_RETRY_SECONDS") or 30, minimum=0),
        digest_cron=str(get("digest_cron", "MODELPULSE_DIGEST_CRON") or "0 8 * * mon"),
    )
