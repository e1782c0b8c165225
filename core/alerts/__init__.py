"""Alerts: rules that read stored results and speak for themselves (`rule.py`, `rules.py`), and the
evaluation that turns windows into alerts with a history (`evaluate.py`).

Importing the package registers every rule in `rules.py`.
"""

from core.alerts import rules  # noqa: F401 - registers the rules
from core.alerts import segment_rule  # noqa: F401 - registers the segment rule
from core.alerts.evaluate import SYSTEM
from core.alerts.evaluate import AlertChanges
from core.alerts.evaluate import alert_id
from core.alerts.evaluate import episodes
from core.alerts.evaluate import evaluate_alerts
from core.alerts.rule import RULES
from core.alerts.rule import AlertRule
from core.alerts.rule import AlertText
from core.alerts.rule import Firing
from core.alerts.rule import default_rules

__all__ = [
    "RULES",
    "SYSTEM",
    "AlertChanges",
    "AlertRule",
    "AlertText",
    "Firing",
    "alert_id",
    "default_rules",
    "episodes",
    "evaluate_alerts",
]
