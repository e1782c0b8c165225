"""What the reading commands answer, as text, given an open store.

`status`, `alerts`, `check`, `report` and `backup` never change what is stored, so they can be answered
by whichever process has the store open: the CLI's own read-only connection when the store is free, or
the running app (or `watch`) through its local endpoint when DuckDB's lock keeps everyone else out.
Both paths run the same function below, so the answer is the same either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.config import Settings
from core.errors import ModelPulseError
from core.store import ALERT_STATES
from core.store import Store
from core.upkeep.backup import backup_store
from core.upkeep.check import check_store


@dataclass(frozen=True)
class Answer:
    """Lines to print and whether the command succeeded (exit status 0 or 1)."""

    lines: list[str]
    ok: bool = True


def status(store: Store, settings: Settings) -> Answer:
    """Per model: versions, live version, rows, label coverage, date range, and any version that cannot score."""
    from core.modeling.versions import cannot_score

    specs = store.list_specs()
    if not specs:
        return Answer([f"The store at {store.path} holds no models yet. Run `python -m core demo`."])
    lines = [f"Store: {store.path} (schema {store.schema_version()})"]
    for spec in specs:
        st = store.model_status(spec.name)
        span = f"{st.first_ts:%Y-%m-%d} to {st.last_ts:%Y-%m-%d}" if st.first_ts else "no production rows"
        lines.append(
            f"{spec.name:<10} {spec.title:<20} versions {', '.join(f'v{v}' for v in st.versions) or '-'}; "
            f"live v{st.live_version}; {st.production_rows:,} production rows, {st.predictions:,} predictions; "
            f"labels {st.label_coverage:.0%}; {span}"
        )
        lines += [f"{'':<10} WARNING {why}" for why in cannot_score(store, spec.name).values()]
    return Answer(lines)


def check_state(state: str | None) -> None:
    """Refuse an alert state that is not one a person can set, in one sentence."""
    if state and state not in ALERT_STATES:
        raise ModelPulseError(f"State must be open, acknowledged or resolved, not {state!r}.")


def alerts(
    store: Store, settings: Settings, *, state: str | None = None, model: str | None = None, severity: str | None = None
) -> Answer:
    """Alerts with their plain-English explanation."""
    check_state(state)
    frame = store.list_alerts(model=model, state=state, severity=severity)
    if frame.empty:
        return Answer(["No alerts match."])
    lines = []
    for a in frame.to_dict("records"):
        span = ""
        if a["first_window"] is not None and not pd.isna(a["first_window"]):
            span = f" [{a['first_window']:%Y-%m-%d} .. {a['last_window']:%Y-%m-%d}, {a['windows']} windows]"
        lines.append(f"[{a['severity'].upper()}] [{a['state']}] {a['title']}{span}  (id {a['id']})")
        lines += [f"    {a[part]}" for part in ("what", "cost", "action")]
    return Answer(lines)


def check(store: Store, settings: Settings) -> Answer:
    """The store's health (see core.upkeep.check); fails when anything is damaged or unusable."""
    report = check_store(store, settings)
    return Answer(report.lines(), ok=report.ok)


def report(store: Store, settings: Settings, *, model: str, out: str, period: str = "month") -> Answer:
    """Write a model's board report to `out`: a PDF when it ends in .pdf, else self-contained HTML."""
    from core.views.board import build_board
    from core.views.report import render_html
    from core.views.report_pdf import render_pdf

    spec = store.get_spec(model)
    path = Path(out).expanduser()
    if path.is_dir():
        path = path / f"{spec.name}-board-report.html"
    board = build_board(store, spec, period=period)
    body = render_pdf(board) if path.suffix.lower() == ".pdf" else render_html(board).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return Answer([f"Wrote the board report of {spec.title} to {path} ({len(body) / 1e3:,.0f} kB)."])


def backup(store: Store, settings: Settings, *, dest: str) -> Answer:
    """Write a consistent backup (store + model files + manifest) to the new folder `dest`."""
    return Answer([backup_store(store, dest=dest).message])


ANSWERS: dict[str, Callable[..., Answer]] = {
    "status": status,
    "alerts": alerts,
    "check": check,
    "report": report,
    "backup": backup,
}
"""Every command the running app answers for the CLI; nothing that changes stored data is here."""
