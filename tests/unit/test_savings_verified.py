"""Savings verified in the bill: a resource whose cost drops mid-month after its action is done, one that
does not drop, one whose next complete month is not in the data yet, and API-only data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import pytest

from rituals import savings
from rituals.actions import create_action
from rituals.people import add_person
from storage.config import Taxonomy
from storage.costs import CostStore
from storage.loader import Staging
from storage.records import Action, ActionEvent

MONTH = 365.0 / 12.0


def _days(first: date, last: date):
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


def _store(path, resources: bool = True) -> CostStore:
    rows = []
    for d in _days(date(2026, 9, 1), date(2026, 11, 30)):
        for rid, cost in (("vol-1", 2.0 if d < date(2026, 10, 15) else 0.5), ("i-2", 3.0)):
            rows.append({"ChargePeriodStart": pd.Timestamp(d), "EffectiveCost": cost, "BilledCost": cost,
                         "ChargeCategory": "Usage", "ResourceId": rid if resources else None,
                         "SubAccountId": "111", "BillingAccountId": "payer", "BillingCurrency": "USD", "Tags": None})
    store = CostStore(path, Taxonomy())
    with Staging(store) as staging:
        staging.append_frame(pd.DataFrame(rows), "test")
        staging.commit(replace_all=True)
    return store


def _done(home, resource: str, expected: float, day: date) -> int:
    at = datetime.combine(day, time(12), UTC)
    with home.records.write() as s:
        from rituals.people import find_person

        owner = find_person(s, "ana") or add_person(s, "ana", "Ana", "engineering")
        a = create_action(s, title=f"clean {resource}", owner_id=owner.id, now=at - timedelta(days=5), kind="cleanup",
                          expected_monthly_savings=expected)
        a.resource_id, a.status = resource, "done"
        s.add(a)
        s.add(ActionEvent(action_id=a.id, at=at, field="status", old="open", new="done"))
        return a.id


def test_realised_saving_from_the_next_complete_month(home, tmp_path) -> None:
    store = _store(tmp_path / "c.duckdb")
    dropped = _done(home, "vol-1", 40.0, date(2026, 10, 15))
    flat = _done(home, "i-2", 25.0, date(2026, 10, 20))
    waiting = _done(home, "vol-1", 10.0, date(2026, 11, 10))
    got = {c.action_id: c for c in savings.record(home.records, store, datetime(2026, 12, 2, tzinfo=UTC))}
    assert (got[dropped].state, got[dropped].realised_monthly_savings) == ("verified", round((2.0 - 0.5) * MONTH, 2))
    assert (got[dropped].before_start, got[dropped].after_start) == (date(2026, 9, 15), date(2026, 11, 1))
    assert (got[flat].state, got[flat].realised_monthly_savings) == ("not_realised", 0.0)
    assert (got[waiting].state, got[waiting].realised_monthly_savings) == ("pending", None)
    with home.records.session() as s:
        a = s.get(Action, dropped)
        assert (a.savings_state, a.realised_monthly_savings, a.verified_at is not None) == (
            "verified", round(1.5 * MONTH, 2), True)
        assert s.get(Action, flat).verified_at is None
        summary = savings.summary(s, store, date(2026, 12, 2))
    assert (summary["promised"], summary["realised"], summary["verified"], summary["pending"]) == (
        75.0, round(1.5 * MONTH, 2), 1, 1)


def test_api_only_data_cannot_verify(home, tmp_path) -> None:
    store = _store(tmp_path / "api.duckdb", resources=False)
    _done(home, "vol-1", 40.0, date(2026, 10, 15))
    [c] = savings.record(home.records, store, datetime(2026, 12, 2, tzinfo=UTC))
    assert c.state == "cannot_verify" and c.note.startswith("cannot verify from this data")
    assert c.realised_monthly_savings is None


@pytest.mark.parametrize("day,expected", [(date(2026, 10, 31), date(2026, 11, 1)), (date(2026, 12, 1), date(2027, 1, 1))])
def test_the_month_after(day, expected) -> None:
    assert savings._month_after(day)[0] == expected
