"""Savings Plans and Reserved Instances for the AWS sync: daily coverage and utilisation (Cost Explorer),
the Savings Plans purchase recommendation, and the inventory with terms and end dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from storage.sources.aws_client import AwsClients, AwsSyncError, CredentialsError, call, pages
from storage.sources.aws_tables import days_between

HOURS_PER_YEAR = 8760
INVENTORY_COLUMNS = ("commitment_id", "type", "description", "hourly_commitment", "start_date", "end_date",
                     "term_years", "payment_option", "account_id", "source")


def _f(value: Any) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def _pct(value: Any) -> float | None:
    return _f(value)


def fetch_usage(clients: AwsClients, start: date, end: date
                ) -> tuple[list[dict[str, Any]], list[tuple[date, bool]], list[str]]:
    """Daily coverage and utilisation of Savings Plans and RIs. No commitments at all is reported by AWS
    as DataUnavailable; that is a note, not a failure."""
    period = {"Start": start.isoformat(), "End": end.isoformat()}
    rows: list[dict[str, Any]] = []
    notes: list[str] = []

    def add(day: str, program: str, measure: str, num: Any, den: Any, pct: Any, unit: str) -> None:
        rows.append({"day": date.fromisoformat(day[:10]), "program": program, "measure": measure,
                     "numerator": _f(num), "denominator": _f(den), "pct": _pct(pct), "unit": unit})

    def guarded(label: str, fn: Any) -> None:
        try:
            fn()
        except CredentialsError:
            raise
        except AwsSyncError as exc:
            if "has no data for this period" not in str(exc):
                raise
            notes.append(f"{label}: no data (no active commitments?)")

    def sp_coverage() -> None:
        for page in pages(clients, "ce", "GetSavingsPlansCoverage", "NextToken", TimePeriod=period,
                          Granularity="DAILY"):
            for c in page.get("SavingsPlansCoverages", []):
                cov = c.get("Coverage", {})
                add(c["TimePeriod"]["Start"], "savings_plans", "coverage", cov.get("SpendCoveredBySavingsPlans"),
                    cov.get("TotalCost"), cov.get("CoveragePercentage"), "cost")

    def sp_utilization() -> None:
        resp = call(clients, "ce", "GetSavingsPlansUtilization", TimePeriod=period, Granularity="DAILY")
        for u in resp.get("SavingsPlansUtilizationsByTime", []):
            ut = u.get("Utilization", {})
            add(u["TimePeriod"]["Start"], "savings_plans", "utilization", ut.get("UsedCommitment"),
                ut.get("TotalCommitment"), ut.get("UtilizationPercentage"), "cost")

    def ri_coverage() -> None:
        for page in pages(clients, "ce", "GetReservationCoverage", "NextPageToken", TimePeriod=period,
                          Granularity="DAILY"):
            for c in page.get("CoveragesByTime", []):
                hours = c.get("Total", {}).get("CoverageHours", {})
                add(c["TimePeriod"]["Start"], "reservations", "coverage", hours.get("ReservedHours"),
                    hours.get("TotalRunningHours"), hours.get("CoverageHoursPercentage"), "hours")

    def ri_utilization() -> None:
        for page in pages(clients, "ce", "GetReservationUtilization", "NextPageToken", TimePeriod=period,
                          Granularity="DAILY"):
            for u in page.get("UtilizationsByTime", []):
                t = u.get("Total", {})
                add(u["TimePeriod"]["Start"], "reservations", "utilization", t.get("TotalActualHours"),
                    t.get("PurchasedHours"), t.get("UtilizationPercentage"), "hours")

    guarded("Savings Plans coverage", sp_coverage)
    guarded("Savings Plans utilization", sp_utilization)
    guarded("RI coverage", ri_coverage)
    guarded("RI utilization", ri_utilization)
    return rows, [(d, False) for d in days_between(start, end)], notes


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])


def _ri_hourly(r: dict[str, Any], count_key: str) -> float:
    count = int(r.get(count_key) or 1)
    years = max(int(r.get("Duration") or 0) / (HOURS_PER_YEAR * 3600), 1e-9)
    recurring = sum(float(c.get("Amount") or 0) for c in r.get("RecurringCharges", [])
                    if c.get("Frequency") == "Hourly")
    fixed = float(r.get("FixedPrice") or 0) / (years * HOURS_PER_YEAR)
    return round((recurring + float(r.get("UsagePrice") or 0) + fixed) * count, 6)


def fetch_inventory(clients: AwsClients, today: date) -> list[dict[str, Any]]:
    """Active Savings Plans, EC2 RIs (the session's region) and RDS reserved instances."""
    rows: list[dict[str, Any]] = []
    for page in pages(clients, "savingsplans", "DescribeSavingsPlans", "nextToken",
                      states=["active", "queued", "payment-pending"]):
        for sp in page.get("savingsPlans", []):
            rows.append({"commitment_id": sp.get("savingsPlanArn") or sp["savingsPlanId"],
                         "type": f"SavingsPlan:{sp.get('savingsPlanType', '')}",
                         "description": sp.get("description") or sp.get("ec2InstanceFamily"),
                         "hourly_commitment": _f(sp.get("commitment")), "start_date": _date(sp.get("start")),
                         "end_date": _date(sp.get("end")),
                         "term_years": round(int(sp.get("termDurationInSeconds") or 0) / (HOURS_PER_YEAR * 3600)),
                         "payment_option": sp.get("paymentOption"), "account_id": None, "source": "aws-api"})
    ec2 = call(clients, "ec2", "DescribeReservedInstances",
               Filters=[{"Name": "state", "Values": ["active", "payment-pending"]}])
    for r in ec2.get("ReservedInstances", []):
        rows.append({"commitment_id": r["ReservedInstancesId"], "type": "RI:EC2",
                     "description": f"{r.get('InstanceCount', 1)} x {r.get('InstanceType')} "
                                    f"{r.get('ProductDescription', '')}".strip(),
                     "hourly_commitment": _ri_hourly(r, "InstanceCount"), "start_date": _date(r.get("Start")),
                     "end_date": _date(r.get("End")),
                     "term_years": round(int(r.get("Duration") or 0) / (HOURS_PER_YEAR * 3600)),
                     "payment_option": r.get("OfferingType"), "account_id": None, "source": "aws-api"})
    for page in pages(clients, "rds", "DescribeReservedDBInstances", "Marker"):
        for r in page.get("ReservedDBInstances", []):
            if r.get("State") not in (None, "active", "payment-pending"):
                continue
            start = _date(r.get("StartTime"))
            years = int(r.get("Duration") or 0) / (HOURS_PER_YEAR * 3600)
            end = start.replace(year=start.year + round(years)) if start and years else None
            rows.append({"commitment_id": r.get("ReservedDBInstanceArn") or r["ReservedDBInstanceId"],
                         "type": "RI:RDS", "description": f"{r.get('DBInstanceCount', 1)} x "
                                                          f"{r.get('DBInstanceClass')} {r.get('ProductDescription', '')}"
                                                          .strip(),
                         "hourly_commitment": _ri_hourly(r, "DBInstanceCount"), "start_date": start,
                         "end_date": end, "term_years": round(years), "payment_option": r.get("OfferingType"),
                         "account_id": None, "source": "aws-api"})
    return rows


def fetch_recommendations(clients: AwsClients) -> list[dict[str, Any]]:
    """The Compute Savings Plans purchase recommendation, 1 and 3 years, no upfront, 30-day lookback."""
    rows: list[dict[str, Any]] = []
    for term, years in (("ONE_YEAR", 1), ("THREE_YEARS", 3)):
        for page in pages(clients, "ce", "GetSavingsPlansPurchaseRecommendation", "NextPageToken",
                          SavingsPlansType="COMPUTE_SP", TermInYears=term, PaymentOption="NO_UPFRONT",
                          LookbackPeriodInDays="THIRTY_DAYS"):
            meta = page.get("Metadata", {})
            rec = page.get("SavingsPlansPurchaseRecommendation", {})
            summary = rec.get("SavingsPlansPurchaseRecommendationSummary")
            if not summary or any(r["term_years"] == years for r in rows):
                continue
            rows.append({"term_years": years, "payment_option": "NO_UPFRONT", "savings_plans_type": "COMPUTE_SP",
                         "lookback_days": 30, "hourly_commitment": _f(summary.get("HourlyCommitmentToPurchase")),
                         "monthly_savings": _f(summary.get("EstimatedMonthlySavingsAmount")),
                         "savings_pct": _f(summary.get("EstimatedSavingsPercentage")),
                         "roi_pct": _f(summary.get("EstimatedROI")),
                         "current_on_demand_spend": _f(summary.get("CurrentOnDemandSpend")),
                         "currency": summary.get("CurrencyCode"), "recommendation_id": meta.get("RecommendationId"),
                         "generated_at": meta.get("GenerationTimestamp"),
                         "details": str(len(rec.get("SavingsPlansPurchaseRecommendationDetails", [])))})
    return rows


def swap_inventory(store: Any, rows: list[dict[str, Any]]) -> int:
    """Replace the API-sourced rows of ``commitment_inventory`` (other sources are kept) in one transaction."""
    with store.writer() as con:
        con.execute("BEGIN TRANSACTION")
        try:
            ids = [r["commitment_id"] for r in rows]
            con.execute("DELETE FROM commitment_inventory WHERE source = 'aws-api'")
            if ids:
                con.execute("DELETE FROM commitment_inventory WHERE list_contains(?, commitment_id)", [ids])
            for r in rows:
                con.execute(f"INSERT INTO commitment_inventory VALUES ({', '.join('?' * len(INVENTORY_COLUMNS))})",
                            [r.get(c) for c in INVENTORY_COLUMNS])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return len(rows)
