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
        warehouse = home.config.warehouse
        # On Athena, info makes no AWS call and scans nothing: `warehouse check` looks at the table.
        info = None if warehouse.is_athena else home.costs.info()
        out = {
            "home": str(home.path),
            "config": str(home.config_path) if home.config_path.exists() else None,
            "records_backend": home.records_url.split(":", 1)[0].split("+", 1)[0],
            "records": home.records_display_url,  # never the password
            "cost_engine": warehouse.engine,
            "costs": (f"athena {warehouse.database}.{warehouse.view} over {warehouse.table} ({warehouse.shape}, "
                      f"workgroup {warehouse.workgroup})" if warehouse.is_athena else str(home.costs_path)),
            "demo": home.is_demo,
            "today": home.clock.today().isoformat(),
            "currency": (info.currency if info else None) or home.config.currency,
            "cost_rows": info.rows if info else None,
            "first_day": info.first_day if info else None,
            "last_day": info.last_day if info else None,
            "providers": list(info.providers) if info else [],
            "last_import_at": info.last_import_at if info else None,
            # Partial FOCUS files still stored: mandatory columns accepted as missing (import --accept-missing).
            "partial_focus_imports": list(info.partial_imports) if info else [],
        }
        if warehouse.is_athena:
            queries, scanned, cost = home.costs.backend.totals()
            out["athena_queries_total"] = queries
            out["athena_bytes_scanned_total"] = scanned
            out["athena_scan_cost_total"] = round(cost, 6)
    from storage.home import permission_warnings

    warnings = permission_warnings(home.path)
    out["permission_warnings"] = warnings
    if as_json:
        echo_json(out)
        return
    for line in warnings:
        echo(f"warning: {line}", err=True)
    width = max(len(k) for k in out if k not in ("permission_warnings", "partial_focus_imports"))
    for key, value in out.items():
        if key in ("permission_warnings", "partial_focus_imports"):
            continue
        echo(f"{key:>{width}}: {value if value not in (None, []) else '-'}")
    for imp in out["partial_focus_imports"]:
        for path, cols in imp["files"].items():
            echo(f"{'partial FOCUS':>{width}}: import {imp['import_id']} ({imp['rows']:,} rows stored): {path} lacks "
                 f"the mandatory columns {', '.join(cols)} (accepted with --accept-missing)")
