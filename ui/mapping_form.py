"""The mapping step of the upload page: what each column of a new file means, starting from ModelPulse's guess.

Choices that change which fields make sense (train or import, the target, the task, the id, the target's unit,
the kind of money) sit above the form so the form shows only what applies, and what follows from the target (the
task, the 'yes' outcome among its values) follows the column picked; the rest is one form, sent once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from core.business import KINDS
from core.business import kinds_for_task
from core.errors import DataError
from core.intake.dates import guess_times
from core.intake.files import table_name
from core.intake.mapping import Mapping
from core.intake.mapping import check_privacy
from core.intake.privacy import PersonalColumn
from core.intake.suggest import YES_VALUES
from core.intake.suggest import Suggestion
from core.intake.suggest import default_reference
from core.intake.suggest import entity_noun
from core.intake.suggest import leaky_columns
from core.intake.suggest import positive_words
from core.intake.suggest import task_for
from core.schema import BusinessConfig

NONE = "(none)"
NUMBER_ROWS = "(no id column: number the rows by time and order)"
COMBINE = "(no id column: combine columns into an id)"
TASKS = {"binary": "Yes / no", "multiclass": "One of several classes", "regression": "A number"}
UNITS = {
    "money": "Money (a price, an amount)",
    "count": "A count of things",
    "rate": "A rate (a share between 0 and 1)",
    "score": "A score",
}


@dataclass(frozen=True)
class MappingChoice:
    """What the person chose: train or import, the mapping, and (import) the reference period."""

    how: str
    mapping: Mapping
    reference: tuple[date, date] | None


def _ids(frame: pd.DataFrame, guess: Suggestion) -> tuple[str | None, str, tuple[str, ...]]:
    cols = list(frame.columns)
    options = [NUMBER_ROWS, COMBINE, *[c for c in cols if c != guess.timestamp]]
    default = options.index(guess.entity) if guess.entity in options else 0
    choice = st.selectbox(
        "Id of each row",
        options,
        index=default,
        help="Outcomes that arrive later are joined to predictions by this id. With no id column, ModelPulse "
        "numbers the rows by their time and order (outcome files then repeat the time column, rows in the same "
        "order), or combines columns whose values together tell rows apart.",
    )
    if choice == NUMBER_ROWS:
        return None, "row_order", ()
    if choice == COMBINE:
        parts = st.multiselect("Columns that together tell rows apart", [c for c in cols if c != guess.timestamp])
        return None, "hash", tuple(parts)
    return choice, "column", ()


# the outcomes a model usually looks for, then "yes" and "true" as spreadsheets write them (the same values
# the proposed words treat as a bare yes)
POSITIVE_HINTS = ("late", "delayed", "churn", "fraud", "positive", "bad", *YES_VALUES)


def _positive(frame: pd.DataFrame, target: str | None) -> str | None:
    """The 'yes' outcome of a yes/no model: picked from the target's own values when the file has them."""
    values = []
    if target is not None:
        values = sorted(frame[target].dropna().astype("string").str.strip().unique().tolist())[:20]
    if len(values) == 2:
        default = next((i for i, v in enumerate(values) if v.lower() in POSITIVE_HINTS), 1)
        return st.selectbox(
            "The 'yes' outcome (what the model looks for)", values, index=default, help="e.g. churned = Yes."
        )
    return st.text_input("The 'yes' outcome (what the model looks for)", value="1", help="e.g. churned = yes.") or None


def _money(task: str, target_unit: str, kind: str, numerical: list[str], positive: str | None, words: str) -> dict:
    """The money fields of `kind`, inside the form; `words` the proposed plural for a 'yes' outcome."""
    yes = f"'{positive}'" if positive else "'yes'"
    fields: dict = {}
    if kind == "cost_per_event":
        c1, c2 = st.columns(2)
        fields["value_per_positive"] = c1.number_input(f"Money each {yes} outcome costs", min_value=0.0, value=100.0)
        fields["positive"] = c2.text_input(f"A {yes} outcome, in plural (e.g. late flights)", value=words)
    elif kind == "revenue_at_risk":
        c1, c2, c3 = st.columns(3)
        value = c1.selectbox("Column with each row's value (e.g. monthly charges)", [NONE, *numerical])
        fields["value_column"] = None if value == NONE else value
        fields["unit"] = c2.text_input("What that value is (e.g. monthly revenue)", value="revenue")
        fields["retention_rate"] = c3.slider(f"Share of flagged {yes} cases you can save", 0.0, 1.0, 0.3, 0.05)
        fields["positive"] = st.text_input(f"A {yes} outcome, in plural (e.g. customers who leave)", value=words)
    elif kind == "pricing_error":
        c1, c2 = st.columns(2)
        qty = c1.selectbox("Quantity sold at each price (e.g. nights), if any", [NONE, *numerical])
        fields["quantity_column"] = None if qty == NONE else qty
        fields["unit"] = c2.text_input("What one price is for (e.g. room night)", value="unit")
    elif kind == "error_cost":
        fields["value_per_unit"] = st.number_input("Money one unit of error costs", min_value=0.0, value=1.0)
    return fields


PRIVACY = {
    "keep": "Keep it as it is",
    "drop": "Drop it (never stored)",
    "hash": "Store a keyed hash instead",
}


def _personal(flags: list[PersonalColumn], *, key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """One choice per column that looks like personal data, inside the form: (hashed, dropped)."""
    if not flags:
        return (), ()
    st.markdown("**Personal data**")
    st.caption(
        "These columns look like personal data. Your choice applies to this file and to every later file of this "
        "model. A keyed hash turns each value into a code: the same value always gives the same code, so it still "
        "works as an id or a category input, and the real value is never stored."
    )
    hashed, dropped = [], []
    for flag in flags:
        choice = st.radio(
            f"`{flag.column}`: {flag.reason}",
            list(PRIVACY),
            index=list(PRIVACY).index(flag.suggested),
            format_func=PRIVACY.get,
            horizontal=True,
            key=f"privacy-{key}-{flag.column}",
        )
        if choice == "hash":
            hashed.append(flag.column)
        elif choice == "drop":
            dropped.append(flag.column)
    return tuple(hashed), tuple(dropped)


def mapping_form(frame: pd.DataFrame, guess: Suggestion, *, filename: str, key: str) -> MappingChoice | None:
    """Render the mapping step; returns the choice once the form is sent, else None."""
    cols = list(frame.columns)
    how = st.radio(
        "What should ModelPulse do?",
        ["train", "import"],
        horizontal=True,
        format_func=lambda h: {"train": "Train a model on this data", "import": "Monitor my own model's predictions"}[
            h
        ],
        help="Train: ModelPulse fits a PyTorch model on the older rows and checks it on the newer ones. "
        "Import: your model already made predictions; they are in a column of the file.",
    )
    # outside the form, so that what the model predicts and its 'yes' outcome follow the column picked here
    targets = [NONE, *cols] if how == "import" else cols
    target = st.selectbox(
        "Real outcome (target)",
        targets,
        index=targets.index(guess.target) if guess.target in targets else (0 if how == "import" else None),
        placeholder="Pick the column with the real outcome",
        help="What the model predicts, as it really turned out.",
    )
    chosen = None if target in (None, NONE) else target
    default_task = task_for(frame[chosen]) if chosen else guess.task
    task = st.radio(
        "What does the model predict?",
        list(TASKS),
        index=list(TASKS).index(default_task),
        horizontal=True,
        format_func=TASKS.get,
    )
    entity, id_from, id_columns = _ids(frame, guess)
    target_unit, unit_name = "money", ""
    if task == "regression":
        u1, u2 = st.columns(2)
        target_unit = u1.radio("One unit of the target is", list(UNITS), format_func=UNITS.get, horizontal=False)
        if target_unit in ("count", "score"):
            unit_name = u2.text_input("Counted in (e.g. bikes, orders, points)", value="")
    positive = _positive(frame, chosen) if task == "binary" else None
    kinds = [k.name for k in kinds_for_task(task, target_unit if task == "regression" else None)]
    kind = st.selectbox("Money", kinds, format_func=lambda k: KINDS[k].choice) if len(kinds) > 1 else kinds[0]
    if guess.dates is not None:
        (st.warning if guess.dates.problem else st.caption)(guess.dates.sentence)
    leaks = guess.leaks
    if chosen is not None and chosen != guess.target:
        # the guess checked for leaks against its own target (or none): check against the one picked
        rest = [c for c in cols if c not in (chosen, guess.timestamp, guess.entity)]
        leaks = leaky_columns(frame, target=chosen, task=task, columns=rest)
    for sentence in dict.fromkeys(leaks.values()):
        st.warning(f"{sentence} It is left out of the inputs; tick it only if it is known before the outcome.")
    if guess.idle:
        st.caption("Left out of the inputs, as they tell a model nothing: " + " ".join(guess.idle.values()))
    with st.form(f"mapping-{key}"):
        hashed, dropped = _personal(guess.personal, key=key)
        st.markdown("**Columns**")
        timestamp = st.selectbox("Time of each row", cols, index=cols.index(guess.timestamp) if guess.timestamp else 0)
        prediction, probabilities, label_column = None, [], "outcome"
        if how == "import":
            p1, p2 = st.columns(2)
            if task != "binary":
                prediction = p1.selectbox(
                    "Your model's prediction", [NONE, *cols], help="The predicted class or value."
                )
            if task != "regression":
                probabilities = p2.multiselect(
                    "Your model's probabilities",
                    cols,
                    help="Yes/no: the probability of 'yes'. Several classes: one column per class, in the order of "
                    "the class names below.",
                )
            label_column = st.text_input(
                "If the file has no outcomes yet: the outcome column's name in later outcome files", value="outcome"
            )
        special = {timestamp, entity, target, *id_columns} - {None, NONE}
        numerical = st.multiselect(
            "Number inputs", cols, default=[c for c in guess.numerical if c not in special and c not in leaks]
        )
        categorical = st.multiselect(
            "Category inputs",
            cols,
            default=[c for c in guess.categorical if c not in special and c not in leaks],
            help="Columns left out of both lists are ignored.",
        )
        st.markdown("**The model**")
        m1, m2, m3 = st.columns(3)
        base = table_name(filename)
        name = m1.text_input(
            "Short name",
            value="".join(ch if ch.isalnum() else "_" for ch in base.lower())[:30].strip("_") or "my_model",
            help="Lower case letters, digits and _.",
        )
        title = m2.text_input("Title", value=base.replace("_", " ").title()[:60])
        windows = ["day", "week", "month"]
        window = m3.selectbox(
            "Check every", windows, index=windows.index(guess.window), help="Proposed from the span of the data."
        )
        classes = ()
        if task != "regression" and how == "import":
            class_text = st.text_input(
                "Class names, comma separated (needed when the file has no outcomes)",
                help="Read from the target when the file has one.",
            )
            classes = tuple(c.strip() for c in class_text.split(",") if c.strip())
        st.markdown("**What an outcome is worth** (the money in alerts and KPIs)")
        noun = entity_noun(entity)
        entity_word = st.text_input("One row is a... (e.g. customer, booking, day)", value=noun)
        words = positive_words(target=chosen, value=positive, entity=noun) if chosen and positive else "'yes' outcomes"
        money_fields = _money(task, target_unit, kind, numerical, positive, words)
        reference = None
        if how == "import":
            ts = guess_times(frame[timestamp]).dropna()  # never raises on a column mixing time zones
            if len(ts):
                lo, hi = default_reference(ts)
                st.markdown("**Reference period**: rows your model was known to be good on")
                r1, r2 = st.columns(2)
                first, last = ts.min().date(), ts.max().date()
                reference = (
                    r1.date_input("From", value=lo, min_value=first, max_value=last),
                    r2.date_input("To", value=hi, min_value=first, max_value=last),
                )
        if not st.form_submit_button("Create the model", type="primary"):
            return None
    if target is None:
        st.error("Pick the column with the real outcome (the target): training learns from it.")
        return None
    # the model's own outputs, the special columns and dropped ones are never inputs, whatever the lists say
    outputs = {prediction, *probabilities, timestamp, entity, target, *id_columns, *dropped} - {None, NONE}
    numerical = [c for c in numerical if c not in outputs]
    categorical = [c for c in categorical if c not in outputs and c not in numerical]
    typed = entity_word.strip()
    if money_fields.get("positive") == words and typed and typed != noun and chosen and positive:
        # a form does not rerun while it is filled in: words proposed from the old noun follow the one typed
        money_fields["positive"] = positive_words(target=chosen, value=positive, entity=typed)
    try:
        business = BusinessConfig(
            kind=kind,
            entity=entity_word,
            target_noun=(target if target != NONE else "value").replace("_", " "),
            target_unit=target_unit,
            unit_name=unit_name,
            **money_fields,
        )
        mapping = Mapping(
            name=name.strip(),
            title=title.strip() or name,
            task=task,
            timestamp=timestamp,
            entity=entity,
            id_from=id_from,
            id_columns=id_columns,
            target=None if target == NONE else target,
            label_column=label_column.strip() or "outcome",
            numerical=tuple(numerical),
            categorical=tuple(categorical),
            prediction=None if prediction in (None, NONE) else prediction,
            probabilities=tuple(probabilities),
            classes=classes,
            positive_class=positive,
            window=window,
            business=business,
            hashed_columns=hashed,
            dropped_columns=dropped,
        )
        check_privacy(mapping)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        st.error(f"The mapping is not complete: {str(exc).splitlines()[-1].strip()}")
        return None
    except DataError as exc:
        st.error(exc.user_message)
        return None
    return MappingChoice(how=how, mapping=mapping, reference=reference)
