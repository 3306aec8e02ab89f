"""`finops-tui digest`: a markdown digest per owner (open, overdue, due this week) for chat or mail."""

from __future__ import annotations

import click

from finops_tui.commands._shared import records
from finops_tui.errors import echo, handle_errors


@click.command("digest")
@click.option("--owner", default=None, metavar="HANDLE", help="Only this owner's digest [default: every owner "
              "holding open actions].")
@click.pass_obj
def command(home, owner: str | None) -> None:  # type: ignore[no-untyped-def]
    """Print a markdown digest of open actions per owner. Overdue and "this week" use the configured time zone."""
    from exports.digest import digest, owner_digest
    from rituals.actions import list_actions
    from rituals.people import get_person

    today = home.clock.today()
    with handle_errors(), records(home).session() as s:
        if owner is not None:
            person = get_person(s, owner)
            views = list_actions(s, today=today, owner=person.handle)
            text = owner_digest(person.name, person.handle, views, today)
        else:
            text = digest(list_actions(s, today=today), today)
    echo(text, nl=False)
