"""A records store that is a SQLite file, looked at as a file: where it is, a consistent copy while others
write it (SQLite's online backup API), its integrity, its revision and its tables' row counts.

These open the file with the plain ``sqlite3`` module and never migrate it: the backup and the doctor look
at a store as it is, and a damaged file must not be "upgraded" before it is examined.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

BUSY_TIMEOUT_S = 30.0


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL; None for another engine or an in-memory database."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _open(path: Path) -> sqlite3.Connection:
    """A plain connection that these functions only read through. Not ``mode=ro``: a read-only connection
    cannot remove the -wal and -shm files it finds missing and makes, so it would leave them behind (with
    the store's permissions); a read-write one that writes nothing removes them as it closes."""
    if not path.exists():
        raise FileNotFoundError(f"no records store at {path}")
    con = sqlite3.connect(Path(path).resolve().as_uri(), uri=True, timeout=BUSY_TIMEOUT_S)
    # A damaged page can put any bytes into a finding (or a text value): never fail on decoding them.
    con.text_factory = lambda raw: raw.decode("utf-8", "replace")
    return con


def online_copy(src: Path, dst: Path) -> None:
    """Copy the store at ``src`` into a new file ``dst`` while other processes may write it: the backup
    API copies every page in one step, inside one read transaction, so the copy is one committed state
    (in WAL mode writers carry on meanwhile). The copy is a single file (rollback journal, no -wal)."""
    with closing(_open(src)) as source, closing(sqlite3.connect(dst)) as target:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")


def integrity_problems(path: Path, *, quick: bool = False) -> list[str]:
    """``PRAGMA integrity_check`` (or ``quick_check``): empty when the file is sound, else SQLite's
    findings (at most 20). A file too damaged to open says so as one finding."""
    pragma = "quick_check" if quick else "integrity_check"
    try:
        with closing(_open(path)) as con:
            rows = [" ".join(str(r[0]).split()) for r in con.execute(f"PRAGMA {pragma}(20)").fetchall()]
    except sqlite3.DatabaseError as exc:
        return [f"cannot be read: {exc}"]
    except UnicodeDecodeError:  # SQLite's own message quotes damaged bytes
        return ["cannot be read: the file is damaged (SQLite's message about it is not even text)"]
    return [] if rows == ["ok"] else rows


def foreign_key_problems(path: Path) -> list[str]:
    """``PRAGMA foreign_key_check``: rows whose parent row is missing, as 'TABLE row N -> PARENT'."""
    try:
        with closing(_open(path)) as con:
            rows = con.execute("PRAGMA foreign_key_check").fetchall()
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        return [f"cannot be read: {exc}"]
    return [f"{table} row {rowid} -> {parent}" for table, rowid, parent, _fk in rows[:20]]


def revision(path: Path) -> str | None:
    """The Alembic revision the file stands at (None: never migrated)."""
    with closing(_open(path)) as con:
        try:
            rows = con.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.OperationalError:
            return None
    return rows[0][0] if rows else None


def table_counts(path: Path) -> dict[str, int]:
    """Rows per table (SQLite's own tables left out)."""
    with closing(_open(path)) as con:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                           "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()]
        return {n: int(con.execute(f'SELECT count(*) FROM "{n.replace(chr(34), chr(34) * 2)}"').fetchone()[0])
                for n in names}
