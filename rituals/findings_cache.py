"""A ritual's findings as last computed for a run, kept in the home so its screen can paint them at once on
the next open while it recomputes them.

The entry is the findings' own ``as_json()`` (the headless ``--json`` object, which is what the screens
render their first figures from), one entry per ritual kind in ``findings-cache.json`` (beside the board's
``figures-cache.json``, outside ``costs.duckdb``). It is keyed exactly as the board's KPI strip is
(``storage.figure_cache.cache_key``: the cost store's last load, the records' version, the config and
today) and it also holds what was asked: the period, the run and the ritual's options. Read back:

- asked for something else (another period, run or option): nothing, a miss (never shown);
- the same request under another key (a load, a write to the records, another day since): returned with
  ``current`` False, for the screen to show marked stale while it recomputes; never as current;
- a damaged or unreadable file, or an entry another version wrote: nothing.

Only an open run reads or writes it: a closed run shows what it froze, never cached live figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from storage import figure_cache

if TYPE_CHECKING:
    from rituals.ritual import Findings, JsonObject
    from rituals.session import RunSession

CACHE_FILE = "findings-cache.json"
# Tables whose rows no ritual's findings read: the notification delivery log changes with every send
# (a retry must not evict the figures of the meeting being held).
UNREAD_TABLES = frozenset({"notification", "notify_channel"})


@dataclass(frozen=True)
class CachedFindings:
    numbers: JsonObject  # the findings' as_json() when they were computed
    computed_at: datetime
    current: bool  # computed under the present key; False: a load, a records or config change, or a day since


@cache
def record_tables() -> tuple[str, ...]:
    """Every record table but the delivery log: a ritual's findings read most of them (runs, actions, cases,
    teams, budgets, forecasts, scores, RACI, recommendations), and a key read from more tables than needed
    only evicts more often, never shows a stale figure."""
    from storage.records import SQLModel

    return tuple(sorted(t for t in SQLModel.metadata.tables if t not in UNREAD_TABLES))


def request(session: RunSession, options: dict[str, object]) -> dict[str, Any]:
    """What the findings were asked for: the run, its period and window, the ritual's options."""
    start, end = session.window
    return {"kind": session.ritual.kind, "period": session.period, "run_id": session.run_id,
            "window": [start.isoformat(), end.isoformat()],
            "options": {k: options[k] for k in sorted(options)}}


def key(session: RunSession) -> dict[str, Any]:
    """The key the findings are computed under; taken before computing, so a write landing meanwhile leaves
    the entry stale rather than passing old figures off as new."""
    return figure_cache.cache_key(session.home, record_tables())


def read(session: RunSession, options: dict[str, object] | None = None) -> CachedFindings | None:
    """The findings last computed for this open run with these options, or None."""
    if not session.is_open:
        return None
    asked = _plain(request(session, dict(options or {})))
    found = figure_cache.read(session.home, session.ritual.kind, lambda: key(session), file=CACHE_FILE,
                              wanted=lambda figures: figures.get("request") == asked)
    if found is None:
        return None
    numbers = found.figures.get("numbers")
    if not isinstance(numbers, dict):
        return None
    return CachedFindings(numbers, found.computed_at, found.current)


def write(session: RunSession, options: dict[str, object], computed_under: dict[str, Any], findings: Findings,
          computed_at: datetime) -> None:
    """Keep ``findings`` (computed under ``computed_under``) for the next open of this run."""
    if not session.is_open:
        return
    figures = {"request": _plain(request(session, options)), "numbers": findings.as_json()}
    figure_cache.write(session.home, session.ritual.kind, computed_under, figures, computed_at, file=CACHE_FILE)


def _plain(value: Any) -> Any:
    # The request compared with what JSON gives back (tuples become lists).
    import json

    return json.loads(json.dumps(value, default=str))
