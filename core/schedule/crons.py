"""Schedules as people say them ("every day at 07:00") and as crontab lines, checked before they are kept."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from core.errors import ConfigError

_DOW = {"0": "sun", "1": "mon", "2": "tue", "3": "wed", "4": "thu", "5": "fri", "6": "sat", "7": "sun"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def preset(every: str, *, at: str = "07:00", day: str = "mon") -> str:
    """The crontab line for `hourly`, `daily` (at HH:MM) or `weekly` (on `day` at HH:MM)."""
    hour, minute = _time(at)
    if every == "hourly":
        return f"{minute} * * * *"
    if every == "daily":
        return f"{minute} {hour} * * *"
    if every == "weekly":
        if day not in DAYS:
            raise ConfigError(f"The day of a weekly schedule must be one of {', '.join(DAYS)}, not {day!r}.")
        return f"{minute} {hour} * * {day}"
    raise ConfigError(f"A schedule runs hourly, daily or weekly, not {every!r}.")


def _time(at: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", at or "")
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ConfigError(f"A time of day is written like 07:00, not {at!r}.")
    return int(m.group(1)), int(m.group(2))


def trigger(cron: str, *, tz: ZoneInfo) -> CronTrigger:
    """The APScheduler trigger for a standard five-field crontab line (days of the week 0-7 from Sunday).

    APScheduler numbers days from Monday = 0, unlike cron; numbers in the day-of-week field are turned
    into names first so `0 8 * * 1` means Monday as everywhere else.
    """
    fields = str(cron or "").split()
    if len(fields) != 5:
        raise ConfigError(f"A schedule is a crontab line with five fields, like '0 7 * * *', not {cron!r}.")
    fields[4] = re.sub(r"\d+", lambda m: _DOW.get(m.group(0), m.group(0)), fields[4])
    try:
        return CronTrigger.from_crontab(" ".join(fields), timezone=tz)
    except ValueError as exc:
        raise ConfigError(f"The schedule {cron!r} is not a crontab line ModelPulse can read ({exc}).") from None


def describe(cron: str) -> str:
    """`every day at 07:00`, `every hour at :15`, `every Monday at 08:00`, or the crontab line itself."""
    fields = cron.split()
    if len(fields) == 5 and fields[2:4] == ["*", "*"] and fields[0].isdigit():
        minute = int(fields[0])
        if fields[1] == "*" and fields[4] == "*":
            return f"every hour at :{minute:02d}"
        if fields[1].isdigit():
            at = f"{int(fields[1]):02d}:{minute:02d}"
            if fields[4] == "*":
                return f"every day at {at}"
            day = _DOW.get(fields[4], fields[4])
            if day in DAYS:
                return f"every {DAY_NAMES[DAYS.index(day)]} at {at}"
    return f"on the crontab line '{cron}'"
