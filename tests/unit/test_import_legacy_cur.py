"""The legacy Cost and Usage Report: the three real files of ../shared/data/legacy-cur (figures computed here
from the raw file, never from the product), and a file written here with slash-named tags, delivered three
ways (legacy CSV.gz, the Athena delivery's snake_case Parquet, CUR 2.0 Parquet) that must import alike."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from storage.config import load_config
from storage.costs import CostStore
from storage.sources.cur_columns import snake
from storage.sources.files import ImportResult, import_files
from tests.conftest import SHARED_DATA

LEGACY = SHARED_DATA / "legacy-cur"
ANON, KOKU_SP, KOKU_SNAKE = "aws-legacy-cur-anon.csv", "koku-aws-2023-06-01.csv", "koku-aws-2022-07-01-alt-columns.csv"
needs_legacy = pytest.mark.skipif(not LEGACY.exists(), reason="../shared/data/legacy-cur is absent (a fresh clone)")


def new_store(path: Path) -> CostStore:
    return CostStore(path / "costs.duckdb", load_config(None).taxonomy)


def raw_rows(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def dec(value: str | None) -> Decimal:
    return Decimal(value) if value not in (None, "") else Decimal(0)


def amortised(row: dict[str, str], col: dict[str, str]) -> Decimal:
    """CUDOS's amortised cost of one raw row (``col`` names the columns in the file's spelling)."""
    kind = row[col["type"]]
    if kind == "SavingsPlanCoveredUsage":
        return dec(row.get(col["sp_effective"]))
    if kind == "DiscountedUsage":
        return dec(row.get(col["ri_effective"]))
    if kind in ("SavingsPlanNegation", "SavingsPlanUpfrontFee", "SavingsPlanRecurringFee", "RIFee"):
        return Decimal(0)
    if kind == "Fee" and row.get(col["ri_arn"]):
        return Decimal(0)
    return dec(row[col["cost"]])


def unused(row: dict[str, str], col: dict[str, str]) -> Decimal:
    kind = row[col["type"]]
    if kind == "SavingsPlanRecurringFee":
        return dec(row.get(col["sp_total"])) - dec(row.get(col["sp_used"]))
    if kind == "RIFee":
        return dec(row.get(col["ri_unused_upfront"])) + dec(row.get(col["ri_unused_recurring"]))
    return Decimal(0)


SLASH = {"type": "lineItem/LineItemType", "cost": "lineItem/UnblendedCost",
         "sp_effective": "savingsPlan/SavingsPlanEffectiveCost", "ri_effective": "reservation/EffectiveCost",
         "ri_arn": "reservation/ReservationARN", "sp_total": "savingsPlan/TotalCommitmentToDate",
         "sp_used": "savingsPlan/UsedCommitment",
         "ri_unused_upfront": "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
         "ri_unused_recurring": "reservation/UnusedRecurringFee"}


def imported(tmp: Path, path: Path, **kw: object) -> tuple[CostStore, ImportResult]:
    store = new_store(tmp)
    return store, import_files(store, [path], **kw)  # type: ignore[arg-type]


# -- the real files -------------------------------------------------------------------------------------
@needs_legacy
def test_anonymised_legacy_cur_matches_its_raw_figures(tmp_path: Path) -> None:
    rows = raw_rows(LEGACY / ANON)
    store, result = imported(tmp_path, LEGACY / ANON)
    assert result.files[0].format == "cur-legacy" and "legacy Cost and Usage Report" in result.files[0].shape
    assert result.load.rows == len(rows) == 1281
    billed = sum(dec(r["lineItem/UnblendedCost"]) for r in rows)
    effective = sum(amortised(r, SLASH) for r in rows)
    _n, got_billed, got_effective = store.totals()
    assert round(Decimal(str(got_billed)), 9) == round(billed, 9)
    assert round(Decimal(str(got_effective)), 9) == round(effective, 9)
    tax = [r for r in rows if r["lineItem/LineItemType"] == "Tax"]
    by_cat = store.query("SELECT ChargeCategory AS c, count(*) AS n, sum(BilledCost) AS b FROM line_items GROUP BY 1")
    cats = {r.c: (r.n, r.b) for r in by_cat.itertuples()}
    assert cats["Tax"][0] == len(tax) == 12
    assert cats["Tax"][1] == pytest.approx(float(sum(dec(r["lineItem/UnblendedCost"]) for r in tax)))
    assert [p["period"] for p in result.load.periods] == ["2023-11"] and result.currency == "USD"
    df = store.query("SELECT ServiceName, RegionId, SubAccountId, x_UsageType, x_Operation, Tags FROM line_items")
    assert Counter(df["ServiceName"]) == Counter(r["product/ProductName"] for r in rows)
    assert Counter(df["RegionId"].fillna("-")) == Counter(r["product/regionCode"] or r["product/region"] or "-"
                                                          for r in rows)
    assert Counter(df["SubAccountId"]) == Counter(r["lineItem/UsageAccountId"] for r in rows)
    assert Counter(df["x_UsageType"].fillna("-")) == Counter(r["lineItem/UsageType"] or "-" for r in rows)
    assert Counter(df["x_Operation"].fillna("-")) == Counter(r["lineItem/Operation"] or "-" for r in rows)
    assert df["Tags"].isna().all()  # the file has no tag columns


@needs_legacy
def test_koku_savings_plan_sample_amortises_covered_usage_in_nok(tmp_path: Path) -> None:
    rows = raw_rows(LEGACY / KOKU_SP)
    store, result = imported(tmp_path, LEGACY / KOKU_SP)
    report = result.files[0]
    assert report.format == "cur-legacy" and result.currency == "NOK"
    billed = sum(dec(r["lineItem/UnblendedCost"]) for r in rows)
    # the file writes the Savings Plan ARN as savingsPlan/SavingsPlanArn; its amortised cost is the effective cost
    effective = sum(amortised(r, {**SLASH, "ri_arn": "reservation/ReservationArn"}) for r in rows)
    assert (billed, effective) == (Decimal(30), Decimal("0.3"))  # covered usage without negation rows
    _n, got_billed, got_effective = store.totals()
    assert got_billed == pytest.approx(float(billed)) and got_effective == pytest.approx(float(effective))
    df = store.query("SELECT SubAccountId, BillingAccountId, BillingCurrency, PricingCategory, "
                     "CommitmentDiscountStatus, ListCost, x_CostCategories, Tags, ServiceName, RegionId FROM line_items")
    assert set(df["SubAccountId"]) == {rows[0]["lineItem/UsageAccountId"]} == {"0099999999999"}  # leading zero kept
    assert set(df["BillingAccountId"]) == {rows[0]["bill/PayerAccountId"]}
    assert set(df["PricingCategory"]) == {"Committed"} and set(df["CommitmentDiscountStatus"]) == {"Used"}
    assert df["ListCost"].sum() == pytest.approx(float(sum(dec(r["pricing/publicOnDemandCost"]) for r in rows)))
    categories = [{k.split("/", 1)[1]: v for k, v in r.items() if k.startswith("costCategory/") and v} for r in rows]
    assert [json.loads(v) for v in df["x_CostCategories"]] == categories
    assert df["Tags"].isna().all()  # noTags/user:* columns are not resource tags
    assert {k for k in rows[0] if k.startswith("noTags/")} <= set(report.ignored_columns)
    assert "pricing/OfferingClasspricing/PurchaseOption" in report.ignored_columns  # the merged header
    assert set(df["ServiceName"]) == {rows[0]["product/ProductName"]} and set(df["RegionId"]) == {"us-west-1"}


@needs_legacy
def test_koku_athena_sample_is_legacy_snake_case_and_keeps_its_aws_tag(tmp_path: Path) -> None:
    rows = raw_rows(LEGACY / KOKU_SNAKE)
    store, result = imported(tmp_path, LEGACY / KOKU_SNAKE)
    report = result.files[0]
    assert report.format == "cur-legacy-athena" and "Athena" in report.shape
    assert not [c for c in report.ignored_columns if c.startswith(("resource_tags_", "product_product_name",
                                                                    "product_region"))]
    df = store.query("SELECT Tags, ServiceName, RegionId, SubAccountId, BilledCost FROM line_items")
    assert [json.loads(t) for t in df["Tags"]] == [{"aws:created_by": r["resource_tags_aws_created_by"]} for r in rows]
    assert list(df["ServiceName"]) == [r["product_product_name"] for r in rows]
    assert list(df["RegionId"]) == [r["product_region"] for r in rows]
    assert list(df["SubAccountId"]) == [r["line_item_usage_account_id"] for r in rows]
    assert df["BilledCost"].sum() == pytest.approx(float(sum(dec(r["line_item_unblended_cost"]) for r in rows)))


@needs_legacy
def test_snake_case_names_derive_mechanically_from_the_real_slash_names() -> None:
    """Every snake_case column of the Athena sample that a real slash-named file also has (the same name but
    for case and separators) is the mechanical derivation of that slash name, but one koku spells oddly."""
    def squash(name: str) -> str:
        return re.sub(r"[^a-z0-9]", "", name.lower())

    slash = {c for f in (ANON, KOKU_SP) for c in raw_rows(LEGACY / f)[0]}
    snakes = list(raw_rows(LEGACY / KOKU_SNAKE)[0])
    pairs = [(s, c) for s in snakes for c in slash if squash(c) == squash(s)]
    assert len(pairs) > 100
    odd = [(s, c) for s, c in pairs if snake(c) != s]
    assert odd == [("savings_plan_savings_plan_a_r_n", "savingsPlan/SavingsPlanArn")]  # AWS writes SavingsPlanARN


# -- a legacy file written here, in three deliveries -----------------------------------------------------
SP = "arn:aws:savingsplans::111:savingsplan/sp-1"
RI = "arn:aws:ec2:us-east-1:111:reserved-instances/ri-1"
TYPES = ["Usage", "SavingsPlanCoveredUsage", "SavingsPlanNegation", "SavingsPlanRecurringFee", "DiscountedUsage",
         "RIFee", "Tax", "Credit"]
N = len(TYPES)


def legacy_columns() -> dict[str, list[str]]:
    """The file's columns in the legacy CUR's slash spelling ('' is an empty cell)."""
    sp = lambda *cells: [*cells, *[""] * (N - len(cells))]  # noqa: E731 - short column writer
    return {
        "identity/LineItemId": [f"id{i}" for i in range(N)],
        "bill/PayerAccountId": ["111"] * N,
        "bill/BillingPeriodStartDate": ["2026-10-01T00:00:00.000Z"] * N,
        "bill/BillingPeriodEndDate": ["2026-11-01T00:00:00.000Z"] * N,
        "lineItem/UsageAccountId": ["222", "222", "222", "111", "333", "111", "222", "222"],
        "lineItem/LineItemType": TYPES,
        "lineItem/UsageStartDate": ["2026-10-05T10:00:00Z"] * N,
        "lineItem/UsageEndDate": ["2026-10-05T11:00:00Z"] * N,
        "lineItem/ProductCode": ["AmazonEC2"] * 7 + ["AWSSupport"],
        "lineItem/UsageType": ["BoxUsage:m5.large"] * 3 + [""] * 5,
        "lineItem/Operation": ["RunInstances"] * 3 + [""] * 5,
        "lineItem/CurrencyCode": ["USD"] * N,
        "lineItem/UnblendedCost": ["10.0", "5.0", "-5.0", "4.0", "0.0", "30.0", "1.5", "-2.0"],
        "lineItem/ResourceId": ["i-1", "i-2", "i-2", "", "i-3", "", "", ""],
        "pricing/publicOnDemandCost": ["10.0", "5.0", "0.0", "0.0", "2.0", "0.0", "0.0", "0.0"],
        "pricing/term": ["OnDemand", "", "", "", "Reserved", "", "", ""],
        "product/ProductName": ["Amazon Elastic Compute Cloud"] * 7 + [""],
        "product/regionCode": ["us-east-1", "us-east-1", "", "", "eu-west-1", "", "", ""],
        "product/region": ["us-east-1", "us-east-1", "us-east-1", "", "eu-west-1", "", "", ""],
        "savingsPlan/SavingsPlanARN": sp("", SP, SP, SP),
        "savingsPlan/SavingsPlanEffectiveCost": sp("", "3.5"),
        "savingsPlan/TotalCommitmentToDate": sp("", "", "", "4.0"),
        "savingsPlan/UsedCommitment": sp("", "", "", "3.5"),
        "savingsPlan/StartTime": sp("", "2026-01-01T00:00:00.000Z", "", "2026-01-01T00:00:00.000Z"),
        "savingsPlan/EndTime": sp("", "2027-01-01T00:00:00.000Z", "", "2027-01-01T00:00:00.000Z"),
        "savingsPlan/OfferingType": sp("", "ComputeSavingsPlans", "", "ComputeSavingsPlans"),
        "savingsPlan/PaymentOption": sp("", "No Upfront", "", "No Upfront"),
        "reservation/ReservationARN": sp("", "", "", "", RI, RI),
        "reservation/EffectiveCost": sp("", "", "", "", "1.2"),
        "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": sp("", "", "", "", "", "0.3"),
        "reservation/UnusedRecurringFee": sp("", "", "", "", "", "0.2"),
        "reservation/StartTime": sp("", "", "", "", "2025-06-01T00:00:00Z", "2025-06-01T00:00:00Z"),
        "reservation/EndTime": sp("", "", "", "", "2028-06-01T00:00:00Z", "2028-06-01T00:00:00Z"),
        "resourceTags/user:Team": sp("pay"),
        "resourceTags/user:team": sp("", "search", "", "", "data"),  # a case variant: its own column in AWS
        "resourceTags/user:Environment": sp("prod", "dev"),
        "resourceTags/user:cost center": sp("cc-7"),
        "resourceTags/aws:createdBy": sp("me"),
        "costCategory/BusinessUnit": sp("core", "core", "", "", "ml"),
    }


# The Athena delivery's names, written out by hand (not derived), for the generated columns.
ATHENA = {
    "identity/LineItemId": "identity_line_item_id", "bill/PayerAccountId": "bill_payer_account_id",
    "bill/BillingPeriodStartDate": "bill_billing_period_start_date",
    "bill/BillingPeriodEndDate": "bill_billing_period_end_date", "lineItem/UsageAccountId": "line_item_usage_account_id",
    "lineItem/LineItemType": "line_item_line_item_type", "lineItem/UsageStartDate": "line_item_usage_start_date",
    "lineItem/UsageEndDate": "line_item_usage_end_date", "lineItem/ProductCode": "line_item_product_code",
    "lineItem/UsageType": "line_item_usage_type", "lineItem/Operation": "line_item_operation",
    "lineItem/CurrencyCode": "line_item_currency_code", "lineItem/UnblendedCost": "line_item_unblended_cost",
    "lineItem/ResourceId": "line_item_resource_id", "pricing/publicOnDemandCost": "pricing_public_on_demand_cost",
    "pricing/term": "pricing_term", "product/ProductName": "product_product_name",
    "product/regionCode": "product_region_code", "product/region": "product_region",
    "savingsPlan/SavingsPlanARN": "savings_plan_savings_plan_a_r_n",
    "savingsPlan/SavingsPlanEffectiveCost": "savings_plan_savings_plan_effective_cost",
    "savingsPlan/TotalCommitmentToDate": "savings_plan_total_commitment_to_date",
    "savingsPlan/UsedCommitment": "savings_plan_used_commitment", "savingsPlan/StartTime": "savings_plan_start_time",
    "savingsPlan/EndTime": "savings_plan_end_time", "savingsPlan/OfferingType": "savings_plan_offering_type",
    "savingsPlan/PaymentOption": "savings_plan_payment_option",
    "reservation/ReservationARN": "reservation_reservation_a_r_n",
    "reservation/EffectiveCost": "reservation_effective_cost",
    "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation/UnusedRecurringFee": "reservation_unused_recurring_fee",
    "reservation/StartTime": "reservation_start_time", "reservation/EndTime": "reservation_end_time",
    "resourceTags/user:Environment": "resource_tags_user_environment",
    "resourceTags/user:cost center": "resource_tags_user_cost_center",
    "resourceTags/aws:createdBy": "resource_tags_aws_created_by", "costCategory/BusinessUnit": "cost_category_business_unit",
}
TS = ("StartDate", "EndDate", "StartTime", "EndTime")
NUM = ("Cost", "Commitment", "Fee", "CommitmentToDate")


def write_slash_csv_gz(path: Path) -> Path:
    cols = legacy_columns()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(cols)
    writer.writerows(zip(*cols.values(), strict=True))
    path.write_bytes(gzip.compress(out.getvalue().encode()))
    return path


def _typed(name: str, values: list[str]) -> pa.Array:
    if name.endswith(TS):
        return pa.array([pd.Timestamp(v).tz_localize(None) if v else None for v in values], pa.timestamp("ms"))
    if name.endswith(NUM) or name.endswith("EffectiveCost"):
        return pa.array([float(v) if v else None for v in values], pa.float64())
    return pa.array([v or None for v in values], pa.string())


def write_athena_parquet(path: Path) -> Path:
    cols = legacy_columns()
    # Athena lower-cases names, so user:Team and user:team land in one column there.
    cols["resourceTags/user:team"] = [a or b for a, b in zip(cols.pop("resourceTags/user:Team"),
                                                             cols["resourceTags/user:team"], strict=True)]
    names = {**ATHENA, "resourceTags/user:team": "resource_tags_user_team"}
    pq.write_table(pa.table({names[k]: _typed(k, v) for k, v in cols.items()}), path)
    return path


def write_cur2_parquet(path: Path) -> Path:
    """The same report as CUR 2.0 writes it: tags, cost categories and product attributes in map columns."""
    cols = legacy_columns()

    def as_map(keys: dict[str, str]) -> pa.Array:
        rows = [[(key, cols[col][i]) for col, key in keys.items() if cols[col][i]] for i in range(N)]
        return pa.array([r or None for r in rows], pa.map_(pa.string(), pa.string()))

    tags = {c: c.split("/", 1)[1].replace("user:", "user_").replace("aws:", "aws_")
            for c in cols if c.startswith("resourceTags/")}
    mapped = {*tags, "costCategory/BusinessUnit", "product/ProductName", "product/region"}
    plain = {ATHENA[k]: _typed(k, v) for k, v in cols.items() if k not in mapped}
    pq.write_table(pa.table({**plain, "resource_tags": as_map(tags),
                             "cost_category": as_map({"costCategory/BusinessUnit": "BusinessUnit"}),
                             "product": as_map({"product/ProductName": "product_name", "product/region": "region"})}),
                   path)
    return path


COMPARED = ("ChargeCategory, ChargeFrequency, PricingCategory, CommitmentDiscountId, CommitmentDiscountStatus, "
            "CommitmentDiscountType, BilledCost, EffectiveCost, ListCost, ServiceName, RegionId, SubAccountId, "
            "BillingAccountId, ResourceId, x_UsageType, x_Operation, x_CommitmentStart, x_CommitmentHourly, "
            "tag_team, tag_environment, tag_cost_center, x_CostCategories")


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[CostStore, ImportResult]]:
    d = tmp_path_factory.mktemp("legacy")
    files = {"slash": write_slash_csv_gz(d / "legacy.csv.gz"), "athena": write_athena_parquet(d / "athena.parquet"),
             "cur2": write_cur2_parquet(d / "cur2.parquet")}
    out = {}
    for name, path in files.items():
        store = new_store(d / name)
        out[name] = (store, import_files(store, [path]))
    return out


def test_generated_legacy_file_maps_tags_costs_and_commitments(deliveries) -> None:
    store, result = deliveries["slash"]
    cols = legacy_columns()
    rows = [dict(zip(cols, values, strict=True)) for values in zip(*cols.values(), strict=True)]
    assert result.files[0].format == "cur-legacy"
    billed = sum(dec(r["lineItem/UnblendedCost"]) for r in rows)
    effective = sum(amortised(r, SLASH) + unused(r, SLASH) for r in rows)
    n_unused = sum(unused(r, SLASH) != 0 for r in rows)
    assert store.totals() == (N + n_unused, pytest.approx(float(billed)), pytest.approx(float(effective)))
    df = store.query("SELECT Tags, tag_team, tag_environment, tag_cost_center, x_CostCategories, ChargeCategory, "
                     "BilledCost FROM line_items WHERE CommitmentDiscountStatus IS DISTINCT FROM 'Unused' "
                     "ORDER BY ChargeCategory, BilledCost")
    first = df[df["BilledCost"] == 10.0].iloc[0]
    assert json.loads(first["Tags"]) == {"Team": "pay", "Environment": "prod", "cost center": "cc-7",
                                         "aws:createdBy": "me"}
    assert (first["tag_team"], first["tag_environment"], first["tag_cost_center"]) == ("pay", "prod", "cc-7")
    teams = {r.BilledCost: r.tag_team for r in df.itertuples()}
    assert (teams[5.0], teams[0.0]) == ("search", "data")  # resourceTags/user:team, the case variant
    assert {"team": ["Team"]}.items() <= {k: v for k, v in result.load.folded_keys.items()}.items()
    assert json.loads(first["x_CostCategories"]) == {"BusinessUnit": "core"}
    inv = store.query("SELECT commitment_id, type, hourly_commitment, term_years, source FROM commitment_inventory "
                      "ORDER BY commitment_id")
    assert list(inv["commitment_id"]) == sorted([SP, RI]) and set(inv["source"]) == {"cur-legacy"}
    assert dict(zip(inv["commitment_id"], inv["term_years"], strict=True)) == {SP: 1, RI: 3}


def test_the_three_deliveries_of_one_report_import_alike(deliveries) -> None:
    frames = {name: store.query(f"SELECT {COMPARED} FROM line_items ORDER BY ALL")
              for name, (store, _r) in deliveries.items()}
    pd.testing.assert_frame_equal(frames["slash"], frames["cur2"])
    # the Athena delivery has only AWS's lower-cased snake_case names for tag keys and cost categories
    pd.testing.assert_frame_equal(frames["athena"].drop(columns="x_CostCategories"),
                                  frames["cur2"].drop(columns="x_CostCategories"))
    assert [json.loads(v) if isinstance(v, str) else None for v in frames["athena"]["x_CostCategories"]] == [
        {"business_unit": json.loads(v)["BusinessUnit"]} if isinstance(v, str) else None
        for v in frames["cur2"]["x_CostCategories"]]
    formats = {name: r.files[0].format for name, (_s, r) in deliveries.items()}
    assert formats == {"slash": "cur-legacy", "athena": "cur-legacy-athena", "cur2": "cur2"}
    athena = deliveries["athena"][0].query("SELECT Tags FROM line_items WHERE BilledCost = 10")
    assert json.loads(athena["Tags"][0]) == {"team": "pay", "environment": "prod", "cost_center": "cc-7",
                                             "aws:created_by": "me"}
    assert deliveries["athena"][1].load.commitments == deliveries["cur2"][1].load.commitments == 2


def test_the_summary_names_columns_in_the_files_own_spelling(deliveries) -> None:
    slash, athena = deliveries["slash"][1].files[0], deliveries["athena"][1].files[0]
    assert "bill/InvoicingEntity" in slash.absent_columns and "identity/LineItemId" in slash.ignored_columns
    assert "bill_invoicing_entity" in athena.absent_columns and "identity_line_item_id" in athena.ignored_columns
    assert not [c for c in slash.ignored_columns if c.startswith(("resourceTags/", "costCategory/"))]
