"""The anomaly triage's section of its minutes: each anomaly of the window with what spiked, its
disposition and owner, and the time-to-detect and time-to-resolve KPIs frozen with the run."""

from __future__ import annotations

from typing import Any

from exports import markdown as md
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
    lines = ["## Anomalies triaged", "",
             f"{len(anomalies)} anomalies from {md.inline(numbers.get('start'))} to {md.inline(numbers.get('end'))} "
             f"(end exclusive), {numbers.get('untriaged', 0)} left untriaged, impact "
             f"{md.inline(impact)} {md.inline(currency)}.", ""]
    if anomalies:
        rows = []
        for a in anomalies:
            top = next((r for r in a.get("root_causes") or [] if r.get("dimension") == "resource"), None)
            rows.append([md.cell(a.get("id")), md.cell(a.get("dimension")), md.cell(a.get("label") or a.get("value")),
                         md.cell(a.get("start")), md.cell(a.get("days")), md.cell(f"{a.get('impact') or 0:,.0f}"),
                         md.cell(a.get("status")), md.cell(a.get("category")), md.cell(a.get("owner_team") or "-"),
                         md.cell(top.get("value") if top else "-"),
                         md.cell("yes" if a.get("historical") else "")])
        lines.append(md.table(["case", "dimension", "what", "start", "days", f"impact ({currency})", "status",
                               "category", "team", "top resource", "historical"], rows,
                              ["left", "left", "left", "left", "right", "right", "left", "left", "left", "left",
                               "left"]))
        lines.append("")
    kpis = numbers.get("kpis") or {}
    ttd, ttr = kpis.get("ttd") or {}, kpis.get("ttr") or {}
    fp = kpis.get("false_positive_pct")
    lines.append(f"Time to detect: median {_hours(ttd.get('median_hours'))} ({ttd.get('median_band') or '-'}), "
                 f"p90 {_hours(ttd.get('p90_hours'))}; time to resolve: median {_hours(ttr.get('median_hours'))} "
                 f"({ttr.get('median_band') or '-'}), p90 {_hours(ttr.get('p90_hours'))}; false positives "
                 f"{f'{fp:.1f}%' if isinstance(fp, int | float) else '-'} of triaged cases.")
    return "\n".join(lines)


register_section(ANOMALY_TRIAGE, anomaly_section)
