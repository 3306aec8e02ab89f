"""`finops-tui commitments`: the commitment review's figures and purchase plan, headless."""

from __future__ import annotations

import click

from finops_tui.errors import echo, echo_json, handle_errors
from finops_tui.windows import date_window
from rituals.definitions.commitment_review import KIND as COMMITMENT_REVIEW


def window(home, start: str | None, end: str | None):  # type: ignore[no-untyped-def]
    """--start/--end as dates; either alone spans 30 days; neither: the 30 days before today."""
    from rituals.commitments import DEFAULT_WINDOW_DAYS, default_window

    return date_window(start, end, default_window(home.clock.today()), DEFAULT_WINDOW_DAYS)


@click.command("commitments")
@click.option("--start", default=None, metavar="DATE", help="First day, inclusive (YYYY-MM-DD).")
@click.option("--end", default=None, metavar="DATE", help="Day after the last, exclusive (YYYY-MM-DD).")
@click.option("--lookback", type=click.Choice(["7", "30", "60"]), default=None,
              help="Days before --end the baseline is measured on [default: commitments.lookback_days, 30].")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object (the figures a commitment-review run freezes).")
@click.pass_obj
def command(home, start: str | None, end: str | None, lookback: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """The commitment review: coverage (on the on-demand equivalent), utilisation, effective savings rate,
    commitments expiring within 30/60/90 days, and the purchase plan sized on a right-sized baseline.

    The headline coverage counts Savings Plans and reservations together over all commitment-eligible usage;
    the per-program lines (Compute / EC2 Instance / SageMaker Savings Plans, reservations per service) each
    divide by the usage that program can cover, as Cost Explorer reports them.

    Default window: the 30 days before today (today excluded). --start alone or --end alone spans 30 days.
    """
    from rituals.ritual import ritual

    with handle_errors():
        s, e = window(home, start, end)
        numbers = ritual(COMMITMENT_REVIEW).findings(home, window=(s, e),
                                                       lookback=int(lookback) if lookback else None).as_json()
    if as_json:
        echo_json(numbers)
    else:
        _print_summary(numbers)


def _print_summary(n: dict) -> None:  # type: ignore[type-arg]
    from exports.format import money, pct
    from exports.sanitize import plain

    cur = n["currency"]
    echo(f"Commitments {n['start']} to {n['end']} (end exclusive)")
    echo(f"  coverage        {pct(n['coverage_pct'])} (target {pct(n['target_coverage_pct'])}) of "
               f"{money(n['eligible_cost'], cur)} eligible on-demand equivalent")
    echo(f"  utilization     {pct(n['utilization_pct'])}; unused commitment "
               f"{money(n['unused_commitment_cost'], cur)}")
    echo(f"  savings rate    {pct(n['effective_savings_rate_pct'])}")
    echo(f"  coverage basis  {plain(n['coverage_basis'], one_line=True)}")
    if n["programs"]:
        echo("  per program (each on the usage it can cover):")
        width = max(len(plain(p["program"], one_line=True)) for p in n["programs"])
        for p in n["programs"]:
            echo(f"    {plain(p['program'], one_line=True):<{width}}  coverage {pct(p['coverage_pct']):>6} of "
                       f"{money(p['eligible_cost'], cur):>12}   utilization {pct(p['utilization_pct']) if p['commitments'] else 'none held':>6}")
    for warning in n["warnings"]:
        echo(f"  warning: {plain(warning, one_line=True)}")
    if n["expiring"]:
        echo("  expiring:")
        for c in n["expiring"]:
            echo(f"    {c['commitment_id']}  {c['hourly_commitment']} {cur}/h  ends {c['end_date']} "
                       f"({c['days_left']} days)")
    elif n["terms_note"]:
        echo(f"  {n['terms_note']}")
    else:
        echo("  nothing expires within 90 days")
    echo(f"  baseline        {money(n['baseline_hourly'], cur, decimals=2)}/h on demand "
               f"(p{n['baseline_percentile']:g} over {n['lookback_days']} days, less "
               f"{money(n['reduction_monthly_savings'], cur)}/month of open right-sizing and clean-up)")
    echo(f"  recommended     {money(n['recommended_additional_hourly'], cur, decimals=2)}/h more "
               f"commitment; suggestion: {n['suggestion']}")
