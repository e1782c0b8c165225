"""Business kinds: how a model's counts become money and sentences. See `base.py`.

Importing the package registers every kind in it.
"""

from core.business import cost_per_event  # noqa: F401 - registers the kind
from core.business import error_cost  # noqa: F401 - registers the kind
from core.business import pricing_error  # noqa: F401 - registers the kind
from core.business import revenue_at_risk  # noqa: F401 - registers the kind
from core.business.base import KINDS
from core.business.base import KPI
from core.business.base import BusinessKind
from core.business.base import kind_for
from core.business.base import kinds_for_task
from core.business.base import register

__all__ = ["KINDS", "KPI", "BusinessKind", "kind_for", "kinds_for_task", "register"]
