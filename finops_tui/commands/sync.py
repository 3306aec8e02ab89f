"""`finops-tui sync aws`: fetch cost data from the AWS APIs into the cost store, metered and cached."""

from __future__ import annotations

import click

from exports.sanitize import plain
from finops_tui.errors import Failed, echo, echo_json, handle_errors

DATASETS_HELP = ("costs,tags,accounts,forecast,anomalies,commitments,recommendations,budgets (the default: all "
                 "of these), optimization (Cost Optimization Hub and Compute Optimizer idle recommendations into "
                 "the inbox; only when named)")


@click.group("sync")
def command() -> None:
    """Fetch cost data from a cloud provider's APIs into the cost store."""


@command.command("aws")
@click.option("--profile", default=None, help="AWS profile (default: boto3's standard credential chain).")
@click.option("--months", type=click.IntRange(1, 14), default=13, show_default=True,
              help="Months of daily history, the month of the last complete day (yesterday) included.")
@click.option("--since", default=None, metavar="DATE", help="Start day YYYY-MM-DD (overrides --months).")
@click.option("--max-requests", type=click.IntRange(0), default=None,
              help="Stop cleanly before making more than N API requests.")
@click.option("--endpoint-url", default=None, metavar="URL", help="Send every request here (an emulator).")
@click.option("--only", default=None, metavar="SETS", help=f"Comma-separated data sets: {DATASETS_HELP}.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def aws(home, profile, months, since, max_requests, endpoint_url, only, as_json) -> None:  # type: ignore[no-untyped-def]
    """Sync Cost Explorer, Cost Anomaly Detection, Savings Plans/RIs, Organizations and Budgets.

    Window: --months (default 13, the month of yesterday, the last complete day, included: on the 1st that
    is the month before) up to yesterday; days already stored and
    settled are not fetched again. Each data set lands on its own (partial: some of it landed, rows and
    days say what); exit 1 if any failed. Timeouts and a deadline per data set come from the config's
    [aws] table (defaults fail an endpoint that stops answering in under a minute). Cost Explorer
    bills $0.01 per request: the requests made and their cost are printed after every sync.
    """
    from storage.clock import parse_date
    from storage.sources.aws import SyncOptions, parse_only, sync_aws

    with handle_errors():
        options = SyncOptions(profile=profile, months=months, since=parse_date(since, "--since") if since else None,
                              max_requests=max_requests, endpoint_url=endpoint_url, only=parse_only(only))
        result = sync_aws(home, options, progress=None if as_json else lambda m: echo(m, err=True))
    budgets_ok = any(d.name == "budgets" and d.status == "ok" for d in result.datasets)
    if budgets_ok:
        # AWS budgets named like a team (or "total") become the records' monthly budgets.
        from rituals.budgets import import_aws_budgets

        with handle_errors(), home.records.write() as session:
            moved = import_aws_budgets(session, home.costs)
        if not as_json and (moved["imported"] or moved["skipped"]):
            echo(f"budgets into the records: {', '.join(moved['imported']) or 'none'}"
                       + (f"; skipped {'; '.join(moved['skipped'])}" if moved["skipped"] else ""), err=True)
    inbox_lines = _optimization_into_inbox(home, result)
    if as_json:
        echo_json({**result.as_dict(), **({"inbox": inbox_lines} if inbox_lines else {})})
    else:
        for d in result.datasets:
            detail = d.reason if d.status != "ok" else (d.note or "")
            if d.status == "partial" and d.landed_keys is not None:
                detail = (f"landed tag keys {', '.join(d.landed_keys) or '-'}; not {', '.join(d.missing_keys or [])}"
                          f": {detail}")
            echo(f"{d.name:>16}: {d.status:<7} {d.rows:>7} rows {d.days:>4} days {d.requests:>4} requests  "
                       f"{plain(detail, one_line=True)}")
        answered = result.as_dict()["answered"]
        unanswered = f", {result.ledger.requests - answered} unanswered" if answered < result.ledger.requests else ""
        echo(f"requests: {result.ledger.requests}{unanswered} (${result.ledger.cost:.2f}); "
                   f"running total {result.requests_total} (${result.cost_total:.2f})")
        for line in inbox_lines:
            echo(f"inbox from {line['source']}: found {line['found']} ({line['new']} new, {line['gone']} no longer "
                 f"listed; {line['purchases_skipped']} purchase recommendations for the commitment review)")
    if not result.ok:
        failed = [d.name for d in result.datasets if d.status != "ok"]
        raise Failed(f"not synced: {', '.join(failed)}")


def _optimization_into_inbox(home, result) -> list[dict]:  # type: ignore[no-untyped-def]
    """The optimization data set's stored recommendations into the inbox (each source that landed)."""
    done = next((d for d in result.datasets if d.name == "optimization" and d.status in ("ok", "partial")), None)
    if done is None:
        return []
    from rituals.inbox import refresh_from_store
    from rituals.kpis import load_bands

    failed = done.note or ""
    out = []
    with handle_errors():
        for source, service in (("cost_optimization_hub", "Cost Optimization Hub"),
                                ("compute_optimizer", "Compute Optimizer")):
            if service in failed:
                continue  # its rows were not refreshed: the inbox keeps what it had
            out.append(refresh_from_store(home.records, home.costs, source, home.clock.now(),
                                          load_bands(home).waste).as_dict())
    return out
