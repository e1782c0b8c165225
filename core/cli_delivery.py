"""`python -m core` commands for alerts reaching people: watch, deliver, schedule, mute, channels, digest."""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from typing import Annotated

import typer

from core.cli_common import _say
from core.cli_common import _settings
from core.cli_common import friendly
from core.cli_common import pd_ts
from core.cli_common import where
from core.errors import ModelPulseError

channels_app = typer.Typer(
    add_completion=False, invoke_without_command=True, help="List, add, remove or test the channels alerts go to."
)


def register(app: typer.Typer) -> None:
    """Add these commands to the main CLI."""
    app.command()(watch)
    app.command()(deliver)
    app.command()(schedule)
    app.command()(mute)
    app.command()(unmute)
    app.command()(deliveries)
    app.command()(digest)
    app.add_typer(channels_app, name="channels")


@friendly
def watch(
    seconds: Annotated[float, typer.Option(help="Stop after this many seconds (0: run until stopped).")] = 0,
) -> None:
    """Run headless: scheduled monitoring, the inbox and alert delivery, until Ctrl-C or SIGTERM.

    Run this instead of the app on a store (DuckDB lets one process write it), e.g. under systemd.
    """
    from core.schedule import Scheduler
    from core.store import Store

    settings = _settings()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    from core.upkeep.endpoint import Endpoint

    with Store.at(settings, verify=True) as store:
        scheduler = Scheduler(store=store, settings=settings, inbox=True).start()
        endpoint = Endpoint(store=store, settings=settings).start()  # `status`, `check`, `backup` beside it
        _say(f"Watching {where(settings)} as {scheduler.holder}; Ctrl-C stops.")
        try:
            stop.wait(seconds or None)
        finally:
            endpoint.stop()
            scheduler.stop()
    _say("Stopped.")


@friendly
def deliver() -> None:
    """Send every message that is due now (the scheduler does this every few seconds)."""
    from core.notify import deliver_due
    from core.notify import holder_id
    from core.store import Store

    settings = _settings()
    with Store.at(settings, verify=True) as store:
        report = deliver_due(store=store, settings=settings, holder=holder_id())
    if report.lease_held_by:
        raise ModelPulseError(f"Another sender ({report.lease_held_by}) is delivering for this store; nothing sent.")
    _say(f"{len(report.sent)} sent, {len(report.retrying)} to retry, {len(report.failed)} given up.")


@friendly
def schedule(
    model: Annotated[str | None, typer.Argument(help="The model; omit to list every schedule.")] = None,
    every: Annotated[str | None, typer.Option(help="hourly, daily or weekly.")] = None,
    at: Annotated[str, typer.Option(help="Time of day, HH:MM, in the configured time zone.")] = "07:00",
    day: Annotated[str, typer.Option(help="Day of a weekly run: mon ... sun.")] = "mon",
    cron: Annotated[str | None, typer.Option(help="A crontab line instead, e.g. '30 6 * * 1-5'.")] = None,
    off: Annotated[bool, typer.Option("--off", help="Stop monitoring this model on a schedule.")] = False,
    by: Annotated[str, typer.Option(help="Who is changing it (recorded).")] = "cli",
) -> None:
    """Show schedules, or set when a model is monitored: `schedule churn --every daily --at 07:00`."""
    from core.schedule import describe
    from core.schedule import preset
    from core.schedule import set_schedule
    from core.store import Store

    settings = _settings()
    if model is None:
        with Store.at(settings, read_only=True) as store:
            rows = store.schedules()
        for name, (line, _) in rows.items():
            _say(f"{name:<12} {describe(line)} ({settings.delivery.timezone})")
        if not rows:
            _say("No model is monitored on a schedule (each still is whenever data arrives).")
        return
    if off:
        line = None
    elif cron:
        line = cron
    elif every:
        line = preset(every, at=at, day=day)
    else:
        raise ModelPulseError("Say when: --every daily --at 07:00, --cron '0 7 * * *', or --off.")
    with Store.at(settings, verify=True) as store:
        _say(set_schedule(store=store, settings=settings, model=model, cron=line, by=by))


@friendly
def mute(
    model: Annotated[str, typer.Argument(help="The model to keep quiet.")],
    until: Annotated[str, typer.Option(help="Until this date (YYYY-MM-DD) or time (YYYY-MM-DD HH:MM).")],
    reason: Annotated[str | None, typer.Option(help="Why (shown on the Settings page).")] = None,
    by: Annotated[str, typer.Option(help="Who is muting it (recorded).")] = "cli",
) -> None:
    """Send nothing about a model until a date (alerts are still raised and shown in the app)."""
    from core.store import Store

    try:
        end = datetime.fromisoformat(until)
    except ValueError:
        raise ModelPulseError(f"--until must be a date like 2026-12-24 or 2026-12-24 09:00, not {until!r}.") from None
    if end <= datetime.now():
        raise ModelPulseError(f"--until {until} is already past.")
    settings = _settings()
    with Store.at(settings, verify=True) as store:
        store.get_spec(model)
        store.mute_model(model=model, until=end, by=by, reason=reason)
    _say(f"No messages about {model} until {end:%d %b %Y %H:%M}.")


@friendly
def unmute(model: Annotated[str, typer.Argument(help="The model.")]) -> None:
    """Let messages about a model go out again."""
    from core.store import Store

    with Store.at(_settings(), verify=True) as store:
        store.get_spec(model)
        store.unmute_model(model)
    _say(f"Messages about {model} go out again.")


@friendly
def deliveries(limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20) -> None:
    """Recent messages: when, what, to whom, status, attempts and the last error."""
    from core.store import Store

    with Store.at(_settings(), read_only=True) as store:
        frame = store.list_deliveries(limit=limit)
    if frame.empty:
        _say("No messages yet.")
    for d in frame.to_dict("records"):
        error = f"  ({d['last_error']})" if d["last_error"] else ""
        _say(
            f"{pd_ts(d['created_at'])}  {d['status']:<8} x{d['attempts']}  {d['channel_name']} -> {d['recipient']}: "
            f"{d['subject']}{error}"
        )


@friendly
def digest(send: Annotated[bool, typer.Option("--send", help="Owe it to every digest channel now.")] = False) -> None:
    """Print this week's digest as it would be sent, or owe it now with --send (once per week)."""
    from core.notify import deliver_due
    from core.notify import digest_message
    from core.notify import holder_id
    from core.notify import owe_digest
    from core.store import Store

    settings = _settings()
    with Store.at(settings, read_only=not send) as store:
        if not send:
            rendered = digest_message(store, settings)
            _say(f"Subject: {rendered.subject}\n\n{rendered.text}")
            return
        owed = owe_digest(store, settings)
        report = deliver_due(store=store, settings=settings, holder=holder_id())
    _say(f"{len(owed)} digest messages owed (none if this week's already went); {len(report.sent)} sent now.")


@channels_app.callback()
@friendly
def channels(ctx: typer.Context) -> None:
    """List the channels: id, name, kind, where to, and what each receives."""
    if ctx.invoked_subcommand is not None:
        return
    from core.notify import all_channels
    from core.store import Store

    settings = _settings()
    with Store.at(settings, read_only=True) as store:
        found = all_channels(store, settings)
    for c in found:
        wants = f"{c.min_severity} and up" + (", resolved notices" if c.send_resolved else "")
        wants += ", weekly digest" if c.digest else ""
        off = "" if c.enabled else "  (off)"
        _say(f"{c.id:<18} {c.name:<20} {c.kind}/{c.format:<6} {c.shown_target}  [{wants}] from {c.source}{off}")
    if not found:
        _say("No channels yet: add one with `channels add` or on the Settings page.")


@channels_app.command("add")
@friendly
def add_channel(
    name: Annotated[str, typer.Option(help="A name people recognise, e.g. 'Founders'.")],
    to: Annotated[str, typer.Option(help="Email addresses (comma-separated) or the webhook URL.")],
    kind: Annotated[str, typer.Option(help="email or webhook.")] = "email",
    format: Annotated[str | None, typer.Option(help="Webhooks: slack, teams or json.")] = None,
    min_severity: Annotated[str, typer.Option(help="warning or critical.")] = "warning",
    resolved: Annotated[bool, typer.Option(help="Also say when an alert is back to normal.")] = True,
    weekly: Annotated[bool, typer.Option(help="Also send the weekly digest.")] = True,
    by: Annotated[str, typer.Option(help="Who is adding it (recorded).")] = "cli",
) -> None:
    """Add a channel."""
    from core.config import make_channel
    from core.notify import new_channel_id
    from core.store import Store

    channel = make_channel(
        id=new_channel_id(name, kind),
        name=name,
        kind=kind,
        target=to,
        format=format,
        min_severity=min_severity,
        send_resolved=resolved,
        digest=weekly,
    )
    with Store.at(_settings(), verify=True) as store:
        store.save_channel(channel, by=by)
    _say(f"Channel {channel.name!r} added as {channel.id}.")


@channels_app.command("remove")
@friendly
def remove_channel(channel_id: Annotated[str, typer.Argument(help="The channel id (from `channels`).")]) -> None:
    """Remove a channel added with `channels add` or on the Settings page."""
    from core.store import Store

    if channel_id.startswith("secrets-"):
        raise ModelPulseError("That channel is written in secrets.toml; remove it there.")
    with Store.at(_settings(), verify=True) as store:
        store.delete_channel(channel_id)
    _say(f"Channel {channel_id} removed.")


@channels_app.command("test")
@friendly
def test_channel(channel_id: Annotated[str, typer.Argument(help="The channel id (from `channels`).")]) -> None:
    """Send a test message through a channel now."""
    from core.notify import find_channel
    from core.notify import send_test
    from core.store import Store

    settings = _settings()
    with Store.at(settings, verify=True) as store:
        channel = find_channel(store, settings, channel_id)
        if channel is None:
            raise ModelPulseError(f"There is no channel {channel_id}; `python -m core channels` lists them.")
        _say(send_test(store=store, settings=settings, channel=channel))
