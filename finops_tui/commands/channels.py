"""`finops-tui channels`: where each team's (and the FinOps practice's) notifications go.

A channel is an Apprise URL (slack://, msteams://, mailto://, json://...) or env:VAR naming an environment
variable that holds one. The URL itself is kept in the home's 0600 secrets file, never in the records, and
shown only with its tokens masked.
"""

from __future__ import annotations

import click

from finops_tui.commands._shared import records
from finops_tui.errors import Failed, cell, echo, echo_json, handle_errors


@click.group("channels")
def command() -> None:
    """Notification channels per team ("practice": the FinOps practice's own): add, list, remove, test."""


@command.command("add")
@click.argument("team")
@click.argument("url")
@click.pass_obj
def add_cmd(home, team: str, url: str) -> None:  # type: ignore[no-untyped-def]
    """Add a channel for TEAM (or "practice"): an Apprise URL, kept in the home's 0600 secrets file, or
    env:VAR, an environment variable holding one (the records keep only the reference)."""
    from exports.delivery import check_url
    from rituals.channels import add_channel

    with handle_errors():
        check_url(url.strip())
        view = add_channel(records(home), home.path, team, url, now=home.clock.now())
    echo(f"added channel #{view.id} for {view.owner}: {view.label}")
    if not view.usable:
        echo(f"warning: {view.problem}", err=True)


@command.command("list")
@click.option("--team", default=None, metavar="TEAM", help="Only this team's channels (practice: the practice's).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (tokens masked).")
@click.pass_obj
def list_cmd(home, team: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List the channels, tokens masked; a channel whose URL cannot be read on this machine says why."""
    from rituals.channels import list_channels

    with handle_errors(), records(home).session() as s:
        views = list_channels(s, home.path, team)
    if as_json:
        echo_json({"channels": [v.as_dict() for v in views]})
        return
    if not views:
        echo("no channels yet: finops-tui channels add TEAM URL")
    for v in views:
        state = "" if v.usable else f"  (unusable: {v.problem})"
        echo(f"#{v.id:<4} {cell(v.owner):<20} {v.kind:<7} {v.label}{state}")


@command.command("remove")
@click.argument("channel_id", metavar="ID", type=int)
@click.pass_obj
def remove_cmd(home, channel_id: int) -> None:  # type: ignore[no-untyped-def]
    """Remove channel ID (see `channels list`): its secret leaves the secrets file, its unsent messages
    are dropped; the log of what it was sent stays."""
    from rituals.channels import remove_channel

    with handle_errors():
        view = remove_channel(records(home), home.path, channel_id, now=home.clock.now())
    echo(f"removed channel #{view.id} of {view.owner}: {view.label}")


@command.command("test")
@click.argument("team")
@click.pass_obj
def test_cmd(home, team: str) -> None:  # type: ignore[no-untyped-def]
    """Send a test message to every channel of TEAM now (not logged); exit 1 if one fails."""
    from exports.delivery import test_channels

    with handle_errors():
        results = test_channels(home, team)
    failed = [(label, err) for label, err in results if err]
    for label, err in results:
        echo(f"{'ok    ' if err is None else 'FAILED'} {label}" + (f": {err}" if err else ""))
    if failed:
        raise Failed(f"{len(failed)} of {len(results)} channel(s) of {team} failed")
