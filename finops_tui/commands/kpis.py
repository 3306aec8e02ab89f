"""`finops-tui kpis`: the quarterly review's KPI scorecard, headless."""

from __future__ import annotations

import click

from finops_tui.errors import BadInput, echo, echo_json, handle_errors
from rituals.definitions.quarterly_review import KIND as QUARTERLY_REVIEW


@click.command("kpis")
@click.option("--quarter", default=None, metavar="YYYY-Qn",
              help="The quarter to score (default: the last complete quarter before today).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (what a quarterly review freezes).")
@click.pass_obj
def command(home, quarter: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """The KPI scorecard of a quarter: each KPI's value, its trend over the three quarters before, its
    target and the crawl/walk/run stage its band reaches. KPIs without data are listed as such, never as 0.

    Default quarter: the last complete quarter (the one before today's; quarters follow
    calendar.quarter_start_months).
    """
    from rituals.kpis import last_complete_quarter, parse_quarter
    from rituals.ritual import ritual

    with handle_errors():
        if quarter is not None:
            try:
                quarter = parse_quarter(quarter)
            except ValueError as exc:
                raise BadInput(str(exc)) from exc
        quarter = quarter or last_complete_quarter(home.clock.today(), home.config.calendar)
        numbers = ritual(QUARTERLY_REVIEW).findings(home, quarter).as_json()
    if as_json:
        echo_json(numbers)
        return
    from exports.format import figure_text
    from rituals.definitions.quarterly_review import kpi_unit

    echo(f"KPIs {numbers['quarter']} ({numbers['start']} to {numbers['end']}, end exclusive)")
    for k in numbers["kpis"]:
        value = figure_text(k["value"], kpi_unit(k["key"]))
        trend = " ".join("-" if t["value"] is None else f"{t['value']:.1f}" for t in k["trend"])
        echo(f"  {k['title']}: {value}  stage {k['stage'] or '-'}  target {k['target'] if k['target'] is not None else '-'}"
                   f"  trend {trend}")
    for k in numbers["no_data"]:
        echo(f"  {k['title']}: no data ({k['reason']})")
