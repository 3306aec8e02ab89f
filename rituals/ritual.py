"""What a ritual is: one definition per ritual, and the registry every surface reads.

A ritual is defined once, in ``rituals/definitions/<kind>.py``: its kind, title, cadence and period shape,
its steps (ids and titles, never numbers), ``findings`` (the figures of a window, a typed object whose
``as_json()`` is the headless ``--json`` object), what its close freezes and the extras its close writes
in the same transaction. ``RITUALS`` is built from those five definitions; the records' run kinds, the
calendar, the board, the app's screens, the headless commands and the minutes all read it, so a kind
string and a step title each appear in one place.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING, Literal, Protocol, TypeAlias

if TYPE_CHECKING:
    from sqlmodel import Session

    from storage.home import Home
    from storage.records import RitualRun

JsonValue: TypeAlias = "None | bool | int | float | str | list[JsonValue] | dict[str, JsonValue]"
JsonObject: TypeAlias = "dict[str, JsonValue]"
PeriodShape = Literal["W", "M", "Q"]
# The kind of a frozen figure: money (in the figures' currency), a percentage (0-100), a count, hours, an
# ISO date, or text. Renderers format a figure by its declared kind, never by its name.
Unit = Literal["money", "pct", "count", "hours", "date", "text"]
UNITS: tuple[Unit, ...] = ("money", "pct", "count", "hours", "date", "text")
Window = tuple[date, date]

PERIOD_EXAMPLES: dict[str, str] = {"W": "2026-W47", "M": "2026-11", "Q": "2026-Q4"}


@dataclass(frozen=True)
class StepDef:
    """A step of the meeting: its id (notes and decisions are keyed by it) and the title every surface
    shows (screen sidebar, minutes headings, agenda)."""

    id: str
    title: str


# Every ritual's meeting opens with its attendees and ends with decisions and the record.
ATTENDEES = StepDef("attendees", "Attendees")
DECISIONS = StepDef("decisions", "Decisions and actions")
RECORD = StepDef("record", "Record")


@dataclass(frozen=True)
class Headline:
    """A headline figure with its unit: what the board, the KPI strip and the minutes' summary show."""

    key: str
    title: str
    value: float | int | str | None
    unit: Unit
    target: float | None = None
    currency: str | None = None


class Findings(Protocol):
    """A ritual's figures for one window."""

    def as_json(self) -> JsonObject:
        """The headless ``--json`` object: plain JSON values only (dates as ISO text, no NaN)."""
        ...

    def headlines(self) -> list[Headline]:
        """The few figures a summary leads with, read from the same object ``as_json`` prints."""
        ...


@dataclass(frozen=True)
class Request:
    """What ``findings`` is asked for: the window, the run's period, the run being held (its own actions
    are new, not carried) and command-line options (``lookback``, ``detect``)."""

    window: Window
    period: str
    run_id: int | None = None
    options: dict[str, object] = field(default_factory=dict)
    # Called (from the computing thread) with the figures computed so far, a part of ``as_json()`` with its
    # top-level keys as they will be, by a ritual whose findings come step by step (the monthly agenda:
    # item by item), so a screen paints the first steps' figures before the rest are computed. Never
    # changes what is computed; the headless commands pass none.
    progress: Callable[[JsonObject], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CloseInput:
    """What a ritual's close extras get, inside the close transaction."""

    home: Home
    run: RitualRun
    findings: Findings
    numbers: JsonObject
    prepared: object
    actor_id: int | None


@dataclass(frozen=True)
class Ritual:
    kind: str
    title: str
    cadence: str
    owner: str
    output: str
    period_shape: PeriodShape
    reviews_ended_period: bool  # the month or quarter just ended (reviews), or the current one
    steps: tuple[StepDef, ...]  # the ritual's own steps, between attendees and decisions
    command: str  # the headless command, as a user types it
    window: Callable[[Home, str], Window]
    compute: Callable[[Home, Request], Findings]
    # The headline figures, read from the --json object (so the same function serves live findings, the
    # frozen numbers of a closed run, the board and the minutes' summary).
    headlines: Callable[[JsonObject], list[Headline]]
    # What the run freezes: by default exactly ``findings.as_json()``; a ritual whose record holds the
    # facilitator's decisions (the quarterly scores) builds it from the run in the close transaction.
    freeze: Callable[[Session, Home, RitualRun, Findings], JsonObject] | None = None
    # Slow reads the close needs (a forecast), made before the transaction opens.
    prepare_close: Callable[[Home, RitualRun, Findings], object] | None = None
    # Records the close writes beside the frozen run, in the same transaction; what it did, for the user.
    close_extras: Callable[[Session, CloseInput], JsonObject] | None = None
    close_detail: str = "A closed run is read-only."
    # The kind of every frozen figure the minutes show, by path in the frozen object: ``coverage_pct``,
    # ``by_account[].cost`` (a field of each row of a list), ``by_key.*`` (every value of a mapping).
    fields: Mapping[str, Unit] = field(default_factory=dict)

    @property
    def all_steps(self) -> tuple[StepDef, ...]:
        return (ATTENDEES, *self.steps, DECISIONS, RECORD)

    def step_title(self, step_id: str) -> str:
        found = next((s.title for s in self.all_steps if s.id == step_id), None)
        return found or step_id.replace("_", " ").replace("-", " ").strip().capitalize() or step_id

    def field_kind(self, path: str) -> Unit:
        """The declared kind of the frozen figure at ``path`` (a KeyError naming it when undeclared: a
        figure whose kind is not declared is not shown as a guess)."""
        try:
            return self.fields[path]
        except KeyError:
            raise KeyError(f"{self.kind}: no kind declared for the frozen figure {path!r}; add it to the "
                           f"definition's fields") from None

    def findings(self, home: Home, period: str | None = None, *, window: Window | None = None,
                 run_id: int | None = None, **options: object) -> Findings:
        """The ritual's findings for ``period`` (default: the period due today) or an explicit window."""
        from rituals.calendar import default_period

        period = period or default_period(self, home)
        return self.computed(home, Request(window or self.window(home, period), period, run_id, dict(options)))

    def computed(self, home: Home, request: Request) -> Findings:
        """``compute`` with the cost store held open for its many reads (``CostStore.held``): what every
        surface calls, the headless commands, the board and a run session alike."""
        with home.costs.held():
            return self.compute(home, request)

    def frozen_numbers(self, session: Session, home: Home, run: RitualRun, findings: Findings) -> JsonObject:
        if self.freeze is not None:
            return self.freeze(session, home, run, findings)
        return findings.as_json()


def row_fields(path: str, *fields: tuple[str, Unit]) -> dict[str, Unit]:
    """The declared kinds of the fields of each row of the frozen list at ``path`` (``path[].field``)."""
    return {f"{path}[].{name}": unit for name, unit in fields}


def number(value: JsonValue) -> float | None:
    """A JSON number as a float (None for null, text or booleans)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def get_obj(value: JsonValue) -> JsonObject:
    return value if isinstance(value, dict) else {}


def plain_json(obj: object) -> JsonObject:
    """``obj`` (a ritual's figures) as plain JSON values, exactly as ``--json`` prints and a run freezes."""
    from rituals.runs import jsonable

    out = json.loads(json.dumps(jsonable(obj), allow_nan=False))
    if not isinstance(out, dict):
        raise ValueError("a ritual's figures must be one JSON object")
    return out


def trailing_window(home: Home, period: str, days: int) -> Window:
    """The ``days`` before the end of ``period`` or today, whichever comes first: the figures a weekly or
    monthly meeting looks at (billing data for today is never complete)."""
    from rituals.calendar import period_bounds

    _start, end = period_bounds(period, home.config.calendar)
    end = min(end, home.clock.today())
    return end - timedelta(days=days), end


def period_window(home: Home, period: str) -> Window:
    from rituals.calendar import period_bounds

    return period_bounds(period, home.config.calendar)


@cache
def _registry() -> tuple[Ritual, ...]:
    # Built on first use, not at import: the definitions import this module for the types above.
    from rituals.definitions import (
        anomaly_triage,
        commitment_review,
        monthly_review,
        quarterly_review,
        tag_sweep,
    )

    return (tag_sweep.RITUAL, anomaly_triage.RITUAL, commitment_review.RITUAL, monthly_review.RITUAL,
            quarterly_review.RITUAL)


if TYPE_CHECKING:
    RITUALS: tuple[Ritual, ...]
    RITUAL_BY_KIND: dict[str, Ritual]
    KINDS: tuple[str, ...]


def __getattr__(name: str) -> object:
    """``RITUALS`` (in board order), ``RITUAL_BY_KIND`` and ``KINDS``, from the five definitions."""
    if name == "RITUALS":
        return _registry()
    if name == "RITUAL_BY_KIND":
        return {r.kind: r for r in _registry()}
    if name == "KINDS":
        return tuple(r.kind for r in _registry())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ritual(kind: str) -> Ritual:
    """The definition of ``kind``; a ValueError naming the known kinds otherwise."""
    found = next((r for r in _registry() if r.kind == kind), None)
    if found is None:
        kinds = ", ".join(r.kind for r in _registry())
        raise ValueError(f"run kind must be one of {kinds}, got {kind!r}")
    return found
