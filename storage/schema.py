"""The cost store's tables: the FOCUS columns kept, the physical layout of line items, and its upgrades.

``line_items`` is a view over DATA_TABLE. Each load adds the columns it brings; the view gives every FOCUS
column (NULL where no stored row has one) and derives a missing billing period from the charge month.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from storage.tags import tag_column

if TYPE_CHECKING:
    import duckdb

    from storage.config import Taxonomy

# The FOCUS columns kept, with their DuckDB types. Everything else from a source goes into x_Extras.
FOCUS_COLUMNS: dict[str, str] = {
    "BilledCost": "DOUBLE",
    "EffectiveCost": "DOUBLE",
    "ListCost": "DOUBLE",
    "ContractedCost": "DOUBLE",
    "ChargePeriodStart": "TIMESTAMP",
    "ChargePeriodEnd": "TIMESTAMP",
    "BillingPeriodStart": "TIMESTAMP",
    "BillingPeriodEnd": "TIMESTAMP",
    "BillingAccountId": "VARCHAR",
    "BillingAccountName": "VARCHAR",
    "BillingCurrency": "VARCHAR",
    "ChargeCategory": "VARCHAR",
    "ChargeClass": "VARCHAR",
    "ChargeFrequency": "VARCHAR",
    "ChargeDescription": "VARCHAR",
    "PricingCategory": "VARCHAR",
    "PricingQuantity": "DOUBLE",
    "PricingUnit": "VARCHAR",
    "ConsumedQuantity": "DOUBLE",
    "ConsumedUnit": "VARCHAR",
    "ProviderName": "VARCHAR",
    "PublisherName": "VARCHAR",
    "InvoiceIssuerName": "VARCHAR",
    "ServiceName": "VARCHAR",
    "ServiceCategory": "VARCHAR",
    "SubAccountId": "VARCHAR",
    "SubAccountName": "VARCHAR",
    "RegionId": "VARCHAR",
    "RegionName": "VARCHAR",
    "AvailabilityZone": "VARCHAR",
    "ResourceId": "VARCHAR",
    "ResourceName": "VARCHAR",
    "ResourceType": "VARCHAR",
    "SkuId": "VARCHAR",
    "SkuPriceId": "VARCHAR",
    "SkuMeter": "VARCHAR",  # FOCUS 1.1: what the SKU meters (e.g. a usage type); decides commitment eligibility
    "CommitmentDiscountId": "VARCHAR",
    "CommitmentDiscountName": "VARCHAR",
    "CommitmentDiscountType": "VARCHAR",
    "CommitmentDiscountStatus": "VARCHAR",
    "CommitmentDiscountCategory": "VARCHAR",
    "Tags": "VARCHAR",
    # FOCUS 1.3: the provider columns that replace ProviderName / PublisherName (both kept, mapped both
    # ways at import), the provider's split-cost allocation columns and the contract commitments applied.
    "ServiceProviderName": "VARCHAR",
    "HostProviderName": "VARCHAR",
    "AllocatedMethodId": "VARCHAR",
    "AllocatedMethodDetails": "VARCHAR",
    "AllocatedResourceId": "VARCHAR",
    "AllocatedResourceName": "VARCHAR",
    "AllocatedTags": "VARCHAR",
    "ContractApplied": "VARCHAR",
    "x_UsageType": "VARCHAR",
    "x_Operation": "VARCHAR",
    "x_CostCategories": "VARCHAR",
    "x_CommitmentStart": "TIMESTAMP",
    "x_CommitmentEnd": "TIMESTAMP",
    "x_CommitmentHourly": "DOUBLE",
    # CUR 2.0 split cost allocation data (storage.sources.cur): the rows of Kubernetes pods and ECS tasks on
    # EC2 nodes carry these and no cost of their own (the node's row already has it); the allocation view
    # (storage.cost_queries.containers) hands the node's cost to them.
    "x_SplitParentResourceId": "VARCHAR",
    "x_SplitCost": "DOUBLE",
    "x_SplitUnusedCost": "DOUBLE",
    "x_SplitNetSplitCost": "DOUBLE",
    "x_SplitNetUnusedCost": "DOUBLE",
    "x_SplitUsage": "DOUBLE",
    "x_SplitUsageRatio": "DOUBLE",
    "x_SplitReservedUsage": "DOUBLE",
    "x_SplitActualUsage": "DOUBLE",
    "x_ContainerCluster": "VARCHAR",
    "x_ContainerNamespace": "VARCHAR",
    "x_Extras": "VARCHAR",
}
# Made once at load: the charge day, and which import wrote the row. The folded tag map of each distinct
# Tags value is kept once, in TAG_SETS, not per row.
DERIVED_COLUMNS: dict[str, str] = {"charge_date": "DATE", "import_id": "INTEGER"}
COST_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")

# line_items is a view over DATA_TABLE, which holds only the columns some stored row has had: writing a
# column that is NULL in every row costs as much as writing one with values (at 5M rows, ~45 all-NULL FOCUS
# columns doubled an import). The view gives every FOCUS column, NULL where the table has none.
DATA_TABLE = "line_items_data"
TAG_SETS = "tag_sets"
# Stored for every row: what the load's fill guarantees (and Tags, which the tag columns come from).
CORE_COLUMNS = ("BilledCost", "EffectiveCost", "ChargePeriodStart", "BillingAccountId", "BillingCurrency", "Tags")
# The billing period of a row that has none is the calendar month of its charge. Loads may leave these two
# columns NULL (or not stored at all); the view fills them.
PERIOD_DEFAULTS = {
    "BillingPeriodStart": "date_trunc('month', ChargePeriodStart)",
    "BillingPeriodEnd": "date_trunc('month', ChargePeriodStart) + INTERVAL 1 MONTH",
}


# The FOCUS 1.3 Contract Commitment dataset (negotiated contracts' terms; not Savings Plans or reservations,
# which are commitment_inventory): one row per contract commitment, imported beside the line items.
CONTRACTS_TABLE = "contract_commitments"
CONTRACT_COLUMNS: dict[str, str] = {
    "contract_commitment_id": "VARCHAR PRIMARY KEY", "contract_id": "VARCHAR", "category": "VARCHAR",
    "type": "VARCHAR", "description": "VARCHAR", "cost": "DOUBLE", "quantity": "DOUBLE", "unit": "VARCHAR",
    "period_start": "TIMESTAMP", "period_end": "TIMESTAMP", "contract_period_start": "TIMESTAMP",
    "contract_period_end": "TIMESTAMP", "currency": "VARCHAR", "source": "VARCHAR",
}
CONTRACTS_DDL = (f"CREATE TABLE IF NOT EXISTS {CONTRACTS_TABLE} ("
                 + ", ".join(f"{c} {t}" for c, t in CONTRACT_COLUMNS.items()) + ")")


def stored_column_sql(name: str, stored: list[str] | set[str], types: dict[str, str], table: str = "") -> str:
    """SQL over DATA_TABLE giving the line_items value of a column: the stored one, its period default, or
    NULL when no row has it. ``table`` qualifies the column references."""
    pre = f"{table}." if table else ""
    default = PERIOD_DEFAULTS.get(name)
    if default is not None:
        default = f"CAST({default.replace('ChargePeriodStart', pre + 'ChargePeriodStart')} AS TIMESTAMP)"
        return f'coalesce({pre}"{name}", {default})' if name in stored else default
    return f'{pre}"{name}"' if name in stored else f"CAST(NULL AS {types[name]})"


def _relation_type(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    row = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ? "
                      "AND table_catalog = current_database() AND table_schema = current_schema()",
                      [name]).fetchone()
    return row[0] if row else None


def stored_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The columns DATA_TABLE has in the connection's current database."""
    return _table_columns(con, DATA_TABLE)


def _table_columns(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    from storage.costs import catalog_memo

    return list(catalog_memo(con, ("columns", name), lambda: _read_table_columns(con, name)))


def _read_table_columns(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_catalog = "
        "current_database() AND table_schema = current_schema() ORDER BY ordinal_position", [name]).fetchall()]


def create_schema(con: duckdb.DuckDBPyConnection, taxonomy: Taxonomy, store_columns: tuple[str, ...] = ()) -> None:
    """Create or bring up to date the store's tables in the connection's current database. ``store_columns``
    are the FOCUS and tag columns a load is about to write, added to DATA_TABLE when it lacks them."""
    if _relation_type(con, "line_items") == "BASE TABLE":  # a store from before DATA_TABLE: every column stored
        con.execute(f"ALTER TABLE line_items RENAME TO {DATA_TABLE}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {TAG_SETS} (raw_tags VARCHAR PRIMARY KEY, tags_norm VARCHAR)")
    if "tags_norm" in _table_columns(con, DATA_TABLE):  # ... and its folded map per row
        con.execute(f"INSERT OR REPLACE INTO {TAG_SETS} SELECT Tags, any_value(tags_norm) FROM {DATA_TABLE} "
                    "WHERE Tags IS NOT NULL GROUP BY Tags")
        con.execute(f"ALTER TABLE {DATA_TABLE} DROP COLUMN tags_norm")
    tag_cols = [tag_column(k) for k in taxonomy.keys]
    core = {c: FOCUS_COLUMNS[c] for c in CORE_COLUMNS} | DERIVED_COLUMNS
    body = ", ".join(f'"{name}" {typ}' for name, typ in core.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS {DATA_TABLE} ({body})")
    con.execute(
        "CREATE TABLE IF NOT EXISTS imports (import_id INTEGER PRIMARY KEY, imported_at TIMESTAMP, source VARCHAR, "
        "rows BIGINT, replaced BIGINT, summary VARCHAR)"
    )
    con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    # Commitment terms (Savings Plans, RIs) from the demo, CUR 2.0 columns or the AWS sync.
    con.execute(
        "CREATE TABLE IF NOT EXISTS commitment_inventory (commitment_id VARCHAR PRIMARY KEY, type VARCHAR, "
        "description VARCHAR, hourly_commitment DOUBLE, start_date DATE, end_date DATE, term_years INTEGER, "
        "payment_option VARCHAR, account_id VARCHAR, source VARCHAR)"
    )
    con.execute(CONTRACTS_DDL)
    types = {**FOCUS_COLUMNS, **DERIVED_COLUMNS, **dict.fromkeys(tag_cols, "VARCHAR")}
    stored = _table_columns(con, DATA_TABLE)
    added = [c for c in dict.fromkeys(store_columns) if c in types and c not in stored]
    for name in added:
        con.execute(f'ALTER TABLE {DATA_TABLE} ADD COLUMN "{name}" {types[name]}')
    stored += added
    # Every FOCUS column and every tag column of the taxonomy (and of earlier taxonomies, when stored).
    view = [*types, *(c for c in stored if c not in types)]
    if added or _relation_type(con, "line_items") != "VIEW" or _table_columns(con, "line_items") != view:
        exprs = [f'{stored_column_sql(c, stored, types)} AS "{c}"' for c in view]
        con.execute(f"CREATE OR REPLACE VIEW line_items AS SELECT {', '.join(exprs)} FROM {DATA_TABLE}")


def taxonomy_signature(taxonomy: Taxonomy) -> str:
    return json.dumps({"keys": list(taxonomy.keys), "aliases": dict(sorted(taxonomy.aliases.items()))},
                      sort_keys=True)


# The tables every store has once anything was loaded (create_schema makes them; the AWS sync adds its own).
EXPECTED_TABLES = (DATA_TABLE, TAG_SETS, "imports", "meta", "commitment_inventory")


def layout_problems(con: duckdb.DuckDBPyConnection, taxonomy: Taxonomy) -> tuple[list[str], list[str]]:
    """What keeps the store in the connection's current database from the layout ``create_schema`` makes,
    read without writing (a read-only connection): (problems, notes). A problem means the named queries
    cannot read it; a note is an older layout or taxonomy that the next import brings up to date."""
    problems: list[str] = []
    notes: list[str] = []
    missing = [t for t in EXPECTED_TABLES if _relation_type(con, t) != "BASE TABLE"]
    if _relation_type(con, "line_items") == "BASE TABLE":  # the layout before DATA_TABLE and TAG_SETS
        notes.append("line_items is a table (an older layout); the next import upgrades it")
        missing = [t for t in missing if t not in (DATA_TABLE, TAG_SETS, "commitment_inventory")]
    elif "commitment_inventory" in missing:  # the queries read it only where it exists
        notes.append("no commitment_inventory table yet; the next import makes it")
        missing.remove("commitment_inventory")
    if missing:
        problems.append(f"missing tables: {', '.join(missing)}")
    table = DATA_TABLE if _relation_type(con, DATA_TABLE) == "BASE TABLE" else "line_items"
    stored = set(_table_columns(con, table))
    lacking = [c for c in (*CORE_COLUMNS, *DERIVED_COLUMNS) if c not in stored]
    if lacking:
        problems.append(f"{table} lacks the columns {', '.join(lacking)}")
    if "tags_norm" in stored:
        notes.append("folded tags are kept per row (an older layout); the next import moves them to tag_sets")
    if _relation_type(con, "line_items") == "VIEW":
        shown = set(_table_columns(con, "line_items"))
        absent = [c for c in (*CORE_COLUMNS, *DERIVED_COLUMNS) if c not in shown]
        if absent:
            problems.append(f"the line_items view lacks {', '.join(absent)}")
        newer = [c for c in FOCUS_COLUMNS if c not in shown and c not in absent]
        if newer:  # FOCUS columns this version keeps that the store's view predates: the queries cope
            notes.append(f"the line_items view predates the columns {', '.join(newer)}; the next import adds them")
    elif _relation_type(con, "line_items") is None:
        problems.append("no line_items view")
    if "meta" not in missing:
        row = con.execute("SELECT value FROM meta WHERE key = 'taxonomy'").fetchone()
        if row is not None and row[0] != taxonomy_signature(taxonomy):
            notes.append("the tag columns were made for another taxonomy than the config's; queries read the "
                         "tags directly until the next import re-tags the store")
    return problems, notes
