"""The anomaly triage's minutes: the queue of the window's events, each with its cases (what spiked, by
how much, its disposition and owner), each case's root causes as a short list under it and its triage
comments where they were made; the time-to-detect and time-to-resolve KPIs frozen with the run; the
monthly history and the thresholds in the appendix."""

from __future__ import annotations

from typing import Any

from exports import markdown as md
from exports.format import counted
from exports.minutes import MinutesContext, MinutesSpec, register_minutes, rows_table
from rituals.definitions.anomaly_triage import KIND as ANOMALY_TRIAGE

ROOT_CAUSES = 5


def _what(x: dict[str, Any]) -> str:
    return f"{x.get('dimension')} {x.get('label') or x.get('value')}"


def _state(x: dict[str, Any]) -> str:
    status = str(x.get("status") or "-").replace("_", " ")
    if x.get("historical"):
        return f"{status} (historical)"
    return f"{status} (untriaged)" if x.get("untriaged") else status


def summary(ctx: MinutesContext) -> str | None:
    n = ctx.numbers or {}
    if "events" not in n:
        return None
    historical = f", {n['historical_events']} historical" if n.get("historical_events") else ""
    return md.inline(f"{counted(int(n['events']), 'event')} ({counted(int(n.get('count') or 0), 'case')}) from "
                     f"{n.get('start')} to {n.get('end')} (end exclusive), {n.get('untriaged_events', 0)} left "
                     f"untriaged{historical}; impact {ctx.fig('impact', n.get('impact'), exact=False)}, each event "
                     f"counted once at its largest case.")


def _case(ctx: MinutesContext, a: dict[str, Any]) -> list[str]:
    f = ctx.fig
    cur = a.get("currency") if isinstance(a.get("currency"), str) else None
    head = (f"{_what(a)}, {a.get('start')} to {a.get('end')} ({counted(int(a.get('days') or 0), 'day')}): "
            f"{f('anomalies[].actual_cost', a.get('actual_cost'), currency=cur)} against "
            f"{f('anomalies[].expected_cost', a.get('expected_cost'), currency=cur)} expected, impact "
            f"{f('anomalies[].impact', a.get('impact'), currency=cur)} "
            f"({f('anomalies[].impact_pct', a.get('impact_pct'))}). Status {_state(a)}, category "
            f"{a.get('category') or '-'}"
            + ("" if (a.get("dimension"), a.get("value")) == ("team", a.get("owner_team"))
               else f", team {a.get('owner_team') or '-'}")
            + (f", assignee {ctx.person_text(a['assignee'])}" if a.get("assignee") else "") + ".")
    out = [f"#### Case {md.inline(a.get('id'))}", "", md.inline(head), ""]
    causes = a.get("root_causes") or []
    if causes:
        out += ["Root causes:", "", md.bullets(md.inline(
            f"{r.get('dimension')} {r.get('value')}" + (f" (team {r['team']})" if r.get("team") else "")
            + f": {f('anomalies[].root_causes[].contribution', r.get('contribution'), currency=cur)}, "
              f"{f('anomalies[].root_causes[].share_pct', r.get('share_pct'))} of the impact")
            for r in causes[:ROOT_CAUSES]), ""]
        if len(causes) > ROOT_CAUSES:
            out += [f"and {counted(len(causes) - ROOT_CAUSES, 'smaller cause')}.", ""]
    for note in a.get("notes") or []:
        by = ctx.person_text(note.get("by")) if note.get("by") else "someone"
        out += [md.quote(note.get("text", ""), f"**Triage note** ({md.cell(by)}, "
                                               f"{f('anomalies[].notes[].at', note.get('at'))}):"), ""]
    return out


def queue(ctx: MinutesContext) -> str | None:
    n = ctx.numbers or {}
    cases = n.get("anomalies")
    if not isinstance(cases, list):
        return None
    events = n.get("by_event") if isinstance(n.get("by_event"), list) else [{**c, "cases": [c.get("id")]}
                                                                             for c in cases]
    if not events:
        return "No anomaly overlaps the window."
    by_id = {c.get("id"): c for c in cases}
    out = ["The window's events (an event is one spike seen in several series; its impact is its largest "
           "case's):", "",
           md.table(["event (lead case)", "what", "from", "to", "cases", "impact", "status", "team"], [
               [md.cell(e.get("id")), md.cell(_what(e)), md.cell(ctx.fig("by_event[].start", e.get("start"))),
                md.cell(ctx.fig("by_event[].end", e.get("end"))), str(len(e.get("cases") or [])),
                md.cell(ctx.fig("by_event[].impact", e.get("impact"))), md.cell(_state(e)),
                md.cell(e.get("owner_team") or "-")] for e in events],
               ["left", "left", "left", "left", "right", "right", "left", "left"]), ""]
    for e in events:
        out += [f"### Event {md.inline(e.get('id'))}: {md.inline(_what(e))}", ""]
        for case_id in e.get("cases") or []:
            if case_id in by_id:
                out += _case(ctx, by_id[case_id])
    kpis = n.get("kpis") or {}
    if kpis:
        ttd, ttr = kpis.get("ttd") or {}, kpis.get("ttr") or {}
        f = ctx.fig
        out.append(md.inline(
            f"Time to detect (over events): median {f('kpis.ttd.median_hours', ttd.get('median_hours'))}"
            f" ({ttd.get('median_band') or 'no band'}), p90 {f('kpis.ttd.p90_hours', ttd.get('p90_hours'))}; time to "
            f"resolve: median {f('kpis.ttr.median_hours', ttr.get('median_hours'))} "
            f"({ttr.get('median_band') or 'no band'}), p90 {f('kpis.ttr.p90_hours', ttr.get('p90_hours'))}; false "
            f"positives {f('kpis.false_positive_pct', kpis.get('false_positive_pct'))} of "
            f"{counted(int(kpis.get('triaged') or 0), 'triaged case')}."))
    return "\n".join(out).strip()


def appendix(ctx: MinutesContext) -> list[tuple[str, str]]:
    n = ctx.numbers or {}
    out = []
    months = (n.get("kpis") or {}).get("per_month") or []
    if months:
        out.append(("Anomalies per month", rows_table(ctx, "kpis.per_month", months, [
            ("month", "month"), ("events", "events"), ("cases", "cases"), ("impact", "impact")])))
    statuses = n.get("by_status") or {}
    if statuses:
        out.append(("Cases by status", md.table(["status", "cases"], [
            [md.cell(k.replace("_", " ")), md.cell(ctx.fig("by_status.*", v))] for k, v in statuses.items()],
            ["left", "right"])))
    th = n.get("thresholds") or {}
    if th:
        out.append(("Detection thresholds", md.inline(
            f"A case needs an impact of at least {ctx.fig('thresholds.min_impact', th.get('min_impact'))} and "
            f"{ctx.fig('thresholds.min_impact_pct', th.get('min_impact_pct'))} over the expected spend, on a series "
            f"with at least {ctx.fig('thresholds.min_history_days', th.get('min_history_days'))} days of history.")))
    return out


register_minutes(ANOMALY_TRIAGE, MinutesSpec(steps={"queue": queue}, summary=summary, appendix=appendix))
