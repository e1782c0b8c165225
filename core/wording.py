"""Small helpers every sentence a person reads is built from: names, money, counts and shares."""

from __future__ import annotations

import math

from core.schema import ModelSpec


def upper_first(text: str) -> str:
    """`late flights` -> `Late flights`, and `US customers` stays `US customers`: str.capitalize would lower the
    rest of a founder's own words (`'TRUE' outcomes` -> `'true' outcomes`)."""
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1 :]
    return text


def human(column: str) -> str:
    """`monthly_charges` -> `monthly charges`."""
    return column.replace("_", " ").strip()


def money(spec: ModelSpec, amount: float) -> str:
    """`$4,200`: rounded to two significant figures, because false precision reads as noise."""
    amount = abs(float(amount))
    if not math.isfinite(amount):
        return "an unknown amount"
    if amount >= 100:
        digits = int(math.floor(math.log10(amount)))
        amount = round(amount, -(digits - 1))
    return f"{spec.business.currency}{amount:,.0f}"


def amount(spec: ModelSpec, value: float) -> str:
    """A value of a regression target in its own unit: `$120`, `12 bikes`, `3.4%`, `71 points`."""
    b = spec.business
    if b.target_unit == "money":
        return money(spec, value)
    value = float(value)
    if not math.isfinite(value):
        return "an unknown amount"
    if b.target_unit == "rate":
        return f"{value * 100:.1f}%"
    shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    if b.target_unit == "score":
        return f"{shown} {b.unit_name or 'points'}"
    return f"{shown} {b.unit_name or 'units'}"


def plural(n: float, word: str) -> str:
    """`1 customer`, `3 customers`."""
    n = int(round(n))
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def pct(x: float) -> str:
    """`0.42` -> `42%`."""
    return f"{x * 100:.0f}%"


def a_or_an(phrase: str) -> str:
    """`an input`, `a column`."""
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def format_value(unit: str, value: float | None, currency: str = "$") -> str:
    """A KPI value for people: money (`$4.2M`, `$12k`, `$950`), counts, shares or scores."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if unit == "money":
        if abs(value) >= 1_000_000:
            return f"{currency}{value / 1_000_000:,.1f}M"
        if abs(value) >= 10_000:
            return f"{currency}{value / 1_000:,.0f}k"
        return f"{currency}{value:,.0f}"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "share":
        return f"{value:.1%}"
    return f"{value:.3f}"


def short(text: object, limit: int = 40) -> str:
    """A value quoted in a sentence or a chart, cut at `limit` characters."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def group_phrase(spec: ModelSpec, column: str, segment: str) -> str:
    """One group of rows in words: `customers with contract Month-to-month`, `flights with no origin`,
    `bookings with another market segment`, `customers with tenure under 9`."""
    who, col = f"{spec.business.entity}s", human(column)
    if segment == "other values":
        return f"{who} with another {col}"
    if segment == "missing":
        return f"{who} with no {col}"
    return f"{who} with {col} {short(segment)}"


PEOPLE = {
    "customer",
    "user",
    "guest",
    "patient",
    "member",
    "client",
    "rider",
    "driver",
    "employee",
    "student",
    "subscriber",
    "buyer",
    "visitor",
    "person",
    "player",
    "applicant",
    "borrower",
    "tenant",
    "passenger",
}


def who_or_that(entity: str) -> str:
    """`who` for people (`customers who`), `that` for things (`flights that`)."""
    return "who" if entity.lower().strip() in PEOPLE else "that"


OUTCOME_VERBS = (
    "churn",
    "convert",
    "default",
    "cancel",
    "leave",
    "buy",
    "purchase",
    "click",
    "respond",
    "return",
    "renew",
)
"""Outcome names that are what the row does, in their plain form: `churn` = Yes -> `customers who churn`."""


def share_without(*, entity: str, positive: str) -> str:
    """The headline share of rows without the outcome, when no word for the other outcome was given:
    `late flights` -> "Share of flights not late", `customers who churn` -> "Share of customers who do not
    churn", anything else -> "Share of payments not among the fraudulent payments"."""
    things = f"{entity}s"
    words = positive.split()
    if words[1:] == [things] and words[0].isalpha():
        return f"Share of {things} not {words[0]}"
    if positive.startswith(f"{things} marked "):
        return f"Share of {things} not {positive.removeprefix(f'{things} ')}"
    for link in ("who", "that"):
        verb = positive.removeprefix(f"{things} {link} ")
        # only a verb known to be in its plain form: "who left" would read "who do not left"
        if verb != positive and verb in OUTCOME_VERBS:
            return f"Share of {things} {link} do not {verb}"
    return f"Share of {things} not among the {positive}"
