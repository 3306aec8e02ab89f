"""Is this home healthy? The config, both stores (integrity, foreign keys, layout, revision), permissions,
free disk space and how fresh the data is; each finding says what to do.

Everything here reads: a damaged records file is examined as it is (never migrated), the cost store is
opened read-only (an import may be running). A ``fail`` means something is wrong now (exit 1); a
``warn`` is worth fixing but nothing is broken yet.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage.costs import CostStore, CostStoreError, connect, one_row
from storage.schema import DATA_TABLE, layout_problems
from storage.sqlite_file import foreign_key_problems, integrity_problems, revision, sqlite_path

if TYPE_CHECKING:
    from storage.config import Taxonomy
    from storage.home import Home

MIN_FREE_BYTES = 256 * 1024**2  # below this an import or a backup fails outright
WANT_FREE_BYTES = 1024**3  # ... and below max(this, twice the cost store) a large import may
RESTORE_HINT = "restore the latest backup (finops-tui restore PATH --force)"


@dataclass(frozen=True)
class Finding:
    check: str
    status: str  # ok | warn | fail
    detail: str
    fix: str | None = None


@dataclass
class Report:
    home: Path
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return not any(f.status == "fail" for f in self.findings)

    def as_json(self) -> dict[str, Any]:
        return {"home": str(self.home), "ok": self.ok,
                "problems": sum(f.status == "fail" for f in self.findings),
                "warnings": sum(f.status == "warn" for f in self.findings),
                "checks": [asdict(f) for f in self.findings]}


def check_permissions(home: Home) -> list[Finding]:
    """The home and every entry in it, as storage.home.exposed sees them (the one permission check: `info`
    warns with the same): group- or world-writable is a fail (anyone on the machine could change the
    records), any other access for group or others a warning (they hold people, decisions, spend)."""
    from storage.home import exposed

    found = exposed(home.path)
    writable = [(p, m) for p, m in found if m & 0o022]
    readable = [(p, m) for p, m in found if not m & 0o022]
    fix = (f"chmod -R go-rwx {home.path} (any finops-tui command that writes to this home also makes it "
           "0700/0600)")
    if writable:
        shown = ", ".join(f"{p.name or p} ({m:04o})" for p, m in writable)
        return [Finding("permissions", "fail", f"group or others can write: {shown}", fix)]
    if readable:
        shown = ", ".join(f"{p.name or p} ({m:04o})" for p, m in readable)
        return [Finding("permissions", "warn", f"group or others can read: {shown}", fix)]
    return [Finding("permissions", "ok", "private to its owner")]


def _revision_finding(rev: str | None) -> Finding:
    from storage.db import head_revision, revisions

    head = head_revision()
    if rev == head:
        return Finding("records schema", "ok", f"at revision {rev} (head)")
    if rev is None:
        return Finding("records schema", "warn", "never migrated", "any command migrates it (finops-tui info)")
    if rev in revisions():
        return Finding("records schema", "warn", f"at revision {rev}, head is {head}",
                       "any command migrates it to head (finops-tui info)")
    return Finding("records schema", "fail", f"at revision {rev}, unknown to this finops-tui (head {head})",
                   "upgrade finops-tui on this machine")


def check_records(home: Home) -> list[Finding]:
    path = sqlite_path(home.records_url)
    if path is None:
        return _check_server_records(home)
    if not path.exists():
        return [Finding("records", "ok", f"no records store yet ({path})")]
    found = integrity_problems(path)
    out = [Finding("records integrity", "fail", f"{path}: {'; '.join(found[:3])}",
                   f"{RESTORE_HINT}, or salvage it with `sqlite3 {path} .recover`")
           if found else Finding("records integrity", "ok", "integrity_check ok")]
    if found:
        return out  # a damaged file answers nothing else reliably
    orphans = foreign_key_problems(path)
    out.append(Finding("records foreign keys", "fail", f"rows whose parent is missing: {', '.join(orphans[:5])}",
                       RESTORE_HINT) if orphans else Finding("records foreign keys", "ok", "foreign_key_check ok"))
    out.append(_revision_finding(revision(path)))
    return out


def _check_server_records(home: Home) -> list[Finding]:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError, ProgrammingError

    from storage.db import make_engine

    engine = make_engine(home.records_url)
    try:
        with engine.connect() as conn:
            try:
                rows = conn.execute(text("SELECT version_num FROM alembic_version")).fetchall()
            except ProgrammingError:
                rows = []
    except DBAPIError as exc:
        return [Finding("records", "fail", f"cannot connect to {home.records_display_url}: "
                                           f"{' '.join(str(exc.orig).split())}", "check the server and FINOPS_TUI_DB")]
    finally:
        engine.dispose()
    return [Finding("records", "ok", f"{home.records_display_url} answers (the server checks its own pages; "
                                     "pg_amcheck checks them deeply)"),
            _revision_finding(rows[0][0] if rows else None)]


def check_costs(path: Path, taxonomy: Taxonomy) -> list[Finding]:
    import duckdb

    if not path.exists():
        return [Finding("cost store", "ok", f"no cost store yet ({path})")]
    try:
        con = connect(path, read_only=True)
    except CostStoreError as exc:
        busy = "another finops-tui process" in str(exc)
        return [Finding("cost store", "warn" if busy else "fail", str(exc),
                        "run finops-tui doctor again when it finishes" if busy
                        else f"{RESTORE_HINT}, or move it aside and import the billing files again")]
    try:
        problems, notes = layout_problems(con, taxonomy)
        if problems:
            return [Finding("cost store layout", "fail", "; ".join(problems),
                            f"{RESTORE_HINT}, or move {path.name} aside and import the billing files again")]
        table = "line_items" if any("line_items is a table" in n for n in notes) else DATA_TABLE
        rows = one_row(con, f"SELECT count(*) FROM {table}")[0]
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_type = "
                                           "'BASE TABLE' AND table_catalog = current_database() ORDER BY 1").fetchall()]
        for name in names:
            # Reading every value of every column makes DuckDB verify each block's checksum.
            try:
                con.execute(f'SELECT bit_xor(hash(COLUMNS(*))) FROM "{name}"').fetchall()
            except duckdb.Error as exc:
                return [Finding("cost store", "fail", f"{path}: table {name} cannot be read: "
                                f"{' '.join(str(exc).split())}", f"{RESTORE_HINT}, or move it aside and import "
                                "the billing files again")]
    except duckdb.Error as exc:
        return [Finding("cost store", "fail", f"{path} cannot be read: {' '.join(str(exc).split())}",
                        f"{RESTORE_HINT}, or move it aside and import the billing files again")]
    finally:
        con.close()
    out = [Finding("cost store layout", "ok", f"opens; tables at the expected layout; {rows:,} line items; "
                                              "every block reads back with its checksum")]
    out += [Finding("cost store layout", "warn", n, "finops-tui import (any file) brings it up to date") for n in notes]
    return out


def _staging_leftovers(home: Home) -> list[Finding]:
    """Scratch files of an import that died (their process id is in the name and no longer runs)."""
    dead = []
    for path in home.path.glob(f".{home.costs_path.stem}.staging-*"):
        try:
            pid = int(path.name.split("staging-")[1].split("-")[0])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            dead.append(path)
        except PermissionError:
            pass  # someone else's running process
    if not dead:
        return []
    return [Finding("leftovers", "warn", f"scratch files of an interrupted import: {', '.join(p.name for p in dead)}",
                    f"delete them: rm -r {' '.join(str(p) for p in dead)}")]


def check_disk(home: Home) -> list[Finding]:
    usage = shutil.disk_usage(home.path)
    size = home.costs_path.stat().st_size if home.costs_path.exists() else 0
    want = max(WANT_FREE_BYTES, 2 * size)
    detail = f"{usage.free / 1024**3:,.1f} GiB free on the disk holding {home.path}"
    if usage.free < MIN_FREE_BYTES:
        return [Finding("disk space", "fail", detail, "free some space: imports and backups fail below 256 MiB")]
    if usage.free < want:
        return [Finding("disk space", "warn", f"{detail}; a large import wants {want / 1024**3:,.1f} GiB",
                        "free some space before the next large import")]
    return [Finding("disk space", "ok", detail)]


def check_freshness(store: CostStore) -> list[Finding]:
    """When data last came in (informational: how old is too old depends on the export's cadence)."""
    info = store.info()
    synced = store.meta("aws_synced_at")
    last = info.last_day.isoformat() if info.last_day else "-"
    return [Finding("last import", "ok", f"{info.last_import_at:%Y-%m-%d %H:%M} UTC; data up to {last}"
                    if info.last_import_at else "never"),
            Finding("last AWS sync", "ok", f"{synced} UTC" if synced else "never")]


def check_rollup(store: CostStore) -> list[Finding]:
    """Whether the daily rollup serves the rituals (stale: the same figures from the line items, slower)."""
    from storage.rollup import state

    if not store.path.exists() or store.warehouse.is_athena:
        return []
    now = state(store)
    if now["current"]:
        return [Finding("daily rollup", "ok", f"{now['rows']:,} rows, made for the config's taxonomy")]
    return [Finding("daily rollup", "warn", f"{now['reason']}: the rituals read the line items (the same figures, "
                    "slower)", "finops-tui periods rollup (or the next import) rebuilds it")]


def diagnose(home: Home) -> Report:
    """Every check of the home, in the order a person reads them."""
    from storage.config import ConfigError, load_config

    if not home.path.is_dir():
        return Report(home.path, [Finding("home", "fail", f"{home.path} does not exist",
                                          "check --home / FINOPS_TUI_HOME, or restore a backup into it")])
    findings: list[Finding] = []
    try:
        taxonomy = load_config(home.path).taxonomy
        findings.append(Finding("config", "ok", str(home.config_path) if home.config_path.exists() else "defaults"))
    except ConfigError as exc:
        findings.append(Finding("config", "fail", str(exc), "finops-tui config shows it; fix the file"))
        taxonomy = load_config(None).taxonomy
    findings += check_permissions(home)
    findings += check_records(home)
    findings += check_costs(home.costs_path, taxonomy)
    findings += _staging_leftovers(home)
    findings += check_disk(home)
    if not any(f.status == "fail" and f.check.startswith("cost store") for f in findings):
        findings += check_freshness(CostStore(home.costs_path, taxonomy))
        if home.costs_path.exists():
            try:
                findings += check_rollup(home.costs)
            except ConfigError:  # reported above; the rollup is checked against a readable config only
                pass
    return Report(home.path, findings)
