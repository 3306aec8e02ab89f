"""The one way rows get into the cost store: stage, write, check, then commit or roll back.

Rows are staged in memory (spilling into a scratch folder beside the store) or, for files, as a view over the
file (Parquet, a CSV read in one pass) or its text table (a CSV read in order). Tags are normalised once per
distinct tag-set key (in SQL, storage.tag_sets): the keys are tallied as a source is staged and the folded
tags joined onto its rows as they are written, or, for a CSV file read in one pass (which a tally would
parse a second time), folded from the rows written (Staging.fold_after). One transaction on the store then
writes them, checks the written rows (one aggregate pass over stored columns, far cheaper than re-reading
the sources), and removes the rows of the (BillingAccountId, BillingPeriodStart) keys they bring. Any
problem rolls the transaction back: a refused load changes nothing. Problems name the staged source, row
and column. The demo, the file importer and the AWS sync all use this.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from storage import rollup
from storage.costs import CostStore, attach_store, one_row, quiet, scratch_path, sql_string
from storage.schema import (
    CONTRACT_COLUMNS,
    CONTRACTS_DDL,
    CONTRACTS_TABLE,
    COST_COLUMNS,
    DATA_TABLE,
    DERIVED_COLUMNS,
    FOCUS_COLUMNS,
    create_schema,
    stored_column_sql,
    stored_columns,
    taxonomy_signature,
)
from storage.tag_sets import StoredFold, fold_into, retag, store_tag_sets, tag_set_key
from storage.tags import FoldReport, tag_column
from storage.text import CONTROL_SQL_CLASS, has_controls, one_line_plain

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

MEMORY_LIMIT = "600MB"
# What Staging.commit's on_phase hears, in order: tags are normalised before the rows are stored, or after
# when a source is read only by the store pass (Staging.phases).
PHASES = ("validating", "normalising tags", "storing", "checking", "summing the daily rollup")
PHASES_FOLD_AFTER = ("validating", "storing", "normalising tags", "checking", "summing the daily rollup")
# A row whose charge period spans calendar months (SQL over the stored or staged rows).
MULTI_MONTH = ("ChargePeriodEnd IS NOT NULL AND date_trunc('month', ChargePeriodStart) < "
               "date_trunc('month', ChargePeriodEnd - INTERVAL 1 MICROSECOND)")

# What a bill can hold. Amounts and quantities beyond this are typing or export errors (the largest
# cloud bills are around 1e10 a month), and 1e308 overflows every sum the rituals take.
MAX_MAGNITUDE = 1e15
AMOUNT_COLUMNS = (*COST_COLUMNS, "PricingQuantity", "ConsumedQuantity", "x_CommitmentHourly")
# Charges start no earlier than public cloud billing (AWS, 2006) and no later than a year after today (the
# home's clock); ends may lie further out (multi-year purchases, contract terms), up to END_HORIZON_YEARS.
FIRST_DAY = date(2006, 1, 1)
START_HORIZON_DAYS = 366
END_HORIZON_YEARS = 11
START_COLUMNS = ("ChargePeriodStart", "BillingPeriodStart")
END_COLUMNS = ("ChargePeriodEnd", "BillingPeriodEnd", "x_CommitmentStart", "x_CommitmentEnd")
# Identifiers with a control character are refused (they key allocation and replacement); free text has
# them stripped, with a note (storage.text.plain, the sanitiser every renderer uses).
IDENTIFIER_COLUMNS = ("BillingAccountId", "BillingCurrency", "ChargeCategory", "ChargeClass", "ChargeFrequency",
                      "PricingCategory", "SubAccountId", "RegionId", "AvailabilityZone", "ResourceId", "SkuId",
                      "SkuPriceId", "CommitmentDiscountId", "CommitmentDiscountType", "CommitmentDiscountStatus",
                      "CommitmentDiscountCategory")
FREE_TEXT_COLUMNS = ("BillingAccountName", "ChargeDescription", "PricingUnit", "ConsumedUnit", "ProviderName",
                     "PublisherName", "InvoiceIssuerName", "ServiceName", "ServiceCategory", "SubAccountName",
                     "RegionName", "ResourceName", "ResourceType", "CommitmentDiscountName", "x_UsageType",
                     "x_Operation")
TEXT_COLUMNS = (*IDENTIFIER_COLUMNS, *FREE_TEXT_COLUMNS)


def _has_control(columns: tuple[str, ...]) -> str:
    """SQL true where any of ``columns`` holds a control character (one regex over the row's values)."""
    joined = ", ".join(f'"{c}"' for c in columns)
    return f"regexp_matches(concat_ws('', {joined}), '{CONTROL_SQL_CLASS}')"


@dataclass(frozen=True)
class LoadProblem:
    """Why a staging cannot be stored: the source (file), row (1-based data row) and column, if known."""

    message: str
    source: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = [p for p in (self.source, f"row {self.row}" if self.row else None,
                             f"column {self.column}" if self.column else None) if p]
        return f"{', '.join(where)}: {self.message}" if where else self.message


class LoadError(ValueError):
    def __init__(self, problems: list[LoadProblem]) -> None:
        self.problems = problems
        super().__init__(str(problems[0]) if problems else "load failed")


class RowsNeeded(Exception):  # noqa: N818 - a signal, not an error the user sees
    """A staging without row numbers (``Staging(named_rows=False)``) met something that names a row (a refusal,
    a note on a row): the load was rolled back and must be staged again with row numbers."""


# What a guard expression of a staging without row numbers raises (DuckDB's error()) on a row a check would
# refuse: the load is rolled back and staged again with row numbers, so that the refusal names the row.
GUARD_MARKER = "finops-tui: a row needs naming"


def guarded(guard: str, expr: str) -> str:
    """``expr``, raising GUARD_MARKER on a row where the SQL ``guard`` holds (checked as the swap writes it)."""
    return f"CASE WHEN {guard} THEN error('{GUARD_MARKER}') ELSE {expr} END"


@dataclass
class LoadSummary:
    rows: int
    replaced: int
    import_id: int
    periods: list[dict[str, Any]] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    accounts: int = 0
    folded_keys: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    commitments: int = 0
    currency: str | None = None
    contracts: int = 0  # FOCUS Contract Commitment rows stored
    # Rows whose charge period spans calendar months: rows, BilledCost, first (source, row).
    multi_month: dict[str, Any] = field(default_factory=dict)


class Staging:
    """A scratch table of FOCUS rows on their way into the store. Use as a context manager."""

    def __init__(self, store: CostStore, *, default_currency: str = "USD",
                 default_billing_account: str | None = "unknown", named_rows: bool = True) -> None:
        """``named_rows=False``: lazy sources may have no row numbers (``_row`` NULL, a CSV read in one pass);
        anything that would name a row then raises RowsNeeded instead (after rolling back)."""
        import duckdb

        self.named_rows = named_rows
        self.store = store
        self.default_currency = default_currency
        self.default_billing_account = default_billing_account
        # Rows stage in memory, spilling into a scratch folder beside the store past MEMORY_LIMIT: one write
        # of the data (into the store at the swap) instead of two, and the store stays unlocked meanwhile.
        self.path = scratch_path(store)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.con: duckdb.DuckDBPyConnection | None = quiet(duckdb.connect(":memory:"))
        self.con.execute(f"SET temp_directory = '{self.path}'")
        self.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        self.con.execute("SET preserve_insertion_order = false")
        body = ", ".join(f'"{c}" {t}' for c, t in FOCUS_COLUMNS.items())
        self.con.execute(f"CREATE TABLE staging ({body}, _source VARCHAR, _row BIGINT)")
        self.notes: list[str] = []
        self._commitments = False
        self._contracts = False
        self._lazy: dict[str, list[str]] = {}  # view name -> its columns
        self._lazy_sources: dict[str, str] = {}  # view name -> the file it reads (for "no data rows")
        self._tallies: list[str] = []  # per tallied lazy view: a table of its distinct tag-set keys (k) and rows (n)
        self._tag_columns: list[str] = []
        # Lazy views staged without a tally: their rows are counted, and every row's tags folded, after the
        # store pass wrote them (fold_after).
        self._untallied: set[str] = set()
        # Rows written per lazy source (its file), counted as the swap writes them.
        self.source_rows: dict[str, int] = {}
        self._controls: set[str] = set()  # text columns holding a control character (_control_columns)
        self._staged_rows = 0
        self.map_passes = 0  # passes over a CSV file before the store pass (storage.sources.files._type_maps)
        self._names = 0  # scratch_name's counter
        # Files imported as partial FOCUS (file -> mandatory columns accepted as missing), kept in the
        # import's record so that `info` names them while their rows are stored.
        self.partial: dict[str, list[str]] = {}
        self._today = datetime.now(UTC).date()
        self._restage()

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None
        shutil.rmtree(self.path, ignore_errors=True)
        for p in (self.path, self.path.with_name(self.path.name + ".wal")):
            if p.is_file():
                p.unlink(missing_ok=True)

    # -- adding rows ------------------------------------------------------------------------------------
    def append_frame(self, frame: pd.DataFrame, source: str, first_row: int = 1) -> int:
        """Stage a pandas frame of FOCUS columns; ``x_`` columns beyond the kept ones go into x_Extras."""
        assert self.con is not None
        frame = frame.reset_index(drop=True)
        extras = [c for c in frame.columns if c.startswith("x_") and c not in FOCUS_COLUMNS]
        keep = [c for c in frame.columns if c in FOCUS_COLUMNS and c != "x_Extras"]
        view = frame[keep].copy()
        if extras:
            records = frame[extras].astype(object).where(frame[extras].notna(), None).to_dict("records")
            view["x_Extras"] = [json.dumps({k: v for k, v in r.items() if v is not None}, default=str)
                                for r in records]
        self.con.register("_frame", view)
        cols = ", ".join(f'"{c}"' for c in view.columns)
        casts = ", ".join(f'CAST("{c}" AS {FOCUS_COLUMNS[c]})' for c in view.columns)
        self.con.execute(
            f"INSERT INTO staging ({cols}, _source, _row) SELECT {casts}, ?, "
            f"row_number() OVER () + ? - 1 FROM _frame", [source, first_row])
        self.con.unregister("_frame")
        self._staged_rows += len(view)
        return len(view)

    def scratch_name(self, prefix: str) -> str:
        """A new name for a table of this staging's own (in its in-memory catalog)."""
        self._names += 1
        return f"{prefix}_{self._names}"

    def append_sql(self, select_sql: str, params: list[Any] | None = None, *, lazy: bool = False,
                   source: str = "", tally: bool = True) -> int | None:
        """Stage rows from SQL run on the staging connection (read_parquet/read_csv for big files). The
        SELECT names its columns as FOCUS does and must yield ``_source`` and ``_row``. Returns the rows
        staged, or None when they are counted as the commit writes them (source_rows).

        ``lazy`` stages a view instead of a copy: the commit reads the source once, straight into the store
        (a large file is then read and written once, as a bare load would), and checks the stored rows; a
        source (``source``, its file) that gives no row is refused then. A lazy SELECT gets no defaults from
        the fill: it must give final values (and take no ``params``), and its sources must stay unchanged
        until the commit. ``tally``: a lazy source's distinct tag-set keys are collected now, in a pass of
        their own (cheap for a columnar file: only its tag columns are read), and joined onto its rows as they
        are written; ``tally=False`` (a CSV file, which a pass reads whole) folds every row's tags after the
        write instead (fold_after), so that the file is read once."""
        assert self.con is not None
        if lazy:
            if params:
                raise ValueError("a lazy staging SELECT takes no parameters")
            name = f"lazy_{len(self._lazy) + 1}"
            self.con.execute(f"CREATE VIEW memory.{name} AS {select_sql}")
            cols = [r[0] for r in self.con.execute(f"DESCRIBE memory.{name}").fetchall()]
            unknown = [c for c in cols if c not in FOCUS_COLUMNS and c not in ("_source", "_row")]
            if unknown:
                raise ValueError(f"not FOCUS columns: {', '.join(unknown)}")
            self._lazy[name] = cols
            self._lazy_sources[name] = source
            self._restage()
            if not tally:
                self._untallied.add(name)
                return None
            tags = "Tags" if "Tags" in cols else "CAST(NULL AS VARCHAR)"
            key = tag_set_key(allocated="AllocatedTags" in cols).replace("Tags", tags) if tags == "Tags" else tags
            table = f"memory.tally_{name}"
            self.con.execute(f"CREATE TABLE {table} AS SELECT {key} AS k, count(*) AS n FROM memory.{name} GROUP BY ALL")
            self._tallies.append(table)
            added = int(one_row(self.con, f"SELECT coalesce(sum(n), 0) FROM {table}")[0])
            self._staged_rows += added
            return added
        before = one_row(self.con, "SELECT count(*) FROM staging")[0]
        self.con.execute(f"INSERT INTO staging BY NAME {select_sql}", params or [])
        added = int(one_row(self.con, "SELECT count(*) FROM staging")[0] - before)
        self._staged_rows += added
        return added

    def _parts(self) -> dict[str, str]:
        """The staged sources, FOCUS-typed: the staged table ("") and each lazy view (by name)."""
        parts = {"": "SELECT * FROM memory.staging"}
        for name, cols in self._lazy.items():
            exprs = [f'CAST("{c}" AS {t}) AS "{c}"' if c in cols else f'CAST(NULL AS {t}) AS "{c}"'
                     for c, t in FOCUS_COLUMNS.items()]
            parts[name] = (f"SELECT {', '.join(exprs)}, CAST(_source AS VARCHAR) AS _source, "
                           f"CAST(_row AS BIGINT) AS _row FROM memory.{name}")
        return parts

    def _restage(self) -> None:
        """The view every check and the swap read: the staged table and the lazy sources, FOCUS-typed."""
        assert self.con is not None
        self.con.execute("CREATE OR REPLACE VIEW memory.staged AS " + " UNION ALL ".join(self._parts().values()))

    def _present_columns(self) -> list[str]:
        """FOCUS columns with a value in some staged row (lazy sources: the columns their SELECT names)."""
        assert self.con is not None
        counts = one_row(self.con, "SELECT " + ", ".join(f'count("{c}")' for c in FOCUS_COLUMNS)
                         + " FROM memory.staging")
        lazy = {c for cols in self._lazy.values() for c in cols}
        return [c for c, n in zip(FOCUS_COLUMNS, counts, strict=True) if n or c in lazy]

    def stage_commitments(self, select_sql: str, params: list[Any] | None = None) -> int:
        """Stage commitment terms (Savings Plans, reservations) that the commit upserts into the store's
        ``commitment_inventory`` in the same transaction as the rows. The SELECT names its columns as that
        table does (commitment_id, type, description, hourly_commitment, start_date, end_date, term_years,
        payment_option, account_id, source)."""
        assert self.con is not None
        if not self._commitments:
            self.con.execute(
                "CREATE TABLE commitments (commitment_id VARCHAR, type VARCHAR, description VARCHAR, "
                "hourly_commitment DOUBLE, start_date DATE, end_date DATE, term_years INTEGER, "
                "payment_option VARCHAR, account_id VARCHAR, source VARCHAR)")
            self._commitments = True
        before = one_row(self.con, "SELECT count(*) FROM commitments")[0]
        self.con.execute(f"INSERT INTO commitments BY NAME {select_sql}", params or [])
        return one_row(self.con, "SELECT count(*) FROM commitments")[0] - before

    def stage_contracts(self, select_sql: str) -> int:
        """Stage FOCUS 1.3 Contract Commitment rows (negotiated contracts' terms) that the commit upserts into
        the store's ``contract_commitments`` in the same transaction as the line items. The SELECT names its
        columns as that table does (storage.schema.CONTRACT_COLUMNS)."""
        assert self.con is not None
        if not self._contracts:
            self.con.execute(CONTRACTS_DDL.replace(" PRIMARY KEY", "").replace(CONTRACTS_TABLE, "contracts"))
            self._contracts = True
        before = one_row(self.con, "SELECT count(*) FROM contracts")[0]
        self.con.execute(f"INSERT INTO contracts BY NAME {select_sql}")
        return one_row(self.con, "SELECT count(*) FROM contracts")[0] - before

    def _write_contracts(self, con: duckdb.DuckDBPyConnection) -> int:
        """Upsert the staged contract commitments into the store (inside the swap's transaction): one row per
        commitment id, the one with the latest period end winning (a renewal carries the newer terms)."""
        if not self._contracts:
            return 0
        cols = ", ".join(CONTRACT_COLUMNS)
        con.execute(f"INSERT OR REPLACE INTO {CONTRACTS_TABLE} ({cols}) SELECT {cols} FROM memory.contracts "
                    "QUALIFY row_number() OVER (PARTITION BY contract_commitment_id ORDER BY period_end DESC "
                    "NULLS LAST) = 1")
        return int(one_row(con, "SELECT count(DISTINCT contract_commitment_id) FROM memory.contracts")[0])

    def _store_contracts_only(self, at: datetime, source: str) -> LoadSummary:
        """A load of Contract Commitment files alone: their rows in one transaction, no line items touched."""
        con = self.con
        assert con is not None
        attach_store(con, self.store.path)
        try:
            con.execute("USE store")
            con.execute("BEGIN TRANSACTION")
            create_schema(con, self.store.taxonomy)
            import_id = int(one_row(con, "SELECT coalesce(max(import_id), 0) + 1 FROM imports")[0])
            n = self._write_contracts(con)
            con.execute("INSERT INTO imports VALUES (?, ?, ?, 0, 0, ?)",
                        [import_id, at, source, json.dumps({"contract_commitments": n})])
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except Exception:  # noqa: BLE001 - the transaction may already be gone
                pass
            raise
        finally:
            con.execute("USE memory")
            con.execute("DETACH store")
        return LoadSummary(rows=0, replaced=0, import_id=import_id, notes=list(self.notes), contracts=n)

    # -- checking ---------------------------------------------------------------------------------------
    def _fill(self) -> None:
        assert self.con is not None
        # Only rows that need a default are rewritten (an UPDATE of every row doubles a large import). Billing
        # periods are not filled: the line_items view derives a missing one from the charge month.
        self.con.execute(
            "UPDATE staging SET "
            "EffectiveCost = coalesce(EffectiveCost, BilledCost), BilledCost = coalesce(BilledCost, EffectiveCost),"
            "BillingAccountId = coalesce(NULLIF(TRIM(BillingAccountId), ''), ?),"
            "BillingCurrency = upper(coalesce(NULLIF(TRIM(BillingCurrency), ''), ?)) "
            "WHERE EffectiveCost IS NULL OR BilledCost IS NULL "
            "OR BillingAccountId IS NULL OR TRIM(BillingAccountId) = '' "
            "OR BillingCurrency IS NULL OR BillingCurrency <> upper(TRIM(BillingCurrency)) "
            "OR BillingCurrency = ''",
            [self.default_billing_account, self.default_currency])

    def _first(self, where: str, message: str, column: str | None = None,
               value_col: str | None = None) -> LoadProblem | None:
        """The first staged row (by source and row) where ``where`` holds, as a problem naming it."""
        assert self.con is not None
        if not self.named_rows:
            raise RowsNeeded(message)
        # An aggregate FILTER, not a WHERE: DuckDB pushes a WHERE into the Parquet reader, whose column
        # statistics leave NaN out, so "WHERE isnan(x)" skips the very row group that holds the NaN.
        shown = f', \'v\': CAST("{value_col}" AS VARCHAR)' if value_col else ""
        row = one_row(self.con, f"SELECT min({{'s': _source, 'r': _row{shown}}}) FILTER (WHERE {where}) "
                                "FROM memory.staged")[0]
        if row is None:
            return None
        value = row["v"] if value_col else None
        # A value with control characters is shown escaped: the message goes to a terminal.
        msg = f"{message} ({value!r})" if value is not None and has_controls(value) else (
            f"{message} ({value})" if value_col else message)
        return LoadProblem(msg, row["s"], row["r"], column)

    def _checks(self) -> list[tuple[str, str, str, str | None]]:
        """(SQL true on a bad row, message, column, column whose value the message shows)."""
        today = self._today
        last_start = today + timedelta(days=START_HORIZON_DAYS)
        last_end = today.replace(year=today.year + END_HORIZON_YEARS, day=min(today.day, 28))
        first = FIRST_DAY.isoformat()
        return [
            ("ChargePeriodStart IS NULL", "ChargePeriodStart is empty", "ChargePeriodStart", None),
            ("EffectiveCost IS NULL", "neither EffectiveCost nor BilledCost has a value", "EffectiveCost", None),
            *((f'isnan("{c}") OR isinf("{c}")', f"{c} is not a finite number", c, c) for c in AMOUNT_COLUMNS),
            *((f'abs("{c}") >= {MAX_MAGNITUDE:.0e}', f"{c} is beyond what a bill holds (|x| < {MAX_MAGNITUDE:.0e})",
               c, c) for c in AMOUNT_COLUMNS),
            *((f"\"{c}\" < TIMESTAMP '{first}' OR \"{c}\" >= TIMESTAMP '{last_start}'",
               f"{c} is outside {first} to {last_start} (billing data starts in 2006, and no charge starts "
               f"more than {START_HORIZON_DAYS} days after today, {today})", c, c) for c in START_COLUMNS),
            *((f"\"{c}\" < TIMESTAMP '{first}' OR \"{c}\" >= TIMESTAMP '{last_end}'",
               f"{c} is outside {first} to {last_end} (at most {END_HORIZON_YEARS} years after today)", c, c)
              for c in END_COLUMNS),
        ]

    def _scan(self, import_id: int) -> list[dict[str, Any]]:
        """One pass over the rows this load wrote (inside its transaction): per billing account, billing
        period, currency, provider and account, the rows (n), the cost sums (billed, effective) and the count
        of rows failing each check (bad_<i>). Validation, the summary and the replaced keys all read these few
        rows, not the line items again (the stored columns scan far faster than the source files); plain
        rows, so an import never imports pandas for them."""
        assert self.con is not None
        bad = ", ".join(f"count_if({where}) AS bad_{i}" for i, (where, *_rest) in enumerate(self._checks()))
        cur = self.con.execute(
            "SELECT BillingAccountId, BillingPeriodStart, BillingCurrency, ProviderName, "
            "coalesce(SubAccountId, BillingAccountId) AS account, count(*) AS n, sum(BilledCost) AS billed, "
            f"sum(EffectiveCost) AS effective, count_if({MULTI_MONTH}) AS multi_n, "
            f"sum(BilledCost) FILTER (WHERE {MULTI_MONTH}) AS multi_billed, {bad} "
            f"FROM line_items WHERE import_id = {int(import_id)} "
            "GROUP BY ALL")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    @staticmethod
    def _currencies(keyed: list[dict[str, Any]]) -> list[str]:
        """The currencies of the scanned rows, the one with most rows first (ties by name)."""
        rows: dict[str, int] = {}
        for r in keyed:
            if r["BillingCurrency"] is not None:
                rows[str(r["BillingCurrency"])] = rows.get(str(r["BillingCurrency"]), 0) + int(r["n"])
        return sorted(rows, key=lambda c: (-rows[c], c))

    def _control_columns(self, import_id: int) -> set[str]:
        """The text columns where some value this load wrote holds a control character. Each column's distinct
        values are searched, not every row's (a bill's text columns repeat a few values: at 5M rows 0.5 s
        against 4.6 s for one regex over every row's text)."""
        assert self.con is not None
        written = set(stored_columns(self.con))
        cols = [c for c in TEXT_COLUMNS if c in written]
        if not cols:
            return set()
        found = one_row(self.con, "SELECT " + ", ".join(
            f"len(list_filter(list(DISTINCT \"{c}\"), lambda x: regexp_matches(x, '{CONTROL_SQL_CLASS}')))"
            for c in cols) + f" FROM {DATA_TABLE} WHERE import_id = {int(import_id)}")
        return {c for c, n in zip(cols, found, strict=True) if n}

    def _problems(self, keyed: list[dict[str, Any]], import_id: int) -> list[LoadProblem]:
        """Every reason the rows this load wrote cannot stay (empty when they can); rows are named from the
        staged sources."""
        assert self.con is not None
        # A bad stored row is refused even if its source row cannot be named.
        problems = [self._first(where, message, column, shown) or LoadProblem(message, column=column)
                    for i, (where, message, column, shown) in enumerate(self._checks())
                    if sum(int(r[f"bad_{i}"] or 0) for r in keyed)]
        if self._controls:  # a control character somewhere: in an identifier?
            for col in (c for c in IDENTIFIER_COLUMNS if c in self._controls):
                found = self._first(_has_control((col,)), f"{col} holds a control character (identifiers may not; "
                                    "fix the export)", col, col)
                if found is not None:
                    problems.append(found)
                    break
        names = self._currencies(keyed)
        if len(names) > 1:
            odd = self._first(f"BillingCurrency <> {sql_string(names[0])}", "mixed currencies: "
                              + ", ".join(names) + "; import one currency at a time", "BillingCurrency")
            problems.append(odd or LoadProblem("mixed currencies: " + ", ".join(names)))
        elif names:
            stored = [r[0] for r in self.con.execute(
                f"SELECT DISTINCT BillingCurrency FROM {DATA_TABLE} WHERE import_id IS DISTINCT FROM ? "
                "AND BillingCurrency IS NOT NULL LIMIT 2", [import_id]).fetchall()]
            if len(stored) == 1 and stored[0] != names[0]:
                message = f"the data is in {names[0]} but the store holds {stored[0]}; a store holds one currency"
                problems.append(self._first("TRUE", message, "BillingCurrency")
                                or LoadProblem(message, column="BillingCurrency"))
        return problems

    # -- swapping in ------------------------------------------------------------------------------------
    def commit(self, *, replace_all: bool = False, source: str = "", meta: dict[str, str] | None = None,
               on_phase: Callable[[str], None] | None = None, imported_at: datetime | None = None) -> LoadSummary:
        """Write the staged rows into the store and check them there, in one transaction that also removes
        the rows they replace (by BillingAccountId and BillingPeriodStart); any problem rolls it all back.
        ``on_phase`` hears each phase as it starts: "validating", "normalising tags", "storing" (the write of
        the rows, most of a large import), "checking" and "summing the daily rollup" (PHASES; tags are
        normalised after the storing when fold_after, PHASES_FOLD_AFTER: Staging.phases).
        ``imported_at`` stamps the import (pass the home's clock; the system clock when absent)."""
        assert self.con is not None
        phase = on_phase or (lambda _name: None)
        phase("validating")
        at = (imported_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
        self._today = at.date()  # the bounds on charge dates are relative to the home's today
        if self._staged_rows == 0 and not self._untallied and self._contracts:
            summary = self._store_contracts_only(at, source or "load")
            self.close()
            return summary
        if self._staged_rows == 0 and not self._untallied:
            raise LoadError([LoadProblem("no data rows")])
        self._fill()
        report = FoldReport()
        if not self.fold_after:
            phase("normalising tags")
            # One tag set per distinct Tags value, or Tags and AllocatedTags pair (storage.tag_sets.tag_set_key):
            # from the staged table and the lazy sources' tallies (made as they were staged).
            keys = " UNION ".join([f"SELECT {tag_set_key()} AS k FROM memory.staging",
                                   *(f"SELECT k FROM {t}" for t in self._tallies)])
            bad = fold_into(self.con, f"SELECT DISTINCT k FROM ({keys}) WHERE k IS NOT NULL", "tagmap", self.store,
                            report)
            self._note_stripped(report)
            if bad:
                raise LoadError([self._bad_tags_problem(bad)])
            tag_counts = one_row(self.con, "SELECT " + ", ".join(
                [f'count("{tag_column(k)}")' for k in self.store.taxonomy.keys] or ["0"]) + " FROM temp.tagmap")
            self._tag_columns = [tag_column(k) for k, n in zip(self.store.taxonomy.keys, tag_counts, strict=False) if n]
        summary = self._swap(replace_all, source or "load", report, meta or {}, at, phase)
        self.close()
        return summary

    @property
    def fold_after(self) -> bool:
        """True when the tags are folded after the store pass (a source staged without a tally)."""
        return bool(self._untallied)

    @property
    def phases(self) -> tuple[str, ...]:
        """The phases commit's on_phase hears, in order."""
        return PHASES_FOLD_AFTER if self.fold_after else PHASES

    def _note_stripped(self, report: FoldReport) -> None:
        if report.stripped:
            self.notes.append(f"warning: control characters stripped from the keys or values of {report.stripped:,} "
                              f"distinct Tags value{'s' if report.stripped != 1 else ''}")

    def _bad_tags_problem(self, bad: dict[Any, str]) -> LoadProblem:
        """The refusal of unreadable Tags values: the first bad row (by source and row, not by distinct value)
        with its reason, and how many rows are bad."""
        assert self.con is not None
        if not self.named_rows:
            raise RowsNeeded("an unreadable Tags value")
        key = tag_set_key()
        count, first = one_row(self.con, "SELECT count(*), min({'s': _source, 'r': _row}) FROM memory.staged "
                                         f"WHERE list_contains(?::VARCHAR[], {key})", [list(bad)])
        raw = one_row(self.con, f"SELECT {key} FROM memory.staged WHERE _source = ? AND _row = ? LIMIT 1",
                      [first["s"], first["r"]])[0]
        why = bad.get(raw, next(iter(bad.values())))
        column = "AllocatedTags" if why.startswith("AllocatedTags") else "Tags"
        rows = "1 row has" if count == 1 else f"{count:,} rows have"
        return LoadProblem(f"{why} ({rows} an unreadable {column} value; the first is row {first['r']})",
                           first["s"], first["r"], column)

    def _multi_month_charges(self, keyed: list[dict[str, Any]]) -> dict[str, Any]:
        """Rows this load wrote whose charge period spans calendar months (a yearly fee, an end-of-contract
        charge): their count and BilledCost (counted in _scan's pass), and the first of them. Their billed
        cost belongs to their billing period; the spend over time counts them on the day their charge starts."""
        n = sum(int(r["multi_n"] or 0) for r in keyed)
        if not n:
            return {}
        billed = math.fsum(float(r["multi_billed"] or 0.0) for r in keyed)
        first = self._first(MULTI_MONTH, "")
        return {"rows": n, "billed_cost": billed,
                "first_source": first.source if first else None, "first_row": first.row if first else None}

    def _strip_controls(self, import_id: int) -> None:
        """Strip control characters from the free text this load wrote (inside its transaction), with the
        sanitiser every renderer uses; one note per column names how many values and the first row."""
        assert self.con is not None
        written = set(stored_columns(self.con))
        for col in FREE_TEXT_COLUMNS:
            if col not in written or col not in self._controls:
                continue
            values = [r[0] for r in self.con.execute(
                f'SELECT DISTINCT "{col}" FROM {DATA_TABLE} WHERE import_id = ? AND {_has_control((col,))}',
                [import_id]).fetchall()]
            if not values:
                continue
            first = self._first(_has_control((col,)), "v", col, col)  # message "v (<the value, escaped>)"
            where = f"{first.source}, row {first.row}: " if first and first.source else ""
            shown = f" (first value {first.message[3:-1]})" if first else ""
            rows = one_row(self.con, f'SELECT count(*) FROM {DATA_TABLE} WHERE import_id = ? AND {_has_control((col,))}',
                           [import_id])[0]
            cases = " ".join("WHEN ? THEN ?" for _v in values)
            params: list[Any] = [x for v in values for x in (v, one_line_plain(v))]
            self.con.execute(f'UPDATE {DATA_TABLE} SET "{col}" = CASE "{col}" {cases} END '
                             f'WHERE import_id = ? AND {_has_control((col,))}', [*params, import_id])
            self.notes.append(f"warning: {where}control characters stripped from {col} in {rows:,} "
                              f"row{'s' if rows != 1 else ''}{shown}")

    def _summary(self, keyed: list[dict[str, Any]], report: FoldReport) -> LoadSummary:
        by_period: dict[Any, tuple[list[int], list[float], list[float]]] = {}
        for r in keyed:
            if r["BillingPeriodStart"] is None:
                continue
            n, billed, effective = by_period.setdefault(r["BillingPeriodStart"], ([], [], []))
            n.append(int(r["n"]))
            billed.append(float(r["billed"] or 0.0))
            effective.append(float(r["effective"] or 0.0))
        periods = [{"period": start.date().isoformat()[:7], "rows": sum(n), "billed_cost": math.fsum(billed),
                    "effective_cost": math.fsum(effective)} for start, (n, billed, effective) in sorted(by_period.items())]
        providers = sorted({str(r["ProviderName"]) for r in keyed if r["ProviderName"] is not None})
        currencies = self._currencies(keyed)
        summary = LoadSummary(
            rows=sum(p["rows"] for p in periods), replaced=0, import_id=0, periods=periods, providers=providers,
            accounts=len({r["account"] for r in keyed if r["account"] is not None}), folded_keys=report.as_dict(),
            notes=list(self.notes), currency=currencies[0] if currencies else None)
        if self._commitments:
            assert self.con is not None
            summary.commitments = one_row(
                self.con, "SELECT count(DISTINCT commitment_id) FROM memory.commitments")[0]
        return summary

    def _swap(self, replace_all: bool, source: str, report: FoldReport, meta: dict[str, str],
              at: datetime, phase: Callable[[str], None]) -> LoadSummary:
        # The store is attached to the staging connection, so staged rows are read from the in-memory
        # catalog ("memory"). One transaction may write to one database only: nothing below writes to memory.
        con = self.con
        assert con is not None
        # A refused first load leaves no store behind (the file this attach creates).
        new_store = not self.store.path.exists()
        stored = False
        fold: StoredFold | None = None
        attach_store(con, self.store.path)
        try:
            con.execute("USE store")
            # The store's tables (and the upgrade of an older layout) in a transaction of their own: a
            # refused load then leaves a valid store, never a half-made one and never a deleted file.
            con.execute("BEGIN TRANSACTION")
            create_schema(con, self.store.taxonomy)
            con.execute("COMMIT")
            con.execute("BEGIN TRANSACTION")
            # Columns with no value in any staged row are not written (the line_items view reads them as
            # NULL): writing dozens of all-NULL columns cost as much as the rest of a large import.
            present = self._present_columns()
            # Likewise tag columns: only the taxonomy keys some staged Tags value has (folded before the
            # write; when folded after it, storage.tag_sets.StoredFold adds them).
            tag_cols = self._tag_columns
            create_schema(con, self.store.taxonomy, (*present, *tag_cols))
            had_rows = one_row(con, f"SELECT count(*) FROM {DATA_TABLE}")[0] > 0
            fresh = con.execute("SELECT value FROM meta WHERE key = 'taxonomy'").fetchone()
            rebuild = replace_all or not had_rows  # the rollup summed again from every line item
            if fresh is None or fresh[0] != taxonomy_signature(self.store.taxonomy):
                if had_rows:
                    retag(con, self.store)
                    rebuild = True
                else:
                    con.execute("INSERT OR REPLACE INTO meta VALUES ('taxonomy', ?)",
                                [taxonomy_signature(self.store.taxonomy)])
            import_id = int(one_row(con, "SELECT coalesce(max(import_id), 0) + 1 FROM imports")[0])
            replaced = 0
            if replace_all and had_rows:  # before the insert: the file need not hold both at once
                replaced = one_row(con, f"SELECT count(*) FROM {DATA_TABLE}")[0]
                con.execute(f"DELETE FROM {DATA_TABLE}")
            names = ", ".join(f'"{n}"' for n in [*present, *DERIVED_COLUMNS, *tag_cols])
            select = ", ".join([*(f'st."{c}"' for c in present), "CAST(st.ChargePeriodStart AS DATE)", str(import_id),
                                *(f'tm."{c}"' for c in tag_cols)])
            join = ""
            if not self.fold_after:
                store_tag_sets(con, "temp.tagmap")
                join = f" LEFT JOIN temp.tagmap tm ON {tag_set_key('st')} = tm.Tags" if tag_cols else ""
            # Not sorted by charge date: at 1M rows an ORDER BY here cost a third more time, and at 5M rows it
            # ran out of the staging's memory limit (see the report of issue 29, item 4).
            # The tag map is the join's build side, as are the small maps a CSV file's timestamps may be typed
            # through (storage.sources.files._type_maps): DuckDB cannot count a CSV file's rows before reading
            # it, guesses a few dozen, and would otherwise build the hash table from every staged row (the
            # memory of a 5M-row CSV import grew with its rows until it failed).
            con.execute("SET disabled_optimizers = 'build_side_probe_side'")
            phase("storing")
            # Each source written on its own, so that its rows are counted as they are written (a CSV file
            # is read once, by this write: nothing counted its rows before).
            for part, sql in self._parts().items():
                try:
                    written = one_row(con, f"INSERT INTO {DATA_TABLE} ({names}) SELECT {select} FROM ({sql}) st{join}")[0]
                except Exception as exc:
                    if GUARD_MARKER in str(exc):
                        raise RowsNeeded("a row a check refuses") from exc
                    raise
                if part:
                    self.source_rows[self._lazy_sources[part]] = int(written)
                    if not written:
                        raise LoadError([LoadProblem("no data rows (only a header)", self._lazy_sources[part])])
            if self.fold_after:
                # Tags folded once per distinct tag-set key (storage.tag_sets), read from the rows just written;
                # the rollup reads them through the fold, and they are written after it: a rollup over rows
                # just updated took 0.7 s more at 5M rows.
                phase("normalising tags")
                fold = StoredFold(con, self.store, f"import_id = {import_id}", report)
                self._note_stripped(report)
                if fold.bad:
                    raise LoadError([self._bad_tags_problem(fold.bad)])
            phase("checking")
            keyed = self._scan(import_id)
            self._controls = self._control_columns(import_id)
            problems = self._problems(keyed, import_id)
            if problems:
                raise LoadError(problems)
            if self._controls:
                self._strip_controls(import_id)
            summary = self._summary(keyed, report)
            summary.multi_month = self._multi_month_charges(keyed)
            older = f"import_id IS DISTINCT FROM {import_id}"
            days = set() if rebuild else set(rollup.touched_days(con, f"import_id = {import_id}"))
            if had_rows and not replace_all:
                keys = ("(SELECT DISTINCT BillingAccountId AS a, BillingPeriodStart AS b FROM line_items "
                        f"WHERE import_id = {import_id}) k")
                period = stored_column_sql("BillingPeriodStart", stored_columns(con), FOCUS_COLUMNS, DATA_TABLE)
                match = (f"{DATA_TABLE}.BillingAccountId = k.a AND {period} = k.b AND {DATA_TABLE}.{older}")
                replaced = one_row(con, f"SELECT count(*) FROM {DATA_TABLE} JOIN {keys} ON {match}")[0]
                if not rebuild:
                    days.update(rollup.touched_days(con, f"EXISTS (SELECT 1 FROM {keys} WHERE {match})"))
                con.execute(f"DELETE FROM {DATA_TABLE} USING {keys} WHERE {match}")
            summary.replaced, summary.import_id = int(replaced), import_id
            con.execute("INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?)",
                        [import_id, at, source, summary.rows, summary.replaced,
                         json.dumps({"periods": summary.periods, "providers": summary.providers,
                                     **({"partial_focus": self.partial} if self.partial else {})}, default=str)])
            if self._commitments:
                # One term per commitment: the latest end date wins (a renewal carries the newer terms).
                con.execute("INSERT OR REPLACE INTO commitment_inventory SELECT commitment_id, type, "
                            "description, hourly_commitment, start_date, end_date, term_years, payment_option,"
                            " account_id, source FROM memory.commitments QUALIFY row_number() OVER (PARTITION BY "
                            "commitment_id ORDER BY end_date DESC NULLS LAST) = 1")
            summary.contracts = self._write_contracts(con)
            phase("summing the daily rollup")
            rollup.refresh(con, self.store, None if rebuild else days, items=fold.overlay() if fold else "line_items")
            if fold:
                fold.write()
            for key, value in meta.items():
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])
            con.execute("COMMIT")
            stored = True
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except Exception:  # noqa: BLE001 - the transaction may already be gone
                pass
            raise
        finally:
            try:
                con.execute("RESET disabled_optimizers")
                con.execute("USE memory")
                con.execute("DETACH store")
            finally:
                if fold:
                    fold.close()
                if new_store and not stored:
                    for p in (self.store.path, self.store.path.with_name(self.store.path.name + ".wal")):
                        p.unlink(missing_ok=True)
        return summary
