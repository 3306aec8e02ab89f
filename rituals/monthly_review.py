"""The monthly cost review's agenda, written from the data so preparing the meeting costs nothing.

``build_agenda(home, month)`` returns one JSON object (the headless ``agenda monthly --json``, and the
numbers frozen when the review closes) with the seven items of the meeting:

1. ``actions``: the action log carried from earlier reviews (``rituals.review_actions``);
2. ``spend``: spend against budget against forecast, in total and per team, the month-over-month drivers
   (top movers by team x service, teams by ``rituals.allocation``'s one definition) and the forecast
   accuracy of the month;
3. ``showback`` and 4. ``unit_economics`` from ``rituals.showback`` / ``rituals.unit_economics``;
5. ``anomalies`` since the last review (detected now, as ``finops-tui anomalies`` does), with status,
   owner and TTD/TTR;
6. ``coverage``: allocation and commitment figures as the latest closed sweep and commitment runs froze
   them ("not run yet" when there is none);
7. ``decisions``: proposed actions with an owner from the RACI and a due date (the next review).

Each item is computed on its own: a module that is missing or fails gives ``{"available": false,
"reason": ...}`` for that item, never a failed agenda.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from rituals.calendar import add_months, month_period
from rituals.definitions.commitment_review import KIND as COMMITMENT_REVIEW
from rituals.definitions.monthly_review import KIND as MONTHLY_REVIEW
from rituals.definitions.tag_sweep import KIND as TAG_SWEEP

if TYPE_CHECKING:
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
    """The ledger's forecast a month is judged by (the last made before it began, else the first made),
    per team (None: the whole organisation), from the ``forecast_snapshot`` records."""
    from sqlmodel import select

    from storage.records import ForecastSnapshot

    with records.session() as s:
        snaps = s.exec(select(ForecastSnapshot).where(ForecastSnapshot.month == month,
                                                      ForecastSnapshot.method == "ets")).all()
    totals = [x for x in snaps if x.team is None]
    if not totals:
        return {}
    before = [x for x in totals if x.made_at.date() < month]
    chosen = max(before, key=lambda x: x.made_at) if before else min(totals, key=lambda x: x.made_at)
    same = [x for x in snaps if x.made_at == chosen.made_at]
    return {x.team: {"forecast": _r(x.forecast), "lower": _r(x.lower), "upper": _r(x.upper),
                     "made_at": x.made_at} for x in same}


def spend_item(home: Home, month: date, currency: str,
               showback_trends: dict[str, list[float]] | None = None) -> dict[str, Any]:
    """Item 2. Team spend is the showback total (direct + shared) when the showback is available, else the
    allocated spend with an "(unallocated)" line; ``showback_trends``: team -> totals of the trend months."""
    first = add_months(month, -(TREND_MONTHS - 1))
    end = add_months(month, 1)
    previous = add_months(month, -1)
    frame = monthly_team_service(home, first, end)
    totals = {m: 0.0 for m in (add_months(first, i) for i in range(TREND_MONTHS))}
    for r in frame.itertuples(index=False):
        totals[r.month] = totals.get(r.month, 0.0) + float(r.cost)
    spend, prev_spend = totals.get(month, 0.0), totals.get(previous, 0.0)
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
        variance = round(abs(value - forecast) / forecast * 100.0, 1) if fc and forecast and value is not None else None
        return {"spend": _r(value), "previous_spend": _r(prev), "change": _r(None if prev is None or value is None
                                                                            else value - prev),
                "change_pct": pct_change(value, prev), "budget": _r(budget),
                "over_budget": _r(value - budget) if budget is not None and value is not None else None,
                "budget_used_pct": round(value / budget * 100.0, 1) if budget and value is not None else None,
                "forecast": forecast, "forecast_lower": fc["lower"] if fc else None,
                "forecast_upper": fc["upper"] if fc else None, "forecast_variance_pct": variance,
                "forecast_band": forecast_band(variance)}

    teams = [{"team": t, **line(team_spend.get(t, 0.0), trends[t][-2] if t in trends else None,
                                team_budgets.get(t), forecasts.get(t)),
              "trend": trends.get(t, [0.0] * TREND_MONTHS)} for t in names]
    total_fc = forecasts.get(None)
    total = line(spend, prev_spend, org_budget, total_fc)
    movers = drivers(frame, month, previous)
    explained = sum(m["change"] for m in movers)
    accuracy = None
    if total_fc:
        accuracy = {"month": month_period(month), "forecast": total_fc["forecast"], "actual": _r(spend),
                    "lower": total_fc["lower"], "upper": total_fc["upper"], "made_at": total_fc["made_at"],
                    "variance_pct": total["forecast_variance_pct"], "band": total["forecast_band"],
                    "target_variance_pct": home.config.targets.forecast_variance_pct}
    return {"currency": currency, "source": source, "total": total, "teams": teams, "drivers": movers,
            "drivers_change": _r(explained),
            "trend": [{"month": month_period(m), "spend": _r(v)} for m, v in sorted(totals.items())],
            "forecast_accuracy": accuracy}


# -- items 3, 4, 5, 6 -------------------------------------------------------------------------------------------
def showback_item(home: Home, month: date) -> dict[str, Any]:
    """The month's showback (``showback --json``) and each team's showback total over the trend months."""
    from rituals.showback import ShowbackInputs, monthly_showbacks

    first = add_months(month, -(TREND_MONTHS - 1))
    series = monthly_showbacks(home.costs, ShowbackInputs.from_home(home), first, month)
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
    from sqlmodel import select

    from rituals.anomaly_report import case_dict, in_window, kpis
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
        shown = sorted(in_window(cases, start, end), key=lambda c: (c.start, -c.impact, c.id))
        rows = [case_dict(c, teams, people) for c in shown]
    keep = ("id", "start", "end", "dimension", "value", "label", "expected_cost", "actual_cost", "impact",
            "impact_pct", "status", "category", "owner_team", "assignee", "ttd_hours", "ttr_hours", "historical")
    k = kpis(shown)
    return {"start": start, "end": end, "count": len(rows), "impact": _r(sum(c.impact for c in shown)),
            "untriaged": sum(1 for c in shown if c.status == "new" and not c.historical),
            "detected_now": len(detected), "ttd_median_hours": k["ttd"]["median_hours"],
            "ttr_median_hours": k["ttr"]["median_hours"], "ttd_band": k["ttd"]["median_band"],
            "ttr_band": k["ttr"]["median_band"], "cases": [{x: r[x] for x in keep} for r in rows]}


SWEEP_FIELDS = ("start", "end", "coverage_pct", "by_tag_pct", "by_rule_pct", "target_pct", "total_cost",
                "unallocated_cost")
COMMITMENT_FIELDS = ("start", "end", "coverage_pct", "target_coverage_pct", "utilization_pct",
                     "effective_savings_rate_pct", "eligible_cost", "covered_cost", "unused_commitment_cost")


def coverage_item(home: Home) -> dict[str, Any]:
    """Allocation and commitment figures as the latest closed sweep and commitment review froze them."""
    from rituals.runs import list_runs

    targets = home.config.targets
    out: dict[str, Any] = {}
    with home.records.session() as s:
        for key, kind, fields in (("allocation", TAG_SWEEP, SWEEP_FIELDS),
                                  ("commitments", COMMITMENT_REVIEW, COMMITMENT_FIELDS)):
            closed = [r for r in list_runs(s, kind) if r.status == "closed" and r.numbers]
            if not closed:
                out[key] = {"status": "not run yet", "run_id": None}
                continue
            latest = max(closed, key=lambda r: (r.closed_at or r.opened_at, r.id))
            n = latest.numbers or {}
            entry = {"status": "recorded", "run_id": latest.id, "period": latest.period,
                     "closed_at": latest.closed_at, **{f: n.get(f) for f in fields if f in n}}
            trend = sorted(closed, key=lambda r: (r.closed_at or r.opened_at, r.id))[-8:]
            entry["trend"] = [{"period": r.period, "coverage_pct": (r.numbers or {}).get("coverage_pct")}
                              for r in trend]
            out[key] = entry
    out["allocation"].setdefault("target_pct", targets.allocation_pct)
    out["commitments"].setdefault("target_coverage_pct", targets.commitment_coverage_pct)
    return out


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
        for c in an["cases"]:
            if c["status"] == "new" and not c["historical"]:
                untriaged.setdefault(c["owner_team"], []).append(c)
        for team, cases in sorted(untriaged.items(), key=lambda kv: -sum(c["impact"] for c in kv[1])):
            first = min(c["start"] for c in cases)
            wanted.append(("anomalies", team, "anomaly_fix", f"Triage {len(cases)} untriaged anomal"
                           f"{'y' if len(cases) == 1 else 'ies'} of {team or 'no team'} since {first} "
                           f"({max(c['impact'] for c in cases):,.0f} {cur} impact at most)"))
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
                 detect_anomalies: bool = True) -> dict[str, Any]:
    """The agenda of the review of ``month`` (default: the last complete month); ``run_id`` is the review's
    own run when it is being held (its actions are new, not carried)."""
    from rituals.review_actions import carried_actions

    today = home.clock.today()
    month = month or default_month(today)
    if month > today:
        raise ValueError(f"--month {month_period(month)} has not started yet (today is {today.isoformat()})")
    period = month_period(month)
    currency = home.costs.info().currency or home.config.currency
    with home.records.session() as s:
        actions = carried_actions(s, today, current_run=run_id, before_period=period)
    last = actions["last_review"]
    agenda: dict[str, Any] = {
        "kind": MONTHLY_REVIEW, "month": period, "start": month, "end": add_months(month, 1),
        "currency": currency, "prepared_on": today, "last_review": last,
        "actions": {"available": True, **{k: v for k, v in actions.items() if k != "last_review"}},
    }
    agenda["showback"] = _guard("Showback", lambda: showback_item(home, month))
    sb_trends = agenda["showback"].get("team_trends") if agenda["showback"].get("available") else None
    agenda["spend"] = _guard("Spend against budget", lambda: spend_item(home, month, currency, sb_trends))
    agenda["unit_economics"] = _guard("Unit economics", lambda: unit_economics_item(home, month))
    since = add_months(parse_month(last["period"]), 1) if last else month
    end = max(today, since + timedelta(days=1))
    agenda["anomalies"] = _guard("Anomaly triage", lambda: anomalies_item(home, since, end, detect_anomalies))
    agenda["coverage"] = _guard("Coverage", lambda: coverage_item(home))
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
