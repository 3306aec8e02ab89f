"""The demo company's inbox: the own rules run over its line items, two recommendations already accepted
as actions (one in progress), one dismissed with its reason, and a right-sizing done two months ago whose
saving the bill verifies (``storage.sources.demo_optimization``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlmodel import select

if TYPE_CHECKING:
    from storage.home import Home

DONE_EXPECTED = 280.0  # what the right-sizing promised a month (m5.4xlarge -> m5.2xlarge)


def seed_inbox(home: Home, as_of: date) -> None:
    from rituals import inbox, savings
    from rituals.actions import create_action
    from rituals.kpis import load_bands
    from rituals.people import get_person
    from storage.records import ActionEvent, Recommendation
    from storage.sources.demo_optimization import RESOURCES, RIGHTSIZED, rightsized_on

    now = datetime.combine(as_of - timedelta(days=1), time(9), UTC)
    inbox.refresh_from_rules(home.records, home.costs, load_bands(home).waste, now)
    unattached, gp2, snapshot = RESOURCES[0].resource_id, RESOURCES[1].resource_id, RESOURCES[3].resource_id
    with home.records.write() as s:
        recs = {r.resource_id: int(r.id) for r in s.exec(select(Recommendation)) if r.id is not None}
        actor = get_person(s, "priya").id  # the demo's FinOps lead triages the inbox
        inbox.accept(s, recs[unattached], owner_id=None, due=as_of + timedelta(days=14), today=as_of, now=now,
                     actor_id=actor)
        moving = inbox.accept(s, recs[gp2], owner_id=None, due=as_of + timedelta(days=21), today=as_of,
                              now=now, actor_id=actor)
        moving.status = "in_progress"
        s.add(moving)
        inbox.dismiss(s, recs[snapshot], reason="kept: the 7-year audit retention needs this snapshot",
                      now=now, actor_id=actor)
        owner = get_person(s, "aisha")
        assert owner.id is not None
        changed = rightsized_on(as_of)
        created = datetime.combine(changed - timedelta(days=20), time(10), UTC)
        done = create_action(s, title=f"Right-size {RIGHTSIZED.resource_id} (m5.4xlarge to m5.2xlarge)",
                             owner_id=owner.id, now=created, actor_id=actor, kind="rightsizing",
                             detail="CPU under 20% for a month: half the size is enough.",
                             due_date=changed + timedelta(days=5), expected_monthly_savings=DONE_EXPECTED)
        done.resource_id, done.account_id, done.status = RIGHTSIZED.resource_id, RIGHTSIZED.account, "done"
        s.add(done)
        assert done.id is not None
        s.add(ActionEvent(action_id=done.id, actor_id=owner.id, at=datetime.combine(changed, time(16), UTC),
                          field="status", old="open", new="done", note="resized in the maintenance window"))
    savings.record(home.records, home.costs, now)

