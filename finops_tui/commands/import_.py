"""`finops-tui import PATH...`: FOCUS 1.0-1.3, AWS CUR 2.0 and legacy CUR files into the cost store, atomically."""

from __future__ import annotations

import shutil
import sys
from typing import Any

import click

from finops_tui.errors import BadInput, echo, echo_json, handle_errors
from storage.sources.shapes import FORMATS
from storage.text import one_line_plain


@click.command("import")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Read every file as this format: focus (FOCUS 1.0-1.3), focus-contract-commitment (the FOCUS "
                   "1.3 Contract Commitment dataset), cur2 (AWS CUR 2.0), cur-legacy (legacy CUR, lineItem/ "
                   "names) or cur-legacy-athena (legacy CUR, Athena delivery) [default: detected from each "
                   "file's header].")
@click.option("--currency", default=None, metavar="CODE",
              help="The billing currency of FOCUS files without a BillingCurrency column (or with empty cells), "
                   "such as the FOCUS specification's example files; without it such a file is refused. Also "
                   "the currency of CUR rows without one [default for CUR: the configured currency].")
@click.option("--billing-account", default=None, metavar="ID",
              help="BillingAccountId of files that have no BillingAccountId column (such a file is refused "
                   "without it); an empty cell in a file's own column is refused either way.")
@click.option("--accept-missing", "accept_missing", multiple=True, metavar="COLUMN[,COLUMN...]",
              help="Import FOCUS files that lack these FOCUS 1.0 mandatory columns, as partial FOCUS: the columns "
                   "are left empty and every such file is named, with its missing columns, in the summary, "
                   "--json and `info`. Without it such a file is refused naming the columns it lacks. Only "
                   "descriptive columns may be accepted (BillingAccountName, ChargeClass, ChargeDescription, "
                   "ContractedCost, InvoiceIssuerName, ListCost, PricingQuantity, PricingUnit, ProviderName, "
                   "PublisherName, ServiceCategory, ServiceName); BillingAccountId and BillingCurrency are "
                   "supplied with --billing-account and --currency; the costs, ChargeCategory and the periods "
                   "never. Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_obj
def command(home, paths: tuple[str, ...], fmt: str | None, currency: str | None,  # type: ignore[no-untyped-def]
            billing_account: str | None, accept_missing: tuple[str, ...], as_json: bool) -> None:
    """Import billing exports: files, folders (searched recursively) or globs of CSV, CSV.gz or Parquet.

    FOCUS 1.0-1.3 (any provider), AWS CUR 2.0 and the legacy CUR (CSV with lineItem/ names, or its
    Athena delivery in snake_case) are told apart by their headers; each file's shape is printed. Other
    exports (Azure EA/MCA, GCP, OCI, FOCUS before 1.0) are refused with the export to create instead.
    AWS Data Exports COST_OPTIMIZATION_RECOMMENDATIONS files go to the recommendations inbox (`inbox`).

    FOCUS is read strictly: the version comes from an AWS Data Exports manifest beside the file or a column
    only a later release has, and is printed; FOCUS 1.0's 21 mandatory columns must be there (a name FOCUS
    1.3 changed counts under either name), else the file is refused naming those it lacks: BillingAccountId
    and BillingCurrency can be supplied (--billing-account, --currency) and the descriptive ones accepted as
    missing (--accept-missing), never the costs, ChargeCategory or the periods. The costs, ChargeCategory,
    the charge and billing periods and BillingCurrency must have a value on every row (periods ending after
    they start), else the file is refused naming the column, the first bad row and how many rows are bad. FOCUS 1.3 Contract Commitment files are stored beside the line
    items and shown in the commitment review. One
    import is one transaction: a bad file anywhere stores nothing and exits 2 naming the file, row and
    column. Costs and quantities must be finite and below 1e15 in size; ChargePeriodStart and
    BillingPeriodStart must lie between 2006-01-01 and 366 days after today; offsets are read as UTC, and the
    billing period comes from the BillingPeriod columns as written. Control characters are refused in
    identifiers and stripped, with a warning, from names and descriptions; a file of more than 1,000 columns
    is refused. Importing a billing period of a billing account again replaces it. Prints rows, replaced rows,
    providers, accounts, BilledCost and EffectiveCost per billing period (so each period's BilledCost is its
    invoice's), charges whose charge period spans months, absent columns and folded tag keys.
    """
    from finops_tui.commands.inbox import import_recommendation_files
    from storage.loader import LoadError
    from storage.sources.files import import_files

    if fmt is None and import_recommendation_files(home, paths, as_json):
        return  # AWS Data Exports cost optimization recommendations: the inbox's, not billing rows
    with handle_errors():
        bar = _Bar() if sys.stderr.isatty() else None
        try:
            result = import_files(home.costs, paths, fmt=fmt, currency=currency,
                                  fallback_currency=home.config.currency,
                                  billing_account=billing_account, accept_missing=accept_missing,
                                  progress=bar.update if bar else None,
                                  imported_at=home.clock.now())
        except LoadError as exc:
            raise BadInput(one_line(exc)) from exc
        finally:
            if bar:
                bar.close()
    if bar:
        echo(rate_line(result.load.rows, bar.elapsed()), err=True)
    summary = result.as_dict()
    if as_json:
        echo_json(summary)
        return
    for line in summary_lines(summary):
        echo(line)


def one_line(exc: Exception) -> str:
    problems = getattr(exc, "problems", None) or []
    text = str(problems[0]) if problems else str(exc)
    text = " ".join(text.split())
    more = len(problems) - 1
    return f"{text} (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else text


def summary_lines(s: dict[str, Any]) -> list[str]:
    """The import summary as text (also shown by the TUI's import dialog)."""
    cur = s["currency"]
    files = s["files"]
    out = [
        f"Imported {s['rows']:,} rows from {len(files)} file{'s' if len(files) != 1 else ''}; "
        f"replaced {s['replaced']:,} rows already stored.",
        f"Providers: {', '.join(s['providers']) or '-'}; accounts: {s['accounts']}; currency: {cur}.",
    ]
    if s["billing_periods"]:
        out += ["By billing period (BillingPeriodStart), as invoiced:",
                f"{'billing period':<15}{'rows':>10}{'BilledCost':>18}{'EffectiveCost':>18}"]
    for p in s["billing_periods"]:
        out.append(f"{p['period']:<15}{p['rows']:>10,}{p['billed_cost'] or 0:>18,.2f}{p['effective_cost'] or 0:>18,.2f}")
    multi = s.get("multi_month_charges") or {}
    if multi:
        where = f" (first: {multi['first_source']} row {multi['first_row']})" if multi.get("first_row") else ""
        out.append(f"{multi['rows']:,} charge{' spans' if multi['rows'] == 1 else 's span'} more than one month "
                   f"(charge period), {multi['billed_cost']:,.2f} {cur} billed{where}: billed figures count them "
                   "in their billing period, spend over time on the day their charge starts.")
    for f in files:
        out.append(f"{f['path']}: {f['format']}, {f['rows']:,} rows ({f['shape']}"
                   + (f"; {f['version_basis']}" if f.get("version_basis") else "") + ")")
        if f.get("missing_mandatory"):
            out.append(f"  partial FOCUS (not FOCUS 1.0 conformant): mandatory columns missing, accepted with "
                       f"--accept-missing and left empty: {', '.join(f['missing_mandatory'])}")
        if f.get("supplied"):
            given = {"BillingAccountId": "--billing-account", "BillingCurrency": "--currency"}
            out.append("  mandatory columns missing, supplied: "
                       + ", ".join(f"{c} by {given.get(c, c)}" for c in f["supplied"]))
        if f["absent_columns"]:
            out.append(f"  absent columns: {', '.join(f['absent_columns'])}")
        if f["ignored_columns"]:
            out.append(f"  columns not used: {', '.join(f['ignored_columns'])}")
    if s["folded_tag_keys"]:
        folded = "; ".join(f"{k} <- {', '.join(repr(v) for v in vs)}" for k, vs in s["folded_tag_keys"].items())
        out.append(f"Folded tag keys: {folded}")
    if s["commitments"]:
        out.append(f"Commitments recorded: {s['commitments']}")
    if s.get("contract_commitments"):
        out.append(f"Contract commitments recorded (FOCUS Contract Commitment dataset): {s['contract_commitments']}")
    out.extend(s["notes"])
    return out


def clock_text(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"


def progress_line(label: str, fraction: float, elapsed: float, width: int = 30, columns: int | None = None) -> str:
    """One line of the import's progress: phase, bar, percent, time so far and, once a few percent are done,
    the time left at the pace so far. ``columns``: the terminal's width; the label and the bar shrink so that
    the line fits in one row (a wrapped line is not redrawn in place)."""
    fraction = min(max(fraction, 0.0), 1.0)
    label = one_line_plain(label).replace("\t", " ")  # a file's name is the user's text: no control characters
    tail = f" {fraction * 100:3.0f}%  {clock_text(elapsed)}"
    if 0.02 <= fraction < 1.0 and elapsed >= 1.0:
        tail += f", about {clock_text(elapsed * (1 - fraction) / fraction)} left"
    label_width = 36
    if columns is not None:
        room = max(columns - 1, 20)  # the last column is left free: some terminals wrap on writing it
        label_width = max(min(36, room - len(tail) - 3 - 10), 8)
        width = max(min(width, room - label_width - 3 - len(tail)), 5)
    filled = int(fraction * width)
    line = f"{label[:label_width]:<{label_width}} [{'#' * filled}{'-' * (width - filled)}]{tail}"
    return line if columns is None else line[:max(columns - 1, 20)]


def rate_line(rows: int, seconds: float) -> str:
    return f"{rows:,} rows in {seconds:.1f} s ({rows / max(seconds, 1e-9):,.0f} rows/s)"


class _Bar:
    """Progress on stderr (a terminal only), fed by the importer's (message, fraction) callbacks; the line is
    redrawn at most 4 times a second."""

    def __init__(self) -> None:
        import time

        self._now = time.monotonic
        self.started = self._now()
        self._label, self._fraction, self._drawn, self._width = "importing", 0.0, 0.0, 0

    def update(self, message: str, fraction: float) -> None:
        self._label, self._fraction = message, max(fraction, self._fraction)
        now = self._now()
        if now - self._drawn >= 0.25 or fraction >= 1.0:
            self._drawn = now
            columns = shutil.get_terminal_size((80, 24)).columns
            line = progress_line(self._label, self._fraction, now - self.started, columns=columns)
            sys.stderr.write("\r" + line.ljust(min(self._width, columns - 1)))
            sys.stderr.flush()
            self._width = len(line)

    def elapsed(self) -> float:
        return self._now() - self.started

    def close(self) -> None:
        sys.stderr.write("\r" + " " * self._width + "\r")
        sys.stderr.flush()
