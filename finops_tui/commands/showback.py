"""`finops-tui showback`: per team, direct + shared = total for a month, summing to the month's spend."""

from __future__ import annotations

from pathlib import Path

import click

from finops_tui.errors import cell, echo, echo_json, handle_errors


def resolve_month(home, month: str | None):  # type: ignore[no-untyped-def]
    """--month YYYY-MM, else the last complete month (the month before today's)."""
    from rituals.showback import last_complete_month, parse_month

    return parse_month(month) if month else last_complete_month(home.clock.today())


@click.command("showback")
@click.option("--month", default=None, metavar="YYYY-MM",
              help="The month to show [default: the last complete month, the one before today's].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the per-team table to this CSV file.")
@click.pass_obj
def command(home, month: str | None, as_json: bool, csv_path: Path | None) -> None:  # type: ignore[no-untyped-def]
    """Showback: each team's direct spend plus its share of shared costs (unallocated spend, the shared
    accounts, support and untaggable charges), split by [shared_costs] method. Team totals sum to the
    month's spend (EffectiveCost, by charge period) to the cent; the month's BilledCost is shown by billing
    period, so it matches the month's invoice (--json: billed_basis)."""
    from exports.format import money, pct
    from rituals.showback import basis_words, showback

    with handle_errors():
        sb = showback(home, resolve_month(home, month))
        if csv_path is not None:
            try:
                sb.frame().to_csv(csv_path, index=False)
            except OSError as exc:
                raise ValueError(f"--csv {csv_path}: cannot write it ({exc.strerror})") from exc
    if as_json:
        echo_json(sb.as_json())
        return
    echo(f"showback {sb.month} ({sb.method} split of {money(sb.shared_total, sb.currency, decimals=2)} "
               f"shared)")
    echo(f"{'team':<22}{'direct':>14}{'shared':>14}{'total':>14}{'share':>9}")
    for t in sb.teams:
        echo(f"{cell(t.team):<22}{t.direct:>14,.2f}{t.shared:>14,.2f}{t.total:>14,.2f}{pct(t.share_pct):>9}")
    echo(f"{'total (EffectiveCost, by charge period)':<50}{sb.total:>14,.2f} {sb.currency}")
    billed = f"billed (BilledCost, {basis_words(sb.billed_basis)})"
    echo(f"{billed:<50}{sb.billed_total:>14,.2f} {sb.currency}")
