"""How figures read to a person, in the TUI and in exports alike."""

from __future__ import annotations

from datetime import date, datetime

from rituals.wording import counted

__all__ = ["counted", "day", "headline_target", "headline_text", "money", "pct"]


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


def headline_text(value: float | int | str | None, unit: str, currency: str | None = None) -> str:
    """A headline figure as every surface shows it (board, screens, minutes): by its unit, never guessed
    from a name."""
    if value is None or (isinstance(value, float) and value != value):
        return "no data"
    if isinstance(value, str):
        return value
    if unit == "pct":
        return pct(float(value))
    if unit == "money":
        return money(float(value), currency)
    if unit == "hours":
        return f"{float(value):.1f} h"
    if unit == "count":
        return f"{int(value):,}"
    return f"{value}"


def headline_target(target: float | None, unit: str, currency: str | None = None) -> str:
    return "" if target is None else headline_text(target, unit, currency)
