"""The store: the only package that writes SQL. `Store` is the facade; see `core/store/facade.py`."""

from core.store.connection import Connection
from core.store.connection import connect
from core.store.connection import quote_ident
from core.store.facade import Store
from core.store.importance import FeatureImportance
from core.store.importance import VersionImportance
from core.store.migrations import SCHEMA_VERSION
from core.store.rows import REFERENCE_SPLITS
from core.store.rows import rows_table_name
from core.store.rows import stored_rows
from core.store.types import ALERT_STATES
from core.store.types import AlertEvent
from core.store.types import AlertRow
from core.store.types import ModelStatus
from core.store.types import NotifiedAlert
from core.store.types import OutboxMessage
from core.store.types import SilencedAlert
from core.store.types import VersionInfo

__all__ = [
    "ALERT_STATES",
    "REFERENCE_SPLITS",
    "SCHEMA_VERSION",
    "AlertEvent",
    "AlertRow",
    "Connection",
    "FeatureImportance",
    "ModelStatus",
    "NotifiedAlert",
    "OutboxMessage",
    "SilencedAlert",
    "Store",
    "VersionImportance",
    "VersionInfo",
    "connect",
    "quote_ident",
    "rows_table_name",
    "stored_rows",
]
