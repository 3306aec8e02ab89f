"""The smaller AWS data sets: the cost forecast, Cost Anomaly Detection (and its feedback), and Budgets."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from storage.sources.aws_client import AwsClients, RequestLedger, call, pages
from storage.sources.aws_tables import create_tables, record_requests

if TYPE_CHECKING:
    from storage.costs import CostStore

FEEDBACK = ("YES", "NO", "PLANNED_ACTIVITY")


def _amount(metric: dict[str, Any] | None) -> float | None:
    return float(metric["Amount"]) if metric and metric.get("Amount") not in (None, "") else None


def _day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    return value.date() if isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def _month_after(day: date, n: int) -> date:
    y, m = divmod(day.month - 1 + n, 12)
    return date(day.year + y, m + 1, 1)


def fetch_forecast(clients: AwsClients, today: date, currency: str = "USD") -> list[dict[str, Any]]:
    """Amortised cost forecast per month, from today to the end of the third month ahead, 80% interval."""
    resp = call(clients, "ce", "GetCostForecast",
                TimePeriod={"Start": today.isoformat(), "End": _month_after(today, 3).isoformat()},
                Metric="AMORTIZED_COST", Granularity="MONTHLY", PredictionIntervalLevel=80)
    unit = resp.get("Total", {}).get("Unit", currency)
    return [{"month": date.fromisoformat(r["TimePeriod"]["Start"]).replace(day=1), "mean": float(r["MeanValue"]),
             "lower_bound": float(r["PredictionIntervalLowerBound"]) if r.get("PredictionIntervalLowerBound") else None,
             "upper_bound": float(r["PredictionIntervalUpperBound"]) if r.get("PredictionIntervalUpperBound") else None,
             "interval_pct": 80, "metric": "AMORTIZED_COST", "currency": unit, "generated_on": today}
            for r in resp.get("ForecastResultsByTime", [])]


def fetch_anomalies(clients: AwsClients, today: date) -> list[dict[str, Any]]:
    """Anomalies of the last 90 days with impact, scores, monitor and root causes (JSON)."""
    rows = []
    for page in pages(clients, "ce", "GetAnomalies", "NextPageToken",
                      DateInterval={"StartDate": (today - timedelta(days=90)).isoformat(),
                                    "EndDate": today.isoformat()}):
        for a in page.get("Anomalies", []):
            imp, score = a.get("Impact", {}), a.get("AnomalyScore", {})
            rows.append({
                "anomaly_id": a["AnomalyId"], "start_date": _day(a.get("AnomalyStartDate")),
                "end_date": _day(a.get("AnomalyEndDate")), "monitor_arn": a.get("MonitorArn"),
                "dimension_value": a.get("DimensionValue"), "max_impact": imp.get("MaxImpact"),
                "total_impact": imp.get("TotalImpact"), "total_actual": imp.get("TotalActualSpend"),
                "total_expected": imp.get("TotalExpectedSpend"), "impact_pct": imp.get("TotalImpactPercentage"),
                "max_score": score.get("MaxScore"), "current_score": score.get("CurrentScore"),
                "feedback": a.get("Feedback"), "root_causes": json.dumps(a.get("RootCauses", []))})
    return rows


def fetch_budgets(clients: AwsClients, account_id: str) -> list[dict[str, Any]]:
    rows = []
    for page in pages(clients, "budgets", "DescribeBudgets", "NextToken", AccountId=account_id):
        for b in page.get("Budgets", []):
            spend, limit, period = b.get("CalculatedSpend", {}), b.get("BudgetLimit", {}), b.get("TimePeriod", {})
            rows.append({"name": b["BudgetName"], "budget_type": b.get("BudgetType"), "time_unit": b.get("TimeUnit"),
                         "limit_amount": _amount(limit), "actual_spend": _amount(spend.get("ActualSpend")),
                         "forecast_spend": _amount(spend.get("ForecastedSpend")), "currency": limit.get("Unit"),
                         "period_start": _day(period.get("Start")), "period_end": _day(period.get("End"))})
    return rows


def send_anomaly_feedback(anomaly_id: str, feedback: str, *, store: CostStore | None = None,
                          clients: AwsClients | None = None, profile: str | None = None,
                          endpoint_url: str | None = None,
                          now: Callable[[], datetime] | None = None) -> RequestLedger:
    """Tell Cost Anomaly Detection whether an anomaly was real (YES), not (NO) or planned
    (PLANNED_ACTIVITY); record it on the stored anomaly and in the request ledger (stamped by ``now``,
    the home's clock, when given)."""
    feedback = feedback.upper()
    if feedback not in FEEDBACK:
        raise ValueError(f"feedback must be one of {', '.join(FEEDBACK)}, got {feedback!r}")
    clients = clients or AwsClients(profile=profile, endpoint_url=endpoint_url)
    if now is not None:
        clients.ledger.now = now
    if store is not None:
        clients.ledger.sink = lambda c: record_requests(store, [c])  # written down as the answer returns
    call(clients, "ce", "ProvideAnomalyFeedback", AnomalyId=anomaly_id, Feedback=feedback)
    if store is not None:
        with store.writer() as con:
            create_tables(con)
            con.execute("UPDATE aws_anomalies SET feedback = ? WHERE anomaly_id = ?", [feedback, anomaly_id])
    return clients.ledger
