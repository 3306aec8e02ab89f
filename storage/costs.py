"""The cost store: FOCUS 1.2-shaped billing line items in a DuckDB file, and the named queries.

No long-lived connection: DuckDB lets one read-write process exclude every other, so queries open the
file read-only per unit of work, and writers stage elsewhere (``storage.loader``) and swap in one short
transaction. Results come back as small pandas frames.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage.config import ContainersConfig, Taxonomy, WarehouseConfig
from storage.schema import COST_COLUMNS, TAG_SETS, create_schema, taxonomy_signature
from storage.tag_sets import tag_set_key
from storage.tags import tag_column

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

# Public dimension names -> SQL over line_items (never user text in SQL).
DIMENSIONS: dict[str, str] = {
    "service": "ServiceName",
    "account": "SubAccountId",
    "account_name": "SubAccountName",
    "region": "RegionId",
    "provider": "ProviderName",
    "charge_category": "ChargeCategory",
    "resource": "ResourceId",
    "billing_account": "BillingAccountId",
}
LOCK_TIMEOUT_S = 15.0
WAREHOUSE_CACHE = "warehouse-cache.duckdb"  # the warehouse's results and scan ledger, beside this file
_READ_TURN = threading.RLock()
# Stores held open in this process (``CostStore.held``): path -> [threads holding it, the open connection,
# what its reads learnt of the store's catalog (``catalog_memo``)].
_HELD: dict[str, list[Any]] = {}
_HELD_CHANGED = threading.Condition()
# id of a read connection of a held store -> that hold's catalog memo (while the connection is open).
_CON_MEMO: dict[int, dict[Any, Any]] = {}


def catalog_memo(con: Any, key: Any, compute: Any) -> Any:
    """``compute()``, remembered for the rest of the hold when ``con`` is a read connection of a held store
    (``CostStore.held``: no write can happen meanwhile, so the catalog cannot change): a ritual's findings
    asked information_schema 78 times over its connections (the quarterly review, 5M rows; ~2 ms each).
    Only for answers about the store's own tables, never about a connection's temporary ones."""
    memo = _CON_MEMO.get(id(con))
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


class CostStoreError(RuntimeError):
    """The cost store cannot be used right now; the message says why and what to do."""


@dataclass(frozen=True)
class StoreInfo:
    rows: int
    first_day: date | None
    last_day: date | None
    currency: str | None
    last_import_at: datetime | None
    providers: tuple[str, ...]
    # Imports of partial FOCUS files (mandatory columns accepted as missing) whose rows are still stored:
    # {"import_id", "imported_at", "rows", "files": {file: [columns]}}.
    partial_imports: tuple[dict, ...] = ()


def store_state(path: Path) -> list[list[Any]]:
    """[name, size, mtime_ns, ctime_ns, inode] of the store file and its write-ahead log ([] when there is
    none): what changes with every write to the store and with no read of it."""
    out = []
    for companion in (path, path.with_name(path.name + ".wal")):
        try:
            st = companion.stat()
        except FileNotFoundError:
            continue
        out.append([companion.name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino])
    return out


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text or "conflicting" in text


def quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The connection without DuckDB's own progress bar, which it prints to standard output once a query
    runs past two seconds (a large store's query would break a command's ``--json``). The importer's meter
    reads the query's progress without printing it (``storage.sources.files``)."""
    con.execute("SET enable_progress_bar_print = false")
    return con


def connect(path: Path, *, read_only: bool, timeout_s: float = LOCK_TIMEOUT_S) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file, waiting up to ``timeout_s`` while another process holds it (and, to write,
    while a thread of this process holds it open for its reads: ``CostStore.held``)."""
    import duckdb

    deadline = time.monotonic() + timeout_s
    if not read_only:
        _wait_unheld(path, deadline, timeout_s)
    delay = 0.05
    while True:
        try:
            return quiet(duckdb.connect(str(path), read_only=read_only))
        except duckdb.IOException as exc:
            if not _is_lock_error(exc) or time.monotonic() >= deadline:
                if _is_lock_error(exc):
                    raise CostStoreError(
                        f"the cost store {path} is being written by another finops-tui process; "
                        f"waited {timeout_s:.0f} s, try again when it finishes"
                    ) from exc
                raise CostStoreError(f"cannot open the cost store {path}: {exc}") from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def _held_key(path: Path) -> str:
    return str(Path(path).resolve())


def _wait_unheld(path: Path, deadline: float, timeout_s: float) -> None:
    """A writer of this process waits for the holds on ``path`` to end: DuckDB opens a file once per
    process, and a read-only open database refuses a read-write connection."""
    key = _held_key(path)
    with _HELD_CHANGED:
        while key in _HELD:
            if threading.get_ident() in _HELD[key][0]:
                raise CostStoreError(f"the cost store {path} is held open for reading by this thread; "
                                     "a write cannot happen inside a held read")
            left = deadline - time.monotonic()
            if left <= 0:
                raise CostStoreError(f"the cost store {path} is being read by this process (a ritual's "
                                     f"figures); waited {timeout_s:.0f} s, try again when they are computed")
            _HELD_CHANGED.wait(left)


def sql_string(text: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def json_path(key: str) -> str:
    """A quoted JSON path literal selecting one object key, whatever characters the key holds."""
    return sql_string("$." + json.dumps(key))


def one_row(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> tuple[Any, ...]:
    """The row of a query that always returns exactly one (an aggregate without GROUP BY): DuckDB types
    ``fetchone()`` as possibly None, this says it is not."""
    row = con.execute(sql, params).fetchone()
    if row is None:
        raise CostStoreError(f"expected one row from: {sql}")
    return row


def attach_store(con: duckdb.DuckDBPyConnection, path: Path, timeout_s: float = LOCK_TIMEOUT_S, *,
                 alias: str = "store", read_only: bool = False) -> None:
    """ATTACH the store file as ``alias`` (read-write unless ``read_only``), waiting up to ``timeout_s``
    while another process holds it (as ``connect`` does, and as it does for a hold of this process)."""
    import duckdb

    if not read_only:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = " (READ_ONLY)" if read_only else ""
    deadline = time.monotonic() + timeout_s
    if not read_only:
        _wait_unheld(path, deadline, timeout_s)
    delay = 0.05
    while True:
        try:
            con.execute(f"ATTACH {sql_string(str(path))} AS {alias}{mode}")
            return
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise CostStoreError(f"cannot open the cost store {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise CostStoreError(
                    f"the cost store {path} is being used by another finops-tui process; "
                    f"waited {timeout_s:.0f} s, try again when it finishes") from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


class CostStore:
    """The DuckDB cost file of one home. Cheap to construct; every method opens and closes its own
    connection."""

    def __init__(self, path: Path, taxonomy: Taxonomy, containers: ContainersConfig | None = None,
                 warehouse: WarehouseConfig | None = None) -> None:
        self.path = Path(path)
        self.taxonomy = taxonomy
        self._info: tuple[list[list[Any]], StoreInfo] | None = None
        self.containers = containers or ContainersConfig()
        self.warehouse = warehouse or WarehouseConfig()
        self._backend: Any = None

    # -- connections ------------------------------------------------------------------------------------
    @property
    def engine(self) -> str:
        """Which engine answers the named queries: ``duckdb`` (this file) or ``athena``."""
        return self.warehouse.engine

    @property
    def backend(self) -> Any:
        """The warehouse engine (``storage.warehouse.athena.AthenaBackend``); only when engine is athena."""
        if self._backend is None:
            from storage.warehouse.athena import AthenaBackend

            self._backend = AthenaBackend(self.warehouse, self.taxonomy, self.path.with_name(WAREHOUSE_CACHE),
                                          self.path)
        return self._backend

    @backend.setter
    def backend(self, value: Any) -> None:
        self._backend = value

    def exists(self) -> bool:
        return self.warehouse.is_athena or self.path.exists()

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """A read-only connection, or None while no data has ever been loaded.

        Reads within one process take turns: DuckDB shares one database instance per file in a process, and
        two threads scanning registered pandas frames on it at once fail ("pandas_scan does not exist").
        The app's workers are such threads; each read is short, so turns cost little."""
        if self.warehouse.is_athena:
            with _READ_TURN, self._warehouse_session() as session:
                yield session
            return
        if not self.path.exists():
            yield None
            return
        from storage.sql_log import LoggedConnection, log_path

        with _READ_TURN:
            con = connect(self.path, read_only=True)
            logged = log_path()  # FINOPS_TUI_SQL_LOG: a benchmark replays what this command ran
            out = LoggedConnection(con, logged, str(self.path)) if logged else con
            with _HELD_CHANGED:
                entry = _HELD.get(_held_key(self.path))
            if entry is not None:
                _CON_MEMO[id(con)] = _CON_MEMO[id(out)] = entry[2]
            try:
                yield out  # type: ignore[misc]
            finally:
                _CON_MEMO.pop(id(con), None)
                _CON_MEMO.pop(id(out), None)
                con.close()

    @contextmanager
    def _warehouse_session(self) -> Iterator[Any]:
        """The warehouse's session, its local tables read from this file (an empty store without one)."""
        import duckdb

        if self.path.exists():
            local = connect(self.path, read_only=True)
        else:
            local = quiet(duckdb.connect(":memory:"))
            create_schema(local, self.taxonomy)
        with self.backend.session(local) as session:
            yield session

    @contextmanager
    def held(self) -> Iterator[None]:
        """Keep the store open in this process for a unit of work made of many reads (a ritual's findings:
        up to 24 connections for the quarterly scorecard). Each read still opens its own read-only
        connection, but DuckDB then attaches it to the database already open instead of opening the file
        again (15-40 ms each on 5M rows), and the blocks read stay in DuckDB's buffer pool between reads.
        Figures are the same; the reads of the unit also see one state of the file, since a writer of
        another process waits (up to its timeout, as for any read) until the unit ends, and so does a
        writer of this process. Holds nest and may be taken by several threads at once; a warehouse
        store or one with no data yet is not held."""
        if self.warehouse.is_athena or not self.path.exists():
            yield
            return
        key = _held_key(self.path)
        me = threading.get_ident()
        with _HELD_CHANGED:
            entry = _HELD.get(key)
            if entry is not None:
                entry[0].append(me)
        if entry is None:
            con: duckdb.DuckDBPyConnection | None = connect(self.path, read_only=True)  # may wait for a writer
            with _HELD_CHANGED:
                entry = _HELD.get(key)
                if entry is None:
                    entry = _HELD[key] = [[me], con, {}]
                    con = None
                else:  # another thread held it meanwhile: share its database
                    entry[0].append(me)
            if con is not None:
                con.close()
        try:
            yield
        finally:
            with _HELD_CHANGED:
                entry[0].remove(me)
                if not entry[0]:
                    del _HELD[key]
                    entry[1].close()
                    _HELD_CHANGED.notify_all()

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        con = connect(self.path, read_only=False)
        try:
            con.execute("BEGIN TRANSACTION")  # an older layout is upgraded whole or not at all
            create_schema(con, self.taxonomy)
            con.execute("COMMIT")
            yield con
        finally:
            con.close()

    def _columns(self, con: duckdb.DuckDBPyConnection) -> set[str]:
        if hasattr(con, "view_columns"):  # a warehouse session: its mapping view's columns
            return set(con.view_columns)
        return set(catalog_memo(con, ("columns", "line_items", "any schema"), lambda: [
            r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                      "WHERE table_name = 'line_items'").fetchall()]))

    def _fresh_tags(self, con: duckdb.DuckDBPyConnection) -> bool:
        if hasattr(con, "view_columns"):  # the mapping view folds tags for the config's taxonomy
            return True
        row = con.execute("SELECT value FROM meta WHERE key = 'taxonomy'").fetchone()
        return row is not None and row[0] == taxonomy_signature(self.taxonomy)

    def tag_expr(self, con: duckdb.DuckDBPyConnection, key: str) -> str:
        """SQL over line_items for a taxonomy key's normalised value: its column when materialised for the
        current taxonomy, else read from the row's folded tag map (a key the store was not loaded with)."""
        key = self.taxonomy.canonical_key(key)
        col = tag_column(key)
        columns = self._columns(con)
        if col in columns and self._fresh_tags(con):
            return f'NULLIF(TRIM("{col}"), \'\')'
        if "tags_norm" in columns:  # a store written before TAG_SETS, opened read-only
            return f"NULLIF(TRIM(json_extract_string(tags_norm, {json_path(key)})), '')"
        # Unqualified Tags and AllocatedTags are the outer row's: TAG_SETS names its column raw_tags.
        set_key = tag_set_key(allocated="AllocatedTags" in columns)  # a view from before FOCUS 1.3 lacks it
        folded = f"(SELECT s.tags_norm FROM {TAG_SETS} s WHERE s.raw_tags = {set_key})"
        return f"NULLIF(TRIM(json_extract_string({folded}, {json_path(key)})), '')"

    # -- information ------------------------------------------------------------------------------------
    def info(self) -> StoreInfo:
        """Rows, days, currency, last import and providers. Read once per state of the file in a process
        (a command asks from several rituals; each read is a connection and three statements): every load,
        removal, sync or retag rewrites the file, and a read never does (see ``store_state``)."""
        if self.warehouse.is_athena:  # the warehouse's result cache follows the export's objects instead
            return self._read_info()
        state = store_state(self.path)  # taken first: a write landing meanwhile makes the next call read again
        if self._info is not None and self._info[0] == state:
            return self._info[1]
        info = self._read_info()
        self._info = (state, info)
        return info

    def _read_info(self) -> StoreInfo:
        with self.reader() as con:
            if con is None:
                return StoreInfo(0, None, None, None, None, ())
            from storage.cost_queries.base import rollup_serves
            from storage.rollup import ROLLUP

            # One scan of line items (on a warehouse every scan of the whole history is billed), or of the
            # daily rollup, which holds each of these (its _rows: how many line items a row sums).
            served = rollup_serves(con, self)
            rows, first, last, currencies, currency, providers = one_row(
                con, f"SELECT {'sum(_rows)' if served else 'count(*)'}, min(charge_date), max(charge_date), "
                     "count(DISTINCT BillingCurrency), min(BillingCurrency), "
                     "string_agg(DISTINCT ProviderName, chr(31) ORDER BY ProviderName) "
                     f"FROM {ROLLUP if served else 'line_items'}")
            at = one_row(con, "SELECT max(imported_at) FROM imports")[0]
            # Imports are the local store's: a warehouse's line items come from no import. Their rows are
            # counted only when some import was of a partial FOCUS file.
            partial = [] if hasattr(con, "view_columns") or not one_row(
                con, "SELECT count(*) FROM imports WHERE json_exists(summary, '$.partial_focus')")[0] else con.execute(
                "SELECT i.import_id, i.imported_at, count(l.import_id), i.summary FROM imports i JOIN line_items l "
                "ON l.import_id = i.import_id WHERE json_exists(i.summary, '$.partial_focus') "
                "GROUP BY ALL ORDER BY i.import_id").fetchall()
        names = tuple(providers.split(chr(31))) if providers else ()
        imports = tuple({"import_id": int(i), "imported_at": t, "rows": int(n),
                         "files": json.loads(summary)["partial_focus"]} for i, t, n, summary in partial)
        return StoreInfo(int(rows or 0), first, last, currency if currencies == 1 else None, at, names, imports)

    def meta(self, key: str) -> str | None:
        with self.reader() as con:
            if con is None:
                return None
            row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, values: dict[str, str]) -> None:
        with self.writer() as con:
            for key, value in values.items():
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    # -- named queries ----------------------------------------------------------------------------------
    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run read-only SQL over ``line_items`` (tests, benchmarks). Rituals never do: they read costs only
        through the named queries of ``storage.cost_queries``."""
        import pandas as pd

        with self.reader() as con:
            if con is None:
                return pd.DataFrame()
            return con.execute(sql, params or []).df()

    def _dim_sql(self, con: duckdb.DuckDBPyConnection, by: str) -> str:
        if by in DIMENSIONS:
            return DIMENSIONS[by]
        if by.startswith("tag:"):
            return self.tag_expr(con, by[4:])
        if by == "team":
            return self.tag_expr(con, self.taxonomy.allocation_key)
        raise ValueError(f"unknown dimension {by!r}; use one of {', '.join([*DIMENSIONS, 'team', 'tag:KEY'])}")

    def daily_cost(self, start: date, end: date, by: str | None = None, *, usage_only: bool = False,
                   cost: str = "EffectiveCost") -> pd.DataFrame:
        """Cost per day (and per ``by`` value) for ``start <= day < end``: columns day, [by], cost."""
        import pandas as pd

        if cost not in COST_COLUMNS:
            raise ValueError(f"unknown cost column {cost!r}")
        with self.reader() as con:
            if con is None:
                return pd.DataFrame(columns=["day", *([by] if by else []), "cost"])
            from storage.cost_queries.base import rollup_serves
            from storage.cost_queries.containers import has_split_rows
            from storage.rollup import ROLLUP

            dim = f", {self._dim_sql(con, by)} AS \"{by}\"" if by else ""
            group = ", 2" if by else ""
            where = " AND ChargeCategory = 'Usage'" if usage_only else ""
            # The daily rollup holds every dimension but the resource, the account's name and other tags. Its
            # rows are allocation's (a shared node's cost handed to its pods), which keep each day's total but
            # not a split by dimension of the line items as stored: with split rows, only the total is served.
            read = [] if by is None else [DIMENSIONS.get(by, "")] if by in DIMENSIONS else []
            served = by is None or (not has_split_rows(con) and (by == "team" or by in DIMENSIONS or (
                by.startswith("tag:") and self.taxonomy.canonical_key(by[4:]) in self.taxonomy.keys)))
            source = ROLLUP if served and rollup_serves(con, self, read) else "line_items"
            sql = (f"SELECT charge_date AS day{dim}, sum({cost}) AS cost FROM {source} "
                   f"WHERE charge_date >= ? AND charge_date < ?{where} GROUP BY 1{group} ORDER BY 1{group}")
            return con.execute(sql, [start, end]).df()

    def cost_by_allocation(self, start: date, end: date, key: str | None = None, *,
                           usage_only: bool = True) -> pd.DataFrame:
        """Cost per value of an allocation key (default: the taxonomy's), None meaning unallocated."""
        import pandas as pd

        key = key or self.taxonomy.allocation_key
        with self.reader() as con:
            if con is None:
                return pd.DataFrame(columns=["value", "cost"])
            expr = self.tag_expr(con, key)
            where = " AND ChargeCategory = 'Usage'" if usage_only else ""
            sql = (f"SELECT {expr} AS value, sum(EffectiveCost) AS cost FROM line_items "
                   f"WHERE charge_date >= ? AND charge_date < ?{where} GROUP BY 1 ORDER BY 2 DESC")
            return con.execute(sql, [start, end]).df()

    def period_totals(self) -> pd.DataFrame:
        """Per billing account and billing period: rows, BilledCost and EffectiveCost (to reconcile)."""
        import pandas as pd

        with self.reader() as con:
            if con is None:
                return pd.DataFrame(columns=["billing_account_id", "billing_period", "rows", "billed_cost",
                                             "effective_cost"])
            return con.execute(
                "SELECT BillingAccountId AS billing_account_id, CAST(BillingPeriodStart AS DATE) AS billing_period,"
                " count(*) AS rows, sum(BilledCost) AS billed_cost, sum(EffectiveCost) AS effective_cost "
                "FROM line_items GROUP BY 1, 2 ORDER BY 1, 2").df()

    def totals(self) -> tuple[int, float, float]:
        """Rows, sum of BilledCost, sum of EffectiveCost over the whole store (tests, import checks)."""
        with self.reader() as con:
            if con is None:
                return 0, 0.0, 0.0
            rows, billed, eff = one_row(
                con, "SELECT count(*), coalesce(sum(BilledCost), 0), coalesce(sum(EffectiveCost), 0) FROM line_items")
        return int(rows), float(billed), float(eff)


def scratch_path(store: CostStore) -> Path:
    return store.path.with_name(f".{store.path.stem}.staging-{os.getpid()}-{time.monotonic_ns()}.duckdb")
