"""The sync's ``optimization`` data set: Cost Optimization Hub's recommendations (``ListRecommendations``,
served from us-east-1 only) and Compute Optimizer's idle recommendations (``GetIdleRecommendations``),
stored in ``optimization_recommendations`` one source at a time (fetched completely, then swapped in).

Both APIs are free; their requests are counted like every other. Neither works before the account (the
organisation's management account, for all members) is enrolled: that is said with the command to enrol.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from storage.sources.aws_client import AwsClients, AwsSyncError, call, pages

if TYPE_CHECKING:
    from storage.costs import CostStore

HUB = "cost-optimization-hub"
OPTIMIZER = "compute-optimizer"
HUB_ENROL = (f"Cost Optimization Hub is not enabled for this account: enrol it with `aws {HUB} "
             "update-enrollment-status --status Active --include-member-accounts` (from the management "
             "account), then sync again once it has produced recommendations (up to 24 hours)")
OPTIMIZER_ENROL = (f"Compute Optimizer is not enabled for this account: enrol it with `aws {OPTIMIZER} "
                   "update-enrollment-status --status Active --include-member-accounts`")
# Compute Optimizer's idle resource types -> the action its finding asks for.
IDLE_ACTIONS = {"EC2Instance": "Stop", "RDSDBInstance": "Stop", "AutoScalingGroup": "ScaleIn"}


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _at(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return _text(value)


def _hub_enrolled(clients: AwsClients) -> bool:
    page = call(clients, HUB, "ListEnrollmentStatuses")
    return any(i.get("status") == "Active" for i in page.get("items", []))


def fetch_hub(clients: AwsClients, fetched_at: datetime) -> list[dict[str, Any]]:
    """Every Cost Optimization Hub recommendation (purchases included), as ``optimization_recommendations``
    rows."""
    if not _hub_enrolled(clients):
        raise AwsSyncError(HUB_ENROL)
    at = fetched_at.astimezone(UTC).replace(tzinfo=None)
    rows = []
    try:
        for page in pages(clients, HUB, "ListRecommendations", "nextToken", maxResults=1000):
            for r in page.get("items", []):
                arn = _text(r.get("resourceArn"))
                rows.append({
                    "source": "cost_optimization_hub", "recommendation_id": r.get("recommendationId"),
                    "action_type": r.get("actionType"), "resource_id": _text(r.get("resourceId")) or arn,
                    "resource_arn": arn, "account_id": _text(r.get("accountId")), "region": _text(r.get("region")),
                    "resource_type": _text(r.get("currentResourceType")),
                    "estimated_monthly_savings": float(r.get("estimatedMonthlySavings") or 0.0),
                    "estimated_monthly_cost": r.get("estimatedMonthlyCost"),
                    "currency": _text(r.get("currencyCode")) or "USD", "effort": _text(r.get("implementationEffort")),
                    "restart_needed": r.get("restartNeeded"), "rollback_possible": r.get("rollbackPossible"),
                    "current_summary": _text(r.get("currentResourceSummary")),
                    "recommended_summary": _text(r.get("recommendedResourceSummary")),
                    "last_refresh": _at(r.get("lastRefreshTimestamp")),
                    "lookback_days": r.get("recommendationLookbackPeriodInDays"), "fetched_at": at,
                    "origin": f"{HUB}:ListRecommendations"})
    except AwsSyncError as exc:
        if "enrol" in str(exc).lower() or "enroll" in str(exc).lower():
            raise AwsSyncError(HUB_ENROL) from exc
        raise
    return [r for r in rows if r["resource_id"] and r["action_type"]]


def fetch_idle(clients: AwsClients, fetched_at: datetime) -> list[dict[str, Any]]:
    """Compute Optimizer's idle recommendations, as ``optimization_recommendations`` rows."""
    at = fetched_at.astimezone(UTC).replace(tzinfo=None)
    rows = []
    try:
        for page in pages(clients, OPTIMIZER, "GetIdleRecommendations", "nextToken", maxResults=1000):
            for r in page.get("idleRecommendations", []):
                saving = (r.get("savingsOpportunityAfterDiscounts") or r.get("savingsOpportunity") or {})
                monthly = saving.get("estimatedMonthlySavings") or {}
                arn = _text(r.get("resourceArn"))
                rtype = _text(r.get("resourceType"))
                rows.append({
                    "source": "compute_optimizer", "recommendation_id": arn, "action_type":
                    IDLE_ACTIONS.get(rtype or "", "Delete"), "resource_id": _text(r.get("resourceId")) or arn,
                    "resource_arn": arn, "account_id": _text(r.get("accountId")),
                    "region": arn.split(":")[3] if arn and arn.count(":") >= 4 else None, "resource_type": rtype,
                    "estimated_monthly_savings": float(monthly.get("value") or 0.0), "estimated_monthly_cost": None,
                    "currency": _text(monthly.get("currency")) or "USD", "effort": None, "restart_needed": None,
                    "rollback_possible": None, "current_summary": _text(r.get("findingDescription")),
                    "recommended_summary": _text(r.get("finding")), "last_refresh": _at(r.get("lastRefreshTimestamp")),
                    "lookback_days": int(r["lookBackPeriodInDays"]) if r.get("lookBackPeriodInDays") else None,
                    "fetched_at": at, "origin": f"{OPTIMIZER}:GetIdleRecommendations"})
    except AwsSyncError as exc:
        if "OptInRequired" in str(exc):
            raise AwsSyncError(OPTIMIZER_ENROL) from exc
        raise
    return [r for r in rows if r["resource_id"]]


def sync_optimization(clients: AwsClients, store: CostStore, fetched_at: datetime) -> tuple[int, str | None]:
    """Both sources, each swapped in on its own: one that cannot be read keeps its last rows and is named in
    the note; both failing fails the data set."""
    from storage.sources.aws_tables import swap

    landed, problems = 0, []
    for source, fetch in (("cost_optimization_hub", fetch_hub), ("compute_optimizer", fetch_idle)):
        try:
            rows = fetch(clients, fetched_at)
        except AwsSyncError as exc:
            if exc.fatal:
                raise
            problems.append(str(exc))
            continue
        landed += swap(store, "optimization_recommendations", rows, where="source = ?", params=[source],
                       meta={f"optimization_synced_at:{source}": fetched_at.astimezone(UTC).isoformat()})
    if len(problems) == 2:
        raise AwsSyncError("; ".join(problems))
    return landed, "; ".join(problems) or None
