"""`finops-tui actions`: owners list, show and update their actions from any terminal.

An update reads and writes in one BEGIN IMMEDIATE transaction; with --if-version a stale update is refused
("changed by NAME at TIME; run again", exit 1) and never overwrites anyone.
"""

from __future__ import annotations

import click

from finops_tui.commands._shared import AS_OPTION, acting, records
from finops_tui.errors import BadInput, Failed, cell, echo, echo_json, handle_errors

STATUSES = ["open", "in_progress", "blocked", "done", "dropped"]


@click.group("actions")
def command() -> None:
    """Actions with owners and due dates: list, show (with history), add, update."""


def _due(text: str | None) -> object:
    from rituals.actions import KEEP
    from storage.clock import parse_date

    if text is None:
        return KEEP
    if text.strip().lower() in ("none", ""):
        return None
    return parse_date(text, "--due")


@command.command("list")
@click.option("--mine", is_flag=True, help="Only the actions of the person acting.")
@click.option("--owner", default=None, metavar="HANDLE", help="Only this owner's actions.")
@click.option("--team", default=None, metavar="TEAM", help="Only this team's actions.")
@click.option("--overdue", is_flag=True, help="Only overdue actions (due before today in the configured time zone).")
@click.option("--all", "include_closed", is_flag=True, help="Include done and dropped actions.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@AS_OPTION
@click.pass_obj
def list_cmd(home, mine: bool, owner: str | None, team: str | None, overdue: bool, include_closed: bool,  # type: ignore[no-untyped-def]
             as_json: bool, as_handle: str | None) -> None:
    """List open actions, overdue first."""
    from rituals.actions import list_actions

    today = home.clock.today()
    with handle_errors(), records(home).session() as s:
        if mine:
            me = acting(s, as_handle, home)
            if owner is not None and owner.strip().lower() != me.handle:
                raise BadInput("--mine and --owner name different people")
            owner = me.handle
        views = list_actions(s, today=today, owner=owner, team=team, overdue=overdue, include_closed=include_closed)
    if as_json:
        echo_json({"today": today, "actions": [v.as_dict() for v in views]})
        return
    if not views:
        echo("no actions")
    for v in views:
        due = v.due_date.isoformat() if v.due_date else "-"
        late = f" OVERDUE {v.days_overdue}d" if v.overdue else ""
        echo(f"#{v.id:<5} {v.status:<12} {due:<10}{late:<14} {cell(v.owner):<14} {cell(v.title)}  (v{v.version})")


@command.command("show")
@click.argument("action_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def show_cmd(home, action_id: int, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Show one action and its history."""
    from rituals.actions import action_history, get_action

    tz = home.clock.tz
    from storage.records import Action

    with handle_errors(), records(home).session() as s:
        view = get_action(s, action_id, today=home.clock.today())
        events = action_history(s, action_id)
        row = s.get(Action, action_id)
        bill = {"resource_id": row.resource_id, "realised_monthly_savings": row.realised_monthly_savings,
                "savings_state": row.savings_state} if row is not None else {}
    if as_json:
        echo_json({**view.as_dict(), **bill, "history": [e.as_dict() for e in events]})
        return
    echo(f"#{view.id} {cell(view.title)}")
    echo(f"  status {view.status}, owner {cell(view.owner_name)} ({cell(view.owner)}), team {(cell(view.team) or '-')}, "
               f"due {view.due_date or '-'}{' (overdue)' if view.overdue else ''}, version {view.version}")
    if view.detail:
        echo(f"  {view.detail}")
    if bill.get("resource_id") and view.expected_monthly_savings is not None:
        state = (bill["savings_state"] or "not checked yet (finops-tui inbox savings)").replace("_", " ")
        realised = bill["realised_monthly_savings"]
        echo(f"  resource {cell(bill['resource_id'])}: expected {view.expected_monthly_savings:,.2f} a month, realised "
             f"{'-' if realised is None else f'{realised:,.2f}'} ({state})")
    echo("history:")
    for e in events:
        when = e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        change = (f"{e.field}: {(cell(e.old) or '-')} -> {(cell(e.new) or '-')}" if e.field not in ("created", "note")
                  else e.field)
        note = f"  \"{cell(e.note)}\"" if e.note else ""
        echo(f"  {when}  {(cell(e.actor) or '-'):<12} {change}{note}")


@command.command("add")
@click.argument("title")
@click.option("--owner", required=True, metavar="HANDLE", help="Who owns the action.")
@click.option("--team", default=None, metavar="TEAM", help="The team it belongs to.")
@click.option("--due", default=None, metavar="YYYY-MM-DD", help="Due date.")
@click.option("--kind", default="other", show_default=True,
              type=click.Choice(["tag_fix", "anomaly_fix", "rightsizing", "cleanup", "commitment", "other"]))
@click.option("--detail", default="", help="Longer description.")
@AS_OPTION
@click.pass_obj
def add_cmd(home, title: str, owner: str, team: str | None, due: str | None, kind: str, detail: str,  # type: ignore[no-untyped-def]
            as_handle: str | None) -> None:
    """Add an action outside a ritual. Its due date cannot be in the past."""
    from rituals.actions import create_action, new_action_problems
    from rituals.people import get_person, get_team
    from storage.clock import parse_date

    with handle_errors(), records(home).write() as s:
        me = acting(s, as_handle, home)
        person = get_person(s, owner)
        team_row = get_team(s, team) if team else None
        due_date = parse_date(due, "--due") if due else None
        problems = new_action_problems(title, person.id, kind, due_date, home.clock.today())
        if problems:
            raise BadInput(" ".join(problems))
        action = create_action(s, title=title, owner_id=person.id, now=home.clock.now(), actor_id=me.id, kind=kind,
                               detail=detail, team_id=team_row.id if team_row else None, due_date=due_date)
        echo(f"added action #{action.id} for {person.handle}")


@command.command("update")
@click.argument("action_id", type=int)
@click.option("--status", type=click.Choice(STATUSES), default=None, help="New status.")
@click.option("--due", default=None, metavar="YYYY-MM-DD", help="New due date ('none' clears it).")
@click.option("--note", default=None, metavar="TEXT", help="A note, kept in the history.")
@click.option("--if-version", "if_version", type=int, default=None, metavar="N",
              help="Refuse the update unless the action is still at version N (see `actions show`).")
@click.option("--allow-past", is_flag=True, help="Accept a --due date before today.")
@click.option("--force", is_flag=True,
              help="Change an action you may not otherwise change (recorded in its history with your handle).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@AS_OPTION
@click.pass_obj
def update_cmd(home, action_id: int, status: str | None, due: str | None, note: str | None,  # type: ignore[no-untyped-def]
               if_version: int | None, allow_past: bool, force: bool, as_json: bool, as_handle: str | None) -> None:
    """Change an action's status or due date, or add a note. Every change is kept in its history.

    Who may: the action's owner, the owner of its team, a FinOps lead (role finops_lead), the facilitator
    of an open run that shows the action, or anyone with --force. A due date before today needs
    --allow-past.
    """
    from rituals.actions import NotPermitted, StaleUpdate, update_action

    if status is None and due is None and not note:
        raise BadInput("nothing to update: give --status, --due or --note")
    with handle_errors():
        store = records(home)
        with store.session() as s:
            me = acting(s, as_handle, home)
        due_value = _due(due)
        try:
            done = update_action(store, action_id, actor_id=me.id, now=home.clock.now(), status=status,
                                 due_date=due_value, note=note, if_version=if_version, tz=home.clock.tz,
                                 allow_past=allow_past, force=force)
        except (StaleUpdate, NotPermitted) as exc:
            raise Failed(str(exc)) from exc
    if as_json:
        echo_json({**done.as_dict(), "actor": me.handle})
        return
    if not done.changes:
        echo(f"action #{done.action_id} unchanged (version {done.version})")
        return
    what = "; ".join(f"{f} {o or '-'} -> {n or '-'}" if f != "note" else "note added" for f, o, n in done.changes)
    echo(f"action #{done.action_id} updated by {me.handle}: {what} (version {done.version})")
