"""Row checks of FOCUS files: values the specification says MUST NOT be null, charge categories it allows,
and periods that end after they start. One aggregate pass over the file's typed relation finds, per check,
how many rows are bad and the first of them, so a refusal names file, column, first bad row and count.

Kept apart from storage.loader's checks of stored rows (which hold for every source, the demo and the AWS
sync included): these are what the FOCUS specification requires of a FOCUS file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.costs import one_row
from storage.loader import LoadProblem
from storage.sources.raw_files import RawFile, q

if TYPE_CHECKING:
    import duckdb

# Never null in FOCUS 1.0-1.3 (ChargePeriod*, BillingPeriod*, the costs, ChargeCategory, BillingCurrency).
NOT_NULL = ("BilledCost", "EffectiveCost", "ChargeCategory", "ChargePeriodStart", "ChargePeriodEnd",
            "BillingPeriodStart", "BillingPeriodEnd", "BillingCurrency")
CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
PERIODS = (("ChargePeriodStart", "ChargePeriodEnd"), ("BillingPeriodStart", "BillingPeriodEnd"))
CONTRACT_CATEGORIES = ("Spend", "Usage")


@dataclass(frozen=True)
class ValueCheck:
    """``bad`` is SQL over the typed relation ``t``, true on a bad row; ``show`` a column whose value of the
    first bad row the message quotes."""

    column: str
    bad: str
    message: str
    show: str | None = None


def _null(col: str) -> ValueCheck:
    return ValueCheck(col, f"t.{q(col)} IS NULL", f"{col} is empty; FOCUS requires a value on every row")


def _ends_after(start: str, end: str) -> ValueCheck:
    return ValueCheck(end, f"t.{q(end)} <= t.{q(start)}", f"{end} is not after {start}", end)


def line_item_checks(raw: RawFile, *, currency_given: bool) -> list[ValueCheck]:
    """The checks of a FOCUS cost and usage file (columns it has; a missing one was refused already).
    With ``--currency`` an empty BillingCurrency takes the currency given."""
    has = {c for c in NOT_NULL if raw.find(c) is not None}
    checks = [_null(c) for c in NOT_NULL if c in has and not (c == "BillingCurrency" and currency_given)]
    if "ChargeCategory" in has:
        allowed = ", ".join(f"'{c}'" for c in CHARGE_CATEGORIES)
        checks.append(ValueCheck("ChargeCategory", f"t.ChargeCategory IS NOT NULL AND t.ChargeCategory NOT IN ({allowed})",
                                 "not a FOCUS charge category (" + ", ".join(CHARGE_CATEGORIES) + ")", "ChargeCategory"))
    checks += [_ends_after(s, e) for s, e in PERIODS if s in has and e in has]
    return checks


def contract_checks(raw: RawFile) -> list[ValueCheck]:
    """The checks of a FOCUS 1.3 Contract Commitment file."""
    has = {c for c in ("ContractCommitmentId", "ContractId", "ContractCommitmentCategory",
                       "ContractCommitmentPeriodStart", "ContractCommitmentPeriodEnd", "ContractCommitmentCost")
           if raw.find(c) is not None}
    checks = [_null(c) for c in ("ContractCommitmentId", "ContractId", "ContractCommitmentCategory",
                                 "ContractCommitmentPeriodStart", "ContractCommitmentPeriodEnd") if c in has]
    allowed = ", ".join(f"'{c}'" for c in CONTRACT_CATEGORIES)
    checks.append(ValueCheck("ContractCommitmentCategory", "t.ContractCommitmentCategory IS NOT NULL AND "
                             f"t.ContractCommitmentCategory NOT IN ({allowed})",
                             "not a FOCUS contract commitment category (Spend, Usage)", "ContractCommitmentCategory"))
    cost = "t.ContractCommitmentCost IS NULL" if "ContractCommitmentCost" in has else "true"
    checks.append(ValueCheck("ContractCommitmentCost", f"t.ContractCommitmentCategory = 'Spend' AND {cost}",
                             "ContractCommitmentCost is empty on a Spend commitment; FOCUS requires it"))
    checks.append(_ends_after("ContractCommitmentPeriodStart", "ContractCommitmentPeriodEnd"))
    return checks


def check_rows(con: duckdb.DuckDBPyConnection, raw: RawFile, cte: str, checks: list[ValueCheck]) -> list[LoadProblem]:
    """Every failing check as a problem naming the file, column, first bad row and the count of bad rows."""
    if not checks:
        return []
    aggs = ", ".join(f"count_if({c.bad}), min(__row) FILTER (WHERE {c.bad})" for c in checks)
    found = one_row(con, f"WITH {cte} SELECT {aggs} FROM t")
    problems = []
    for i, check in enumerate(checks):
        count, first = found[2 * i], found[2 * i + 1]
        if not count:
            continue
        message = check.message
        if check.show:
            value = one_row(con, f"WITH {cte} SELECT CAST(t.{q(check.show)} AS VARCHAR) FROM t WHERE __row = ?",
                            [first])[0]
            message = f"{message} ({value!r})"
        rows = "1 row is bad" if count == 1 else f"{count:,} rows are bad"
        problems.append(LoadProblem(f"{message}; {rows}, the first is row {first}", raw.name, int(first),
                                    raw.find(check.column) or check.column))
    return sorted(problems, key=lambda p: p.row or 0)
