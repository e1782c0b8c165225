"""Reading tables from disk and checking they hold what we need, with one-sentence errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from core.errors import DataError


def read_table(path: Path | str, *, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a Parquet or CSV file; a missing, unreadable or wrong-format file is a DataError."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"The data file {path} is missing.")
    try:
        if path.suffix.lower() == ".parquet":
            frame = pd.read_parquet(path)
        elif path.suffix.lower() == ".csv":
            frame = pd.read_csv(path)
        else:
            raise DataError(f"The data file {path} must be .parquet or .csv.")
    except (OSError, ValueError, pa.ArrowException, pd.errors.ParserError) as exc:
        raise DataError(f"The data file {path} could not be read ({exc.__class__.__name__}: {exc}).") from exc
    if columns is not None:
        require_columns(frame, columns, source=str(path))
        frame = frame[columns]
    return frame


def require_columns(frame: pd.DataFrame, columns: list[str], *, source: str) -> None:
    """Raise a DataError naming every required column that `frame` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        names = ", ".join(f"`{c}`" for c in missing)
        plural = "columns" if len(missing) > 1 else "column"
        raise DataError(f"{source} is missing the {plural} {names}.")
