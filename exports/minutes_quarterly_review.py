"""The quarterly maturity and KPI review's minutes: the KPI scorecard as frozen (value, trend sparkline,
target, stage; KPIs without data listed as such), the maturity grid (proposed and recorded stage, override
reasons, targets, evidence), the capabilities chosen for next quarter, the gaps with their owners, and the
comparison with the previous closed review."""

from __future__ import annotations

from typing import Any

from exports import markdown as md
from exports.format import pct
from exports.minutes import MinutesContext, register_numbers
from rituals.definitions.quarterly_review import KIND as QUARTERLY_REVIEW

SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "-"
    lo, hi = min(known), max(known)
    span = hi - lo or 1.0
    return "".join("·" if v is None else SPARKS[round((v - lo) / span * (len(SPARKS) - 1))] for v in values)


def kpi_value(key: str, value: float | None) -> str:
    if value is None:
        return "no data"
    return pct(value) if key.endswith("_pct") else f"{value / 24:.1f} d ({value:.0f} h)"


def bands_text(x: dict[str, Any]) -> str:
    """The stage minimums the KPI was rated against, as the bands file used gives them ("walk ≥ 90.0%,
    run ≥ 95.0%"; "run ≤ 1.0 d (24 h), walk ≤ 7.0 d (168 h)"), with the cases a stage needs."""
    bands = x.get("bands") or {}
    sign = "≥" if x.get("better") == "higher" else "≤"
    stages = [(s, bands[s]) for s in ("crawl", "walk", "run") if isinstance(bands.get(s), int | float)]
    if x.get("better") != "higher":
        stages.reverse()
    text = ", ".join(f"{s} {sign} {kpi_value(x['key'], v)}" for s, v in stages) or "-"
    if x.get("min_cases"):
        text += f"; at least {x['min_cases']} cases"
    return text


def _stage(x: dict[str, Any]) -> str:
    if x.get("stage_note"):
        cases = x.get("cases")
        return f"{x['stage_note']} ({cases} of {x.get('min_cases')})" if cases is not None else str(x["stage_note"])
    return str(x.get("stage") or "-")


def scorecard_markdown(k: dict[str, Any]) -> str:
    rows = []
    for x in k.get("kpis", []):
        target = "-" if x.get("target") is None else kpi_value(x["key"], x["target"])
        rows.append([md.cell(x["title"]), kpi_value(x["key"], x["value"]),
                     sparkline([t["value"] for t in x["trend"]]), target, md.cell(bands_text(x)),
                     md.cell(_stage(x))])
    out = [md.table(["KPI", "value", f"trend ({k.get('quarters', ['?'])[0]} to {k.get('quarter')})", "target",
                     "bands used", "stage"], rows, ["left", "right", "left", "right", "left", "left"])
           if rows else "No KPI had data."]
    if k.get("no_data"):
        out += ["", "No data: " + "; ".join(f"{md.inline(x['title'])} ({md.inline(x['reason'])})"
                                            for x in k["no_data"])]
    waste = next((x for x in k.get("kpis", []) if x["key"] == "waste_ratio_pct"), None)
    if waste:
        out += ["", "Waste rules: " + "; ".join(f"{md.inline(r['title'])}: {md.inline(r['summary'])}"
                                                for r in waste["detail"].get("rules", []))]
    out += ["", f"Stages rated against the bands above (version {k.get('bands_version')}: "
            f"{md.inline(k.get('bands_source', ''))})."]
    return "\n".join(out)


def maturity_markdown(n: dict[str, Any], ctx: MinutesContext) -> str:
    rows = []
    for m in n.get("maturity", []):
        evidence = "; ".join(f"{e['label']}: {e['value']}" for e in m.get("evidence", []))
        recorded = m.get("stage") or "-"
        if m.get("overridden"):
            recorded += f" (override: {m.get('reason')})"
        proposed = m.get("proposed_stage") or "no data"
        if m.get("above_target"):
            proposed += f" ({m['above_target']})"
        rows.append([md.cell(m["title"]), md.cell(proposed), md.cell(recorded),
                     md.cell(m.get("target_stage")), "yes" if m.get("chosen") else "", md.cell(evidence)])
    return md.table(["capability", "proposed", "recorded", "target", "next quarter", "evidence"], rows)


def choice_markdown(n: dict[str, Any], ctx: MinutesContext) -> str:
    titles = {m["capability"]: m["title"] for m in n.get("maturity", [])}
    chosen = [md.inline(titles.get(c, c)) for c in n.get("chosen", [])]
    out = ["Chosen for next quarter: " + (", ".join(chosen) if chosen else "none recorded"), ""]
    if n.get("gaps"):
        out.append(md.table(["gap", "owner", "next quarter"], [
            [md.cell(g["title"]), md.cell(ctx.person_text(g["owner"]) if g.get("owner") else "no owner in the RACI"),
             "yes" if g.get("chosen") else ""] for g in n["gaps"]]))
    else:
        out.append("No capability below its target.")
    return "\n".join(out)


def comparison_markdown(n: dict[str, Any]) -> str:
    prev = n.get("previous")
    if not prev:
        return "No previous closed quarterly review."
    rows = [[md.cell(c["capability"]), md.cell(c.get("previous_stage") or "-"), md.cell(c.get("stage") or "-"),
             md.cell(c.get("change") or "-")] for c in n.get("comparison", [])]
    return (f"Against {md.inline(prev['quarter'])} (run {prev['run_id']}):\n\n"
            + md.table(["capability", prev["quarter"], n.get("quarter", "now"), "change"], rows))


def quarterly_numbers(ctx: MinutesContext) -> list[tuple[str, str]]:
    n = ctx.run.numbers or {}
    if "kpis" not in n or "maturity" not in n:
        return md.numbers_sections(n)
    return [("KPI scorecard", scorecard_markdown(n["kpis"])), ("Maturity grid", maturity_markdown(n, ctx)),
            ("Next quarter's choice and gaps", choice_markdown(n, ctx)),
            ("Quarter over quarter", comparison_markdown(n))]


register_numbers(QUARTERLY_REVIEW, quarterly_numbers)
