"""`finops-tui config`: check the configuration or print the shipped defaults."""

from __future__ import annotations

import click

from finops_tui.errors import echo, handle_errors


@click.command("config")
@click.option("--defaults", is_flag=True, help="Print the shipped defaults (a starting finops-tui.toml).")
@click.pass_obj
def command(home, defaults: bool) -> None:  # type: ignore[no-untyped-def]
    """Check HOME/finops-tui.toml (exit 2 naming the bad key) or print the defaults."""
    from storage.config import default_config_text

    if defaults:
        echo(default_config_text(), nl=False)
        return
    with handle_errors():
        cfg = home.config
    where = cfg.source or "the shipped defaults (no finops-tui.toml in the home)"
    echo(f"config OK: {where}")
    echo(f"allocation key: {cfg.taxonomy.allocation_key}; required keys: {', '.join(cfg.taxonomy.required_keys)}")
    echo(f"targets: allocation {cfg.targets.allocation_pct:g}%, commitment coverage "
               f"{cfg.targets.commitment_coverage_pct:g}%, forecast variance {cfg.targets.forecast_variance_pct:g}%")
    echo(f"time zone {cfg.timezone}, currency {cfg.currency}")
