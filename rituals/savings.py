"""Savings verified in the bill: did a done right-sizing or clean-up action save what it promised?

For every done action that names a resource and an expected monthly saving, the resource's EffectiveCost
per day **before** (the ``BEFORE_DAYS`` days before the day it was done) and **after** (the first complete
calendar month after that day) gives the realised monthly saving: (before per day - after per day) x 365/12.
The state comes from data only:

- ``verified``: the after month is in the data and the realised saving is at least ``VERIFIED_SHARE`` of the
  expected one;
- ``not_realised``: the after month is in the data and the saving falls short of that;
- ``pending``: the after month is not complete in the data yet;
- ``cannot_verify``: the billing data names no resources (API-only data, Cost Explorer's), or none of the
  resource's rows lie before the action: "cannot verify from this data".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from storage import cost_queries
from storage.records import Action, ActionEvent

if TYPE_CHECKING:
    from storage.costs import CostStore
    from storage.db import Records

DAYS_A_MONTH = 365.0 / 12.0
BEFORE_DAYS = 30
VERIFIED_SHARE = 0.8
CANNOT = "cannot verify from this data"
KINDS = ("rightsizing", "cleanup")


@dataclass(frozen=True)
class SavingsCheck:
    action_id: int
    title: str
    resource_id: str
    done_on: date
    expected_monthly_savings: float
    realised_monthly_savings: float | None
    state: str  # verified | not_realised | pending | cannot_verify
    before_start: date
    before_end: date
    after_start: date
    after_end: date
    before_daily: float | None
    after_daily: float | None
    note: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _month_after(day: date) -> tuple[date, date]:
    first = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1)


def check(store: CostStore, action_id: int, title: str, resource_id: str, expected: float, done_on: date,
          latest: date | None, has_resources: bool) -> SavingsCheck:
    """One done action against the bill."""
    b0, b1 = done_on - timedelta(days=BEFORE_DAYS), done_on
    a0, a1 = _month_after(done_on)

    def out(state: str, note: str, realised: float | None = None, before: float | None = None,
            after: float | None = None) -> SavingsCheck:
        return SavingsCheck(action_id, title, resource_id, done_on, expected, realised, state, b0, b1, a0, a1,
                            before, after, note)

    if not has_resources:
        return out("cannot_verify", f"{CANNOT}: no line item names its resource (API-only data)")
    if latest is None or latest < a1 - timedelta(days=1):
        return out("pending", f"waiting for {a0:%Y-%m}, the first complete month after it was done, in the data")
    before_cost, before_days = cost_queries.resource_cost(store, resource_id, b0, b1)
    after_cost, after_days = cost_queries.resource_cost(store, resource_id, a0, a1)
    if before_days == 0 or before_cost == 0:
        return out("cannot_verify", f"{CANNOT}: no cost of {resource_id} in the {BEFORE_DAYS} days before it was done")
    before, after = before_cost / before_days, after_cost / max(after_days, 1)
    realised = round((before - after) * DAYS_A_MONTH, 2)
    ok = realised >= VERIFIED_SHARE * expected
    return out("verified" if ok else "not_realised",
               f"{before:,.2f} a day before, {after:,.2f} a day in {a0:%Y-%m}", realised, round(before, 6),
               round(after, 6))


def done_on(session: Session, action: Action, tz: Any = UTC) -> date | None:
    """The day an action was (last) marked done, from its history."""
    ev = session.exec(select(ActionEvent).where(ActionEvent.action_id == action.id, ActionEvent.field == "status",
                                                ActionEvent.new == "done").order_by(col(ActionEvent.at).desc())).first()
    at = ev.at if ev is not None else action.updated_at
    return at.astimezone(tz).date() if at is not None else None


def checks(session: Session, store: CostStore, tz: Any = UTC) -> list[SavingsCheck]:
    """Every done right-sizing / clean-up action with a resource and an expected saving, checked."""
    actions = session.exec(select(Action).where(Action.status == "done", col(Action.kind).in_(KINDS),
                                                col(Action.resource_id).is_not(None),
                                                col(Action.expected_monthly_savings).is_not(None))
                           .order_by(col(Action.id))).all()
    if not actions:
        return []
    latest = cost_queries.latest_usage_day(store)
    has_resources = cost_queries.has_resource_rows(store)
    out = []
    for a in actions:
        day = done_on(session, a, tz)
        if day is None or a.id is None or a.resource_id is None:
            continue
        out.append(check(store, a.id, a.title, a.resource_id, float(a.expected_monthly_savings or 0.0), day, latest,
                         has_resources))
    return out


def record(records: Records, store: CostStore, now: datetime, tz: Any = UTC) -> list[SavingsCheck]:
    """Check every done action and write the realised saving and state onto it (``verified_at`` only when
    the data verified it)."""
    with records.write() as s:
        found = checks(s, store, tz)
        for c in found:
            a = s.get(Action, c.action_id)
            assert a is not None
            a.realised_monthly_savings, a.savings_state = c.realised_monthly_savings, c.state
            a.verified_at = now if c.state == "verified" else None
            s.add(a)
    return found


def summary(session: Session, store: CostStore, today: date, tz: Any = UTC) -> dict[str, Any]:
    """The monthly review's "savings: promised, realised, still open": promised = expected monthly savings of
    the done actions checked; realised = what the bill shows for those it could check; still open = expected
    savings of open right-sizing / clean-up actions plus the open inbox."""
    from rituals.inbox import items
    from storage.records import OPEN_ACTION_STATUSES

    found = checks(session, store, tz)
    open_actions = session.exec(select(Action).where(col(Action.status).in_(OPEN_ACTION_STATUSES),
                                                     col(Action.kind).in_(KINDS))).all()
    open_actions_savings = sum(float(a.expected_monthly_savings or 0.0) for a in open_actions)
    inbox_savings = sum(i.estimated_monthly_savings for i in items(session, today))
    measured = [c for c in found if c.realised_monthly_savings is not None]
    return {
        "promised": round(sum(c.expected_monthly_savings for c in found), 2),
        "realised": round(sum(c.realised_monthly_savings or 0.0 for c in measured), 2),
        "promised_of_realised": round(sum(c.expected_monthly_savings for c in measured), 2),
        "still_open": round(open_actions_savings + inbox_savings, 2),
        "still_open_actions": round(open_actions_savings, 2), "still_open_inbox": round(inbox_savings, 2),
        "verified": sum(1 for c in found if c.state == "verified"),
        "not_realised": sum(1 for c in found if c.state == "not_realised"),
        "pending": sum(1 for c in found if c.state == "pending"),
        "cannot_verify": sum(1 for c in found if c.state == "cannot_verify"),
        "how": (f"realised = (the resource's cost per day in the {BEFORE_DAYS} days before it was done - per day in "
                f"the first complete month after) x 365/12; verified when at least {VERIFIED_SHARE:.0%} of the "
                "expected saving"),
        "actions": [c.as_dict() for c in found],
    }
