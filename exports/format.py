"""How figures read to a person, in the TUI and in exports alike."""

from __future__ import annotations

from datetime import date, datetime


def money(value: float | None, currency: str | None = None, *, decimals: int = 0) -> str:
    if value is None or value != value:
        return "no data"
    text = f"{value:,.{decimals}f}"
    return f"{text} {currency}" if currency else text


def pct(value: float | None, decimals: int = 1) -> str:
    if value is None or value != value:
        return "no data"
    return f"{value:.{decimals}f}%"


def day(value: date | datetime | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()
