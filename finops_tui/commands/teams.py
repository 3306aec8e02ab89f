"""`finops-tui teams`: list, add, edit and retire teams, and the accounts each team owns."""

from __future__ import annotations

import click

from finops_tui.commands._shared import records, warn
from finops_tui.errors import cell, echo, echo_json, handle_errors


@click.group("teams")
def command() -> None:
    """Teams: an owner, members, and the accounts the team owns (the account -> team allocation rule)."""


@command.command("list")
@click.option("--all", "include_retired", is_flag=True, help="Include retired teams.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def list_cmd(home, include_retired: bool, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List teams with their owner, members and accounts."""
    from rituals.people import list_teams

    with handle_errors(), records(home).session() as s:
        teams = list_teams(s, include_retired)
    if as_json:
        echo_json({"teams": [t.as_dict() for t in teams]})
        return
    if not teams:
        echo("no teams yet: finops-tui teams add NAME --owner HANDLE")
    for t in teams:
        retired = " (retired)" if not t.active else ""
        echo(f"{cell(t.name):<20} owner: {(cell(t.owner) or '-'):<14} members: {len(t.members):<3} "
             f"accounts: {(cell(', '.join(a for a, _ in t.accounts)) or '-')}{retired}")


@command.command("add")
@click.argument("name")
@click.option("--owner", default=None, metavar="HANDLE", help="The team's owner (engineering resolves to them).")
@click.pass_obj
def add_cmd(home, name: str, owner: str | None) -> None:  # type: ignore[no-untyped-def]
    """Add a team."""
    from rituals.people import add_team

    with handle_errors(), records(home).write() as s:
        team = add_team(s, name, owner=owner)
        echo(f"added team {team.name}")
    if owner is None:
        warn([f"team {name} has no owner: its actions and anomalies cannot be routed (--owner HANDLE)"])


@command.command("edit")
@click.argument("name")
@click.option("--owner", default=None, metavar="HANDLE", help="New owner.")
@click.option("--rename", default=None, metavar="NEW", help="New name.")
@click.option("--reactivate", is_flag=True, help="Bring a retired team back.")
@click.pass_obj
def edit_cmd(home, name: str, owner: str | None, rename: str | None, reactivate: bool) -> None:  # type: ignore[no-untyped-def]
    """Change a team's owner or name."""
    from rituals.people import edit_team

    with handle_errors(), records(home).write() as s:
        team = edit_team(s, name, owner=owner, rename=rename, reactivate=reactivate)
        echo(f"updated team {team.name}")


@command.command("retire")
@click.argument("name")
@click.pass_obj
def retire_cmd(home, name: str) -> None:  # type: ignore[no-untyped-def]
    """Retire a team (kept for history)."""
    from rituals.people import retire_team

    with handle_errors(), records(home).write() as s:
        done = retire_team(s, name)
    echo(f"retired team {done.name}")
    warn(done.warnings)


@command.command("accounts")
@click.argument("name")
@click.option("--add", "adds", multiple=True, metavar="ID[=NAME]", help="Give an account to the team (repeatable).")
@click.option("--remove", "removes", multiple=True, metavar="ID", help="Take an account away (repeatable).")
@click.option("--move", is_flag=True, help="Allow --add to take an account from another team.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def accounts_cmd(home, name: str, adds: tuple[str, ...], removes: tuple[str, ...], move: bool,  # type: ignore[no-untyped-def]
                 as_json: bool) -> None:
    """Show, add or remove the accounts a team owns."""
    from rituals.people import add_account, get_team, list_teams, remove_account

    with handle_errors():
        store = records(home)
        if adds or removes:
            with store.write() as s:
                for item in adds:
                    account_id, _, account_name = item.partition("=")
                    add_account(s, name, account_id, account_name=account_name or None, move=move)
                for account_id in removes:
                    remove_account(s, name, account_id)
        with store.session() as s:
            team = get_team(s, name)
            view = next(t for t in list_teams(s, include_retired=True) if t.id == team.id)
    if as_json:
        echo_json({"team": view.name, "accounts": [{"account_id": a, "account_name": n} for a, n in view.accounts]})
        return
    echo(f"team {view.name} owns {len(view.accounts)} account(s)")
    for account_id, account_name in view.accounts:
        echo(f"  {cell(account_id)}  {(cell(account_name) or '')}".rstrip())
