"""The billing periods the cost store holds, and taking one back out.

A billing period of a billing account is what an import replaces (``storage.loader``), so it is also the
unit a person removes: a period of the wrong account, a test export. ``billing_periods`` lists them per
provider with the import that wrote them; ``remove_period`` deletes one period of one billing account in
one transaction, and its summary is ``billing_periods`` of exactly the rows it deletes (one number, one
function: the list and the removal never disagree).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from storage import rollup
from storage.costs import CostStore, CostStoreError, one_row
from storage.schema import DATA_TABLE, FOCUS_COLUMNS, stored_column_sql, stored_columns

if TYPE_CHECKING:
    import duckdb

PERIOD_COLUMNS = ["billing_period", "billing_period_start", "billing_account_id", "provider", "rows",
                  "billed_cost", "effective_cost", "currency", "source", "imported_at"]
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SYNC_SOURCE = "sync aws"  # the AWS sync's imports are named "sync aws FIRST..END" (storage/sources/aws.py)


class NothingToRemove(ValueError):
    """No stored row matches the period and billing account asked for (bad input: exit 2)."""


@dataclass(frozen=True)
class PeriodKey:
    """A billing period as a person names it: ``YYYY-MM`` (periods starting in that month) or
    ``YYYY-MM-DD`` (the period starting that day), of one billing account."""

    period: str
    billing_account: str

    @property
    def bounds(self) -> tuple[date, date]:
        """[first, last) days a matching BillingPeriodStart falls in."""
        text = self.period.strip()
        try:
            if _MONTH.match(text):
                first = date.fromisoformat(text + "-01")
                after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
                return first, after
            if _DAY.match(text):
                day = date.fromisoformat(text)
                return day, date.fromordinal(day.toordinal() + 1)
        except ValueError:
            pass
        raise ValueError(f"billing period {self.period!r}: give YYYY-MM (as `periods list` shows it) or the "
                         "period's start day YYYY-MM-DD")


def _rows(con: duckdb.DuckDBPyConnection, where: str = "TRUE", params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Per billing period x billing account x provider of the line items matching ``where``: rows, BilledCost,
    EffectiveCost, currency, and the import(s) that wrote them (source and latest imported_at)."""
    frame = con.execute(
        "SELECT strftime(CAST(li.BillingPeriodStart AS DATE), '%Y-%m') AS billing_period, "
        "CAST(li.BillingPeriodStart AS DATE) AS billing_period_start, li.BillingAccountId AS billing_account_id, "
        "li.ProviderName AS provider, count(*) AS rows, sum(li.BilledCost) AS billed_cost, "
        "sum(li.EffectiveCost) AS effective_cost, min(li.BillingCurrency) AS currency, "
        "string_agg(DISTINCT i.source, '; ' ORDER BY i.source) AS source, max(i.imported_at) AS imported_at "
        f"FROM line_items li LEFT JOIN imports i ON i.import_id = li.import_id WHERE {where} "
        "GROUP BY ALL ORDER BY billing_period_start, billing_account_id, provider NULLS LAST", params or []).df()
    out = []
    for rec in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        rec["rows"] = int(rec["rows"])
        rec["billing_period_start"] = rec["billing_period_start"].date() if hasattr(
            rec["billing_period_start"], "date") else rec["billing_period_start"]
        rec["imported_at"] = rec["imported_at"].to_pydatetime() if hasattr(
            rec["imported_at"], "to_pydatetime") else rec["imported_at"]
        out.append(rec)
    return out


def billing_periods(store: CostStore) -> list[dict[str, Any]]:
    """Every billing period x billing account x provider the store holds (keys: PERIOD_COLUMNS), oldest first."""
    with store.reader() as con:
        if con is None:
            return []
        return _rows(con)


def _match(key: PeriodKey) -> tuple[str, list[Any]]:
    first, after = key.bounds
    return ("li.BillingAccountId = ? AND CAST(li.BillingPeriodStart AS DATE) >= ? "
            "AND CAST(li.BillingPeriodStart AS DATE) < ?", [key.billing_account, first, after])


@dataclass
class PeriodRemoval:
    """What a removal took out (or would, with ``dry_run``): the periods rows as ``billing_periods`` lists
    them, and the AWS sync days forgotten so that a later sync fetches them again."""

    key: PeriodKey
    periods: list[dict[str, Any]]
    dry_run: bool = False
    sync_days_forgotten: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(p["rows"] for p in self.periods)

    def as_json(self) -> dict[str, Any]:
        currency = next((p["currency"] for p in self.periods if p["currency"]), None)
        return {"billing_period": self.key.period, "billing_account_id": self.key.billing_account,
                "dry_run": self.dry_run, "rows": self.rows,
                "billed_cost": sum(p["billed_cost"] or 0.0 for p in self.periods),
                "effective_cost": sum(p["effective_cost"] or 0.0 for p in self.periods),
                "currency": currency, "periods": self.periods,
                "sync_days_forgotten": self.sync_days_forgotten, "notes": self.notes}


def _nothing(con: duckdb.DuckDBPyConnection | None, key: PeriodKey) -> NothingToRemove:
    held = _rows(con) if con is not None else []
    if not held:
        return NothingToRemove("the cost store holds no billing periods; nothing to remove")
    mine = sorted({p["billing_period"] for p in held if p["billing_account_id"] == key.billing_account})
    if mine:
        hint = f"billing account {key.billing_account} has {', '.join(mine)}"
    else:
        accounts = sorted({str(p["billing_account_id"]) for p in held})
        hint = f"no billing account {key.billing_account!r}; the store holds {', '.join(accounts)}"
    return NothingToRemove(f"no rows of billing period {key.period} for billing account "
                           f"{key.billing_account}: {hint} (see `finops-tui periods list`)")


def remove_period(store: CostStore, key: PeriodKey, *, dry_run: bool = False) -> PeriodRemoval:
    """Delete every line item of one billing period of one billing account in one transaction, and forget
    the AWS sync's days of it when the sync wrote some (a later ``sync aws`` fetches them again). The
    import records stay (history). Raises NothingToRemove when no row matches: the store is unchanged."""
    where, params = _match(key)
    if dry_run or not store.exists():
        with store.reader() as con:
            found = _rows(con, where, params) if con is not None else []
            if not found:
                raise _nothing(con, key)
        return PeriodRemoval(key, found, dry_run=True)
    with store.writer() as con:
        con.execute("BEGIN TRANSACTION")
        try:
            found = _rows(con, where, params)
            if not found:
                raise _nothing(con, key)
            removal = PeriodRemoval(key, found)
            # The view's BillingPeriodStart over the stored table (a period a file lacked is derived there).
            period = stored_column_sql("BillingPeriodStart", stored_columns(con), FOCUS_COLUMNS, DATA_TABLE)
            match = (f"{DATA_TABLE}.BillingAccountId = ? AND CAST({period} AS DATE) >= ? "
                     f"AND CAST({period} AS DATE) < ?")
            synced = any(SYNC_SOURCE in (p["source"] or "") for p in found)
            deleted, lo, hi = one_row(con, f"SELECT count(*), min(charge_date), max(charge_date) FROM {DATA_TABLE} "
                                           f"WHERE {match}", params)
            if deleted != removal.rows:  # the view and the table must agree, or nothing is removed
                raise CostStoreError(f"removal matched {deleted} stored rows but {removal.rows} line items")
            days = rollup.touched_days(con, match, params)
            con.execute(f"DELETE FROM {DATA_TABLE} WHERE {match}", params)
            rollup.refresh(con, store, days)
            if synced and lo is not None and _has_table(con, "aws_sync_days"):
                days = [lo, hi]
                removal.sync_days_forgotten = int(one_row(
                    con, "SELECT count(*) FROM aws_sync_days WHERE dataset = 'costs' AND day BETWEEN ? AND ?",
                    days)[0])
                con.execute("DELETE FROM aws_sync_days WHERE dataset = 'costs' AND day BETWEEN ? AND ?", days)
                removal.notes.append(f"the AWS sync fetches these {removal.sync_days_forgotten} days again on "
                                     "its next run")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return removal


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(one_row(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
                             "AND table_catalog = current_database()", [name])[0])
