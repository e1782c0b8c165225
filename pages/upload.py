"""Bring your own data: upload a file, map its columns, then train a model on it or import your own
model's predictions; later, send more predictions or the outcomes that arrived."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from core.business import KINDS
from core.business import kinds_for_task
from core.errors import ModelPulseError
from core.intake.batches import list_batches
from core.intake.batches import remove_batch
from core.intake.create import create_external_model
from core.intake.create import create_trained_model
from core.intake.files import read_table
from core.intake.mapping import Mapping
from core.intake.suggest import suggest_mapping
from core.intake.traffic import log_labels
from core.intake.traffic import log_predictions
from core.refresh import refresh
from core.schema import BusinessConfig
from ui import data
from ui.state import clear_caches
from ui.state import guard
from ui.state import settings
from ui.state import store as open_store

guard()
st.title("Bring your own data")
cfg = settings()
st.caption(
    f"CSV (UTF-8) or Parquet, up to {cfg.max_upload_mb} MB. One row per prediction: a time, an id, the inputs, and "
    "the real outcome if you have it. Nothing leaves this server."
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
    uploaded = st.file_uploader("Your file", type=["csv", "parquet"], key="new_file")
    if uploaded is None:
        st.info("Upload a file to start. ModelPulse guesses what each column is; you confirm or change it.")
    else:
        frame = _read(uploaded)
        if frame is not None:
            digest = hashlib.sha1(uploaded.getvalue()).hexdigest()
            st.dataframe(frame.head(8), width="stretch", hide_index=True)
            st.caption(f"{len(frame):,} rows, {frame.shape[1]} columns. Column names are tidied (lower case, `_`).")
            guess = suggest_mapping(frame)
            cols = list(frame.columns)
            none = "(none)"
            how = st.radio(
                "What should ModelPulse do?",
                ["train", "import"],
                horizontal=True,
                format_func=lambda h: {
                    "train": "Train a model on this data",
                    "import": "Monitor my own model's predictions in this file",
                }[h],
                help="Train: ModelPulse fits a PyTorch model on the older rows and checks it on the newer ones. "
                "Import: your model already made predictions; they are in a column of the file.",
            )
            tasks = ["binary", "multiclass", "regression"]
            task = st.radio(
                "What does the model predict?",
                tasks,
                index=tasks.index(guess.task),
                horizontal=True,
                format_func=lambda t: {
                    "binary": "Yes / no",
                    "multiclass": "One of several classes",
                    "regression": "A number",
                }[t],
            )
            with st.form(f"mapping-{digest}"):
                st.markdown("**Columns**")
                c1, c2, c3 = st.columns(3)
                timestamp = c1.selectbox(
                    "Time of each row", cols, index=cols.index(guess.timestamp) if guess.timestamp else 0
                )
                entity = c2.selectbox(
                    "Id of each row",
                    cols,
                    index=cols.index(guess.entity) if guess.entity else 0,
                    help="Outcomes that arrive later are joined to predictions by this id.",
                )
                targets = [none, *cols]
                target = c3.selectbox(
                    "Real outcome (target)", targets, index=targets.index(guess.target) if guess.target else 0
                )
                prediction, probabilities, label_column = None, [], "outcome"
                if how == "import":
                    p1, p2 = st.columns(2)
                    prediction = p1.selectbox(
                        "Your model's prediction", [none, *cols], help="The predicted class or value."
                    )
                    label_column = st.text_input(
                        "If the file has no outcomes yet: name of the outcome column in later label files",
                        value="outcome",
                    )
                    probabilities = p2.multiselect(
                        "Your model's probabilities",
                        cols,
                        help="Yes/no: the probability of 'yes'. Several classes: one column per class, in the order "
                        "of the class names below.",
                    )
                features_default = [c for c in cols if c not in (guess.timestamp, guess.entity, guess.target)]
                numerical = st.multiselect(
                    "Number inputs", cols, default=[c for c in guess.numerical if c in features_default]
                )
                categorical = st.multiselect(
                    "Category inputs",
                    cols,
                    default=[c for c in guess.categorical if c in features_default],
                    help="Columns left out of both lists are ignored.",
                )
                st.markdown("**The model**")
                m1, m2, m3 = st.columns(3)
                base = uploaded.name.rsplit(".", 1)[0]
                name = m1.text_input(
                    "Short name",
                    value="".join(ch if ch.isalnum() else "_" for ch in base.lower())[:30].strip("_") or "my_model",
                    help="Lower case letters, digits and _.",
                )
                title = m2.text_input("Title", value=base.replace("_", " ").title()[:60])
                window = m3.selectbox("Check every", ["day", "week", "month"], index=1)
                classes, positive = (), None
                if task != "regression":
                    k1, k2 = st.columns(2)
                    class_text = k1.text_input(
                        "Class names (optional, comma separated)",
                        help="Needed only when importing probabilities without a target "
                        "column. Otherwise read from the target.",
                    )
                    classes = tuple(c.strip() for c in class_text.split(",") if c.strip())
                    if task == "binary":
                        positive = (
                            k2.text_input(
                                "The 'yes' class",
                                value="1",
                                help="The outcome the model looks for (e.g. churned = yes).",
                            )
                            or None
                        )
                st.markdown("**What an outcome is worth** (used for the money in alerts and KPIs)")
                b1, b2, b3 = st.columns(3)
                money_cols = [none, *numerical]
                choices = [k.name for k in kinds_for_task(task)]
                kind = (
                    b1.selectbox("Money", choices, format_func=lambda k: KINDS[k].choice)
                    if len(choices) > 1
                    else choices[0]
                )
                value_per_positive = b2.number_input("Money per 'yes' outcome", min_value=0.0, value=100.0, step=10.0)
                value_column = b3.selectbox(
                    "Column with each row's value", money_cols, help="e.g. monthly charges of a customer."
                )
                entity_noun = b1.text_input("One row is a...", value="customer")
                positive_noun = b2.text_input("A 'yes' outcome, in plural", value="customers who leave")
                unit = b3.text_input("Money unit", value="revenue")
                start = end = None
                if how == "import":
                    ts = pd.to_datetime(frame[timestamp], errors="coerce", format="mixed").dropna()
                    if len(ts):
                        default_end = ts.quantile(0.3)
                        st.markdown("**Reference period**: rows your model was known to be good on")
                        r1, r2 = st.columns(2)
                        start = r1.date_input(
                            "From", value=ts.min().date(), min_value=ts.min().date(), max_value=ts.max().date()
                        )
                        end = r2.date_input(
                            "To", value=default_end.date(), min_value=ts.min().date(), max_value=ts.max().date()
                        )
                submitted = st.form_submit_button("Create the model", type="primary")
            if submitted:
                store = open_store(create=True)
                if store is None:
                    st.stop()
                # the model's own outputs and the special columns are never inputs, whatever the lists say
                outputs = {prediction, *probabilities, timestamp, entity, target} - {None, none}
                numerical = [c for c in numerical if c not in outputs]
                categorical = [c for c in categorical if c not in outputs and c not in numerical]
                try:
                    business = BusinessConfig(
                        kind=kind,
                        unit=unit,
                        value_per_positive=value_per_positive,
                        value_column=None if value_column == none else value_column,
                        entity=entity_noun,
                        positive=positive_noun,
                        target_noun=(target if target != none else "value").replace("_", " "),
                    )
                    mapping = Mapping(
                        name=name.strip(),
                        title=title.strip() or name,
                        task=task,
                        timestamp=timestamp,
                        entity=entity,
                        target=None if target == none else target,
                        label_column=label_column.strip() or "outcome",
                        numerical=tuple(numerical),
                        categorical=tuple(categorical),
                        prediction=None if prediction in (None, none) else prediction,
                        probabilities=tuple(probabilities),
                        classes=classes,
                        positive_class=positive,
                        window=window,
                        business=business,
                    )
                except ValueError as exc:  # pydantic's ValidationError is a ValueError
                    st.error(f"The mapping is not complete: {str(exc).splitlines()[-1].strip()}")
                    st.stop()
                try:
                    with st.status("Creating the model...", expanded=True) as status:
                        if how == "train":
                            spec, quality = create_trained_model(
                                store=store,
                                settings=cfg,
                                mapping=mapping,
                                frame=frame,
                                source=uploaded.name,
                                progress=status.write,
                            )
                        else:
                            spec = create_external_model(
                                store=store,
                                mapping=mapping,
                                frame=frame,
                                source=uploaded.name,
                                reference_start=pd.Timestamp(start),
                                reference_end=pd.Timestamp(end) + pd.Timedelta(days=1, seconds=-1),
                                settings=cfg,
                            )
                            quality = []
                        _monitor(spec.name, status)
                        status.update(label=f"{spec.title} is ready", state="complete", expanded=False)
                except ModelPulseError as exc:
                    st.error(exc.user_message)
                    st.stop()
                clear_caches()
                st.success(f"{spec.title} is being monitored. Its card is on the overview.")
                if quality:
                    st.markdown("**Quality on the newest rows, next to scikit-learn's HistGradientBoosting**")
                    st.dataframe(pd.DataFrame(quality), hide_index=True, width="stretch")
                st.page_link("pages/overview.py", label="Go to the overview", icon=":material/monitor_heart:")

with more_tab:
    store = open_store() if cfg.db_path.exists() else None
    specs = data.specs(str(cfg.db_path)) if store is not None else []
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
        more = st.file_uploader("File", type=["csv", "parquet"], key=f"more-{model}-{kind}")
        if more is not None and st.button("Import", type="primary"):
            frame = _read(more)
            if frame is not None:
                try:
                    with st.status("Importing...", expanded=True) as status:
                        fn = log_predictions if kind == "predictions" else log_labels
                        result = fn(
                            model=model, frame=frame, store=store, settings=cfg, source=more.name, by="upload page"
                        )
                        status.write(result.message)
                        _monitor(model, status)
                        status.update(label=result.message, state="complete", expanded=False)
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
    store = open_store() if cfg.db_path.exists() else None
    specs = data.specs(str(cfg.db_path)) if store is not None else []
    if not specs:
        st.info("No models yet, so no imports to list.")
    else:
        titles = {s.name: s.title for s in specs}
        model = st.selectbox("Model", list(titles), format_func=titles.get, key="imports-model")
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
                who = st.text_input("Your name or email (recorded)", placeholder="e.g. maya@startup.com")
                sure = st.checkbox("Remove its rows, every version's predictions on them and their outcomes")
                if st.form_submit_button("Remove this import", type="primary"):
                    if not sure:
                        st.warning("Tick the box to confirm; nothing was removed.")
                    else:
                        try:
                            with st.spinner("Removing and recomputing the windows it touched..."):
                                removal = remove_batch(store, batch_id=batch, by=who, settings=cfg)
                        except ModelPulseError as exc:
                            st.error(exc.user_message)
                        else:
                            clear_caches()
                            st.success(removal.message)
