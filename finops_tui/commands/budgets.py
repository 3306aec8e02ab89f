"""`finops-tui budgets`: import monthly budgets per team, list them, and the month-to-date status."""

from __future__ import annotations

from pathlib import Path

import click

from finops_tui.errors import cell, echo, echo_json, handle_errors


@click.group("budgets")
def command() -> None:
    """Monthly budgets per team (an empty team: the whole organisation)."""


@command.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def import_cmd(home, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Import FILE.csv with columns team,month,amount (month YYYY-MM); existing budgets are replaced."""
    from rituals.budgets import import_budgets

    with handle_errors(), home.records.write() as s:
        count = import_budgets(s, path)
    echo(f"imported {count} budget(s) from {path}")


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def list_cmd(home, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List every budget (all months)."""
    from rituals.budgets import list_budgets

    with handle_errors(), home.records.session() as s:
        rows = list_budgets(s)
    currency = home.config.currency
    if as_json:
        echo_json({"currency": currency, "budgets": rows})
        return
    if not rows:
        echo("no budgets yet: finops-tui budgets import FILE.csv")
    for r in rows:
        echo(f"{r['month']}  {(cell(r['team']) or '(organisation)'):<20}{r['amount']:>14,.2f} {currency}  {r['source']}")


@command.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def status_cmd(home, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """The current month [always: today's month]: month-to-date spend against the budget prorated by the
    days with data, and the forecast month-end against the full budget."""
    from rituals.budgets import budget_status

    with handle_errors():
        result = budget_status(home)
    if as_json:
        echo_json(result)
        return
    echo(f"budgets {result['month']}: {result['days_elapsed']} of {result['days_in_month']} days")
    for t in result["teams"]:
        fmt = (lambda v: "-" if v is None else f"{v:,.2f}")  # noqa: E731
        echo(f"{(cell(t['team']) or '(organisation)'):<20} mtd {fmt(t['mtd'])} / prorated {fmt(t['prorated_budget'])}"
                   f"; forecast {fmt(t['forecast_month_end'])} / budget {fmt(t['budget'])}")
