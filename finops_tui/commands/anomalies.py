"""`finops-tui anomalies`: detect spend anomalies, store new cases, list the window's cases (for cron)."""

from __future__ import annotations

import click

from finops_tui.errors import EXIT_CHECK_FAILED, echo_json, handle_errors
from finops_tui.windows import date_window
from rituals.definitions.anomaly_triage import KIND as ANOMALY_TRIAGE


def window(home, start: str | None, end: str | None):  # type: ignore[no-untyped-def]
    """--start/--end as dates; either alone spans 30 days; neither: the 30 days before today."""
    from rituals.anomaly_report import DEFAULT_WINDOW_DAYS, default_window

    return date_window(start, end, default_window(home.clock.today()), DEFAULT_WINDOW_DAYS)


@click.command("anomalies")
@click.option("--start", default=None, metavar="DATE", help="First day, inclusive (YYYY-MM-DD).")
@click.option("--end", default=None, metavar="DATE", help="Day after the last, exclusive (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object with an `anomalies` list (the figures a triage run freezes).")
@click.option("--check", is_flag=True, help="Exit 1 when untriaged (new, not historical) anomalies are listed.")
@click.pass_obj
def command(home, start: str | None, end: str | None, as_json: bool, check: bool) -> None:  # type: ignore[no-untyped-def]
    """Detect spend anomalies over the full history (per service, account, team and in total), store new
    cases routed to their owning team, and list the cases whose anomaly overlaps the window, most urgent
    first.

    Default window: the 30 days before today (today excluded). --start alone or --end alone spans 30 days.
    Thresholds come from [anomalies] in the config (default: 100 and 40% above the expected spend).
    """
    from rituals.ritual import ritual

    with handle_errors():
        s, e = window(home, start, end)
        numbers = ritual(ANOMALY_TRIAGE).findings(home, window=(s, e)).as_json()
    if as_json:
        echo_json(numbers)
    else:
        _print(numbers)
    if check and numbers["untriaged"]:
        if not as_json:
            click.echo(f"check failed: {numbers['untriaged']} untriaged anomalies", err=True)
        raise SystemExit(EXIT_CHECK_FAILED)


def _print(n: dict) -> None:  # type: ignore[type-arg]
    from exports.format import money

    cur = n["currency"]
    click.echo(f"Anomalies overlapping {n['start']} to {n['end']} (end exclusive): {n['count']} cases in "
               f"{n['events']} events, {n['untriaged']} untriaged ({n['untriaged_events']} events), impact "
               f"{money(n['impact'], cur)}"
               + (f"; {len(n['new_cases'])} new cases stored" if n["new_cases"] else ""))
    if not n["anomalies"]:
        return
    click.echo(f"{'id':<21} {'status':<14} {'start':<10} {'days':>4} {'dimension':<8} {'impact':>10} "
               f"{'team':<14} value")
    for a in n["anomalies"]:
        flag = " (historical)" if a["historical"] else ""
        if a["event"] != a["id"]:
            flag += f" [event {a['event']}]"
        click.echo(f"{a['id']:<21} {a['status']:<14} {a['start']:<10} {a['days']:>4} "
                   f"{a['dimension']:<8} {a['impact']:>10,.0f} {a['owner_team'] or '-':<14} "
                   f"{a['label'] or a['value']}{flag}")
    k = n["kpis"]
    ttd, ttr = k["ttd"], k["ttr"]
    click.echo(f"TTD median {_hours(ttd['median_hours'])} ({ttd['median_band'] or '-'}), "
               f"TTR median {_hours(ttr['median_hours'])} ({ttr['median_band'] or '-'}), "
               f"false positives {k['false_positive_pct'] if k['false_positive_pct'] is not None else '-'}%")


def _hours(h: float | None) -> str:
    if h is None:
        return "-"
    return f"{h:.1f} h" if h < 48 else f"{h / 24:.1f} d"
