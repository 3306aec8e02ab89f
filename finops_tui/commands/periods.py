"""`finops-tui periods list|remove|rollup`: the billing periods in the cost store, taking one back out, and the
daily rollup summed from them."""

from __future__ import annotations

from typing import Any

import click

from finops_tui.errors import echo, echo_json, handle_errors


@click.group("periods")
def command() -> None:
    """The billing periods the cost store holds (per billing account and provider), removing one, and
    rebuilding the daily rollup the rituals read."""


def _json_rows(periods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**p, "billing_period_start": p["billing_period_start"].isoformat() if p["billing_period_start"] else None,
             "imported_at": p["imported_at"].isoformat() if p["imported_at"] else None} for p in periods]


def period_lines(periods: list[dict[str, Any]]) -> list[str]:
    from exports.sanitize import plain

    out = [f"{'period':<9}{'billing account':<22}{'provider':<12}{'rows':>10}{'BilledCost':>16}"
           f"{'EffectiveCost':>16}  {'imported at (UTC)':<20}source"]
    for p in periods:
        at = p["imported_at"].strftime("%Y-%m-%d %H:%M") if p["imported_at"] else "-"
        out.append(f"{p['billing_period']:<9}{plain(str(p['billing_account_id']))[:21]:<22}"
                   f"{plain(str(p['provider'] or '-'))[:11]:<12}{p['rows']:>10,}{p['billed_cost'] or 0:>16,.2f}"
                   f"{p['effective_cost'] or 0:>16,.2f}  {at:<20}{plain(str(p['source'] or '-'))}")
    return out


@command.command("list", short_help="Billing periods per account and provider, with their import.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the periods under `periods`).")
@click.pass_obj
def list_(home, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List billing period x billing account x provider: rows, BilledCost, EffectiveCost, the import's
    source files and when it was imported (UTC). Periods are shown as YYYY-MM of their start."""
    from storage.cost_queries.periods import billing_periods

    with handle_errors():
        periods = billing_periods(home.costs)
    currency = next((p["currency"] for p in periods if p["currency"]), None)
    if as_json:
        echo_json({"currency": currency, "periods": _json_rows(periods)})
        return
    if not periods:
        echo("the cost store holds no billing periods (finops-tui import PATH loads some)")
        return
    for line in period_lines(periods):
        echo(line)
    echo(f"currency: {currency or '-'}")


@command.command("remove", short_help="Remove one billing period of one billing account.")
@click.argument("billing_period", metavar="BILLING_PERIOD")
@click.option("--billing-account", required=True, metavar="ID",
              help="The BillingAccountId whose period to remove (as `periods list` shows it).")
@click.option("--dry-run", is_flag=True, help="Show what would be removed; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_obj
def remove(home, billing_period: str, billing_account: str, dry_run: bool,  # type: ignore[no-untyped-def]
           as_json: bool) -> None:
    """Remove every line item of BILLING_PERIOD (YYYY-MM, or the period's start day YYYY-MM-DD) of one
    billing account, in one transaction, and print what went. Other periods and accounts are untouched;
    the import records stay as history. Nothing matching exits 2 and says what the account holds."""
    from storage.cost_queries.periods import PeriodKey, remove_period

    with handle_errors():
        removal = remove_period(home.costs, PeriodKey(billing_period, billing_account), dry_run=dry_run)
    out = removal.as_json()
    if as_json:
        echo_json({**out, "periods": _json_rows(out["periods"])})
        return
    verb = "would remove" if dry_run else "removed"
    echo(f"{verb} {out['rows']:,} rows of billing period {billing_period} for billing account "
         f"{billing_account}: BilledCost {out['billed_cost']:,.2f}, EffectiveCost "
         f"{out['effective_cost']:,.2f} {out['currency'] or ''}".rstrip())
    for line in period_lines(out["periods"]):
        echo(line)
    for note in out["notes"]:
        echo(f"note: {note}")


@command.command("rollup", short_help="Rebuild the daily rollup from every line item.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (rows, and the state before).")
@click.pass_obj
def rollup_(home, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Sum the daily rollup again from every line item (and fold the tags again when the taxonomy changed).

    Every import, sync and removal keeps the rollup exact by itself. After a change of the taxonomy or of
    `containers.idle` in the config, the rituals read the line items (the same figures, slower) until the
    next import; this brings the rollup up to date without one."""
    from storage.rollup import rebuild, state

    with handle_errors():
        before = state(home.costs)
        if before["reason"] in ("no local line items", "a warehouse answers the named queries"):
            raise ValueError(f"nothing to rebuild: {before['reason']}")
        rows = rebuild(home.costs)
    if as_json:
        echo_json({"rows": rows, "was_current": before["current"], "reason": before["reason"]})
        return
    was = "it was up to date" if before["current"] else f"it was stale: {before['reason']}"
    echo(f"daily rollup rebuilt: {rows:,} rows ({was})")
