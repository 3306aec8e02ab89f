"""The daily rollup: line items summed per day and every dimension the rituals group or filter by below
the resource, kept in the cost store beside them and exact with every write.

``rollup_daily`` holds, per charge day x billing period x billing account x currency x provider x account x
service x region x charge category x charge frequency x pricing category x commitment discount status x
cost categories x (shared cluster, pod namespace, pod share or idle node row) x each taxonomy key's stored
value x "carries Tags", the sums of BilledCost, EffectiveCost, ListCost, ContractedCost and the idle part of
EffectiveCost, and how many line items it sums. Its rows are those of ``_items`` (``cost_queries.containers``:
a shared node's cost handed to its pods), so pod shares are summed as allocation reads them.

Column names are the line items', so a named query whose grain the rollup serves runs its own SQL over it
(``cost_queries.base.items_from``): a sum over the rollup is the sum over the line items it stands for.
What changes without a load is applied at query time, not kept here: the account -> team rules (records),
the shared accounts, the containers config's label and namespace rules. What the rows depend on is in its
signature: the taxonomy (tag columns are folded per taxonomy) and the containers' idle split; while the
signature differs from the config's, the named queries read the line items, and the next write rebuilds it.

``rollup_commitments`` holds the commitment review's grain (``commitment_select``): its Usage line items
summed per charge day x service x account x commitment discount (id, type, status) x pricing category x usage
type x whether ListCost is missing or zero, with the on-demand equivalent, EffectiveCost and the row count,
so ``commitment_usage`` sums tens of thousands of rows rather than every line item of its window.

Every write to the line items refreshes the days it touched in the same transaction: a load (its new days
and the days of the rows it replaced), a removal (its days), a retag or a replace-all load (everything).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from storage.schema import taxonomy_signature
from storage.tags import tag_column

if TYPE_CHECKING:
    import duckdb

    from storage.costs import CostStore

ROLLUP = "rollup_daily"
COMMITMENTS = "rollup_commitments"
VERSION = 3  # 2: SubAccountName (the sweep's per-account rows read it); 3: rollup_commitments
DIMENSIONS = ("charge_date", "BillingPeriodStart", "BillingAccountId", "BillingCurrency", "ProviderName",
              "SubAccountId", "SubAccountName", "ServiceName", "RegionId", "ChargeCategory", "ChargeFrequency", "PricingCategory",
              "CommitmentDiscountStatus", "x_CostCategories", "x_ContainerNamespace", "_cluster", "_container")
SUMS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "_idle_cost")
META_KEY = "rollup"


def signature(store: CostStore) -> str:
    """What the rollup's rows depend on besides the line items."""
    return json.dumps({"version": VERSION, "taxonomy": taxonomy_signature(store.taxonomy),
                       "idle": store.containers.idle}, sort_keys=True)


def columns(store: CostStore) -> set[str]:
    """The rollup's columns for this store's taxonomy (the dimensions, tag columns, sums and ``_rows``)."""
    return {*DIMENSIONS, *(tag_column(k) for k in store.taxonomy.keys), "_tagged", *SUMS, "_rows"}


def is_current(con: duckdb.DuckDBPyConnection, store: CostStore) -> bool:
    """True when the connection's store has a rollup made for this store's taxonomy and containers config."""
    from storage.costs import catalog_memo

    def read() -> bool:
        found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
                            "AND table_catalog = current_database()", [ROLLUP]).fetchone()
        if not (found and found[0]):
            return False
        row = con.execute("SELECT value FROM meta WHERE key = ?", [META_KEY]).fetchone()
        return row is not None and row[0] == signature(store)

    return bool(catalog_memo(con, ("rollup current", signature(store)), read))


def null_columns(con: duckdb.DuckDBPyConnection, store: CostStore) -> dict[str, str]:
    """The rollup's columns NULL in every row of ``_items`` (name -> type): the FOCUS and tag columns the store
    holds no value of (the line_items view gives them as NULL), and the containers' columns when the store has
    no split rows. The rollup writes them as constants instead of grouping by them (a tenth of its build)."""
    from storage.cost_queries.containers import EXTRA, has_split_rows
    from storage.schema import FOCUS_COLUMNS, PERIOD_DEFAULTS, stored_columns

    stored = set(stored_columns(con))
    nulls = {c: FOCUS_COLUMNS[c] for c in DIMENSIONS
             if c in FOCUS_COLUMNS and c not in stored and c not in PERIOD_DEFAULTS}
    nulls |= {tag_column(k): "VARCHAR" for k in store.taxonomy.keys if tag_column(k) not in stored}
    if not has_split_rows(con):
        nulls |= {c: t for c, t in EXTRA.items() if c in DIMENSIONS or c in SUMS}
    return nulls


def _select(con: duckdb.DuckDBPyConnection, store: CostStore, where: str, items: str = "line_items") -> str:
    from storage.cost_queries.containers import items_view_sql

    nulls = null_columns(con, store)
    names = [*DIMENSIONS, *(tag_column(k) for k in store.taxonomy.keys)]
    dims = [f'CAST(NULL AS {nulls[d]}) AS "{d}"' if d in nulls else f'"{d}"' for d in names]
    groups = [f'"{d}"' for d in names if d not in nulls]
    tagged = "(Tags IS NOT NULL OR AllocatedTags IS NOT NULL)"
    sums = [f'CAST(NULL AS {nulls[c]}) AS "{c}"' if c in nulls else f'sum("{c}") AS "{c}"' for c in SUMS]
    return (f"SELECT {', '.join(dims)}, {tagged} AS _tagged, {', '.join(sums)}, count(*) AS _rows "
            f"FROM ({items_view_sql(con, store, items)}) _items WHERE {where} GROUP BY {', '.join([*groups, tagged])}")


def commitment_select(con: duckdb.DuckDBPyConnection, where: str) -> str:
    """SQL of the Usage line items matching ``where`` summed at the commitment review's grain: charge_date,
    service and account ('' for none), CommitmentDiscountId, -Type, -Status, PricingCategory, usage_type
    (``x_UsageType``, else FOCUS ``SkuMeter`` where stored), no_list (ListCost missing), zero_list (ListCost
    missing or 0); max SubAccountName and CommitmentDiscountName; od (the on-demand equivalent, ListCost else
    EffectiveCost), eff (EffectiveCost) and n (line items). ``rollup_commitments`` holds these rows, and
    ``commitment_usage`` reads them from it or, where it does not serve, runs this over its window."""
    from storage.cost_queries.base import table_columns

    usage_type = "coalesce(x_UsageType, SkuMeter)" if "SkuMeter" in table_columns(con, "line_items") else "x_UsageType"
    return f"""SELECT charge_date, coalesce(ServiceName, '') AS service, coalesce(SubAccountId, '') AS account,
               CommitmentDiscountId, CommitmentDiscountType, CommitmentDiscountStatus, PricingCategory,
               {usage_type} AS usage_type, ListCost IS NULL AS no_list, coalesce(ListCost, 0) = 0 AS zero_list,
               max(SubAccountName) AS SubAccountName, max(CommitmentDiscountName) AS CommitmentDiscountName,
               sum(coalesce(ListCost, EffectiveCost)) AS od, sum(EffectiveCost) AS eff, count(*) AS n
        FROM line_items
        WHERE ({where}) AND ChargeCategory = 'Usage'
        GROUP BY charge_date, coalesce(ServiceName, ''), coalesce(SubAccountId, ''), CommitmentDiscountId,
                 CommitmentDiscountType, CommitmentDiscountStatus, PricingCategory, {usage_type},
                 ListCost IS NULL, coalesce(ListCost, 0) = 0"""


def _days_sql(days: Iterable[date]) -> str:
    return ", ".join(f"DATE '{d.isoformat()}'" for d in sorted(set(days)))


def touched_days(con: duckdb.DuckDBPyConnection, where: str, params: list | None = None) -> list[date]:
    """The charge days of the stored line items matching ``where`` (SQL over the stored table)."""
    from storage.schema import DATA_TABLE

    return [r[0] for r in con.execute(f"SELECT DISTINCT charge_date FROM {DATA_TABLE} WHERE {where}",
                                      params or []).fetchall() if r[0] is not None]


# A full rebuild sums consecutive charge-day ranges of about this many line items each (at most MAX_CHUNKS):
# one hash table over every day outgrew the import's memory limit at 5M rows and spilled (6.9 s CPU against
# 4.8 s in three ranges). A group is one charge day, so the ranges' rows are those of one statement.
CHUNK_ROWS = 2_000_000
MAX_CHUNKS = 4


def _day_chunks(con: duckdb.DuckDBPyConnection, days: Iterable[date]) -> list[list[date]]:
    """The given charge days in consecutive groups of about CHUNK_ROWS line items each (at most MAX_CHUNKS)."""
    from storage.schema import DATA_TABLE

    wanted = sorted(set(days))
    counts = dict(con.execute(f"SELECT charge_date, count(*) FROM {DATA_TABLE} WHERE charge_date IN "
                              f"({_days_sql(wanted)}) GROUP BY 1").fetchall())
    total = sum(counts.values())
    chunks = min(MAX_CHUNKS, max(1, -(-total // CHUNK_ROWS)))
    out: list[list[date]] = [[]]
    seen = 0
    for day in wanted:
        if seen >= total * len(out) / chunks and len(out) < chunks and out[-1]:
            out.append([])
        out[-1].append(day)
        seen += counts.get(day, 0)
    return out


def _ranges(con: duckdb.DuckDBPyConnection) -> list[str]:
    """WHERE clauses over charge_date that split the line items into consecutive day ranges of about
    CHUNK_ROWS rows (NULL days in the last): every row in exactly one."""
    from storage.schema import DATA_TABLE

    per_day = con.execute(f"SELECT charge_date, count(*) FROM {DATA_TABLE} WHERE charge_date IS NOT NULL "
                          "GROUP BY 1 ORDER BY 1").fetchall()
    total = sum(n for _d, n in per_day)
    chunks = min(MAX_CHUNKS, max(1, -(-total // CHUNK_ROWS)))
    if chunks == 1:
        return ["TRUE"]
    starts: list[date] = []
    seen = 0
    for day, n in per_day:  # a new range starts where the rows so far pass the next share of the total
        if seen >= total * (len(starts) + 1) / chunks and len(starts) < chunks - 1:
            starts.append(day)
        seen += n
    bounds = [f"DATE '{d.isoformat()}'" for d in starts]
    if not bounds:
        return ["TRUE"]
    out = [f"charge_date < {bounds[0]}"]
    out += [f"charge_date >= {lo} AND charge_date < {hi}" for lo, hi in zip(bounds, bounds[1:], strict=False)]
    return [*out, f"(charge_date >= {bounds[-1]} OR charge_date IS NULL)"]


def refresh(con: duckdb.DuckDBPyConnection, store: CostStore, days: Iterable[date] | None = None, *,
            items: str = "line_items") -> None:
    """Bring the rollup up to date inside the caller's write transaction: the given charge days recomputed
    from the line items (their rows deleted and summed again), or every day when ``days`` is None or the
    rollup is missing or was made for another taxonomy or containers config. ``items``: the line items as a
    relation with the line_items view's columns (a load's rows with their tags folded but not yet written:
    storage.tag_sets.StoredFold.overlay)."""
    days = None if days is None else list(days)  # read twice below: an iterator would be used up
    if days is None or not is_current(con, store):
        for i, where in enumerate(_ranges(con)):
            for table, select in ((ROLLUP, _select(con, store, where, items)), (COMMITMENTS, commitment_select(con, where))):
                # Not sorted within a range: the ranges are consecutive days, so a window's rows are in the
                # row groups of its ranges anyway, and sorting cost a fifth of the rebuild at 5M rows.
                con.execute(f"CREATE OR REPLACE TABLE {table} AS {select}" if i == 0
                            else f"INSERT INTO {table} BY NAME {select}")
    else:
        listed = _days_sql(days)
        if not listed:
            return
        where = f"charge_date IN ({listed})"
        for table in (ROLLUP, COMMITMENTS):
            con.execute(f"DELETE FROM {table} WHERE {where}")
        # Summed in ranges of days, as a rebuild is (a load of a 5M-row month summed at once: 2.2 s against
        # 1.9 s in three ranges).
        for chunk in _day_chunks(con, days):
            part = f"charge_date IN ({_days_sql(chunk)})"
            for table, select in ((ROLLUP, _select(con, store, part, items)), (COMMITMENTS, commitment_select(con, part))):
                con.execute(f"INSERT INTO {table} BY NAME {select}")
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [META_KEY, signature(store)])


def state(store: CostStore) -> dict[str, object]:
    """Whether the store's rollup serves the named queries: ``{"current": bool, "rows": int, "reason": str}``
    (reason empty when current)."""
    with store.reader() as con:
        if con is None or hasattr(con, "view_columns"):
            return {"current": False, "rows": 0, "reason": "no local line items" if con is None else
                    "a warehouse answers the named queries"}
        if not is_current(con, store):
            found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                                [ROLLUP]).fetchone()
            if not (found and found[0]):
                return {"current": False, "rows": 0, "reason": "no rollup yet (a store written before rollups)"}
            row = con.execute("SELECT value FROM meta WHERE key = ?", [META_KEY]).fetchone()
            try:
                older = row is not None and json.loads(row[0]).get("version") != VERSION
            except (ValueError, AttributeError):
                older = True
            return {"current": False, "rows": 0, "reason": "made by another version of finops-tui (its columns "
                    "differ)" if older else "made for another taxonomy or containers idle split than the config's"}
        rows = con.execute(f"SELECT count(*) FROM {ROLLUP}").fetchone()
        return {"current": True, "rows": int(rows[0]) if rows else 0, "reason": ""}


def rebuild(store: CostStore) -> int:
    """Fold the tags again if the taxonomy changed, and sum the rollup again from every line item, in one
    transaction; its rows."""
    from storage.costs import one_row
    from storage.tag_sets import retag

    with store.writer() as con:
        con.execute("BEGIN TRANSACTION")
        try:
            fresh = con.execute("SELECT value FROM meta WHERE key = 'taxonomy'").fetchone()
            if fresh is None or fresh[0] != taxonomy_signature(store.taxonomy):
                retag(con, store)
            refresh(con, store)
            rows = int(one_row(con, f"SELECT count(*) FROM {ROLLUP}")[0])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return rows
