"""The records tests on both engines: SQLite files, and scratch databases on a real PostgreSQL server.

``FINOPS_TUI_TEST_PG_URL`` names the server and a role that may create databases, e.g.
``postgresql+psycopg://finops_test:PASSWORD@127.0.0.1:5432/finops_test`` (``.ci/run`` starts one). Without
it the PostgreSQL variants skip, except in CI (``CI=true``), where they fail: CI never passes by skipping.

A test gets a fresh database in about 30 ms: each test process migrates one template database once, and
every test clones it (``CREATE DATABASE ... TEMPLATE``) and drops its clone afterwards.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import NullPool

from storage.db import Records
from storage.home import Home

PG_ENV = "FINOPS_TUI_TEST_PG_URL"
ENGINES = ("sqlite", "postgresql")
MARKER = "records_engines"  # pytestmark = pytest.mark.records_engines: run the module on both engines


def pg_unavailable(reason: str) -> None:
    """Skip, or fail in CI: the PostgreSQL variants must run there."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the PostgreSQL records tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


class PgServer:
    """Creates and drops scratch databases, named for this process so parallel runs never collide."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.base: URL = parsed.set(drivername="postgresql+psycopg")
        self.admin: Engine = create_engine(self.base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._names = itertools.count(1)
        self.prefix = f"finops_test_{os.getpid()}"
        self.template: str | None = None  # migrated once, on first use; dropped by close()

    def url(self, database: str) -> str:
        return self.base.set(database=database).render_as_string(hide_password=False)

    def create(self, template: str = "template0") -> str:
        """A new database copied from ``template`` (template0: empty); returns its URL."""
        name = f"{self.prefix}_{next(self._names)}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return self.url(name)

    def create_at_head(self) -> str:
        """A new database at the newest revision: a clone of this process's migrated template."""
        if self.template is None:
            url = self.create()
            Records(url).dispose()  # no connection may stay on a template
            self.template = make_url(url).database
        assert self.template is not None
        return self.create(self.template)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.admin.connect() as conn:
            # End this role's sessions a test left open (WITH (FORCE) would also need the right to end an
            # autovacuum worker's); DROP DATABASE then waits a few seconds for them to go.
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name "
                              "AND usename = current_user AND pid <> pg_backend_pid()"), {"name": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))

    def close(self) -> None:
        if self.template is not None:
            self.drop(self.url(self.template))
        self.admin.dispose()


def connect(url: str | None) -> PgServer:
    if not url:
        pg_unavailable(f"{PG_ENV} names no PostgreSQL server")
    assert url is not None
    server = PgServer(url)
    try:
        with server.admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001  # any failure to reach the server given is a failure
        pytest.fail(f"{PG_ENV} names a server that cannot be used: {type(exc).__name__}", pytrace=False)
    return server


def open_records(home: Path) -> Records:
    """The records store the installed command uses for ``--home home`` (FINOPS_TUI_DB, set by the
    PostgreSQL variant, or the home's SQLite file)."""
    resolved = Home.resolve(home)
    if resolved.db_url is None:
        home.mkdir(parents=True, exist_ok=True)
    return Records(resolved.records_url)


# One process opening the store the way every command does (Records(url) migrates when behind), after a
# file gate opens, so that all of them race for the first open together.
_OPENER = r"""
import os, sys, time
url, gate, k = sys.argv[1], sys.argv[2], sys.argv[3]
from storage.db import Records
open(os.path.join(gate, f"ready-{k}"), "w").close()
deadline = time.monotonic() + 120
while not os.path.exists(os.path.join(gate, "go")):
    if time.monotonic() > deadline:
        sys.exit("the gate never opened")
    time.sleep(0.002)
records = Records(url)
print(records.current_revision())
records.dispose()
"""


def open_at_once(url: str, processes: int, gate: Path) -> list[subprocess.CompletedProcess[str]]:
    """``processes`` processes open ``url`` at the same moment; their results (return code, output)."""
    gate.mkdir(parents=True, exist_ok=True)
    procs = [subprocess.Popen([sys.executable, "-c", _OPENER, url, str(gate), str(k)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for k in range(processes)]
    deadline = time.monotonic() + 120
    while len(list(gate.glob("ready-*"))) < processes:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            break
        time.sleep(0.01)
    (gate / "go").touch()
    results = []
    for k, proc in enumerate(procs):
        out, err = proc.communicate(timeout=300)
        results.append(subprocess.CompletedProcess([str(k)], proc.returncode, out, err))
    return results
