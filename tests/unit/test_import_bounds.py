"""What an import does with values at the edge (issue 21): free text with control characters is stored
clean with a warning naming file and row, offsets are read as UTC while the billing period stays as
written, --billing-account fills a file without the column, and a folder or file that cannot be read fails
the whole import naming it (CI runs as root, so the refusal is made by PermissionError from the OS calls)."""

from __future__ import annotations

import builtins
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from finops_tui.cli import main
from storage.config import load_config
from storage.costs import CostStore
from storage.text import plain
from tests.focus_files import DESCRIPTIVE_CSV

# Every column FOCUS requires with a value on every row (issue 19), at the value a row here gets when the
# test does not write that column itself.
MANDATORY = {"ChargePeriodStart": "2026-10-01", "ChargePeriodEnd": "2026-10-28", "BillingPeriodStart": "2026-10-01",
             "BillingPeriodEnd": "2026-11-01", "BilledCost": "1", "EffectiveCost": "1", "ChargeCategory": "Usage",
             "BillingCurrency": "USD", **DESCRIPTIVE_CSV}


def focus_csv(header: str, rows: list[str]) -> str:
    """A FOCUS CSV of ``header`` and ``rows`` with the mandatory columns they lack added, each at its default."""
    names = header.split(",")
    added = [n for n in MANDATORY if n not in names]
    return "\n".join([",".join([*names, *added]),
                      *(",".join([r, *(MANDATORY[n] for n in added)]) for r in rows)]) + "\n"


def store(home: Path) -> CostStore:
    return CostStore(home / "costs.duckdb", load_config(None).taxonomy)


def run(home: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["--home", str(home), "import", *args])


def test_control_characters_in_free_text_are_stripped_with_a_warning(tmp_path: Path) -> None:
    names = ["Amazon \x1b[31mEC2\x1b[0m", "S3\x00", "Lambda"]
    rows = [f"a,2026-10-0{i + 1},1,{n}" for i, n in enumerate(names)]
    f = tmp_path / "free.csv"
    f.write_bytes(focus_csv("BillingAccountId,ChargePeriodStart,BilledCost,ServiceName", rows).encode())
    out = run(tmp_path / "h", str(f), "--json")
    assert out.exit_code == 0, out.output
    notes = json.loads(out.stdout)["notes"]
    dirty = [n for n in names if plain(n) != n]
    assert len(notes) == 1 and f"{f}, row 1" in notes[0] and "ServiceName" in notes[0]
    assert f"in {len(dirty)} rows" in notes[0] and "\x1b" not in notes[0] and "\x00" not in notes[0]
    stored = sorted(store(tmp_path / "h").query("SELECT ServiceName FROM line_items")["ServiceName"])
    assert stored == sorted(plain(n) for n in names)


def test_offsets_are_utc_and_the_billing_period_is_as_written(tmp_path: Path) -> None:
    f = tmp_path / "off.csv"
    f.write_text(focus_csv("BillingAccountId,ChargePeriodStart,ChargePeriodEnd,BillingPeriodStart,BillingPeriodEnd,"
                           "BilledCost", ["a,2026-10-01T00:00:00+05:00,2026-10-01T01:00:00+05:00,"
                                          "2026-10-01T00:00:00+05:00,2026-11-01T00:00:00+05:00,1"]))
    g = tmp_path / "b.csv"  # a charge starting at 01:00+05:00 on October 1 is in October's bill as written
    g.write_text(focus_csv("BillingAccountId,ChargePeriodStart,ChargePeriodEnd,BilledCost",
                           ["b,2026-10-01T01:00:00+05:00,2026-10-01T02:00:00+05:00,2"]))
    out = run(tmp_path / "h", str(f), str(g))
    assert out.exit_code == 0, out.output
    df = store(tmp_path / "h").query("SELECT BillingAccountId AS a, ChargePeriodStart AS c, BillingPeriodStart AS s, "
                                     "BillingPeriodEnd AS e FROM line_items ORDER BY a")
    assert [str(x) for x in df["c"]] == ["2026-09-30 19:00:00", "2026-09-30 20:00:00"]  # UTC
    assert [str(x) for x in df["s"]] == ["2026-10-01 00:00:00"] * 2
    assert str(df["e"][0]) == "2026-11-01 00:00:00"


def test_billing_account_fills_only_a_file_without_the_column(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text(focus_csv("ChargePeriodStart,BilledCost", ["2026-10-01,1"]))
    (tmp_path / "in" / "b.csv").write_text(focus_csv("BillingAccountId,ChargePeriodStart,BilledCost", ["own,2026-10-01,2"]))
    out = run(tmp_path / "h", str(tmp_path / "in"), "--billing-account", "given-1")
    assert out.exit_code == 0, out.output
    df = store(tmp_path / "h").query("SELECT BillingAccountId AS a, BilledCost AS b FROM line_items ORDER BY b")
    assert list(df["a"]) == ["given-1", "own"]


def _deny(monkeypatch: pytest.MonkeyPatch, target: Path, name: str) -> None:
    real = getattr(os, name) if name == "scandir" else builtins.open
    module = os if name == "scandir" else builtins

    def guarded(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(path) == target:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(module, name, guarded)


@pytest.mark.parametrize("what", ["scandir", "open"])
def test_an_unreadable_folder_or_file_fails_the_whole_import(what: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    top = tmp_path / "bills"
    (top / "sub").mkdir(parents=True)
    good = focus_csv("BillingAccountId,ChargePeriodStart,BilledCost", ["a,2026-10-01,1"])
    for p in (top / "a.csv", top / "sub" / "a.csv"):
        p.write_text(good)
    denied = top / "sub" if what == "scandir" else top / "sub" / "a.csv"
    _deny(monkeypatch, denied, what)
    out = run(tmp_path / "h", str(top))
    assert out.exit_code == 2, out.output
    assert str(denied) in out.stderr and "permission denied" in out.stderr, out.stderr
    assert "Traceback" not in out.output
    assert not (tmp_path / "h" / "costs.duckdb").exists() or store(tmp_path / "h").info().rows == 0


def test_control_characters_in_tag_keys_and_values_are_stripped_with_a_warning(tmp_path: Path) -> None:
    tags = json.dumps({"te\u0000am": "pay\u001b[31mments", "env": "prod"}).replace('"', '""')
    f = tmp_path / "tags.csv"
    f.write_text(focus_csv("BillingAccountId,ChargePeriodStart,BilledCost,Tags", [f'a,2026-10-01,1,"{tags}"']))
    out = run(tmp_path / "h", str(f), "--json")
    assert out.exit_code == 0, out.output
    notes = json.loads(out.stdout)["notes"]
    assert any("control characters stripped" in n and "1 distinct Tags value" in n for n in notes), notes
    df = store(tmp_path / "h").query("SELECT tag_team, tag_environment FROM line_items")
    assert (df["tag_team"][0], df["tag_environment"][0]) == (plain("pay\x1b[31mments"), "prod")
