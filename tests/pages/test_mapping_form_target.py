"""The upload page's mapping form under AppTest when ModelPulse cannot guess the outcome (a German export): nothing
is picked for the founder, and once a column is picked the task and the 'yes' outcome follow its values."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from core.demo.datasets import CHURN
from tests.pages.test_mapping_form_privacy import _form


def test_an_outcome_the_guess_cannot_name_is_picked_and_the_rest_follows_it(tmp_path):
    frame = CHURN.load(REPO_ROOT / "data").head(400)
    frame = frame.rename(columns={"customer_id": "kundennummer", "signed_up_at": "anmeldung", "churn": "gekuendigt"})
    frame["gekuendigt"] = frame["gekuendigt"].map({"Yes": "ja", "No": "nein"})
    frame["status_konto"] = frame["gekuendigt"].map({"ja": "geschlossen", "nein": "offen"})  # the outcome again
    path = tmp_path / "kunden.parquet"
    frame.to_parquet(path)
    at = AppTest.from_function(_form, args=(str(path),), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    target = next(s for s in at.selectbox if s.label == "Real outcome (target)")
    assert target.value is None  # not the first column, not the id: nothing until the founder picks
    at.button[0].click().run()
    assert [e.value for e in at.error] == [
        "Pick the column with the real outcome (the target): training learns from it."
    ]
    assert "choice" not in at.session_state

    target.set_value("gekuendigt").run()
    task = next(r for r in at.radio if r.label == "What does the model predict?")
    assert task.value == "binary"
    yes = next(s for s in at.selectbox if s.label == "The 'yes' outcome (what the model looks for)")
    assert yes.options == ["ja", "nein"] and yes.value == "ja"  # "yes" in German, not the second value
    assert [w.value for w in at.warning if "status_konto" in w.value], "the leak is checked against the pick"
    inputs = next(m for m in at.multiselect if m.label == "Category inputs")
    assert "gekuendigt" not in inputs.value and "status_konto" not in inputs.value
    at.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    mapping = at.session_state["choice"].mapping
    assert mapping.target == "gekuendigt" and mapping.task == "binary" and mapping.positive_class == "ja"


def test_the_proposed_plural_follows_a_row_word_typed_in_the_form(tmp_path):
    """A form does not rerun while it is filled in: typing "subscriber" for "customer" left the plural at
    "customers who churn". The words still as proposed now follow the noun typed; words the founder wrote stay."""
    path = tmp_path / "subs.parquet"
    CHURN.load(REPO_ROOT / "data").head(400).to_parquet(path)

    def submitted(row_word: str, plural: str | None) -> str:
        at = AppTest.from_function(_form, args=(str(path),), default_timeout=60)
        at.run()
        money = next(s for s in at.selectbox if s.label == "Money")
        money.set_value(next(o for o in money.options if "fixed amount" in o)).run()
        words = next(t for t in at.text_input if t.label.endswith("outcome, in plural (e.g. late flights)"))
        assert words.value == "customers who churn"
        next(t for t in at.text_input if t.label.startswith("One row is a")).set_value(row_word)
        if plural is not None:
            words.set_value(plural)
        at.button[0].click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        return at.session_state["choice"].mapping.business.positive

    assert submitted("subscriber", None) == "subscribers who churn"
    assert submitted("subscriber", "lost subscriptions") == "lost subscriptions"
    assert submitted("customer", None) == "customers who churn"
