"""`finops-tui raci`: the RACI as stored, checked against the one-A rule."""

from __future__ import annotations

import click

from finops_tui.commands._shared import records
from finops_tui.errors import EXIT_CHECK_FAILED, cell, echo, echo_json, handle_errors


@click.command("raci")
@click.option("--check", is_flag=True, help="Exit 1 when a row has zero or several A (rows with no R only warn).")
@click.option("--markdown", is_flag=True, help="Print the table as markdown.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def command(home, check: bool, markdown: bool, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Show the RACI (seeded with the default table the first time) and who each role resolves to."""
    from rituals.raci import RaciError, check_raci, load_raci, raci_markdown, resolve_role
    from storage.records import ROLE_LABELS, ROLES

    with handle_errors(), records(home).session() as s:
        rows = load_raci(s)
        verdict = check_raci(rows)
        holders: dict[str, str | None] = {}
        for role in ROLES:
            if role == "engineering":
                continue
            try:
                holders[role] = resolve_role(s, role).handle
            except RaciError:
                holders[role] = None
    if as_json:
        echo_json({
            "ok": verdict.ok,
            "activities": [{"activity": r.activity, "roles": {role: list(r.letters.get(role, ())) for role in ROLES},
                            "notes": r.notes} for r in rows],
            "errors": verdict.errors,
            "warnings": verdict.warnings,
            "role_holders": {**holders, "engineering": "the owning team's owner"},
        })
    elif markdown:
        echo(raci_markdown(rows), nl=False)
    else:
        width = max((len(cell(r.activity)) for r in rows), default=10)
        echo(f"{'activity':<{width}}  " + "  ".join(f"{ROLE_LABELS[r]:<16}" for r in ROLES).rstrip())
        for r in rows:
            cells = "  ".join(f"{','.join(r.letters.get(role, ())):<16}" for role in ROLES)
            echo(f"{cell(r.activity):<{width}}  {cells}".rstrip())
        echo("")
        for role, handle in holders.items():
            echo(f"{ROLE_LABELS[role]} resolves to: {handle or '- (no active person holds this role)'}")
        echo("engineering team resolves to: the owning team's owner")
    if not as_json:
        for line in verdict.errors:
            echo(f"error: {line}", err=True)
        for line in verdict.warnings:
            echo(f"warning: {line}", err=True)
    if check and not verdict.ok:
        raise SystemExit(EXIT_CHECK_FAILED)
