"""`finops-tui explore`: spend grouped by any dimensions, filtered, over a window, with the change against the
period before (the explorer screen's figures, from the same function)."""

from __future__ import annotations

import click

from finops_tui.errors import BadInput, echo_json, handle_errors

PRESETS = ("last_7_days", "last_30_days", "last_90_days", "month_to_date", "last_month", "last_3_months",
           "last_6_months", "last_12_months")


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


@click.command("explore")
@click.option("--group-by", "group_by", default=None, metavar="DIMS",
              help="Comma-separated dimensions: team, account, service, region, charge_category, resource, "
                   "cluster, namespace (shared EKS/ECS clusters), a taxonomy key or tag:KEY (a Kubernetes "
                   "label is a tag of its pods) [default: team].")
@click.option("--filter", "filters", multiple=True, metavar="DIM=V1,V2",
              help="Keep rows whose DIM is one of the values (repeatable; '(none)' matches rows without one).")
@click.option("--exclude", "excludes", multiple=True, metavar="DIM=V1,V2",
              help="Drop rows whose DIM is one of the values (repeatable).")
@click.option("--preset", type=click.Choice(PRESETS), default=None,
              help="A window relative to today [default: last_30_days].")
@click.option("--start", default=None, metavar="DATE", help="First day, inclusive (YYYY-MM-DD).")
@click.option("--end", default=None, metavar="DATE", help="Day after the last, exclusive (YYYY-MM-DD).")
@click.option("--granularity", type=click.Choice(("day", "week", "month")), default=None,
              help="Periods of the series [default: day].")
@click.option("--cost", type=click.Choice(("effective", "billed", "list")), default=None,
              help="EffectiveCost (amortised spend), BilledCost (the invoice) or ListCost [default: effective].")
@click.option("--view", "view_name", default=None, metavar="NAME",
              help="Start from a view saved in the config ([explorer.views.NAME]); other options override it.")
@click.option("--save", "save_name", default=None, metavar="NAME",
              help="Save this view in the home's config file as [explorer.views.NAME].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the table as CSV.")
@click.pass_obj
def command(home, group_by: str | None, filters: tuple[str, ...], excludes: tuple[str, ...],  # type: ignore[no-untyped-def]
            preset: str | None, start: str | None, end: str | None, granularity: str | None, cost: str | None,
            view_name: str | None, save_name: str | None, as_json: bool, as_csv: bool) -> None:
    """Explore spend like Cost Explorer: group by, filter, compare with the period before.

    Default window: the last 30 complete days (today excluded), compared with the 30 days before. Presets
    are relative to today; --start alone or --end alone spans 30 days; a month preset is whole calendar
    months up to the current one. Rows are sorted by spend; 'team' is the allocation (the allocation tag,
    else the account's owning team). Exit 2 on an unknown dimension, a bad filter or bad dates.

    Example: finops-tui explore --group-by team,service --filter team=web,data --filter tag:env=prod
    --exclude service=Tax --granularity week --json
    """
    from datetime import timedelta

    from exports.explorer import explorer_csv, explorer_lines
    from finops_tui.windows import date_window
    from rituals.explorer import explore
    from storage.config import build_view, filter_text, save_explorer_view

    if as_json and as_csv:
        raise BadInput("--json and --csv print different things: choose one")
    with handle_errors():
        config = home.config
        base = None
        if view_name is not None:
            base = config.explorer_views.get(view_name)
            if base is None:
                known = ", ".join(sorted(config.explorer_views)) or "none saved"
                raise BadInput(f"--view {view_name!r}: no such view in the config ({known})")
        s = e = None
        if start or end:
            if preset:
                raise BadInput("--preset and --start/--end choose the window twice: give one")
            today = home.clock.today()
            s, e = date_window(start, end, (today - timedelta(days=30), today), 30)
        try:
            view = build_view(
                group_by=_split(group_by) if group_by is not None else list(base.group_by if base else ["team"]),
                filters=[*(filter_text(d, v) for d, v in (base.filters if base else ())), *filters],
                excludes=[*(filter_text(d, v) for d, v in (base.excludes if base else ())), *excludes],
                preset=preset or ("custom" if s else (base.preset if base else None)),
                start=s or (base.start if base and not preset else None),
                end=e or (base.end if base and not preset else None),
                granularity=granularity or (base.granularity if base else "day"),
                cost=cost or (base.cost if base else "effective"), taxonomy=config.taxonomy)
        except ValueError as exc:
            raise BadInput(str(exc)) from exc
        if not home.has_cost_data():
            click.echo("warning: no cost data in this home yet (finops-tui import PATH, sync aws or demo)", err=True)
        result = explore(home, view)
        if save_name is not None:
            path = save_explorer_view(home.path, save_name, view)
            click.echo(f"saved the view as {save_name!r} in {path}", err=True)
    if as_json:
        echo_json(result.as_json())
    elif as_csv:
        click.echo(explorer_csv(result), nl=False)
    else:
        for line in explorer_lines(result):
            click.echo(line)
