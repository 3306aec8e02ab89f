"""`finops-tui metrics`: import and list monthly business metrics (the unit-cost denominators)."""

from __future__ import annotations

from pathlib import Path

import click

from finops_tui.errors import cell, echo, echo_json, handle_errors


@click.group("metrics")
def command() -> None:
    """Monthly business metrics: active customers, API requests, inferences, optionally per team."""


@command.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def import_cmd(home, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Import FILE.csv with columns month,metric,value[,team] (month YYYY-MM); existing values are replaced."""
    from rituals.budgets import import_metrics

    with handle_errors(), home.records.write() as s:
        count = import_metrics(s, path)
    echo(f"imported {count} metric value(s) from {path}")


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def list_cmd(home, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List every metric value (all months)."""
    from rituals.budgets import list_metrics

    with handle_errors(), home.records.session() as s:
        rows = list_metrics(s)
    if as_json:
        echo_json({"metrics": rows})
        return
    if not rows:
        echo("no metrics yet: finops-tui metrics import FILE.csv")
    for r in rows:
        echo(f"{r['month']}  {cell(r['metric']):<22}{r['value']:>16,.0f}  {(cell(r['team']) or '')}")
