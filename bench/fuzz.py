"""Fuzzed files through every intake path, as many as you like: the strategies and checks of
`tests/intake/test_fuzz_input.py`, run by pytest with more examples, and a table of what happened.

Run from the repository root:

    .venv/bin/python bench/fuzz.py                 # each test's own number of examples (as in CI)
    .venv/bin/python bench/fuzz.py --examples 500  # 500 per path

Prints inputs tried / refused / accepted per path, the commonest refusals, and pytest's verdict: a
failure (a traceback, a refusal that changed the store, an accepted file monitoring cannot handle) is
pytest's report of the failing input.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    """Run the fuzz tests with `--examples` per path and print the counts they wrote."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=0, help="examples per path (0: each test's own)")
    parser.add_argument("-k", default="", help="pytest -k expression to run some paths only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        counts = Path(tmp) / "fuzz_counts.json"
        env = {
            **os.environ,
            "MODELPULSE_FUZZ_EXAMPLES": str(args.examples),
            "MODELPULSE_FUZZ_COUNTS": str(counts),
            "MODELPULSE_FUZZ_NO_SHRINK": "1",  # report the failing input as drawn, at once
        }
        cmd = [sys.executable, "-m", "pytest", "tests/intake/test_fuzz_input.py", "-q", "-p", "no:cacheprovider"]
        done = subprocess.run([*cmd, *(["-k", args.k] if args.k else [])], cwd=REPO, env=env)
        merged = json.loads(counts.read_text()) if counts.is_file() else {}
    print("\n| path | tried | refused | accepted |\n|---|---|---|---|")
    for path, c in merged.items():
        print(f"| {path} | {c.get('tried', 0)} | {c.get('refused', 0)} | {c.get('accepted', 0)} |")
    files = sum(c.get("tried", 0) for p, c in merged.items() if p.endswith("read_table") or p == "reader")
    print(f"\nfiles drawn: {files:,}; pytest exit status {done.returncode} (0: no failure)")
    for path, c in merged.items():
        for reason, n in c.get("top_refusals", {}).items():
            print(f"  {path}: {n} x '{reason} ...'")
    raise SystemExit(done.returncode)


if __name__ == "__main__":
    main()
