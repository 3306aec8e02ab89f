"""`finops-tui backup [PATH]`: a consistent copy of both stores and the config, while the app may run."""

from __future__ import annotations

from pathlib import Path

import click

from finops_tui.errors import echo, echo_json, handle_errors


@click.command("backup")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as one JSON object.")
@click.pass_obj
def command(home, path: Path | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Back up the home: the records (SQLite's online backup), the cost store (DuckDB's COPY FROM
    DATABASE, waiting for an import's swap to finish) and the config, into the new folder PATH, or a
    .tar.gz archive when PATH ends so [default: ./finops-tui-backup-STAMP].

    The app, a cron sweep or an import may run meanwhile: each store is copied as one committed state.
    manifest.json lists versions, the records' revision, row counts per table and a sha256 per file.
    Records on PostgreSQL are not copied: use pg_dump (the manifest and the output say so).
    """
    from storage.backup import default_backup_name, take_backup

    with handle_errors():
        dest = path or Path.cwd() / default_backup_name(home)
        manifest = take_backup(home, dest, progress=lambda m: echo(m, err=True))
    if as_json:
        echo_json({"path": str(dest), **manifest})
        return
    echo(f"backup written to {dest}")
    for entry in manifest["files"]:
        echo(f"  {entry['path']:<28}{entry['bytes']:>14,} bytes  sha256 {entry['sha256'][:16]}")
    records = manifest["records"]
    if records.get("included"):
        echo(f"  records at revision {records['revision']}: "
             f"{sum(records['tables'].values()):,} rows in {len(records['tables'])} tables")
    costs = manifest["costs"]
    if costs.get("included"):
        echo(f"  cost store: {costs['tables'].get('line_items_data', 0):,} line items, "
             f"{len(costs['tables'])} tables")
    for note in manifest["notes"]:
        echo(f"note: {note}", err=True)
