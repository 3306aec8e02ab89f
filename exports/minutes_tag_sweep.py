"""The tag sweep's section of its minutes: the coverage headline against target, where spend leaks, the
variants and the fixes checked against the data, read from the run's frozen numbers (a draft run has none
yet, so the section is left out)."""

from __future__ import annotations

from exports import markdown as md
from exports.format import money, pct
from exports.minutes import MinutesContext, register_section
from rituals.definitions.tag_sweep import KIND as TAG_SWEEP

VERDICTS = {"verified": "yes", "still_unallocated": "no: still unallocated", "no_data": "not checked: no spend",
            "no_evidence": "no evidence: no spend then or now"}


def _verdict(check: dict[str, object]) -> str:
    """A fix's verdict as its own figures read (runs frozen before verdicts existed say yes or no)."""
    verdict = check.get("verdict")
    if isinstance(verdict, str):
        return VERDICTS.get(verdict, verdict.replace("_", " "))
    return "yes" if check.get("verified") else "no"


def sweep_section(ctx: MinutesContext) -> str | None:
    n = ctx.run.numbers
    if not n or "coverage_pct" not in n:
        return None
    cur = n.get("currency") or ctx.currency
    verdict = {True: "meets", False: "is below", None: "cannot be measured against"}[n.get("meets_target")]
    lines = [
        "## The sweep",
        "",
        md.inline(f"Allocation coverage {pct(n['coverage_pct'])} (by tag {pct(n.get('by_tag_pct'))}, by rule "
                  f"{pct(n.get('by_rule_pct'))}) {verdict} the target of {n.get('target_pct', 0):g}% for "
                  f"{n['start']} to {n['end']} (end exclusive); {money(n.get('unallocated_cost'), cur)} of "
                  f"{money(n.get('total_cost'), cur)} unallocated."),
        "",
    ]
    leaks = n.get("unallocated_by_account") or []
    if leaks:
        lines += [md.table(["account", "unallocated", "share of the leak"], [
            [md.cell(r.get("account_name") or r.get("account_id") or "-"), money(r["unallocated_cost"], cur),
             pct(r.get("share_pct"))] for r in leaks[:10]], ["left", "right", "right"]), ""]
    top = n.get("top_unallocated") or []
    if top:
        lines += [md.table(["resource", "account", "spend", "suggested owner"], [
            [md.cell(r.get("resource_id") or "-"), md.cell(r.get("account_id") or "-"),
             money(r["cost"], cur, decimals=2), md.cell(r.get("suggested_owner") or "-")] for r in top[:10]],
            ["left", "left", "right", "left"]), ""]
    unused = n.get("unused_commitment")
    if unused:
        lines += [md.inline(f"Unused commitment: {money(unused['cost'], cur)}, owner "
                            f"{unused.get('owner') or '-'}."), ""]
    variants = n.get("variants") or []
    if variants:
        lines += [md.table(["key", "spelling", "canonical", "spend"], [
            [md.cell(v["key"]), md.cell(v["value"]), md.cell(v["canonical"]), money(v["cost"], cur)]
            for v in variants], ["left", "left", "left", "right"]), ""]
    checks = n.get("fix_checks") or []
    if checks:
        lines += [md.table(["#", "fix", "owner", "moved", "unallocated now", "verified"], [
            [str(c["action_id"]), md.cell(c["title"]), md.cell(c.get("owner") or "-"),
             money(c["moved_cost"], cur, decimals=2), money(c["unallocated_cost"], cur, decimals=2),
             md.cell(_verdict(c))] for c in checks],
            ["right", "left", "left", "right", "right", "left"]), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


register_section(TAG_SWEEP, sweep_section)
