"""What the people, teams, RACI, actions and digest commands share: records with the RACI seeded, and
who is acting."""

from __future__ import annotations

from typing import Any

import click

from finops_tui.errors import echo

AS_OPTION = click.option("--as", "as_handle", default=None, metavar="HANDLE",
                         help="Act as this person [env FINOPS_TUI_USER; default: the OS user matched to a handle].")


def records(home: Any) -> Any:
    """The home's records, with the default RACI seeded the first time they are used."""
    from rituals.raci import ensure_raci

    store = home.records
    ensure_raci(store)
    return store


def acting(session: Any, as_handle: str | None, home: Any = None) -> Any:
    """The person acting (``home`` adds who this OS user said they are on this machine); an unknown one
    raises UnknownPerson (a ValueError: exit 2)."""
    from rituals.people import resolve_actor

    return resolve_actor(session, as_handle, remembered=home.remembered_people() if home is not None else None)


def warn(lines: list[str]) -> None:
    for line in lines:
        echo(f"warning: {line}", err=True)
