"""Which billing export a file is, told by columns only that export has, and what to export instead when
the importer does not read it.

The four shapes read (``--format`` names them):

- ``focus``: FOCUS 1.0-1.3 (``ChargePeriodStart``), from any provider;
- ``cur2``: AWS CUR 2.0 from Data Exports: snake_case names, no ``/``, and the ``resource_tags``,
  ``product`` and ``cost_category`` map (or JSON) columns or the account-name columns only it has;
- ``cur-legacy``: the legacy Cost and Usage Report as delivered in CSV/CSV.gz: ``lineItem/``, ``bill/``
  names;
- ``cur-legacy-athena``: the legacy CUR's Athena delivery (Parquet or CSV): snake_case names like CUR 2.0's,
  but tags and cost categories spread over ``resource_tags_user_*``, ``resource_tags_aws_*`` and
  ``cost_category_*`` columns, and ``product_product_name`` / ``product_region`` as columns.

A snake_case AWS file with none of the distinguishing columns is read as CUR 2.0 (the two map the same
there). Files of other shapes are refused by name when recognisable: Azure EA or MCA cost details, a Google
Cloud billing export, an OCI cost report in Oracle's own format, or FOCUS before 1.0 (0.5 and 1.0-preview
named AmortizedCost, ChargeType, ChargeSubcategory and UsageQuantity what 1.0 renamed); each refusal names
the export that the importer reads instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from storage.sources.cur_columns import cost_category, tag_key

FORMATS = ("focus", "focus-contract-commitment", "cur2", "cur-legacy", "cur-legacy-athena")
LABELS = {
    "focus-contract-commitment": "the FOCUS 1.3 Contract Commitment dataset",
    "focus-1.3-contract-commitment": "the FOCUS 1.3 Contract Commitment dataset",
    "cur2": "an AWS CUR 2.0 export (Data Exports)",
    "cur-legacy": "an AWS legacy Cost and Usage Report (lineItem/ column names)",
    "cur-legacy-athena": "an AWS legacy Cost and Usage Report, Athena delivery (snake_case column names)",
}
AWS_INSTEAD = 'AWS Data Exports "FOCUS 1.2 with AWS columns" or "CUR 2.0"'
FOCUS_INSTEAD = ('AWS Data Exports "FOCUS 1.2 with AWS columns", the Azure Cost Management FOCUS export, the GCP '
                 "FOCUS BigQuery view or the OCI FOCUS report")

CUR2_MARKERS = {"resource_tags", "product", "cost_category", "discount", "bill_payer_account_name",
                "line_item_usage_account_name"}
ATHENA_MARKERS = {"product_product_name", "product_region"}
LEGACY_MARKERS = ("lineitem/", "bill/", "identity/")
OCI_MARKERS = {"lineitem/intervalusagestart", "lineitem/tenantid", "lineitem/referenceno", "cost/mycost",
               "product/compartmentid"}
AZURE_COSTS = {"costinbillingcurrency", "cost", "pretaxcost", "extendedcost", "costinusd"}
AZURE_EA = {"accountownerid", "departmentname", "enrollmentnumber", "subscriptionguid", "accountname"}
AZURE_MCA = {"billingprofileid", "invoicesectionid", "invoicesectionname", "billingprofilename"}
GCP_NAMES = {"service.description", "sku.description", "service_description", "sku_description",
             "service description", "sku description"}
FOCUS_1_0 = {"chargeclass", "commitmentdiscountstatus", "contractedcost", "contractedunitprice", "regionid",
             "regionname", "consumedquantity", "consumedunit"}


def _names(columns: Iterable[str]) -> set[str]:
    return {c.strip().lower() for c in columns}


def label(fmt: str) -> str:
    """How the summary names a format (``focus-1.2`` -> ``FOCUS 1.2``)."""
    if fmt in LABELS:
        return LABELS[fmt]
    if fmt.startswith("focus-"):
        return "FOCUS " + fmt.removeprefix("focus-")
    if fmt == "focus":
        return "FOCUS"
    return LABELS.get(fmt, fmt)


def detect(columns: Iterable[str]) -> str:
    """The format of a file by its header; ``focus`` when it is no AWS CUR shape (the FOCUS mapping then
    refuses, by name, a file that is not FOCUS either)."""
    names = _names(columns)
    if names & OCI_MARKERS:
        return "focus"
    if any(n.startswith(LEGACY_MARKERS) for n in names):
        return "cur-legacy"
    if "chargeperiodstart" in names:
        return "focus"
    if "contractcommitmentid" in names and "contractid" in names:
        return "focus-contract-commitment"
    if not ({"line_item_usage_start_date", "line_item_unblended_cost"} & names
            or sum(n.startswith(("line_item_", "bill_")) for n in names) >= 2):
        return "focus"
    if names & CUR2_MARKERS:
        return "cur2"
    if names & ATHENA_MARKERS or any(tag_key(n) or cost_category(n) for n in names):
        return "cur-legacy-athena"
    return "cur2"


def foreign(columns: Iterable[str]) -> tuple[str, str] | None:
    """(what the file is, the export to create instead) for a recognisable shape the importer does not read."""
    names = _names(columns)
    if names & OCI_MARKERS:
        return ("an OCI cost report in Oracle's own format",
                "the OCI FOCUS report (Billing > Cost and Usage Reports, FOCUS folder)")
    if "metercategory" in names and names & (AZURE_COSTS | {"subscriptionid", "subscriptionguid"}):
        azure = "the Azure Cost Management FOCUS export (Exports > Cost and usage details (FOCUS))"
        if names & AZURE_EA:
            return "an Azure EA usage details (cost details) export", azure
        if names & AZURE_MCA:
            return "an Azure MCA cost details export", azure
        return "an Azure usage details export", azure
    if names & GCP_NAMES or ("usage_start_time" in names and names & {"cost", "export_time", "cost_type"}):
        return ("a Google Cloud billing export (BigQuery usage cost table)",
                "the GCP FOCUS BigQuery view, exported to CSV or Parquet")
    before = focus_before_1(columns)
    if before:
        return f"FOCUS {before}", f"a FOCUS 1.0 or later export ({FOCUS_INSTEAD})"
    return None


def focus_before_1(columns: Iterable[str]) -> str | None:
    """``0.5`` or ``1.0-preview`` for a FOCUS file older than 1.0 (its renamed columns), else None."""
    names = _names(columns)
    if "chargeperiodstart" not in names:
        return None
    if names & {"amortizedcost", "chargetype"}:  # 0.5-only columns: an explicit signal, whatever else is there
        return "0.5"
    if names & {"chargesubcategory", "usagequantity", "usageunit"} and not names & FOCUS_1_0:
        return "1.0-preview"
    return None


def wrong_format(columns: Iterable[str], fmt: str) -> str | None:
    """When ``--format fmt`` does not fit a file another shape fits: what to do instead."""
    found = detect(columns)
    if found == fmt or foreign(columns):
        return None
    return f"the file looks like {label(found)}: leave out --format or use --format {found}"


def missing_columns(columns: Iterable[str], fmt: str, missing: list[str]) -> str:
    """The refusal of a file without the columns ``fmt`` must have, saying what to use or export instead."""
    cols = list(columns)
    hint = wrong_format(cols, fmt)
    what = {"cur2": "CUR 2.0 ", "cur-legacy": "legacy CUR ", "cur-legacy-athena": "legacy CUR "}.get(fmt, "")
    text = f"missing mandatory {what}columns: {', '.join(missing)}"
    if hint:
        return f"{text}; {hint}"
    found = foreign(cols)
    if found:
        return f"{found[0]}, not FOCUS 1.0-1.3 or an AWS CUR ({text}); create {found[1]} and import that"
    if fmt == "focus":
        return (f"{text}: not FOCUS 1.0-1.3, AWS CUR 2.0 or a legacy CUR; create {FOCUS_INSTEAD} "
                "and import that")
    return f"{text}; create {AWS_INSTEAD} and import that"
