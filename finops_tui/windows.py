"""--start/--end as one rule for every headless command: ISO dates, start inclusive, end exclusive."""

from __future__ import annotations

from datetime import date, timedelta

from finops_tui.errors import BadInput


def date_window(start: str | None, end: str | None, default: tuple[date, date], span_days: int) -> tuple[date, date]:
    """Neither option: ``default``. One alone: a window of ``span_days`` from (or up to) it. Bad or reversed
    dates exit 2 naming the option."""
    from storage.clock import parse_date

    try:
        s = parse_date(start, "--start") if start else None
        e = parse_date(end, "--end") if end else None
    except ValueError as exc:
        raise BadInput(str(exc)) from exc
    if s is None and e is None:
        return default
    if s is None:
        s = e - timedelta(days=span_days)  # type: ignore[operator]
    if e is None:
        e = s + timedelta(days=span_days)
    if s >= e:
        raise BadInput(f"--start {s.isoformat()} must be before --end {e.isoformat()}")
    return s, e
