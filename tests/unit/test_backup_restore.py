"""A backup of a home and its restore: the restored stores hold exactly what the backed-up ones held (every
table's rows), the manifest's counts and checksums are the files', a damaged backup or a home holding data
is refused with nothing changed, and records on PostgreSQL are named as pg_dump's job."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from storage.backup import BackupError, restore_backup, take_backup
from storage.clock import Clock
from storage.home import Home
from storage.sources.files import import_files
from storage.sqlite_file import table_counts
from tests.conftest import FIXED_TODAY
from tests.stores import cost_fingerprint


def filled(home: Home, shared_data: Path) -> Home:
    """A home with real billing rows and a person in its records."""
    from rituals.people import add_person

    import_files(home.costs, [shared_data / "focus-sample-data" / "focus_sample.csv"])
    with home.records.write() as session:
        add_person(session, "ana", "Ana Lopez", "finops_lead")
    home.close()
    return home


def empty_home(tmp_path: Path, name: str) -> Home:
    return Home(tmp_path / name, clock_override=Clock(FIXED_TODAY))


@pytest.mark.parametrize("archive", [False, True], ids=["folder", "tar.gz"])
def test_a_restored_home_holds_what_the_backed_up_one_held(home: Home, shared_data: Path, tmp_path: Path,
                                                           archive: bool) -> None:
    filled(home, shared_data)
    dest = tmp_path / ("b.tar.gz" if archive else "b")
    manifest = take_backup(home, dest)
    assert dest.is_file() if archive else (dest / "manifest.json").is_file()
    assert not list(tmp_path.glob(".b*partial*"))  # no scratch left beside it
    assert manifest["records"]["tables"] == table_counts(home.path / "records.sqlite")
    assert manifest["records"]["revision"] == home.records.current_revision()
    assert manifest["costs"]["tables"]["line_items_data"] == home.costs.totals()[0] == 1000
    if not archive:
        for entry in manifest["files"]:
            body = (dest / entry["path"]).read_bytes()
            assert (len(body), hashlib.sha256(body).hexdigest()) == (entry["bytes"], entry["sha256"])

    target = empty_home(tmp_path, "restored")
    summary = restore_backup(target, dest)
    assert sorted(summary.files) == ["costs.duckdb", "records.sqlite"] and summary.moved_aside is None
    assert cost_fingerprint(target.costs_path) == cost_fingerprint(home.costs_path)
    assert table_counts(target.path / "records.sqlite") == table_counts(home.path / "records.sqlite")
    assert (target.path.stat().st_mode & 0o077) == 0 and (target.costs_path.stat().st_mode & 0o077) == 0


def test_a_home_holding_data_is_refused_unless_forced_and_then_kept_aside(home: Home, shared_data: Path,
                                                                          tmp_path: Path) -> None:
    filled(home, shared_data)
    take_backup(home, tmp_path / "b")
    other = empty_home(tmp_path, "other")
    other.path.mkdir()
    (other.path / "finops-tui.toml").write_text('currency = "EUR"\n', encoding="utf-8")
    with pytest.raises(BackupError, match="already holds data"):
        restore_backup(other, tmp_path / "b")
    assert sorted(p.name for p in other.path.iterdir()) == ["finops-tui.toml"]
    summary = restore_backup(other, tmp_path / "b", force=True)
    assert summary.moved_aside is not None
    assert (summary.moved_aside / "finops-tui.toml").read_text(encoding="utf-8") == 'currency = "EUR"\n'
    assert not (other.path / "finops-tui.toml").exists()  # the backup had no config of its own
    assert cost_fingerprint(other.costs_path) == cost_fingerprint(home.costs_path)


def test_a_damaged_backup_is_refused_before_anything_is_written(home: Home, shared_data: Path,
                                                                tmp_path: Path) -> None:
    filled(home, shared_data)
    take_backup(home, tmp_path / "b")
    copy = tmp_path / "b" / "costs.duckdb"
    body = bytearray(copy.read_bytes())
    body[len(body) // 2] ^= 0x01
    copy.chmod(0o600)
    copy.write_bytes(bytes(body))
    target = empty_home(tmp_path, "restored")
    with pytest.raises(BackupError, match=r"costs\.duckdb: its checksum differs"):
        restore_backup(target, tmp_path / "b")
    assert not target.path.exists()
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = [e for e in manifest["files"] if e["path"] != "costs.duckdb"] + [
        {"path": "../outside", "bytes": 0, "sha256": ""}]
    (tmp_path / "b" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(BackupError, match="outside the backup"):
        restore_backup(target, tmp_path / "b")


def test_an_existing_destination_is_refused(home: Home, shared_data: Path, tmp_path: Path) -> None:
    filled(home, shared_data)
    (tmp_path / "b").mkdir()
    with pytest.raises(BackupError, match="already exists"):
        take_backup(home, tmp_path / "b")


def test_records_on_postgresql_are_named_as_pg_dumps_job(pg_records_url: str, shared_data: Path,
                                                          tmp_path: Path) -> None:
    home = Home(tmp_path / "home", pg_records_url, clock_override=Clock(FIXED_TODAY))
    home.path.mkdir()
    import_files(home.costs, [shared_data / "focus-sample-data" / "focus_sample.csv"])
    manifest = take_backup(home, tmp_path / "b")
    home.close()
    assert manifest["records"]["included"] is False and manifest["records"]["engine"] == "postgresql+psycopg"
    assert any("pg_dump" in n for n in manifest["notes"])
    assert "***" in manifest["records"]["url"] and ":finops_test@" not in json.dumps(manifest)  # no password
    assert sorted(e["path"] for e in manifest["files"]) == ["costs.duckdb"]
    # That backup restores into a home whose records are on the server; a backup holding records.sqlite
    # does not (it would write a file the home never reads).
    restored = restore_backup(Home(tmp_path / "r", pg_records_url, clock_override=Clock(FIXED_TODAY)), tmp_path / "b")
    assert restored.files == ["costs.duckdb"]
    sqlite_home = filled(empty_home(tmp_path, "lite"), shared_data)
    take_backup(sqlite_home, tmp_path / "lite-b")
    with pytest.raises(BackupError, match="run it without --db"):
        restore_backup(Home(tmp_path / "r2", pg_records_url), tmp_path / "lite-b")


def test_channel_secrets_travel_with_the_records_that_point_at_them(home: Home, shared_data: Path,
                                                                     tmp_path: Path) -> None:
    from storage.channel_secrets import SECRETS_FILE, resolve, store_secret

    filled(home, shared_data)
    ref = store_secret(home.path, "json://127.0.0.1:9/hook/s3cret")
    take_backup(home, tmp_path / "b")
    target = empty_home(tmp_path, "restored")
    summary = restore_backup(target, tmp_path / "b")
    assert SECRETS_FILE in summary.files
    assert resolve(target.path, ref) == "json://127.0.0.1:9/hook/s3cret"
    assert ((target.path / SECRETS_FILE).stat().st_mode & 0o077) == 0
