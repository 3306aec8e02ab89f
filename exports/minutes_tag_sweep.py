"""The tag sweep's minutes: coverage against its target with each required key's hygiene, where the
unallocated spend leaks, the variant spellings, and the tag fixes checked against the data; the weekly
trend and the breakdowns by account, service and team in the appendix. All read from the frozen numbers."""

from __future__ import annotations

from typing import Any

from exports import markdown as md
from exports.minutes import MinutesContext, MinutesSpec, register_minutes, rows_table
from rituals.definitions.tag_sweep import KIND as TAG_SWEEP

TOP_RESOURCES = 10
VERDICTS = {"verified": "yes", "still_unallocated": "no: still unallocated", "no_data": "not checked: no spend",
            "no_evidence": "no evidence: no spend then or now"}


def _verdict(check: dict[str, Any]) -> str:
    """A fix's verdict in short, for a run frozen before verdicts had their own text (older runs say yes
    or no)."""
    verdict = check.get("verdict")
    if isinstance(verdict, str):
        return VERDICTS.get(verdict, verdict.replace("_", " "))
    return "yes" if check.get("verified") else "no"


def _meets(n: dict[str, Any]) -> str:
    return {True: "meets", False: "is below", None: "cannot be measured against"}[n.get("meets_target")]


def summary(ctx: MinutesContext) -> str | None:
    n = ctx.numbers or {}
    if "coverage_pct" not in n:
        return None
    return md.inline(f"Allocation coverage {ctx.fig('coverage_pct', n['coverage_pct'])} {_meets(n)} the "
                     f"{ctx.fig('target_pct', n.get('target_pct'))} target for {n.get('start')} to {n.get('end')} "
                     f"(end exclusive).")


def coverage(ctx: MinutesContext) -> str | None:
    n = ctx.numbers or {}
    if "coverage_pct" not in n:
        return None
    f = ctx.fig
    out = [md.inline(f"Of {f('total_cost', n.get('total_cost'), exact=False)} spend "
                     f"({', '.join(n.get('charge_categories') or []) or 'all'} charges), "
                     f"{f('allocated_cost', n.get('allocated_cost'), exact=False)} has an owner: "
                     f"{f('by_tag_pct', n.get('by_tag_pct'))} by tag and {f('by_rule_pct', n.get('by_rule_pct'))} "
                     f"by an account rule, {f('coverage_pct', n['coverage_pct'])} in all; "
                     f"{f('unallocated_cost', n.get('unallocated_cost'), exact=False)} is unallocated.")]
    keys = n.get("by_key") or {}
    if keys:
        out += ["", "Share of spend carrying each required tag:", "",
                md.table(["tag key", "spend tagged"], [[md.cell(k), md.cell(f("by_key.*", v))] for k, v in keys.items()],
                         ["left", "right"])]
    return "\n".join(out)


def leaks(ctx: MinutesContext) -> str | None:
    n = ctx.numbers or {}
    out: list[str] = []
    by_account = n.get("unallocated_by_account") or []
    if by_account:
        out += ["Unallocated spend by account:", "",
                rows_table(ctx, "unallocated_by_account", by_account,
                           [("account_name", "account"), ("account_id", "id"), ("unallocated_cost", "unallocated"),
                            ("share_pct", "share of the leak")]), ""]
    top = n.get("top_unallocated") or []
    if top:
        shown = min(len(top), TOP_RESOURCES)
        out += [f"The {shown} largest unallocated resources (of {len(top)} listed in the sweep):", "",
                rows_table(ctx, "top_unallocated", top,
                           [("resource_id", "resource"), ("account_name", "account"), ("service", "service"),
                            ("cost", "spend"), ("suggested_owner", "suggested team"), ("fix_owner", "fix owner")],
                           limit=TOP_RESOURCES), ""]
    unused = n.get("unused_commitment")
    if isinstance(unused, dict):
        out.append(md.inline(f"Unused commitment: {ctx.fig('unused_commitment.cost', unused.get('cost'))}, owned "
                             f"by {ctx.person_text(unused.get('owner')) if unused.get('owner') else 'nobody'}."))
    return "\n".join(out).strip() or "No unallocated spend."


def variants(ctx: MinutesContext) -> str | None:
    rows = (ctx.numbers or {}).get("variants") or []
    if not rows:
        return "No variant spellings of a tag value."
    return "Tag values spelled another way than the taxonomy's (reported, not merged):\n\n" + rows_table(
        ctx, "variants", rows, [("key", "key"), ("value", "spelling"), ("canonical", "canonical"), ("cost", "spend")])


def fixes(ctx: MinutesContext) -> str | None:
    checks = (ctx.numbers or {}).get("fix_checks") or []
    if not checks:
        return "No open tag fix to check."
    rows = [{**c, "verdict_text": c.get("verdict_text") or _verdict(c)} for c in checks]
    return "The open tag fixes, checked against this week's data:\n\n" + rows_table(
        ctx, "fix_checks", rows, [("action_id", "#"), ("title", "fix"), ("owner", "owner"),
                                    ("before_unallocated_cost", "unallocated before"),
                                    ("unallocated_cost", "unallocated now"), ("moved_cost", "moved"),
                                    ("verdict_text", "verdict")])


def appendix(ctx: MinutesContext) -> list[tuple[str, str]]:
    n = ctx.numbers or {}
    out = []
    if n.get("trend"):
        out.append(("Weekly trend", rows_table(ctx, "trend", n["trend"], [
            ("week", "week"), ("start", "from"), ("end", "to"), ("total_cost", "spend"), ("coverage_pct", "coverage"),
            ("by_tag_pct", "by tag")])))
    if n.get("by_account"):
        out.append(("Coverage by account", rows_table(ctx, "by_account", n["by_account"], [
            ("account_name", "account"), ("account_id", "id"), ("cost", "spend"), ("allocated_cost", "allocated"),
            ("unallocated_cost", "unallocated"), ("coverage_pct", "coverage")])))
    if n.get("by_service"):
        out.append(("Coverage by service", rows_table(ctx, "by_service", n["by_service"], [
            ("service", "service"), ("cost", "spend"), ("allocated_cost", "allocated"),
            ("unallocated_cost", "unallocated"), ("coverage_pct", "coverage")])))
    if n.get("unallocated_by_service"):
        out.append(("Unallocated spend by service", rows_table(ctx, "unallocated_by_service",
                                                                n["unallocated_by_service"], [
            ("service", "service"), ("unallocated_cost", "unallocated"), ("share_pct", "share of the leak")])))
    if n.get("clusters"):
        out.append(("Shared clusters (pods and idle nodes)", rows_table(ctx, "clusters", n["clusters"], [
            ("cluster", "cluster"), ("nodes", "nodes"), ("pods", "pods"), ("cost", "node spend"),
            ("allocated_cost", "allocated"), ("coverage_pct", "coverage"), ("idle_cost", "idle"),
            ("idle_pct", "idle share")])))
    if n.get("cluster_namespaces"):
        out.append(("Cluster spend by namespace", rows_table(ctx, "cluster_namespaces", n["cluster_namespaces"], [
            ("cluster", "cluster"), ("namespace", "namespace"), ("team", "team"), ("how", "how"),
            ("cost", "spend"), ("idle_cost", "of which idle")])))
    if n.get("by_team"):
        out.append(("Spend by team", rows_table(ctx, "by_team", n["by_team"], [
            ("team", "team"), ("cost", "spend"), ("share_pct", "share"), ("by_tag_pct", "by tag"),
            ("by_rule_pct", "by rule")])))
    return out


register_minutes(TAG_SWEEP, MinutesSpec(
    steps={"coverage": coverage, "leaks": leaks, "variants": variants, "fixes": fixes},
    summary=summary, appendix=appendix))
