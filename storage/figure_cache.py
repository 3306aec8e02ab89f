"""Figures computed from both stores, kept in a small JSON file in the home (never inside costs.duckdb) so a
screen can show them at once on its next start while it recomputes them.

Every entry carries the key it was computed under, and an entry read under a different key comes back
marked not current (a stale figure is never shown as current). The key is:

- the cost store's last load: the size and modification time of ``costs.duckdb`` and its write-ahead log.
  Every load, period removal, sync and retag writes the file; a read never does. Checking it needs no
  DuckDB import, which is what lets the board paint its figures before DuckDB and pandas are loaded;
- the records' version: a digest of the rows of the record tables the figures read (the caller names
  them), so an action update does not evict figures that never read actions. A run's notes, attendees and
  version counter, and a case's ``last_seen``, are left out (``UNREAD_COLUMNS``): no figure reads them,
  and typing a note or detecting again must not evict the figures of the ritual being held. A local SQLite records file
  is read with the standard library's driver (its stored values, read-only), so a cached figure can be
  checked before SQLAlchemy and SQLModel are imported; records on a server are read through SQLAlchemy;
- the config file's bytes (taxonomy, targets, calendar and currency change figures too);
- today.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage.costs import store_state
from storage.home import RECORDS_FILE

if TYPE_CHECKING:
    from collections.abc import Callable

    from storage.home import Home

CACHE_FILE = "figures-cache.json"
# Columns no figure reads, left out of the records' digest: a note saved as it is typed bumps the run's
# version, and every detection stamps the cases it sees again with ``last_seen``.
UNREAD_COLUMNS: dict[str, frozenset[str]] = {"ritual_run": frozenset({"notes", "attendees", "version"}),
                                             "anomaly_case": frozenset({"last_seen"})}


@dataclass(frozen=True)
class Cached:
    figures: dict[str, Any]
    computed_at: datetime
    current: bool  # computed under today's key; False: the stores, config or day changed since


def records_digest(home: Home, tables: tuple[str, ...]) -> str:
    """A digest of every row of ``tables`` (small ones: teams, accounts, budgets, actions). The same function
    computes it when an entry is written and when it is read, so it only has to be stable for one home."""
    if home.db_url is None:
        path = home.path / RECORDS_FILE
        if not path.exists():
            _ = home.records  # a new home: its records are created (and migrated) first, as any read would
        return _sqlite_digest(path, tables)
    from sqlalchemy import select

    from storage.records import SQLModel

    digest = hashlib.sha256()
    with home.records.session() as s:
        for name in tables:
            table = SQLModel.metadata.tables[name]
            order = list(table.primary_key.columns) or list(table.columns)
            read = [c for c in table.columns if c.name not in UNREAD_COLUMNS.get(name, ())]
            digest.update(name.encode())
            for row in s.execute(select(*read).order_by(*order)).all():
                digest.update(repr(tuple(_plain(v) for v in row)).encode())
    return digest.hexdigest()


def _sqlite_digest(path: Path, tables: tuple[str, ...]) -> str:
    """The rows of ``tables`` as SQLite stores them, in primary key order, with the column names (a migration
    that changes a table changes the digest). A file that cannot be read has a digest of its own."""
    import sqlite3
    from urllib.parse import quote

    digest = hashlib.sha256(b"sqlite")
    try:
        con = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return "unreadable"
    try:
        for name in tables:
            columns = con.execute(f'PRAGMA table_info("{name}")').fetchall()  # cid, name, type, notnull, default, pk
            names = [c[1] for c in columns if c[1] not in UNREAD_COLUMNS.get(name, ())]
            order = [c[1] for c in sorted(columns, key=lambda c: c[5]) if c[5]] or names
            digest.update(repr((name, names)).encode())
            if not columns:
                continue
            listed = ", ".join(f'"{c}"' for c in names)
            for row in con.execute(f'SELECT {listed} FROM "{name}" ORDER BY ' + ", ".join(f'"{c}"' for c in order)):
                digest.update(repr(row).encode())
    except sqlite3.Error:  # locked past the timeout, or not a records file: never a match
        return "unreadable"
    finally:
        con.close()
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    # A datetime read back from SQLite and from PostgreSQL differ in tzinfo only; ISO text is the same.
    return value.isoformat() if isinstance(value, date | datetime) else value


def cache_key(home: Home, tables: tuple[str, ...], *, costs: bool = True) -> dict[str, Any]:
    """The key of figures read from ``tables`` of the records and (unless ``costs`` is False) the cost store."""
    config = home.config_path
    key = {
        "costs": store_state(home.costs_path),
        "records": records_digest(home, tables),
        "config": hashlib.sha256(config.read_bytes()).hexdigest() if config.exists() else None,
        "today": home.clock.today().isoformat(),
    }
    if not costs:
        del key["costs"]
    return key


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing or damaged: it is only a cache, the figures are recomputed
        return {}
    return data if isinstance(data, dict) else {}


def read(home: Home, name: str, key: dict[str, Any] | Callable[[], dict[str, Any]], *, file: str = CACHE_FILE,
         wanted: Callable[[dict[str, Any]], bool] | None = None) -> Cached | None:
    """The entry ``name`` of the cache ``file`` in the home; ``current`` when it was written under ``key``.
    ``key`` may be a function, called only when there is an entry (and ``wanted``, if given, accepts its
    figures): the key reads the whole records, which a miss need not pay for."""
    entry = _load(home.path / file).get(name)
    if not isinstance(entry, dict) or not isinstance(entry.get("figures"), dict):
        return None
    if wanted is not None and not wanted(entry["figures"]):
        return None
    try:
        at = datetime.fromisoformat(entry["computed_at"])
    except (KeyError, TypeError, ValueError):
        return None
    return Cached(entry["figures"], at, entry.get("key") == (key() if callable(key) else key))


def write(home: Home, name: str, key: dict[str, Any], figures: dict[str, Any], computed_at: datetime, *,
          file: str = CACHE_FILE) -> None:
    """Store one entry (the others kept); written to a scratch file and renamed, so a reader never sees
    half a file and two writers leave one whole file."""
    path = home.path / file
    data = _load(path)
    data[name] = {"key": key, "computed_at": computed_at.isoformat(), "figures": figures}
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        scratch.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
        os.replace(scratch, path)
    except OSError:  # a read-only home: the figures are simply recomputed next time
        scratch.unlink(missing_ok=True)
