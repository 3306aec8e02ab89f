"""`finops-tui info`: where this home's data lives and what it holds."""

from __future__ import annotations

import click

from finops_tui.errors import echo, echo_json, handle_errors


@click.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def command(home, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Show the home folder, its stores and what they hold."""
    with handle_errors():
        info = home.costs.info()
        out = {
            "home": str(home.path),
            "config": str(home.config_path) if home.config_path.exists() else None,
            "records": home.records_display_url,  # never the password
            "costs": str(home.costs_path),
            "demo": home.is_demo,
            "today": home.clock.today().isoformat(),
            "currency": info.currency or home.config.currency,
            "cost_rows": info.rows,
            "first_day": info.first_day,
            "last_day": info.last_day,
            "providers": list(info.providers),
            "last_import_at": info.last_import_at,
            # Partial FOCUS files still stored: mandatory columns accepted as missing (import --accept-missing).
            "partial_focus_imports": list(info.partial_imports),
        }
    from storage.home import permission_warnings

    warnings = permission_warnings(home.path)
    out["permission_warnings"] = warnings
    if as_json:
        echo_json(out)
        return
    for line in warnings:
        echo(f"warning: {line}", err=True)
    for key, value in out.items():
        if key in ("permission_warnings", "partial_focus_imports"):
            continue
        echo(f"{key:>15}: {value if value not in (None, []) else '-'}")
    for imp in out["partial_focus_imports"]:
        for path, cols in imp["files"].items():
            echo(f"{'partial FOCUS':>15}: import {imp['import_id']} ({imp['rows']:,} rows stored): {path} lacks "
                 f"the mandatory columns {', '.join(cols)} (accepted with --accept-missing)")
