"""Small shared widgets: the model picker that keeps `?model=` in the URL, status badges, the glossary."""

from __future__ import annotations

import streamlit as st

from core.schema import ModelSpec

BADGE = {
    "red": ":red-badge[Needs action]",
    "amber": ":orange-badge[Worth a look]",
    "green": ":green-badge[Healthy]",
    "grey": ":gray-badge[No data yet]",
}
SEVERITY = {"critical": ":red-badge[Critical]", "warning": ":orange-badge[Warning]"}
STATE = {"open": ":red-badge[Open]", "acknowledged": ":blue-badge[Acknowledged]", "resolved": ":green-badge[Resolved]"}

GLOSSARY = {
    "Drift": "The data coming in now looks different from the data the model learned from.",
    "Shift score": "How far an input moved: for numbers, in standard deviations of the training data (normed "
    "Wasserstein distance); for categories, how different the shares are (Jensen-Shannon distance, 0 to 1). "
    "0.1 or more counts as drift.",
    "Reference": "The training and validation data of the live version: what 'normal' looks like.",
    "Window": "A slice of time (a day, week or month) that is checked as one batch.",
    "Ranking quality": "How often the model ranks a real positive above a real negative: 0.5 is a coin "
    "flip, 1 is perfect. Data people call it ROC AUC.",
    "Recall": "Of the real positive cases, the share the model caught.",
    "Precision": "Of the cases the model flagged, the share that really were positive.",
    "Typical error": "The typical size of a miss, with big misses counting more, in the target's unit (RMSE).",
    "Estimated performance": "Quality worked out from the model's own confidence before real outcomes arrive; shown "
    "with the error it had on past windows.",
    "Overfitting": "The model learned its training data by heart and does worse on data it has not seen.",
    "Shadow version": "A version that scores the same traffic as the live one without its answers being used, "
    "so the two can be compared fairly.",
}


def model_picker(specs: list[ModelSpec], *, key: str = "model", label: str = "Model") -> ModelSpec:
    """A select box of models that reads and writes `?model=` so the view can be shared as a link."""
    names = [s.name for s in specs]
    wanted = st.query_params.get("model")
    index = names.index(wanted) if wanted in names else 0
    choice = st.selectbox(label, names, index=index, key=key, format_func=lambda n: specs[names.index(n)].title)
    if st.query_params.get("model") != choice:
        st.query_params["model"] = choice
    return specs[names.index(choice)]


def pending_notice(db: str, spec: ModelSpec) -> None:
    """Say when a model's figures are out of date (monitoring behind) or a version cannot score, and offer an
    editor the catch-up run the scheduler would make."""
    from ui import data
    from ui import state

    behind, problems = data.pending(db, spec.name)
    for sentence in problems:
        st.error(sentence, icon=":material/report:")
    if not behind:
        return
    st.warning(
        f"Monitoring is behind for {behind} window{'s' if behind != 1 else ''} of {spec.title}: data arrived, or a "
        "run was stopped, since monitoring last ran, so some figures here may be out of date. The next scheduled "
        "run catches up.",
        icon=":material/update:",
    )
    if state.may("monitor.run") and st.button("Bring monitoring up to date now", key=f"catch_up_{spec.name}"):
        from core.refresh import refresh

        state.require_role("monitor.run", model=spec.name)
        with st.status(f"Monitoring {spec.title}...") as status:
            summary = refresh(
                store=data.open_store(db), settings=state.settings(), models=[spec.name], progress=status.write
            )
            status.update(label=f"{summary.computed.get(spec.name, 0)} windows computed.", state="complete")
        state.audit("monitor.run", model=spec.name, detail=f"caught up {behind} windows from the page")
        state.clear_caches()
        st.rerun()


def glossary() -> None:
    """An expander explaining every technical word used on the page."""
    with st.expander("What do these words mean?", icon=":material/help:"):
        for term, meaning in GLOSSARY.items():
            st.markdown(f"**{term}**: {meaning}")
