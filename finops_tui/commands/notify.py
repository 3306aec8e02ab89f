"""`finops-tui notify`: deliver alerts to the owning team's channel (for cron or a systemd timer, after
`sync aws` or `import`)."""

from __future__ import annotations

import click

from finops_tui.errors import echo, echo_json, handle_errors

KINDS = ("anomalies", "overdue", "sweep", "preread")  # rituals.notices.KINDS (kept here for a fast --help)


@click.command("notify")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS),
              help="Only this kind (repeatable) [default: all four].")
@click.option("--dry-run", is_flag=True, help="Print what would be sent; log and send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (channels masked).")
@click.pass_obj
def command(home, kinds: tuple[str, ...], dry_run: bool, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Send what the teams must know, each message once, to the channels of the team it concerns
    (`finops-tui channels`):

    \b
      anomalies  new anomaly events (detected first), to the team owning the lead series, else the practice
      overdue    actions that became overdue, per owner, to their team, else the practice
      sweep      the weekly tag sweep result, from the sweep weekday on, to the practice and each team
      preread    the monthly review's agenda sliced per team, [notify] preread_days before the review

    Every message is logged in the records before it is sent and claimed in a transaction, so a re-run or
    a second concurrent notify never sends it again. A failed delivery is retried by a later run, after
    [notify] retry_after_minutes, doubled per failure. Exit 1 when a message is still undelivered (the
    channel and the error are named, tokens masked).
    """
    from exports.delivery import notify
    from finops_tui.commands._shared import records
    from rituals.notices import KINDS as ALL

    chosen = tuple(k for k in ALL if k in kinds) if kinds else ALL
    say = None if as_json else (lambda text: echo(text, err=True))
    with handle_errors():
        records(home)
        report = notify(home, chosen, dry_run=dry_run, progress=say)
    if as_json:
        echo_json(report.as_json())
    else:
        _print(report)
    if not report.ok:
        raise SystemExit(1)


def _print(report) -> None:  # type: ignore[no-untyped-def]
    if report.dry_run:
        for p in report.planned:
            echo(f"would send {p['kind']} {p['key']} to {p['team'] or 'practice'} ({p['channel']})"
                 + (" [no team channel: the practice]" if p["fallback"] else ""))
            echo(f"  {p['title']}")
            for line in p["body"].splitlines():
                echo(f"    {line}")
        if not report.planned:
            echo("nothing new to send")
    else:
        sent = sum(o.sent for o in report.outcomes)
        echo(f"sent {sent} message(s); {len(report.outcomes) - sent} failed")
    for kind, why in report.skipped.items():
        echo(f"warning: {kind} skipped: {why}", err=True)
    for u in report.unrouted:
        echo(f"warning: no channel for {u['kind']} {u['key']} (team {u['team'] or '-'}, nor the practice): "
             f"finops-tui channels add {u['team'] or 'practice'} URL", err=True)
    for u in report.undelivered:
        when = u["next_attempt_at"].isoformat(timespec="minutes") if u["next_attempt_at"] else "now"
        echo(f"undelivered: {u['kind']} {u['key']} to {u['team'] or 'practice'} via {u['channel']} after "
             f"{u['attempts']} attempt(s): {u['last_error'] or 'not tried yet'} (next try {when})", err=True)
