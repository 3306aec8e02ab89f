"""A generated corpus of bad billing files: each exits 2 with one line naming what is wrong, and the store's
rows and totals stay exactly as they were (one import is one transaction, across files too)."""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from finops_tui.cli import main
from storage.config import load_config
from storage.costs import CostStore
from tests.focus_files import DESCRIPTIVE_CSV, with_descriptive

HEADER = "BillingAccountId,ChargePeriodStart,BilledCost,EffectiveCost,BillingCurrency,ProviderName,Tags"
GOOD = [
    'acct-1,2026-10-01T00:00:00Z,10.00,9.00,USD,AWS,"{""team"": ""pay""}"',
    'acct-1,2026-10-02T00:00:00Z,5.50,5.00,USD,AWS,NULL',
]


# The other columns FOCUS requires with a value on every row, the same for every October row here.
REQUIRED = ("ChargeCategory,ChargePeriodEnd,BillingPeriodStart,BillingPeriodEnd",
            "Usage,2026-11-01T00:00:00Z,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z")


def csv_text(rows: list[str], header: str = HEADER) -> str:
    if header == HEADER:
        header, rows = f"{header},{REQUIRED[0]}", [f"{r},{REQUIRED[1]}" for r in rows]
    return with_descriptive("\n".join([header, *rows]))


# Every column FOCUS requires with a value on every row (issue 19), with the value a row here gets when the
# case does not write that column itself.
MANDATORY = {"ChargePeriodStart": "2026-10-01", "ChargePeriodEnd": "2026-10-02", "BillingPeriodStart": "2026-10-01",
             "BillingPeriodEnd": "2026-11-01", "BilledCost": "1", "EffectiveCost": "1", "ChargeCategory": "Usage",
             "BillingCurrency": "USD", **DESCRIPTIVE_CSV}


def focus_csv(header: str, rows: list[str]) -> str:
    """A FOCUS CSV of ``header`` and ``rows`` with the mandatory columns they lack added, each at its default."""
    names = header.split(",")
    added = [n for n in MANDATORY if n not in names]
    return "\n".join([",".join([*names, *added]),
                      *(",".join([r, *(MANDATORY[n] for n in added)]) for r in rows)]) + "\n"


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path


def good_rows(n: int = 2) -> list[str]:
    return [f"acct-2,2026-10-{1 + i % 28:02d}T00:00:00Z,1.00,1.00,USD,AWS,NULL" for i in range(n)]


def _parquet(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_parquet(path, index=False)
    return path


def _truncated_parquet(d: Path) -> Path:
    whole = _parquet(d / "whole.parquet", pd.DataFrame({"ChargePeriodStart": pd.to_datetime(["2026-10-01"] * 50),
                                                         "BilledCost": [1.0] * 50}))
    data = whole.read_bytes()
    whole.unlink()
    return write(d / "truncated.parquet", data[: len(data) // 2])


def _cur_missing_cost(d: Path) -> Path:
    return _parquet(d / "cur.parquet", pd.DataFrame({
        "line_item_usage_start_date": pd.to_datetime(["2026-10-01"]),
        "line_item_line_item_type": ["Usage"], "bill_payer_account_id": ["111"]}))


def _cur_text_cost(d: Path) -> Path:
    return _parquet(d / "cur_text.parquet", pd.DataFrame({
        "line_item_usage_start_date": pd.to_datetime(["2026-10-01", "2026-10-01"]),
        "line_item_unblended_cost": ["1.5", "one"], "bill_payer_account_id": ["111", "111"]}))


def _good_and_bad(d: Path) -> Path:
    folder = d / "mixed"
    folder.mkdir()
    write(folder / "a_good.csv", csv_text(good_rows(3)))
    write(folder / "b_bad.csv", csv_text([*good_rows(2), "acct-2,2026-10-05T00:00:00Z,x1,1,USD,AWS,NULL"]))
    return folder


def _wide(d: Path) -> Path:
    names = ["ChargePeriodStart", "BilledCost", *(f"x_col{i}" for i in range(2014))]
    return write(d / "wide.csv", ",".join(names) + "\n" + "\n".join(
        ",".join(["2026-10-01", "1", *("v" for _ in range(2014))]) for _ in range(5)) + "\n")


def _fifo(d: Path) -> Path:
    folder = d / "pipes"
    folder.mkdir()
    write(folder / "a.csv", csv_text(good_rows(2)))
    os.mkfifo(folder / "b.csv")
    return folder


def _loop(d: Path) -> Path:
    folder = d / "looped"
    (folder / "sub").mkdir(parents=True)
    write(folder / "sub" / "a.csv", csv_text(good_rows(2)))
    (folder / "sub" / "back").symlink_to(folder)
    return folder


def _self_link(d: Path) -> Path:
    (d / "self.csv").symlink_to(d / "self.csv")
    return d / "self.csv"


def _broken_link(d: Path) -> Path:
    folder = d / "broken"
    folder.mkdir()
    write(folder / "a.csv", csv_text(good_rows(2)))
    (folder / "gone.csv").symlink_to(d / "nowhere.csv")
    return folder


def _far_parquet(d: Path) -> Path:
    starts = pd.to_datetime(["2026-10-01", "2200-01-01"])
    return _parquet(d / "far.parquet", pd.DataFrame({
        "BillingAccountId": ["acct-2", "acct-2"], "ChargePeriodStart": starts,
        "ChargePeriodEnd": starts + pd.Timedelta(hours=1), "BillingPeriodStart": pd.to_datetime(["2026-10-01"] * 2),
        "BillingPeriodEnd": pd.to_datetime(["2026-11-01"] * 2), "BilledCost": [1.0, 2.0], "EffectiveCost": [1.0, 2.0],
        "ChargeCategory": ["Usage"] * 2, "BillingCurrency": ["USD"] * 2,
        **{k: [v] * 2 for k, v in DESCRIPTIVE_CSV.items()}}))


# name -> (writer of the bad input in a folder, words the one-line reason must hold)
CASES: dict[str, tuple[Callable[[Path], Path], list[str]]] = {
    "missing mandatory columns": (
        lambda d: write(d / "nocps.csv", "BilledCost,ServiceName\n1,EC2\n"),
        ["nocps.csv", "missing mandatory columns", "ChargePeriodStart"]),
    "no cost column": (
        lambda d: write(d / "nocost.csv", "ChargePeriodStart,ServiceName\n2026-10-01,EC2\n"),
        ["nocost.csv", "EffectiveCost or BilledCost"]),
    "non-numeric cost": (
        lambda d: write(d / "text.csv", csv_text([*good_rows(3), "acct-2,2026-10-05T00:00:00Z,12,n/a,USD,AWS,NULL"])),
        ["text.csv", "row 4", "column EffectiveCost", "'n/a'"]),
    "invalid time T30": (
        lambda d: write(d / "t30.csv", csv_text([*good_rows(1), "acct-2,2026-10-01T30:00:00Z,1,1,USD,AWS,NULL"])),
        ["t30.csv", "row 2", "column ChargePeriodStart", "T30:00:00Z"]),
    "US-style date": (
        lambda d: write(d / "us.csv", csv_text(["acct-2,4/1/25,1,1,USD,AWS,NULL"])),
        ["us.csv", "row 1", "ChargePeriodStart", "ISO 8601"]),
    "money string": (
        lambda d: write(d / "money.csv", csv_text(['acct-2,2026-10-01,"$1,000.00",1,USD,AWS,NULL'])),
        ["money.csv", "row 1", "BilledCost", "$1,000.00"]),
    "mixed currencies": (
        lambda d: write(d / "mixed_cur.csv", csv_text([*good_rows(2), "acct-2,2026-10-03,1,1,EUR,AWS,NULL"])),
        ["mixed_cur.csv", "row 3", "mixed currencies"]),
    "another currency than the store": (
        lambda d: write(d / "eur.csv", csv_text(["acct-2,2026-10-03,1,1,EUR,AWS,NULL"])),
        ["eur.csv", "row 1", "EUR", "USD", "one currency"]),
    "non-UTF-8 bytes": (
        lambda d: write(d / "latin1.csv", csv_text(good_rows(2)).encode()
                        + "acct-2,2026-10-03,1,1,USD,Caf\u00e9,NULL\n".encode("latin-1")),
        ["latin1.csv", "UTF-8"]),
    "empty file": (lambda d: write(d / "empty.csv", b""), ["empty.csv", "empty"]),
    "header only": (lambda d: write(d / "header.csv", csv_text([])), ["header.csv", "no data rows"]),
    "duplicated column names": (
        lambda d: write(d / "dup.csv", "ChargePeriodStart,BilledCost,billedcost\n2026-10-01,1,2\n"),
        ["dup.csv", "more than once", "billedcost"]),
    "NaN cost": (
        lambda d: write(d / "nan.csv", csv_text([*good_rows(1), "acct-2,2026-10-01,NaN,1,USD,AWS,NULL"])),
        ["nan.csv", "row 2", "BilledCost", "finite"]),
    "infinite cost": (
        lambda d: write(d / "inf.csv", csv_text(["acct-2,2026-10-01,1,-Infinity,USD,AWS,NULL"])),
        ["inf.csv", "row 1", "EffectiveCost", "finite"]),
    "1 MB Tags value": (
        lambda d: write(d / "bigtags.csv", csv_text(
            [*good_rows(1), 'acct-2,2026-10-01,1,1,USD,AWS,"{""team"": ""' + "x" * 1_000_000 + '""}"'])),
        ["bigtags.csv", "row 2", "Tags", "characters"]),
    "Tags not JSON": (
        lambda d: write(d / "badtags.csv", csv_text(['acct-2,2026-10-01,1,1,USD,AWS,"team=pay"'])),
        ["badtags.csv", "row 1", "Tags", "JSON"]),
    "ragged row": (
        lambda d: write(d / "ragged.csv", csv_text([*good_rows(2), "acct-2,2026-10-01,1"])),
        ["ragged.csv", "row 3", "number of fields"]),
    "truncated Parquet": (_truncated_parquet, ["truncated.parquet", "Parquet", "truncated"]),
    "CUR file missing its cost column": (_cur_missing_cost, ["cur.parquet", "line_item_unblended_cost"]),
    "CUR non-numeric cost": (_cur_text_cost, ["cur_text.parquet", "row 2", "line_item_unblended_cost", "'one'"]),
    "legacy CUR non-numeric cost": (
        lambda d: write(d / "legacy.csv", "lineItem/UsageStartDate,lineItem/UnblendedCost,resourceTags/user:team\n"
                        "2026-10-01T00:00:00Z,1.5,pay\n2026-10-01T01:00:00Z,abc,pay\n"),
        ["legacy.csv", "row 2", "column lineItem/UnblendedCost", "'abc'"]),
    "legacy CUR bad usage start": (
        lambda d: write(d / "legacy_t.csv.gz", gzip.compress(
            b"lineItem/UsageStartDate,lineItem/UnblendedCost\n2026-10-01T00:00:00Z,1\n10/02/2026,1\n")),
        ["legacy_t.csv.gz", "row 2", "column lineItem/UsageStartDate", "ISO 8601"]),
    "legacy CUR tag column twice": (
        lambda d: write(d / "legacy_dup.csv", "lineItem/UsageStartDate,lineItem/UnblendedCost,resourceTags/user:team,"
                        "resourceTags/user:team\n2026-10-01,1,a,b\n"),
        ["legacy_dup.csv", "more than once", "resourceTags/user:team"]),
    "Azure EA export": (
        lambda d: write(d / "azure.csv", "SubscriptionId,MeterCategory,AccountOwnerId,Date,CostInBillingCurrency\n"
                        "s,VM,a@b.c,10/01/2026,1\n"),
        ["azure.csv", "Azure EA", "FOCUS export"]),
    "gzipped CSV with a bad time": (
        lambda d: write(d / "bad.csv.gz", gzip.compress(csv_text([*good_rows(4), "acct-2,2026-13-01,1,1,USD,AWS,NULL"])
                                                        .encode())),
        ["bad.csv.gz", "row 5", "ChargePeriodStart", "2026-13-01"]),
    "gzip that is not gzip": (lambda d: write(d / "fake.csv.gz", b"not gzip at all"), ["fake.csv.gz"]),
    "a good file and a bad one": (_good_and_bad, ["b_bad.csv", "row 3", "BilledCost"]),
    "no such path": (lambda d: d / "nowhere.csv", ["nowhere.csv", "no such file"]),
    # -- bounds on what a bill can hold (issue 21)
    "a cost of 1e308": (
        lambda d: write(d / "huge.csv", csv_text([*good_rows(1), "acct-2,2026-10-01,1e308,1e308,USD,AWS,NULL"])),
        ["huge.csv", "row 2", "column BilledCost", "1e+15"]),
    "a negative cost beyond 1e15": (
        lambda d: write(d / "neg.csv", csv_text(["acct-2,2026-10-01,1,-2e15,USD,AWS,NULL"])),
        ["neg.csv", "row 1", "column EffectiveCost", "beyond"]),
    "a quantity of 1e16": (
        lambda d: write(d / "qty.csv", focus_csv("BillingAccountId,ChargePeriodStart,BilledCost,PricingQuantity",
                                                   ["a,2026-10-01,1,2", "a,2026-10-01,1,1e16"])),
        ["qty.csv", "row 2", "column PricingQuantity", "beyond"]),
    "a NaN quantity": (
        lambda d: write(d / "qnan.csv", focus_csv("BillingAccountId,ChargePeriodStart,BilledCost,ConsumedQuantity",
                                                    ["a,2026-10-01,1,nan"])),
        ["qnan.csv", "row 1", "column ConsumedQuantity", "finite"]),
    "a charge on 9999-12-31": (
        lambda d: write(d / "y9999.csv", focus_csv("BillingAccountId,ChargePeriodStart,ChargePeriodEnd", [
            *(f"acct-2,2026-10-0{i}T00:00:00Z,2026-10-0{i}T01:00:00Z" for i in (1, 2, 3)),
            "acct-2,9999-12-31T00:00:00Z,9999-12-31T01:00:00Z"])),
        ["y9999.csv", "row 4", "column ChargePeriodStart", "9999-12-31", "outside 2006-01-01"]),
    "a charge in the year 1": (
        lambda d: write(d / "y0001.csv", csv_text(["acct-2,0001-01-01T00:00:00Z,1,1,USD,AWS,NULL"])),
        ["y0001.csv", "row 1", "column ChargePeriodStart", "outside 2006-01-01"]),
    "a charge before 2006": (
        lambda d: write(d / "y2005.csv", csv_text([*good_rows(1), "acct-2,2005-12-31T23:00:00Z,1,1,USD,AWS,NULL"])),
        ["y2005.csv", "row 2", "column ChargePeriodStart"]),
    "a charge more than a year after today": (
        lambda d: write(d / "next_year.csv", focus_csv("BillingAccountId,ChargePeriodStart,ChargePeriodEnd",
                                                         ["acct-2,2028-01-01T00:00:00Z,2028-01-01T01:00:00Z"])),
        ["next_year.csv", "row 1", "column ChargePeriodStart", "366 days after today"]),
    "a charge end in 9999": (
        lambda d: write(d / "end.csv", focus_csv("BillingAccountId,ChargePeriodStart,ChargePeriodEnd,BilledCost",
                                                   ["a,2026-10-01,9999-12-31,1"])),
        ["end.csv", "row 1", "column ChargePeriodEnd", "years after today"]),
    "a billing period in 2200": (
        lambda d: write(d / "bp.csv", focus_csv("BillingAccountId,ChargePeriodStart,BillingPeriodStart,BillingPeriodEnd,BilledCost",
                                                  ["a,2026-10-01,2026-10-01,2026-11-01,1",
                                                   "a,2026-10-01,2200-01-01,2200-02-01,1"])),
        ["bp.csv", "row 2", "column BillingPeriodStart"]),
    "a far date in Parquet": (_far_parquet, ["far.parquet", "row 2", "column ChargePeriodStart", "2200-01-01"]),
    "no billing account column": (
        lambda d: write(d / "noacct.csv", focus_csv("ChargePeriodStart,BilledCost", ["2026-10-01,1"])),
        ["noacct.csv", "column BillingAccountId", "--billing-account"]),
    "an empty billing account": (
        lambda d: write(d / "emptyacct.csv", csv_text([*good_rows(2), ",2026-10-01,1,1,USD,AWS,NULL"])),
        ["emptyacct.csv", "row 3", "column BillingAccountId", "empty"]),
    "a NUL in an account id": (
        lambda d: write(d / "nul.csv", csv_text([*good_rows(1), "acct\x00-2,2026-10-01,1,1,USD,AWS,NULL"])),
        ["nul.csv", "row 2", "column BillingAccountId", "control character", "\\x00"]),
    "an escape sequence in a sub-account id": (
        lambda d: write(d / "esc.csv", focus_csv("BillingAccountId,SubAccountId,ChargePeriodStart,BilledCost",
                                                   ["a,\x1b[31mred,2026-10-01,1"])),
        ["esc.csv", "row 1", "column SubAccountId", "control character", "\\x1b"]),
    "a control character in ChargeCategory": (
        lambda d: write(d / "cat.csv", focus_csv("BillingAccountId,ChargeCategory,ChargePeriodStart,BilledCost",
                                                   ["a,Usage,2026-10-01,1", "a,Usa\x07ge,2026-10-01,1"])),
        ["cat.csv", "row 2", "column ChargeCategory"]),
    "2,016 columns": (_wide, ["wide.csv", "2,016 columns", "1,000"]),
    # -- input that cannot be read is named as what it is
    "unterminated quote": (
        lambda d: write(d / "quote.csv", csv_text([*good_rows(2), '"acct-2,2026-10-01,1,1,USD,AWS,NULL', *good_rows(1)])),
        ["quote.csv", "unterminated quote at line 4"]),
    "a FIFO named like a billing file": (_fifo, ["b.csv", "named pipe (FIFO)"]),
    "a symbolic link loop in a folder": (_loop, ["looped", "symbolic link loop"]),
    "a file that links to itself": (_self_link, ["self.csv", "symbolic link loop"]),
    "a broken link named like a billing file": (_broken_link, ["gone.csv", "broken symbolic link"]),
    "a device": (lambda d: Path("/dev/null"), ["/dev/null", "character device"]),
    "folder without billing files": (
        lambda d: (d / "nofiles").mkdir() or write(d / "nofiles" / "notes.txt", "hi").parent,
        ["nofiles", "no CSV"]),
}


# Cases whose store is also run through the rituals afterwards (in process): values that used to import and
# then break them.
RITUAL_CASES = {"a cost of 1e308", "a charge on 9999-12-31", "a charge in the year 1", "a far date in Parquet"}
RITUAL_COMMANDS = [["sweep", "--json"], ["anomalies", "--json"], ["showback", "--json"], ["kpis", "--json"],
                   ["forecast", "--json"], ["unit-costs", "--json"], ["agenda", "monthly"], ["commitments", "--json"]]


@pytest.fixture(scope="module")
def home_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("bad-home")
    base = write(home.parent / "base.csv", csv_text(GOOD))
    out = CliRunner().invoke(main, ["--home", str(home), "import", str(base)])
    assert out.exit_code == 0, out.output
    out = CliRunner().invoke(main, ["--home", str(home), "people", "list"])  # the records store exists too
    assert out.exit_code == 0, out.output
    assert (home / "records.sqlite").exists()
    return home


def checksums(home: Path) -> dict[str, str]:
    """Both stores byte for byte (with any -wal/-shm/.wal companions)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(home.iterdir())
            if p.is_file() and p.name.startswith(("costs.duckdb", "records.sqlite"))}


def snapshot(home: Path) -> tuple:
    store = CostStore(home / "costs.duckdb", load_config(None).taxonomy)
    return store.totals(), store.period_totals().to_dict("records"), store.info().rows


@pytest.fixture(scope="module")
def rituals_before(home_dir: Path) -> list[tuple[int, str]]:
    """The rituals' outputs on the module's home before any refused import: computed once, since every case
    holds both stores byte for byte unchanged (``checksums``), so each case's "before" is this one."""
    return rituals(home_dir)


def rituals(home: Path) -> list[tuple[int, str]]:
    outs = [CliRunner().invoke(main, ["--home", str(home), *cmd]) for cmd in RITUAL_COMMANDS]
    for cmd, out in zip(RITUAL_COMMANDS, outs, strict=True):
        assert out.exception is None or isinstance(out.exception, SystemExit), (cmd, out.exception)
    return [(out.exit_code, out.stdout) for out in outs]


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exits_2_with_one_line_and_changes_nothing(case: str, home_dir: Path, tmp_path: Path,
                                                             request: pytest.FixtureRequest) -> None:
    writer, words = CASES[case]
    target = writer(tmp_path)
    ran = request.getfixturevalue("rituals_before") if case in RITUAL_CASES else None
    before, sums = snapshot(home_dir), checksums(home_dir)
    out = CliRunner().invoke(main, ["--home", str(home_dir), "import", str(target)])
    assert out.exit_code == 2, (out.output, out.exception)
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), out.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "Traceback" not in out.output
    assert checksums(home_dir) == sums
    assert snapshot(home_dir) == before
    if ran is not None:
        assert rituals(home_dir) == ran
    assert not list(home_dir.glob(".*staging*"))
