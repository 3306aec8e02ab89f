"""The quarterly review's KPI scorecard: each KPI's value for a quarter, its trend over the quarters before,
its target, and the stage its band reaches (bands: ``rituals/framework/kpi_bands.toml``).

Every KPI is taken from the ritual that produces it, with that ritual's own functions over the quarter's
window, so the figures equal the ritual's output for the same window: allocation coverage is
``rituals.allocation.coverage`` (= ``finops-tui sweep --start Q --end Q'``), commitment coverage,
utilization and the effective savings rate are ``rituals.commitments.totals_from``, the sums
``figures_from`` starts from (= ``finops-tui commitments``), anomaly TTD/TTA/TTR are over the anomaly events (``rituals.anomaly_events``) that started in the
quarter (a KPI computed from fewer cases than its band's ``min_cases`` is "too few cases", never a stage), forecast variance
is ``rituals.forecast.accuracy``'s scored months, the unit cost trend ``rituals.unit_economics``. Ritual health
reads the closed runs and the action history. A KPI with no data is listed under ``no_data`` with the
reason, never shown as zero.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from rituals.calendar import add_months, period_bounds, quarter_period, quarter_start
from rituals.definitions.monthly_review import KIND as MONTHLY_REVIEW
from rituals.definitions.tag_sweep import KIND as TAG_SWEEP
from rituals.waste import waste_for

if TYPE_CHECKING:
    from storage.config import CalendarConfig
    from storage.home import Home

STAGES = ("crawl", "walk", "run")
BELOW_CRAWL = "below crawl"
TREND_QUARTERS = 4  # the quarter and the three before it
ROUND = 6  # as the sweep's JSON: DuckDB's parallel sums differ in the last bits from run to run
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


# -- bands ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Band:
    key: str
    title: str
    better: str  # "higher" or "lower"
    crawl: float | None = None
    walk: float | None = None
    run: float | None = None
    target: float | None = None
    target_note: str = ""
    # A value computed from fewer cases than this is shown, but rated "too few cases", never a stage.
    min_cases: int | None = None

    @property
    def has_stages(self) -> bool:
        return any(v is not None for v in (self.crawl, self.walk, self.run))

    def reaches(self, value: float, limit: float) -> bool:
        return value >= limit if self.better == "higher" else value <= limit

    def stage(self, value: float | None) -> str | None:
        """The best stage whose minimum ``value`` reaches; "below crawl" when it reaches none of a banded
        KPI's stages (a stage without a number is reached by any value once a lower one is); None when the
        KPI has no bands or no value."""
        if value is None or not self.has_stages:
            return None
        best = None
        for name in STAGES:
            limit = getattr(self, name)
            if limit is None:
                if best is not None or name == "crawl":
                    best = name
                continue
            if not self.reaches(value, limit):
                break
            best = name
        return best or BELOW_CRAWL

    @property
    def target_value(self) -> float | None:
        """The target: the explicit one, else the walk minimum (most teams should target a strong walk)."""
        return self.target if self.target is not None else self.walk

    def meets(self, value: float | None) -> bool | None:
        target = self.target_value
        if value is None or target is None:
            return None
        return self.reaches(value, target)


@dataclass(frozen=True)
class Bands:
    version: int
    source: str
    kpis: dict[str, Band]
    waste: dict[str, Any]


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def parse_bands(data: dict[str, Any], where: str = "kpi_bands.toml") -> Bands:
    kpis = {}
    for key, entry in data.get("kpi", {}).items():
        better = entry.get("better", "higher")
        if better not in ("higher", "lower"):
            raise ValueError(f"{where}: kpi.{key}.better must be 'higher' or 'lower', got {better!r}")
        nums = {s: (float(entry[s]) if entry.get(s) is not None else None) for s in (*STAGES, "target")}
        given = [nums[s] for s in STAGES if nums[s] is not None]
        ordered = sorted(given) if better == "higher" else sorted(given, reverse=True)
        if given != ordered:
            raise ValueError(f"{where}: kpi.{key}'s crawl/walk/run minimums must get stricter stage by stage")
        min_cases = entry.get("min_cases")
        if min_cases is not None and (not isinstance(min_cases, int) or isinstance(min_cases, bool) or min_cases < 1):
            raise ValueError(f"{where}: kpi.{key}.min_cases must be a whole number of at least 1, got {min_cases!r}")
        kpis[key] = Band(key, str(entry.get("title", key)), better, nums["crawl"], nums["walk"], nums["run"],
                         nums["target"], str(entry.get("target_note", "")), min_cases)
    return Bands(int(data.get("version", 1)), str(data.get("source", "")), kpis, dict(data.get("waste", {})))


def load_bands(home: Home | None = None) -> Bands:
    """The packaged bands, with ``<home>/framework/kpi_bands.toml`` merged over them when it exists."""
    text = resources.files("rituals").joinpath("framework", "kpi_bands.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    if home is not None:
        path = home.path / "framework" / "kpi_bands.toml"
        if path.exists():
            try:
                data = _merge(data, tomllib.loads(path.read_text(encoding="utf-8")))
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"{path}: {exc}") from exc
            return parse_bands(data, str(path))
    return parse_bands(data)


# -- quarters -----------------------------------------------------------------------------------------------
def parse_quarter(text: str) -> str:
    text = text.strip()
    if not _QUARTER.match(text):
        raise ValueError(f"--quarter must look like 2026-Q3, got {text!r}")
    return text


def last_complete_quarter(today: date, cal: CalendarConfig) -> str:
    """The quarter before the one holding ``today``."""
    return quarter_period(add_months(quarter_start(today, cal), -3), cal)


def previous_quarters(quarter: str, cal: CalendarConfig, count: int = TREND_QUARTERS) -> list[str]:
    """``count`` quarters ending with ``quarter``, oldest first."""
    start, _ = period_bounds(quarter, cal)
    return [quarter_period(add_months(start, -3 * i), cal) for i in range(count - 1, -1, -1)]


def months_of(start: date, end: date) -> list[date]:
    out, month = [], start.replace(day=1)
    while month < end:
        out.append(month)
        month = add_months(month, 1)
    return out


# -- the measurements -----------------------------------------------------------------------------------------
def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), ROUND) + 0.0


@dataclass
class Measure:
    """One KPI in one quarter: its value (None: no data, with the reason) and what it was computed from."""

    value: float | None
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    cases: int | None = None  # how many cases (anomaly events) the value is computed from, where that counts


def _program_start(runs: list[Any]) -> date | None:
    """The first day of the month the first ritual run was opened: periods before it are not 'missed'."""
    opened = [r.opened_at.date() for r in runs if r.opened_at is not None]
    return min(opened).replace(day=1) if opened else None


def ritual_health(runs: list[Any], actions: list[Any], done_at: dict[int, datetime], start: date, end: date,
                  today: date, cal: CalendarConfig, tz: Any) -> dict[str, Measure]:
    """Sweeps held of those due, monthly reviews held of those due, actions closed on time, in the
    quarter. A sweep is due for each ISO week whose sweep day falls in the quarter, a monthly review for
    each month of the quarter, both once their due day has passed and not before the first recorded run."""
    from rituals.calendar import week_period

    first = _program_start(runs)
    closed = {(r.kind, r.period) for r in runs if r.status == "closed"}
    out: dict[str, Measure] = {}
    horizon = min(end, today)
    weeks: list[str] = []
    day = start
    while day < horizon:
        due = day - timedelta(days=day.isoweekday() - 1) + timedelta(days=cal.sweep_weekday - 1)
        period = week_period(day)
        if start <= due < horizon and first is not None and due >= first and period not in weeks:
            weeks.append(period)
        day += timedelta(days=1)
    held = [w for w in weeks if (TAG_SWEEP, w) in closed]
    out["sweeps_held_pct"] = _share(len(held), len(weeks), "no sweep was due (none recorded before)",
                                    {"due": len(weeks), "held": len(held), "missed": [w for w in weeks if w not in held]})
    months = []
    for month in months_of(start, end):
        due = add_months(month, 1).replace(day=cal.monthly_review_day)
        if due <= today and first is not None and due >= first:
            months.append(f"{month:%Y-%m}")
    held_m = [m for m in months if (MONTHLY_REVIEW, m) in closed]
    out["monthly_reviews_held_pct"] = _share(len(held_m), len(months), "no monthly review was due",
                                             {"due": len(months), "held": len(held_m),
                                              "missed": [m for m in months if m not in held_m]})
    due_actions = [a for a in actions if a.due_date is not None and start <= a.due_date < end and a.due_date < today]
    on_time = [a for a in due_actions if a.id in done_at and done_at[a.id].astimezone(tz).date() <= a.due_date]
    out["actions_on_time_pct"] = _share(len(on_time), len(due_actions), "no action fell due in the quarter",
                                        {"due": len(due_actions), "on_time": len(on_time),
                                         "late_or_open": [a.id for a in due_actions if a not in on_time]})
    return out


def _share(part: int, whole: int, reason: str, detail: dict[str, Any]) -> Measure:
    if whole == 0:
        return Measure(None, reason, detail)
    return Measure(_r(part / whole * 100.0), None, detail)


def _done_at(session: Any) -> dict[int, datetime]:
    """When each action was last marked done."""
    from sqlmodel import select

    from storage.records import ActionEvent

    out: dict[int, datetime] = {}
    for e in session.exec(select(ActionEvent).where(ActionEvent.field == "status", ActionEvent.new == "done")):
        if e.at is not None and (e.action_id not in out or e.at > out[e.action_id]):
            out[e.action_id] = e.at
    return out


def measure_quarters(home: Home, quarters: list[str]) -> dict[str, dict[str, Measure]]:
    """quarter -> KPI key -> Measure for each of ``quarters`` (oldest first)."""
    from sqlmodel import select

    from rituals.allocation import account_teams_from_records, coverages
    from rituals.anomaly_events import events_of
    from rituals.anomaly_report import all_cases, hours_stat
    from rituals.commitments import eligible_services, totals_from, usage_frame
    from rituals.forecast import accuracy
    from rituals.inbox import items as inbox_items
    from rituals.showback import ShowbackInputs, monthly_showbacks
    from rituals.unit_economics import trend_months, unit_economics
    from storage.records import Action, RitualRun

    cfg = home.config
    cal = cfg.calendar
    today = home.clock.today()
    bounds = {q: period_bounds(q, cal) for q in quarters}
    first, last = bounds[quarters[0]][0], bounds[quarters[-1]][1]
    account_teams = account_teams_from_records(home.records)
    eligible = eligible_services(cfg.commitments.eligible_services)
    frame = usage_frame(home.costs, first, last, eligible) if home.costs.exists() else None
    has_costs = home.costs.exists() and home.costs.info().rows > 0
    forecast_months = accuracy(home)["months"] if has_costs else []
    with home.records.session() as s:
        events = events_of(all_cases(s), account_teams)
        runs = list(s.exec(select(RitualRun)))
        actions = list(s.exec(select(Action)))
        done_at = _done_at(s)
        inbox_open = [(f"#{i.id} {i.action_type} {i.resource_id}", i.resource_id, i.account,
                       i.estimated_monthly_savings) for i in inbox_items(s, today)]
    # Every window's coverage in one pass (the quarters and each one's last complete month, for the waste
    # ratio), and every quarter's unit cost trend from one showback over the months of all of them.
    waste_months = {q: last_complete_month(*bounds[q], today) for q in quarters}
    windows = [bounds[q] for q in quarters] + [w for w in waste_months.values() if w is not None]
    covered = dict(zip(windows, coverages(home.costs, account_teams, windows, cfg.taxonomy.charge_categories),
                       strict=True))
    showbacks: dict[date, Any] = {}
    inputs = None
    if has_costs:
        trends = [trend_months(add_months(bounds[q][1], -1)) for q in quarters]
        inputs = ShowbackInputs.from_home(home)
        showbacks = monthly_showbacks(home.costs, inputs, min(t[0] for t in trends), max(t[1] for t in trends))
    out: dict[str, dict[str, Measure]] = {}
    for q in quarters:
        start, end = bounds[q]
        m: dict[str, Measure] = {}
        cov = covered[(start, end)]
        m["allocation_coverage_pct"] = Measure(_r(cov.coverage_pct), None if cov.coverage_pct is not None else
                                               "no spend in the quarter",
                                               {"total_cost": _r(cov.total_cost), "allocated_cost": _r(cov.allocated_cost),
                                                "by_tag_pct": _r(cov.by_tag_pct), "by_rule_pct": _r(cov.by_rule_pct)})
        fig = totals_from(frame, start, end) if frame else None
        no_commit = "no commitment-eligible spend in the quarter"
        m["commitment_coverage_pct"] = Measure(_r(fig.coverage_pct) if fig else None, None, {
            "eligible_cost": _r(fig.eligible_cost) if fig else None,
            "covered_cost": _r(fig.covered_cost) if fig else None})
        m["commitment_utilization_pct"] = Measure(_r(fig.utilization_pct) if fig else None, None, {
            "used_commitment_cost": _r(fig.used_commitment_cost) if fig else None,
            "unused_commitment_cost": _r(fig.unused_commitment_cost) if fig else None})
        m["effective_savings_rate_pct"] = Measure(_r(fig.effective_savings_rate_pct) if fig else None)
        for key, why in (("commitment_coverage_pct", no_commit),
                         ("commitment_utilization_pct", "no commitment in use in the quarter"),
                         ("effective_savings_rate_pct", no_commit)):
            if m[key].value is None:
                m[key].reason = why
        # Anomaly KPIs count events (one spike's cases in several series are one event) that started in
        # the quarter; TTD/TTR are over the live ones.
        started = [e for e in events if start <= e.start < end]
        live = [e for e in started if not e.historical]
        ttd = sorted(round(h, 2) for e in live if (h := e.ttd_hours) is not None)
        ttr = sorted(round(h, 2) for e in live if (h := e.ttr_hours) is not None)
        tta = sorted(round(h, 2) for e in live if (h := e.tta_hours) is not None)
        k = {"ttd": hours_stat(ttd), "ttr": hours_stat(ttr), "tta": hours_stat(tta)}
        m["anomaly_ttd_median_hours"] = Measure(k["ttd"]["median_hours"],
                                                None if ttd else "no acknowledged anomaly event started in the quarter",
                                                {"events": len(live), "acknowledged": len(ttd),
                                                 "p90_hours": k["ttd"]["p90_hours"], "ttd_hours": ttd},
                                                cases=len(ttd))
        m["anomaly_tta_median_hours"] = Measure(k["tta"]["median_hours"],
                                                None if tta else "no notified anomaly event of the quarter was "
                                                "acknowledged after its notification",
                                                {"notified": sum(e.notified_at is not None for e in live),
                                                 "acknowledged": len(tta), "p90_hours": k["tta"]["p90_hours"],
                                                 "tta_hours": tta}, cases=len(tta))
        m["anomaly_ttr_median_hours"] = Measure(k["ttr"]["median_hours"],
                                                None if ttr else "no anomaly event of the quarter was resolved",
                                                {"resolved": len(ttr), "p90_hours": k["ttr"]["p90_hours"],
                                                 "ttr_hours": ttr}, cases=len(ttr))
        scored = [x for x in forecast_months if start <= date.fromisoformat(x["month"] + "-01") < end
                  and x["variance_pct"] is not None]
        m["forecast_variance_pct"] = Measure(
            _r(sum(x["variance_pct"] for x in scored) / len(scored)) if scored else None,
            None if scored else "no forecast of the quarter's months was scored",
            {"months": [{"month": x["month"], "variance_pct": x["variance_pct"], "band": x["band"]} for x in scored]})
        m["unit_cost_trend_pct"] = _unit_cost(
            unit_economics(home, add_months(end, -1), showbacks, inputs)) if has_costs else Measure(None, "no cost data")
        month = waste_months[q]
        m["waste_ratio_pct"] = _waste(home, frame, month, covered[month].total_cost if month else 0.0, inbox_open)
        m.update(ritual_health(runs, actions, done_at, start, end, today, cal, cfg.tz))
        out[q] = m
    return out


def last_complete_month(start: date, end: date, today: date) -> tuple[date, date] | None:
    """The latest calendar month inside ``start <= day < end`` that is over by ``today``."""
    best = None
    month = start.replace(day=1)
    while month < end:
        nxt = add_months(month, 1)
        if month >= start and nxt <= end and nxt <= today:
            best = (month, nxt)
        month = nxt
    return best


def _waste(home: Home, frame: Any, month: tuple[date, date] | None, spend: float, inbox_open: list[Any]) -> Measure:
    """The waste ratio over the quarter's last complete month ``month`` (``rituals.waste``), ``spend`` being
    that month's spend as allocation coverage counts it."""
    from rituals.commitments import totals_from

    if month is None:
        return Measure(None, "no complete month in the quarter yet")
    m0, m1 = month
    fig = totals_from(frame, m0, m1) if frame else None
    unused = fig.unused_commitment_cost if fig else 0.0
    return waste_for(home, load_bands(home).waste, m0, m1, spend, unused, inbox_open)


def _unit_cost(ue: Any) -> Measure:
    """The unit cost trend (fitted % a month over the 6 months to the quarter's end) of the metric rising
    fastest, every metric in the detail, from the quarter's last month's unit economics ``ue``."""
    trends = [(m.metric, m.unit_cost_trend_pct, m.volume_trend_pct, m.rising) for m in ue.metrics
              if m.unit_cost_trend_pct is not None]
    detail = {"month": ue.month, "metrics": [{"metric": n, "unit_cost_trend_pct": _r(u), "volume_trend_pct": _r(v),
                                              "rising_unit_cost": r} for n, u, v, r in trends]}
    if not trends:
        return Measure(None, "no business metric with three months of unit costs", detail)
    worst = max(trends, key=lambda t: t[1])
    detail["metric"] = worst[0]
    return Measure(_r(worst[1]), None, detail)


# -- the scorecard ---------------------------------------------------------------------------------------------
TOO_FEW_CASES = "too few cases"


def too_few_cases(band: Band, m: Measure) -> str | None:
    """"too few cases" when ``m`` is computed from fewer cases than ``band`` needs to rate a stage (a median
    of one case resolved seconds after it was acknowledged says nothing about the practice)."""
    if band.min_cases is None or m.cases is None or m.value is None or m.cases >= band.min_cases:
        return None
    return TOO_FEW_CASES


@dataclass
class Scorecard:
    quarter: str
    start: date
    end: date
    currency: str
    bands: Bands
    quarters: list[str]
    measures: dict[str, dict[str, Measure]]

    def measure(self, key: str, quarter: str | None = None) -> Measure:
        return self.measures[quarter or self.quarter][key]

    def value(self, key: str) -> float | None:
        return self.measure(key).value

    def as_json(self) -> dict[str, Any]:
        """The ``finops-tui kpis --json`` object (and what a quarterly review run freezes under ``kpis``)."""
        kpis, no_data = [], []
        for key, band in self.bands.kpis.items():
            if key not in self.measures[self.quarter]:
                continue
            m = self.measure(key)
            trend = [{"quarter": q, "value": self.measures[q][key].value} for q in self.quarters]
            entry: dict[str, Any] = {"key": key, "title": band.title, "better": band.better}
            if m.value is None:
                no_data.append({**entry, "reason": m.reason or "no data", "trend": trend, "detail": m.detail})
                continue
            prev = [t["value"] for t in trend[:-1] if t["value"] is not None]
            few = too_few_cases(band, m)
            kpis.append({**entry, "value": m.value, "previous": prev[-1] if prev else None,
                         "change": _r(m.value - prev[-1]) if prev else None,
                         "target": band.target_value, "target_note": band.target_note or None,
                         "meets_target": None if few else band.meets(m.value),
                         "stage": None if few else band.stage(m.value), "stage_note": few,
                         "cases": m.cases, "min_cases": band.min_cases,
                         "bands": {s: getattr(band, s) for s in STAGES} if band.has_stages else None,
                         "trend": trend, "detail": m.detail})
        return {"quarter": self.quarter, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "currency": self.currency, "bands_version": self.bands.version, "bands_source": self.bands.source,
                "quarters": list(self.quarters),
                "values": {k["key"]: k["value"] for k in kpis},
                "kpis": kpis, "no_data": no_data}


def scorecard(home: Home, quarter: str | None = None) -> Scorecard:
    """The scorecard of ``quarter`` (default: the last complete quarter) with its trend."""
    cal = home.config.calendar
    quarter = parse_quarter(quarter) if quarter else last_complete_quarter(home.clock.today(), cal)
    start, end = period_bounds(quarter, cal)
    quarters = previous_quarters(quarter, cal)
    measures = measure_quarters(home, quarters)
    currency = home.costs.info().currency or home.config.currency
    return Scorecard(quarter, start, end, currency, load_bands(home), quarters, measures)
