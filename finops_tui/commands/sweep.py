"""`finops-tui sweep`: the weekly tag sweep's figures, headless (cron, CI guardrails)."""

from __future__ import annotations

import click

from finops_tui.errors import EXIT_CHECK_FAILED, echo, echo_json, handle_errors
from finops_tui.windows import date_window
from rituals.definitions.tag_sweep import KIND as TAG_SWEEP


def window(home, start: str | None, end: str | None):  # type: ignore[no-untyped-def]
    """--start/--end as dates; either alone spans 7 days; neither: the last 7 complete days."""
    from rituals.tag_fixes import default_window

    return date_window(start, end, default_window(home.clock.today()), 7)


@click.command("sweep")
@click.option("--start", default=None, metavar="DATE", help="First day, inclusive (YYYY-MM-DD).")
@click.option("--end", default=None, metavar="DATE", help="Day after the last, exclusive (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the figures a sweep run freezes).")
@click.option("--check", is_flag=True,
              help="Exit 1 when allocation coverage is below the configured target (targets.allocation_pct).")
@click.pass_obj
def command(home, start: str | None, end: str | None, as_json: bool, check: bool) -> None:  # type: ignore[no-untyped-def]
    """The weekly tag sweep: allocation coverage (by tag, by rule), tag hygiene per key, where unallocated
    spend leaks, variant tag values and the open tag fixes checked against the data; for shared EKS/ECS
    clusters (CUR 2.0 split cost allocation data), each cluster's coverage by its pods and its nodes' idle
    cost (--json: clusters, cluster_namespaces).

    Default window: the last 7 complete days (today excluded). --start alone or --end alone spans 7 days.
    """
    from rituals.ritual import ritual

    with handle_errors():
        s, e = window(home, start, end)
        numbers = ritual(TAG_SWEEP).findings(home, window=(s, e)).as_json()
    if as_json:
        echo_json(numbers)
    else:
        _print_summary(numbers)
    if check:
        pct, target = numbers["coverage_pct"], numbers["target_pct"]
        if pct is None:
            echo(f"check failed: no spend between {s} and {e} to measure allocation on", err=True)
            raise SystemExit(EXIT_CHECK_FAILED)
        if pct < target:
            echo(f"check failed: allocation coverage {pct:.1f}% is below the target {target:g}%", err=True)
            raise SystemExit(EXIT_CHECK_FAILED)


def _print_summary(n: dict) -> None:  # type: ignore[type-arg]
    from exports.format import counted, money, pct

    cur = n["currency"]
    echo(f"Tag sweep {n['start']} to {n['end']} (end exclusive), allocation key '{n['allocation_key']}'")
    echo(f"  coverage {pct(n['coverage_pct'])} (target {n['target_pct']:g}%): by tag {pct(n['by_tag_pct'])}, "
               f"by rule {pct(n['by_rule_pct'])}; unallocated {money(n['unallocated_cost'], cur)} of "
               f"{money(n['total_cost'], cur)}")
    echo("  per key: " + ", ".join(f"{k} {pct(v)}" for k, v in n["by_key"].items()))
    from rituals.tag_sweep import source_note

    if source_note(n.get("source")):
        echo(f"  {source_note(n.get('source'))}")
    for row in n["unallocated_by_account"][:5]:
        echo(f"  leak: account {row['account_name'] or row['account_id'] or '-'}: "
                   f"{money(row['unallocated_cost'], cur)}")
    for row in n["top_unallocated"][:5]:
        echo(f"  resource {row['resource_id']}: {money(row['cost'], cur, decimals=2)} "
                   f"(suggested owner {row['suggested_owner'] or '-'})")
    if n["unused_commitment"]:
        u = n["unused_commitment"]
        echo(f"  unused commitment: {money(u['cost'], cur)} (owner {u['owner'] or '-'})")
    checks = n["fix_checks"]
    echo(f"  {counted(len(n['variants']), 'variant')}; open fixes verified: "
               f"{sum(c['verified'] for c in checks)} of {len(checks)}")
    for c in checks:
        echo(f"  fix #{c['action_id']} {c['title']} ({c['owner'] or '-'}): {c['verdict_text']}")
