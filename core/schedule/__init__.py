"""Scheduled work on a store: monitoring per model, delivery, the weekly digest (`scheduler.py`), and
schedules as people say them (`crons.py`)."""

from core.schedule.crons import describe
from core.schedule.crons import preset
from core.schedule.crons import trigger
from core.schedule.scheduler import LEASE
from core.schedule.scheduler import Scheduler
from core.schedule.scheduler import monitor_job
from core.schedule.scheduler import set_schedule

__all__ = ["LEASE", "Scheduler", "describe", "monitor_job", "preset", "set_schedule", "trigger"]
