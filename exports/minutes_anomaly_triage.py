"""The anomaly triage's section of its minutes: each anomaly of the window with what spiked, its
disposition and owner, and the time-to-detect and time-to-resolve KPIs frozen with the run."""

from __future__ import annotations

from typing import Any

from exports import markdown as md
from exports.format import counted
from exports.minutes import MinutesContext, register_section
from rituals.definitions.anomaly_triage import KIND as ANOMALY_TRIAGE


def _hours(h: Any) -> str:
    if not isinstance(h, int | float):
        return "-"
    return f"{h:.1f} h" if h < 48 else f"{h / 24:.1f} d"


def anomaly_section(ctx: MinutesContext) -> str | None:
    numbers = ctx.run.numbers or {}
    anomalies = numbers.get("anomalies")
    if not isinstance(anomalies, list):
        return None
    currency = numbers.get("currency") or ctx.currency or ""
    impact = f"{numbers.get('impact') or 0:,.0f}"
    events = numbers.get("by_event")
    if isinstance(events, list):
        # An event is the unit of impact: the largest excess among its cases, never their sum.
        lines = ["## Anomalies triaged", "",
                 md.inline(f"{counted(len(events), 'event')} ({counted(len(anomalies), 'case')}) from "
                           f"{numbers.get('start')} to {numbers.get('end')} (end exclusive), "
                           f"{numbers.get('untriaged_events', 0)} left untriaged"
                           + (f", {numbers['historical_events']} historical" if numbers.get("historical_events")
                              else "") + f", impact {impact} {currency} (each event once, at its largest case)."),
                 ""]
        if events:
            lines += [md.table(["event (lead case)", "what", "start", "days", "cases", f"impact ({currency})",
                                "status", "team"], [
                [md.cell(e.get("id")), md.cell(f"{e.get('dimension')} {e.get('label') or e.get('value')}"),
                 md.cell(e.get("start")), md.cell(e.get("days")), md.cell(len(e.get("cases") or [])),
                 md.cell(f"{e.get('impact') or 0:,.0f}"),
                 md.cell("historical" if e.get("historical") else "untriaged" if e.get("untriaged")
                         else e.get("status")), md.cell(e.get("owner_team") or "-")] for e in events],
                ["left", "left", "left", "right", "right", "right", "left", "left"]), "",
                "Cases (each event's cases; impacts overlap, so they do not add up):", ""]
    else:
        lines = ["## Anomalies triaged", "",
                 f"{len(anomalies)} anomalies from {md.inline(numbers.get('start'))} to "
                 f"{md.inline(numbers.get('end'))} (end exclusive), {numbers.get('untriaged', 0)} left untriaged, "
                 f"impact {md.inline(impact)} {md.inline(currency)}.", ""]
    if anomalies:
        rows = []
        for a in anomalies:
            top = next((r for r in a.get("root_causes") or [] if r.get("dimension") == "resource"), None)
            row = [md.cell(a.get("id")), md.cell(a.get("dimension")), md.cell(a.get("label") or a.get("value")),
                   md.cell(a.get("start")), md.cell(a.get("days")), md.cell(f"{a.get('impact') or 0:,.0f}"),
                   md.cell(a.get("status")), md.cell(a.get("category")), md.cell(a.get("owner_team") or "-"),
                   md.cell(top.get("value") if top else "-"), md.cell("yes" if a.get("historical") else "")]
            rows.append([*row, md.cell(a.get("event") or "-")] if isinstance(events, list) else row)
        heads = ["case", "dimension", "what", "start", "days", f"impact ({currency})", "status", "category", "team",
                 "top resource", "historical"]
        aligns = ["left", "left", "left", "left", "right", "right", "left", "left", "left", "left", "left"]
        if isinstance(events, list):
            heads, aligns = [*heads, "event"], [*aligns, "left"]
        lines.append(md.table(heads, rows, aligns))
        lines.append("")
    kpis = numbers.get("kpis") or {}
    ttd, ttr = kpis.get("ttd") or {}, kpis.get("ttr") or {}
    fp = kpis.get("false_positive_pct")
    over = " (over events)" if isinstance(events, list) else ""
    lines.append(f"Time to detect{over}: median {_hours(ttd.get('median_hours'))} ({ttd.get('median_band') or '-'}), "
                 f"p90 {_hours(ttd.get('p90_hours'))}; time to resolve: median {_hours(ttr.get('median_hours'))} "
                 f"({ttr.get('median_band') or '-'}), p90 {_hours(ttr.get('p90_hours'))}; false positives "
                 f"{f'{fp:.1f}%' if isinstance(fp, int | float) else '-'} of triaged cases.")
    return "\n".join(lines)


register_section(ANOMALY_TRIAGE, anomaly_section)
