"""`finops-tui warehouse setup|check`: the Athena engine's mapping view, and a look at the export's table."""

from __future__ import annotations

import click

from finops_tui.errors import BadInput, echo, echo_json, handle_errors
from rituals.definitions.tag_sweep import KIND as TAG_SWEEP


@click.group("warehouse")
def command() -> None:
    """The cost engine on Amazon Athena ([warehouse] in the config): make the mapping view over the export's
    table, and check the table, its partitions and what a sweep would scan."""


def _athena_store(home):  # type: ignore[no-untyped-def]
    with handle_errors():
        cfg = home.config.warehouse
    if not cfg.is_athena:
        raise BadInput('the cost engine is duckdb: set [warehouse] engine = "athena", database and table in '
                       f"{home.config_path} first")
    return home.costs


@command.command("setup", short_help="Create (or print) the mapping view over the export's table.")
@click.option("--print", "print_only", is_flag=True,
              help="Print the view's SQL instead of creating it (no AWS call).")
@click.option("--unpartitioned", is_flag=True,
              help="With --print: the table has no billing_period partition (the view derives it).")
@click.pass_obj
def setup(home, print_only: bool, unpartitioned: bool) -> None:  # type: ignore[no-untyped-def]
    """Create or replace [warehouse] view in [warehouse] database: the export's raw table (shape cur2 or
    focus1.2) as the columns the named queries read (FOCUS columns, charge_date, one tag_<key> column per
    taxonomy key folded from the tag MAP, billing_period). Re-run it after changing the taxonomy."""
    from storage.warehouse.check import setup as create_view
    from storage.warehouse.check import setup_sql

    store = _athena_store(home)
    with handle_errors():
        if print_only:
            echo(setup_sql(store, partitioned=not unpartitioned) + ";")
            return
        _sql, qid = create_view(store)
    cfg = store.warehouse
    echo(f"created {cfg.database}.{cfg.view} over {cfg.database}.{cfg.table} ({cfg.shape}); Athena query {qid}")


@command.command("check", short_help="The table's shape and partitions, and the bytes a sweep would scan.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (partitions under `partitions`).")
@click.pass_obj
def check(home, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Read the export's table from Glue (its columns tell its shape), list its partitions with their size in
    S3, look for the mapping view, run one cheap query (the rows of the latest billing period) and plan the
    weekly sweep of the last 7 complete days without running it: the partitions each of its queries reads,
    whose size in S3 is the most it can scan. Exit 1 when a problem is found."""
    from rituals.ritual import ritual
    from rituals.tag_fixes import default_window
    from storage.warehouse.athena import size_text
    from storage.warehouse.check import check as run_check

    store = _athena_store(home)
    start, end = default_window(home.clock.today())
    with handle_errors():
        report = run_check(store, lambda: ritual(TAG_SWEEP).findings(home, window=(start, end)))
    if as_json:
        echo_json({**report.as_json(), "sweep_window": {"start": start.isoformat(), "end": end.isoformat()}})
    else:
        shape = report.detected_shape or "unknown"
        echo(f"table: {report.table} (configured {report.configured_shape}, looks like {shape})")
        parts = report.partitions
        total = sum(p["bytes_in_s3"] for p in parts)
        span = f"{parts[0]['billing_period']}..{parts[-1]['billing_period']}" if parts else "-"
        echo(f"partitions: {len(parts)} by {report.partition_key or '-'} ({span}), {size_text(total)} in S3")
        echo(f"view: {report.view} {'present' if report.view_present else 'missing'}")
        if report.latest_rows is not None:
            echo(f"latest billing period: {report.latest_rows:,} line items")
        if report.sweep:
            echo(f"a sweep of {start}..{end} (end exclusive) runs {len(report.sweep)} queries reading at most "
                 f"{size_text(report.sweep_bytes)}:")
            for q in report.sweep:
                echo(f"  {q['query']:<24} {','.join(q['billing_periods']) or '-':<20} {size_text(q['bytes_in_s3'])}")
        for problem in report.problems:
            echo(f"problem: {problem}")
    if report.problems:
        raise SystemExit(1)
