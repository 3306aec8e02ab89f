"""The command line: global options, then a command. With no command it opens the app.

Global options come before the command: ``finops-tui [--home DIR] [--db URL] COMMAND ...``. Commands
live in ``finops_tui/commands``; each module exposes ``command`` (a click command or group), listed in
COMMANDS below and imported only when it runs. Heavy imports stay inside the command bodies so
``--help`` is instant.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from finops_tui.errors import echo, handle_errors

COMMANDS = [
    "info",
    "sync",
    "import_",
    "config",
    "runs",
    "minutes",
    "demo",
    "people",
    "teams",
    "raci",
    "actions",
    "inbox",
    "digest",
    "sweep",
    "commitments",
    "anomalies",
    "agenda",
    "showback",
    "unit_costs",
    "forecast",
    "budgets",
    "metrics",
    "kpis",
    "backup",
    "restore",
    "periods",
    "doctor",
    "channels",
    "notify",
    "explore",
    "warehouse",
]


# Commands that look at a home without writing to it: they report its permissions instead of changing them.
READ_ONLY = ("info", "doctor")


def command_name(module: str) -> str:
    """The command a module in COMMANDS defines (``import_`` -> ``import``, ``unit_costs`` -> ``unit-costs``)."""
    return module.rstrip("_").replace("_", "-")


class _Group(click.Group):
    """Imports a command's module only when that command runs (or --help lists them all): a records-only
    command such as ``people list`` then never pays for the ritual commands' imports."""

    _modules = {command_name(m): m for m in COMMANDS}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._modules))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self._modules:
            module = importlib.import_module(f"finops_tui.commands.{self._modules[cmd_name]}")
            self.add_command(module.command)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Group, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Home folder holding the config and both stores [env FINOPS_TUI_HOME; default: the user "
                   "data folder].")
@click.option("--db", "db_url", default=None, metavar="URL",
              help="Records store as any SQLAlchemy URL [env FINOPS_TUI_DB; default: records.sqlite in the home].")
@click.option("--max-scan-gb", type=click.FloatRange(min=0), default=None, metavar="GB",
              help="With the Athena engine: stop before running a query whose partitions in S3 add up to more "
                   "than GB (0: no bound) [default: [warehouse] max_scan_gb].")
@click.version_option(package_name="finops-tui", prog_name="finops-tui")
@click.pass_context
def main(ctx: click.Context, home: Path | None, db_url: str | None, max_scan_gb: float | None) -> None:
    """Run the rituals of a FinOps operating model: the weekly tag sweep, anomaly triage, the commitment
    review, the monthly cost review and the quarterly maturity review.

    With no command, opens the app on the home folder. Dates are ISO YYYY-MM-DD in UTC; --start is
    inclusive and --end exclusive everywhere. FINOPS_TUI_TODAY=YYYY-MM-DD pins "today".
    """
    from storage.home import Home, make_private, private_umask

    private_umask()  # everything written from here on (stores, -wal/-shm, scratch, config) is 0600 / 0700
    ctx.obj = Home.resolve(home, db_url)
    ctx.obj.max_scan_gb = max_scan_gb
    if ctx.invoked_subcommand not in READ_ONLY:
        # A home made before (or under a looser umask) is tightened once, saying so; `info` only warns.
        for notice in make_private(ctx.obj.path):
            echo(f"notice: {notice}", err=True)
    ctx.call_on_close(ctx.obj.close)
    ctx.call_on_close(lambda: report_scans(ctx.obj))
    if ctx.invoked_subcommand is None:
        with handle_errors():
            run_app(ctx.obj)


def report_scans(home) -> None:  # type: ignore[no-untyped-def]
    """After a command that asked Athena: its queries, bytes scanned and their cost, and the running total
    (on stderr, so --json output stays one object)."""
    costs = home.__dict__.get("costs")
    backend = getattr(costs, "_backend", None) if costs is not None else None
    if backend is None or not backend.meter.scans:
        return
    from storage.warehouse.athena import scan_line

    echo(scan_line(backend), err=True)


def run_app(home) -> None:  # type: ignore[no-untyped-def]
    """Open the TUI on a home (imported here so headless commands never load Textual)."""
    from finops_tui.app import FinOpsApp

    if home.db_url is not None:
        # A server is opened (and migrated) before the first paint, so an unreachable one or a missing
        # driver is one line here, not a crash inside a screen. A local file stays lazy: first paint is fast.
        with handle_errors():
            _ = home.records

    with handle_errors():
        _ = home.config  # a bad [ui] theme or [keys] entry: one line naming the file and key, exit 2
    FinOpsApp(home).run()


# Start-up creates about a million objects (pandas, SQLAlchemy, DuckDB's modules) and almost no garbage
# cycles: with the default threshold (700) the collector walks them again and again while they are imported,
# and once more when the interpreter shuts down. A larger first generation still collects cycles (a few
# megabytes at most wait for it); freezing what exists at the end spares the walk at exit. Measured on
# `import pandas, sqlmodel, duckdb`: 0.80 s of CPU down to 0.60 s.
GC_THRESHOLD = (100_000, 50, 100)


def tune_collector() -> None:
    """The collector as the ``finops-tui`` command runs with it (``entry``; the benchmarks that call ``main``
    in-process use it too, so they time what a user runs)."""
    import gc

    gc.set_threshold(*GC_THRESHOLD)


def entry() -> None:
    """The ``finops-tui`` command (pyproject's script): ``main`` with the collector tuned for start-up."""
    import gc

    tune_collector()
    try:
        main()
    finally:
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    entry()
