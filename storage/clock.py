"""Where "today" comes from. FINOPS_TUI_TODAY=YYYY-MM-DD pins it (tests, demos)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TODAY_ENV = "FINOPS_TUI_TODAY"


def parse_date(text: str, what: str = "date") -> date:
    """An ISO YYYY-MM-DD date, or a ValueError naming what was expected."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"{what} must be an ISO date YYYY-MM-DD, got {text!r}") from exc


@dataclass(frozen=True)
class Clock:
    """A clock fixed to a day (``today``) or following the system clock (``None``).

    A fixed clock still moves within the day so that timestamps stay ordered; it reports noon UTC of
    the fixed day plus the seconds elapsed since midnight, which keeps TTD/TTR arithmetic plausible.
    """

    today_override: date | None = None
    tz: ZoneInfo = ZoneInfo("UTC")

    @classmethod
    def from_env(cls, tz: ZoneInfo | None = None) -> Clock:
        raw = os.environ.get(TODAY_ENV, "").strip()
        fixed = parse_date(raw, TODAY_ENV) if raw else None
        return cls(fixed, tz or ZoneInfo("UTC"))

    def now(self) -> datetime:
        """The current instant, timezone-aware in UTC."""
        real = datetime.now(UTC)
        if self.today_override is None:
            return real
        seconds = real.hour * 3600 + real.minute * 60 + real.second
        return datetime.combine(self.today_override, time(0), UTC) + timedelta(seconds=seconds)

    def today(self) -> date:
        """Today in the configured time zone (due dates and "overdue" use it)."""
        if self.today_override is not None:
            return self.today_override
        return datetime.now(self.tz).date()
