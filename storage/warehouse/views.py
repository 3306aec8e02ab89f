"""The mapping view per export shape: the export's raw table in Athena as the local ``line_items`` columns.

The named queries read the local normalised schema: the FOCUS columns, ``charge_date``, one ``tag_<key>``
column per taxonomy key (folded as at import) and, on Athena, ``billing_period`` (the partition). The view
makes those columns from the raw table, so the queries need not know the shape.

- **cur2** (AWS Data Exports, CUR 2.0): the importer's own mapping (``storage.sources.cur.branches``: the
  line items and the unused-commitment rows, written in DuckDB's dialect) transpiled to Trino, with the
  ``product``, ``resource_tags`` and ``cost_category`` MAP columns read as maps (``element_at``, which is
  NULL for a missing key where Trino's ``[]`` fails) instead of the JSON text the importer reads.
- **focus1.2** (AWS Data Exports, FOCUS 1.2): the FOCUS columns as they are, ``Tags`` and
  ``x_CostCategories`` from their MAP columns.

A tag column folds the map's keys as the importer does (case and surrounding white space, the ``user_`` /
``user:`` prefix AWS adds, the taxonomy's aliases) and keeps a non-empty value; where two spellings of a key
carry values, the importer keeps the first and the view the one of the smallest key spelling (a map has no
order). ``Tags`` holds the export's map as JSON text, keys as the export spells them.
"""

from __future__ import annotations

from storage.config import Taxonomy, WarehouseConfig, fold_key
from storage.schema import FOCUS_COLUMNS
from storage.tags import tag_column

# FOCUS columns the view leaves out: the 1.3 contract dataset's (no CUR 2.0 or FOCUS 1.2 export has them),
# so the contract queries read "no contracts" instead of scanning.
LEFT_OUT = ("ContractApplied",)
VIEW_FOCUS_COLUMNS = [c for c in FOCUS_COLUMNS if c not in LEFT_OUT]
# FOCUS 1.2 columns AWS's FOCUS export carries that the store keeps (the rest are NULL in the view).
FOCUS12_EXPORT = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ChargePeriodStart",
                  "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd", "BillingAccountId",
                  "BillingAccountName", "BillingCurrency", "ChargeCategory", "ChargeClass", "ChargeFrequency",
                  "ChargeDescription", "PricingCategory", "PricingQuantity", "PricingUnit", "ConsumedQuantity",
                  "ConsumedUnit", "ProviderName", "PublisherName", "InvoiceIssuerName", "ServiceName",
                  "ServiceCategory", "SubAccountId", "SubAccountName", "RegionId", "RegionName",
                  "AvailabilityZone", "ResourceId", "ResourceName", "ResourceType", "SkuId", "SkuPriceId",
                  "SkuMeter", "CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountType",
                  "CommitmentDiscountStatus", "CommitmentDiscountCategory", "x_UsageType", "x_Operation")
_TRINO_TYPES = {"DOUBLE": "DOUBLE", "VARCHAR": "VARCHAR", "TIMESTAMP": "TIMESTAMP"}


def view_columns(taxonomy: Taxonomy, partition: str = "billing_period") -> list[str]:
    """The view's columns, in order: what the session reports as ``line_items``'s."""
    return [*VIEW_FOCUS_COLUMNS, "charge_date", *(tag_column(k) for k in taxonomy.keys), partition]


def _map_json(column: str) -> str:
    return f"CASE WHEN cardinality({column}) > 0 THEN json_format(CAST({column} AS JSON)) END"


def _folded_tag(column: str, key: str, taxonomy: Taxonomy) -> str:
    """Trino over a tag MAP: the value of ``key`` as allocation reads it (see the module's docstring)."""
    spellings = sorted({key, *(raw for raw, canon in taxonomy.aliases.items() if canon == key)})
    names = ", ".join("'" + s.replace("'", "''") + "'" for s in spellings)
    fold = "lower(trim(regexp_replace(k, '^user[_:]', '')))"
    keys = f"filter(map_keys({column}), k -> {fold} IN ({names}) AND NULLIF(TRIM(element_at({column}, k)), '') IS NOT NULL)"
    return f"NULLIF(TRIM(element_at({column}, array_min({keys}))), '')"


def _cur2_branches(taxonomy: Taxonomy) -> list[tuple[dict[str, tuple[str, str]], str | None]]:
    """(column -> (dialect, SQL)) per branch of the importer's CUR 2.0 mapping, with the maps read as maps."""
    from storage.sources.cur import branches

    trino = {
        "ServiceName": "coalesce(element_at(t.product, 'product_name'), t.line_item_product_code)",
        "RegionId": "coalesce(t.product_region_code, element_at(t.product, 'region'))",
        "x_CostCategories": _map_json("t.cost_category"),
        "Tags": _map_json("t.resource_tags"),
    }
    out = []
    for exprs, where in branches():
        cols = {c: ("trino", trino[c]) if c in trino else ("duckdb", e) for c, e in exprs.items()}
        out.append((cols, where))
    return out


def mapping_view_sql(config: WarehouseConfig, taxonomy: Taxonomy, *, partitioned: bool = True,
                     partition: str = "billing_period") -> str:
    """``CREATE OR REPLACE VIEW`` of the mapping view over the configured table, in Athena's (Trino) dialect.
    ``partitioned``: the raw table's partition column is ``partition`` ('YYYY-MM' values), shown as
    ``billing_period``; else the view derives billing_period from the billing period start, which filters
    but cannot prune."""
    import sqlglot
    from sqlglot import exp

    if config.shape == "cur2":
        branches = _cur2_branches(taxonomy)
        tags_map, period_src = "t.resource_tags", "t.bill_billing_period_start_date"
    else:
        cols = {c: ("trino", f't."{c.lower()}"') for c in FOCUS12_EXPORT}
        cols["Tags"] = ("trino", _map_json("t.tags"))
        cols["x_CostCategories"] = ("trino", _map_json("t.x_costcategories"))
        branches = [(cols, None)]
        tags_map, period_src = "t.tags", "t.billingperiodstart"
    period = f"t.{partition}" if partitioned else f"date_format({period_src}, '%Y-%m')"
    selects = []
    for cols, where in branches:
        items = []
        for name in VIEW_FOCUS_COLUMNS:
            dialect, sql = cols.get(name, ("trino", f"CAST(NULL AS {_TRINO_TYPES[FOCUS_COLUMNS[name]]})"))
            items.append(sqlglot.parse_one(sql, read=dialect).as_(name, quoted=True))
        start = cols["ChargePeriodStart"]
        items.append(exp.cast(sqlglot.parse_one(start[1], read=start[0]), "DATE").as_("charge_date"))
        for key in taxonomy.keys:
            items.append(sqlglot.parse_one(_folded_tag(tags_map, fold_key(key), taxonomy), read="trino")
                         .as_(tag_column(key)))
        items.append(sqlglot.parse_one(period, read="trino").as_("billing_period"))
        select = exp.select(*items).from_(exp.to_table(f"{config.database}.{config.table}").as_("t"))
        if where:
            select = select.where(sqlglot.parse_one(where, read="duckdb"))
        selects.append(select)
    body: exp.Expression = selects[0]
    for more in selects[1:]:
        body = exp.union(body, more, distinct=False)
    return (f'CREATE OR REPLACE VIEW "{config.database}"."{config.view}" AS\n'
            + body.sql(dialect="trino", pretty=True))
