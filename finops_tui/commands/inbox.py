"""`finops-tui inbox`: the recommendations inbox, and the decisions on it (accept, dismiss, snooze).

With no subcommand it lists the open recommendations, largest monthly saving first.
"""

from __future__ import annotations

from datetime import timedelta

import click

from finops_tui.commands._shared import AS_OPTION, acting, records
from finops_tui.errors import cell, echo, echo_json, handle_errors

ACTION_TYPES = ["rightsize", "upgrade", "migrate_to_graviton", "scale_in", "stop", "delete"]
DEFAULT_DUE_DAYS = 30


@click.group("inbox", invoke_without_command=True)
@click.option("--team", default=None, metavar="TEAM", help="Only recommendations routed to this team.")
@click.option("--account", default=None, metavar="ID", help="Only this account's recommendations.")
@click.option("--action-type", "action_type", type=click.Choice(ACTION_TYPES), default=None,
              help="Only this kind of change.")
@click.option("--sort", type=click.Choice(["saving", "age"]), default="saving", show_default=True,
              help="Largest monthly saving first, or oldest first.")
@click.option("--all", "show_all", is_flag=True, help="Every recommendation, accepted, dismissed, snoozed and gone too.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the list under `items`).")
@click.pass_context
def command(ctx: click.Context, team: str | None, account: str | None, action_type: str | None, sort: str,
            show_all: bool, as_json: bool) -> None:
    """The recommendations inbox: right-sizing and clean-up candidates from Cost Optimization Hub, Compute
    Optimizer, a Data Exports recommendations file and the product's own rules, one per resource and
    action, routed to an owner. A dismissed one returns only when its saving moves by more than the stated
    margin. Fill it with `inbox refresh` (own rules), `import` or `sync aws --only optimization`."""
    if ctx.invoked_subcommand is not None:
        return
    from rituals import inbox

    home = ctx.obj
    today = home.clock.today()
    with handle_errors(), records(home).session() as s:
        found = inbox.items(s, today, team=team, account=account, action_type=action_type,
                            statuses=None if show_all else ("open",), sort=sort)
    total = sum(i.estimated_monthly_savings for i in found if i.status == "open")
    currencies = sorted({i.currency for i in found})
    if as_json:
        echo_json({"today": today, "currency": currencies[0] if len(currencies) == 1 else None,
                   "reopen_margin_pct": inbox.REOPEN_MARGIN_PCT, "open_monthly_savings": round(total, 2),
                   "items": [i.as_dict() for i in found]})
        return
    if not found:
        echo("the inbox is empty" + ("" if show_all else " (nothing open; --all shows decided ones)"))
        return
    echo(f"{'id':>5}  {'saving/mo':>10}  {'action':<12} {'resource':<28} {'account':<14} {'team':<10} "
         f"{'owner':<10} {'effort':<9} restart  age  status    sources")
    for i in found:
        restart = "-" if i.restart_needed is None else ("yes" if i.restart_needed else "no")
        echo(f"{i.id:>5}  {i.estimated_monthly_savings:>10,.2f}  {i.action_type:<12} {cell(i.resource_id):<28} "
             f"{cell(i.account or '-'):<14} {cell(i.team or '-'):<10} {cell(i.owner or '-'):<10} "
             f"{(i.effort or '-'):<9} {restart:<8} {i.age_days:>3}d  {i.status:<9} {', '.join(i.sources)}")
    echo(f"open: {sum(1 for i in found if i.status == 'open')} recommendations, {total:,.2f} "
         f"{currencies[0] if len(currencies) == 1 else ''} a month")


@command.command("refresh")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def refresh_cmd(home, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Run the product's own rules over the line items (last 30 days of usage) into the inbox."""
    from rituals.inbox import refresh_from_rules
    from rituals.kpis import load_bands

    with handle_errors():
        done = refresh_from_rules(records(home), home.costs, load_bands(home).waste, home.clock.now())
    if as_json:
        echo_json(done.as_dict())
        return
    echo(f"own rules: found {done.found} ({done.new} new, {done.reopened} back in the inbox, "
         f"{done.gone} no longer found)")


@command.command("accept")
@click.argument("rec_id", type=int, metavar="ID")
@click.option("--owner", default=None, metavar="HANDLE", help="Who owns the action [default: the routed owner].")
@click.option("--due", default=None, metavar="YYYY-MM-DD",
              help=f"Due date, not in the past [default: today + {DEFAULT_DUE_DAYS} days].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@AS_OPTION
@click.pass_obj
def accept_cmd(home, rec_id: int, owner: str | None, due: str | None, as_json: bool,  # type: ignore[no-untyped-def]
               as_handle: str | None) -> None:
    """Accept a recommendation: it becomes a rightsizing or cleanup action with its resource, its expected
    monthly saving and a due date."""
    from rituals import inbox
    from rituals.people import get_person
    from storage.clock import parse_date

    today = home.clock.today()
    with handle_errors(), records(home).write() as s:
        me = acting(s, as_handle, home)
        owner_id = get_person(s, owner).id if owner else None
        due_date = parse_date(due, "--due") if due else today + timedelta(days=DEFAULT_DUE_DAYS)
        action = inbox.accept(s, rec_id, owner_id=owner_id, due=due_date, today=today, now=home.clock.now(),
                              actor_id=me.id)
        out = {"recommendation_id": rec_id, "action_id": action.id, "kind": action.kind,
               "expected_monthly_savings": action.expected_monthly_savings, "due_date": action.due_date}
    if as_json:
        echo_json(out)
        return
    echo(f"recommendation #{rec_id} accepted: action #{out['action_id']} ({out['kind']}), due "
         f"{due_date.isoformat()}, expected saving {out['expected_monthly_savings']:,.2f} a month")


@command.command("dismiss")
@click.argument("rec_id", type=int, metavar="ID")
@click.option("--reason", required=True, metavar="TEXT", help="Why (kept with the recommendation).")
@AS_OPTION
@click.pass_obj
def dismiss_cmd(home, rec_id: int, reason: str, as_handle: str | None) -> None:  # type: ignore[no-untyped-def]
    """Dismiss a recommendation with a reason. It stays hidden until a refresh moves its saving by more
    than the inbox's margin (20% of the saving at dismissal)."""
    from rituals import inbox

    with handle_errors(), records(home).write() as s:
        me = acting(s, as_handle, home)
        rec = inbox.dismiss(s, rec_id, reason=reason, now=home.clock.now(), actor_id=me.id)
        saving = rec.dismissed_savings
    echo(f"recommendation #{rec_id} dismissed at {saving:,.2f} a month")


@command.command("snooze")
@click.argument("rec_id", type=int, metavar="ID")
@click.option("--until", "until", required=True, metavar="YYYY-MM-DD", help="Show it again on this day.")
@AS_OPTION
@click.pass_obj
def snooze_cmd(home, rec_id: int, until: str, as_handle: str | None) -> None:  # type: ignore[no-untyped-def]
    """Hide a recommendation until a date."""
    from rituals import inbox
    from storage.clock import parse_date

    with handle_errors(), records(home).write() as s:
        day = parse_date(until, "--until")
        me = acting(s, as_handle, home)
        inbox.snooze(s, rec_id, until=day, today=home.clock.today(), now=home.clock.now(), actor_id=me.id)
    echo(f"recommendation #{rec_id} snoozed until {day.isoformat()}")


def import_recommendation_files(home, paths: tuple[str, ...], as_json: bool) -> bool:  # type: ignore[no-untyped-def]
    """`finops-tui import` of AWS Data Exports COST_OPTIMIZATION_RECOMMENDATIONS files: stored (replacing the
    last such import) and handed to the inbox. False when the paths are billing files (the importer's)."""
    from pathlib import Path

    from finops_tui.errors import BadInput
    from storage.loader import LoadError
    from storage.sources.optimization_file import header, import_recommendation_files, is_recommendations_file
    from storage.sources.raw_files import expand_paths

    with handle_errors():
        try:
            files = expand_paths([Path(p) for p in paths])
            kinds = [is_recommendations_file(header(f)) for f in files]
        except LoadError:
            return False  # the importer names what is wrong with the path
        if not any(kinds):
            return False
        if not all(kinds):
            others = [str(f) for f, k in zip(files, kinds, strict=True) if not k]
            raise BadInput("import Data Exports recommendations files apart from billing files (not "
                           f"recommendations: {', '.join(others[:3])})")
        # Only now: the records' modules are half a second of a billing import's start-up, which needs none.
        from rituals.inbox import refresh_from_store
        from rituals.kpis import load_bands

        try:
            rows, purchases = import_recommendation_files(home.costs, files, home.clock.now())
        except LoadError as exc:
            from finops_tui.commands.import_ import one_line

            raise BadInput(one_line(exc)) from exc
        done = refresh_from_store(records(home), home.costs, "data_exports", home.clock.now(), load_bands(home).waste)
    out = {"format": "cost-optimization-recommendations", "files": [str(f) for f in files], "rows": rows,
           "purchases_for_commitment_review": purchases, "inbox": done.as_dict()}
    if as_json:
        echo_json(out)
    else:
        echo(f"Data Exports cost optimization recommendations: {rows} rows from {len(files)} file(s); inbox: "
             f"{done.found} found ({done.new} new, {done.gone} no longer listed); {purchases} purchase "
             "recommendations go to the commitment review")
    return True


@command.command("savings")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def savings_cmd(home, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Check done right-sizing and clean-up actions against the bill and record what they realised:
    (the resource's cost per day in the 30 days before it was done - per day in the first complete month
    after) x 365/12. "verified" is set only from the data; without per-resource line items an action
    cannot be verified from the data."""
    from rituals.savings import record

    with handle_errors():
        found = record(records(home), home.costs, home.clock.now(), home.clock.tz)
    if as_json:
        echo_json({"actions": [c.as_dict() for c in found]})
        return
    if not found:
        echo("no done action names a resource and an expected saving")
    for c in found:
        realised = "-" if c.realised_monthly_savings is None else f"{c.realised_monthly_savings:,.2f}"
        echo(f"#{c.action_id:<5} expected {c.expected_monthly_savings:>10,.2f}  realised {realised:>10}  "
             f"{c.state.replace('_', ' '):<13} {cell(c.note)}")
