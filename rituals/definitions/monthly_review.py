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
    anomalies: int
    payload: JsonObject

    @classmethod
    def from_agenda(cls, agenda: object) -> MonthlyFindings:
        d = plain_json(agenda)
        total = get_obj(get_obj(d.get("spend")).get("total"))
        opened = get_obj(d.get("actions")).get("open")
        return cls(str(d["month"]), str(d["currency"]), number(total.get("spend")), number(total.get("budget")),
                   number(total.get("forecast")), len(opened) if isinstance(opened, list) else 0,
                   int(number(get_obj(d.get("anomalies")).get("count")) or 0), d)

    def as_json(self) -> JsonObject:
        return self.payload

    def headlines(self) -> list[Headline]:
        return headlines(self.payload)


def headlines(numbers: JsonObject) -> list[Headline]:
    """The month's spend against its budget and forecast, the actions carried and the anomalies."""
    currency = str(numbers.get("currency") or "")
    total = get_obj(get_obj(numbers.get("spend")).get("total"))
    opened = get_obj(numbers.get("actions")).get("open")
    cases = number(get_obj(numbers.get("anomalies")).get("count"))
    return [Headline("spend", "Spend", number(total.get("spend")), "money", currency=currency),
            Headline("budget", "Budget", number(total.get("budget")), "money", currency=currency),
            Headline("forecast", "Forecast", number(total.get("forecast")), "money", currency=currency),
            Headline("open_actions", "Open actions carried", len(opened) if isinstance(opened, list) else None,
                     "count"),
            Headline("anomalies", "Anomaly cases since the last review", int(cases) if cases is not None else None,
                     "count")]


def compute(home: Home, request: Request) -> MonthlyFindings:
    from rituals.monthly_review import build_agenda

    detect = request.options.get("detect", True)
    return MonthlyFindings.from_agenda(build_agenda(home, request.window[0], run_id=request.run_id,
                                                    detect_anomalies=bool(detect)))


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
