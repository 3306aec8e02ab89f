"""`finops-tui minutes RUN_ID`: a run's minutes as markdown, HTML or plain text."""

from __future__ import annotations

from pathlib import Path

import click

from finops_tui.errors import echo, handle_errors

SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".txt": "txt"}


@click.command("minutes")
@click.argument("run_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["md", "html", "txt"]), default=None,
              help="md: GitHub-flavoured markdown for a wiki; html: a page for mail or Confluence; txt: plain "
                   "text. Default: from the -o file's extension (.md, .html, .txt), else md.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the minutes to this file instead of standard output.")
@click.pass_obj
def command(home, run_id: int, fmt: str | None, output: Path | None) -> None:  # type: ignore[no-untyped-def]
    """Render the minutes of ritual run RUN_ID (see `finops-tui runs`): a summary, a section per step,
    an appendix. A closed run renders from what it froze, the same on any later day; an open run renders
    as a draft. An unknown RUN_ID exits 2."""
    from exports.minutes import render_minutes
    from exports.minutes_formats import render
    from rituals.runs import get_run

    with handle_errors():
        if fmt is None:
            fmt = SUFFIXES.get(output.suffix.lower(), "md") if output is not None else "md"
        with home.records.session() as s:
            run = get_run(s, run_id)
            from rituals.ritual import RITUAL_BY_KIND

            spec = RITUAL_BY_KIND.get(run.kind)
            title = f"{spec.title if spec else run.kind}: {run.period}"
            text = render(render_minutes(s, run_id, home.config.currency), fmt, title)
        if output is None:
            echo(text, nl=False)
            return
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")  # render_minutes has passed it through the sanitiser
        except OSError as exc:
            raise ValueError(f"cannot write {output}: {exc.strerror or exc}") from exc
    echo(f"wrote {output}", err=True)
