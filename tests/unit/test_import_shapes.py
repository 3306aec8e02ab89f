"""Telling billing exports apart by their headers: the four AWS shapes (FOCUS, CUR 2.0, legacy CUR with slash
names, its Athena delivery in snake_case), printed per file and named by --format; and the refusal of
Azure, Google Cloud, OCI and pre-1.0 FOCUS files, naming the export to create instead."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from finops_tui.cli import main
from storage.config import load_config
from storage.costs import CostStore
from storage.loader import LoadError
from storage.sources.cur_columns import snake, tag_key
from storage.sources.files import import_files
from storage.sources.shapes import FORMATS, detect
from tests.focus_files import with_descriptive

CUR_CORE = ["bill_payer_account_id", "line_item_usage_start_date", "line_item_unblended_cost",
            "line_item_line_item_type"]
SHAPES = {
    "focus": ["ChargePeriodStart", "BilledCost", "EffectiveCost", "ChargeCategory", "Tags"],
    "cur2 with its resource_tags map": [*CUR_CORE, "resource_tags", "product_region_code"],
    "cur2 with account names only": [*CUR_CORE, "line_item_usage_account_name"],
    "cur2 without distinguishing columns": CUR_CORE,
    "athena with flattened tags": [*CUR_CORE, "resource_tags_user_team", "product_region_code"],
    "athena with an aws tag only": [*CUR_CORE, "resource_tags_aws_created_by"],
    "athena with product_product_name": [*CUR_CORE, "product_product_name"],
    "athena with cost categories": [*CUR_CORE, "cost_category_business_unit"],
    "legacy slash": ["identity/LineItemId", "lineItem/UsageStartDate", "lineItem/UnblendedCost",
                     "resourceTags/user:team"],
    "legacy slash without tags": ["bill/PayerAccountId", "lineItem/UsageStartDate", "lineItem/UnblendedCost"],
}
EXPECTED = {"focus": "focus", "cur2": "cur2", "athena": "cur-legacy-athena", "legacy": "cur-legacy"}


@pytest.mark.parametrize("case", list(SHAPES))
def test_each_aws_shape_is_told_by_its_own_columns(case: str) -> None:
    assert detect(SHAPES[case]) == EXPECTED[case.split()[0]]


def test_format_names_all_four_shapes() -> None:
    assert set(FORMATS) == {"focus", "focus-contract-commitment", "cur2", "cur-legacy", "cur-legacy-athena"}
    out = CliRunner().invoke(main, ["import", "--help"])
    assert all(f in out.output for f in FORMATS)


def test_snake_case_names_are_the_mechanical_form_of_the_slash_names() -> None:
    # pairs as the AWS data dictionaries spell them (legacy CUR, and its Athena / CUR 2.0 form)
    pairs = {"lineItem/UsageStartDate": "line_item_usage_start_date",
             "savingsPlan/SavingsPlanARN": "savings_plan_savings_plan_a_r_n",
             "reservation/ReservationARN": "reservation_reservation_a_r_n",
             "pricing/publicOnDemandCost": "pricing_public_on_demand_cost",
             "product/ProductName": "product_product_name", "product/regionCode": "product_region_code",
             "product/usagetype": "product_usagetype", "bill/BillingPeriodStartDate": "bill_billing_period_start_date",
             "resourceTags/user:team": "resource_tags_user_team",
             "resourceTags/aws:createdBy": "resource_tags_aws_created_by",
             "costCategory/BusinessUnit": "cost_category_business_unit"}
    assert {k: snake(k) for k in pairs} == pairs
    assert [tag_key(c) for c in ("resourceTags/user:Team", "resourceTags/aws:createdBy", "resource_tags_user_team",
                                 "resource_tags_aws_created_by", "noTags/user:app", "lineItem/UsageType")] == [
        "Team", "aws:createdBy", "team", "aws:created_by", None, None]


# -- the shape in the summary and --json ----------------------------------------------------------------
def test_the_summary_and_json_name_each_files_shape(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    (d / "a_legacy.csv").write_text("lineItem/UsageStartDate,lineItem/UnblendedCost,resourceTags/user:team\n"
                                    "2026-10-01T00:00:00Z,2.5,pay\n")
    pq.write_table(pa.table({"line_item_usage_start_date": pa.array([datetime(2026, 10, 1)], pa.timestamp("ms")),
                             "line_item_unblended_cost": [1.0], "bill_payer_account_id": ["111"],
                             "resource_tags_user_team": ["web"]}), d / "b_athena.parquet")
    (d / "c_focus.csv").write_text(with_descriptive(
        "ChargePeriodStart,ChargePeriodEnd,BillingPeriodStart,BillingPeriodEnd,BilledCost,EffectiveCost,"
        "ChargeCategory,BillingCurrency\n2026-10-02T00:00:00Z,2026-10-03T00:00:00Z,2026-10-01,2026-11-01,1,1,Usage,USD"))
    out = CliRunner().invoke(main, ["--home", str(tmp_path / "h"), "import", str(d), "--json",
                                    "--billing-account", "111"])
    assert out.exit_code == 0, out.output
    files = {Path(f["path"]).name: f for f in json.loads(out.stdout)["files"]}
    assert {n: f["format"] for n, f in files.items()} == {"a_legacy.csv": "cur-legacy",
                                                          "b_athena.parquet": "cur-legacy-athena",
                                                          "c_focus.csv": "focus-1.0"}
    assert "legacy Cost and Usage Report" in files["a_legacy.csv"]["shape"]
    assert "Athena" in files["b_athena.parquet"]["shape"] and files["c_focus.csv"]["shape"] == "FOCUS 1.0"
    text = CliRunner().invoke(main, ["--home", str(tmp_path / "h2"), "import", str(d / "a_legacy.csv"),
                                     "--billing-account", "111"])
    assert "a_legacy.csv: cur-legacy, 1 rows (an AWS legacy Cost and Usage Report (lineItem/ column names))" in text.output
    store = CostStore(tmp_path / "h2" / "costs.duckdb", load_config(None).taxonomy)
    assert store.query("SELECT tag_team FROM line_items")["tag_team"][0] == "pay"


def test_a_forced_format_that_does_not_fit_says_which_does(tmp_path: Path) -> None:
    (tmp_path / "legacy.csv").write_text("lineItem/UsageStartDate,lineItem/UnblendedCost\n2026-10-01,1\n")
    out = CliRunner().invoke(main, ["--home", str(tmp_path / "h"), "import", "--format", "cur2",
                                    str(tmp_path / "legacy.csv")])
    assert out.exit_code == 2
    assert "missing mandatory CUR 2.0 columns" in out.stderr and "--format cur-legacy" in out.stderr
    (tmp_path / "cur2.csv").write_text("line_item_usage_start_date,line_item_unblended_cost,resource_tags\n"
                                       "2026-10-01,1,\n")
    out = CliRunner().invoke(main, ["--home", str(tmp_path / "h"), "import", "--format", "cur-legacy",
                                    "--billing-account", "111", str(tmp_path / "cur2.csv")])
    assert out.exit_code == 0, out.output  # the same names: read as the legacy CUR was asked for
    (tmp_path / "focus.csv").write_text("ChargePeriodStart,BilledCost\n2026-10-01,1\n")
    out = CliRunner().invoke(main, ["--home", str(tmp_path / "h"), "import", "--format", "cur-legacy",
                                    str(tmp_path / "focus.csv")])
    assert out.exit_code == 2 and "missing mandatory legacy CUR columns: lineItem/UsageStartDate" in out.stderr
    assert "looks like FOCUS: leave out --format or use --format focus" in out.stderr


# -- refusals that lead somewhere -----------------------------------------------------------------------
FOREIGN = {
    "azure_ea.csv": ("InvoiceSectionName,AccountName,AccountOwnerId,SubscriptionId,SubscriptionName,ResourceGroup,"
                     "ResourceLocation,Date,ProductName,MeterCategory,MeterSubCategory,MeterId,MeterName,Quantity,"
                     "CostInBillingCurrency,BillingCurrencyCode,Tags\n"
                     "dept,acct,a@b.c,0000,sub,rg,eastus,10/01/2026,VM,Virtual Machines,D,m,D2,1,2.5,USD,\n",
                     ["Azure EA usage details", "Azure Cost Management FOCUS export"]),
    "azure_mca.csv": ("invoiceId,billingAccountId,billingProfileId,invoiceSectionId,date,meterCategory,"
                      "SubscriptionId,costInBillingCurrency,billingCurrency\ni1,ba,bp,is,10/01/2026,Storage,s,1,USD\n",
                      ["Azure MCA cost details", "Azure Cost Management FOCUS export"]),
    "gcp.csv": ("billing_account_id,service.id,service.description,sku.id,sku.description,usage_start_time,"
                "usage_end_time,project.id,cost,currency,cost_type,export_time\n"
                "01-A,6F81,Compute Engine,sku,N1,2026-10-01 00:00:00 UTC,2026-10-01 01:00:00 UTC,p,0.5,USD,regular,"
                "2026-10-02 00:00:00 UTC\n", ["Google Cloud billing export", "GCP FOCUS BigQuery view"]),
    "oci.csv": ("lineItem/referenceNo,lineItem/tenantId,lineItem/intervalUsageStart,lineItem/intervalUsageEnd,"
                "product/service,product/compartmentId,product/region,usage/billedQuantity,cost/myCost,"
                "cost/currencyCode\nr1,t,2026-10-01T00:00Z,2026-10-01T01:00Z,COMPUTE,c,us-ashburn-1,1,0.2,USD\n",
                ["OCI cost report", "OCI FOCUS report"]),
    "focus05.csv": ("AmortizedCost,BilledCost,BillingAccountId,BillingCurrency,ChargePeriodStart,ChargeType,"
                    "ProviderName,Region\n1,1,a,USD,2026-10-01T00:00:00Z,Usage,AWS,us-east-1\n",
                    ["FOCUS 0.5", "AmortizedCost, ChargeType", "FOCUS 1.0 or later",
                     'AWS Data Exports "FOCUS 1.2 with AWS columns"']),
    "focus10preview.csv": ("BilledCost,EffectiveCost,ChargeCategory,ChargeSubcategory,ChargePeriodStart,"
                           "PricingCategory,UsageQuantity,UsageUnit,Region\n"
                           "1,1,Usage,On-Demand,2026-10-01T00:00:00Z,On-Demand,1,Hours,us-east-1\n",
                           ["FOCUS 1.0-preview", "ChargeSubcategory", "FOCUS 1.0 or later"]),
    "unknown.csv": ("when,amount\n2026-10-01,1\n",
                    ["missing mandatory columns: ChargePeriodStart, EffectiveCost or BilledCost",
                     'AWS Data Exports "FOCUS 1.2 with AWS columns"', "the GCP FOCUS BigQuery view"]),
    "legacy_no_cost.csv": ("lineItem/UsageStartDate,lineItem/UsageType\n2026-10-01,BoxUsage\n",
                           ["missing mandatory legacy CUR columns: lineItem/UnblendedCost",
                            'AWS Data Exports "FOCUS 1.2 with AWS columns" or "CUR 2.0"']),
}


@pytest.mark.parametrize("name", list(FOREIGN))
def test_a_refused_file_names_its_shape_and_the_export_to_create(name: str, tmp_path: Path) -> None:
    text, words = FOREIGN[name]
    (tmp_path / name).write_text(text)
    store = CostStore(tmp_path / "costs.duckdb", load_config(None).taxonomy)
    with pytest.raises(LoadError) as err:
        import_files(store, [tmp_path / name])
    message = str(err.value.problems[0])
    assert message.startswith(str(tmp_path / name)), message
    for word in words:
        assert word in message, (word, message)
    assert store.totals()[0] == 0


def test_the_real_focus_files_are_still_focus(shared_data: Path) -> None:
    import csv

    files = [shared_data / "focus-sample-data/focus_sample.csv",
             *sorted((shared_data / "focus-spec-v1.2-examples").rglob("*.csv"))]
    for f in files:
        with f.open(newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh))
        assert detect(header) == "focus", f.name
