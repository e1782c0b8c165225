"""The demo's three models: real public datasets (loaders and time splits) and two versions each.

Nothing here is synthetic: the rows are the shipped tables in `data/` (sources and licences in
`data/README.md`), and the drift is what happened in them: newer telco cohorts churn more, hotel
prices follow the seasons, flights run late in summer and December.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataError
from core.intake.files import read_table
from core.schema import ArchConfig
from core.schema import BusinessConfig
from core.schema import ModelSpec

CHURN_SNAPSHOT = pd.Timestamp("2018-03-01")
"""The telco sample has no dates; we place its snapshot here, so signup month = snapshot - tenure."""

CHURN_COLUMNS = [
    "churn",
    "female",
    "senior_citizen",
    "partner",
    "dependents",
    "tenure",
    "phone_service",
    "multiple_lines",
    "internet_service",
    "online_security",
    "online_backup",
    "device_protection",
    "tech_support",
    "streaming_tv",
    "streaming_movies",
    "contract",
    "paperless_billing",
    "payment_method",
    "monthly_charges",
    "total_charges",
]
HOTEL_NUMERIC = [
    "lead_time",
    "stays_in_weekend_nights",
    "stays_in_week_nights",
    "adults",
    "children",
    "babies",
    "previous_cancellations",
    "previous_bookings_not_canceled",
    "days_in_waiting_list",
    "required_car_parking_spaces",
    "total_of_special_requests",
    "historical_adr",
]
HOTEL_CATEGORICAL = [
    "meal",
    "country",
    "market_segment",
    "distribution_channel",
    "is_repeated_guest",
    "reserved_room_type",
    "agent",
    "company",
    "customer_type",
    "near_christmas",
    "near_new_years",
]
FLIGHT_COLUMNS = [
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "sched_dep_time",
    "arr_delay",
    "carrier",
    "flight",
    "origin",
    "dest",
    "distance",
    "time_hour",
]
WEATHER_COLUMNS = [
    "origin",
    "time_hour",
    "temp",
    "dewp",
    "humid",
    "wind_dir",
    "wind_speed",
    "wind_gust",
    "precip",
    "pressure",
    "visib",
]


DEMO_TRAINING = {
    "max_epochs": 60,
    "patience": 6,
    "time_budget_s": None,
    "lr_schedule": "none",
    "calendar": False,
    "cyclic": False,
}
"""The training regime the demo's versions were tuned with (bench/RESULTS.md), kept so the demo stays the
same; models trained from a founder's file get the adaptive defaults of :class:`ArchConfig`."""


def demo_arch(**settings: object) -> ArchConfig:
    """A demo version's architecture: the demo's training regime, then the version's own settings."""
    return ArchConfig(**{**DEMO_TRAINING, **settings})


@dataclass(frozen=True)
class DemoModel:
    """One demo model: how to load its data, split it by time, and the two versions to train."""

    spec: ModelSpec
    load: Callable[[Path], pd.DataFrame]
    split: Callable[[pd.DataFrame], pd.Series]
    replay_unit: str  # "day" or "month"
    label_delay: pd.DateOffset
    versions: tuple[ArchConfig, ...]
    live: int = 1
    notes: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------- loaders
def load_churn(data_dir: Path) -> pd.DataFrame:
    """Telco churn with a signup timestamp (snapshot month minus tenure) and a customer id."""
    df = read_table(data_dir / "telco_churn.parquet", columns=CHURN_COLUMNS, tidy=False)
    n = np.arange(len(df))
    months = CHURN_SNAPSHOT.to_period("M") - df["tenure"].astype(int).to_numpy()
    start = pd.PeriodIndex(months, freq="M").to_timestamp()
    # spread signups over the month deterministically, so windows have real timestamps
    offset = pd.to_timedelta((n * 7919) % (27 * 24), unit="h")
    df.insert(0, "signed_up_at", start + offset)
    df.insert(0, "customer_id", [f"C{i + 1:05d}" for i in n])
    return df


def split_churn(df: pd.DataFrame) -> pd.Series:
    """Oldest cohorts train, the year before last validates, the newest 12 signup months are production."""
    tenure = df["tenure"]
    return pd.Series(
        np.where(tenure >= 24, "train", np.where(tenure >= 12, "validation", "production")), index=df.index
    )


def load_hotel(data_dir: Path) -> pd.DataFrame:
    """Hotel bookings by arrival date; target is the average price per room night."""
    cols = ["avg_price_per_room", "arrival_date", *HOTEL_NUMERIC, *HOTEL_CATEGORICAL]
    df = read_table(data_dir / "hotel_rates.parquet", columns=cols, tidy=False)
    arrival = pd.to_datetime(df["arrival_date"], errors="coerce")
    if arrival.isna().any():
        bad = int(arrival.isna().sum())
        first = int(np.flatnonzero(arrival.isna().to_numpy())[0])
        raise DataError(
            f"hotel_rates.parquet: column `arrival_date` has {bad} values that are not dates, first at row {first + 1}."
        )
    df = df.drop(columns=["arrival_date"])
    df.insert(0, "arrival_at", arrival + pd.Timedelta(hours=15))
    df.insert(0, "booking_id", [f"B{i + 1:05d}" for i in range(len(df))])
    df["nights"] = df["stays_in_weekend_nights"] + df["stays_in_week_nights"]
    return df.sort_values(["arrival_at", "booking_id"], kind="stable").reset_index(drop=True)


def split_hotel(df: pd.DataFrame) -> pd.Series:
    """2016-07..12 train, 2017-01..02 validation, 2017-03..08 production."""
    ts = df["arrival_at"]
    out = np.where(ts < "2017-01-01", "train", np.where(ts < "2017-03-01", "validation", "production"))
    return pd.Series(out, index=df.index)


def load_flights(data_dir: Path) -> pd.DataFrame:
    """Flights out of New York in 2013 joined with the hour's weather at the origin airport."""
    fl = read_table(data_dir / "flights.parquet", columns=FLIGHT_COLUMNS, tidy=False)
    wx = read_table(data_dir / "weather.parquet", columns=WEATHER_COLUMNS, tidy=False)
    # one reading of 1,048 mph wind (EWR, 12 Feb) is a recording error, not weather
    wx.loc[wx["wind_speed"] > 150, "wind_speed"] = np.nan
    df = fl.merge(wx, on=["origin", "time_hour"], how="left")
    dep = pd.to_datetime(
        dict(year=df["year"], month=df["month"], day=df["day"], hour=df["hour"], minute=df["minute"]), errors="coerce"
    )
    date = (df["year"] * 10000 + df["month"] * 100 + df["day"]).astype(str)
    df.insert(0, "departs_at", dep)
    df.insert(
        0,
        "flight_id",
        df["carrier"]
        + df["flight"].astype(str)
        + "-"
        + df["origin"]
        + "-"
        + date
        + "-"
        + df["sched_dep_time"].astype(str).str.zfill(4),
    )
    df["day_of_week"] = dep.dt.day_name().str[:3]
    df["status"] = np.where(df["arr_delay"].isna(), None, np.where(df["arr_delay"] > 15, "delayed", "on_time"))
    df = df.drop(columns=["year", "month", "day", "minute", "sched_dep_time", "flight", "time_hour", "arr_delay"])
    return df.sort_values(["departs_at", "flight_id"], kind="stable").reset_index(drop=True)


def split_flights(df: pd.DataFrame) -> pd.Series:
    """January-March train, April validation, May-December production."""
    ts = df["departs_at"]
    return pd.Series(
        np.where(ts < "2013-04-01", "train", np.where(ts < "2013-05-01", "validation", "production")), index=df.index
    )


# ---------------------------------------------------------------------------- the three models
CHURN = DemoModel(
    spec=ModelSpec(
        name="churn",
        title="Customer churn",
        description="Predicts which new telco customers will cancel, so the team can call them first.",
        task="binary",
        target="churn",
        timestamp="signed_up_at",
        entity="customer_id",
        numerical=("tenure", "monthly_charges", "total_charges"),
        categorical=tuple(c for c in CHURN_COLUMNS if c not in ("churn", "tenure", "monthly_charges", "total_charges")),
        classes=("No", "Yes"),
        positive_class="Yes",
        window="month",
        segments=("contract", "payment_method"),
        label_delay="about a month",
        min_rows=100,
        business=BusinessConfig(
            kind="revenue_at_risk",
            unit="monthly revenue",
            value_column="monthly_charges",
            retention_rate=0.3,
            entity="customer",
            positive="customers who leave",
            time_event="signed up",
            assumption="A customer who leaves takes their monthly charges with them; a call or offer keeps about "
            "3 in 10 of the customers it reaches.",
        ),
    ),
    load=load_churn,
    split=split_churn,
    replay_unit="month",
    label_delay=pd.DateOffset(months=1),
    versions=(
        demo_arch(hidden=(128, 64), dropout=0.1, note="all features, 128-64 MLP"),
        demo_arch(
            features=tuple(c for c in CHURN_COLUMNS if c not in ("churn", "tenure", "total_charges")),
            hidden=(128, 128),
            residual=True,
            batch_norm=True,
            dropout=0.2,
            note="drops tenure and total charges (they only say how old a customer is); residual 128-128 MLP",
        ),
    ),
)

HOTEL = DemoModel(
    spec=ModelSpec(
        name="hotel",
        title="Hotel room price",
        description="Predicts the average price per room night of a booking, to set rates.",
        task="regression",
        target="avg_price_per_room",
        timestamp="arrival_at",
        entity="booking_id",
        numerical=tuple(HOTEL_NUMERIC),
        categorical=tuple(HOTEL_CATEGORICAL),
        window="week",
        segments=("market_segment", "distribution_channel"),
        label_delay="a day (the price is known at check-in)",
        min_rows=100,
        business=BusinessConfig(
            kind="pricing_error",
            unit="room-night price",
            quantity_column="nights",
            entity="booking",
            target_noun="room price",
            time_event="arrived",
            assumption="Every dollar a room is priced wrong, times the nights booked, is money lost: either "
            "left on the table or a booking lost to a price set too high.",
        ),
    ),
    load=load_hotel,
    split=split_hotel,
    replay_unit="day",
    label_delay=pd.DateOffset(days=1),
    versions=(
        demo_arch(
            hidden=(128, 64),
            dropout=0.1,
            patience=10,
            min_category_count=30,
            note="128-64 MLP; agents, companies and countries with under 30 bookings pooled",
        ),
        demo_arch(
            hidden=(256, 256),
            residual=True,
            wide=True,
            dropout=0.1,
            patience=10,
            batch_size=256,
            min_category_count=10,
            note="wide-and-deep residual 256-256 MLP",
        ),
    ),
)

FLIGHTS = DemoModel(
    spec=ModelSpec(
        name="flights",
        title="Flight delays",
        description="Predicts which flights out of New York will arrive more than 15 minutes late.",
        task="binary",
        target="status",
        timestamp="departs_at",
        entity="flight_id",
        numerical=(
            "distance",
            "hour",
            "humid",
            "wind_dir",
            "wind_speed",
            "wind_gust",
            "precip",
            "pressure",
            "visib",
            "temp",
            "dewp",
        ),
        categorical=("carrier", "origin", "dest", "day_of_week"),
        classes=("on_time", "delayed"),
        positive_class="delayed",
        window="week",
        segments=("carrier", "origin"),
        label_delay="a day (arrival time is known the day after)",
        min_rows=500,
        business=BusinessConfig(
            kind="cost_per_event",
            unit="delayed flight",
            value_per_positive=1500.0,
            entity="flight",
            positive="late flights",
            negative="on-time",
            time_event="flew",
            assumption="A flight that lands more than 15 minutes late costs about $1,500: roughly 20 extra "
            "minutes of aircraft, crew and gate time at about $75 a minute. Replace it with your own figure.",
        ),
    ),
    load=load_flights,
    split=split_flights,
    replay_unit="day",
    label_delay=pd.DateOffset(days=1),
    versions=(
        demo_arch(
            features=(
                "distance",
                "hour",
                "humid",
                "wind_dir",
                "wind_speed",
                "wind_gust",
                "precip",
                "pressure",
                "visib",
                "carrier",
                "origin",
                "dest",
                "day_of_week",
            ),
            hidden=(128, 64),
            dropout=0.1,
            batch_size=1024,
            note="route, carrier, hour and weather without temperature; 128-64 MLP",
        ),
        demo_arch(
            hidden=(256, 128, 64),
            dropout=0.1,
            batch_size=1024,
            note="adds temperature and dew point (clipped to the training range); 256-128-64 MLP",
        ),
    ),
)

DEMO_MODELS: dict[str, DemoModel] = {m.spec.name: m for m in (CHURN, HOTEL, FLIGHTS)}
