"""`finops-tui anomalies`: detect spend anomalies, store new cases, list the window's cases (for cron); and
the headless triage of a case's whole event (ack, assign, status, note), as the triage screen's `K` does."""

from __future__ import annotations

import click

from finops_tui.commands._shared import AS_OPTION
from finops_tui.errors import EXIT_CHECK_FAILED, echo, echo_json, handle_errors
from finops_tui.windows import date_window
from rituals.definitions.anomaly_triage import KIND as ANOMALY_TRIAGE

# storage.records' ANOMALY_STATUSES (less "new") and ANOMALY_CATEGORIES, spelled here so that --help does
# not import SQLModel; tests/unit/test_notify.py holds them equal.
STATUSES = ("acknowledged", "investigating", "resolved", "false_positive", "planned")
CATEGORIES = ("misconfiguration", "new_workload", "planned_activity", "pricing_change", "data_issue", "unknown")


def window(home, start: str | None, end: str | None):  # type: ignore[no-untyped-def]
    """--start/--end as dates; either alone spans 30 days; neither: the 30 days before today."""
    from rituals.anomaly_report import DEFAULT_WINDOW_DAYS, default_window

    return date_window(start, end, default_window(home.clock.today()), DEFAULT_WINDOW_DAYS)


@click.group("anomalies", invoke_without_command=True)
@click.option("--start", default=None, metavar="DATE", help="First day, inclusive (YYYY-MM-DD).")
@click.option("--end", default=None, metavar="DATE", help="Day after the last, exclusive (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object with an `anomalies` list (the figures a triage run freezes).")
@click.option("--check", is_flag=True,
              help="Exit 1 when an untriaged event is listed (every case of it new, not historical).")
@click.pass_context
def command(ctx: click.Context, start: str | None, end: str | None, as_json: bool, check: bool) -> None:
    """Detect spend anomalies over the full history (per service, account, team and in total), store new
    cases routed to their owning team, and list the cases whose anomaly overlaps the window, most urgent
    first.

    One spike makes a case in each series it shows in; those cases are one event, and an event is the
    unit of impact: its impact is the largest excess among its cases, never their sum. Counts lead with
    events; the cases are listed under their event.

    Default window: the 30 days before today (today excluded). --start alone or --end alone spans 30 days.
    Thresholds come from [anomalies] in the config (default: 100 and 40% above the expected spend).

    Triage without the app: `anomalies ack CASE`, `assign CASE TEAM`, `status CASE STATUS`, `note CASE TEXT`
    act on every case of CASE's event. tta_hours is notified -> acknowledged (see `finops-tui notify`).
    """
    from rituals.ritual import ritual

    if ctx.invoked_subcommand is not None:
        return
    home = ctx.obj
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

            echo(f"check failed: {counted(numbers['untriaged_events'], 'untriaged anomaly event')}",
                 err=True)
        raise SystemExit(EXIT_CHECK_FAILED)


def _print(n: dict) -> None:  # type: ignore[type-arg]
    from rituals.anomaly_report import summary_text

    echo(f"Anomalies overlapping {n['start']} to {n['end']} (end exclusive): "
         f"{summary_text(n, len(n['new_cases']))}")
    if not n["anomalies"]:
        return
    cases = {a["id"]: a for a in n["anomalies"]}
    echo(f"  {'case':<19} {'status':<14} {'start':<10} {'days':>4} {'dimension':<9} {'impact':>10} "
         f"{'team':<14} value")
    for e in n["by_event"]:
        what = "historical" if e["historical"] else "untriaged" if e["untriaged"] else e["status"]
        echo(f"event {e['id']}: {e['impact']:,.0f} {n['currency']} impact, {len(e['cases'])} "
             f"case{'' if len(e['cases']) == 1 else 's'} ({', '.join(e['dimensions'])}), "
             f"{what}, team {e['owner_team'] or '-'}")
        for cid in e["cases"]:
            a = cases.get(cid)
            if a is None:
                continue
            status = a["status"] + (" (hist.)" if a["historical"] else "")
            echo(f"  {a['id']:<19} {status:<14} {a['start']:<10} {a['days']:>4} {a['dimension']:<9} "
                 f"{a['impact']:>10,.0f} {a['owner_team'] or '-':<14} {a['label'] or a['value']}")
    k = n["kpis"]
    ttd, tta, ttr = k["ttd"], k["tta"], k["ttr"]
    fp = k["false_positive_pct"]
    echo(f"Over every event stored: TTD median {_hours(ttd['median_hours'])} ({ttd['median_band'] or '-'}), "
         f"TTA median {_hours(tta['median_hours'])} over {tta['n']} notified, "
         f"TTR median {_hours(ttr['median_hours'])} ({ttr['median_band'] or '-'}) over "
         f"{ttd['n']} acknowledged and {ttr['n']} closed live events; false positives "
         f"{f'{fp:.1f}%' if fp is not None else '-'} of triaged cases")


def _hours(h: float | None) -> str:
    if h is None:
        return "-"
    return f"{h:.1f} h" if h < 48 else f"{h / 24:.1f} d"


# -- headless triage: every command acts on the case's whole event, as the triage screen's K does ---------
CASE = click.argument("case", metavar="CASE")


def _triage(home, as_handle: str | None, act) -> None:  # type: ignore[no-untyped-def]
    from finops_tui.commands._shared import acting, records

    with handle_errors():
        store = records(home)
        with store.session() as s:
            actor = acting(s, as_handle).id
        done = act(store, home.clock.now(), actor)
    return done


@command.command("ack")
@CASE
@AS_OPTION
@click.pass_obj
def ack_cmd(home, case: str, as_handle: str | None) -> None:  # type: ignore[no-untyped-def]
    """Acknowledge every new case of CASE's event (the time to acknowledge stops here)."""
    from rituals.anomaly_events import acknowledge_event

    done = _triage(home, as_handle, lambda r, now, who: acknowledge_event(r, case, now=now, actor_id=who))
    echo(f"acknowledged {', '.join(done)}")


@command.command("assign")
@CASE
@click.argument("team")
@AS_OPTION
@click.pass_obj
def assign_cmd(home, case: str, team: str, as_handle: str | None) -> None:  # type: ignore[no-untyped-def]
    """Route every case of CASE's event to TEAM (its responsible person becomes the assignee)."""
    from rituals.anomaly_events import assign_event

    done = _triage(home, as_handle, lambda r, now, who: assign_event(r, case, team, now=now, actor_id=who))
    echo(f"routed {', '.join(done)} to {team}")


@command.command("status")
@CASE
@click.argument("status", type=click.Choice(STATUSES))
@click.option("--category", type=click.Choice(CATEGORIES), default=None, help="The root-cause category.")
@click.option("--note", default=None, metavar="TEXT", help="A note kept with the change.")
@AS_OPTION
@click.pass_obj
def status_cmd(home, case: str, status: str, category: str | None, note: str | None,  # type: ignore[no-untyped-def]
               as_handle: str | None) -> None:
    """Set the status of every case of CASE's event (closing ones: resolved, false_positive, planned)."""
    from rituals.anomaly_events import set_event_status

    done = _triage(home, as_handle, lambda r, now, who: set_event_status(r, case, status, now=now, actor_id=who,
                                                                          category=category, note=note))
    echo(f"{', '.join(done) or 'no case'} {'is' if len(done) == 1 else 'are'} {status}"
         if done else f"every case of the event of {case} is already {status}")


@command.command("note")
@CASE
@click.argument("text")
@AS_OPTION
@click.pass_obj
def note_cmd(home, case: str, text: str, as_handle: str | None) -> None:  # type: ignore[no-untyped-def]
    """Add a note to every case of CASE's event."""
    from rituals.anomaly_events import note_event

    done = _triage(home, as_handle, lambda r, now, who: note_event(r, case, text, now=now, actor_id=who))
    echo(f"noted on {', '.join(done)}")
