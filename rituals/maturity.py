"""The quarterly maturity assessment: crawl / walk / run per capability, proposed from evidence.

Capabilities are data (``rituals/framework/capabilities.toml``; a user adds FinOps Framework ones in
``<home>/framework/capabilities.toml``). Each names an evidence rule below; a rule looks at the quarter's KPI
scorecard and the records and proposes the stage its evidence supports, with the evidence shown. No data
proposes nothing. The facilitator confirms each proposal or overrides it with a reason, sets a target stage
(default walk), and chooses one or two capabilities to invest in next quarter; the gaps to the targets become
proposed actions owned through the RACI. ``record_review`` stores the scores (``MaturityScore``) and creates
the chosen capabilities' actions; the run freezes ``review_numbers``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from rituals.definitions.commitment_review import KIND as COMMITMENT_REVIEW
from rituals.definitions.quarterly_review import KIND as QUARTERLY_REVIEW
from rituals.kpis import STAGES, TOO_FEW_CASES, Scorecard, months_of, too_few_cases
from rituals.wording import counted

if TYPE_CHECKING:
    from sqlmodel import Session

    from storage.home import Home

DEFAULT_TARGET = "walk"
MAX_CHOSEN = 2
GAP_ACTION_DAYS = 90  # a gap's action is due by the next quarterly review


@dataclass(frozen=True)
class Capability:
    id: str
    title: str
    crawl: str
    walk: str
    run: str
    evidence: str | None = None
    raci_activity: str | None = None
    default: bool = False

    def describe(self, stage: str | None) -> str:
        return getattr(self, stage) if stage in STAGES else ""


def _caps(data: dict[str, Any], where: str) -> list[Capability]:
    out = []
    for entry in data.get("capability", []):
        if not entry.get("id") or not entry.get("title"):
            raise ValueError(f"{where}: every [[capability]] needs an id and a title")
        out.append(Capability(str(entry["id"]), str(entry["title"]), str(entry.get("crawl", "")),
                              str(entry.get("walk", "")), str(entry.get("run", "")), entry.get("evidence"),
                              entry.get("raci_activity"), bool(entry.get("default", False))))
    return out


def load_capabilities(home: Home | None = None) -> tuple[dict[str, Any], list[Capability]]:
    """(version and source, the capabilities assessed): the defaults, then those the home's
    ``framework/capabilities.toml`` lists under ``assess`` or defines (a same id replaces the packaged one)."""
    text = resources.files("rituals").joinpath("framework", "capabilities.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    meta = {"version": int(data.get("version", 1)), "source": str(data.get("source", ""))}
    catalogue = {c.id: c for c in _caps(data, "capabilities.toml")}
    chosen = [c.id for c in catalogue.values() if c.default]
    if home is not None:
        path = home.path / "framework" / "capabilities.toml"
        if path.exists():
            try:
                user = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"{path}: {exc}") from exc
            for cap in _caps(user, str(path)):
                catalogue[cap.id] = cap
                if cap.id not in chosen:
                    chosen.append(cap.id)
            for cid in user.get("assess", []):
                if cid not in catalogue:
                    raise ValueError(f"{path}: assess lists {cid!r}, which no [[capability]] defines "
                                     f"(known: {', '.join(sorted(catalogue))})")
                if cid not in chosen:
                    chosen.append(cid)
    return meta, [catalogue[c] for c in chosen]


# -- evidence ---------------------------------------------------------------------------------------------------
@dataclass
class Evidence:
    """What the rules read, gathered once per review."""

    scorecard: Scorecard
    has_costs: bool
    finops_lead: str | None = None
    people: int = 0
    raci_errors: list[str] = field(default_factory=list)
    months: list[str] = field(default_factory=list)  # the quarter's months
    showback_months: list[str] = field(default_factory=list)  # months with spend shown per team
    unit_metric_months: list[str] = field(default_factory=list)  # months with a business metric recorded
    commitment_reviews: list[str] = field(default_factory=list)  # closed commitment reviews of the quarter


@dataclass
class Proposal:
    capability: str
    stage: str | None  # None: no data, nothing proposed
    evidence: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"capability": self.capability, "proposed_stage": self.stage, "evidence": self.evidence}


def _item(label: str, value: Any, supports: str | None = None) -> dict[str, Any]:
    return {"label": label, "value": value, "supports": supports}


def _kpi(ev: Evidence, key: str) -> tuple[float | None, Any]:
    sc = ev.scorecard
    return sc.value(key), sc.bands.kpis[key]


def rule_allocation(ev: Evidence) -> Proposal:
    v, band = _kpi(ev, "allocation_coverage_pct")
    if v is None:
        return Proposal("allocation", None, [_item("allocation coverage", "no data")])
    stage = band.stage(v)
    stage = "crawl" if stage not in STAGES else stage
    return Proposal("allocation", stage, [_item("allocation coverage", f"{v:.1f}% (walk >= {band.walk:g}%, "
                                                f"run >= {band.run:g}%)", stage)])


def rule_anomalies(ev: Evidence) -> Proposal:
    v, band = _kpi(ev, "anomaly_ttd_median_hours")
    if v is None:
        return Proposal("anomalies", None, [_item("median time to detect", "no data")])
    m = ev.scorecard.measure("anomaly_ttd_median_hours")
    n = m.detail.get("acknowledged")
    over = f"over {counted(n, 'acknowledged anomaly event')}" if isinstance(n, int) else "over the acknowledged events"
    if too_few_cases(band, m):
        return Proposal("anomalies", None, [_item("median time to detect", f"{v / 24:.1f} days ({v:.0f} h) {over}: "
                                                  f"{TOO_FEW_CASES} to rate a stage (at least {band.min_cases})")])
    stage = band.stage(v)
    stage = "crawl" if stage not in STAGES else stage
    return Proposal("anomalies", stage, [_item("median time to detect", f"{v / 24:.1f} days ({v:.0f} h) {over}; "
                                              f"walk <= {band.walk / 24:g} d, run <= {band.run / 24:g} d", stage)])


def rule_commitments(ev: Evidence) -> Proposal:
    v, band = _kpi(ev, "commitment_coverage_pct")
    if v is None:
        return Proposal("commitments", None, [_item("commitment coverage", "no data")])
    by_band = band.stage(v)
    stage = "crawl" if by_band not in STAGES else by_band
    items = [_item("commitment coverage", f"{v:.1f}% (crawl >= {band.crawl:g}%, walk >= {band.walk:g}%, run >= "
                   f"{band.run:g}%)", stage)]
    if ev.commitment_reviews:
        items.append(_item("commitment reviews held", ", ".join(ev.commitment_reviews), None))
    else:
        if stage != "crawl":
            stage = "crawl"
        items.append(_item("commitment reviews held", "none in the quarter: coverage is not managed yet", "crawl"))
    return Proposal("commitments", stage, items)


def rule_cadence(ev: Evidence) -> Proposal:
    m = ev.scorecard.measure("monthly_reviews_held_pct")
    if m.value is None:
        return Proposal("cadence", None, [_item("monthly reviews held", "no data")])
    held, due = m.detail["held"], m.detail["due"]
    stage = "walk" if held == due else "crawl"
    return Proposal("cadence", stage, [_item("monthly reviews held", f"{held} of {due}", stage)])


def rule_accountability(ev: Evidence) -> Proposal:
    if not ev.has_costs or not ev.months:
        return Proposal("accountability", None, [_item("showback", "no data")])
    shown, months = len(ev.showback_months), len(ev.months)
    stage = "walk" if shown == months else "crawl"
    return Proposal("accountability", stage, [_item("showback produced", f"{shown} of {months} months ("
                                                    f"{', '.join(ev.showback_months) or 'none'})", stage)])


def rule_visibility(ev: Evidence) -> Proposal:
    if not ev.has_costs or not ev.months:
        return Proposal("visibility", None, [_item("cost data", "no data")])
    months = len(ev.months)
    items = [_item("cost data", "loaded", "crawl"),
             _item("team showback", f"{len(ev.showback_months)} of {months} months",
                   "walk" if len(ev.showback_months) == months else None),
             _item("unit economics", f"business metrics in {len(ev.unit_metric_months)} of {months} months",
                   "run" if len(ev.unit_metric_months) == months else None)]
    stage = "crawl"
    if len(ev.showback_months) == months:
        stage = "run" if len(ev.unit_metric_months) == months else "walk"
    return Proposal("visibility", stage, items)


def rule_ownership(ev: Evidence) -> Proposal:
    if ev.people == 0:
        return Proposal("ownership", None, [_item("people", "no data")])
    if ev.finops_lead is None:
        return Proposal("ownership", "crawl", [_item("FinOps lead", "none named", "crawl")])
    ok = not ev.raci_errors
    stage = "walk" if ok else "crawl"
    return Proposal("ownership", stage, [_item("FinOps lead", ev.finops_lead, None),
                                         _item("RACI", "complete" if ok else "; ".join(ev.raci_errors[:3]), stage)])


def rule_forecasting(ev: Evidence) -> Proposal:
    v, band = _kpi(ev, "forecast_variance_pct")
    if v is None:
        return Proposal("forecasting", None, [_item("forecast variance", "no data")])
    stage = band.stage(v)
    stage = "crawl" if stage not in STAGES else stage
    return Proposal("forecasting", stage, [_item("forecast variance", f"{v:.1f}% (crawl <= {band.crawl:g}, walk <= "
                                                 f"{band.walk:g}, run <= {band.run:g})", stage)])


def rule_unit_economics(ev: Evidence) -> Proposal:
    m = ev.scorecard.measure("unit_cost_trend_pct")
    if m.value is None:
        return Proposal("unit_economics", None, [_item("unit costs", "no data")])
    metrics = m.detail.get("metrics", [])
    holding = all(x["unit_cost_trend_pct"] <= 0 for x in metrics)
    stage = "run" if holding else "walk"
    return Proposal("unit_economics", stage, [_item("unit cost trend", f"{x['metric']}: {x['unit_cost_trend_pct']:+.1f}%"
                                                    " a month", None) for x in metrics]
                    + [_item("all unit costs falling or holding", "yes" if holding else "no", stage)])


RULES: dict[str, Callable[[Evidence], Proposal]] = {
    "allocation": rule_allocation, "anomalies": rule_anomalies, "commitments": rule_commitments,
    "cadence": rule_cadence, "accountability": rule_accountability, "visibility": rule_visibility,
    "ownership": rule_ownership, "forecasting": rule_forecasting, "unit_economics": rule_unit_economics,
}


def propose(cap: Capability, ev: Evidence) -> Proposal:
    rule = RULES.get(cap.evidence or "")
    if rule is None:
        return Proposal(cap.id, None, [_item("evidence", "no evidence rule: assess by hand")])
    p = rule(ev)
    p.capability = cap.id
    return p


def gather_evidence(home: Home, sc: Scorecard) -> Evidence:
    from sqlmodel import select

    from rituals.raci import check_raci, load_raci
    from rituals.showback import ShowbackInputs, month_key, monthly_showbacks
    from rituals.unit_economics import metric_values
    from storage.records import Person, RitualRun

    has_costs = home.costs.exists() and home.costs.info().rows > 0
    months = months_of(sc.start, sc.end)
    ev = Evidence(sc, has_costs, months=[month_key(m) for m in months])
    with home.records.session() as s:
        people = list(s.exec(select(Person).where(Person.active == True)))  # noqa: E712
        ev.people = len(people)
        lead = next((p for p in people if p.role == "finops_lead"), None)
        ev.finops_lead = f"{lead.name} ({lead.handle})" if lead else None
        ev.raci_errors = check_raci(load_raci(s)).errors if people else []
        ev.commitment_reviews = sorted(r.period for r in s.exec(select(RitualRun).where(
            RitualRun.kind == COMMITMENT_REVIEW, RitualRun.status == "closed"))
            if months and month_key(months[0]) <= r.period <= month_key(months[-1]))
    if has_costs and months:
        showbacks = monthly_showbacks(home.costs, ShowbackInputs.from_home(home), months[0], months[-1])
        ev.showback_months = [month_key(m) for m, sb in showbacks.items() if any(t.direct > 0 for t in sb.teams)]
        values, _ = metric_values(home.records, months[0], months[-1])
        ev.unit_metric_months = sorted({month_key(m) for (_name, m) in values})
    return ev


def assess(home: Home, sc: Scorecard) -> list[Proposal]:
    _meta, caps = load_capabilities(home)
    ev = gather_evidence(home, sc)
    return [propose(c, ev) for c in caps]


# -- the facilitator's decisions ------------------------------------------------------------------------------
@dataclass
class Score:
    capability: str
    title: str
    proposed: str | None
    stage: str | None
    target: str
    overridden: bool
    reason: str | None
    chosen: bool
    evidence: list[dict[str, Any]]

    @property
    def above_target(self) -> str | None:
        """Why the proposal is above the target, when it is: the evidence that supports the proposed stage
        (a proposal beyond what was aimed for must say what earned it)."""
        if self.proposed not in STAGES or self.target not in STAGES:
            return None
        if STAGES.index(self.proposed) <= STAGES.index(self.target):
            return None
        why = [f"{e['label']}: {e['value']}" for e in self.evidence if e.get("supports") == self.proposed]
        return (f"{self.proposed} is above the {self.target} target"
                + (f" because {'; '.join(why)}" if why else "") + f" ({self.proposed}: {self.describe_proposed})")

    describe_proposed: str = ""

    @property
    def gap(self) -> bool:
        return self.target in STAGES and (self.stage is None or STAGES.index(self.stage) < STAGES.index(self.target))

    def as_dict(self) -> dict[str, Any]:
        return {"capability": self.capability, "title": self.title, "proposed_stage": self.proposed,
                "stage": self.stage, "target_stage": self.target, "overridden": self.overridden,
                "reason": self.reason, "chosen": self.chosen, "gap": self.gap, "above_target": self.above_target,
                "evidence": self.evidence}


def decide(caps: list[Capability], proposals: list[Proposal], overrides: dict[str, tuple[str, str]] | None = None,
           targets: dict[str, str] | None = None, chosen: list[str] | None = None) -> list[Score]:
    """The scores: each proposal confirmed, or overridden (``overrides[id] = (stage, reason)``; a reason
    is required), with its target (default walk) and whether it is chosen for next quarter (one or two)."""
    overrides, targets, chosen = overrides or {}, targets or {}, list(chosen or [])
    ids = {c.id for c in caps}
    for cid in [*overrides, *targets, *chosen]:
        if cid not in ids:
            raise ValueError(f"no capability {cid!r} in this review (known: {', '.join(sorted(ids))})")
    if len(set(chosen)) > MAX_CHOSEN:
        raise ValueError(f"choose one or two capabilities for next quarter, not {len(set(chosen))}")
    by_id = {p.capability: p for p in proposals}
    out = []
    for cap in caps:
        p = by_id[cap.id]
        stage, reason, overridden = p.stage, None, False
        if cap.id in overrides:
            stage, reason = overrides[cap.id]
            if stage not in STAGES:
                raise ValueError(f"{cap.title}: stage must be one of {', '.join(STAGES)}, got {stage!r}")
            if not (reason or "").strip():
                raise ValueError(f"{cap.title}: an override needs a reason")
            reason = reason.strip()
            overridden = stage != p.stage
            if not overridden:
                reason = None  # confirming the proposal needs no reason
        target = targets.get(cap.id, DEFAULT_TARGET)
        if target not in STAGES:
            raise ValueError(f"{cap.title}: target must be one of {', '.join(STAGES)}, got {target!r}")
        out.append(Score(cap.id, cap.title, p.stage, stage, target, overridden, reason, cap.id in chosen,
                         p.evidence, cap.describe(p.stage)))
    return out


def gap_proposals(session: Session, caps: list[Capability], scores: list[Score]) -> list[dict[str, Any]]:
    """An action proposal for each capability below its target, owned by whoever the RACI makes
    accountable for the capability's activity (chosen capabilities first)."""
    from rituals.raci import RaciError, accountable_for

    by_id = {c.id: c for c in caps}
    out = []
    for sc in sorted((s for s in scores if s.gap), key=lambda s: (not s.chosen, s.capability)):
        cap = by_id[sc.capability]
        owner = None
        if cap.raci_activity:
            try:
                owner = accountable_for(session, cap.raci_activity).handle
            except (RaciError, ValueError):
                owner = None
        out.append({"capability": cap.id, "title": f"{cap.title}: from {sc.stage or 'unassessed'} to {sc.target} "
                    f"({cap.describe(sc.target)})", "owner": owner, "raci_activity": cap.raci_activity,
                    "chosen": sc.chosen})
    return out


def previous_review(session: Session, quarter: str, exclude_run: int | None = None) -> Any:
    """The last closed quarterly review of a quarter before ``quarter``."""
    from sqlmodel import select

    from storage.records import RitualRun

    runs = session.exec(select(RitualRun).where(RitualRun.kind == QUARTERLY_REVIEW,
                                                RitualRun.status == "closed")).all()
    runs = [r for r in runs if r.id != exclude_run and r.period < quarter]
    return max(runs, key=lambda r: (r.period, r.closed_at or r.opened_at, r.id), default=None)


def comparison(previous: dict[str, Any] | None, scores: list[Score]) -> list[dict[str, Any]]:
    """Quarter over quarter: each capability's stage now and in the previous closed review."""
    before = {m["capability"]: m.get("stage") for m in (previous or {}).get("maturity", [])}
    out = []
    for s in scores:
        was = before.get(s.capability)
        change = None
        if was in STAGES and s.stage in STAGES:
            d = STAGES.index(s.stage) - STAGES.index(was)
            change = "up" if d > 0 else "down" if d < 0 else "same"
        out.append({"capability": s.capability, "previous_stage": was, "stage": s.stage, "change": change})
    return out


def review_numbers(home: Home, sc: Scorecard, scores: list[Score], gaps: list[dict[str, Any]],
                   previous: Any) -> dict[str, Any]:
    """What a quarterly review run freezes: the scorecard (``finops-tui kpis --json``), the scores, the
    choice, the gaps and the comparison with the previous closed review."""
    meta, _caps = load_capabilities(home)
    prev_numbers = previous.numbers if previous is not None else None
    return {"quarter": sc.quarter, "currency": sc.currency, "kpis": sc.as_json(),
            "capabilities_version": meta["version"], "capabilities_source": meta["source"],
            "maturity": [s.as_dict() for s in scores], "chosen": [s.capability for s in scores if s.chosen],
            "gaps": gaps, "previous": None if previous is None else {
                "run_id": previous.id, "quarter": previous.period},
            "comparison": comparison(prev_numbers, scores)}


def record_review(session: Session, run: Any, scores: list[Score], gaps: list[dict[str, Any]], *, now: datetime,
                  today: date, actor_id: int | None = None) -> list[int]:
    """Store the scores of ``run`` (replacing any stored before for it) and create the chosen
    capabilities' gap actions (owners from the RACI; due by the next quarterly review). Returns the new
    action ids. Call inside ``home.records.write()`` before closing the run."""
    from sqlmodel import delete, select

    from rituals.actions import create_action
    from storage.records import Action, Person
    from storage.records import MaturityScore as Row

    session.execute(delete(Row).where(Row.run_id == run.id))
    for s in scores:
        session.add(Row(run_id=run.id, period=run.period, capability=s.capability, proposed_stage=s.proposed,
                        stage=s.stage, target_stage=s.target, overridden=s.overridden, reason=s.reason,
                        evidence=s.evidence, chosen=s.chosen, scored_at=now))
    existing = {a.title for a in session.exec(select(Action).where(Action.source_run_id == run.id))}
    handles = {p.handle: p.id for p in session.exec(select(Person)) if p.id is not None}
    created = []
    for g in gaps:
        if not g["chosen"] or g["title"] in existing or handles.get(g["owner"] or "") is None:
            continue
        a = create_action(session, title=g["title"], owner_id=handles[g["owner"]], now=now, actor_id=actor_id,
                          kind="other", due_date=today + timedelta(days=GAP_ACTION_DAYS), source_run_id=run.id,
                          detail=f"Chosen in the quarterly review {run.period}.")
        created.append(int(a.id))
    session.flush()
    return created


def stored_scores(session: Session, run_id: int) -> list[Any]:
    from sqlmodel import col, select

    from storage.records import MaturityScore

    return list(session.exec(select(MaturityScore).where(MaturityScore.run_id == run_id)
                             .order_by(col(MaturityScore.id))))
