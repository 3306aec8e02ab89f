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
@click.option("--check", is_flag=True,
              help="Exit 1 when an untriaged event is listed (every case of it new, not historical).")
@click.pass_obj
def command(home, start: str | None, end: str | None, as_json: bool, check: bool) -> None:  # type: ignore[no-untyped-def]
    """Detect spend anomalies over the full history (per service, account, team and in total), store new
    cases routed to their owning team, and list the cases whose anomaly overlaps the window, most urgent
    first.

    One spike makes a case in each series it shows in; those cases are one event, and an event is the
    unit of impact: its impact is the largest excess among its cases, never their sum. Counts lead with
    events; the cases are listed under their event.

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
    if check and numbers["untriaged_events"]:
        if not as_json:
            from exports.format import counted

            click.echo(f"check failed: {counted(numbers['untriaged_events'], 'untriaged anomaly event')}",
                       err=True)
        raise SystemExit(EXIT_CHECK_FAILED)


def _print(n: dict) -> None:  # type: ignore[type-arg]
    from rituals.anomaly_report import summary_text

    click.echo(f"Anomalies overlapping {n['start']} to {n['end']} (end exclusive): "
               f"{summary_text(n, len(n['new_cases']))}")
    if not n["anomalies"]:
        return
    cases = {a["id"]: a for a in n["anomalies"]}
    click.echo(f"  {'case':<19} {'status':<14} {'start':<10} {'days':>4} {'dimension':<9} {'impact':>10} "
               f"{'team':<14} value")
    for e in n["by_event"]:
        what = "historical" if e["historical"] else "untriaged" if e["untriaged"] else e["status"]
        click.echo(f"event {e['id']}: {e['impact']:,.0f} {n['currency']} impact, {len(e['cases'])} "
                   f"case{'' if len(e['cases']) == 1 else 's'} ({', '.join(e['dimensions'])}), "
                   f"{what}, team {e['owner_team'] or '-'}")
        for cid in e["cases"]:
            a = cases.get(cid)
            if a is None:
                continue
            status = a["status"] + (" (hist.)" if a["historical"] else "")
            click.echo(f"  {a['id']:<19} {status:<14} {a['start']:<10} {a['days']:>4} {a['dimension']:<9} "
                       f"{a['impact']:>10,.0f} {a['owner_team'] or '-':<14} {a['label'] or a['value']}")
    k = n["kpis"]
    ttd, ttr = k["ttd"], k["ttr"]
    fp = k["false_positive_pct"]
    click.echo(f"Over every event stored: TTD median {_hours(ttd['median_hours'])} ({ttd['median_band'] or '-'}), "
               f"TTR median {_hours(ttr['median_hours'])} ({ttr['median_band'] or '-'}) over "
               f"{ttd['n']} acknowledged and {ttr['n']} closed live events; false positives "
               f"{f'{fp:.1f}%' if fp is not None else '-'} of triaged cases")


def _hours(h: float | None) -> str:
    if h is None:
        return "-"
    return f"{h:.1f} h" if h < 48 else f"{h / 24:.1f} d"
