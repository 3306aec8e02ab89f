"""The installed `finops-tui import`: a real import with --json, then bad files refused with exit 2, one
line on stderr and no traceback, leaving `info` unchanged."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.focus_files import with_descriptive

EXE = shutil.which("finops-tui")
pytestmark = [pytest.mark.skipif(EXE is None, reason="finops-tui is not installed"), pytest.mark.slow]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "FINOPS_TUI_TODAY": "2026-11-27"})


def test_import_then_bad_files_change_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    good = tmp_path / "good.csv"
    rest = "Usage,2026-10-01,2026-11-01,2026-11-01T00:00:00Z,USD"
    good.write_text(with_descriptive("BillingAccountId,ChargePeriodStart,BilledCost,EffectiveCost,Tags,ChargeCategory,"
                                     "BillingPeriodStart,BillingPeriodEnd,ChargePeriodEnd,BillingCurrency\n"
                                     f'a1,2026-10-01T00:00:00Z,3.25,3,"{{"" Team"": ""pay""}}",{rest}\n'
                                     f"a1,2026-10-02T00:00:00Z,1.75,1,NULL,{rest}\n"))
    out = run("--home", str(home), "import", str(good), "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["rows"] == 2 and summary["billing_periods"] == [
        {"period": "2026-10", "rows": 2, "billed_cost": 5.0, "effective_cost": 4.0}]
    assert summary["folded_tag_keys"] == {"team": [" Team"]} and summary["currency"] == "USD"
    assert "SubAccountId" in summary["files"][0]["absent_columns"]
    before = json.loads(run("--home", str(home), "info", "--json").stdout)

    bad_time = tmp_path / "t30.csv"
    bad_time.write_text(with_descriptive(
        "BillingAccountId,ChargePeriodStart,BilledCost,EffectiveCost,ChargeCategory,BillingPeriodStart,BillingPeriodEnd,"
        f"ChargePeriodEnd,BillingCurrency\na1,2026-10-01T00:00:00Z,1,1,{rest}\na1,2023-02-01T30:00:00Z,1,1,{rest}\n"))
    truncated = tmp_path / "cut.parquet"
    truncated.write_bytes(b"PAR1" + b"\x00" * 100)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("ChargePeriodStart,BilledCost,ServiceName\n2026-10-01,1,Caf\u00e9\n".encode("latin-1"))
    for path, words in [(bad_time, ["t30.csv", "row 2", "column ChargePeriodStart"]),
                        (truncated, ["cut.parquet", "Parquet"]), (latin, ["latin.csv", "UTF-8"])]:
        out = run("--home", str(home), "import", str(good), str(path))
        assert out.returncode == 2, (path, out.stdout, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and all(w in lines[0] for w in words), lines
        assert "Traceback" not in out.stderr
    assert json.loads(run("--home", str(home), "info", "--json").stdout) == before


def test_the_installed_command_imports_a_legacy_cur_and_names_its_shape(tmp_path: Path) -> None:
    from tests.conftest import SHARED_DATA

    legacy = SHARED_DATA / "legacy-cur" / "aws-legacy-cur-anon.csv"
    if not legacy.exists():
        pytest.skip("../shared/data/legacy-cur is absent (a fresh clone)")
    out = run("--home", str(tmp_path / "home"), "import", str(legacy), "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["files"][0]["format"] == "cur-legacy" and "legacy" in summary["files"][0]["shape"]
    azure = tmp_path / "azure.csv"
    azure.write_text("SubscriptionId,MeterCategory,AccountOwnerId,Date,CostInBillingCurrency\ns,VM,a@b.c,10/01/2026,1\n")
    out = run("--home", str(tmp_path / "home"), "import", str(azure))
    assert out.returncode == 2 and "Azure EA" in out.stderr and "FOCUS export" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
