"""A generated corpus of bad billing files: each exits 2 with one line naming what is wrong, and the store's
rows and totals stay exactly as they were (one import is one transaction, across files too)."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from finops_tui.cli import main
from storage.config import load_config
from storage.costs import CostStore

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
    return "\n".join([header, *rows]) + "\n"


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
    "folder without billing files": (
        lambda d: (d / "nofiles").mkdir() or write(d / "nofiles" / "notes.txt", "hi").parent,
        ["nofiles", "no CSV"]),
}


@pytest.fixture(scope="module")
def home_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("bad-home")
    base = write(home.parent / "base.csv", csv_text(GOOD))
    out = CliRunner().invoke(main, ["--home", str(home), "import", str(base)])
    assert out.exit_code == 0, out.output
    return home


def snapshot(home: Path) -> tuple:
    store = CostStore(home / "costs.duckdb", load_config(None).taxonomy)
    return store.totals(), store.period_totals().to_dict("records"), store.info().rows


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exits_2_with_one_line_and_changes_nothing(case: str, home_dir: Path, tmp_path: Path) -> None:
    writer, words = CASES[case]
    target = writer(tmp_path)
    before = snapshot(home_dir)
    out = CliRunner().invoke(main, ["--home", str(home_dir), "import", str(target)])
    assert out.exit_code == 2, (out.output, out.exception)
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), out.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "Traceback" not in out.output
    assert snapshot(home_dir) == before
    assert not list(home_dir.glob(".*staging*"))
