"""The recommendations inbox on both records engines: de-duplication across sources, routing through the
allocation rules, accept / dismiss (with the reopen margin) / snooze."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlmodel import select

from rituals import inbox
from rituals.people import add_account, add_person, add_team
from rituals.recommendations import Candidate
from storage.loader import Staging
from storage.records import Action, Recommendation

pytestmark = pytest.mark.records_engines

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


def _line(resource: str, account: str, tags: dict | None) -> dict:
    return {"ChargePeriodStart": pd.Timestamp("2026-11-20"), "EffectiveCost": 1.0, "BilledCost": 1.0,
            "ChargeCategory": "Usage", "ResourceId": resource, "SubAccountId": account,
            "BillingAccountId": "payer", "BillingCurrency": "USD", "Tags": json.dumps(tags) if tags else None}


@pytest.fixture
def org(home):
    with home.records.write() as s:
        for handle in ("ana", "bo", "cy"):
            add_person(s, handle, handle.title(), "engineering")
        add_team(s, "web", owner="ana")
        add_team(s, "data", owner="bo")
        add_account(s, "web", "111")
    with Staging(home.costs) as staging:
        staging.append_frame(pd.DataFrame([
            _line("vol-tagged", "111", {"team": "data"}),  # its tag beats the account's team
            _line("vol-owned", "111", {"owner": "cy"}),  # the owner tag names a person
            _line("vol-plain", "111", None),
        ]), "test")
        staging.commit(replace_all=True)
    return home


def _c(source: str, resource: str, saving: float, action: str = "delete", account: str | None = "111",
       **kw) -> Candidate:
    return Candidate(source, action, resource, saving, account, "eu-west-1", title=f"{action} {resource}", **kw)


def _refresh(home, source: str, found: list[Candidate], when: datetime = NOW) -> inbox.Refreshed:
    return inbox.refresh_source(home.records, home.costs, source, found, when)


def _items(home, today: date = TODAY, **kw) -> list[inbox.InboxItem]:
    with home.records.session() as s:
        return inbox.items(s, today, **kw)


def test_same_resource_and_action_is_one_item_listing_its_sources(org) -> None:
    _refresh(org, "rules", [_c("rules", "vol-plain", 10.0, effort="low")])
    arn = "arn:aws:ec2:eu-west-1:111:volume/vol-plain"
    _refresh(org, "cost_optimization_hub", [_c("cost_optimization_hub", arn, 12.0, effort="very_low",
                                               restart_needed=False),
                                            _c("cost_optimization_hub", arn, 3.0, action="upgrade")])
    got = _items(org)
    assert [(i.action_type, i.sources, i.estimated_monthly_savings, i.effort) for i in got] == [
        ("delete", ("cost_optimization_hub", "rules"), 12.0, "very_low"),  # AWS's own figures shown
        ("upgrade", ("cost_optimization_hub",), 3.0, None)]
    with org.records.session() as s:
        rec = s.exec(select(Recommendation).where(Recommendation.action_type == "delete")).one()
        assert {p["source"]: p["estimated_monthly_savings"] for p in rec.provenance} == {
            "rules": 10.0, "cost_optimization_hub": 12.0}
    # Hub no longer lists it: the rules' figures return; then nobody does: it is gone from the inbox.
    _refresh(org, "cost_optimization_hub", [])
    assert [(i.sources, i.estimated_monthly_savings) for i in _items(org)] == [(("rules",), 10.0)]
    done = _refresh(org, "rules", [])
    assert (done.gone, _items(org)) == (1, [])
    assert [i.status for i in _items(org, statuses=None)] == ["gone", "gone"]


def test_routing_by_resource_tag_then_account_team_and_owner(org) -> None:
    _refresh(org, "rules", [_c("rules", "vol-tagged", 3.0), _c("rules", "vol-owned", 2.0),
                            _c("rules", "vol-plain", 1.0), _c("rules", "vol-elsewhere", 0.5, account="999")])
    got = {i.resource_id: (i.team, i.owner, i.routed_by) for i in _items(org)}
    assert got == {"vol-tagged": ("data", "bo", "tag"), "vol-owned": ("web", "cy", "rule"),
                   "vol-plain": ("web", "ana", "rule"), "vol-elsewhere": (None, None, None)}
    assert [i.resource_id for i in _items(org, team="data")] == ["vol-tagged"]
    assert [i.resource_id for i in _items(org, account="999")] == ["vol-elsewhere"]


def test_accept_creates_an_owned_action_with_resource_saving_and_due_date(org) -> None:
    _refresh(org, "rules", [_c("rules", "vol-plain", 41.5), _c("rules", "i-1", 20.0, action="rightsize")])
    ids = {i.resource_id: i.id for i in _items(org)}
    due = TODAY + timedelta(days=14)
    with org.records.write() as s:
        action = inbox.accept(s, ids["vol-plain"], owner_id=None, due=due, today=TODAY, now=NOW, actor_id=None)
        action_id = action.id
    with org.records.session() as s:
        a = s.get(Action, action_id)
        assert (a.kind, a.resource_id, a.account_id, a.expected_monthly_savings, a.due_date, a.entity_key) == (
            "cleanup", "vol-plain", "111", 41.5, due, str(ids["vol-plain"]))
        assert a.owner_id == s.get(Recommendation, ids["vol-plain"]).owner_id  # routed owner: ana
    assert [i.resource_id for i in _items(org)] == ["i-1"]
    with pytest.raises(inbox.InboxError, match="already accepted"), org.records.write() as s:
        inbox.accept(s, ids["vol-plain"], owner_id=None, due=due, today=TODAY, now=NOW, actor_id=None)
    with pytest.raises(inbox.InboxError, match="in the past"), org.records.write() as s:
        inbox.accept(s, ids["i-1"], owner_id=None, due=TODAY - timedelta(days=1), today=TODAY, now=NOW,
                     actor_id=None)
    with org.records.write() as s:
        a = inbox.accept(s, ids["i-1"], owner_id=None, due=due, today=TODAY, now=NOW, actor_id=None)
        assert a.kind == "rightsizing"


def test_dismissed_returns_only_when_its_saving_moves_past_the_margin(org) -> None:
    _refresh(org, "rules", [_c("rules", "vol-plain", 100.0)])
    rec_id = _items(org)[0].id
    with org.records.write() as s:
        inbox.dismiss(s, rec_id, reason="kept for the DR drill", now=NOW, actor_id=None)
    assert _items(org) == []
    inside = 100.0 * (1 + inbox.REOPEN_MARGIN_PCT / 100.0)  # exactly the margin: still hidden
    assert _refresh(org, "rules", [_c("rules", "vol-plain", inside)]).reopened == 0
    assert _items(org) == []
    assert _refresh(org, "rules", [_c("rules", "vol-plain", inside + 1.0)]).reopened == 1
    [item] = _items(org)
    assert (item.status, item.dismissed_reason, item.dismissed_savings) == ("open", "kept for the DR drill", 100.0)
    with pytest.raises(inbox.InboxError, match="reason"), org.records.write() as s:
        inbox.dismiss(s, rec_id, reason="  ", now=NOW, actor_id=None)


def test_snoozed_until_its_date(org) -> None:
    _refresh(org, "rules", [_c("rules", "vol-plain", 5.0)])
    rec_id = _items(org)[0].id
    until = TODAY + timedelta(days=7)
    with org.records.write() as s:
        inbox.snooze(s, rec_id, until=until, today=TODAY, now=NOW, actor_id=None)
    assert _items(org) == [] and _items(org, today=until - timedelta(days=1)) == []
    assert [i.status for i in _items(org, today=until)] == ["open"]
    with pytest.raises(inbox.InboxError, match="not after today"), org.records.write() as s:
        inbox.snooze(s, rec_id, until=TODAY, today=TODAY, now=NOW, actor_id=None)


def test_purchases_never_enter_the_inbox(org) -> None:
    done = _refresh(org, "cost_optimization_hub", [_c("cost_optimization_hub", "sp", 900.0,
                                                      action="purchase_savings_plans")])
    assert (done.purchases_skipped, _items(org, statuses=None)) == (1, [])
