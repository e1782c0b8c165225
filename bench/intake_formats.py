"""What reading a founder's dates and spreadsheets costs, against the plain pandas read in the same run.

Run from the repository root:

    .venv/bin/python bench/intake_formats.py [--rows N] [--book-rows N]

1. Times: 1,000,000 times (30 s apart from 2018-01-01) written year first, day first (`13/02/2018 10:30`) and
   month first, read by `parse_timestamps` (which decides the order and rewrites numbers-only dates year first)
   and by the peer, pandas' own `to_datetime(format="mixed")` on the same text (what the reader did before,
   reading day-first text half wrong). Median of 3 runs each; the ratio is ours / peer.
2. Workbooks: `--book-rows` real churn rows (22 columns) as an Excel workbook and as the same rows' CSV, each
   read by `read_table` in a fresh process; wall time and peak RSS above a bare import of the reader. The ratio
   is workbook / CSV.
3. Numbers and encodings: `--rows` real churn rows (22 columns) as a plain UTF-8 CSV, as a US export (both money
   columns `$1,889.50`, a `12.5%` column, a totals row) and as Windows-1252 (accented contracts), each read by
   `read_table` and by the peer, a bare `pandas.read_csv` of the same bytes as text (the least any reader
   costs). Median of 3 in this process; the ratio is ours / peer. The US file's numbers must equal the plain
   file's.

4. JSON and packed files: `--json-rows` real churn rows as JSON lines, as a JSON list of records, as gzipped JSON
   lines and as gzipped CSV, each read by `read_table` and by its peer, pandas' own reader of the same file
   (`read_json(lines=...)`, `read_csv` of the .gz), each in a fresh process: wall time and peak RSS above the
   imports. The ratio is ours / peer. Every file must give the plain CSV's rows.

`--only 3` runs one section. Exit status 0. Results are in bench/RESULTS.md (sessions 13, 14 and 15).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DO_NOT_TRACK", "1")

import argparse  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.common import busy_warning  # noqa: E402
from core.intake.dates import parse_timestamps  # noqa: E402

FORMATS = {"year first": "%Y-%m-%d %H:%M:%S", "day first": "%d/%m/%Y %H:%M", "month first": "%m/%d/%Y %H:%M"}
READ = """
import re, sys, time
sys.path.insert(0, {repo!r})
from core.intake.files import read_table
def peak():  # VmHWM belongs to this process's memory (ru_maxrss would carry the parent's across exec)
    return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) / 1024
base = peak()
t0 = time.perf_counter()
frame = read_table({path!r}, max_mb=200)
print(time.perf_counter() - t0, peak() - base, len(frame))
"""


def _median(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def times(n: int) -> None:
    stamps = pd.Timestamp("2018-01-01") + pd.to_timedelta(np.arange(n) * 30, unit="s")
    print(f"1. {n:,} times, median of 3 (s)")
    print(f"{'written':12} {'ours':>7} {'pandas':>7} {'ratio':>6}  ours right / pandas right")
    for name, fmt in FORMATS.items():
        frame = pd.DataFrame({"t": pd.Series(stamps.strftime(fmt), dtype=object)})
        truth = stamps.floor("min") if "%S" not in fmt else stamps
        ours = _median(lambda frame=frame: parse_timestamps(frame, "t", source="bench"))
        peer = _median(lambda frame=frame: pd.to_datetime(frame["t"].astype("string"), errors="coerce", format="mixed"))
        right = (parse_timestamps(frame, "t", source="bench") == truth).mean()
        peer_right = (pd.to_datetime(frame["t"].astype("string"), errors="coerce", format="mixed") == truth).mean()
        print(f"{name:12} {ours:>7.2f} {peer:>7.2f} {ours / peer:>6.2f}  {right:.1%} / {peer_right:.1%}")


def books(n: int) -> None:
    from core.config import REPO_ROOT
    from core.demo.datasets import CHURN

    churn = CHURN.load(REPO_ROOT / "data")
    rows = pd.concat([churn] * (n // len(churn) + 1), ignore_index=True).head(n)
    print(f"\n2. {n:,} churn rows x {rows.shape[1]} columns, read by read_table in a fresh process")
    with tempfile.TemporaryDirectory(prefix="mp-bench-formats-") as tmp:
        paths = {"workbook": Path(tmp) / "rows.xlsx", "csv": Path(tmp) / "rows.csv"}
        rows.to_excel(paths["workbook"], index=False, engine="openpyxl")
        rows.to_csv(paths["csv"], index=False, date_format="%Y-%m-%d %H:%M:%S")
        measured = {}
        for kind, path in paths.items():
            code = READ.format(repo=str(REPO), path=str(path))
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            seconds, mb, read = out.split()
            assert int(read) == n, (kind, read)
            measured[kind] = (float(seconds), float(mb), path.stat().st_size / 1e6)
        print(f"{'file':9} {'size MB':>8} {'seconds':>8} {'peak MB above import':>21}")
        for kind, (seconds, mb, size) in measured.items():
            print(f"{kind:9} {size:>8.1f} {seconds:>8.1f} {mb:>21.0f}")
        (ws, wm, _), (cs, cm, _) = measured["workbook"], measured["csv"]
        print(f"ratio workbook / csv: time {ws / cs:.1f}x, memory {wm / max(cm, 1):.1f}x")


def numbers(n: int) -> None:
    import io

    from core.config import REPO_ROOT
    from core.demo.datasets import CHURN
    from core.intake.files import EMPTY
    from core.intake.files import read_table

    churn = CHURN.load(REPO_ROOT / "data")
    rows = pd.concat([churn] * (n // len(churn) + 1), ignore_index=True).head(n)
    rows["discount"] = (np.arange(n) % 8 * 2.5).round(1)
    plain = rows.to_csv(index=False, date_format="%Y-%m-%d %H:%M:%S")
    us = rows.assign(
        monthly_charges=rows["monthly_charges"].map("${:,.2f}".format),
        total_charges=rows["total_charges"].map(lambda v: "" if pd.isna(v) else f"${v:,.2f}"),
        discount=rows["discount"].map("{}%".format),
    ).to_csv(index=False, date_format="%Y-%m-%d %H:%M:%S")
    totals = pd.DataFrame([{c: "" for c in rows.columns}]).assign(customer_id="Total")
    totals["monthly_charges"] = f"${rows['monthly_charges'].sum():,.2f}"
    us += totals.to_csv(index=False, header=False)
    accented = rows.assign(contract=rows["contract"].str.replace("Month", "Mês", regex=False))
    windows = accented.to_csv(index=False, date_format="%Y-%m-%d %H:%M:%S").encode("cp1252")
    files = {"plain UTF-8": plain.encode(), "US export": us.encode(), "Windows-1252": windows}
    print(f"\n3. {n:,} churn rows x {rows.shape[1]} columns, median of 3 (s)")
    print(f"{'file':13} {'MB':>6} {'ours':>6} {'peer':>6} {'ratio':>6}")
    read = {}
    for name, data in files.items():
        ours = _median(lambda data=data: read_table(data, name="rows.csv", max_mb=500, max_rows=2_000_000))
        encoding = "cp1252" if name == "Windows-1252" else "utf-8"
        peer = _median(
            lambda data=data, encoding=encoding: pd.read_csv(
                io.BytesIO(data), dtype=str, keep_default_na=False, na_values=list(EMPTY), encoding=encoding
            )
        )
        read[name] = read_table(data, name="rows.csv", max_mb=500, max_rows=2_000_000)
        print(f"{name:13} {len(data) / 1e6:>6.1f} {ours:>6.2f} {peer:>6.2f} {ours / peer:>6.2f}")
    for column in ("monthly_charges", "total_charges", "discount"):
        a = pd.to_numeric(read["US export"][column])
        b = pd.to_numeric(read["plain UTF-8"][column])
        b = b / 100 if column == "discount" else b
        assert len(a) == n and np.allclose(a, b, equal_nan=True), column
    assert read["Windows-1252"]["contract"].str.startswith("Mês").any()
    print("US export numbers equal the plain file's; the totals row left out; accents read from Windows-1252")


PEER = """
import re, sys, time
import pandas as pd
def peak():
    return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) / 1024
base = peak()
t0 = time.perf_counter()
path = {path!r}
if ".json" in path:
    frame = pd.read_json(path, lines=path.endswith((".jsonl", ".jsonl.gz")), dtype=False)
else:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
print(time.perf_counter() - t0, peak() - base, len(frame))
"""


def _fresh(code: str) -> tuple[float, float, int]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    seconds, mb, n = out.split()
    return float(seconds), float(mb), int(n)


def packed(n: int) -> None:
    import gzip
    import json

    from core.config import REPO_ROOT
    from core.demo.datasets import CHURN
    from core.intake.files import read_table

    churn = CHURN.load(REPO_ROOT / "data")
    rows = pd.concat([churn] * (n // len(churn) + 1), ignore_index=True).head(n)
    rows["customer_id"] = [f"C{i:07d}" for i in range(n)]
    text = rows.assign(signed_up_at=rows["signed_up_at"].dt.strftime("%Y-%m-%d %H:%M:%S"))
    records = [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in text.to_dict("records")
    ]
    lines = "\n".join(json.dumps(r) for r in records).encode()
    plain = text.to_csv(index=False).encode()
    print(f"\n4. {n:,} churn rows x {rows.shape[1]} columns, each read in a fresh process")
    print(f"{'file':16} {'MB':>6} {'ours s':>7} {'peer s':>7} {'ratio':>6} {'ours MB':>8} {'peer MB':>8} {'ratio':>6}")
    with tempfile.TemporaryDirectory(prefix="mp-bench-packed-") as tmp:
        files = {
            "rows.csv": plain,
            "rows.jsonl": lines,
            "rows.json": b"[" + lines.replace(b"\n", b",\n") + b"]",
            "rows.jsonl.gz": gzip.compress(lines, compresslevel=6),
            "rows.csv.gz": gzip.compress(plain, compresslevel=6),
        }
        expected = read_table(plain, name="rows.csv", max_mb=2000, max_rows=2_000_000)
        for name, data in files.items():
            path = Path(tmp) / name
            path.write_bytes(data)
            mine = _fresh(READ.format(repo=str(REPO), path=str(path)).replace("max_mb=200", "max_mb=2000"))
            peer = _fresh(PEER.format(path=str(path)))
            assert mine[2] == n and peer[2] == n, (name, mine, peer)
            print(
                f"{name:16} {len(data) / 1e6:>6.1f} {mine[0]:>7.2f} {peer[0]:>7.2f} {mine[0] / peer[0]:>6.2f}"
                f" {mine[1]:>8.0f} {peer[1]:>8.0f} {mine[1] / max(peer[1], 1):>6.2f}"
            )
            if name != "rows.csv":
                got = read_table(data, name=name, max_mb=2000, max_rows=2_000_000)
                pd.testing.assert_frame_equal(got, expected, obj=name)
    print("every file gave the plain CSV's rows")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--book-rows", type=int, default=100_000)
    parser.add_argument("--json-rows", type=int, default=300_000)
    parser.add_argument("--only", type=int, choices=(1, 2, 3, 4))
    args = parser.parse_args()
    print("ModelPulse bench/intake_formats.py")
    busy_warning()
    sections = {
        1: lambda: times(args.rows),
        2: lambda: books(args.book_rows),
        3: lambda: numbers(args.rows),
        4: lambda: packed(args.json_rows),
    }
    for number, run in sections.items():
        if args.only in (None, number):
            run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
