"""`finops-tui demo`: build (once) and open the demo company."""

from __future__ import annotations

import click

from finops_tui.errors import BadInput, echo, handle_errors


@click.command("demo")
@click.option("--reset", is_flag=True, help="Regenerate the demo from scratch (drops runs and actions made in it).")
@click.option("--no-tui", is_flag=True, help="Build the demo home and exit without opening the app.")
@click.option("--as-of", "as_of", metavar="DATE", default=None,
              help="The day the demo's history ends (exclusive) [default: today, or FINOPS_TUI_TODAY].")
@click.option("--seed", default=7, show_default=True, help="Generator seed (same seed and date, same data).")
@click.pass_obj
def command(home, reset: bool, no_tui: bool, as_of: str | None, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Open the demo company: 13 months of a realistic AWS bill, people, teams and ritual history.

    Uses its own folder (<user data folder>/demo) unless --home or FINOPS_TUI_HOME names one, and never
    writes over a folder holding real data. An existing demo is reused unless --reset is given.
    """
    from rituals.demo_company import DemoHomeError, build_demo, check_demo_home, wipe_demo
    from storage.clock import Clock, parse_date
    from storage.home import Home, demo_home

    target = home if home.explicit else Home(demo_home(), home.db_url)
    with handle_errors():
        try:
            check_demo_home(target)
        except DemoHomeError as exc:
            raise BadInput(str(exc)) from exc
        day = parse_date(as_of, "--as-of") if as_of else Clock.from_env().today()
        built_for = target.demo_as_of() if target.is_demo and target.has_cost_data() else None
        if reset and target.is_demo:
            wipe_demo(target)
            built_for = None
        if built_for is None:
            build_demo(target.path, day, seed, progress=lambda m: echo(m, err=True), db_url=target.db_url)
            echo(f"demo ready in {target.path} (as of {day.isoformat()})", err=True)
        elif as_of and built_for != day:
            echo(f"the demo in {target.path} was built for {built_for.isoformat()}; "
                       "add --reset to rebuild it for --as-of", err=True)
        else:
            echo(f"opening the demo in {target.path} (built for {built_for.isoformat()}; "
                       "--reset rebuilds it)", err=True)
    if no_tui:
        return
    from finops_tui.cli import run_app

    run_app(Home(target.path, target.db_url))
