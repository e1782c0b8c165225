"""Resource limits of the intake path: big and wide files, each in a child process, peak memory measured.

Run from the repository root:

    .venv/bin/python bench/limits.py            # every file below, at the default 200 MB upload limit
    .venv/bin/python bench/limits.py --limit-mb 50 --only at_limit,over_limit

Files, generated in a temp dir from real churn rows (`data/telco_churn.parquet`, replicated with new ids
and times), or synthetic where columns must be many:

- `at_limit.csv`: just under `Settings.max_upload_mb`; `over_limit.csv`: 1% over it;
- `rows_1m.csv`: 1,000,000 rows; `wide_3000.csv` / `wide_3000.parquet`: 3,000 columns (the churn model's
  columns and 2,990 synthetic numbers), 2,000 rows.

Each file goes through two real paths in a fresh child process: `python -m core ingest FILE --model churn_m
--no-monitor` against a temp store seeded by creating a model from a file (`ingest`), and what the upload
page does with a new file: read the bytes, `read_table`, `suggest_mapping` (`upload`). Peak RSS is the
child's own (`os.wait4`), wall time includes Python's start. Outcome: stored, or refused with the sentence.
Target: no child above 2 GB; anything it cannot hold is refused with a sentence before it is read whole.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DO_NOT_TRACK", "1")

MODEL = "churn_m"
WIDE_COLUMNS = 3000
WIDE_ROWS = 2000
MAX_RSS_MB = 2048


@dataclass(frozen=True)
class Outcome:
    """What one child did with one file."""

    file: str
    path: str
    size_mb: float
    peak_mb: float
    seconds: float
    outcome: str
    output: str
    """Everything the child printed (a traceback would show here)."""


def churn_rows(n: int, prefix: str = "B"):
    """`n` real churn rows (replicated as needed) with ids `prefix`0.. and times 37 s apart from June 2018."""
    import numpy as np
    import pandas as pd

    from core.config import REPO_ROOT
    from core.demo.datasets import CHURN

    base = CHURN.load(REPO_ROOT / "data")
    frame = base.iloc[np.arange(n) % len(base)].reset_index(drop=True)
    frame["customer_id"] = [f"{prefix}{i:08d}" for i in range(n)]
    frame["signed_up_at"] = pd.Timestamp("2018-06-01") + pd.to_timedelta(np.arange(n) * 37, unit="s")
    return frame.drop(columns=["churn"])


def write_csv_of_size(path: Path, target_mb: float) -> Path:
    """A churn CSV of about `target_mb` MB (from the bytes per row of a sample), ids of its own."""
    prefix = path.stem.upper()
    per_row = len(churn_rows(20_000, prefix).to_csv(index=False).encode()) / 20_000
    churn_rows(int(target_mb * 1_000_000 / per_row), prefix).to_csv(path, index=False)
    return path


def write_wide(root: Path) -> list[Path]:
    """3,000 columns: the churn model's own columns and synthetic numbers, as CSV and as Parquet."""
    import numpy as np
    import pandas as pd

    frame = churn_rows(WIDE_ROWS, prefix="W")
    rng = np.random.default_rng(0)
    extra = WIDE_COLUMNS - frame.shape[1]
    synthetic = pd.DataFrame(rng.normal(size=(WIDE_ROWS, extra)).round(4), columns=[f"x{i}" for i in range(extra)])
    wide = pd.concat([frame, synthetic], axis=1)
    csv, parquet = root / "wide_3000.csv", root / "wide_3000.parquet"
    wide.to_csv(csv, index=False)
    wide.to_parquet(parquet, index=False)
    return [csv, parquet]


def make_files(root: Path, limit_mb: int, only: set[str] | None = None) -> list[Path]:
    """Generate the benchmark's files under `root` (the `only` ones when given)."""
    files = []
    want = lambda name: only is None or name in only  # noqa: E731
    if want("at_limit"):
        files.append(write_csv_of_size(root / "at_limit.csv", limit_mb * 0.995))
    if want("over_limit"):
        files.append(write_csv_of_size(root / "over_limit.csv", limit_mb * 1.01))
    if want("rows_1m"):
        path = root / "rows_1m.csv"
        churn_rows(1_000_000, prefix="M").to_csv(path, index=False)
        files.append(path)
    if want("wide"):
        files += write_wide(root)
    return files


def store_settings(root: Path):
    """Settings of the temp store under `root` (the children find it through MODELPULSE_DB)."""
    from core.config import Settings

    return Settings.under(root / "store" / "modelpulse.duckdb", seed=42, threads=2)


def prepare(root: Path, limit_mb: int, only: str = "") -> list[Path]:
    """Seed the store and write the files in a child process, and return the files' paths.

    Not in this process: a child's peak RSS (`ru_maxrss`) counts the memory of the parent it was forked
    from until it execs, so a parent that had built a 200 MB frame would inflate every measurement."""
    args = [sys.executable, str(Path(__file__).resolve()), "--child-prepare", str(root), "--limit-mb", str(limit_mb)]
    subprocess.run([*args, "--only", only], cwd=REPO, check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    order = ["at_limit.csv", "over_limit.csv", "rows_1m.csv", "wide_3000.csv", "wide_3000.parquet"]
    return [root / name for name in order if (root / name).is_file()]


def seed_store(root: Path):
    """A store with one trained churn model, created from a file as the upload page does (tiny network)."""
    import pandas as pd

    from core.intake.create import create_trained_model
    from core.schema import ArchConfig
    from core.store import Store
    from tests.conftest import churn_mapping

    cfg = store_settings(root)
    cfg.db_path.parent.mkdir(parents=True, exist_ok=True)
    from core.config import REPO_ROOT
    from core.demo.datasets import CHURN

    frame = CHURN.load(REPO_ROOT / "data").head(600).copy()
    frame["customer_id"] = [f"S{i:05d}" for i in range(len(frame))]  # ids the measured files never use
    frame["signed_up_at"] = pd.Timestamp("2018-01-01") + pd.to_timedelta(range(len(frame)), unit="h")
    mapping = churn_mapping(
        name=MODEL, title="Churn (limits)", categorical=("contract", "payment_method", "internet_service")
    )
    with Store.open(cfg.db_path, create=True) as store:
        create_trained_model(
            store=store,
            settings=cfg,
            mapping=mapping,
            frame=frame,
            source="seed.csv",
            arch=ArchConfig(hidden=(16,), max_epochs=2),
            progress=lambda _: None,
        )
    return cfg


def child_env(cfg, limit_mb: int) -> dict[str, str]:
    """The environment of a child: the temp store, the upload limit, two threads, no scheduler."""
    env = dict(os.environ)
    env.update(
        MODELPULSE_DB=str(cfg.db_path),
        MODELPULSE_MODELS_DIR=str(cfg.models_dir),
        MODELPULSE_INBOX=str(cfg.inbox_dir),
        MODELPULSE_MAX_UPLOAD_MB=str(limit_mb),
        MODELPULSE_THREADS="2",
        MODELPULSE_SCHEDULER="off",
        PYTHONPATH=str(REPO),
    )
    return env


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Run `args`; return its own peak RSS (MB), wall seconds, exit status and its output."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        output = out.read().decode(errors="replace")
    return usage.ru_maxrss / 1024, seconds, proc.returncode, output


def measure(path: Path, how: str, cfg, limit_mb: int) -> Outcome:
    """One file through one path (`ingest` or `upload`) in a child process."""
    if how == "ingest":
        args = [sys.executable, "-m", "core", "ingest", str(path), "--model", MODEL, "--no-monitor"]
    else:
        args = [sys.executable, str(Path(__file__).resolve()), "--child-upload", str(path)]
    peak, seconds, rc, output = run_child(args, child_env(cfg, limit_mb))
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if rc == 0 and last.startswith(("Stored", "Read")):
        outcome = last
    elif rc == 1:
        outcome = f"refused: {last}"
    else:
        outcome = f"FAILED (exit {rc}): {last}"
    return Outcome(path.name, how, path.stat().st_size / 1e6, peak, seconds, outcome, output)


def child_upload(path: Path) -> None:
    """What the upload page does with a new file: the bytes in memory, `read_table`, `suggest_mapping`."""
    from core.config import load_settings
    from core.errors import ModelPulseError
    from core.intake.files import read_table
    from core.intake.suggest import suggest_mapping

    cfg = load_settings()
    data = path.read_bytes()  # Streamlit hands the page the whole upload as bytes
    try:
        frame = read_table(data, name=path.name, max_mb=cfg.max_upload_mb)
        guess = suggest_mapping(frame)
    except ModelPulseError as exc:
        print(exc.user_message)
        raise SystemExit(1) from None
    print(f"Read {len(frame):,} rows x {frame.shape[1]:,} columns; guessed time `{guess.timestamp}`.")


def main() -> None:
    """Generate the files, run each through each path, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-mb", type=int, default=200, help="MODELPULSE_MAX_UPLOAD_MB for the children")
    parser.add_argument("--only", default="", help="comma-separated: at_limit, over_limit, rows_1m, wide")
    parser.add_argument("--paths", default="ingest,upload", help="comma-separated: ingest, upload")
    parser.add_argument("--child-upload", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-prepare", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    only = {o.strip() for o in args.only.split(",") if o.strip()} or None
    if args.child_upload:
        child_upload(args.child_upload)
        return
    if args.child_prepare:
        seed_store(args.child_prepare)
        make_files(args.child_prepare, args.limit_mb, only)
        return
    from bench.common import busy_warning

    busy_warning()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = prepare(root, args.limit_mb, args.only)
        cfg = store_settings(root)
        print("| file | path | MB | peak RSS MB | seconds | outcome |\n|---|---|---|---|---|---|", flush=True)
        worst = 0.0
        for path in files:
            for how in [p.strip() for p in args.paths.split(",") if p.strip()]:
                r = measure(path, how, cfg, args.limit_mb)
                worst = max(worst, r.peak_mb)
                print(
                    f"| {r.file} | {r.path} | {r.size_mb:,.1f} | {r.peak_mb:,.0f} | {r.seconds:,.1f} | {r.outcome} |",
                    flush=True,
                )
        print(f"\nhighest peak RSS: {worst:,.0f} MB (target below {MAX_RSS_MB:,} MB)")


if __name__ == "__main__":
    main()
