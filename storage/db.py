"""The records engine: a SQLite file by default (WAL, busy timeout, foreign keys), any SQLAlchemy URL.

Writers use ``Records.write()``, whose transaction starts with ``BEGIN IMMEDIATE`` on SQLite: a writer
that reads and then updates must hold the write lock from its first read, or two writers deadlock and
one of them gets "database is locked". On PostgreSQL the same transaction first takes a transaction-level
advisory lock, so writers (and migrations) serialise there exactly as on SQLite's file lock: code that
reads, then inserts or updates, sees every write committed before its own began.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, NoSuchModuleError, OperationalError, ProgrammingError
from sqlmodel import Session

from storage.records_url import RecordsUrlError, missing_driver, parse, redact_url, scrub

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10  # an unreachable server says so instead of hanging the terminal
# The key of the PostgreSQL advisory lock every writer and every migration holds ("FinOps" in ASCII).
# Advisory locks belong to one database, so two stores on one server never wait for each other.
WRITE_LOCK_KEY = 0x46696E4F7073

__all__ = ["Records", "RecordsError", "RecordsUrlError", "head_revision", "make_engine", "revisions", "sqlite_url"]


def revisions() -> dict[str, str | None]:
    """Every revision id of the migrations -> its down_revision, read from the revision files."""
    import re

    revs: dict[str, str | None] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        body = path.read_text(encoding="utf-8")
        rev = re.search(r'^revision\s*=\s*["\']([^"\']+)["\']', body, re.M)
        down = re.search(r'^down_revision\s*=\s*(?:["\']([^"\']+)["\']|None)', body, re.M)
        if rev:
            revs[rev.group(1)] = down.group(1) if down else None
    return revs


def head_revision() -> str:
    """The newest revision id (the one no other revision names as its down_revision)."""
    revs = revisions()
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
    """The engine for a URL; a malformed URL or a missing driver is a RecordsUrlError naming the fix."""
    if not _is_sqlite(url):
        parsed = parse(url)
        connect_args: dict[str, Any] = {}
        if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("psycopg", "psycopg2"):
            connect_args = {"application_name": "finops-tui"}
            if "connect_timeout" not in parsed.query:
                connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
        try:
            return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
        except ImportError as exc:  # the dialect imports its driver here
            raise missing_driver(url, exc) from exc
        except NoSuchModuleError as exc:
            raise RecordsUrlError(f"the records store {redact_url(url)} names a database SQLAlchemy does not "
                                  f"know ({parsed.drivername!r})") from exc
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
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._writer = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        if migrate and not self._at_head():
            self.upgrade()

    @property
    def display_url(self) -> str:
        """The URL as it may be shown or logged: the password as ``***``."""
        return redact_url(self.url)

    def __repr__(self) -> str:
        return f"Records({self.display_url!r})"

    def _error(self, doing: str, exc: DBAPIError) -> RecordsError:
        """One line for a person: what failed, on which store (no password), and the driver's reason."""
        reason = " ".join(str(exc.orig).split())
        return RecordsError(scrub(doing.format(store=f"the records store {self.display_url}") + f": {reason}",
                                  self.url))

    def _refused(self, exc: DBAPIError) -> RecordsError | None:
        """A server's refusal (no privilege, a lost connection) as one line; None for anything else."""
        if getattr(exc.orig, "sqlstate", None) == "42501":  # insufficient_privilege
            return self._error("{store} refused: the role needs the privileges README.md lists", exc)
        if isinstance(exc, OperationalError) and not self.is_sqlite:
            return self._error("lost the connection to {store}", exc)
        return None

    def _take_write_lock(self, conn: Connection) -> None:
        """PostgreSQL: wait (at most the busy timeout) for the store's advisory lock, held to commit."""
        if self.is_postgres:
            conn.execute(text(f"SET LOCAL lock_timeout = '{int(BUSY_TIMEOUT_S * 1000)}ms'"))
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})

    @classmethod
    def at(cls, path: Path, **kwargs: bool) -> Records:
        Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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
        try:
            conn = self.engine.connect()
        except OperationalError as exc:
            if self.is_sqlite:
                return False  # a file busy opening: upgrade retries
            raise self._error("cannot connect to {store}", exc) from exc
        with conn:
            try:
                rows = conn.execute(text("SELECT version_num FROM alembic_version")).fetchall()
            except (OperationalError, ProgrammingError):
                # A new database: no alembic_version yet (SQLite says OperationalError, PostgreSQL
                # UndefinedTable, a ProgrammingError), or a file busy opening: let upgrade decide.
                return False
        return [r[0] for r in rows] == [head_revision()]

    def upgrade(self, revision: str = "head", retries: int = 5) -> None:
        """Migrate to ``revision`` in one transaction that holds the store's write lock (SQLite's BEGIN
        IMMEDIATE, PostgreSQL's advisory lock): processes opening an old or empty store at once take turns,
        and each one after the first finds the work done."""
        from alembic import command
        from alembic.util import CommandError

        cfg = self._alembic_config()
        attempt = 0
        while True:
            try:
                with self._writer.begin() as conn:
                    self._take_write_lock(conn)
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, revision)
                return
            except CommandError as exc:  # a store migrated by a newer finops-tui than this one
                raise RecordsError(scrub(f"the records store {self.display_url} is at a revision this "
                                         f"finops-tui does not know ({exc}); upgrade finops-tui", self.url)) from exc
            except DBAPIError as exc:
                # Opening a WAL file while another process closes its last connection (and checkpoints)
                # can report "locked" without waiting for the busy timeout: open again, a little later.
                attempt += 1
                if not self.is_sqlite or "locked" not in str(exc.orig).lower() or attempt > retries:
                    raise self._error("cannot open {store}", exc) from exc
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
            try:
                yield session
            except DBAPIError as exc:
                refused = self._refused(exc)
                if refused is None:
                    raise
                raise refused from exc

    @contextmanager
    def write(self, retries: int = 5) -> Iterator[Session]:
        """A write session holding the store's write lock from its start (BEGIN IMMEDIATE on SQLite, the
        advisory lock on PostgreSQL); committed on success, rolled back on error."""
        attempt = 0
        while True:
            session = Session(self._writer, expire_on_commit=False)
            try:
                # Start the transaction now so the write lock is held before the first read.
                self._take_write_lock(session.connection())
                break
            except OperationalError as exc:
                session.close()
                attempt += 1
                if self.is_postgres and getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_timeout
                    raise self._error(f"{{store}} is busy: other writers held it for {BUSY_TIMEOUT_S:.0f} s; "
                                      "try again", exc) from exc
                if not self.is_sqlite:
                    raise self._error("cannot connect to {store}", exc) from exc
                if "locked" not in str(exc.orig).lower() or attempt > retries:
                    raise RecordsError(f"the records store is busy; try again ({exc.orig})") from exc
                time.sleep(0.05 * attempt)
        try:
            yield session
            session.commit()
        except DBAPIError as exc:
            session.rollback()
            refused = self._refused(exc)
            if refused is None:
                raise
            raise refused from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
