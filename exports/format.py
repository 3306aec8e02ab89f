"""How figures read to a person, in the TUI and in exports alike."""

from __future__ import annotations

from datetime import date, datetime

from rituals.wording import counted

__all__ = ["counted", "day", "figure_text", "headline_target", "headline_text", "money", "pct", "signed_change"]


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
    return figure_text(value, unit, currency, missing="no data")


def figure_text(value: object, unit: str, currency: str | None = None, *, exact: bool = False,
                missing: str = "-") -> str:
    """A frozen figure as text, by its declared kind: money with its currency (cents when ``exact``, as
    detail tables show it; whole units as headlines do), a percentage, a count, hours, a date, text."""
    if value is None or (isinstance(value, float) and value != value):
        return missing
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value[:10] if unit == "date" else value
    if not isinstance(value, int | float):
        return str(value)
    if unit == "pct":
        return pct(float(value))
    if unit == "money":
        return money(float(value), currency or None, decimals=2 if exact else 0)
    if unit == "hours":
        return f"{float(value):.1f} h"
    if unit == "count":
        return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"
    return f"{value}"


def signed_change(now: object, then: object, unit: str, currency: str | None = None) -> str:
    """How a figure moved between two runs, in its kind: ``+0.6 pts``, ``-1,234 USD``, ``+2``."""
    if not isinstance(now, int | float) or not isinstance(then, int | float) or isinstance(now, bool):
        return "-"
    # The change between the figures as shown, so that it adds up for the reader.
    places = {"pct": 1, "money": 0, "hours": 1}.get(unit, 2)
    delta = round(round(float(now), places) - round(float(then), places), places)
    sign = "+" if delta > 0 else "-" if delta < 0 else "±"
    size = abs(delta)
    if unit == "pct":
        return f"{sign}{size:.1f} pts"
    if unit == "money":
        return f"{sign}{money(size, currency or None)}"
    if unit == "hours":
        return f"{sign}{size:.1f} h"
    return f"{sign}{size:,.0f}" if size.is_integer() else f"{sign}{size:,.2f}"


def headline_target(target: float | None, unit: str, currency: str | None = None) -> str:
    return "" if target is None else headline_text(target, unit, currency)
