"""Revision 0009: the recommendations inbox's records, and the resource an action changes, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage import records as rec
from storage.db import Records

pytestmark = pytest.mark.records_engines


def test_0009_upgrades_an_0008_store_and_round_trips_a_recommendation(empty_records_url) -> None:
    old = Records(empty_records_url, migrate=False)
    old.upgrade("0008")
    with old.engine.begin() as conn:
        conn.execute(text("INSERT INTO person (handle, name, role, active, created_at) "
                          "VALUES ('ana', 'Ana', 'finops_lead', true, '2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO action (title, detail, kind, owner_id, status, version, created_at, "
                          "updated_at) VALUES ('old', '', 'cleanup', 1, 'open', 1, '2026-01-01 00:00:00', "
                          "'2026-01-01 00:00:00')"))
    old.dispose()
    new = Records(empty_records_url)
    assert new.current_revision() == "0009"
    when = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    with new.write() as s:
        action = s.exec(select(rec.Action)).one()
        assert (action.title, action.resource_id) == ("old", None)
        action.resource_id, action.account_id = "vol-1", "111122223333"
        s.add(rec.Recommendation(key="delete:vol-1", action_type="delete", resource_id="vol-1",
                                 account="111122223333", estimated_monthly_savings=12.5, effort="low",
                                 restart_needed=False, sources=["rules", "cost_optimization_hub"],
                                 provenance=[{"source": "rules", "rule": "unattached_ebs"}],
                                 status="dismissed", dismissed_reason="kept for DR", dismissed_savings=12.5,
                                 snoozed_until=date(2026, 12, 1), action_id=action.id, first_seen=when,
                                 refreshed_at=when))
    with new.session() as s:
        got = s.exec(select(rec.Recommendation)).one()
        assert (got.sources, got.provenance[0]["rule"], got.snoozed_until, got.first_seen, got.version) == (
            ["rules", "cost_optimization_hub"], "unattached_ebs", date(2026, 12, 1), when, 1)
        assert s.exec(select(rec.Action)).one().resource_id == "vol-1"
    with pytest.raises(IntegrityError), new.write() as s:  # one row per action type and resource
        s.add(rec.Recommendation(key="delete:vol-1", action_type="delete", resource_id="vol-1"))
    new.dispose()


def test_0009_downgrades_to_0008(empty_records_url) -> None:
    r = Records(empty_records_url)
    from alembic import command

    command.downgrade(r._alembic_config(), "0008")
    assert r.current_revision() == "0008"
    with r.engine.connect() as conn:
        with pytest.raises(Exception):  # noqa: B017, PT011  # the table is gone on either engine
            conn.execute(text("SELECT count(*) FROM recommendation"))
    r.dispose()
