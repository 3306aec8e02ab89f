"""The records store: WAL and foreign keys on, migrations upgrade an older database with its rows intact,
and the models agree with the migrated schema (on SQLite and on PostgreSQL; the PostgreSQL specifics are in
test_records_postgres.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

from storage import records as rec
from storage.db import Records

pytestmark = pytest.mark.records_engines  # SQLite and PostgreSQL: tests/records_engines.py


def test_wal_and_foreign_keys_are_on(tmp_path) -> None:
    r = Records.at(tmp_path / "r.sqlite")
    with r.session() as s:
        assert s.exec(text("PRAGMA journal_mode")).one()[0] == "wal"
        assert s.exec(text("PRAGMA foreign_keys")).one()[0] == 1
        assert s.exec(text("PRAGMA busy_timeout")).one()[0] >= 5000
    with pytest.raises(IntegrityError), r.write() as s:
        s.add(rec.TeamAccount(account_id="1", team_id=999))


def test_an_old_database_upgrades_with_its_rows_intact(empty_records_url) -> None:
    old = Records(empty_records_url, migrate=False)
    old.upgrade("0001")
    with old.engine.begin() as conn:
        conn.execute(text("INSERT INTO person (handle, name, role, active, created_at) "
                          "VALUES ('ana', 'Ana', 'finops_lead', true, '2025-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO team (name, owner_id, active, created_at) VALUES ('web', 1, true, "
                          "'2025-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO team_account (account_id, team_id) VALUES ('123456789012', 1)"))
    old.dispose()
    new = Records(empty_records_url)
    assert new.current_revision() != "0001"
    with new.session() as s:
        person = s.exec(select(rec.Person)).one()
        assert (person.handle, person.created_at) == ("ana", datetime(2025, 1, 1, tzinfo=UTC))
        assert s.exec(select(rec.TeamAccount)).one().account_id == "123456789012"
    with new.write() as s:  # tables of later revisions exist and work
        s.add(rec.Action(title="tag it", owner_id=1))
    with new.session() as s:
        assert s.exec(select(rec.Action)).one().version == 1


def test_models_match_the_migrations(records_url) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    r = Records(records_url)
    with r.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    # Type-only differences between SQLModel's AutoString and sa.String are not schema changes.
    real = [d for d in diff if not (isinstance(d, list) and d and d[0][0] == "modify_type")]
    assert real == []


def test_writers_take_the_write_lock_at_begin(tmp_path) -> None:
    r = Records.at(tmp_path / "w.sqlite")
    seen = []
    with r.write() as s:
        seen.append(s.connection().exec_driver_sql("SELECT 1").scalar())
        # Another connection cannot start a write while this one holds it.
        other = Records(r.url, migrate=False)
        other.engine.dispose()
        import sqlite3

        raw = sqlite3.connect(str(tmp_path / "w.sqlite"), timeout=0.1, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            raw.execute("BEGIN IMMEDIATE")
        raw.close()
    assert seen == [1]


def test_head_revision_matches_alembic_and_skips_upgrade_at_head(records_url, empty_records_url,
                                                                 monkeypatch) -> None:
    from alembic.script import ScriptDirectory

    from storage.db import MIGRATIONS, head_revision

    r = Records(records_url)
    assert head_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head() == r.current_revision()
    calls = []
    monkeypatch.setattr(Records, "upgrade", lambda self, *a, **k: calls.append(a))
    Records(r.url)
    assert calls == []  # at head: no Alembic run
    old = Records(empty_records_url, migrate=False)
    Records(old.url)
    assert len(calls) == 1  # a new database is migrated
