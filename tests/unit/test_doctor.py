"""The doctor on a real home (the demo's stores): healthy once private; a corrupted page in a copy of the
real records file, a group-writable store, a broken cost store layout each fail with what to do; a
readable home warns."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import duckdb

from storage.doctor import diagnose
from storage.home import Home
from tests.focus_files import with_descriptive


def private(home: Home) -> None:
    for path in [home.path, *home.path.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)


def by_check(report) -> dict[str, str]:  # type: ignore[no-untyped-def]
    out: dict[str, str] = {}
    for f in report.findings:
        out[f.check] = max(out.get(f.check, "ok"), f.status, key=["ok", "warn", "fail"].index)
    return out


def test_a_private_demo_home_is_healthy(demo_home: Home) -> None:
    private(demo_home)
    report = diagnose(demo_home)
    assert report.ok and set(by_check(report).values()) == {"ok"}, report.as_json()
    checks = by_check(report)
    for name in ("config", "permissions", "records integrity", "records foreign keys", "records schema",
                 "cost store layout", "disk space", "last import", "last AWS sync"):
        assert name in checks


def corrupt_a_page(path: Path, table: str) -> int:
    """Flip the cell pointers on the root page of ``table`` (read from the file's own schema); returns it."""
    con = sqlite3.connect(path)
    try:
        page = con.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [table]).fetchone()[0]
    finally:
        con.close()
    body = bytearray(path.read_bytes())
    size = struct.unpack(">H", body[16:18])[0]
    start = (page - 1) * size + 8
    body[start:start + 8] = bytes(b ^ 0xFF for b in body[start:start + 8])
    path.write_bytes(bytes(body))
    return page


def test_a_corrupted_page_in_a_copy_of_the_real_records_fails_with_what_to_do(demo_home: Home) -> None:
    private(demo_home)
    corrupt_a_page(demo_home.path / "records.sqlite", "action")
    report = diagnose(demo_home)
    assert not report.ok
    failed = [f for f in report.findings if f.status == "fail"]
    assert [f.check for f in failed] == ["records integrity"]
    assert "restore" in (failed[0].fix or "") and ".recover" in (failed[0].fix or "")


def test_permissions_writable_fails_and_readable_warns(demo_home: Home) -> None:
    private(demo_home)
    (demo_home.path / "records.sqlite").chmod(0o664)
    report = diagnose(demo_home)
    assert by_check(report)["permissions"] == "fail" and not report.ok
    assert "records.sqlite (0664)" in next(f.detail for f in report.findings if f.check == "permissions")
    (demo_home.path / "records.sqlite").chmod(0o600)
    demo_home.path.chmod(0o755)
    report = diagnose(demo_home)
    assert by_check(report)["permissions"] == "warn" and report.ok
    assert "go-rwx" in (next(f.fix for f in report.findings if f.check == "permissions") or "")


def test_a_cost_store_off_its_layout_fails(demo_home: Home) -> None:
    private(demo_home)
    con = duckdb.connect(str(demo_home.costs_path))
    con.execute("DROP TABLE imports")
    con.close()
    report = diagnose(demo_home)
    assert by_check(report)["cost store layout"] == "fail"
    assert "missing tables: imports" in next(f.detail for f in report.findings if f.status == "fail")


def test_damaged_blocks_in_the_cost_store_fail(demo_home: Home) -> None:
    private(demo_home)
    body = bytearray(demo_home.costs_path.read_bytes())
    for i in range(len(body) // 4, len(body) * 3 // 4):  # the middle half: line item blocks, whatever else
        body[i] ^= 0x5A
    demo_home.costs_path.write_bytes(bytes(body))
    report = diagnose(demo_home)
    assert not report.ok
    assert [f.check for f in report.findings if f.status == "fail"] == ["cost store"]


def test_an_older_layout_the_next_import_upgrades_warns_but_does_not_fail(home: Home) -> None:
    from tests.unit.test_cost_store_layout import make_old_store

    make_old_store(home.costs)
    private(home)
    report = diagnose(home)
    layout = [f for f in report.findings if f.check.startswith("cost store")]
    assert report.ok and {f.status for f in layout} == {"ok", "warn"}, layout
    assert any("older layout" in f.detail for f in layout)


def test_a_home_the_cli_made_is_private_for_the_doctor_and_info_alike(tmp_path: Path) -> None:
    """No chmod by the test: the product's umask makes the home 0700/0600, and the doctor's permission
    finding comes from the same check as `info`'s warnings (storage.home.exposed)."""
    import os

    from click.testing import CliRunner

    from finops_tui.cli import main
    from storage.doctor import check_permissions
    from storage.home import permission_warnings

    home = tmp_path / "home"
    bill = tmp_path / "bill.csv"
    bill.write_text("BillingAccountId,ChargePeriodStart,ChargePeriodEnd,BillingPeriodStart,BillingPeriodEnd,"
                    "BilledCost,EffectiveCost,ChargeCategory,BillingCurrency"
                    "\na,2026-10-01,2026-10-02,2026-10-01,2026-11-01,1,1,Usage,USD\n")
    bill.write_text(with_descriptive(bill.read_text()))
    old = os.umask(0o022)
    try:
        out = CliRunner().invoke(main, ["--home", str(home), "import", str(bill)])
    finally:
        os.umask(old)
    assert out.exit_code == 0, out.output
    h = Home(home)
    try:
        assert [f.status for f in check_permissions(h)] == ["ok"] and permission_warnings(home) == []
        (home / "costs.duckdb").chmod(0o640)
        finding = check_permissions(h)[0]
        assert finding.status == "warn" and "costs.duckdb (0640)" in finding.detail
        assert [w for w in permission_warnings(home) if "costs.duckdb" in w]
    finally:
        h.close()


def test_the_scratch_folder_of_an_interrupted_tag_fold_is_reported(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An import killed while it folds tags leaves the fold's scratch folder (storage.tag_sets.StoredFold) beside
    the store: the doctor names it as a leftover of an interrupted import, as it does the staging's files."""
    import os
    import tempfile

    from storage.config import load_config
    from storage.costs import CostStore
    from storage.sources.files import import_files
    from tests.unit.test_allocated_tags import generated

    home = Home(tmp_path / "home")
    home.path.mkdir(mode=0o700)
    made: list[dict] = []
    real = tempfile.TemporaryDirectory

    def recorded(*args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryDirectory", recorded)
    data = tmp_path / "f.csv"
    generated(data, 20)
    import_files(CostStore(home.costs_path, load_config(None).taxonomy), [data])
    (fold,) = [m for m in made if "fold" in m.get("prefix", "")]
    assert Path(fold["dir"]) == home.path
    assert not list(home.path.glob(fold["prefix"] + "*"))  # removed when the import ends
    # The folder a dead process left (its id in the name, as this process's is in the prefix).
    left = home.path / (fold["prefix"].replace(f"-{os.getpid()}-", "-999999999-") + "x1")
    left.mkdir()
    found = [f for f in diagnose(home).findings if f.check == "leftovers"]
    assert found and found[0].status == "warn" and left.name in found[0].detail
