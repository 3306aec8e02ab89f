"""`finops-tui people`: list, add, edit and retire people (handle, name, role, teams)."""

from __future__ import annotations

import click

from finops_tui.commands._shared import records, warn
from finops_tui.errors import cell, echo, echo_json, handle_errors

ROLE_HELP = "engineering, finance, finops_lead or leadership"


@click.group("people")
def command() -> None:
    """People: a unique handle, a name, a role (engineering, finance, FinOps lead, leadership) and teams."""


@command.command("list")
@click.option("--all", "include_retired", is_flag=True, help="Include retired people.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def list_cmd(home, include_retired: bool, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List people (active ones unless --all)."""
    from rituals.people import list_people

    with handle_errors(), records(home).session() as s:
        people = list_people(s, include_retired)
    if as_json:
        echo_json({"people": [p.as_dict() for p in people]})
        return
    if not people:
        echo("no people yet: finops-tui people add HANDLE NAME --role ROLE")
    for p in people:
        teams = (cell(", ".join(p.teams)) or "-")
        owns = cell(f"; owns {', '.join(p.owns)}") if p.owns else ""
        retired = " (retired)" if not p.active else ""
        echo(f"{cell(p.handle):<16} {cell(p.name):<24} {cell(p.role):<12} teams: {teams}{owns}{retired}")


@command.command("add")
@click.argument("handle")
@click.argument("name")
@click.option("--role", required=True, help=f"The person's role: {ROLE_HELP}.")
@click.option("--email", default=None, help="E-mail address.")
@click.option("--team", "teams", multiple=True, metavar="TEAM", help="A team the person belongs to (repeatable).")
@click.pass_obj
def add_cmd(home, handle: str, name: str, role: str, email: str | None, teams: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    """Add a person with a unique HANDLE."""
    from rituals.people import add_person

    with handle_errors(), records(home).write() as s:
        person = add_person(s, handle, name, role, email=email, teams=teams)
        echo(f"added {person.handle} ({person.name}, {person.role})")


@command.command("edit")
@click.argument("handle")
@click.option("--name", default=None, help="New name.")
@click.option("--role", default=None, help=f"New role: {ROLE_HELP}.")
@click.option("--email", default=None, help="New e-mail address ('' clears it).")
@click.option("--team", "join", multiple=True, metavar="TEAM", help="Join a team (repeatable).")
@click.option("--leave", multiple=True, metavar="TEAM", help="Leave a team (repeatable).")
@click.option("--reactivate", is_flag=True, help="Bring a retired person back.")
@click.pass_obj
def edit_cmd(home, handle: str, name: str | None, role: str | None, email: str | None,  # type: ignore[no-untyped-def]
             join: tuple[str, ...], leave: tuple[str, ...], reactivate: bool) -> None:
    """Change a person's name, role, e-mail or teams."""
    from rituals.people import edit_person

    with handle_errors(), records(home).write() as s:
        person = edit_person(s, handle, name=name, role=role, email=email, join=join, leave=leave,
                             reactivate=reactivate)
        echo(f"updated {person.handle}")


@command.command("retire")
@click.argument("handle")
@click.pass_obj
def retire_cmd(home, handle: str) -> None:  # type: ignore[no-untyped-def]
    """Retire a person (kept for the history of actions; can no longer act)."""
    from rituals.people import retire_person

    with handle_errors(), records(home).write() as s:
        done = retire_person(s, handle)
    echo(f"retired {done.name}")
    warn(done.warnings)


@command.command("whoami")
@click.option("--set", "set_handle", default=None, metavar="HANDLE",
              help="Remember that the OS user running this is HANDLE (on this machine, in this home).")
@click.option("--forget", is_flag=True, help="Forget what this OS user chose.")
@click.option("--as", "as_handle", default=None, metavar="HANDLE", help="Check this handle instead.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def whoami_cmd(home, set_handle: str | None, forget: bool, as_handle: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Who the commands act as: --as, else FINOPS_TUI_USER, else the handle this OS user chose once here
    (--set, or choosing yourself in My actions), else the OS user matched to a handle."""
    from finops_tui.commands._shared import acting
    from rituals.people import current_os_user, find_person

    user = current_os_user()
    with handle_errors():
        if set_handle and forget:
            raise click.UsageError("--set and --forget exclude each other")
        if set_handle:
            with records(home).session() as s:
                person = find_person(s, set_handle.strip().lower())
                if person is None or not person.active:
                    raise ValueError(f"no active person {set_handle!r} (see `finops-tui people list`)")
            home.remember_person(user, person.handle)
        elif forget:
            home.remember_person(user, None)
        with records(home).session() as s:
            me = acting(s, as_handle, home)
            out = {"os_user": user, "handle": me.handle, "name": me.name, "role": me.role}
    if as_json:
        echo_json(out)
    else:
        from exports.sanitize import plain

        echo(plain(f"{out['name']} ({out['handle']}, {out['role']}), as OS user {user or '-'}", one_line=True))
