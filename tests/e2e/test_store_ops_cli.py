"""Operating a home with the installed command: backups taken while a real `finops-tui import` runs in
another process restore to the store before it or after it, never between; `periods` lists and removes
through the command line; `doctor` exits 1 on a corrupted copy of a real records file."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from storage.backup import restore_backup, take_backup
from storage.clock import Clock
from storage.home import Home
from storage.sources.files import import_files
from tests.conftest import FIXED_TODAY
from tests.stores import cost_fingerprint
from tests.unit.test_doctor import corrupt_a_page

EXE = shutil.which("finops-tui")
pytestmark = [pytest.mark.skipif(EXE is None, reason="finops-tui is not installed"), pytest.mark.slow]
ENV = {**os.environ, "FINOPS_TUI_TODAY": FIXED_TODAY.isoformat()}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120, env=ENV)


def big_focus_csv(path: Path, rows: int) -> None:
    """A FOCUS file of one billing period of an account the home does not hold yet."""
    rnd = random.Random(28)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("BillingAccountId,BillingPeriodStart,ChargePeriodStart,BilledCost,EffectiveCost,ProviderName,"
                 "ServiceName,SubAccountId,Tags,BillingPeriodEnd,ChargePeriodEnd,ChargeCategory,BillingCurrency,"
                 "BillingAccountName,ChargeClass,ChargeDescription,ContractedCost,InvoiceIssuerName,ListCost,"
                 "PricingQuantity,PricingUnit,PublisherName,ServiceCategory\n")
        for i in range(rows):
            fh.write(f"acct-big,2024-11-01T00:00:00Z,2024-11-{1 + i % 30:02d}T{i % 24:02d}:00:00Z,"
                     f"{rnd.random():.4f},{rnd.random():.4f},AWS,Svc{i % 7},sub{i % 5},"
                     f'"{{""team"": ""t{i % 9}""}}",2024-12-01T00:00:00Z,'
                     f"2024-11-{1 + i % 30:02d}T{i % 24:02d}:59:59Z,Usage,USD,Big,,usage,1,AWS,1,1,Hours,AWS,"
                     "Compute\n")


def test_backups_taken_while_an_import_runs_restore_to_before_or_after(tmp_path: Path, shared_data: Path) -> None:
    home = Home(tmp_path / "home", clock_override=Clock(FIXED_TODAY))
    import_files(home.costs, [shared_data / "focus-sample-data" / "focus_sample.csv"])
    _ = home.records  # a records file too (migrated, RACI-less)
    home.close()
    big = tmp_path / "big.csv"
    big_focus_csv(big, 100_000)
    before = cost_fingerprint(home.costs_path)

    proc = subprocess.Popen([EXE, "--home", str(home.path), "import", str(big)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    backups, during = [], 0
    try:
        while proc.poll() is None and len(backups) < 30:
            dest = tmp_path / f"b{len(backups)}"
            take_backup(home, dest, wait_s=60)
            backups.append(dest)
            during += proc.poll() is None  # the import was still running when this backup ended
            time.sleep(0.1)  # spread the backups over the whole import, its swap included
    finally:
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    after = cost_fingerprint(home.costs_path)
    assert before != after and during >= 1, (len(backups), during)

    seen = []
    for i, dest in enumerate(backups):
        target = Home(tmp_path / f"restored{i}", clock_override=Clock(FIXED_TODAY))
        if i == 0:  # once through the installed command
            done = run("--home", str(target.path), "restore", str(dest), "--json")
            assert done.returncode == 0, done.stderr
        else:
            restore_backup(target, dest)
        state = cost_fingerprint(target.costs_path)
        assert state in (before, after), f"backup {i} restored to neither the before nor the after state"
        seen.append("before" if state == before else "after")
    print(f"{len(backups)} backups while the import ran: {seen}")


def test_periods_list_and_remove_through_the_command(tmp_path: Path, shared_data: Path) -> None:
    home = str(tmp_path / "home")
    assert run("--home", home, "import", str(shared_data / "focus-sample-data" / "focus_sample.csv")).returncode == 0
    listed = json.loads(run("--home", home, "periods", "list", "--json").stdout)
    assert listed["currency"] == "USD" and len(listed["periods"]) == 4
    oracle = [p for p in listed["periods"] if p["provider"] == "Oracle"]
    gone = oracle[0]
    done = run("--home", home, "periods", "remove", gone["billing_period"], "--billing-account",
               gone["billing_account_id"], "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == gone["rows"]
    left = json.loads(run("--home", home, "periods", "list", "--json").stdout)["periods"]
    assert left == [p for p in listed["periods"] if p != gone]
    again = run("--home", home, "periods", "remove", gone["billing_period"], "--billing-account",
                gone["billing_account_id"])
    assert again.returncode == 2 and "no rows of billing period" in again.stderr and "Traceback" not in again.stderr


def test_doctor_exits_1_on_a_corrupted_copy_of_a_real_records_file(demo_home: Home) -> None:
    for path in [demo_home.path, *demo_home.path.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    healthy = run("--home", str(demo_home.path), "doctor")
    assert healthy.returncode == 0 and healthy.stdout.strip().endswith("healthy"), healthy.stdout
    corrupt_a_page(demo_home.path / "records.sqlite", "action")
    sick = run("--home", str(demo_home.path), "doctor", "--json")
    assert sick.returncode == 1, sick.stdout
    report = json.loads(sick.stdout)
    assert report["ok"] is False and report["problems"] == 1
    assert [c["check"] for c in report["checks"] if c["status"] == "fail"] == ["records integrity"]
