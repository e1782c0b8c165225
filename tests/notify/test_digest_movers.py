"""The weekly digest says, per model, which groups moved most (the analysis page's `what_changed`)."""

from __future__ import annotations

from core.notify import digest_message
from core.store import Store
from core.views.movers import what_changed


def test_digest_lists_what_moved_most_per_model(demo_settings):
    with Store.open(demo_settings.db_path, read_only=True) as store:
        rendered = digest_message(store, demo_settings)
        moved = {
            spec.name: [
                m.sentence for m in what_changed(store, spec, version=store.live_version(spec.name).version, limit=2)
            ]
            for spec in store.list_specs()
        }
    assert any(moved.values()), "the demo has groups that moved"
    for model, sentences in moved.items():
        entry = next(m for m in rendered.payload["models"] if m["model"] == model)
        assert entry["moved_most"] == sentences
        for sentence in sentences:
            assert f"  - moved most: {sentence}" in rendered.text
            assert sentence.replace("'", "&#x27;") in rendered.html
