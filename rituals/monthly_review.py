"""The monthly cost review's agenda, written from the data so preparing the meeting costs nothing.

``build_agenda(home, month)`` returns one JSON object (the headless ``agenda monthly --json``, and the
numbers frozen when the review closes) with the seven items of the meeting:

1. ``actions``: the action log carried from earlier reviews (``rituals.review_actions``);
2. ``spend``: spend against budget against forecast (the ledger's, per team and in total), the
   month-over-month drivers (top movers by team x service, teams by ``rituals.allocation``'s one
   definition) and the forecast accuracy of the month; a month not over yet is month to date against the
   same days of the month before and the pro-rated budget (``month_status``, ``rituals.review_month``);
3. ``showback`` and 4. ``unit_economics`` from ``rituals.showback`` / ``rituals.unit_economics``;
5. ``anomalies`` since the last review (detected now, as ``finops-tui anomalies`` does): events (the unit
   of impact) with their cases as detail, status, owner and TTD/TTR;
6. ``coverage``: allocation and commitment coverage measured over the month (``rituals.review_month``),
   with the latest closed sweep and commitment review for context;
7. ``decisions``: proposed actions with an owner from the RACI and a due date (the next review).

Each item is computed on its own: a module that is missing or fails gives ``{"available": false,
"reason": ...}`` for that item, never a failed agenda.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from rituals.calendar import add_months, month_period
from rituals.definitions.monthly_review import KIND as MONTHLY_REVIEW
from rituals.review_month import MonthProgress, coverage_item
from rituals.wording import counted

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from storage.home import Home

TREND_MONTHS = 6
TOP_DRIVERS = 8
OVER_BUDGET_PCT = 105.0  # a team above this share of its budget gets a proposed action
UNALLOCATED = "(unallocated)"
ALL_SERVICES = "(all services)"  # the service of a team's spend when only the AWS sync's tag costs tell teams
FORECAST_BANDS = (("run", 12.0), ("walk", 15.0), ("crawl", 20.0))  # FINOPS-MODEL.md, forecast accuracy


def parse_month(text: str, what: str = "--month") -> date:
    """``YYYY-MM`` -> its first day, or a ValueError naming ``what``."""
    raw = (text or "").strip()
    try:
        year, month = raw.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValueError(f"{what} must be a month YYYY-MM, got {text!r}") from None


def default_month(today: date) -> date:
    """The last complete month (the month before today's)."""
    return add_months(today.replace(day=1), -1)


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def pct_change(new: float | None, old: float | None) -> float | None:
    if new is None or old is None or old == 0:
        return None
    return round((new - old) / abs(old) * 100.0, 1)


def unavailable(reason: str) -> dict[str, Any]:
    return {"available": False, "reason": reason}


def _guard(what: str, compute: Any) -> dict[str, Any]:
    """Run one agenda item; a missing module or a failure becomes a clear "not available" item."""
    try:
        out = compute()
    except ModuleNotFoundError as exc:
        return unavailable(f"{what} is not available in this version ({exc.name} is not installed)")
    except (ImportError, AttributeError) as exc:
        return unavailable(f"{what} is not available in this version ({exc})")
    except Exception as exc:  # one item failing must not take the meeting down
        return unavailable(f"{what} could not be computed: {exc}")
    return {"available": True, **out}


# -- item 2: spend, budget, forecast, drivers ---------------------------------------------------------------
def monthly_team_service(home: Home, first: date, end: date) -> pd.DataFrame:
    """Spend (EffectiveCost, every charge category) per month, team and service for ``first <= day < end``;
    team is the allocation value (tag, else rule), None when unallocated. With AWS sync data only (no line
    item of the range carries Tags) the teams come from the sync's tag costs, which know no services: each
    team's spend is one row with the service ``ALL_SERVICES``."""
    from rituals.allocation import account_teams_from_records
    from storage.cost_queries import team_service_months

    frame = team_service_months(home.costs, account_teams_from_records(home.records), first, end)
    # None: spend from the AWS sync's tag costs, which know no services.
    frame["service"] = frame["service"].where(frame["service"].notna(), ALL_SERVICES)
    return frame


def drivers(frame: pd.DataFrame, month: date, previous: date, top: int = TOP_DRIVERS) -> list[dict[str, Any]]:
    """Top movers by team x service from ``previous`` to ``month``, largest absolute change first."""
    rows: dict[tuple[str, str], list[float]] = {}
    for r in frame.itertuples(index=False):
        if r.month not in (month, previous):
            continue
        team = r.team if isinstance(r.team, str) and r.team else UNALLOCATED
        pair = rows.setdefault((team, r.service), [0.0, 0.0])
        pair[0 if r.month == previous else 1] += float(r.cost)
    movers = [{"team": t, "service": s, "previous_spend": _r(p), "spend": _r(c), "change": _r(c - p),
               "change_pct": pct_change(c, p)} for (t, s), (p, c) in rows.items() if round(c - p, 2) != 0]
    movers.sort(key=lambda m: (-abs(m["change"]), m["team"], m["service"]))
    return movers[:top]


def _team_totals(frame: pd.DataFrame, month: date) -> dict[str, float]:
    out: dict[str, float] = {}
    for r in frame.itertuples(index=False):
        if r.month == month:
            team = r.team if isinstance(r.team, str) and r.team else UNALLOCATED
            out[team] = out.get(team, 0.0) + float(r.cost)
    return out


def budgets(records: Any, month: date) -> tuple[dict[str, float], float | None]:
    """Team -> budget of ``month``, and the organisation's (its own row, else the sum of the teams')."""
    from sqlmodel import col, select

    from storage.records import Budget, Team

    with records.session() as s:
        rows = s.exec(select(Budget, Team.name).join(Team, col(Team.id) == Budget.team_id, isouter=True)
                      .where(Budget.month == month)).all()
    teams = {name: float(b.amount) for b, name in rows if name is not None}
    org = next((float(b.amount) for b, name in rows if name is None), None)
    return teams, org if org is not None else (sum(teams.values()) if teams else None)


def forecast_band(variance: float | None) -> str | None:
    if variance is None:
        return None
    return next((name for name, limit in FORECAST_BANDS if variance <= limit), "outside")


def stored_forecasts(records: Any, month: date) -> dict[str | None, dict[str, Any]]:
    """The ledger's forecast a month is judged by, per series (team; None: the whole organisation), from
    the ``forecast_snapshot`` records: for each series the last made before the month began, else the
    first made. Each series is chosen on its own, so a team's forecast shows even when the organisation's
    was made at another time (a ledger seeded with organisation-wide forecasts only, teams forecast at a
    review's close)."""
    from sqlmodel import select

    from storage.records import ForecastSnapshot

    with records.session() as s:
        snaps = s.exec(select(ForecastSnapshot).where(ForecastSnapshot.month == month,
                                                      ForecastSnapshot.method == "ets")).all()
    by_series: dict[str | None, list[Any]] = {}
    for x in snaps:
        by_series.setdefault(x.team, []).append(x)
    out: dict[str | None, dict[str, Any]] = {}
    for team, series in by_series.items():
        before = [x for x in series if x.made_at.date() < month]
        chosen = max(before, key=lambda x: (x.made_at, x.id)) if before else min(series, key=lambda x: (x.made_at, x.id))
        out[team] = {"forecast": _r(chosen.forecast), "lower": _r(chosen.lower), "upper": _r(chosen.upper),
                     "made_at": chosen.made_at}
    return out


def spend_item(home: Home, month: date, currency: str,
               showback_trends: dict[str, list[float]] | None = None,
               progress: MonthProgress | None = None) -> dict[str, Any]:
    """Item 2. Team spend is the showback total (direct + shared) when the showback is available, else the
    allocated spend with an "(unallocated)" line; ``showback_trends``: team -> totals of the trend months.

    A month not over yet (``progress``, default: seen from today) is month to date: its complete days
    against the same days of the month before and the budget pro-rated to them (``budget_to_date``);
    its forecast is shown but not judged until the month is over."""
    progress = progress or MonthProgress(month, home.clock.today())
    first = add_months(month, -(TREND_MONTHS - 1))
    end = add_months(month, 1)
    previous = add_months(month, -1)
    frame = monthly_team_service(home, first, progress.through if not progress.complete else end)
    totals = {m: 0.0 for m in (add_months(first, i) for i in range(TREND_MONTHS))}
    for r in frame.itertuples(index=False):
        totals[r.month] = totals.get(r.month, 0.0) + float(r.cost)
    compare = frame
    prev_team_to_date: dict[str, float] | None = None
    if not progress.complete:
        # The month before, over the same days only: a few days are never compared with a whole month.
        prev_part = monthly_team_service(home, previous, progress.previous_through)
        compare = frame[frame["month"] != previous]
        compare = prev_part if compare.empty else compare if prev_part.empty else _concat(compare, prev_part)
        prev_team_to_date = _team_totals(prev_part, previous)
        if showback_trends is not None:
            prev_team_to_date = _showback_to_date(home, previous, progress.previous_through)
    spend = totals.get(month, 0.0)
    prev_spend = sum(float(r.cost) for r in compare.itertuples(index=False) if r.month == previous)
    team_budgets, org_budget = budgets(home.records, month)
    forecasts = stored_forecasts(home.records, month)
    if showback_trends is not None:
        source, trends = "showback", showback_trends
    else:
        source = "allocation"
        per_month = [_team_totals(frame, add_months(first, i)) for i in range(TREND_MONTHS)]
        trends = {t: [_r(m.get(t, 0.0)) for m in per_month] for t in {t for m in per_month for t in m}}
    team_spend = {t: v[-1] for t, v in trends.items()}
    names = sorted(set(team_spend) | set(team_budgets) | {t for t in forecasts if t},
                   key=lambda t: (-(team_spend.get(t) or 0.0), t))

    def line(value: float | None, prev: float | None, budget: float | None, fc: dict[str, Any] | None) -> dict:
        forecast = fc["forecast"] if fc else None
        judged = progress.complete and fc and forecast and value is not None
        variance = round(abs(value - forecast) / forecast * 100.0, 1) if judged else None  # type: ignore[operator]
        to_date = budget * progress.share if budget is not None else None
        return {"spend": _r(value), "previous_spend": _r(prev), "change": _r(None if prev is None or value is None
                                                                            else value - prev),
                "change_pct": pct_change(value, prev), "budget": _r(budget), "budget_to_date": _r(to_date),
                "over_budget": _r(value - to_date) if to_date is not None and value is not None else None,
                "budget_used_pct": round(value / to_date * 100.0, 1) if to_date and value is not None else None,
                "forecast": forecast, "forecast_lower": fc["lower"] if fc else None,
                "forecast_upper": fc["upper"] if fc else None, "forecast_variance_pct": variance,
                "forecast_band": forecast_band(variance)}

    def team_prev(t: str) -> float | None:
        if prev_team_to_date is not None:
            return prev_team_to_date.get(t, 0.0)
        return trends[t][-2] if t in trends else None

    teams = [{"team": t, **line(team_spend.get(t, 0.0), team_prev(t), team_budgets.get(t), forecasts.get(t)),
              "trend": trends.get(t, [0.0] * TREND_MONTHS)} for t in names]
    total_fc = forecasts.get(None)
    total = line(spend, prev_spend, org_budget, total_fc)
    movers = drivers(compare, month, previous)
    explained = sum(m["change"] for m in movers)
    accuracy = None
    if total_fc and progress.complete:
        accuracy = {"month": month_period(month), "forecast": total_fc["forecast"], "actual": _r(spend),
                    "lower": total_fc["lower"], "upper": total_fc["upper"], "made_at": total_fc["made_at"],
                    "variance_pct": total["forecast_variance_pct"], "band": total["forecast_band"],
                    "target_variance_pct": home.config.targets.forecast_variance_pct}
    return {"currency": currency, "source": source, "month_to_date": not progress.complete,
            "total": total, "teams": teams, "drivers": movers, "drivers_change": _r(explained),
            "trend": [{"month": month_period(m), "spend": _r(v)} for m, v in sorted(totals.items())],
            "forecast_accuracy": accuracy}


def _concat(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    return pd.concat([a, b], ignore_index=True)


def _showback_window(home: Home, month: date, through: date) -> Any:
    """The showback of ``month`` over its days before ``through`` only (a month not over yet)."""
    from rituals.showback import (
        ShowbackInputs,
        billed_by_period,
        build_showback,
        month_key,
        showback_lines,
        showbacks_from_lines,
    )

    inputs = ShowbackInputs.from_home(home)
    found = {}
    if through > month:
        lines = showback_lines(home.costs, inputs.account_teams, inputs.shared_accounts, month, through)
        # Billed so far is the month's billing period's (its invoice to date), spend its charge days.
        found = showbacks_from_lines(lines, inputs.currency, method=inputs.method, fixed_pct=inputs.fixed_pct,
                                     teams=inputs.teams, billed=billed_by_period(home.costs, month,
                                                                                  add_months(month, 1)))
    return next(iter(found.values()), None) or build_showback(month_key(month), inputs.currency, {}, {}, 0.0,
                                                              method=inputs.method, fixed_pct=inputs.fixed_pct,
                                                              teams=inputs.teams)


def _showback_to_date(home: Home, month: date, through: date) -> dict[str, float]:
    """Each team's showback total (direct + shared) over ``month <= day < through``."""
    return {t.team: float(t.total) for t in _showback_window(home, month, through).teams}


# -- items 3, 4, 5, 6 -------------------------------------------------------------------------------------------
def showback_item(home: Home, month: date, progress: MonthProgress | None = None) -> dict[str, Any]:
    """The month's showback (``showback --json``; a month not over yet: its complete days only) and each
    team's showback total over the trend months."""
    from rituals.showback import ShowbackInputs, monthly_showbacks

    progress = progress or MonthProgress(month, home.clock.today())
    first = add_months(month, -(TREND_MONTHS - 1))
    series = monthly_showbacks(home.costs, ShowbackInputs.from_home(home), first, month)
    if not progress.complete:
        series[month] = _showback_window(home, month, progress.through)
    sb = series[month]
    names = [t.team for t in sb.teams]
    trends = {n: [_r(x.team(n).total) if x.team(n) else 0.0 for x in series.values()] for n in names}
    return {**sb.as_json(), "method": sb.method, "shared_total": sb.shared_total,
            "shared_by_reason": {k: _r(v) for k, v in sb.shared_by_reason.items()},
            "trend_months": [x.month for x in series.values()], "team_trends": trends}


def unit_economics_item(home: Home, month: date) -> dict[str, Any]:
    from rituals.unit_economics import unit_economics

    return unit_economics(home, month).as_json()


def anomalies_item(home: Home, start: date, end: date, detect: bool) -> dict[str, Any]:
    """Item 5: the anomaly events overlapping ``start <= day < end`` (an event is the unit of impact: the
    largest excess among its cases), each case as detail with its event, and TTD/TTR over the events."""
    from sqlmodel import select

    from rituals.anomaly_events import event_groups, events_of
    from rituals.anomaly_report import case_dict, in_window, kpis, summary
    from rituals.people import account_teams
    from storage.records import AnomalyCase, Person, Team

    detected: list[str] = []
    if detect:
        from rituals.anomalies import Thresholds
        from rituals.anomaly_cases import sync_cases

        detected = list(sync_cases(home, Thresholds.from_config(home.config)).new)
    with home.records.session() as s:
        cases = list(s.exec(select(AnomalyCase)))
        teams = {t.id: t for t in s.exec(select(Team)) if t.id is not None}
        people = {p.id: p for p in s.exec(select(Person)) if p.id is not None}
        teams_of = account_teams(s)
        groups = event_groups(cases)
        shown = sorted(in_window(cases, start, end), key=lambda c: (c.start, -c.impact, c.id))
        rows = [case_dict(c, teams, people, groups) for c in shown]
    events = events_of(shown, teams_of, groups)
    keep = ("id", "start", "end", "dimension", "value", "label", "expected_cost", "actual_cost", "impact",
            "impact_pct", "status", "category", "owner_team", "assignee", "ttd_hours", "ttr_hours", "historical",
            "event")
    k = kpis(shown, teams_of, groups)
    return {"start": start, "end": end, **summary(shown, events),
            "detected_now": len(detected), "ttd_median_hours": k["ttd"]["median_hours"],
            "ttr_median_hours": k["ttr"]["median_hours"], "ttd_band": k["ttd"]["median_band"],
            "ttr_band": k["ttr"]["median_band"], "ttd_events": k["ttd"]["n"], "ttr_events": k["ttr"]["n"],
            "by_event": [e.as_dict() for e in sorted(events, key=lambda e: (e.start, -e.impact, e.id))],
            "cases": [{x: r[x] for x in keep} for r in rows]}


# -- item 7: proposals -----------------------------------------------------------------------------------------
def next_review_date(home: Home, month: date) -> date:
    """When the review of the month after ``month`` is due (the calendar's review day)."""
    due = add_months(month, 2).replace(day=home.config.calendar.monthly_review_day)
    return max(due, home.clock.today() + timedelta(days=7))


def proposals(home: Home, agenda: dict[str, Any], due: date) -> list[dict[str, Any]]:
    """Actions the data suggests, each with its default owner from the RACI."""
    from rituals.raci import Raci, RaciError
    from rituals.review_actions import STEP_ACTIVITY

    cur = agenda["currency"]
    wanted: list[tuple[str, str | None, str, str]] = []  # step, team, kind, title
    spend = agenda["spend"]
    if spend.get("available"):
        for t in spend["teams"]:
            if (t.get("budget_used_pct") or 0) > OVER_BUDGET_PCT and t["team"] != UNALLOCATED:
                if spend.get("month_to_date"):
                    wanted.append(("spend", t["team"], "other", f"Explain {t['team']}'s spend over its budget to "
                                   f"date by {t['over_budget']:,.0f} {cur} in {agenda['month']} so far"))
                    continue
                wanted.append(("spend", t["team"], "other", f"Explain {t['team']}'s spend over budget by "
                               f"{t['over_budget']:,.0f} {cur} in {agenda['month']} and plan next month"))
        rises = [d for d in spend["drivers"] if d["change"] > 0 and d["team"] != UNALLOCATED]
        for d in rises[:2]:
            wanted.append(("drivers", d["team"], "rightsizing", f"Review the rise of {d['service']} in "
                           f"{d['team']} (+{d['change']:,.0f} {cur} month over month)"))
    ue = agenda["unit_economics"]
    for metric in ue.get("rising", []) if ue.get("available") else []:
        wanted.append(("unit_economics", None, "other", f"Explain the rising unit cost per {metric}"))
    an = agenda["anomalies"]
    if an.get("available"):
        untriaged: dict[str | None, list[dict[str, Any]]] = {}
        for e in an.get("by_event") or []:
            if e["untriaged"]:
                untriaged.setdefault(e["owner_team"], []).append(e)
        for team, events in sorted(untriaged.items(), key=lambda kv: (-sum(e["impact"] for e in kv[1]),
                                                                       kv[0] or "")):
            first = min(e["start"] for e in events)
            impact = sum(e["impact"] for e in events)
            wanted.append(("anomalies", team, "anomaly_fix", f"Triage {counted(len(events), 'untriaged anomaly event')}"
                           f" of {team or 'no team'} since {first} ({impact:,.0f} {cur} impact)"))
    alloc = agenda["coverage"].get("allocation", {}) if agenda["coverage"].get("available") else {}
    if alloc.get("coverage_pct") is not None and alloc["coverage_pct"] < alloc.get("target_pct", 0):
        wanted.append(("coverage", None, "tag_fix", f"Bring allocation coverage from {alloc['coverage_pct']:.1f}% "
                       f"to the {alloc['target_pct']:g}% target"))
    out = []
    with home.records.session() as s:
        raci = Raci(s)
        for step, team, kind, title in wanted:
            try:
                owner = raci.owner_for(STEP_ACTIVITY[step], team).handle
            except RaciError:
                owner = None
            out.append({"step": step, "title": title, "kind": kind, "team": team, "owner": owner,
                        "due_date": due})
    return out


def default_owner(home: Home, step: str, team: str | None = None) -> str | None:
    """The handle the RACI makes responsible for an agenda item's actions (None when no one resolves)."""
    from rituals.raci import Raci, RaciError
    from rituals.review_actions import STEP_ACTIVITY

    with home.records.session() as s:
        try:
            return Raci(s).owner_for(STEP_ACTIVITY.get(step, "Monthly cost review"), team).handle
        except RaciError:
            return None


# -- the agenda ---------------------------------------------------------------------------------------------------
def build_agenda(home: Home, month: date | None = None, *, run_id: int | None = None,
                 detect_anomalies: bool = True, progress: Callable[[dict[str, Any]], None] | None = None
                 ) -> dict[str, Any]:
    """The agenda of the review of ``month`` (default: the last complete month); ``run_id`` is the review's
    own run when it is being held (its actions are new, not carried). ``progress`` gets the agenda as
    computed so far (as JSON, its items in their order) after each item, in the order of the review's steps,
    so a screen paints the first steps while the rest are computed; the agenda is the same without it."""
    from rituals.review_actions import carried_actions
    from rituals.ritual import plain_json
    from rituals.savings import summary as savings_summary

    def step_done() -> None:
        if progress is not None:
            progress(plain_json(agenda))

    today = home.clock.today()
    month = month or default_month(today)
    if month > today:
        raise ValueError(f"--month {month_period(month)} has not started yet (today is {today.isoformat()})")
    period = month_period(month)
    month_progress = MonthProgress(month, today)
    currency = home.costs.info().currency or home.config.currency
    with home.records.session() as s:
        actions = carried_actions(s, today, current_run=run_id, before_period=period)
        actions["savings"] = savings_summary(s, home.costs, today, home.clock.tz)
    last = actions["last_review"]
    agenda: dict[str, Any] = {
        "kind": MONTHLY_REVIEW, "month": period, "start": month, "end": add_months(month, 1),
        "currency": currency, "prepared_on": today, "month_status": month_progress.as_json(),
        "last_review": last,
        "actions": {"available": True, **{k: v for k, v in actions.items() if k != "last_review"}},
    }
    step_done()
    agenda["showback"] = _guard("Showback", lambda: showback_item(home, month, month_progress))
    sb_trends = agenda["showback"].get("team_trends") if agenda["showback"].get("available") else None
    agenda["spend"] = _guard("Spend against budget",
                             lambda: spend_item(home, month, currency, sb_trends, month_progress))
    step_done()
    agenda["unit_economics"] = _guard("Unit economics", lambda: unit_economics_item(home, month))
    step_done()
    since = add_months(parse_month(last["period"]), 1) if last else month
    end = max(today, since + timedelta(days=1))
    agenda["anomalies"] = _guard("Anomaly triage", lambda: anomalies_item(home, since, end, detect_anomalies))
    step_done()
    agenda["coverage"] = _guard("Coverage", lambda: coverage_item(home, month_progress))
    step_done()
    due = next_review_date(home, month)
    agenda["decisions"] = _guard("Proposed actions", lambda: {"next_review_date": due,
                                                              "proposed_actions": proposals(home, agenda, due)})
    return agenda


# -- closing: freeze the numbers, store next month's forecast ------------------------------------------------------
def forecast_month_after(home: Home, month: date) -> date:
    """The month whose forecast a closing review stores: the month after the reviewed one (the next review
    judges it), or, when that month is already complete, the month after today's."""
    nxt = add_months(month, 1)
    if add_months(nxt, 1) <= home.clock.today():
        return add_months(home.clock.today().replace(day=1), 1)
    return nxt
