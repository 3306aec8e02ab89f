"""`finops-tui agenda monthly`: the monthly cost review's agenda with its figures, before the meeting."""

from __future__ import annotations

from pathlib import Path

import click

from exports.sanitize import plain
from finops_tui.errors import echo, echo_json, handle_errors
from rituals.definitions.monthly_review import KIND as MONTHLY_REVIEW


@click.group("agenda")
def command() -> None:
    """Agendas written from the data, to paste into a ritual's invitation."""


@command.command("monthly")
@click.option("--month", default=None, metavar="YYYY-MM",
              help="The month to review [default: the last complete month, the one before today's].")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the agenda to this file instead of standard output.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object (the numbers a monthly review run freezes when it closes).")
@click.option("--no-detect", is_flag=True,
              help="List the anomaly cases already stored instead of detecting over the data first.")
@click.pass_obj
def monthly(home, month: str | None, output: Path | None, as_json: bool, no_detect: bool) -> None:  # type: ignore[no-untyped-def]
    """The monthly cost review's agenda as markdown: actions carried from earlier reviews, spend against
    budget and forecast with the month-over-month drivers, showback, unit economics, anomalies since the
    last review, allocation and commitment coverage, and proposed actions with owners from the RACI.

    Default month: the last complete month (the month before today's). Anomalies: from the month after
    the last closed review up to today (end exclusive), detected first as `finops-tui anomalies` does.
    """
    import json

    from exports.monthly_review import agenda_markdown
    from finops_tui.errors import _clean, _default
    from rituals.calendar import month_period
    from rituals.monthly_review import default_month, parse_month
    from rituals.ritual import ritual

    with handle_errors():
        first = parse_month(month) if month else default_month(home.clock.today())
        agenda = ritual(MONTHLY_REVIEW).findings(home, month_period(first), detect=not no_detect).as_json()
        if as_json and output is None:
            echo_json(agenda)
            return
        text = (json.dumps(_clean(agenda), indent=2, ensure_ascii=False, default=_default) + "\n" if as_json
                else agenda_markdown(agenda))
        if output is None:
            echo(text, nl=False)
            return
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(plain(text), encoding="utf-8")  # no control byte reaches the file
        except OSError as exc:
            raise ValueError(f"cannot write {output}: {exc.strerror or exc}") from exc
    echo(f"wrote {output}", err=True)
