"""`finops-tui runs`: the ritual runs recorded in this home, newest first."""

from __future__ import annotations

import click

from finops_tui.errors import echo, echo_json, handle_errors
from rituals.ritual import KINDS


@click.group("runs", invoke_without_command=True)
@click.option("--kind", type=click.Choice(KINDS), default=None, help="Only runs of this ritual.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with a `runs` list.")
@click.pass_context
def command(ctx: click.Context, kind: str | None, as_json: bool) -> None:
    """List ritual runs (open and closed), newest first. `finops-tui minutes RUN_ID` renders one;
    `finops-tui runs discard RUN_ID` deletes a run opened by mistake."""
    if ctx.invoked_subcommand is not None:
        return
    _list(ctx.obj, kind, as_json)


@command.command("discard")
@click.argument("run_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object naming the discarded run.")
@click.pass_obj
def discard(home, run_id: int, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Delete run RUN_ID, opened by mistake. Refused (exit 2) once the run is closed or holds decisions or
    actions: those are a record."""
    from rituals.runs import discard_run, get_run

    with handle_errors(), home.records.write() as s:
        run = get_run(s, run_id)
        gone = {"id": run.id, "kind": run.kind, "period": run.period}
        discard_run(s, run_id)
    if as_json:
        echo_json({"discarded": gone})
    else:
        echo(f"discarded run {gone['id']} ({gone['kind']} {gone['period']})")


def _list(home, kind: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    from rituals.runs import list_runs, run_summary

    with handle_errors(), home.records.session() as s:
        rows = [run_summary(s, r) for r in list_runs(s, kind)]
    if as_json:
        echo_json({"kind": kind, "runs": rows})
        return
    if not rows:
        echo("No ritual runs yet" + (f" of kind {kind}." if kind else "."))
        return
    echo(f"{'id':>5}  {'kind':<18} {'period':<9} {'status':<7} {'opened':<16} {'closed':<16} "
               "notes decisions actions")
    for r in rows:
        opened = r["opened_at"].strftime("%Y-%m-%d %H:%M") if r["opened_at"] else "-"
        closed = r["closed_at"].strftime("%Y-%m-%d %H:%M") if r["closed_at"] else "-"
        echo(f"{r['id']:>5}  {r['kind']:<18} {r['period']:<9} {r['status']:<7} {opened:<16} {closed:<16} "
                   f"{r['notes']:>5} {r['decisions']:>9} {r['actions']:>7}")
