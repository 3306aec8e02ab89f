"""Importing billing files: the real FOCUS sample and spec examples, FOCUS 1.3 renames and Parquet maps,
re-import idempotence, and a CUR 2.0 file written here mapped onto FOCUS as storage/sources/cur.py says."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from finops_tui.cli import main
from storage.config import load_config
from storage.costs import CostStore
from storage.loader import LoadError
from storage.sources.files import import_files
from tests.focus_files import DESCRIPTIVE_CSV, accept_for, with_descriptive

SAMPLE = "focus-sample-data/focus_sample.csv"
SPEC = "focus-spec-v1.2-examples"


def new_store(path: Path) -> CostStore:
    return CostStore(path / "costs.duckdb", load_config(None).taxonomy)


def file_sums(path: Path, by: str, col: str) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            value = row[col]
            sums[row[by]] = sums.get(row[by], Decimal(0)) + (Decimal(value) if value != "NULL" else 0)
    return sums


# -- real data ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[CostStore, object]:
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is absent (a fresh clone has no shared billing files)")
    store = new_store(tmp_path_factory.mktemp("sample"))
    return store, import_files(store, [SHARED_DATA / SAMPLE])


def test_focus_sample_imports_with_its_providers_and_totals(sample_store, shared_data: Path) -> None:
    store, result = sample_store
    assert result.load.rows == 1000 and result.files[0].format == "focus-1.0"
    assert result.load.providers == ["AWS", "Microsoft", "Oracle"]
    got = store.query("SELECT ProviderName, count(*) AS n, sum(BilledCost) AS billed FROM line_items GROUP BY 1")
    want = file_sums(shared_data / SAMPLE, "ProviderName", "BilledCost")
    assert dict(zip(got["ProviderName"], got["n"], strict=True)) == {"AWS": 942, "Microsoft": 51, "Oracle": 7}
    for provider, billed in zip(got["ProviderName"], got["billed"], strict=True):
        assert round(Decimal(str(billed)), 2) == round(want[provider], 2), provider
    # the one row of the next billing period is its own period in the summary
    assert [p["period"] for p in result.load.periods] == ["2024-09", "2024-10"]


def test_focus_sample_folds_tag_keys_and_keeps_nulls_and_extras(sample_store) -> None:
    store, result = sample_store
    assert " org" in result.load.folded_keys["org"]
    assert "env" in result.load.folded_keys["environment"]
    with store.reader() as con:  # org is not a taxonomy key: read from the folded tag map
        org_expr = store.tag_expr(con, "org")
    org = store.query(f"SELECT count(*) AS n FROM line_items WHERE {org_expr} IS NOT NULL AND Tags LIKE '%\" org\"%'")
    assert org["n"][0] > 0
    nulls = store.query("SELECT count(*) AS n FROM line_items WHERE AvailabilityZone = 'NULL' OR Tags = 'NULL'")
    assert nulls["n"][0] == 0
    ids = store.query("SELECT count(*) AS n FROM line_items WHERE json_extract_string(x_Extras, '$.Id') IS NOT NULL")
    assert ids["n"][0] == 1000  # the non-spec Id column is kept, not dropped


def test_spec_commitment_examples_import_except_the_invalid_purchase_times(shared_data: Path, tmp_path) -> None:
    folder = shared_data / SPEC
    files = sorted([*folder.glob("commitment_discount_scenarios/*.csv"),
                    *folder.glob("commitment_discount_flexibility/*.csv")])
    assert len(files) == 11
    refused = {}
    for i, f in enumerate(files):
        store = new_store(tmp_path / str(i))
        try:
            import_files(store, [f], currency="USD", billing_account="spec", accept_missing=accept_for([f]))  # they lack both
        except LoadError as exc:
            p = exc.problems[0]
            refused[f.name] = (p.row, p.column, str(p))
    assert refused.keys() == {"commitment_discount_purchase_scenario_2.csv", "commitment_discount_purchase_scenario_3.csv"}
    assert refused["commitment_discount_purchase_scenario_2.csv"][:2] == (3, "ChargePeriodEnd")
    assert refused["commitment_discount_purchase_scenario_3.csv"][:2] == (4, "ChargePeriodEnd")
    assert "T30:00:00Z" in refused["commitment_discount_purchase_scenario_2.csv"][2]


def test_spec_usage_scenario_3_used_plus_unused_is_the_purchase(shared_data: Path, tmp_path) -> None:
    store = new_store(tmp_path)
    f = shared_data / SPEC / "commitment_discount_scenarios/commitment_discount_usage_scenario_3.csv"
    import_files(store, [f], currency="usd", billing_account="spec", accept_missing=accept_for([f]))
    df = store.query("SELECT CommitmentDiscountStatus AS s, sum(EffectiveCost) AS e FROM line_items GROUP BY 1")
    assert dict(zip(df["s"], df["e"], strict=True)) == {"Used": 0.75, "Unused": 0.25}
    assert store.info().currency == "USD"  # no BillingCurrency column: the one given


def test_saas_examples_import_or_are_refused_in_one_line(shared_data: Path, tmp_path) -> None:
    files = sorted((shared_data / SPEC / "saas_examples").rglob("*.csv"))
    assert len(files) >= 15
    for i, f in enumerate(files):
        # Some lack ServiceCategory: accepted as missing by name, so that their values are what is tested.
        accept = ["--accept-missing", ",".join(accept_for([f]))] if accept_for([f]) else []
        out = CliRunner().invoke(main, ["--home", str(tmp_path / str(i)), "import", str(f), *accept])
        assert out.exit_code in (0, 2), (f.name, out.output)
        if out.exit_code == 2:
            lines = out.stderr.strip().splitlines()
            assert len(lines) == 1 and f.name in lines[0] and "row 1" in lines[0], lines
        else:  # pragma: no cover - none import today; if one does, its values must be the file's
            store = new_store(tmp_path / str(i))
            assert store.totals()[1] == pytest.approx(float(sum(file_sums(f, "BillingAccountId",
                                                                          "BilledCost").values())))


# -- FOCUS shapes ---------------------------------------------------------------------------------------
def test_focus_13_parquet_with_map_tags_bom_free_headers_and_renames(tmp_path) -> None:
    tags = pa.array([[("Team", "pay"), (" ENV ", "prod")], [("team", "search")], None],
                    type=pa.map_(pa.string(), pa.string()))
    table = pa.table({
        "chargeperiodstart": pa.array(pd.to_datetime(["2026-10-01", "2026-10-02", "2026-10-03"])),
        "ChargePeriodEnd": pa.array(pd.to_datetime(["2026-10-02", "2026-10-03", "2026-10-04"])),
        "BillingPeriodStart": pa.array(pd.to_datetime(["2026-10-01"] * 3)),
        "BillingPeriodEnd": pa.array(pd.to_datetime(["2026-11-01"] * 3)),
        "ChargeCategory": ["Usage"] * 3,
        "BILLEDCOST": [1.0, 2.0, 3.0],
        "effectivecost": [0.5, 2.0, 3.0],
        "ServiceProviderName": ["Azure", "Azure", "Azure"],
        "HostProviderName": ["Azure", "Azure", "Azure"],
        "AllocatedMethodId": ["m1", None, None],
        "Tags": tags,
        "BillingCurrency": ["EUR", "EUR", "EUR"],
        **{k: [v] * 3 for k, v in DESCRIPTIVE_CSV.items() if k not in ("ProviderName", "PublisherName")},
    })
    pq.write_table(table, tmp_path / "focus13.parquet")
    store = new_store(tmp_path)
    result = import_files(store, [tmp_path / "focus13.parquet"], billing_account="ea-1")
    assert result.files[0].format == "focus-1.3" and result.currency == "EUR"
    assert "BillingAccountId" in result.files[0].absent_columns
    df = store.query("SELECT ProviderName, PublisherName, HostProviderName, AllocatedMethodId, EffectiveCost, "
                     "BillingAccountId, tag_team, tag_environment, x_Extras FROM line_items ORDER BY ChargePeriodStart")
    assert list(df["ProviderName"]) == ["Azure"] * 3 and list(df["PublisherName"]) == ["Azure"] * 3
    assert list(df["EffectiveCost"]) == [0.5, 2.0, 3.0]
    assert set(df["BillingAccountId"]) == {"ea-1"}
    assert list(df["tag_team"].fillna("-")) == ["pay", "search", "-"]
    assert df["tag_environment"][0] == "prod"
    assert df["AllocatedMethodId"][0] == "m1" and df["x_Extras"].isna().all()  # 1.3 columns are kept as columns


def test_bom_crlf_null_words_and_offsets(tmp_path) -> None:
    rest = ",Usage,2026-10-02,2026-10-01,2026-11-01"
    text = ("\ufeffchargeperiodstart,EffectiveCost,BillingCurrency,SubAccountId,BilledCost,ChargeCategory,"
            "ChargePeriodEnd,BillingPeriodStart,BillingPeriodEnd\r\n"
            f"2026-10-01T02:00:00+02:00,1.5,usd,null,1.5{rest}\r\n2026-10-01 03:00:00, 2.5 ,USD,NULL,2.5{rest}\r\n")
    (tmp_path / "bom.csv").write_bytes(with_descriptive(text.replace("\r\n", "\n")).replace("\n", "\r\n").encode())
    store = new_store(tmp_path)
    import_files(store, [tmp_path / "bom.csv"], billing_account="acct")
    df = store.query("SELECT ChargePeriodStart AS t, BilledCost AS b, SubAccountId AS s, BillingCurrency AS c "
                     "FROM line_items ORDER BY t")
    assert [str(t) for t in df["t"]] == ["2026-10-01 00:00:00", "2026-10-01 03:00:00"]
    assert list(df["b"]) == [1.5, 2.5] and df["s"].isna().all() and set(df["c"]) == {"USD"}


def test_reimport_is_idempotent_and_reports_replaced_rows(tmp_path) -> None:
    rows = ["BillingAccountId,ChargePeriodStart,BilledCost,EffectiveCost,ChargeCategory,ChargePeriodEnd,"
            "BillingPeriodStart,BillingPeriodEnd,BillingCurrency"]
    rows += [f"b{i % 2},2026-{9 + i % 3:02d}-0{1 + i % 5}T00:00:00Z,{i}.25,{i},Usage,"
             f"2026-{9 + i % 3:02d}-0{1 + i % 5}T01:00:00Z,2026-{9 + i % 3:02d}-01,2026-{10 + i % 3:02d}-01,USD"
             for i in range(30)]
    (tmp_path / "x.csv").write_text(with_descriptive("\n".join(rows)))
    home = tmp_path / "home"
    first = CliRunner().invoke(main, ["--home", str(home), "import", str(tmp_path / "x.csv"), "--json"])
    assert first.exit_code == 0, first.output
    store = new_store(home)
    before = (store.totals(), store.period_totals().to_dict("records"))
    again = CliRunner().invoke(main, ["--home", str(home), "import", str(tmp_path), "--json"])
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert summary["rows"] == 30 and summary["replaced"] == 30
    assert (store.totals(), store.period_totals().to_dict("records")) == before
    assert summary["currency"] == "USD" and summary["accounts"] == 2
    periods = {p["period"]: p for p in summary["billing_periods"]}
    assert sorted(periods) == ["2026-09", "2026-10", "2026-11"]
    assert periods["2026-09"]["billed_cost"] == sum(i + 0.25 for i in range(0, 30, 3))
    assert periods["2026-09"]["effective_cost"] == sum(range(0, 30, 3))


# -- CUR 2.0 --------------------------------------------------------------------------------------------
SP = "arn:aws:savingsplans::111:savingsplan/sp-1"
RI = "arn:aws:ec2:us-east-1:111:reserved-instances/ri-1"


def cur_table() -> pa.Table:
    types = ["Usage", "SavingsPlanCoveredUsage", "SavingsPlanNegation", "SavingsPlanRecurringFee",
             "DiscountedUsage", "RIFee", "Tax", "Credit"]
    n = len(types)
    start = pd.Timestamp("2026-10-05 10:00:00")
    col = lambda values: values  # noqa: E731 - readability of the table below
    return pa.table({
        "bill_payer_account_id": ["111"] * n,
        "bill_billing_period_start_date": pa.array([pd.Timestamp("2026-10-01")] * n),
        "bill_billing_period_end_date": pa.array([pd.Timestamp("2026-11-01")] * n),
        "line_item_usage_account_id": ["222", "222", "222", "111", "333", "111", "222", "222"],
        "line_item_line_item_type": types,
        "line_item_usage_start_date": pa.array([start] * n),
        "line_item_usage_end_date": pa.array([start + pd.Timedelta(hours=1)] * n),
        "line_item_product_code": ["AmazonEC2"] * 6 + ["AmazonEC2", "AWSSupport"],
        "product": pa.array([[("product_name", "Amazon Elastic Compute Cloud")]] * 7 + [None],
                            type=pa.map_(pa.string(), pa.string())),
        "line_item_currency_code": ["USD"] * n,
        "line_item_unblended_cost": col([10.0, 5.0, -5.0, 4.0, 0.0, 30.0, 1.5, -2.0]),
        "pricing_public_on_demand_cost": col([10.0, 5.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0]),
        "pricing_term": ["OnDemand", "", "", "", "Reserved", "", "", ""],
        "line_item_resource_id": ["i-1", "i-2", "i-2", "", "i-3", "", "", ""],
        "resource_tags": pa.array([[("user_team", "pay"), ("user_Env", "prod"), ("aws_createdBy", "me")],
                                   [("user_team", "search")], None, None, [("user_TEAM", "data")], None, None, None],
                                  type=pa.map_(pa.string(), pa.string())),
        "savings_plan_savings_plan_a_r_n": [None, SP, SP, SP, None, None, None, None],
        "savings_plan_savings_plan_effective_cost": [None, 3.5, None, None, None, None, None, None],
        "savings_plan_total_commitment_to_date": [None, None, None, 4.0, None, None, None, None],
        "savings_plan_used_commitment": [None, None, None, 3.5, None, None, None, None],
        "savings_plan_start_time": [None, "2026-01-01T00:00:00.000Z", None, "2026-01-01T00:00:00.000Z",
                                    None, None, None, None],
        "savings_plan_end_time": [None, "2027-01-01T00:00:00.000Z", None, "2027-01-01T00:00:00.000Z",
                                  None, None, None, None],
        "savings_plan_offering_type": [None, "ComputeSavingsPlans", None, "ComputeSavingsPlans", None, None, None, None],
        "savings_plan_payment_option": [None, "No Upfront", None, "No Upfront", None, None, None, None],
        "reservation_reservation_a_r_n": [None, None, None, None, RI, RI, None, None],
        "reservation_effective_cost": [None, None, None, None, 1.2, None, None, None],
        "reservation_unused_amortized_upfront_fee_for_billing_period": [None] * 5 + [0.3, None, None],
        "reservation_unused_recurring_fee": [None] * 5 + [0.2, None, None],
        "reservation_start_time": [None] * 4 + ["2025-06-01T00:00:00Z"] * 2 + [None, None],
        "reservation_end_time": [None] * 4 + ["2028-06-01T00:00:00Z"] * 2 + [None, None],
        "identity_line_item_id": [f"id{i}" for i in range(n)],
    })


@pytest.fixture(scope="module")
def cur_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[CostStore, object]:
    d = tmp_path_factory.mktemp("cur")
    pq.write_table(cur_table(), d / "cur2.parquet")
    store = new_store(d)
    return store, import_files(store, [d / "cur2.parquet"])


def test_cur_totals_are_unblended_and_amortised(cur_store) -> None:
    store, result = cur_store
    assert result.files[0].format == "cur2"
    # 8 line items plus the unused parts of the Savings Plan and the reservation fee
    assert store.totals() == (10, pytest.approx(43.5), pytest.approx(10 + 3.5 + 1.2 + 1.5 - 2 + 0.5 + 0.5))
    assert result.load.providers == ["AWS"] and result.load.accounts == 3
    assert "identity_line_item_id" in result.files[0].ignored_columns
    assert "reservation_recurring_fee_for_usage" not in result.files[0].absent_columns


def test_cur_rows_map_onto_focus_columns(cur_store) -> None:
    store, _ = cur_store
    df = store.query(
        "SELECT x_Extras, ChargeCategory AS cat, ChargeFrequency AS freq, PricingCategory AS pc, "
        "CommitmentDiscountId AS cid, CommitmentDiscountStatus AS st, CommitmentDiscountType AS ct, BilledCost AS b,"
        " EffectiveCost AS e, ListCost AS l, ServiceName AS svc, SubAccountId AS acct, BillingAccountId AS ba, "
        "tag_team, tag_environment, Tags, x_CommitmentStart AS cs, x_CommitmentEnd AS ce, x_CommitmentHourly AS ch "
        "FROM line_items ORDER BY ChargeCategory, BilledCost, EffectiveCost")
    rows = {(r.cat, r.b, r.e): r for r in df.itertuples()}
    usage = rows[("Usage", 10.0, 10.0)]
    assert (usage.pc, usage.svc, usage.acct, usage.ba, usage.tag_team, usage.tag_environment) == (
        "Standard", "Amazon Elastic Compute Cloud", "222", "111", "pay", "prod")
    assert json.loads(usage.Tags) == {"team": "pay", "Env": "prod", "aws:createdBy": "me"}
    covered = rows[("Usage", 5.0, 3.5)]
    assert (covered.pc, covered.cid, covered.st, covered.ct, covered.l) == ("Committed", SP, "Used", "Savings Plan", 5.0)
    assert str(covered.cs) == "2026-01-01 00:00:00" and str(covered.ce) == "2027-01-01 00:00:00"
    negation = rows[("Usage", -5.0, 0.0)]
    assert negation.l == 0.0
    fee = rows[("Purchase", 4.0, 0.0)]
    assert (fee.freq, fee.ch) == ("Recurring", 4.0)
    unused = {r.ct: r for r in df.itertuples() if r.st == "Unused"}
    assert unused["Savings Plan"].e == pytest.approx(0.5) and unused["Savings Plan"].b == 0
    assert unused["Reservation"].e == pytest.approx(0.5) and unused["Reservation"].cat == "Usage"
    ri = rows[("Usage", 0.0, 1.2)]
    assert (ri.cid, ri.st, ri.ct, ri.tag_team) == (RI, "Used", "Reservation", "data")
    assert rows[("Purchase", 30.0, 0.0)].freq == "Recurring"
    assert rows[("Tax", 1.5, 1.5)].svc == "Amazon Elastic Compute Cloud"
    assert rows[("Credit", -2.0, -2.0)].svc == "AWSSupport"


def test_cur_commitment_terms_go_into_the_inventory(cur_store) -> None:
    store, result = cur_store
    assert result.load.commitments == 2
    inv = store.query("SELECT * FROM commitment_inventory ORDER BY commitment_id")
    sp = inv[inv["commitment_id"] == SP].iloc[0]
    ri = inv[inv["commitment_id"] == RI].iloc[0]
    assert (sp["type"], sp["hourly_commitment"], sp["term_years"], sp["payment_option"], sp["account_id"]) == (
        "Savings Plan", 4.0, 1, "No Upfront", "111")
    assert sp["start_date"].date() == date(2026, 1, 1) and sp["end_date"].date() == date(2027, 1, 1)
    assert "ComputeSavingsPlans" in sp["description"]
    assert (ri["type"], ri["term_years"], ri["account_id"]) == ("Reservation", 3, "111")
    assert pd.isna(ri["hourly_commitment"])


def test_the_swap_waits_then_says_the_store_is_busy(tmp_path) -> None:
    import subprocess
    import sys

    import duckdb

    from storage.costs import CostStoreError, attach_store

    path = tmp_path / "costs.duckdb"
    duckdb.connect(str(path)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(30)", str(path)], stdout=subprocess.PIPE, text=True)
    con = duckdb.connect(":memory:")
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(CostStoreError, match="another finops-tui process"):
            attach_store(con, path, timeout_s=0.3)
    finally:
        holder.kill()
        holder.wait()
    attach_store(con, path, timeout_s=5)
    con.close()


def test_format_override_reads_every_file_as_that_format(tmp_path) -> None:
    pq.write_table(cur_table(), tmp_path / "cur.parquet")
    out = CliRunner().invoke(main, ["--home", str(tmp_path / "h"), "import", "--format", "focus",
                                    str(tmp_path / "cur.parquet")])
    assert out.exit_code == 2 and "missing mandatory columns: ChargePeriodStart" in out.stderr
    (tmp_path / "f.csv").write_text("ChargePeriodStart,BilledCost\n2026-10-01,1\n")
    out = CliRunner().invoke(main, ["--home", str(tmp_path / "h"), "import", "--format", "cur2",
                                    str(tmp_path / "f.csv")])
    assert out.exit_code == 2 and "missing mandatory CUR 2.0 columns" in out.stderr
