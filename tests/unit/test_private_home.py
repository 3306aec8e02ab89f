"""A home only its user can read (issue 21): what the product writes is 0700/0600 whatever the umask it was
started under, an older home is tightened with a notice, and `info` warns (without changing anything)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from finops_tui.cli import main
from storage.home import exposed, make_private, permission_warnings
from tests.focus_files import with_descriptive


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def bill(tmp_path: Path) -> Path:
    f = tmp_path / "bill.csv"
    f.write_text("BillingAccountId,ChargePeriodStart,ChargePeriodEnd,BillingPeriodStart,BillingPeriodEnd,"
                 "BilledCost,EffectiveCost,ChargeCategory,BillingCurrency"
                 "\na,2026-10-01,2026-10-02,2026-10-01,2026-11-01,1,1,Usage,USD\n")
    f.write_text(with_descriptive(f.read_text()))
    return f


def test_a_new_home_and_its_stores_are_private(tmp_path: Path, loose_umask: None) -> None:
    home = tmp_path / "deep" / "home"
    assert CliRunner().invoke(main, ["--home", str(home), "import", str(bill(tmp_path))]).exit_code == 0
    assert CliRunner().invoke(main, ["--home", str(home), "people", "list"]).exit_code == 0
    written = [home, *home.iterdir()]
    assert {"costs.duckdb", "records.sqlite"} <= {p.name for p in written}
    for p in written:
        assert mode(p) == (0o700 if p.is_dir() else 0o600), (p, oct(mode(p)))
    assert exposed(home) == []


def test_an_older_home_is_tightened_with_a_notice(tmp_path: Path, loose_umask: None) -> None:
    home = tmp_path / "home"
    assert CliRunner().invoke(main, ["--home", str(home), "import", str(bill(tmp_path))]).exit_code == 0
    home.chmod(0o755)
    (home / "costs.duckdb").chmod(0o644)
    os.umask(0o022)
    (home / "finops-tui.toml").write_text('[general]\ncurrency = "USD"\n')  # as an editor writes it: 0644
    out = CliRunner().invoke(main, ["--home", str(home), "showback", "--json"])
    assert out.exit_code == 0, out.output
    notices = [ln for ln in out.stderr.splitlines() if ln.startswith("notice:")]
    assert len(notices) == 3 and any("0644 -> 0600" in n and "costs.duckdb" in n for n in notices)
    assert mode(home) == 0o700 and mode(home / "costs.duckdb") == 0o600 and mode(home / "finops-tui.toml") == 0o600
    again = CliRunner().invoke(main, ["--home", str(home), "showback", "--json"])
    assert "notice:" not in again.stderr


def test_info_warns_about_a_home_others_can_read_and_changes_nothing(tmp_path: Path, loose_umask: None) -> None:
    home = tmp_path / "home"
    assert CliRunner().invoke(main, ["--home", str(home), "import", str(bill(tmp_path))]).exit_code == 0
    home.chmod(0o755)
    out = CliRunner().invoke(main, ["--home", str(home), "info"])
    assert out.exit_code == 0
    assert f"warning: {home} is open to other users (mode 0755)" in out.stderr
    shown = json.loads(CliRunner().invoke(main, ["--home", str(home), "info", "--json"]).stdout)
    assert shown["permission_warnings"] == permission_warnings(home) and len(shown["permission_warnings"]) == 1
    assert mode(home) == 0o755  # info only looks
    assert make_private(home) and permission_warnings(home) == []


def test_secrets_whoami_and_a_backup_restored_stay_private(tmp_path: Path, loose_umask: None) -> None:
    """The files main's notifications and backups write (the secrets file, whoami.json, a backup folder and
    what restore puts back) are 0600/0700 under the product's umask: nothing to tighten, nothing exposed."""
    from storage.channel_secrets import SECRETS_FILE
    from storage.doctor import check_permissions
    from storage.home import Home

    home, copy = tmp_path / "home", tmp_path / "restored"

    def ok(*args: str) -> None:
        out = CliRunner().invoke(main, list(args))
        assert out.exit_code == 0, (args, out.output)
        assert "notice:" not in out.stderr  # nothing the product wrote needed tightening

    ok("--home", str(home), "import", str(bill(tmp_path)))
    ok("--home", str(home), "teams", "add", "payments")
    ok("--home", str(home), "channels", "add", "payments", "json://127.0.0.1:9/hook")
    h = Home(home)
    h.remember_person("someone", "ana")
    h.close()
    ok("--home", str(home), "backup", str(tmp_path / "bk"))
    ok("--home", str(copy), "restore", str(tmp_path / "bk"))
    names = {p.name for p in copy.iterdir()}
    assert {"records.sqlite", "costs.duckdb", "whoami.json", SECRETS_FILE} <= names
    for root in (home, tmp_path / "bk", copy):
        for p in [root, *root.rglob("*")]:
            assert mode(p) == (0o700 if p.is_dir() else 0o600), (p, oct(mode(p)))
        assert exposed(root) == []
    restored = Home(copy)
    try:
        assert [f.status for f in check_permissions(restored)] == ["ok"]
    finally:
        restored.close()
