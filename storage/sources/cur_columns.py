"""The AWS Cost and Usage Report columns the importer reads, named once in the legacy CUR's own spelling.

The legacy CUR (CSV/CSV.gz) names its columns ``category/Name`` (``lineItem/UnblendedCost``,
``savingsPlan/SavingsPlanARN``, ``resourceTags/user:team``). Its Athena delivery (Parquet, or CSV) and CUR
2.0 name the same columns in snake_case, derived mechanically: every capital letter starts a word and
everything that is not a letter or a digit separates words, so ``savingsPlan/SavingsPlanARN`` becomes
``savings_plan_savings_plan_a_r_n`` and ``resourceTags/aws:createdBy`` becomes
``resource_tags_aws_created_by``. :func:`snake` is that rule; :data:`COLUMNS` is the one table of the
columns every CUR shape shares, and the CUR 2.0 and legacy mappings take their snake_case names from it.
"""

from __future__ import annotations

import re

# The columns both CUR generations carry, in the legacy data dictionary's spelling, with the kind each is
# read as (storage.sources.files.KINDS).
COLUMNS: dict[str, str] = {
    "lineItem/UsageStartDate": "ts", "lineItem/UsageEndDate": "ts",
    "bill/BillingPeriodStartDate": "period", "bill/BillingPeriodEndDate": "period",
    "bill/PayerAccountId": "text", "bill/InvoicingEntity": "text",
    "lineItem/UsageAccountId": "text", "lineItem/CurrencyCode": "text", "lineItem/LegalEntity": "text",
    "lineItem/LineItemType": "text", "lineItem/LineItemDescription": "text", "lineItem/ProductCode": "text",
    "product/regionCode": "text", "product/sku": "text", "lineItem/AvailabilityZone": "text",
    "lineItem/ResourceId": "text", "lineItem/UsageType": "text", "lineItem/Operation": "text",
    "lineItem/UsageAmount": "num", "pricing/unit": "text", "pricing/term": "text",
    "lineItem/UnblendedCost": "num", "pricing/publicOnDemandCost": "num",
    "savingsPlan/SavingsPlanARN": "text", "savingsPlan/SavingsPlanEffectiveCost": "num",
    "savingsPlan/TotalCommitmentToDate": "num", "savingsPlan/UsedCommitment": "num",
    "savingsPlan/StartTime": "ts", "savingsPlan/EndTime": "ts", "savingsPlan/OfferingType": "text",
    "savingsPlan/PurchaseTerm": "text", "savingsPlan/PaymentOption": "text",
    "reservation/ReservationARN": "text", "reservation/EffectiveCost": "num",
    "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": "num", "reservation/UnusedRecurringFee": "num",
    "reservation/StartTime": "ts", "reservation/EndTime": "ts",
    **{f"splitLineItem/{name}": kind for name, kind in {
        "ParentResourceId": "text", "SplitCost": "num", "UnusedCost": "num", "NetSplitCost": "num",
        "NetUnusedCost": "num", "SplitUsage": "num", "SplitUsageRatio": "num", "ReservedUsage": "num",
        "ActualUsage": "num"}.items()},
}
# The split cost allocation columns (only in an export that includes split cost allocation data): a file
# without any of them is not told they are absent.
SPLIT_PREFIX = "splitLineItem/"
# Only in CUR 2.0: the account names and the four map columns (which the legacy CUR spreads over columns).
CUR2_ONLY: dict[str, str] = {
    "bill_payer_account_name": "text", "line_item_usage_account_name": "text",
    "product": "map", "resource_tags": "tags", "cost_category": "map",
}
# Only in the legacy CUR as columns (CUR 2.0 keeps them in its ``product`` map).
LEGACY_ONLY: dict[str, str] = {"product/ProductName": "text", "product/servicename": "text", "product/region": "text"}
REQUIRED = ("lineItem/UsageStartDate", "lineItem/UnblendedCost")

# Column prefixes of the spread-out maps: (slash prefix, snake prefix, key prefix kept in Tags).
TAG_PREFIXES = (("resourceTags/user:", "resource_tags_user_", ""), ("resourceTags/aws:", "resource_tags_aws_", "aws:"))
COST_CATEGORY_PREFIXES = ("costCategory/", "cost_category_")


def snake(name: str) -> str:
    """The snake_case name AWS derives from a legacy slash name (``lineItem/UsageStartDate`` ->
    ``line_item_usage_start_date``)."""
    spaced = re.sub(r"([A-Z])", r"_\1", name).lower()
    return re.sub(r"[^a-z0-9]+", "_", spaced).strip("_")


def squash(name: str) -> str:
    """A name with case and separators dropped: a slash name, its snake_case form and a re-cased spelling
    (koku's ``savingsPlan/SavingsPlanArn`` for ``SavingsPlanARN``) all squash alike."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def tag_key(column: str) -> str | None:
    """The tag key a legacy tag column holds, or None for other columns: ``resourceTags/user:Team`` ->
    ``Team``, ``resourceTags/aws:createdBy`` -> ``aws:createdBy``, ``resource_tags_user_team`` -> ``team``,
    ``resource_tags_aws_created_by`` -> ``aws:created_by`` (the snake_case delivery lost the key's spelling)."""
    low = column.lower()
    for slash, snake_prefix, keep in TAG_PREFIXES:
        for prefix in (slash, snake_prefix):
            if low.startswith(prefix.lower()) and len(column) > len(prefix):
                return keep + column[len(prefix):]
    return None


def cost_category(column: str) -> str | None:
    """The cost category a legacy ``costCategory/NAME`` (or ``cost_category_name``) column holds."""
    low = column.lower()
    for prefix in COST_CATEGORY_PREFIXES:
        if low.startswith(prefix.lower()) and len(column) > len(prefix):
            return column[len(prefix):]
    return None


def is_spread_map(column: str) -> bool:
    """True for the legacy CUR's tag and cost-category columns (their case matters: ``user:Team`` and
    ``user:team`` are two tags, so two columns)."""
    return tag_key(column) is not None or cost_category(column) is not None
