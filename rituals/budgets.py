"""Budgets and business metrics: CSV imports with row-level errors, listings, and month-to-date status.

A budget is per team per month (an empty team: the whole organisation). Month-to-date spend (the team's
showback total so far) is held against the budget prorated by the days with data; the forecast month-end
against the full budget.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rituals.calendar import add_months
from rituals.showback import month_key, parse_month

if TYPE_CHECKING:
    from storage.home import Home


def read_rows(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[tuple[int, dict]]:
    """(line number, row) from a CSV with a header naming ``required`` (and maybe ``optional``) columns."""
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in (reader.fieldnames or [])]
            missing = [c for c in required if c not in header]
            if missing:
                raise ValueError(f"{path}: missing column(s) {', '.join(missing)} (need {', '.join(required)}"
                                 + (f"[, {', '.join(optional)}]" if optional else "") + ")")
            unknown = [h for h in header if h not in (*required, *optional)]
            if unknown:
                raise ValueError(f"{path}: unknown column(s) {', '.join(unknown)}")
            rows = []
            for row in reader:
                clean = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k is not None}
                if any(clean.values()):
                    rows.append((reader.line_num, clean))
            return rows
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path}: cannot read it as UTF-8 CSV ({exc})") from exc


def _number(path: Path, line: int, field: str, text: str, *, allow_negative: bool = False) -> float:
    try:
        value = float(text.replace(",", "")) if text else float("nan")
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")) or (value < 0 and not allow_negative):
        raise ValueError(f"{path} row {line}: field '{field}' must be a "
                         f"{'' if allow_negative else 'non-negative '}number, got {text!r}")
    return value


def _month(path: Path, line: int, text: str) -> date:
    try:
        return parse_month(text[:7] if len(text) == 10 and text.endswith("-01") else text, "month")
    except ValueError:
        raise ValueError(f"{path} row {line}: field 'month' must be YYYY-MM, got {text!r}") from None


def _team_ids(session: Any) -> dict[str, int]:
    from sqlmodel import select

    from storage.records import Team

    return {t.name: t.id for t in session.exec(select(Team)).all()}


def import_budgets(session: Any, path: Path, source: str = "csv") -> int:
    """Upsert the budgets of a ``team,month,amount`` CSV (every row checked before any is written)."""


    teams = _team_ids(session)
    parsed: dict[tuple[int | None, date], float] = {}
    for line, row in read_rows(path, ("team", "month", "amount")):
        name = row["team"]
        if name and name not in teams:
            raise ValueError(f"{path} row {line}: field 'team' names no team: {name!r} (see finops-tui teams list)")
        key = (teams[name] if name else None, _month(path, line, row["month"]))
        if key in parsed:
            raise ValueError(f"{path} row {line}: a second budget for {name or 'the organisation'} in "
                             f"{month_key(key[1])}")
        parsed[key] = _number(path, line, "amount", row["amount"])
    for (team_id, month), amount in parsed.items():
        _upsert_budget(session, team_id, month, amount, source)
    return len(parsed)


def import_metrics(session: Any, path: Path, source: str = "csv") -> int:
    """Upsert the business metrics of a ``month,metric,value[,team]`` CSV."""


    teams = _team_ids(session)
    parsed: dict[tuple[date, str, int | None], float] = {}
    for line, row in read_rows(path, ("month", "metric", "value"), ("team",)):
        month = _month(path, line, row["month"])
        metric = row["metric"]
        if not metric:
            raise ValueError(f"{path} row {line}: field 'metric' is empty")
        name = row.get("team", "")
        if name and name not in teams:
            raise ValueError(f"{path} row {line}: field 'team' names no team: {name!r} (see finops-tui teams list)")
        key = (month, metric, teams[name] if name else None)
        if key in parsed:
            raise ValueError(f"{path} row {line}: a second value of {metric} for {month_key(month)}")
        parsed[key] = _number(path, line, "value", row["value"])
    for (month, metric, team_id), value in parsed.items():
        _upsert_metric(session, month, metric, team_id, value, source)
    return len(parsed)


def _upsert_budget(session: Any, team_id: int | None, month: date, amount: float, source: str) -> None:
    from sqlmodel import select

    from storage.records import Budget

    found = session.exec(select(Budget).where(Budget.team_id == team_id, Budget.month == month)).first()
    budget = found or Budget(team_id=team_id, month=month, amount=amount)
    budget.amount, budget.source = amount, source
    session.add(budget)


def _upsert_metric(session: Any, month: date, metric: str, team_id: int | None, value: float, source: str) -> None:
    from sqlmodel import select

    from storage.records import BusinessMetric

    found = session.exec(select(BusinessMetric).where(BusinessMetric.month == month, BusinessMetric.metric == metric,
                                                      BusinessMetric.team_id == team_id)).first()
    row = found or BusinessMetric(month=month, metric=metric, value=value, team_id=team_id)
    row.value, row.source = value, source
    session.add(row)


def _typed(field: str, text: str, *, allow_negative: bool = False) -> float:
    try:
        value = float(text.replace(",", "").strip())
    except ValueError:
        raise ValueError(f"{field} must be a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")) or (value < 0 and not allow_negative):
        raise ValueError(f"{field} must be a finite number of at least 0, got {text!r}")
    return value


def _typed_month(text: str) -> date:
    try:
        return parse_month(text.strip(), "month")
    except ValueError:
        raise ValueError(f"month must be YYYY-MM, got {text!r}") from None


def set_budget(session: Any, team: str | None, month: str, amount: str, source: str = "typed") -> dict[str, Any]:
    """A budget typed in by a person (team None or empty: the organisation); raises ValueError naming the
    field that is wrong."""
    teams = _team_ids(session)
    if team and team not in teams:
        raise ValueError(f"team names no team: {team!r}")
    first, value = _typed_month(month), _typed("amount", amount)
    _upsert_budget(session, teams[team] if team else None, first, value, source)
    return {"month": month_key(first), "team": team or None, "amount": value, "source": source}


def set_metric(session: Any, month: str, metric: str, value: str, team: str | None = None,
               source: str = "typed") -> dict[str, Any]:
    """A business metric value typed in by a person; raises ValueError naming the field that is wrong."""
    teams = _team_ids(session)
    if not metric.strip():
        raise ValueError("metric must not be empty")
    if team and team not in teams:
        raise ValueError(f"team names no team: {team!r}")
    first, number = _typed_month(month), _typed("value", value)
    _upsert_metric(session, first, metric.strip(), teams[team] if team else None, number, source)
    return {"month": month_key(first), "metric": metric.strip(), "value": number, "team": team or None,
            "source": source}


def import_aws_budgets(session: Any, store: Any) -> dict[str, list[str]]:
    """Budgets synced from AWS Budgets (the cost store's ``aws_budgets``) into the records: a monthly cost
    budget named like a team (case and white space aside) becomes that team's budget for its current
    month; one named like the organisation ("total", "organization", "organisation", "all") becomes the
    organisation's. Others are skipped and named, so a user can rename them in AWS."""
    teams = {name.strip().lower(): name for name in _team_ids(session)}
    done: list[str] = []
    skipped: list[str] = []
    from storage.cost_queries import aws_budgets

    frame = aws_budgets(store)
    for row in ([] if frame is None else frame.to_dict("records")):
        name = str(row["name"])
        key = name.strip().lower()
        if row.get("budget_type") != "COST" or row.get("time_unit") != "MONTHLY" or row.get("period_start") is None:
            skipped.append(f"{name}: not a monthly cost budget")
            continue
        if key in teams:
            team = teams[key]
        elif key in ("total", "organization", "organisation", "all"):
            team = None
        else:
            skipped.append(f"{name}: names no team")
            continue
        start = row["period_start"]
        month = date(start.year, start.month, 1)
        _upsert_budget(session, _team_ids(session)[team] if team else None, month, float(row["limit_amount"]), "aws")
        done.append(f"{team or 'organisation'} {month_key(month)}")
    return {"imported": done, "skipped": skipped}


def list_budgets(session: Any) -> list[dict[str, Any]]:
    from sqlmodel import col, select

    from storage.records import Budget, Team

    rows = session.exec(select(Budget, Team.name).join(Team, col(Team.id) == Budget.team_id, isouter=True)
                        .order_by(col(Budget.month), col(Team.name))).all()
    return [{"month": month_key(b.month), "team": name, "amount": b.amount, "source": b.source} for b, name in rows]


def list_metrics(session: Any) -> list[dict[str, Any]]:
    from sqlmodel import col, select

    from storage.records import BusinessMetric, Team

    rows = session.exec(select(BusinessMetric, Team.name)
                        .join(Team, col(Team.id) == BusinessMetric.team_id, isouter=True)
                        .order_by(col(BusinessMetric.month), col(BusinessMetric.metric))).all()
    return [{"month": month_key(m.month), "metric": m.metric, "value": m.value, "team": name, "source": m.source}
            for m, name in rows]


# -- month-to-date status ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class BudgetLine:
    team: str | None  # None: the organisation
    budget: float | None
    mtd: float
    prorated_budget: float | None
    forecast_month_end: float | None

    @property
    def mtd_vs_prorated_pct(self) -> float | None:
        if not self.prorated_budget:
            return None
        return self.mtd / self.prorated_budget * 100

    @property
    def forecast_vs_budget_pct(self) -> float | None:
        if not self.budget or self.forecast_month_end is None:
            return None
        return self.forecast_month_end / self.budget * 100

    def as_dict(self) -> dict[str, Any]:
        r = (lambda v: None if v is None else round(v, 2))  # noqa: E731
        return {"team": self.team, "budget": r(self.budget), "mtd": r(self.mtd),
                "prorated_budget": r(self.prorated_budget), "mtd_vs_prorated_pct": r(self.mtd_vs_prorated_pct),
                "forecast_month_end": r(self.forecast_month_end),
                "forecast_vs_budget_pct": r(self.forecast_vs_budget_pct)}


def prorate(amount: float, month: date, days_elapsed: int) -> float:
    """The part of a monthly budget for the first ``days_elapsed`` days of ``month``."""
    days = (add_months(month, 1) - month).days
    return amount * max(0, min(days_elapsed, days)) / days


def budget_lines(budgets: dict[str | None, float], mtd: dict[str | None, float],
                 forecasts: dict[str | None, float], month: date, days_elapsed: int) -> list[BudgetLine]:
    """Pure: one line per team with a budget or spend; ``None`` keys are the organisation."""
    names = list(dict.fromkeys([*budgets, *mtd]))
    out = []
    for name in names:
        b = budgets.get(name)
        out.append(BudgetLine(name, b, mtd.get(name, 0.0), None if b is None else prorate(b, month, days_elapsed),
                              forecasts.get(name)))
    out.sort(key=lambda x: (x.team is not None, x.team or ""))
    return out


def budget_status(home: Home, *, with_forecast: bool = True) -> dict[str, Any]:
    """The current month: month-to-date vs prorated budget, forecast month-end vs full budget."""
    from rituals.forecast import budgets_for, make_forecast
    from rituals.showback import showback

    today = home.clock.today()
    month = today.replace(day=1)
    last = home.costs.info().last_day
    data_end = min(today, last + timedelta(days=1)) if last else month
    elapsed = max(0, (data_end - month).days)
    sb = showback(home, month)
    mtd: dict[str | None, float] = {t.team: t.total for t in sb.teams}
    mtd[None] = sb.total
    team_budgets, org = budgets_for(home.records, month)
    budgets: dict[str | None, float] = dict(team_budgets)
    if org is not None:
        budgets[None] = org
    forecasts: dict[str | None, float] = {}
    if with_forecast and elapsed > 0 and last is not None:
        fc = make_forecast(home, month, paths=200)
        forecasts = {t.team: t.forecast for t in fc.teams}
        forecasts[None] = fc.total.forecast
    lines = budget_lines(budgets, mtd, forecasts, month, elapsed)
    return {"month": month_key(month), "currency": sb.currency, "days_elapsed": elapsed,
            "days_in_month": (add_months(month, 1) - month).days, "teams": [x.as_dict() for x in lines]}
