"""AWS Cost and Usage Report 2.0 (Data Exports, Parquet or CSV) mapped onto the FOCUS columns.

The column names are the snake_case forms of the legacy CUR's (storage.sources.cur_columns); the legacy CUR
(cur_legacy.py) is mapped by these same expressions, reading its tags, cost categories, product name and
region from its own columns. The mapping (CUR 2.0 column -> FOCUS column):

- line_item_usage_start_date / _end_date -> ChargePeriodStart / ChargePeriodEnd
- bill_billing_period_start_date / _end_date -> BillingPeriodStart / BillingPeriodEnd
- bill_payer_account_id / _name -> BillingAccountId / BillingAccountName
- line_item_usage_account_id / _name -> SubAccountId / SubAccountName
- line_item_currency_code -> BillingCurrency; ProviderName is "AWS"; bill_invoicing_entity ->
  InvoiceIssuerName; line_item_legal_entity -> PublisherName
- product['product_name'] (the ``product`` map), else line_item_product_code -> ServiceName
- product_region_code -> RegionId; line_item_availability_zone -> AvailabilityZone;
  line_item_resource_id -> ResourceId; product_sku -> SkuId; line_item_line_item_description ->
  ChargeDescription; line_item_usage_type -> x_UsageType; line_item_operation -> x_Operation;
  line_item_usage_amount -> ConsumedQuantity and PricingQuantity; pricing_unit -> ConsumedUnit and PricingUnit
- resource_tags -> Tags, keys ``user_team`` -> ``team`` and ``aws_createdBy`` -> ``aws:createdBy``;
  cost_category -> x_CostCategories
- line_item_unblended_cost -> BilledCost; pricing_public_on_demand_cost -> ListCost (0 on negation rows)
- EffectiveCost is the amortised cost as AWS's own dashboards (CUDOS) compute it, by line_item_line_item_type:
  SavingsPlanCoveredUsage -> savings_plan_savings_plan_effective_cost; DiscountedUsage ->
  reservation_effective_cost; SavingsPlanNegation, SavingsPlanUpfrontFee and a reservation's upfront Fee -> 0;
  SavingsPlanRecurringFee and RIFee -> 0 on the Purchase row, and their unused part
  (savings_plan_total_commitment_to_date - savings_plan_used_commitment, or
  reservation_unused_amortized_upfront_fee_for_billing_period + reservation_unused_recurring_fee) becomes a
  second row: ChargeCategory Usage, CommitmentDiscountStatus Unused, BilledCost 0 (FOCUS's unused-commitment
  row). Everything else -> line_item_unblended_cost. So the sum of EffectiveCost is CUDOS's amortised cost
  and the sum of BilledCost is the unblended cost.
- ChargeCategory: Usage, DiscountedUsage, SavingsPlanCoveredUsage, SavingsPlanNegation -> Usage; Fee, RIFee,
  SavingsPlanRecurringFee, SavingsPlanUpfrontFee -> Purchase; Tax -> Tax; Credit, Refund and discounts
  (BundledDiscount, EdpDiscount, SppDiscount, PrivateRateDiscount, DistributorDiscount) -> Credit; anything
  else -> Adjustment. ChargeClass is Correction on Refund rows. ChargeFrequency: Fee and
  SavingsPlanUpfrontFee One-Time, RIFee and SavingsPlanRecurringFee Recurring, else Usage-Based.
- PricingCategory: covered usage (SavingsPlanCoveredUsage, DiscountedUsage) Committed; pricing_term Spot
  Dynamic; other usage Standard.
- savings_plan_savings_plan_a_r_n, else reservation_reservation_a_r_n -> CommitmentDiscountId, with
  CommitmentDiscountType "Savings Plan" / "Reservation", CommitmentDiscountCategory Spend / Usage, and
  CommitmentDiscountStatus Used on covered usage, Unused on the unused rows.
- savings_plan_start_time / _end_time, else reservation_start_time / _end_time -> x_CommitmentStart /
  x_CommitmentEnd; on Savings Plan recurring-fee rows savings_plan_total_commitment_to_date divided by the
  line item's hours -> x_CommitmentHourly (reservations carry no hourly dollar commitment in CUR: null).
- Split cost allocation data (``split_line_item_*``): the rows of Kubernetes pods and ECS tasks on EC2
  nodes (line_item_operation ``EKSPod-EC2`` / ``ECSTask-EC2``) are allocation rows, not charges: the node's
  own EC2 row carries the instance cost, so their BilledCost, EffectiveCost and ListCost are 0 and their
  quantities NULL (totals stay the bill's). Their split columns are kept (split_line_item_parent_resource_id
  -> x_SplitParentResourceId, _split_cost -> x_SplitCost, _unused_cost -> x_SplitUnusedCost, _net_split_cost,
  _net_unused_cost, _split_usage, _split_usage_ratio, _reserved_usage, _actual_usage -> x_Split...), with
  x_ContainerCluster (tag ``aws:eks:cluster-name``, else the cluster of the pod or task ARN) and
  x_ContainerNamespace (tag ``aws:eks:namespace``, else the pod ARN's namespace; for an ECS task the tag
  ``aws:ecs:serviceName``). Fargate rows are the bill itself and stay charges.
- Every commitment with a start time is also upserted into the store's commitment_inventory (id, type,
  offering/term/payment description, hourly commitment, start and end dates, term in years, payment option,
  the account of its fee rows, source "cur2"; "cur-legacy" from a legacy CUR).
"""

from __future__ import annotations

from storage.loader import LoadError, LoadProblem
from storage.sources.cur_columns import COLUMNS, CUR2_ONLY, snake
from storage.sources.cur_columns import REQUIRED as LEGACY_REQUIRED
from storage.sources.files import Mapping
from storage.sources.raw_files import RawFile
from storage.sources.shapes import missing_columns

# The snake_case names, derived from the legacy CUR's slash names (cur_columns), plus CUR 2.0's own columns.
NEEDS: dict[str, str] = {snake(name): kind for name, kind in COLUMNS.items()} | CUR2_ONLY
REQUIRED = tuple(snake(name) for name in LEGACY_REQUIRED)
DISCOUNTS = ("Credit", "Refund", "BundledDiscount", "EdpDiscount", "SppDiscount", "PrivateRateDiscount",
             "DistributorDiscount", "Discount")
TYPE = "t.line_item_line_item_type"
SP_ARN = "t.savings_plan_savings_plan_a_r_n"
RI_ARN = "t.reservation_reservation_a_r_n"
ARN = f"coalesce({SP_ARN}, {RI_ARN})"
HOURS = "greatest(1, datediff('hour', t.line_item_usage_start_date, t.line_item_usage_end_date))"
OP = "t.line_item_operation"
# A pod's or task's split row on an EC2 node: an allocation of the node's cost, never a charge of its own.
POD = f"({OP} IN ('EKSPod-EC2', 'ECSTask-EC2') AND t.split_line_item_parent_resource_id IS NOT NULL)"
SPLIT_COLUMNS = {
    "x_SplitParentResourceId": "split_line_item_parent_resource_id", "x_SplitCost": "split_line_item_split_cost",
    "x_SplitUnusedCost": "split_line_item_unused_cost", "x_SplitNetSplitCost": "split_line_item_net_split_cost",
    "x_SplitNetUnusedCost": "split_line_item_net_unused_cost", "x_SplitUsage": "split_line_item_split_usage",
    "x_SplitUsageRatio": "split_line_item_split_usage_ratio",
    "x_SplitReservedUsage": "split_line_item_reserved_usage", "x_SplitActualUsage": "split_line_item_actual_usage",
}
UNUSED = (f"CASE {TYPE} WHEN 'SavingsPlanRecurringFee' THEN coalesce(t.savings_plan_total_commitment_to_date, 0)"
          " - coalesce(t.savings_plan_used_commitment, 0) WHEN 'RIFee' THEN "
          "coalesce(t.reservation_unused_amortized_upfront_fee_for_billing_period, 0) + "
          "coalesce(t.reservation_unused_recurring_fee, 0) END")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _common() -> dict[str, str]:
    tags_json = "t.resource_tags"
    return {
        "ChargePeriodStart": "t.line_item_usage_start_date",
        "ChargePeriodEnd": "t.line_item_usage_end_date",
        "BillingPeriodStart": "t.bill_billing_period_start_date",
        "BillingPeriodEnd": "t.bill_billing_period_end_date",
        "BillingAccountId": "t.bill_payer_account_id",
        "BillingAccountName": "t.bill_payer_account_name",
        "BillingCurrency": "t.line_item_currency_code",
        "ProviderName": "'AWS'",
        "InvoiceIssuerName": "t.bill_invoicing_entity",
        "PublisherName": "t.line_item_legal_entity",
        "SubAccountId": "t.line_item_usage_account_id",
        "SubAccountName": "t.line_item_usage_account_name",
        "ServiceName": "coalesce(json_extract_string(t.product, '$.product_name'), t.line_item_product_code)",
        "RegionId": "coalesce(t.product_region_code, json_extract_string(t.product, '$.region'))",
        "AvailabilityZone": "t.line_item_availability_zone",
        "SkuId": "t.product_sku",
        "x_UsageType": "t.line_item_usage_type",
        "x_Operation": "t.line_item_operation",
        "x_CostCategories": "t.cost_category",
        # user_team -> team, aws_createdBy -> aws:createdBy (keys only: the pattern anchors on { or ,)
        "Tags": (f"regexp_replace(regexp_replace({tags_json}, '([{{,]\\s*)\"user_', '\\1\"', 'g'), "
                 "'([{,]\\s*)\"aws_', '\\1\"aws:', 'g')"),
        "CommitmentDiscountId": ARN,
        "CommitmentDiscountType": f"CASE WHEN {SP_ARN} IS NOT NULL THEN 'Savings Plan' "
                                  f"WHEN {RI_ARN} IS NOT NULL THEN 'Reservation' END",
        "CommitmentDiscountCategory": f"CASE WHEN {SP_ARN} IS NOT NULL THEN 'Spend' "
                                      f"WHEN {RI_ARN} IS NOT NULL THEN 'Usage' END",
        "x_CommitmentStart": "coalesce(t.savings_plan_start_time, t.reservation_start_time)",
        "x_CommitmentEnd": "coalesce(t.savings_plan_end_time, t.reservation_end_time)",
        "x_CommitmentHourly": f"CASE WHEN {TYPE} = 'SavingsPlanRecurringFee' THEN "
                              f"t.savings_plan_total_commitment_to_date / {HOURS} END",
    }


def _not_pod(expr: str, pod_value: str = "0") -> str:
    return f"CASE WHEN {POD} THEN {pod_value} ELSE {expr} END"


def _line_items() -> dict[str, str]:
    return {
        **_common(),
        "BilledCost": _not_pod("t.line_item_unblended_cost"),
        "EffectiveCost": _not_pod(
            f"CASE {TYPE} WHEN 'SavingsPlanCoveredUsage' THEN t.savings_plan_savings_plan_effective_cost "
            "WHEN 'DiscountedUsage' THEN t.reservation_effective_cost "
            "WHEN 'SavingsPlanNegation' THEN 0 WHEN 'SavingsPlanUpfrontFee' THEN 0 "
            "WHEN 'SavingsPlanRecurringFee' THEN 0 WHEN 'RIFee' THEN 0 "
            f"WHEN 'Fee' THEN CASE WHEN {RI_ARN} IS NOT NULL THEN 0 ELSE t.line_item_unblended_cost END "
            "ELSE t.line_item_unblended_cost END"),
        "ListCost": _not_pod(f"CASE WHEN {TYPE} = 'SavingsPlanNegation' THEN 0 ELSE t.pricing_public_on_demand_cost END"),
        "ChargeCategory": (
            f"CASE WHEN {TYPE} IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation')"
            f" THEN 'Usage' WHEN {TYPE} IN ('Fee', 'RIFee', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee')"
            f" THEN 'Purchase' WHEN {TYPE} = 'Tax' THEN 'Tax' WHEN {TYPE} IN {_in(DISCOUNTS)} THEN 'Credit' "
            f"WHEN {TYPE} IS NULL THEN 'Usage' ELSE 'Adjustment' END"),
        "ChargeClass": f"CASE WHEN {TYPE} = 'Refund' THEN 'Correction' END",
        "ChargeFrequency": (f"CASE WHEN {TYPE} IN ('Fee', 'SavingsPlanUpfrontFee') THEN 'One-Time' "
                            f"WHEN {TYPE} IN ('RIFee', 'SavingsPlanRecurringFee') THEN 'Recurring' "
                            "ELSE 'Usage-Based' END"),
        "PricingCategory": (f"CASE WHEN {TYPE} IN ('SavingsPlanCoveredUsage', 'DiscountedUsage') THEN "
                            "'Committed' WHEN t.pricing_term = 'Spot' THEN 'Dynamic' "
                            f"WHEN {TYPE} IN ('Usage', 'SavingsPlanNegation') OR {TYPE} IS NULL THEN 'Standard'"
                            " END"),
        "CommitmentDiscountStatus": (f"CASE WHEN {TYPE} IN ('SavingsPlanCoveredUsage', 'DiscountedUsage') "
                                     "THEN 'Used' END"),
        "ResourceId": "t.line_item_resource_id",
        "ChargeDescription": "t.line_item_line_item_description",
        "ConsumedQuantity": _not_pod("t.line_item_usage_amount", "NULL"),
        "ConsumedUnit": "t.pricing_unit",
        "PricingQuantity": _not_pod("t.line_item_usage_amount", "NULL"),
        "PricingUnit": "t.pricing_unit",
        **{name: f"t.{col}" for name, col in SPLIT_COLUMNS.items()},
    }


def _tag(tags: str, *keys: str) -> str:
    """The first non-empty value of ``keys`` in the Tags JSON text ``tags``."""
    return "coalesce(" + ", ".join(f"NULLIF(TRIM(json_extract_string({tags}, '$.\"{k}\"')), '')"
                                   for k in keys) + ")"


def container_columns(tags: str) -> dict[str, str]:
    """x_ContainerCluster and x_ContainerNamespace of pod and task rows, from the Tags expression ``tags``
    (the CUR 2.0 map and the Athena delivery spell ``aws:eks:namespace`` as ``aws_eks_namespace``, which the
    tag mapping makes ``aws:eks_namespace``; the slash delivery keeps it) or else from the ARN
    (``arn:aws:eks:REGION:ACCOUNT:pod/CLUSTER/NAMESPACE/POD/UID``, ``...:task/CLUSTER/TASK``)."""
    arn = "t.line_item_resource_id"
    part = lambda i: f"NULLIF(split_part({arn}, '/', {i}), '')"  # noqa: E731 - a one-line SQL helper
    cluster = _tag(tags, "aws:eks:cluster-name", "aws:eks_cluster_name", "aws:ecs:clusterName",
                   "aws:ecs_cluster_name")
    return {
        "x_ContainerCluster": f"CASE WHEN {POD} THEN coalesce({cluster}, {part(2)}) END",
        "x_ContainerNamespace": (f"CASE WHEN {POD} AND {OP} = 'EKSPod-EC2' THEN coalesce("
                                 f"{_tag(tags, 'aws:eks:namespace', 'aws:eks_namespace')}, {part(3)}) "
                                 f"WHEN {POD} THEN {_tag(tags, 'aws:ecs:serviceName', 'aws:ecs_service_name')} END"),
    }


def _unused_rows() -> dict[str, str]:
    return {
        **_common(),
        "BilledCost": "0",
        "EffectiveCost": UNUSED,
        "ListCost": "0",
        "ChargeCategory": "'Usage'",
        "ChargeFrequency": "'Usage-Based'",
        "PricingCategory": "'Committed'",
        "CommitmentDiscountStatus": "'Unused'",
        "ResourceId": ARN,
        "ChargeDescription": "'Unused commitment'",
    }


def commitments_sql(source: str) -> str:
    """The commitment terms of a CUR file as commitment_inventory rows (SELECT over the typed ``t``)."""
    return COMMITMENTS_SQL.replace("{source}", source)


COMMITMENTS_SQL = f"""
SELECT commitment_id, any_value(type) AS type, any_value(description) AS description,
       max(hourly) AS hourly_commitment, CAST(min(s) AS DATE) AS start_date, CAST(max(e) AS DATE) AS end_date,
       CAST(round(datediff('day', min(s), max(e)) / 365.0) AS INTEGER) AS term_years,
       any_value(payment) AS payment_option,
       coalesce(any_value(account) FILTER (WHERE fee), any_value(account)) AS account_id, '{{source}}' AS source
FROM (
  SELECT {ARN} AS commitment_id,
         CASE WHEN {SP_ARN} IS NOT NULL THEN 'Savings Plan' ELSE 'Reservation' END AS type,
         CASE WHEN {SP_ARN} IS NOT NULL THEN concat_ws(', ', t.savings_plan_offering_type || ' Savings Plan',
              t.savings_plan_purchase_term, t.savings_plan_payment_option) ELSE 'Reservation' END AS description,
         CASE WHEN {TYPE} = 'SavingsPlanRecurringFee' THEN t.savings_plan_total_commitment_to_date / {HOURS}
              END AS hourly,
         coalesce(t.savings_plan_start_time, t.reservation_start_time) AS s,
         coalesce(t.savings_plan_end_time, t.reservation_end_time) AS e,
         t.savings_plan_payment_option AS payment, t.line_item_usage_account_id AS account,
         {TYPE} IN ('SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee', 'RIFee', 'Fee') AS fee
  FROM t WHERE {ARN} IS NOT NULL AND coalesce(t.savings_plan_start_time, t.reservation_start_time) IS NOT NULL
) GROUP BY commitment_id
"""


def branches(common: dict[str, str | None] | None = None) -> list[tuple[dict[str, str], str | None]]:
    """The line items and the unused-commitment rows, with ``common`` replacing shared expressions (the legacy
    CUR reads tags, cost categories, the product name and the region from other columns; None leaves a
    column out)."""
    def fit(exprs: dict[str, str]) -> dict[str, str]:
        merged: dict[str, str | None] = {**exprs, **(common or {})}
        return {k: v for k, v in merged.items() if v is not None}

    items = fit(_line_items())
    items.update(container_columns(items.get("Tags", "CAST(NULL AS VARCHAR)")))
    return [(items, None),
            (fit(_unused_rows()), f"{TYPE} IN ('SavingsPlanRecurringFee', 'RIFee') AND ({UNUSED}) <> 0")]


def quiet_split(absent: list[str], present: list[str]) -> list[str]:
    """``absent`` without the split cost allocation columns when the file has none of them (an export
    without split cost allocation data is not missing anything)."""
    if any(c.startswith("split_line_item_") for c in present):
        return absent
    return [c for c in absent if not c.startswith("split_line_item_")]


def pods_sql() -> str:
    """A SELECT over the typed ``t`` counting the pod and task split rows and their unblended cost (which
    is not added to the totals)."""
    return f"SELECT count(*), coalesce(sum(t.line_item_unblended_cost), 0) FROM t WHERE {POD}"


def mapping(raw: RawFile) -> Mapping:
    missing = [c for c in REQUIRED if raw.find(c) is None]
    if missing:
        raise LoadError([LoadProblem(missing_columns(raw.columns, "cur2", missing), raw.name)])
    known = set(NEEDS)
    absent = quiet_split([c for c in NEEDS if raw.find(c) is None], [c for c in NEEDS if raw.find(c) is not None])
    ignored = [c for c in raw.columns if c.lower() not in known]
    has_terms = raw.find("savings_plan_start_time") or raw.find("reservation_start_time")
    return Mapping(format="cur2", needs=dict(NEEDS), branches=branches(), absent=absent, ignored=ignored,
                   commitments_sql=commitments_sql("cur2") if has_terms else None,
                   pods_sql=pods_sql() if raw.find("split_line_item_parent_resource_id") else None)
