"""Taking an import back: list a model's batches, remove one, and bring monitoring up to date.

A wrong file (the wrong month, a unit error, a test export) is removed as a whole, in one
transaction, after which the corrected file can be sent again: its ids are no longer "stored before".
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.config import Settings
from core.progress import Progress
from core.progress import quiet
from core.refresh import refresh
from core.store import Store
from core.wording import plural

KIND_WORDS = {
    "predictions": "predictions",
    "labels": "outcomes",
    "upload": "the file the model was made from",
    "reference": "reference rows of a version",
    "backfill": "shadow scores of a version",
}


@dataclass(frozen=True)
class Removal:
    """What taking a batch back did, in one sentence for people."""

    batch_id: str
    model: str
    windows_recomputed: int
    message: str


def list_batches(store: Store, *, model: str) -> pd.DataFrame:
    """A model's imports, newest first, in words: when, what, from which file, how many rows, who, removed."""
    store.get_spec(model)
    frame = store.list_batches(model=model)
    return pd.DataFrame(
        {
            "id": frame["id"],
            "when": frame["created_at"],
            "what": frame["kind"].map(KIND_WORDS).fillna(frame["kind"]),
            "source": frame["source"],
            "rows": frame["n_rows"],
            "by": frame["actor"].fillna("(not recorded)"),
            "removed": [
                "" if pd.isna(at) else f"{pd.Timestamp(at):%Y-%m-%d %H:%M} by {who}"
                for at, who in zip(frame["removed_at"], frame["removed_by"], strict=True)
            ],
            "removable": frame["kind"].isin(["predictions", "labels"]) & frame["removed_at"].isna(),
        }
    )


def remove_batch(
    store: Store, *, batch_id: str, by: str, settings: Settings | None = None, progress: Progress = quiet
) -> Removal:
    """Remove one batch's rows, predictions and outcomes (or its outcomes) and recompute what they touched."""
    removed = store.remove_batch(batch_id=batch_id, by=by)
    summary = refresh(store=store, settings=settings, models=[removed.model], progress=progress)
    what = (
        f"{plural(removed.labels, 'outcome')}"
        if removed.kind == "labels"
        else f"{plural(removed.rows, 'row')} with their {plural(removed.predictions, 'prediction')} and "
        f"{plural(removed.labels, 'outcome')}"
    )
    span = ""
    if removed.first_ts is not None:
        span = f" from {pd.Timestamp(removed.first_ts):%-d %b %Y} to {pd.Timestamp(removed.last_ts):%-d %b %Y}"
    computed = summary.computed.get(removed.model, 0)
    return Removal(
        batch_id=batch_id,
        model=removed.model,
        windows_recomputed=computed,
        message=f"Removed batch {batch_id}: {what}{span}. Monitoring recomputed {plural(computed, 'window')}; "
        "a corrected file can now be sent.",
    )
