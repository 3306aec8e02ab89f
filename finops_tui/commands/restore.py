"""`finops-tui restore PATH`: a backup into an empty home, its checksums verified first."""

from __future__ import annotations

from pathlib import Path

import click

from finops_tui.errors import echo, echo_json, handle_errors


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--force", is_flag=True,
              help="Restore into a home that holds data: its files are moved aside into HOME/.before-restore-STAMP "
                   "first (stop the app and cron jobs on it before).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_obj
def command(home, path: Path, force: bool, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Restore the backup PATH (a folder or .tar.gz written by `finops-tui backup`) into the home.

    Every file's sha256 is checked against the manifest before anything is written; a damaged backup
    changes nothing (exit 2). A home holding data is refused unless --force.
    """
    from storage.backup import restore_backup

    with handle_errors():
        summary = restore_backup(home, path, force=force)
    if as_json:
        echo_json(summary.as_json())
        return
    echo(f"restored {len(summary.files)} files into {summary.home} "
         f"(backup of {summary.manifest.get('created_at')})")
    if summary.moved_aside:
        echo(f"the home's previous files are in {summary.moved_aside}")
    for note in summary.manifest.get("notes", []):
        echo(f"note: {note}", err=True)
