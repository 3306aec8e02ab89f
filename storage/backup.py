"""A backup of a home (both stores and the config) taken while the app or a cron job may be running, and
its restore into an empty home.

- Records (a SQLite file): SQLite's online backup API, one committed state while writers carry on.
  Records on a server (PostgreSQL) are not copied: ``pg_dump`` is the tool for that, and the manifest says so.
- Costs (DuckDB): ``COPY FROM DATABASE`` from a read-only attach into a new file. A read-only connection
  cannot checkpoint, so copying the file itself could miss what sits in its WAL; the copy reads through it.
  The read-only attach shares the file with other readers and excludes writers only while it copies: an
  import waits for it (up to its lock timeout) and the backup waits for an import's swap, so the copy is
  the store before or after an import, never in between.
- The config: ``finops-tui.toml``, framework overrides (``framework/*.toml``), who each OS user said they
  are (``whoami.json``), the notification channels' secrets (``channels.secrets.json``, which the records'
  ``secret:ID`` channels point at; a backup is as private as the home) and the demo marker.

A backup is a folder (or a ``.tar.gz`` of one) with ``manifest.json``: versions, the records' revision,
row counts per table and a sha256 per file. Restore verifies every checksum before it touches the home.
The two stores are copied one after the other; each copy is consistent in itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage.costs import CostStoreError, attach_store, quiet, sql_string
from storage.schema import taxonomy_signature
from storage.sqlite_file import integrity_problems, online_copy, revision, sqlite_path, table_counts

if TYPE_CHECKING:
    from storage.home import Home

MANIFEST = "manifest.json"
FORMAT = 1
RECORDS = "records.sqlite"
COSTS = "costs.duckdb"
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
BACKUP_WAIT_S = 600.0  # a large import's swap holds the cost store for a while: the backup waits for it
PG_DUMP_HINT = ("the records are on a server: back them up with the server's own tool, "
                "e.g. `pg_dump --format=custom --file records.pgdump \"$FINOPS_TUI_DB\"`")


class BackupError(ValueError):
    """A backup that cannot be taken or restored as asked; the message says why (bad input: exit 2)."""


@dataclass
class RestoreSummary:
    home: Path
    files: list[str]
    moved_aside: Path | None
    manifest: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"home": str(self.home), "files": self.files,
                "moved_aside": str(self.moved_aside) if self.moved_aside else None,
                "backup_created_at": self.manifest.get("created_at"),
                "records_revision": (self.manifest.get("records") or {}).get("revision")}


def is_archive(path: Path) -> bool:
    return path.name.endswith(ARCHIVE_SUFFIXES)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _private(path: Path) -> None:
    path.chmod(0o700 if path.is_dir() else 0o600)


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    import duckdb

    return {"finops_tui": version("finops-tui"), "duckdb": duckdb.__version__,
            "sqlite": sqlite3.sqlite_version, "python": sys.version.split()[0]}


def _copy_costs(src: Path, dst: Path, wait_s: float) -> dict[str, Any]:
    import duckdb

    con = quiet(duckdb.connect(":memory:"))
    try:
        attach_store(con, src, wait_s, alias="src", read_only=True)
        con.execute(f"ATTACH {sql_string(str(dst))} AS dst")
        try:
            con.execute("COPY FROM DATABASE src TO dst")
        except duckdb.Error as exc:
            raise CostStoreError(f"the cost store {src} cannot be copied ({' '.join(str(exc).split())}); "
                                 "finops-tui doctor says what is wrong") from exc
        con.execute("DETACH src")  # writers may go on from here
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'dst' "
            "AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        counts = {n: int(con.execute(f'SELECT count(*) FROM dst."{n}"').fetchone()[0])  # type: ignore[index]
                  for n in names}
        tax = con.execute("SELECT value FROM dst.meta WHERE key = 'taxonomy'").fetchone() if "meta" in names else None
        con.execute("CHECKPOINT dst")
        con.execute("DETACH dst")
    finally:
        con.close()
    return {"tables": counts, "taxonomy": tax[0] if tax else None}


def _config_files(home: Home) -> list[Path]:
    from storage.channel_secrets import SECRETS_FILE
    from storage.home import DEMO_MARKER, WHOAMI_FILE

    found = [p for p in (home.config_path, home.path / DEMO_MARKER, home.path / WHOAMI_FILE,
                         home.path / SECRETS_FILE) if p.is_file()]
    return found + sorted((home.path / "framework").glob("*.toml"))


def take_backup(home: Home, dest: Path, *, wait_s: float = BACKUP_WAIT_S,
                progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Back up ``home`` into the folder (or ``.tar.gz``) ``dest``, which must not exist; returns the manifest.
    Nothing is left at ``dest`` when the backup fails."""
    say = progress or (lambda _m: None)
    dest = Path(dest).expanduser()
    if dest.exists():
        raise BackupError(f"{dest} already exists; name a new folder or archive for the backup")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent} is not a folder")
    if not home.path.is_dir():
        raise BackupError(f"the home {home.path} does not exist; nothing to back up")
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        manifest: dict[str, Any] = {"format": FORMAT, "created_at": home.clock.now().isoformat(),
                                    "home": str(home.path), "versions": _versions(), "notes": []}
        db_path = sqlite_path(home.records_url)
        if db_path is None:
            manifest["records"] = {"included": False, "engine": home.records_url.split(":")[0],
                                   "url": home.records_display_url}
            manifest["notes"].append(PG_DUMP_HINT)
        elif db_path.exists():
            say("copying the records")
            try:
                online_copy(db_path, work / RECORDS)
            except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
                from storage.db import RecordsError

                raise RecordsError(f"the records store {db_path} cannot be copied ({exc}); "
                                  "finops-tui doctor says what is wrong") from exc
            manifest["records"] = {"included": True, "engine": "sqlite", "revision": revision(work / RECORDS),
                                   "tables": table_counts(work / RECORDS)}
        else:
            manifest["records"] = {"included": False, "engine": "sqlite"}
            manifest["notes"].append("the home has no records store yet")
        if home.costs_path.exists():
            say("copying the cost store")
            manifest["costs"] = {"included": True, **_copy_costs(home.costs_path, work / COSTS, wait_s)}
            if manifest["costs"]["taxonomy"] not in (None, taxonomy_signature(home.config.taxonomy)):
                manifest["notes"].append("the cost store's tag columns were made for another taxonomy")
        else:
            manifest["costs"] = {"included": False}
            manifest["notes"].append("the home has no cost store yet")
        for path in _config_files(home):
            rel = path.relative_to(home.path)
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, work / rel)
        files = sorted(p for p in work.rglob("*") if p.is_file())
        if not files:
            raise BackupError(f"the home {home.path} holds nothing to back up (no stores, no config)"
                              + (f"; {PG_DUMP_HINT}" if not manifest["records"]["included"] and db_path is None else ""))
        manifest["files"] = [{"path": p.relative_to(work).as_posix(), "bytes": p.stat().st_size,
                              "sha256": sha256(p)} for p in files]
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        for p in [work, *work.rglob("*")]:
            _private(p)
        if is_archive(dest):
            say("writing the archive")
            partial = work.with_name(work.name + ".tar.gz")
            with tarfile.open(partial, "w:gz") as tar:
                for p in sorted(work.rglob("*")):
                    tar.add(p, arcname=p.relative_to(work).as_posix(), recursive=False)
            _private(partial)
            os.replace(partial, dest)
        else:
            os.replace(work, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return manifest


def verify_backup(folder: Path) -> dict[str, Any]:
    """The manifest of the backup in ``folder`` once every file it lists is there with its size and sha256
    (and the records copy passes SQLite's quick check); a BackupError naming the first fault otherwise."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(f"{folder} is not a finops-tui backup (no {MANIFEST})") from exc
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder / MANIFEST} cannot be read: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder}: backup format {manifest.get('format')!r} is not one this finops-tui reads "
                          f"({FORMAT})")
    for entry in manifest.get("files", []):
        rel = Path(entry["path"])
        if rel.is_absolute() or ".." in rel.parts:
            raise BackupError(f"{folder / MANIFEST}: a file outside the backup ({entry['path']})")
        path = folder / rel
        if not path.is_file():
            raise BackupError(f"{path} is missing from the backup; nothing was restored")
        if path.stat().st_size != entry["bytes"] or sha256(path) != entry["sha256"]:
            raise BackupError(f"{path}: its checksum differs from the manifest (the backup is damaged); "
                              "nothing was restored")
    if (folder / RECORDS).exists():
        problems = integrity_problems(folder / RECORDS, quick=True)
        if problems:
            raise BackupError(f"{folder / RECORDS} fails SQLite's check: {problems[0]}")
    return manifest


def _unpacked(src: Path, scratch: Path) -> Path:
    if src.is_dir():
        return src
    if src.is_file() and tarfile.is_tarfile(src):
        with tarfile.open(src) as tar:
            if hasattr(tarfile, "data_filter"):  # Python 3.11.4+: no links, devices or paths outside
                tar.extractall(scratch, filter="data")
            else:  # pragma: no cover - older 3.11: refuse what the filter would
                if any(m.issym() or m.islnk() or m.name.startswith("/") or ".." in Path(m.name).parts
                       for m in tar.getmembers()):
                    raise BackupError(f"{src} holds links or paths outside the backup")
                tar.extractall(scratch)
        return scratch
    raise BackupError(f"{src} is neither a backup folder nor a backup archive")


# What a home holds that a restore replaces (moved aside with --force).
_HOME_FILES = (RECORDS, f"{RECORDS}-wal", f"{RECORDS}-shm", COSTS, f"{COSTS}.wal", "finops-tui.toml",
               ".finops-tui-demo", "whoami.json", "channels.secrets.json", "framework")


def restore_backup(home: Home, src: Path, *, force: bool = False) -> RestoreSummary:
    """Restore the backup at ``src`` (folder or archive) into ``home``. The checksums are verified first;
    a home holding data is refused unless ``force``, which moves its files aside into
    ``HOME/.before-restore-STAMP/`` (stop the app and cron jobs on that home first)."""
    from storage.db import head_revision, revisions

    src = Path(src).expanduser()
    with tempfile.TemporaryDirectory(prefix="finops-tui-restore-") as scratch:
        folder = _unpacked(src, Path(scratch))
        manifest = verify_backup(folder)
        own = sqlite_path(home.db_url) if home.db_url is not None else None
        elsewhere = home.db_url is not None and (own is None or own.resolve() != (home.path / RECORDS).resolve())
        if elsewhere and (folder / RECORDS).exists():
            raise BackupError(f"this home's records are at {home.records_display_url}; a restore writes "
                              f"{home.path / RECORDS}: run it without --db / FINOPS_TUI_DB")
        rev = (manifest.get("records") or {}).get("revision")
        if rev is not None and rev not in revisions():
            raise BackupError(f"the backup's records stand at revision {rev!r}, which this finops-tui does not "
                              f"know (its newest is {head_revision()}): upgrade finops-tui first")
        if home.has_any_data() and not force:
            raise BackupError(f"{home.path} already holds data; restore into an empty home (--home DIR), "
                              "or add --force to move its files aside first")
        home.close()
        home.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        aside = None
        present = [home.path / n for n in _HOME_FILES if (home.path / n).exists()]
        if present:
            stamp = home.clock.now().strftime('%Y%m%dT%H%M%SZ')
            aside = home.path / f".before-restore-{stamp}"
            n = 1
            while aside.exists():
                n += 1
                aside = home.path / f".before-restore-{stamp}-{n}"
            aside.mkdir(mode=0o700)
            for path in present:
                os.replace(path, aside / path.name)
        names = [e["path"] for e in manifest.get("files", [])]
        for name in names:
            target = home.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.restoring")
            shutil.copyfile(folder / name, partial)
            _private(partial)
            os.replace(partial, target)
    return RestoreSummary(home.path, names, aside, manifest)


def default_backup_name(home: Home) -> str:
    return f"finops-tui-backup-{home.clock.now().strftime('%Y%m%dT%H%M%SZ')}"


__all__ = ["BackupError", "RestoreSummary", "default_backup_name", "restore_backup",
           "take_backup", "verify_backup"]
