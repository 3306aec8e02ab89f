"""`finops-tui doctor`: is this home healthy, and if not, what to do."""

from __future__ import annotations

import click

from finops_tui.errors import EXIT_CHECK_FAILED, echo, echo_json, handle_errors


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the findings under `checks`).")
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> None:
    """Check the home: the config; the records (SQLite integrity_check and foreign_key_check, schema at
    the newest revision); the cost store (opens, tables at the expected layout, its rows readable);
    permissions (group/world-writable fails, readable warns); free disk space; the last import and sync.

    Reads only (a damaged store is never migrated). Exits 1 when a check fails, each failure with what to do.
    """
    from storage.doctor import diagnose

    with handle_errors():
        report = diagnose(ctx.obj)
    if as_json:
        echo_json(report.as_json())
    else:
        for f in report.findings:
            echo(f"{f.status:<5} {f.check}: {f.detail}")
            if f.fix and f.status != "ok":
                echo(f"      -> {f.fix}")
        out = report.as_json()
        echo("healthy" if report.ok and not out["warnings"] else
             f"{out['problems']} problem(s), {out['warnings']} warning(s)")
    if not report.ok:
        ctx.exit(EXIT_CHECK_FAILED)
