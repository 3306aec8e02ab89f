"""A records store on a server, for real (SQLite beside it where the rule is the same): a fresh database
migrates on first open, processes opening an old or empty store at once take turns on its lock and none
fails, writers hold the lock, the demo seeds it, no password reaches any output, error or log, and a missing
driver, a refused privilege or a store from a newer finops-tui is one line, never a traceback."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlmodel import SQLModel, select

from storage.db import WRITE_LOCK_KEY, Records, head_revision
from storage.records import Person
from tests.conftest import FIXED_TODAY
from tests.records_engines import open_at_once

EXE = shutil.which("finops-tui")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(EXE is None, reason="finops-tui is not installed"),
              pytest.mark.records_engines]  # SQLite and PostgreSQL: tests/records_engines.py
OPENERS = 6


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "FINOPS_TUI_TODAY": FIXED_TODAY.isoformat(), **(env or {})}
    full.pop("FINOPS_TUI_USER", None)
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=full, timeout=300)


def password_of(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    return make_url(url).password  # type: ignore[return-value]


def test_a_fresh_database_migrates_on_first_open(tmp_path: Path, empty_records_url: str) -> None:
    out = run("--home", str(tmp_path / "h"), "--db", empty_records_url, "people", "list")
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert "no people yet" in out.stdout.lower()
    added = run("--home", str(tmp_path / "h"), "--db", empty_records_url, "people", "add", "ana", "Ana",
                "--role", "finops_lead")
    assert added.returncode == 0, added.stderr
    records = Records(empty_records_url, migrate=False)
    try:
        assert records.current_revision() == head_revision()
        with records.session() as s:
            assert [p.handle for p in s.exec(select(Person))] == ["ana"]
    finally:
        records.dispose()


@pytest.mark.parametrize("start", ["0001", "empty"])
def test_concurrent_first_opens_take_turns_and_none_fails(tmp_path: Path, empty_records_url: str,
                                                          start: str) -> None:
    if start != "empty":
        old = Records(empty_records_url, migrate=False)
        old.upgrade(start)
        with old.engine.begin() as conn:
            conn.execute(text("INSERT INTO person (handle, name, role, active, created_at) "
                              "VALUES ('ana', 'Ana', 'finops_lead', true, '2025-01-01 00:00:00')"))
        old.dispose()
    results = open_at_once(empty_records_url, OPENERS, tmp_path / "gate")
    for r in results:
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
        assert r.stdout.strip() == head_revision()
    records = Records(empty_records_url, migrate=False)
    try:
        with records.session() as s:
            assert s.exec(text("SELECT version_num FROM alembic_version")).all() == [(head_revision(),)]
            assert s.exec(select(func.count()).select_from(Person)).one() == (0 if start == "empty" else 1)
    finally:
        records.dispose()


def test_writers_hold_the_store_lock_until_they_commit(records_url: str, records_engine: str) -> None:
    records = Records(records_url)
    other = Records(records_url, migrate=False)
    try:
        with records.write() as s:
            s.add(Person(handle="ana", name="Ana", role="finops_lead"))
            s.flush()
            with other.engine.connect() as conn:
                if records_engine == "postgresql":
                    taken = conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})
                    assert taken.scalar() is False  # held by the writer above
                else:
                    conn.exec_driver_sql("PRAGMA busy_timeout=50")
                    with pytest.raises(Exception, match="locked"):
                        conn.exec_driver_sql("BEGIN IMMEDIATE")
        with other.write() as s:  # and released at commit
            assert s.exec(select(func.count()).select_from(Person)).one() == 1
    finally:
        other.dispose()
        records.dispose()


def test_no_password_in_info_errors_or_logs(pg_records_url: str, pg_empty_url: str, tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    secret = password_of(pg_records_url)
    assert secret, "FINOPS_TUI_TEST_PG_URL must carry a password for this test"
    home = str(tmp_path / "h")
    shown = run("--home", home, "--db", pg_records_url, "info")
    as_json = run("--home", home, "--db", pg_records_url, "info", "--json")
    assert shown.returncode == as_json.returncode == 0, shown.stderr + as_json.stderr
    assert json.loads(as_json.stdout)["records"] == pg_records_url.replace(f":{secret}@", ":***@")
    assert ":***@" in shown.stdout
    server = pg_records_url.split("@", 1)[1].split("/", 1)[0]
    refused = pg_records_url.replace(f":{secret}@", ":not-the-password@")  # the server refuses it
    wrong = run("--home", home, "--db", refused, "people", "list")
    unreachable = run("--home", home, "--db", pg_records_url.replace(f"@{server}/", "@127.0.0.1:9/"), "people",
                      "list")
    for out in (wrong, unreachable):
        assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert "cannot connect to the records store" in out.stderr and "Traceback" not in out.stderr
    assert "password authentication failed" in wrong.stderr and "not-the-password" not in wrong.stderr
    # Alembic and SQLAlchemy logging everything while a fresh database migrates and a writer writes.
    loggers = [logging.getLogger(name) for name in ("alembic", "sqlalchemy")]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    records = Records(pg_empty_url)
    try:
        with records.write() as s:
            s.add(Person(handle="ana", name="Ana", role="finops_lead"))
        shown_objects = [repr(records), repr(records.engine), records.display_url]
    finally:
        records.dispose()
        for logger in loggers:
            logger.setLevel(logging.NOTSET)
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "Running upgrade" in logged and "pg_advisory_xact_lock" in logged  # the loggers did speak
    for out in (shown, as_json, wrong, unreachable):
        assert secret not in out.stdout + out.stderr
    assert secret not in logged and all(secret not in shown for shown in shown_objects)


def test_a_store_from_a_newer_finops_tui_is_one_line(tmp_path: Path, records_url: str) -> None:
    Records(records_url).dispose()
    newer = Records(records_url, migrate=False)
    with newer.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    newer.dispose()
    out = run("--home", str(tmp_path / "h"), "--db", records_url, "people", "list")
    assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "at a revision this finops-tui does not know" in out.stderr and "upgrade finops-tui" in out.stderr


def test_a_privilege_the_role_lacks_is_one_line(tmp_path: Path, pg_records_url: str) -> None:
    records = Records(pg_records_url)
    with records.engine.begin() as conn:  # the owner gives up its own rights on two tables
        conn.execute(text("REVOKE INSERT ON person FROM CURRENT_USER"))
        conn.execute(text("REVOKE SELECT ON action FROM CURRENT_USER"))
    records.dispose()
    home = str(tmp_path / "h")
    write = run("--home", home, "--db", pg_records_url, "people", "add", "zed", "Zed", "--role", "finance")
    read = run("--home", home, "--db", pg_records_url, "actions", "list")
    for out in (write, read):
        assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert "refused: the role needs the privileges README.md lists: permission denied" in out.stderr
        assert password_of(pg_records_url) not in out.stderr


def test_a_missing_driver_is_one_line_naming_the_extra(tmp_path: Path) -> None:
    url = "postgresql://ana:s3cret-pw@127.0.0.1:9/finops"
    script = ("import sys; sys.modules['psycopg'] = None\n"  # as if finops-tui[postgres] were not installed
              "from finops_tui.cli import main\n"
              f"sys.argv = ['finops-tui', '--home', {str(tmp_path / 'h')!r}, '--db', {url!r}, 'people', 'list']\n"
              "main()\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == [
        "Error: the records store postgresql://ana:***@127.0.0.1:9/finops needs the postgresql driver 'psycopg', "
        "which is not installed; install it with: pip install 'finops-tui[postgres]'"]


def test_the_demo_seeds_a_fresh_server_database(tmp_path: Path, pg_empty_url: str, demo_truth_and_path) -> None:
    out = run("--home", str(tmp_path / "demo"), "--db", pg_empty_url, "demo", "--no-tui")
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    # The same records as the SQLite demo (same seed, same day), table by table.
    sqlite_demo = Records.at(demo_truth_and_path[1] / "records.sqlite", migrate=False)
    server = Records(pg_empty_url, migrate=False)
    try:
        counts = {}
        for table in SQLModel.metadata.sorted_tables:
            with sqlite_demo.session() as a, server.session() as b:
                counts[table.name] = (a.exec(select(func.count()).select_from(table)).one(),
                                      b.exec(select(func.count()).select_from(table)).one())
        assert {name: pair[0] for name, pair in counts.items()} == {name: pair[1] for name, pair in counts.items()}
        assert counts["person"][0] > 0 and counts["ritual_run"][0] > 0 and counts["action"][0] > 0
    finally:
        sqlite_demo.dispose()
        server.dispose()
    # A second demo never seeds its company into a store that already holds people, and writes nothing.
    again = run("--home", str(tmp_path / "demo2"), "--db", pg_empty_url, "demo", "--no-tui")
    assert again.returncode == 2 and "already holds" in again.stderr and "Traceback" not in again.stderr
    assert not (tmp_path / "demo2" / "costs.duckdb").exists()


def test_an_unreachable_server_stops_the_demo_and_the_app_before_they_start(tmp_path: Path) -> None:
    url = "postgresql://ana:s3cret-pw@127.0.0.1:9/finops"
    demo = run("--home", str(tmp_path / "demo"), "--db", url, "demo", "--no-tui")
    assert demo.returncode == 1 and "cannot connect to the records store" in demo.stderr, demo.stderr
    assert not (tmp_path / "demo" / "costs.duckdb").exists()
    app = run("--home", str(tmp_path / "demo"), "--db", url)  # no command: the app, which must not start
    assert app.returncode == 1 and app.stderr.startswith("Error: cannot connect to the records store"), app.stderr
    assert "s3cret-pw" not in demo.stderr + app.stderr + app.stdout
