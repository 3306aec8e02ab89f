"""The monthly cost review: actions carried from earlier reviews, spend against budget and forecast with
its drivers, showback, unit economics, anomalies since the last review, allocation and commitment
coverage, and proposed actions with owners from the RACI (``rituals.monthly_review``). Headless:
``finops-tui agenda monthly``; a run freezes exactly its ``--json`` object, and its close stores next
month's forecast in the ledger in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rituals.ritual import (
    CloseInput,
    Headline,
    JsonObject,
    Request,
    Ritual,
    StepDef,
    get_obj,
    number,
    period_window,
    plain_json,
)

if TYPE_CHECKING:
    from sqlmodel import Session

    from storage.home import Home
    from storage.records import RitualRun


@dataclass(frozen=True)
class MonthlyFindings:
    month: str
    currency: str
    spend: float | None
    budget: float | None
    forecast: float | None
    open_actions: int
    anomalies: int  # anomaly events (an event is the unit of impact; cases are its detail)
    payload: JsonObject

    @classmethod
    def from_agenda(cls, agenda: object) -> MonthlyFindings:
        d = plain_json(agenda)
        total = get_obj(get_obj(d.get("spend")).get("total"))
        opened = get_obj(d.get("actions")).get("open")
        return cls(str(d["month"]), str(d["currency"]), number(total.get("spend")), number(total.get("budget")),
                   number(total.get("forecast")), len(opened) if isinstance(opened, list) else 0,
                   int(number(get_obj(d.get("anomalies")).get("events")) or 0), d)

    def as_json(self) -> JsonObject:
        return self.payload

    def headlines(self) -> list[Headline]:
        return headlines(self.payload)


def headlines(numbers: JsonObject) -> list[Headline]:
    """The month's spend against its budget and forecast, the actions carried and the anomalies."""
    currency = str(numbers.get("currency") or "")
    total = get_obj(get_obj(numbers.get("spend")).get("total"))
    opened = get_obj(numbers.get("actions")).get("open")
    anomalies = get_obj(numbers.get("anomalies"))
    # Agendas frozen before events were counted hold only cases and their (inflated) sum: no headline then.
    events = number(anomalies.get("events"))
    impact = number(anomalies.get("impact")) if events is not None else None
    # A month not over yet is month to date, against its budget pro-rated to the complete days.
    to_date = get_obj(numbers.get("spend")).get("month_to_date") is True
    budget = number(total.get("budget_to_date")) if to_date else number(total.get("budget"))
    return [Headline("spend", "Spend (month to date)" if to_date else "Spend", number(total.get("spend")), "money",
                     currency=currency),
            Headline("budget", "Budget (pro-rated to date)" if to_date else "Budget", budget, "money",
                     currency=currency),
            Headline("forecast", "Forecast", number(total.get("forecast")), "money", currency=currency),
            Headline("open_actions", "Open actions carried", len(opened) if isinstance(opened, list) else None,
                     "count"),
            Headline("anomalies", "Anomaly events since the last review",
                     int(events) if events is not None else None, "count"),
            Headline("anomaly_impact", "Anomaly impact", impact, "money", currency=currency)]


def compute(home: Home, request: Request) -> MonthlyFindings:
    from rituals.monthly_review import build_agenda

    detect = request.options.get("detect", True)
    return MonthlyFindings.from_agenda(build_agenda(home, request.window[0], run_id=request.run_id,
                                                    detect_anomalies=bool(detect), progress=request.progress))


def prepare_close(home: Home, run: RitualRun, findings: object) -> object:
    """Next month's forecast, modelled before the close transaction opens (it reads the cost store)."""
    from rituals.calendar import month_period
    from rituals.forecast import make_forecast
    from rituals.monthly_review import forecast_month_after, parse_month

    target = forecast_month_after(home, parse_month(run.period, "period"))
    try:
        return make_forecast(home, target)
    except ValueError as exc:
        return {"stored": False, "month": month_period(target), "reason": str(exc)}


def close_extras(session: Session, close: CloseInput) -> JsonObject:
    from rituals.forecast import Forecast, store_forecast_in

    fc = close.prepared
    if not isinstance(fc, Forecast):
        return plain_json(fc)
    ids = store_forecast_in(session, fc)
    return plain_json({"stored": True, "month": fc.month, "forecast": fc.total.forecast, "snapshot_ids": ids,
                       "currency": fc.currency})


KIND = "monthly_review"
RITUAL = Ritual(
    kind=KIND, title="Monthly cost review", cadence="monthly, fixed date",
    owner="FinOps lead runs; all attend", output="spend vs budget vs forecast, an action log", period_shape="M",
    reviews_ended_period=True,
    steps=(StepDef("actions", "Actions from earlier reviews"), StepDef("spend", "Spend against budget and forecast"),
           StepDef("showback", "Showback per team"), StepDef("unit_economics", "Unit economics"),
           StepDef("anomalies", "Anomalies since the last review"),
           StepDef("coverage", "Allocation and commitment coverage")),
    command="finops-tui agenda monthly", window=period_window, compute=compute, headlines=headlines,
    prepare_close=prepare_close, close_extras=close_extras,
    close_detail="A closed run is read-only. A forecast for next month is stored in the ledger.",
)
