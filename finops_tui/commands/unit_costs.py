"""`finops-tui unit-costs`: cost per business output for a month, with a 6-month trend."""

from __future__ import annotations

import click

from finops_tui.errors import cell, echo, echo_json, handle_errors


@click.command("unit-costs")
@click.option("--month", default=None, metavar="YYYY-MM",
              help="The month [default: the last complete month, the one before today's]; the trend is the "
                   "6 months ending there.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def command(home, month: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Unit costs: spend per business metric ([unit_economics] says which spend each metric divides), the
    6-month trend, and a flag when unit cost rises while volume grows."""
    from finops_tui.commands.showback import resolve_month
    from rituals.unit_economics import unit_economics

    with handle_errors():
        ue = unit_economics(home, resolve_month(home, month))
    if as_json:
        echo_json(ue.as_json())
        return
    if not ue.metrics:
        echo("no business metrics for this period: finops-tui metrics import FILE.csv")
        return
    for m in ue.metrics:
        per = "" if m.per == 1 else f" per {m.per:,.0f}"
        cost = "no data" if m.latest.unit_cost is None else f"{m.latest.unit_cost:,.4f} {ue.currency}"
        trend = "-" if m.unit_cost_trend_pct is None else f"{m.unit_cost_trend_pct:+.1f}%/month"
        flag = "  RISING while volume grows" if m.rising else ""
        echo(f"{cell(m.metric):<20} {cost}{per} (spend of {m.spend_of}); trend {trend}{flag}")
