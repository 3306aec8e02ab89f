"""`finops-tui forecast`: forecast a month per team and in total, store it; `--accuracy` scores the ledger."""

from __future__ import annotations

import click

from finops_tui.errors import echo, echo_json, handle_errors


@click.command("forecast")
@click.option("--month", default=None, metavar="YYYY-MM",
              help="The month to forecast [default: next month, the one after today's].")
@click.option("--accuracy", is_flag=True, help="Score the stored forecasts of complete months and list them.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def command(home, month: str | None, accuracy: bool, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Forecast a month's spend per team and in total from the daily data before today (ETS with an 80%
    interval from simulated daily paths; Cost Explorer's forecast beside it when synced). Every forecast
    is stored with when it was made; once a month is complete, --accuracy scores it:
    abs(actual - forecast) / forecast, run <= 12%, walk <= 15%, crawl <= 20%."""
    from rituals import forecast as fc_mod
    from rituals.showback import parse_month

    with handle_errors():
        if accuracy:
            if month:
                raise ValueError("--accuracy lists every scored month; leave --month out")
            result = fc_mod.accuracy(home)
            if as_json:
                echo_json(result)
                return
            if not result["months"]:
                echo("no scored months yet: a forecast is scored once its month is complete")
            for m in result["months"]:
                echo(f"{m['month']}: forecast {m['forecast']:,.2f}, actual {m['actual']:,.2f}, "
                           f"variance {m['variance_pct'] if m['variance_pct'] is not None else '-'}% "
                           f"({m['band'] or '-'})")
            return
        target = parse_month(month) if month else fc_mod.default_forecast_month(home.clock.today())
        fc = fc_mod.make_forecast(home, target)
        fc_mod.store_forecast(home.records, fc)
    if as_json:
        echo_json(fc.as_json())
        return
    t = fc.total
    echo(f"forecast {fc.month} (data through {fc.data_through}): {t.forecast:,.2f} {fc.currency} "
               f"(80%: {t.lower:,.2f} - {t.upper:,.2f})")
    if fc.cost_explorer:
        ce = fc.cost_explorer
        echo(f"Cost Explorer: {ce['forecast']:,.2f} (generated {ce['generated_on'] or '-'})")
    for s in fc.teams:
        budget = "" if s.budget is None else f"  budget {s.budget:,.2f}"
        echo(f"  {s.team:<20}{s.forecast:>14,.2f}{budget}")
