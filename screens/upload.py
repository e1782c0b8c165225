"""Bring your own data: upload a file, map its columns, then train a model on it or import your own
model's predictions; later, send more predictions or the outcomes that arrived."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from core.errors import ModelPulseError
from core.intake.batches import list_batches
from core.intake.batches import remove_batch
from core.intake.create import create_external_model
from core.intake.create import create_trained_model
from core.intake.files import ACCEPTED
from core.intake.files import read_table
from core.intake.suggest import suggest_mapping
from core.intake.traffic import log_labels
from core.intake.traffic import log_predictions
from core.modeling.yardstick import yardstick_warning
from core.refresh import refresh
from ui import data
from ui.mapping_form import mapping_form
from ui.state import actor
from ui.state import actor_field
from ui.state import audit
from ui.state import change
from ui.state import clear_caches
from ui.state import guard
from ui.state import has_store
from ui.state import require_role
from ui.state import settings
from ui.state import store as open_store
from ui.state import who

FILE_TYPES = [suffix.lstrip(".") for suffix in ACCEPTED]

guard()
st.title("Bring your own data")
cfg = settings()
st.caption(
    f"CSV, Excel (.xlsx), Parquet or JSON, also packed as .gz or .zip, up to {cfg.max_upload_mb} MB. One row per "
    "prediction: a time, an id, "
    "the inputs, and the real outcome if you have it. Nothing leaves this server."
)


def _read(uploaded) -> pd.DataFrame | None:
    try:
        return read_table(uploaded.getvalue(), name=uploaded.name, max_mb=cfg.max_upload_mb)
    except ModelPulseError as exc:
        st.error(exc.user_message)
        return None


def _monitor(name: str, status) -> None:
    status.update(label="Checking the data for drift, quality and performance...")
    refresh(store=store, settings=cfg, models=[name], progress=status.write)


new_tab, more_tab, imports_tab = st.tabs(["New model", "More data for a model", "Imports (take one back)"])

with new_tab:
    uploaded = st.file_uploader("Your file", type=FILE_TYPES, key="new_file")
    if uploaded is None:
        st.info("Upload a file to start. ModelPulse guesses what each column is; you confirm or change it.")
    else:
        frame = _read(uploaded)
        if frame is not None:
            digest = hashlib.sha1(uploaded.getvalue()).hexdigest()
            st.dataframe(frame.head(8), width="stretch", hide_index=True)
            read_as = f" {frame.attrs['read_as']}" if frame.attrs.get("read_as") else ""
            st.caption(
                f"{len(frame):,} rows, {frame.shape[1]} columns. Column names are tidied (lower case, `_`).{read_as}"
            )
            choice = mapping_form(frame, suggest_mapping(frame), filename=uploaded.name, key=digest)
            if choice is not None:
                store = open_store(create=True)
                if store is None:
                    st.stop()
                try:
                    require_role("data.upload", model=choice.mapping.name)
                    with st.status("Creating the model...", expanded=True) as status:
                        if choice.how == "train":
                            spec, quality = create_trained_model(
                                store=store,
                                settings=cfg,
                                mapping=choice.mapping,
                                frame=frame,
                                source=uploaded.name,
                                progress=status.write,
                            )
                        else:
                            if choice.reference is None:
                                st.error("The time column holds no dates, so no reference period can be chosen.")
                                st.stop()
                            start, end = choice.reference
                            spec = create_external_model(
                                store=store,
                                mapping=choice.mapping,
                                frame=frame,
                                source=uploaded.name,
                                reference_start=pd.Timestamp(start),
                                reference_end=pd.Timestamp(end) + pd.Timedelta(days=1, seconds=-1),
                                settings=cfg,
                            )
                            quality = []
                        _monitor(spec.name, status)
                        status.update(label=f"{spec.title} is ready", state="complete", expanded=False)
                    audit(
                        "data.upload",
                        model=spec.name,
                        detail=f"new model from {uploaded.name} ({len(frame):,} rows, "
                        + ("trained" if choice.how == "train" else "its own predictions imported")
                        + ")"
                        + (f"; personal data hashed: {', '.join(spec.hashed_columns)}" if spec.hashed_columns else "")
                        + (f"; dropped: {', '.join(spec.dropped_columns)}" if spec.dropped_columns else ""),
                    )
                except ModelPulseError as exc:
                    st.error(exc.user_message)
                    st.stop()
                clear_caches()
                st.success(f"{spec.title} is being monitored. Its card is on the overview.")
                if quality:
                    st.markdown("**Quality on the newest rows, next to scikit-learn's HistGradientBoosting**")
                    st.dataframe(pd.DataFrame(quality), hide_index=True, width="stretch")
                    short = [q for q in quality if not q["within target"]]
                    if short:
                        st.warning(yardstick_warning(short[-1]))
                st.page_link("screens/overview.py", label="Go to the overview", icon=":material/monitor_heart:")

with more_tab:
    store = open_store() if has_store() else None
    specs = data.specs(cfg.store) if store is not None else []
    if not specs:
        st.info("Create a model first (the other tab); its mapping is saved, so later files need none.")
    else:
        titles = {s.name: s.title for s in specs}
        model = st.selectbox("Model", list(titles), format_func=titles.get)
        spec = next(s for s in specs if s.name == model)
        kind = st.radio(
            "The file holds",
            ["predictions", "labels"],
            horizontal=True,
            format_func=lambda k: "New predictions (rows)" if k == "predictions" else "Outcomes that arrived",
        )
        need = [spec.timestamp, spec.entity, *spec.features] if kind == "predictions" else [spec.entity, spec.target]
        if kind == "predictions" and spec.source == "external":
            need += list(spec.probability_columns) or [str(spec.prediction_column)]
        st.caption(
            "Needed columns: "
            + ", ".join(f"`{c}`" for c in need)
            + (" (optional `label_time`: when each outcome became known)." if kind == "labels" else ".")
        )
        if spec.hashed_columns or spec.dropped_columns:
            st.caption(
                "Personal data, as chosen when the model was created: "
                + "; ".join(
                    [f"`{c}` is replaced by a keyed hash" for c in spec.hashed_columns]
                    + [f"`{c}` is dropped" for c in spec.dropped_columns]
                )
                + ", in every file, before anything is stored."
            )
        more = st.file_uploader("File", type=FILE_TYPES, key=f"more-{model}-{kind}")
        if more is not None and st.button("Import", type="primary"):
            frame = _read(more)
            if frame is not None:
                try:
                    require_role("data.upload", model=model)
                    with st.status("Importing...", expanded=True) as status:
                        fn = log_predictions if kind == "predictions" else log_labels
                        result = fn(model=model, frame=frame, store=store, settings=cfg, source=more.name, by=who())
                        status.write(result.message)
                        _monitor(model, status)
                        status.update(label=result.message, state="complete", expanded=False)
                    audit("data.upload", model=model, detail=f"{kind} from {more.name}: {result.message}")
                except ModelPulseError as exc:
                    st.error(exc.user_message)
                else:
                    clear_caches()
                    st.success(result.message)
    watcher = (
        f"the app imports them within {cfg.inbox_poll} seconds"
        if cfg.inbox_poll
        else "this app's inbox watcher is off (setting MODELPULSE_INBOX_POLL is 0), so dropped files wait until it "
        "is turned on"
    )
    st.markdown(
        f"**From a running service**: drop files into `{cfg.inbox_dir}/<model>/` (outcomes into "
        f"`<model>/labels/`); {watcher}. From code: "
        "`core.log_predictions(model=..., frame=...)`; from the shell: `python -m core ingest FILE --model NAME`."
    )

with imports_tab:
    store = open_store() if has_store() else None
    specs = data.specs(cfg.store) if store is not None else []
    if not specs:
        st.info("No models yet, so no imports to list.")
    else:
        titles = {s.name: s.title for s in specs}
        model = st.selectbox("Model to look at", list(titles), format_func=titles.get, key="imports-model")
        if done := st.session_state.pop("removal_done", None):
            st.success(done)
        imports = list_batches(store, model=model)
        st.dataframe(imports.drop(columns=["removable"]), hide_index=True, width="stretch")
        removable = imports[imports["removable"]]
        if removable.empty:
            st.caption("Nothing to take back: only files of predictions or outcomes can be removed.")
        else:
            with st.form(f"remove-{model}"):
                labels = {
                    r["id"]: f"{pd.Timestamp(r['when']):%Y-%m-%d %H:%M} · {r['what']} · {r['rows']:,} rows · "
                    f"{r['source'] or 'no file name'}"
                    for r in removable.to_dict("records")
                }
                batch = st.selectbox("Import to take back", list(labels), format_func=labels.get)
                actor_field("remove_actor", "Your name or email (recorded)")
                sure = st.checkbox("Remove its rows, every version's predictions on them and their outcomes")
                if st.form_submit_button("Remove this import", type="primary"):
                    if not sure:
                        st.warning("Tick the box to confirm; nothing was removed.")
                    else:
                        try:
                            with st.spinner("Removing and recomputing the windows it touched..."):
                                removal = change(
                                    "data.remove",
                                    lambda: remove_batch(store, batch_id=batch, by=actor("remove_actor"), settings=cfg),
                                    model=model,
                                    detail=f"batch {batch}",
                                    together=False,
                                )
                        except ModelPulseError as exc:
                            st.error(exc.user_message)
                        else:
                            clear_caches()
                            st.session_state["removal_done"] = removal.message
                            st.rerun()  # so the list above shows the import as removed
