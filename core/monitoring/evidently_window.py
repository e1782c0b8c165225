"""Any stored window as Evidently's own report: what a data person opens to check our figures in the tool they
know. Reads the window's rows and the version's reference from the store; Evidently runs in the adapter."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from core.monitoring.evidently_adapter import window_report_html
from core.monitoring.thresholds import Thresholds
from core.monitoring.validity import usable
from core.monitoring.windows import make_window
from core.store import Store


def window_report(store: Store, *, model: str, version: int, start: datetime | str) -> bytes:
    """Evidently's report (data drift, then classification or regression quality) of one stored window of
    `version` against its reference rows, as one self-contained HTML page (UTF-8 bytes)."""
    spec = store.get_spec(model)
    info = store.get_version(model, version)
    window = make_window(pd.Timestamp(start), spec.window)
    money = [c for c in (spec.business.value_column, spec.business.quantity_column) if c]
    numeric = list(dict.fromkeys([*spec.numerical, *money]))
    current = store.read_window(spec=spec, version=version, start=window.start, end=window.end)
    current, _ = usable(spec, current, numeric)
    reference = store.read_reference(spec=spec, reference_set=info.reference_set, version=version)
    reference, _ = usable(spec, reference, numeric)
    features = list(info.metadata.get("features") or spec.features)
    html = window_report_html(
        task=spec.task,
        reference=reference,
        current=current,
        numerical=[c for c in features if c in spec.numerical],
        categorical=[c for c in features if c in spec.categorical],
        threshold=Thresholds().drift,
        title=f"{spec.title} v{version}, {window.label(spec.window)}. ",
    )
    return html.encode("utf-8")
