"""The quarterly maturity and KPI review's minutes: the KPI scorecard as frozen (value, trend sparkline,
target, stage; KPIs without data listed as such), the maturity grid (proposed and recorded stage, the
reasons for overrides, targets), the capabilities chosen for next quarter, the gaps with their owners and
the comparison with the previous closed review; the stage bands and the evidence in the appendix. Each
KPI is shown by the kind its definition declares (``KPI_UNITS``)."""

from __future__ import annotations

from typing import Any

from exports import markdown as md
from exports.format import figure_text
from exports.minutes import MinutesContext, MinutesSpec, register_minutes
from rituals.definitions.quarterly_review import KIND as QUARTERLY_REVIEW
from rituals.definitions.quarterly_review import kpi_unit

SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "-"
    lo, hi = min(known), max(known)
    span = hi - lo or 1.0
    return "".join("·" if v is None else SPARKS[round((v - lo) / span * (len(SPARKS) - 1))] for v in values)


def kpi_value(key: str, value: float | None) -> str:
    return figure_text(value, kpi_unit(key), missing="no data")


def _review(ctx: MinutesContext) -> dict[str, Any] | None:
    n = ctx.numbers or {}
    return n if "kpis" in n and "maturity" in n else None


def _stage(x: dict[str, Any]) -> str:
    if x.get("stage_note"):
        cases = x.get("cases")
        return f"{x['stage_note']} ({cases} of {x.get('min_cases')})" if cases is not None else str(x["stage_note"])
    return str(x.get("stage") or "-")


def scorecard(ctx: MinutesContext) -> str | None:
    n = _review(ctx)
    if n is None:
        return None
    k = n["kpis"]
    rows = []
    for x in k.get("kpis", []):
        target = "-" if x.get("target") is None else kpi_value(x["key"], x["target"])
        rows.append([md.cell(x["title"]), md.cell(kpi_value(x["key"], x["value"])),
                     md.cell(sparkline([t["value"] for t in x["trend"]])), md.cell(target), md.cell(_stage(x))])
    quarters = k.get("quarters") or ["?"]
    out = [md.inline(f"The quarter {k.get('quarter')} ({k.get('start')} to {k.get('end')}, end exclusive), against "
                     f"each KPI's target; the trend runs from {quarters[0]} to {k.get('quarter')}."), ""]
    out.append(md.table(["KPI", "value", "trend", "target", "stage"], rows, ["left", "right", "left", "right", "left"])
               if rows else "No KPI had data.")
    if k.get("no_data"):
        out += ["", "No data:", "", md.bullets(md.inline(f"{x['title']}: {x['reason']}") for x in k["no_data"])]
    waste = next((x for x in k.get("kpis", []) if x["key"] == "waste_ratio_pct"), None)
    if waste and (waste.get("detail") or {}).get("rules"):
        if waste["detail"].get("formula"):
            out += ["", md.inline(f"Waste / idle ratio = {waste['detail']['formula']}.")]
        out += ["", "Waste counted by rule:", "",
                md.bullets(md.inline(f"{r['title']}: {r['summary']}") for r in waste["detail"]["rules"])]
    return "\n".join(out)


def maturity(ctx: MinutesContext) -> str | None:
    n = _review(ctx)
    if n is None:
        return None
    rows, overrides = [], []
    for m in n.get("maturity", []):
        proposed = m.get("proposed_stage") or "no data"
        if m.get("above_target"):
            proposed += f" ({m['above_target']})"
        rows.append([md.cell(m["title"]), md.cell(proposed), md.cell(m.get("stage") or "-"),
                     md.cell(m.get("target_stage") or "-"), "yes" if m.get("chosen") else ""])
        if m.get("overridden"):
            overrides.append(md.inline(f"{m['title']}: recorded at {m.get('stage')} where the evidence proposed "
                                       f"{m.get('proposed_stage') or 'no stage'}; {m.get('reason') or 'no reason given'}"))
    out = [md.table(["capability", "proposed", "recorded", "target", "next quarter"], rows)]
    if overrides:
        out += ["", "Overrides:", "", md.bullets(overrides)]
    return "\n".join(out)


def gaps(ctx: MinutesContext) -> str | None:
    n = _review(ctx)
    if n is None:
        return None
    titles = {m["capability"]: m["title"] for m in n.get("maturity", [])}
    chosen = [titles.get(c, c) for c in n.get("chosen", [])]
    out = [md.inline("Chosen for next quarter: " + (", ".join(chosen) if chosen else "none recorded") + "."), ""]
    if n.get("gaps"):
        out.append(md.table(["gap", "owner", "next quarter"], [
            [md.cell(g["title"]), md.cell(ctx.person_text(g["owner"]) if g.get("owner") else "no owner in the RACI"),
             "yes" if g.get("chosen") else ""] for g in n["gaps"]]))
    else:
        out.append("No capability below its target.")
    prev = n.get("previous")
    out.append("")
    if not prev:
        out.append("No previous closed quarterly review to compare the stages with.")
    else:
        rows = [[md.cell(c["capability"]), md.cell(c.get("previous_stage") or "-"), md.cell(c.get("stage") or "-"),
                 md.cell(c.get("change") or "-")] for c in n.get("comparison", [])]
        out += [md.inline(f"Stages against {prev['quarter']} (run {prev['run_id']}):"), "",
                md.table(["capability", md.cell(prev["quarter"]), md.cell(n.get("quarter", "now")), "change"], rows)]
    return "\n".join(out)


def _bands(x: dict[str, Any]) -> list[str]:
    bands = x.get("bands") or {}
    sign = "≥" if x.get("better") == "higher" else "≤"
    return [md.cell(f"{sign} {kpi_value(x['key'], bands[s])}") if isinstance(bands.get(s), int | float) else "-"
            for s in ("crawl", "walk", "run")]


def appendix(ctx: MinutesContext) -> list[tuple[str, str]]:
    n = _review(ctx)
    if n is None:
        return []
    k = n["kpis"]
    out = []
    if k.get("kpis"):
        out.append(("Stage bands", md.table(["KPI", "crawl", "walk", "run", "cases needed"], [
            [md.cell(x["title"]), *_bands(x), md.cell(x.get("min_cases") or "-")] for x in k["kpis"]],
            ["left", "right", "right", "right", "right"]) + "\n\n" + md.inline(
            f"Bands version {k.get('bands_version')}: {k.get('bands_source', '')}.")))
    evidence = [(m["title"], e) for m in n.get("maturity", []) for e in m.get("evidence", [])]
    if evidence:
        out.append(("Evidence per capability", md.table(["capability", "evidence", "value"], [
            [md.cell(title), md.cell(e.get("label")), md.cell(e.get("value"))] for title, e in evidence])))
    return out


register_minutes(QUARTERLY_REVIEW, MinutesSpec(
    steps={"scorecard": scorecard, "maturity": maturity, "gaps": gaps}, appendix=appendix))
