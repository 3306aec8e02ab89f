"""`finops-tui minutes RUN_ID`: a run's minutes as GitHub-flavoured markdown."""

from __future__ import annotations

from pathlib import Path

import click

from finops_tui.errors import handle_errors


@click.command("minutes")
@click.argument("run_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the markdown to this file instead of standard output.")
@click.pass_obj
def command(home, run_id: int, output: Path | None) -> None:  # type: ignore[no-untyped-def]
    """Render the minutes of ritual run RUN_ID (see `finops-tui runs`); an open run renders as a draft.
    An unknown RUN_ID exits 2."""
    from exports.minutes import render_minutes

    with handle_errors():
        with home.records.session() as s:
            text = render_minutes(s, run_id, home.config.currency)
        if output is None:
            click.echo(text, nl=False)
            return
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"cannot write {output}: {exc.strerror or exc}") from exc
    click.echo(f"wrote {output}", err=True)
