"""Big and wide files in a child process (`bench/limits.py`): stored or refused with one sentence, under 2 GB.

The 3,000-column file goes through `python -m core ingest` (CSV) and the upload page's reading and
guessing (Parquet); a file just under the upload limit through both. The limit is set to 50 MB here so
the test takes a few minutes, not the default 200 MB's; `bench/limits.py` measures that one.
"""

from __future__ import annotations

import pytest

from bench.limits import MAX_RSS_MB
from bench.limits import measure
from bench.limits import prepare
from bench.limits import store_settings

pytestmark = pytest.mark.slow

LIMIT_MB = 50


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("limits")
    paths = {p.name: p for p in prepare(root, LIMIT_MB, "at_limit,wide")}
    return root, paths


@pytest.mark.parametrize(
    ("name", "how"),
    [
        ("wide_3000.csv", "ingest"),
        ("wide_3000.parquet", "upload"),
        ("at_limit.csv", "upload"),
        ("at_limit.csv", "ingest"),
    ],
)
def test_stored_or_refused_in_one_sentence_under_two_gigabytes(files, name, how):
    root, paths = files
    result = measure(paths[name], how, store_settings(root), LIMIT_MB)
    assert "Traceback" not in result.output, result.output[-3000:]
    assert result.outcome.startswith(("Stored", "Read", "refused: ")), result.outcome
    if result.outcome.startswith("refused: "):
        sentence = result.outcome.removeprefix("refused: ").removeprefix("Error: ")
        assert sentence.endswith(".") and len(result.output.strip().splitlines()) == 1, result.output
    assert result.peak_mb < MAX_RSS_MB, f"{name} via {how}: peak RSS {result.peak_mb:,.0f} MB"
    if name == "at_limit.csv":
        assert result.size_mb <= LIMIT_MB and not result.outcome.startswith("refused"), result.outcome
