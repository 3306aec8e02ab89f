"""The quarterly maturity and KPI review: the KPI scorecard with its trend (``rituals.kpis``), crawl/walk/run
proposed from the evidence per capability (``rituals.maturity``), the facilitator's overrides (with a
reason), targets and the one or two capabilities chosen for next quarter. Headless: ``finops-tui kpis``.

The facilitator's choices are decisions on the run, like every ritual's (``detail.kind`` is
``maturity_override``, ``maturity_target`` or ``maturity_choice``; the latest per capability counts). A
run freezes the scorecard (exactly ``kpis --json``, under ``kpis``) with the scores those decisions give,
and its close stores the scores and the chosen capabilities' gap actions in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rituals.ritual import (
    CloseInput,
    Headline,
    JsonObject,
    Request,
    Ritual,
    StepDef,
    Unit,
    get_obj,
    number,
    period_window,
    plain_json,
)

if TYPE_CHECKING:
    from sqlmodel import Session

    from rituals.kpis import Scorecard
    from rituals.maturity import Capability, Proposal, Score
    from storage.home import Home
    from storage.records import RitualRun

OVERRIDE, TARGET, CHOICE = "maturity_override", "maturity_target", "maturity_choice"

# The kind of each KPI's value (and target, bands and trend), by KPI key (``rituals.kpis`` measures these).
KPI_UNITS: dict[str, Unit] = {
    "allocation_coverage_pct": "pct", "unit_cost_trend_pct": "pct", "commitment_coverage_pct": "pct",
    "commitment_utilization_pct": "pct", "effective_savings_rate_pct": "pct", "forecast_variance_pct": "pct",
    "waste_ratio_pct": "pct", "sweeps_held_pct": "pct", "monthly_reviews_held_pct": "pct",
    "actions_on_time_pct": "pct", "anomaly_ttd_median_hours": "hours", "anomaly_tta_median_hours": "hours",
    "anomaly_ttr_median_hours": "hours",
}


def kpi_unit(key: str) -> Unit:
    """The declared kind of KPI ``key`` (a KeyError naming it when a KPI has none)."""
    try:
        return KPI_UNITS[key]
    except KeyError:
        raise KeyError(f"quarterly_review: no kind declared for the KPI {key!r}; add it to KPI_UNITS") from None


FIELDS: dict[str, Unit] = {"quarter": "text", "kpis.start": "date", "kpis.end": "date", "kpis.bands_version": "count"}


@dataclass(frozen=True)
class QuarterlyFindings:
    card: Scorecard
    capabilities: list[Capability] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)

    @property
    def quarter(self) -> str:
        return self.card.quarter

    def as_json(self) -> JsonObject:
        return plain_json(self.card.as_json())

    def headlines(self) -> list[Headline]:
        return headlines(self.as_json())

    def scores(self, run: RitualRun | None = None) -> list[Score]:
        """The scores the run's decisions give (the proposals as they are without a run)."""
        from rituals.maturity import decide

        overrides, targets, chosen = decisions_state(run.decisions if run is not None else [])
        return decide(self.capabilities, self.proposals, overrides, targets, chosen)


def headlines(numbers: JsonObject) -> list[Headline]:
    """Each KPI with data, against its target: from ``kpis --json``, or a closed run's ``kpis``."""
    card = get_obj(numbers.get("kpis")) if "maturity" in numbers else numbers
    out = []
    listed = card.get("kpis")
    for k in listed if isinstance(listed, list) else []:
        if isinstance(k, dict):
            key = str(k.get("key"))
            out.append(Headline(key, str(k.get("title")), number(k.get("value")), kpi_unit(key),
                                target=number(k.get("target"))))
    return out


def decisions_state(decisions: list[dict[str, Any]]) -> tuple[dict[str, tuple[str, str]], dict[str, str], list[str]]:
    """Overrides (capability -> (stage, reason)), targets and the choice recorded as decisions; the
    latest decision about a capability wins."""
    overrides: dict[str, tuple[str, str]] = {}
    targets: dict[str, str] = {}
    chosen: list[str] = []
    for d in decisions:
        detail = d.get("detail") if isinstance(d, dict) else None
        if not isinstance(detail, dict):
            continue
        kind, cap = detail.get("kind"), detail.get("capability")
        if kind == OVERRIDE and isinstance(cap, str):
            overrides[cap] = (str(detail.get("stage")), str(detail.get("reason") or ""))
        elif kind == TARGET and isinstance(cap, str):
            targets[cap] = str(detail.get("target"))
        elif kind == CHOICE:
            chosen = [str(c) for c in detail.get("chosen") or []]
    return overrides, targets, chosen


def override_decision(findings: QuarterlyFindings, decisions: list[dict[str, Any]], capability: str,
                      stage: str | None = None, reason: str = "", target: str | None = None) -> list[tuple[str, JsonObject]]:
    """The decisions (text, detail) that override ``capability``'s stage and/or set its target, checked
    against every decision already taken (a ValueError names what is refused)."""
    from rituals.maturity import decide

    overrides, targets, chosen = decisions_state(decisions)
    title = next((c.title for c in findings.capabilities if c.id == capability), capability)
    out: list[tuple[str, JsonObject]] = []
    if stage is not None:
        overrides[capability] = (stage, reason)
        out.append((f"{title}: recorded at {stage} ({reason.strip()})" if reason.strip() else f"{title}: {stage}",
                    {"kind": OVERRIDE, "capability": capability, "stage": stage, "reason": reason.strip()}))
    if target is not None:
        targets[capability] = target
        out.append((f"{title}: target {target}", {"kind": TARGET, "capability": capability, "target": target}))
    decide(findings.capabilities, findings.proposals, overrides, targets, chosen)
    return out


def choice_decision(findings: QuarterlyFindings, decisions: list[dict[str, Any]], chosen: list[str]) -> tuple[str, JsonObject]:
    """The decision choosing ``chosen`` for next quarter (checked: one or two known capabilities)."""
    from rituals.maturity import decide

    overrides, targets, _old = decisions_state(decisions)
    decide(findings.capabilities, findings.proposals, overrides, targets, chosen)
    titles = [c.title for c in findings.capabilities if c.id in chosen]
    text = "Invest next quarter in: " + (", ".join(titles) if titles else "nothing chosen")
    return text, {"kind": CHOICE, "chosen": list(chosen)}


def compute(home: Home, request: Request) -> QuarterlyFindings:
    from rituals.kpis import scorecard
    from rituals.maturity import assess, load_capabilities

    card = scorecard(home, request.period)
    if request.progress is not None:  # the scorecard step's figures (all of as_json) before the maturity grid
        request.progress(plain_json(card.as_json()))
    _meta, caps = load_capabilities(home)
    return QuarterlyFindings(card, caps, assess(home, card))


def _numbers(session: Session, home: Home, run: RitualRun, findings: QuarterlyFindings) -> JsonObject:
    from rituals.maturity import gap_proposals, previous_review, review_numbers

    scores = findings.scores(run)
    gaps = gap_proposals(session, findings.capabilities, scores)
    previous = previous_review(session, findings.quarter, exclude_run=run.id)
    return plain_json(review_numbers(home, findings.card, scores, gaps, previous))


def freeze(session: Session, home: Home, run: RitualRun, findings: object) -> JsonObject:
    if not isinstance(findings, QuarterlyFindings):
        raise TypeError("a quarterly review freezes QuarterlyFindings")
    return _numbers(session, home, run, findings)


def close_extras(session: Session, close: CloseInput) -> JsonObject:
    from rituals.maturity import record_review

    findings = close.findings
    if not isinstance(findings, QuarterlyFindings):
        raise TypeError("a quarterly review closes over QuarterlyFindings")
    gaps = close.numbers.get("gaps")
    created = record_review(session, close.run, findings.scores(close.run),
                            [g for g in gaps if isinstance(g, dict)] if isinstance(gaps, list) else [],
                            now=close.home.clock.now(), today=close.home.clock.today(), actor_id=close.actor_id)
    return {"actions": list(created)}


KIND = "quarterly_review"
RITUAL = Ritual(
    kind=KIND, title="Quarterly maturity review", cadence="quarterly",
    owner="FinOps lead with leadership", output="KPIs, crawl/walk/run, next capability", period_shape="Q",
    reviews_ended_period=True,
    steps=(StepDef("scorecard", "KPI scorecard"), StepDef("maturity", "Maturity grid"),
           StepDef("gaps", "Gaps and next quarter")),
    command="finops-tui kpis", window=period_window, compute=compute, headlines=headlines, freeze=freeze,
    close_extras=close_extras, fields=FIELDS,
    close_detail="A closed run is read-only. The scores and the chosen capabilities' gap actions are stored.",
)
