"""The records engine: a SQLite file by default (WAL, busy timeout, foreign keys), any SQLAlchemy URL.

Writers use ``Records.write()``, whose transaction starts with ``BEGIN IMMEDIATE`` on SQLite: a writer
that reads and then updates must hold the write lock from its first read, or two writers deadlock and
one of them gets "database is locked".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_S = 30.0


def head_revision() -> str:
    """The newest revision id, read from the revision files (the one no other revision names as its
    down_revision)."""
    import re

    revs: dict[str, str | None] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        body = path.read_text(encoding="utf-8")
        rev = re.search(r'^revision\s*=\s*["\']([^"\']+)["\']', body, re.M)
        down = re.search(r'^down_revision\s*=\s*(?:["\']([^"\']+)["\']|None)', body, re.M)
        if rev:
            revs[rev.group(1)] = down.group(1) if down else None
    heads = set(revs) - {d for d in revs.values() if d}
    if len(heads) != 1:
        raise RuntimeError(f"the records migrations must have one head, found {sorted(heads)}")
    return heads.pop()


class RecordsError(RuntimeError):
    """A records store that cannot be opened or written; the message says why."""


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str) -> Engine:
    if not _is_sqlite(url):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself, so writers can ask for IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        if url not in ("sqlite://", "sqlite:///:memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class Records:
    """The records store. Open one per process; sessions are short (one per unit of work)."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = _is_sqlite(url)
        self._writer = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        if migrate and not self._at_head():
            self.upgrade()

    @classmethod
    def at(cls, path: Path, **kwargs: bool) -> Records:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return cls(sqlite_url(path), **kwargs)

    # -- migrations -------------------------------------------------------------------------------------
    def _alembic_config(self) -> AlembicConfig:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return cfg

    def _at_head(self) -> bool:
        """True when the database already stands at the newest revision. Read with one query, so a
        command on an up-to-date store does not import and run Alembic (a third of its start-up)."""
        from sqlalchemy import text

        try:
            with self.engine.connect() as conn:
                rows = conn.execute(text("SELECT version_num FROM alembic_version")).fetchall()
        except OperationalError:
            return False  # a new database (no alembic_version yet), or one busy opening: let upgrade decide
        return [r[0] for r in rows] == [head_revision()]

    def upgrade(self, revision: str = "head", retries: int = 5) -> None:
        from alembic import command

        cfg = self._alembic_config()
        attempt = 0
        while True:
            try:
                with self.engine.begin() as conn:
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, revision)
                return
            except OperationalError as exc:
                # Opening a WAL file while another process closes its last connection (and checkpoints)
                # can report "locked" without waiting for the busy timeout: open again, a little later.
                attempt += 1
                if "locked" not in str(exc.orig).lower() or attempt > retries:
                    raise RecordsError(f"cannot open the records store {self.url}: {exc.orig}") from exc
                self.engine.dispose()
                time.sleep(0.05 * attempt)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    # -- sessions ---------------------------------------------------------------------------------------
    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session (nothing is committed)."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self, retries: int = 5) -> Iterator[Session]:
        """A write session: BEGIN IMMEDIATE on SQLite, committed on success, rolled back on error."""
        attempt = 0
        while True:
            session = Session(self._writer, expire_on_commit=False)
            try:
                # Start the transaction now so the write lock is held before the first read.
                session.connection()
                break
            except OperationalError as exc:
                session.close()
                attempt += 1
                if "locked" not in str(exc.orig).lower() or attempt > retries:
                    raise RecordsError(f"the records store is busy; try again ({exc.orig})") from exc
                time.sleep(0.05 * attempt)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
